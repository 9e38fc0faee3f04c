/**
 * Splits the keyboard byte stream into "deliver these bytes" and "the hotkey was pressed", without
 * touching anything else: arrows, mouse reports, focus events and pastes reach their reader
 * byte for byte. Only two byte values are searched for (the hotkey's legacy byte and ESC), with
 * `indexOf`, so a chunk costs a native scan plus a few steps per escape sequence.
 *
 * A bracketed paste (`ESC[200~ … ESC[201~`) is opaque: a pasted Ctrl-] byte is text, not the hotkey.
 * A chunk that ends in what may be the start of a hotkey or paste sequence keeps that tail back
 * until the next chunk or `holdMs`, so a lone ESC (the Escape key) still arrives within a few ms.
 */
import { hotkeyCsiLeads, matchHotkeyCsi, type Hotkey } from './hotkey.js';

export interface InputScannerOptions {
  hotkey: Hotkey;
  /** Bytes for whoever has the keyboard now; called in order, never with an empty buffer. */
  onData: (bytes: Buffer) => void;
  /** The hotkey was pressed. Bytes before it were delivered; bytes after it follow this call. */
  onHotkey: () => void;
  /** How long a possible sequence start at the end of a chunk waits for the rest. Default 12 ms. */
  holdMs?: number;
}

export const DEFAULT_HOLD_MS = 12;
/** A paste with no input for this long is taken as over (a lost end marker must not kill the hotkey). */
export const PASTE_IDLE_RESET_MS = 2000;

const ESC = 0x1b;
const LEFT_BRACKET = 0x5b;
const TILDE = 0x7e;
const LOWER_U = 0x75;
const PASTE_END = Buffer.from('\x1b[201~', 'latin1');
const PASTE_START_PARAMS = '200';
/** Longest `ESC [ params` worth waiting for; kitty reports with text fields stay well below. */
const MAX_HELD_SEQUENCE = 48;

type EscapeMatch =
  | { kind: 'partial' }
  | { kind: 'other' }
  | { kind: 'paste-start'; end: number }
  | { kind: 'hotkey'; press: boolean; end: number };

export class InputScanner {
  private readonly hotkey: Hotkey;
  private readonly onData: (bytes: Buffer) => void;
  private readonly onHotkey: () => void;
  private readonly holdMs: number;
  private readonly leads: string[];
  private held: Buffer | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private inPaste = false;
  /** The last bytes of a paste, to find an end marker split across chunks. */
  private pasteTail: Buffer = Buffer.alloc(0);
  private lastInputAt = 0;
  private disposed = false;

  constructor(options: InputScannerOptions) {
    this.hotkey = options.hotkey;
    this.onData = options.onData;
    this.onHotkey = options.onHotkey;
    this.holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
    this.leads = [...hotkeyCsiLeads(options.hotkey), PASTE_START_PARAMS];
  }

  /** True while between a paste's start and end markers. */
  get pasting(): boolean {
    return this.inPaste;
  }

  push(chunk: Buffer): void {
    if (this.disposed || chunk.length === 0) return;
    const now = Date.now();
    if (this.inPaste && now - this.lastInputAt > PASTE_IDLE_RESET_MS) this.endPaste();
    this.lastInputAt = now;

    let bytes = chunk;
    if (this.held !== undefined) {
      bytes = Buffer.concat([this.held, chunk]);
      this.held = undefined;
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
    }
    this.scan(bytes);
  }

  /** Deliver a held tail now (the timer does this by itself). */
  flush(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined && !this.disposed) this.onData(held);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.held = undefined;
  }

  private scan(bytes: Buffer): void {
    const n = bytes.length;
    let start = 0; // first byte not delivered yet
    let i = 0; // where to look next
    let legacyAt = -1; // next legacy hotkey byte at or after i (n: none), refreshed when passed
    let pasteFrom = 0; // where this chunk's part of an open paste begins

    while (i < n && !this.disposed) {
      if (this.inPaste) {
        const end = this.findPasteEnd(bytes, i);
        if (end < 0) break;
        this.endPaste();
        i = end;
        continue;
      }

      if (legacyAt < i) {
        legacyAt = bytes.indexOf(this.hotkey.legacyByte, i);
        if (legacyAt < 0) legacyAt = n;
      }
      let escAt = bytes.indexOf(ESC, i);
      if (escAt < 0) escAt = n;

      if (legacyAt < escAt) {
        this.deliver(bytes, start, legacyAt);
        start = i = legacyAt + 1;
        this.onHotkey();
        continue;
      }
      if (escAt >= n) break;

      const match = this.matchEscape(bytes, escAt);
      if (match.kind === 'partial') {
        this.deliver(bytes, start, escAt);
        this.hold(bytes.subarray(escAt));
        return;
      }
      if (match.kind === 'paste-start') {
        this.inPaste = true;
        this.pasteTail = Buffer.alloc(0);
        i = pasteFrom = match.end;
      } else if (match.kind === 'hotkey') {
        this.deliver(bytes, start, escAt);
        start = i = match.end;
        if (match.press) this.onHotkey();
      } else {
        i = escAt + 1;
      }
    }

    if (this.inPaste) this.rememberPasteTail(bytes.subarray(Math.max(pasteFrom, n - PASTE_END.length)));
    this.deliver(bytes, start, n);
  }

  private deliver(bytes: Buffer, from: number, to: number): void {
    if (to > from && !this.disposed) this.onData(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to));
  }

  private hold(tail: Buffer): void {
    // Copy: the caller's chunk may be reused once we return.
    this.held = Buffer.from(tail);
    this.holdTimer = setTimeout(() => this.flush(), this.holdMs);
  }

  private endPaste(): void {
    this.inPaste = false;
    this.pasteTail = Buffer.alloc(0);
  }

  /** Index just past the paste end marker at or after `from`, or -1. */
  private findPasteEnd(bytes: Buffer, from: number): number {
    if (from === 0 && this.pasteTail.length > 0) {
      const joined = Buffer.concat([this.pasteTail, bytes.subarray(0, PASTE_END.length - 1)]);
      const at = joined.indexOf(PASTE_END);
      if (at >= 0 && at < this.pasteTail.length) return at + PASTE_END.length - this.pasteTail.length;
    }
    const at = bytes.indexOf(PASTE_END, from);
    return at < 0 ? -1 : at + PASTE_END.length;
  }

  private rememberPasteTail(tail: Buffer): void {
    const keep = PASTE_END.length - 1;
    const joined = Buffer.concat([this.pasteTail, tail]);
    this.pasteTail = Buffer.from(joined.subarray(Math.max(0, joined.length - keep)));
  }

  /** What the escape sequence starting at `at` is, as far as the bytes go. */
  private matchEscape(bytes: Buffer, at: number): EscapeMatch {
    const n = bytes.length;
    if (at + 1 >= n) return { kind: 'partial' };
    if (bytes[at + 1] !== LEFT_BRACKET) return { kind: 'other' };

    let q = at + 2;
    while (q < n && q - at < MAX_HELD_SEQUENCE && isParamByte(bytes[q] ?? 0)) q++;
    if (q >= n) {
      return this.couldBeOurs(bytes.toString('latin1', at + 2, q)) ? { kind: 'partial' } : { kind: 'other' };
    }
    const final = bytes[q];
    if (final !== TILDE && final !== LOWER_U) return { kind: 'other' };

    const params = bytes.toString('latin1', at + 2, q);
    if (final === TILDE && params === PASTE_START_PARAMS) return { kind: 'paste-start', end: q + 1 };
    const event = matchHotkeyCsi(this.hotkey, params, final === TILDE ? '~' : 'u');
    if (event === undefined) return { kind: 'other' };
    return { kind: 'hotkey', press: event === 'press', end: q + 1 };
  }

  /** Whether `ESC [ params…` (cut off) may still become the hotkey or a paste start. */
  private couldBeOurs(params: string): boolean {
    const cut = params.search(/[;:]/);
    if (cut < 0) return this.leads.some((lead) => lead.startsWith(params));
    return this.leads.includes(params.slice(0, cut));
  }
}

/** Digits, `;` and `:`: the parameter bytes of the sequences the scanner looks for. */
function isParamByte(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x3b;
}
