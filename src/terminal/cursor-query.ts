/**
 * Where the real cursor is when the child starts. The child draws from there (Claude Code renders
 * inline, under whatever anyclaude printed first), so the mirror must start there too, or every
 * repaint would move the child's screen up by that many rows and wipe the lines above it.
 *
 * The host asks with DSR 6 (`ESC [ 6 n`); the terminal answers on stdin with `ESC [ row ; col R`.
 * That answer must not reach the child, so until it comes (or the wait ends) keys pass through
 * this filter, which takes out the first answer and forwards everything else in order.
 */

export const CURSOR_POSITION_QUERY = '\x1b[6n';
/** Every terminal answers at once; one that stays silent costs the child this delay on early keys. */
export const CURSOR_REPLY_TIMEOUT_MS = 250;

export interface CursorPosition {
  /** 1-based, as in the reply. */
  row: number;
  col: number;
}

export interface CursorReplyFilterOptions {
  /** Keys to pass on, in order. */
  onData: (bytes: Buffer) => void;
  /** The answer, or undefined if none came in time. Called once; the filter is done after it. */
  onReply: (position: CursorPosition | undefined) => void;
  timeoutMs?: number;
}

// eslint-disable-next-line no-control-regex -- the reply is an escape sequence
const REPLY = /\x1b\[(\d{1,5});(\d{1,5})R/;
// eslint-disable-next-line no-control-regex -- a reply cut off at the end of a chunk
const PARTIAL_REPLY = /\x1b(?:\[(?:\d{1,5}(?:;\d{0,5})?)?)?$/;

export class CursorReplyFilter {
  private readonly onData: (bytes: Buffer) => void;
  private readonly onReply: (position: CursorPosition | undefined) => void;
  private readonly timer: NodeJS.Timeout;
  private held: Buffer = Buffer.alloc(0);
  private finished = false;

  constructor(options: CursorReplyFilterOptions) {
    this.onData = options.onData;
    this.onReply = options.onReply;
    this.timer = setTimeout(() => this.finish(undefined), options.timeoutMs ?? CURSOR_REPLY_TIMEOUT_MS);
  }

  get done(): boolean {
    return this.finished;
  }

  push(chunk: Buffer): void {
    if (this.finished) {
      this.onData(chunk);
      return;
    }
    const bytes = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const text = bytes.toString('latin1');
    const reply = REPLY.exec(text);
    if (reply !== null) {
      this.forward(bytes.subarray(0, reply.index));
      this.finish({ row: Number(reply[1]), col: Number(reply[2]) });
      this.forward(bytes.subarray(reply.index + reply[0].length));
      return;
    }
    const partial = PARTIAL_REPLY.exec(text);
    const keep = partial === null ? bytes.length : partial.index;
    this.forward(bytes.subarray(0, keep));
    this.held = Buffer.from(bytes.subarray(keep));
  }

  /** Stop waiting (the host is closing): nothing more is reported. */
  dispose(): void {
    this.finished = true;
    clearTimeout(this.timer);
  }

  private finish(position: CursorPosition | undefined): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const held = this.held;
    this.held = Buffer.alloc(0);
    this.onReply(position);
    this.forward(held);
  }

  private forward(bytes: Buffer): void {
    if (bytes.length > 0) this.onData(bytes);
  }
}
