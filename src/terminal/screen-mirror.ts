/**
 * A headless xterm that sees everything the child prints, so the child's screen can be drawn
 * again after the dashboard covered it. xterm parses asynchronously: `whenIdle()` says when it has
 * caught up with every byte given to it, and operations that must happen at an exact point of the
 * output stream (a resize, a viewport mark) are queued behind the bytes before them.
 */
import xterm from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import { ModeTracker } from './terminal-modes.js';

// Both packages are CommonJS; Node's ESM loader only offers them as a default export.
const { Terminal } = xterm;
const { SerializeAddon } = serializeAddon;
type HeadlessTerminal = InstanceType<typeof Terminal>;
type Serializer = InstanceType<typeof SerializeAddon>;

export interface ScreenMirrorOptions {
  cols: number;
  rows: number;
  /** Lines kept above the viewport, which a repaint can put back into the real scrollback. Default 1000. */
  scrollback?: number;
}

/** Where the top of the main screen's viewport was: how many lines have scrolled past it since. */
export interface ViewportMark {
  scrolledLines(): number;
  dispose(): void;
}

const ALT_SCREEN_ENTER = '\x1b[?1049h\x1b[H';

export class ScreenMirror {
  readonly modes: ModeTracker;
  private readonly terminal: HeadlessTerminal;
  private readonly serializer: Serializer;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private disposed = false;

  constructor(options: ScreenMirrorOptions) {
    this.terminal = new Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: options.scrollback ?? 1000,
      // Buffer, parser and marker access are "proposed" API in xterm.
      allowProposedApi: true,
    });
    this.serializer = new SerializeAddon();
    this.terminal.loadAddon(this.serializer);
    this.modes = new ModeTracker(this.terminal);
  }

  get cols(): number {
    return this.terminal.cols;
  }

  get rows(): number {
    return this.terminal.rows;
  }

  /** Whether the child is on its alternate screen, as of the bytes parsed so far. */
  get altScreen(): boolean {
    return this.terminal.buffer.active.type === 'alternate';
  }

  write(data: Buffer | string): void {
    if (this.disposed) return;
    this.pending++;
    this.terminal.write(data, () => this.parsed());
  }

  /** Resize after the bytes already written are parsed at the old size, as the real terminal did. */
  resize(cols: number, rows: number): void {
    this.afterPending(() => {
      this.terminal.resize(cols, rows);
      this.modes.onResize();
    });
  }

  /** Resolves once every byte written so far (and since) has been parsed. */
  whenIdle(): Promise<void> {
    if (this.pending === 0 || this.disposed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Mark the main screen's viewport top at this point of the output stream. */
  markViewportTop(): ViewportMark {
    let marker: { readonly line: number; readonly isDisposed: boolean; dispose(): void } | undefined;
    let baseY = 0;
    let disposed = false;
    this.afterPending(() => {
      if (disposed) return;
      const normal = this.terminal.buffer.normal;
      baseY = normal.baseY;
      // A marker follows its line as the scrollback is trimmed; the alternate screen has none.
      if (!this.altScreen) marker = this.terminal.registerMarker(-normal.cursorY);
    });
    return {
      scrolledLines: () => {
        const now = this.terminal.buffer.normal.baseY;
        if (marker === undefined) return Math.max(0, now - baseY);
        return marker.isDisposed ? now : Math.max(0, now - marker.line);
      },
      dispose: () => {
        disposed = true;
        marker?.dispose();
      },
    };
  }

  /**
   * Bytes that redraw the child's screens on a real terminal that is on its main screen, cleared,
   * cursor home, default colours: the last `scrolledLines` lines of main-screen scrollback (they
   * scroll off the top into the real scrollback), the main viewport, and if the child is on its
   * alternate screen, that screen over it. Ends with the child's colours set; the cursor position
   * is `cursorSequence()`'s job.
   */
  screenSnapshot(scrolledLines: number): string {
    const main = this.serializer.serialize({ scrollback: scrolledLines, excludeAltBuffer: true, excludeModes: true });
    if (!this.altScreen) return main;
    // The addon only serializes the alternate screen after the main one, and assumes default
    // colours where it starts it: take its part after the switch, and switch with colours reset.
    const both = this.serializer.serialize({ scrollback: 0, excludeModes: true });
    const alt = both.slice(both.lastIndexOf(ALT_SCREEN_ENTER) + ALT_SCREEN_ENTER.length);
    return `${main}\x1b[0m${ALT_SCREEN_ENTER}${alt}`;
  }

  /** Absolute cursor position on the active screen (after the modes are restored: DECOM counts). */
  cursorSequence(): string {
    const buffer = this.terminal.buffer.active;
    let row = buffer.cursorY + 1;
    const region = this.modes.scrollRegion;
    if (this.terminal.modes.originMode && region !== undefined) row -= region.top - 1;
    // Past the last column is xterm's pending-wrap state, which no sequence can set: use the last.
    const col = Math.min(buffer.cursorX + 1, this.terminal.cols);
    return `\x1b[${row};${col}H`;
  }

  /** The active screen's text, lines right-trimmed: for tests and diagnostics. */
  viewportText(): string[] {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.terminal.rows; y++) {
      lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    }
    return lines;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.modes.dispose();
    this.terminal.dispose();
    this.releaseWaiters();
  }

  private afterPending(fn: () => void): void {
    if (this.disposed) return;
    if (this.pending === 0) {
      fn();
      return;
    }
    // An empty write's callback runs in order with the other writes' callbacks.
    this.pending++;
    this.terminal.write('', () => {
      fn();
      this.parsed();
    });
  }

  private parsed(): void {
    this.pending--;
    if (this.pending === 0) this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
