/**
 * Terminal modes: the ones a child turns on that a screen snapshot does not carry, and the escape
 * sequences that clear them (for the dashboard and on exit) or put them back (on return).
 *
 * xterm's public `modes` cover DECSET basics; the rest is learned here from the child's output
 * through parser hooks that observe and pass every sequence on to xterm: cursor visibility, the
 * mouse report encoding, kitty keyboard flags (a stack per screen), modifyOtherKeys and the scroll
 * region.
 */
import type { IDisposable, Terminal } from '@xterm/headless';

/** Kitty keyboard protocol state of one screen: flags set with `CSI = f u`, plus pushed entries. */
export interface KittyKeyboardState {
  readonly base: number;
  readonly stack: readonly number[];
}

export const NO_KITTY_FLAGS: KittyKeyboardState = { base: 0, stack: [] };

// Kitty caps its stack; a child pushing without popping must not make us grow without end.
const MAX_KITTY_STACK = 64;

const MOUSE_ENCODINGS = new Set([1005, 1006, 1015, 1016]);
const ALT_SCREEN_MODES = new Set([47, 1047, 1049]);

type Params = (number | number[])[];

function param(params: Params, index: number): number {
  const value = params[index];
  return typeof value === 'number' ? value : (value?.[0] ?? 0);
}

interface Screens {
  main: KittyKeyboardState;
  alt: KittyKeyboardState;
}

export class ModeTracker {
  cursorHidden = false;
  /** 1005 (UTF-8), 1006 (SGR), 1015 (urxvt) or 1016 (SGR pixels); undefined: X10 default. */
  mouseEncoding: number | undefined;
  /** xterm modifyOtherKeys level (0: off). */
  modifyOtherKeys = 0;
  /** DECSTBM margins as sent (1-based), undefined for the whole screen. */
  scrollRegion: { top: number; bottom: number } | undefined;
  private kitty: Screens = { main: NO_KITTY_FLAGS, alt: NO_KITTY_FLAGS };
  private readonly hooks: IDisposable[];

  constructor(private readonly terminal: Terminal) {
    const parser = terminal.parser;
    this.hooks = [
      parser.registerCsiHandler({ prefix: '?', final: 'h' }, (p) => this.decset(p, true)),
      parser.registerCsiHandler({ prefix: '?', final: 'l' }, (p) => this.decset(p, false)),
      parser.registerCsiHandler({ prefix: '>', final: 'u' }, (p) => this.kittyPush(param(p, 0))),
      parser.registerCsiHandler({ prefix: '<', final: 'u' }, (p) => this.kittyPop(Math.max(1, param(p, 0)))),
      parser.registerCsiHandler({ prefix: '=', final: 'u' }, (p) => this.kittySet(param(p, 0), param(p, 1) || 1)),
      parser.registerCsiHandler({ prefix: '>', final: 'm' }, (p) => this.xtmodkeys(p)),
      parser.registerCsiHandler({ final: 'r' }, (p) => this.margins(p)),
      parser.registerCsiHandler({ intermediates: '!', final: 'p' }, () => this.softReset()),
      parser.registerEscHandler({ final: 'c' }, () => this.fullReset()),
    ];
  }

  /** Kitty flags of the screen the child is on now. */
  kittyKeyboard(screen: 'main' | 'alt'): KittyKeyboardState {
    return this.kitty[screen];
  }

  /** xterm drops the scroll region on resize, and so do real terminals. */
  onResize(): void {
    this.scrollRegion = undefined;
  }

  /**
   * The child's modes, for a terminal where `NEUTRAL_MODES` was just written. Excludes kitty
   * flags (the caller knows which screen stack the real terminal has) and the cursor position.
   */
  restoreSequence(): string {
    const modes = this.terminal.modes;
    let out = '';
    if (modes.applicationCursorKeysMode) out += '\x1b[?1h';
    if (modes.applicationKeypadMode) out += '\x1b=';
    if (modes.bracketedPasteMode) out += '\x1b[?2004h';
    if (modes.insertMode) out += '\x1b[4h';
    if (modes.reverseWraparoundMode) out += '\x1b[?45h';
    if (modes.sendFocusMode) out += '\x1b[?1004h';
    if (!modes.wraparoundMode) out += '\x1b[?7l';
    const tracking = { none: undefined, x10: 9, vt200: 1000, drag: 1002, any: 1003 }[modes.mouseTrackingMode];
    if (tracking !== undefined) out += `\x1b[?${tracking}h`;
    if (this.mouseEncoding !== undefined) out += `\x1b[?${this.mouseEncoding}h`;
    if (this.modifyOtherKeys !== 0) out += `\x1b[>4;${this.modifyOtherKeys}m`;
    // DECSTBM and DECOM both home the cursor: the caller positions it afterwards.
    if (this.scrollRegion !== undefined) out += `\x1b[${this.scrollRegion.top};${this.scrollRegion.bottom}r`;
    if (modes.originMode) out += '\x1b[?6h';
    if (this.cursorHidden) out += '\x1b[?25l';
    return out;
  }

  dispose(): void {
    for (const hook of this.hooks) hook.dispose();
  }

  private get screen(): 'main' | 'alt' {
    return this.terminal.buffer.active.type === 'alternate' ? 'alt' : 'main';
  }

  // Every hook returns false so xterm still handles the sequence itself.

  private decset(params: Params, on: boolean): boolean {
    for (let i = 0; i < params.length; i++) {
      const mode = param(params, i);
      if (mode === 25) this.cursorHidden = !on;
      else if (MOUSE_ENCODINGS.has(mode)) {
        if (on) this.mouseEncoding = mode;
        else if (this.mouseEncoding === mode) this.mouseEncoding = undefined;
      } else if (ALT_SCREEN_MODES.has(mode) && on && this.screen === 'main') {
        // Each screen has its own kitty stack, and entering the alternate one starts it empty.
        this.kitty = { ...this.kitty, alt: NO_KITTY_FLAGS };
      }
    }
    return false;
  }

  private kittyPush(flags: number): boolean {
    const current = this.kitty[this.screen];
    const stack = [...current.stack, flags].slice(-MAX_KITTY_STACK);
    this.kitty = { ...this.kitty, [this.screen]: { base: current.base, stack } };
    return false;
  }

  private kittyPop(count: number): boolean {
    const current = this.kitty[this.screen];
    const stack = current.stack.slice(0, Math.max(0, current.stack.length - count));
    this.kitty = { ...this.kitty, [this.screen]: { base: current.base, stack } };
    return false;
  }

  private kittySet(flags: number, how: number): boolean {
    const current = this.kitty[this.screen];
    const top = current.stack.length > 0 ? (current.stack[current.stack.length - 1] ?? 0) : current.base;
    const next = how === 2 ? top | flags : how === 3 ? top & ~flags : flags;
    const state =
      current.stack.length > 0
        ? { base: current.base, stack: [...current.stack.slice(0, -1), next] }
        : { base: next, stack: current.stack };
    this.kitty = { ...this.kitty, [this.screen]: state };
    return false;
  }

  private xtmodkeys(params: Params): boolean {
    if (param(params, 0) === 4) this.modifyOtherKeys = params.length > 1 ? param(params, 1) : 0;
    return false;
  }

  private margins(params: Params): boolean {
    const rows = this.terminal.rows;
    const top = param(params, 0) || 1;
    const bottom = param(params, 1) || rows;
    // An invalid region is ignored by terminals; a full-screen one is the default.
    if (top >= bottom || bottom > rows) return false;
    this.scrollRegion = top === 1 && bottom === rows ? undefined : { top, bottom };
    return false;
  }

  private softReset(): boolean {
    this.cursorHidden = false;
    this.scrollRegion = undefined;
    return false;
  }

  private fullReset(): boolean {
    this.cursorHidden = false;
    this.mouseEncoding = undefined;
    this.modifyOtherKeys = 0;
    this.scrollRegion = undefined;
    this.kitty = { main: NO_KITTY_FLAGS, alt: NO_KITTY_FLAGS };
    return false;
  }
}

/**
 * Input and display modes off, for a screen someone else draws on (the dashboard) or before the
 * child's modes are put back: no mouse or focus reports, no bracketed paste, normal cursor and
 * keypad keys, no modifyOtherKeys, autowrap on, no insert/origin mode, whole-screen scrolling,
 * default colours, cursor shown. (DECSTBM and DECOM home the cursor.)
 */
export const NEUTRAL_MODES =
  '\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l' +
  '\x1b[?1004l\x1b[?2004l\x1b[?1l\x1b>\x1b[>4m' +
  '\x1b[4l\x1b[?6l\x1b[?7h\x1b[?45l\x1b[r' +
  '\x1b[0m\x1b[?25h';

/**
 * What to leave behind when the host ends: the modes a child may have left on, off, without
 * moving the cursor (so the shell prompt lands under the child's last output). Kitty flags and the
 * alternate screen are the caller's, as they depend on which screen the real terminal is on.
 */
export function exitResetSequence(tracker: ModeTracker | undefined): string {
  let out =
    '\x1b[?2026l' +
    '\x1b[?2004l\x1b[?1004l' +
    '\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l' +
    '\x1b[?1l\x1b>\x1b[4l\x1b[?7h';
  if (tracker !== undefined && tracker.modifyOtherKeys !== 0) out += '\x1b[>4m';
  // DECSTBM homes the cursor: save and restore it around the reset.
  if (tracker?.scrollRegion !== undefined) out += '\x1b7\x1b[r\x1b8';
  return out + '\x1b[0m\x1b[?25h';
}

/** Turn the real terminal's kitty flags for the current screen from `from` into `to`. */
export function kittyTransition(from: KittyKeyboardState, to: KittyKeyboardState): string {
  if (from.base === to.base && from.stack.length === to.stack.length && from.stack.every((f, i) => f === to.stack[i])) {
    return '';
  }
  let out = from.stack.length > 0 ? `\x1b[<${from.stack.length}u` : '';
  if (from.base !== to.base) out += `\x1b[=${to.base};1u`;
  for (const flags of to.stack) out += `\x1b[>${flags}u`;
  return out;
}
