/**
 * The stdin and stdout an overlay (the Ink dashboard) is given while Claude Code's screen is put
 * aside. They look like TTYs, as Ink wants, but the real terminal stays the host's: keys arrive
 * only as the host routes them, and output reaches the terminal only while this overlay is the
 * one shown. A closed overlay can never draw over Claude Code, even if its app keeps rendering.
 */
import { PassThrough, Writable } from 'node:stream';

/** Keys routed to the overlay. Raw mode and ref/unref are the host's business: accepted, ignored. */
export class OverlayStdin extends PassThrough {
  readonly isTTY = true;
  isRaw = false;

  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** Writes through to the real terminal while open; carries the real terminal's size. */
class OverlayStdout extends Writable {
  readonly isTTY = true;

  constructor(
    private readonly target: NodeJS.WritableStream,
    private readonly size: () => TerminalSize,
    private readonly isOpen: () => boolean,
  ) {
    super({ decodeStrings: false });
  }

  get columns(): number {
    return this.size().columns;
  }

  get rows(): number {
    return this.size().rows;
  }

  getWindowSize(): [number, number] {
    const { columns, rows } = this.size();
    return [columns, rows];
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.isOpen()) this.target.write(chunk);
    callback();
  }
}

export interface OverlayStreamsOptions {
  /** The real terminal. */
  stdout: NodeJS.WritableStream;
  size: () => TerminalSize;
}

/** One showing of the overlay: from `showOverlay()` until `close()`. */
export class OverlayStreams {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  private readonly input: OverlayStdin;
  private readonly output: OverlayStdout;
  private open = true;

  constructor(options: OverlayStreamsOptions) {
    this.input = new OverlayStdin();
    this.output = new OverlayStdout(options.stdout, options.size, () => this.open);
    // Ink reads and writes these as tty streams; it uses only what the classes above provide.
    this.stdin = this.input as unknown as NodeJS.ReadStream;
    this.stdout = this.output as unknown as NodeJS.WriteStream;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Keys for the overlay's app. */
  pushKeys(bytes: Buffer): void {
    if (this.open) this.input.write(bytes);
  }

  /** The real terminal changed size: tell the overlay's app (Ink listens for this itself). */
  resized(): void {
    if (this.open) this.output.emit('resize');
  }

  /** Stop routing keys and output; the streams stay usable (writes are dropped) so a late render is harmless. */
  close(): void {
    this.open = false;
  }
}
