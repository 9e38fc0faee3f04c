/**
 * A headless xterm that sees everything the child prints, so the child's screen can be drawn
 * again after the dashboard covered it. xterm parses asynchronously: `whenIdle()` says when it has
 * caught up with every byte given to it, and operations that must happen at an exact point of the
 * output stream (a resize, a viewport mark) are queued behind the bytes before them.
 */
import xterm from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import unicode11Addon from '@xterm/addon-unicode11';
import type { CursorPosition } from './cursor-query.js';
import { serializeRow } from './row-serializer.js';
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
  /** Hold everything written until `startAt()` says where the real cursor was when the child started. */
  deferStart?: boolean;
}

/** Where the top of the main screen's viewport was, at one point of the output stream. */
export interface ViewportMark {
  /**
   * How many lines have scrolled past it since, and whether the child cleared the scrollback
   * (`CSI 3 J`, or a full reset) meanwhile; then every line now in the scrollback counts.
   */
  since(): { scrolledLines: number; scrollbackCleared: boolean };
  dispose(): void;
}

const ALT_SCREEN_ENTER = '\x1b[?1049h\x1b[H';

export class ScreenMirror {
  readonly modes: ModeTracker;
  private readonly terminal: HeadlessTerminal;
  private readonly serializer: Serializer;
  private pending = 0;
  /** Times the child cleared the scrollback (ED 3 or a full reset). */
  private scrollbackClears = 0;
  private idleWaiters: (() => void)[] = [];
  /** Writes made before `startAt()`, in order, each with its parse callback. */
  private beforeStart: { data: Buffer | string; parsed: () => void }[] | undefined;
  /**
   * The last of the lines above the child's starting row: someone else's output (anyclaude's, the
   * shell's), which the mirror never saw. A repaint leaves them be while the mirror has them empty.
   */
  private foreignEnd: { readonly line: number; readonly isDisposed: boolean; dispose(): void } | undefined;
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
    // Widths as terminals and Claude Code count them (Unicode 11: ⚡, most emoji are two columns).
    // With xterm's default (Unicode 6) such a character is one column here and two on screen, and
    // every later cell of its row would be restored one column off.
    this.terminal.loadAddon(new unicode11Addon.Unicode11Addon());
    this.terminal.unicode.activeVersion = '11';
    this.modes = new ModeTracker(this.terminal);
    this.terminal.parser.registerCsiHandler({ final: 'J' }, (params) => this.erasedInDisplay(params));
    this.terminal.parser.registerEscHandler({ final: 'c' }, () => {
      this.scrollbackClears++;
      this.forgetForeignLines();
      return false;
    });
    if (options.deferStart === true) this.beforeStart = [];
  }

  /**
   * Start parsing, from where the real cursor was when the child started (undefined: top left).
   * Only for a mirror made with `deferStart`; output written so far is parsed now.
   */
  startAt(position: CursorPosition | undefined): void {
    const queued = this.beforeStart;
    if (queued === undefined || this.disposed) return;
    this.beforeStart = undefined;
    const row = Math.min(Math.max(1, position?.row ?? 1), this.terminal.rows);
    const col = Math.min(Math.max(1, position?.col ?? 1), this.terminal.cols);
    this.terminal.write(`\x1b[${row};${col}H`, () => {
      if (row > 1) this.foreignEnd = this.terminal.registerMarker(-1);
    });
    for (const { data, parsed } of queued) this.terminal.write(data, parsed);
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
    this.enqueue(data, () => this.parsed());
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
    let clears = 0;
    let disposed = false;
    this.afterPending(() => {
      if (disposed) return;
      const normal = this.terminal.buffer.normal;
      baseY = normal.baseY;
      clears = this.scrollbackClears;
      // A marker follows its line as the scrollback is trimmed; the alternate screen has none.
      if (!this.altScreen) marker = this.terminal.registerMarker(-normal.cursorY);
    });
    return {
      since: () => {
        const now = this.terminal.buffer.normal.baseY;
        const scrollbackCleared = this.scrollbackClears !== clears;
        if (scrollbackCleared) return { scrolledLines: now, scrollbackCleared };
        if (marker === undefined) return { scrolledLines: Math.max(0, now - baseY), scrollbackCleared };
        return { scrolledLines: marker.isDisposed ? now : Math.max(0, now - marker.line), scrollbackCleared };
      },
      dispose: () => {
        disposed = true;
        marker?.dispose();
      },
    };
  }

  /**
   * Bytes that make a real terminal on its main screen, default colours, show the child's screens:
   * see mainScreenRepaint, then the alternate screen over it if the child is on that. Ends with
   * the child's colours set; the cursor position is `cursorSequence()`'s job.
   */
  screenSnapshot(scrolledLines: number): string {
    return this.mainScreenRepaint(scrolledLines) + this.altScreenRepaint() + this.penSequence();
  }

  /**
   * Rewrite the real main screen from its top row: first the `scrolledLines` lines that scrolled
   * off since the real screen was last in step with the mirror (they scroll on into the real
   * scrollback, as they would have), then the viewport. Each row is erased as it is drawn, as
   * clearing the screen first would push it into the scrollback in tmux and other terminals.
   * Rows that were on screen before the child started, and that it left alone, are stepped over.
   */
  private mainScreenRepaint(scrolledLines: number): string {
    const normal = this.terminal.buffer.normal;
    const cell = normal.getNullCell();
    const first = Math.max(0, normal.baseY - scrolledLines);
    const last = normal.baseY + this.terminal.rows - 1;
    let out = '\x1b[H';
    for (let y = first; y <= last; y++) {
      if (!this.isForeignLine(y)) out += '\x1b[2K' + serializeRow(normal.getLine(y), this.terminal.cols, cell);
      if (y < last) out += '\r\n';
    }
    return out;
  }

  /** The alternate screen, entered afresh, if the child is on it. */
  private altScreenRepaint(): string {
    if (!this.altScreen) return '';
    const normal = this.terminal.buffer.normal;
    const alternate = this.terminal.buffer.alternate;
    // The switch saves the cursor, which the child gets back on leaving: put it where the child had it.
    let out = `\x1b[${normal.cursorY + 1};${Math.min(normal.cursorX + 1, this.terminal.cols)}H${ALT_SCREEN_ENTER}`;
    const cell = alternate.getNullCell();
    for (let y = 0; y < this.terminal.rows; y++) {
      out += serializeRow(alternate.getLine(y), this.terminal.cols, cell);
      if (y < this.terminal.rows - 1) out += '\r\n';
    }
    return out;
  }

  /** The child's current colours and attributes (its "pen"), set from the default ones. */
  private penSequence(): string {
    // The addon ends every serialization with the pen's difference from the style it last wrote;
    // a range past the end of the buffer writes nothing else.
    const beyond = this.terminal.buffer.normal.length;
    return this.serializer.serialize({ range: { start: beyond, end: beyond }, excludeAltBuffer: true, excludeModes: true });
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
    this.forgetForeignLines();
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
    this.enqueue('', () => {
      fn();
      this.parsed();
    });
  }

  private enqueue(data: Buffer | string, parsed: () => void): void {
    this.pending++;
    if (this.beforeStart !== undefined) this.beforeStart.push({ data, parsed });
    else this.terminal.write(data, parsed);
  }

  /** ED: 3 clears the scrollback; 2, 1 and 0 from above them erase the foreign lines too. */
  private erasedInDisplay(params: (number | number[])[]): boolean {
    const mode = typeof params[0] === 'number' ? params[0] : 0;
    if (mode === 3) this.scrollbackClears++;
    const end = this.foreignEnd;
    if (end === undefined || end.isDisposed || this.altScreen) return false;
    const buffer = this.terminal.buffer.normal;
    const cursorLine = buffer.baseY + buffer.cursorY;
    if (mode === 1 || mode === 2) this.forgetForeignLines();
    else if (mode === 0 && cursorLine <= end.line) {
      // Erased from the cursor down: only the lines above the cursor are still someone else's.
      this.forgetForeignLines();
      if (buffer.cursorY > 0) this.foreignEnd = this.terminal.registerMarker(-1);
    }
    return false;
  }

  private forgetForeignLines(): void {
    this.foreignEnd?.dispose();
    this.foreignEnd = undefined;
  }

  /** A line above the child's start that the child has not written to: the real one is still right. */
  private isForeignLine(y: number): boolean {
    const end = this.foreignEnd;
    if (end === undefined || end.isDisposed || y > end.line) return false;
    return (this.terminal.buffer.normal.getLine(y)?.translateToString(true) ?? '') === '';
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
