/**
 * Runs a full-screen child (Claude Code) in a pseudo-terminal inside ours, so that a hotkey can put
 * its screen aside for an overlay (the dashboard) and bring it back exactly as the child left it.
 *
 * While the child is shown, its output goes to the terminal untouched and every key but the
 * hotkey goes to it untouched. Its output also feeds a headless mirror, which starts where the
 * real cursor was (asked of the terminal at start); while the overlay is shown, output goes only
 * there (the child never blocks), and the way back repaints from it.
 */
import { spawn, type IPty } from '@lydell/node-pty';
import { parseHotkey, type Hotkey } from './hotkey.js';
import { CURSOR_POSITION_QUERY, CursorReplyFilter } from './cursor-query.js';
import { InputScanner } from './input-scanner.js';
import { unfinishedTail } from './output-tail.js';
import { OverlayStreams, type TerminalSize } from './overlay-streams.js';
import { ScreenMirror, type ViewportMark } from './screen-mirror.js';
import { NEUTRAL_MODES, NO_KITTY_FLAGS, exitResetSequence, kittyTransition, type KittyKeyboardState } from './terminal-modes.js';

export type HostStdin = NodeJS.ReadableStream & { setRawMode?(mode: boolean): unknown; isTTY?: boolean };
export type HostStdout = NodeJS.WritableStream & {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on(event: 'resize', listener: () => void): unknown;
};

export interface TerminalHostOptions {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default process.stdin. Raw mode is turned on while the host runs if it is a TTY. */
  stdin?: HostStdin;
  /** Default process.stdout. Its size (default 80×24) is the child's; its 'resize' events are followed. */
  stdout?: HostStdout;
  /** Default `ctrl-]`; see parseHotkey for the accepted forms. */
  hotkey?: string;
  /** Called on each press of the hotkey, whichever screen is shown. */
  onHotkey?: () => void;
}

/** A screen to draw on while the child's is put aside; valid from showOverlay() until showChild(). */
export interface Overlay {
  /** Every key but the hotkey, as a TTY-like stream (for Ink's `render({ stdin })`). */
  stdin: NodeJS.ReadStream;
  /** The real terminal, TTY-like, with its size and its 'resize' events (for Ink's `render({ stdout })`). */
  stdout: NodeJS.WriteStream;
  readonly columns: number;
  readonly rows: number;
}

export interface ChildExit {
  exitCode: number;
  /** The signal number that ended the child, if one did. */
  signal: number | undefined;
}

export type TerminalHostMode = 'child' | 'overlay';

export const DEFAULT_HOTKEY = 'ctrl-]';
const DEFAULT_TERM = 'xterm-256color';
const DEFAULT_SIZE: TerminalSize = { columns: 80, rows: 24 };
const MIRROR_SCROLLBACK = 1000;
/** After a resize during the overlay, the child's redraw is taken as done after this much silence… */
export const SETTLE_QUIET_MS = 50;
/** …or this long after showChild(), whichever comes first. */
export const SETTLE_MAX_MS = 300;

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const SYNC_BEGIN = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';
const CLEAR_SCREEN = '\x1b[H\x1b[2J';
const CLEAR_SCROLLBACK = '\x1b[3J';

/**
 * What is known of the child's screen as the real terminal last showed it, while the overlay
 * covers it. (Whichever alternate screen the overlay drew on, the child's own or a fresh one,
 * the way back starts by leaving it.)
 */
interface SetAside {
  /** Kitty flags of the real main screen, which the overlay leaves alone. */
  kittyMain: KittyKeyboardState;
  /** To replay into the real scrollback what scrolled off while the overlay was up. */
  mark: ViewportMark;
  resized: boolean;
}

// node-pty writes a Buffer as it is (its socket is a tty.WriteStream); its typings only say string.
interface BytePty {
  write(data: Buffer): void;
}

export class TerminalHost {
  readonly hotkeyLabel: string;
  readonly exited: Promise<ChildExit>;
  private readonly hotkey: Hotkey;
  private readonly stdin: HostStdin;
  private readonly stdout: HostStdout;
  private readonly pty: IPty;
  private readonly mirror: ScreenMirror;
  private readonly scanner: InputScanner;
  /** Set until the terminal has said where its cursor is (see cursor-query.ts). */
  private cursorReply: CursorReplyFilter | undefined;
  private readonly onHotkey: (() => void) | undefined;
  private resolveExited!: (exit: ChildExit) => void;
  private currentMode: TerminalHostMode = 'child';
  private overlay: { streams: OverlayStreams; view: Overlay } | undefined;
  /** Set while the real terminal shows something other than the child: the overlay, or a pending repaint. */
  private aside: SetAside | undefined;
  /** Bumped by every screen switch and by dispose, so a repaint that waited for the mirror can tell it is stale. */
  private generation = 0;
  private size: TerminalSize;
  private lastOutput: Buffer = Buffer.alloc(0);
  private lastOutputAt = 0;
  private lastResizeAt = 0;
  private childExit: ChildExit | undefined;
  private rawModeSet = false;
  private disposed = false;

  /** Spawn the child in a pty sized to the terminal and start passing bytes through. */
  static start(options: TerminalHostOptions): TerminalHost {
    return new TerminalHost(options);
  }

  private constructor(options: TerminalHostOptions) {
    this.hotkey = parseHotkey(options.hotkey ?? DEFAULT_HOTKEY);
    this.hotkeyLabel = this.hotkey.label;
    this.onHotkey = options.onHotkey;
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.size = terminalSize(this.stdout);
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));

    const env = definedEnv(options.env);
    const term = env.TERM ?? DEFAULT_TERM;
    try {
      this.pty = spawn(options.file, options.args, {
        name: term,
        cols: this.size.columns,
        rows: this.size.rows,
        cwd: options.cwd ?? process.cwd(),
        env: { ...env, TERM: term },
        // Buffers, not strings: output reaches the terminal byte for byte, and is never decoded twice.
        encoding: null,
      });
    } catch (error) {
      throw new Error(`Could not start ${options.file} in a pseudo-terminal: ${(error as Error).message}. Check that it exists and is executable.`, {
        cause: error,
      });
    }

    // Ask before the child can print: the answer is where its output starts on the real screen.
    const askCursor = this.stdin.isTTY === true && this.stdout.isTTY === true;
    this.mirror = new ScreenMirror({ cols: this.size.columns, rows: this.size.rows, scrollback: MIRROR_SCROLLBACK, deferStart: askCursor });
    this.scanner = new InputScanner({
      hotkey: this.hotkey,
      onData: (bytes) => this.routeKeys(bytes),
      onHotkey: () => this.onHotkey?.(),
    });

    this.pty.onData(this.onOutput);
    this.pty.onExit(({ exitCode, signal }) => void this.onChildExit({ exitCode, signal: signal || undefined }));

    if (this.stdin.isTTY === true && typeof this.stdin.setRawMode === 'function') {
      this.stdin.setRawMode(true);
      this.rawModeSet = true;
    }
    if (askCursor) {
      this.cursorReply = new CursorReplyFilter({
        onData: (bytes) => this.scanner.push(bytes),
        onReply: (position) => {
          this.cursorReply = undefined;
          this.mirror.startAt(position);
        },
      });
      this.stdout.write(CURSOR_POSITION_QUERY);
    }
    this.stdin.on('data', this.onInput);
    this.stdout.on('resize', this.onResize);
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** Which screen has the keyboard: the child's, or the overlay's. */
  get mode(): TerminalHostMode {
    return this.currentMode;
  }

  /**
   * Put the child's screen aside: switch to an alternate screen (unless the child is on its own,
   * which the overlay then draws over), turn off the child's input modes so the overlay gets plain
   * keys, clear, and route keys to the returned overlay. The child keeps running; its output goes
   * to the mirror only. Calling it again while shown returns the same overlay.
   */
  showOverlay(): Overlay {
    if (this.disposed) {
      throw new Error('The terminal host is closed (its child exited or dispose() was called): start a new one to show an overlay.');
    }
    if (this.currentMode === 'overlay' && this.overlay !== undefined) return this.overlay.view;
    this.generation++; // calls off a return to the child still waiting to repaint
    this.currentMode = 'overlay';

    let out = SYNC_END;
    if (this.aside === undefined) {
      const modes = this.mirror.modes;
      // The mirror may be a chunk behind the terminal here; the repaint on return makes up for it.
      const childOnAltScreen = this.mirror.altScreen;
      this.aside = {
        kittyMain: modes.kittyKeyboard('main'),
        mark: this.mirror.markViewportTop(),
        resized: false,
      };
      // A fresh alternate screen has no kitty flags; the child's own one has, and they must go.
      out += childOnAltScreen ? kittyTransition(modes.kittyKeyboard('alt'), NO_KITTY_FLAGS) : ALT_SCREEN_ON;
    }
    out += NEUTRAL_MODES + CLEAR_SCREEN;
    this.stdout.write(out);

    const streams = new OverlayStreams({ stdout: this.stdout, size: () => this.size });
    this.overlay = { streams, view: overlayView(streams) };
    return this.overlay.view;
  }

  /**
   * Give the screen and keyboard back to the child: the overlay's streams go dead at once, keys
   * go to the child, and once the mirror has caught up (and, after a resize, the child's redraw
   * has settled) the child's screen, scrollback, modes and cursor are repainted and its output
   * flows again.
   */
  showChild(): void {
    if (this.disposed || this.currentMode === 'child') return;
    this.currentMode = 'child';
    this.overlay?.streams.close();
    this.overlay = undefined;
    const generation = ++this.generation;
    this.returnToChild(generation).catch(() => {
      // A repaint that failed must not leave the child's output cut off: resume passthrough on
      // whatever is on screen; the child's next redraw repairs it.
      if (generation !== this.generation || this.disposed) return;
      this.aside?.mark.dispose();
      this.aside = undefined;
      this.stdout.write(SYNC_END + ALT_SCREEN_OFF + NEUTRAL_MODES);
    });
  }

  /** Send a signal to the child (default SIGHUP, as when a terminal closes). */
  kill(signal?: string): void {
    if (this.childExit === undefined) this.pty.kill(signal);
  }

  /**
   * Hand the terminal back: stop reading keys, raw mode off, the child's leftover modes reset
   * (kitty keyboard, bracketed paste, focus and mouse reports, hidden cursor), off the alternate
   * screen if on one, and the child hung up if still running. Idempotent; runs by itself when the
   * child exits.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generation++;
    this.cursorReply?.dispose();
    this.cursorReply = undefined;
    this.scanner.dispose();
    this.stdin.removeListener('data', this.onInput);
    this.stdout.removeListener('resize', this.onResize);
    this.overlay?.streams.close();
    this.overlay = undefined;
    this.currentMode = 'child';

    const modes = this.mirror.modes;
    let out = '';
    if (this.aside !== undefined) {
      out += ALT_SCREEN_OFF + kittyTransition(this.aside.kittyMain, NO_KITTY_FLAGS);
      this.aside.mark.dispose();
      this.aside = undefined;
    } else {
      if (this.mirror.altScreen) out += kittyTransition(modes.kittyKeyboard('alt'), NO_KITTY_FLAGS) + ALT_SCREEN_OFF;
      out += kittyTransition(modes.kittyKeyboard('main'), NO_KITTY_FLAGS);
    }
    out += exitResetSequence(modes);
    this.stdout.write(out);

    if (this.rawModeSet) this.stdin.setRawMode?.(false);
    this.stdin.pause();
    if (this.childExit === undefined) this.pty.kill();
    this.mirror.dispose();
  }

  private readonly onOutput = (data: Buffer | string): void => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.lastOutput = bytes;
    this.lastOutputAt = Date.now();
    if (this.aside === undefined && !this.disposed) this.stdout.write(bytes);
    this.mirror.write(bytes);
  };

  private readonly onInput = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.cursorReply !== undefined) this.cursorReply.push(bytes);
    else this.scanner.push(bytes);
  };

  private readonly onResize = (): void => {
    const size = terminalSize(this.stdout);
    if (size.columns === this.size.columns && size.rows === this.size.rows) return;
    this.size = size;
    if (this.childExit === undefined) {
      try {
        this.pty.resize(size.columns, size.rows);
      } catch {
        // The child exited between the check and the ioctl: nothing left to resize.
      }
    }
    this.mirror.resize(size.columns, size.rows);
    this.lastResizeAt = Date.now();
    if (this.aside !== undefined) this.aside.resized = true;
    this.overlay?.streams.resized();
  };

  private routeKeys(bytes: Buffer): void {
    if (this.currentMode === 'overlay') this.overlay?.streams.pushKeys(bytes);
    else if (this.childExit === undefined) (this.pty as unknown as BytePty).write(bytes);
  }

  private async returnToChild(generation: number): Promise<void> {
    const aside = this.aside;
    if (aside === undefined) return;
    if (aside.resized) await this.settle(generation);
    await this.mirror.whenIdle();
    // No output can arrive between the mirror's last parse and here (no I/O between microtasks),
    // so the repaint and the passthrough that follows it cover the stream without gap or overlap.
    if (generation !== this.generation || this.disposed) return;
    this.stdout.write(this.repaint(aside));
    aside.mark.dispose();
    this.aside = undefined;
  }

  /** Wait until the child has been quiet for SETTLE_QUIET_MS since output or resize, at most SETTLE_MAX_MS. */
  private async settle(generation: number): Promise<void> {
    const started = Date.now();
    for (;;) {
      const now = Date.now();
      const quiet = now - Math.max(this.lastOutputAt, this.lastResizeAt);
      const waited = now - started;
      if (quiet >= SETTLE_QUIET_MS || waited >= SETTLE_MAX_MS || generation !== this.generation) return;
      await sleep(Math.min(SETTLE_QUIET_MS - quiet, SETTLE_MAX_MS - waited));
    }
  }

  /** Bytes that turn the real terminal (on the overlay's or the child's alternate screen) into the child's. */
  private repaint(aside: SetAside): Buffer {
    const modes = this.mirror.modes;
    let out = SYNC_BEGIN + ALT_SCREEN_OFF;
    out += kittyTransition(aside.kittyMain, modes.kittyKeyboard('main'));
    out += NEUTRAL_MODES;
    const { scrolledLines, scrollbackCleared } = aside.mark.since();
    // The child cleared its scrollback while hidden (Ink does, redrawing a tall frame): so must we.
    if (scrollbackCleared) out += CLEAR_SCROLLBACK;
    out += this.mirror.screenSnapshot(scrolledLines);
    // The snapshot re-entered the alternate screen if the child is on it: a fresh one, no flags.
    if (this.mirror.altScreen) out += kittyTransition(NO_KITTY_FLAGS, modes.kittyKeyboard('alt'));
    out += modes.restoreSequence() + this.mirror.cursorSequence() + SYNC_END;
    // If the last chunk stopped mid-sequence, so must the terminal: the rest comes through next.
    return Buffer.concat([Buffer.from(out), unfinishedTail(this.lastOutput)]);
  }

  private async onChildExit(exit: ChildExit): Promise<void> {
    this.childExit = exit;
    this.generation++;
    try {
      if (!this.disposed) await this.mirror.whenIdle();
      // Leave the child's last screen on the terminal, not the overlay.
      const aside = this.aside;
      if (aside !== undefined && !this.disposed) {
        this.stdout.write(this.repaint(aside));
        aside.mark.dispose();
        this.aside = undefined;
      }
    } finally {
      this.dispose();
      this.resolveExited(exit);
    }
  }
}

function overlayView(streams: OverlayStreams): Overlay {
  return {
    stdin: streams.stdin,
    stdout: streams.stdout,
    get columns() {
      return streams.stdout.columns;
    },
    get rows() {
      return streams.stdout.rows;
    },
  };
}

function terminalSize(stdout: HostStdout): TerminalSize {
  const columns = stdout.columns !== undefined && stdout.columns > 0 ? stdout.columns : DEFAULT_SIZE.columns;
  const rows = stdout.rows !== undefined && stdout.rows > 0 ? stdout.rows : DEFAULT_SIZE.rows;
  return { columns, rows };
}

/** node-pty writes `KEY=undefined` for unset values: leave them out. */
function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}
