/**
 * The key chord that switches between Claude Code and the dashboard, and every byte sequence a
 * terminal may send for it. Which one arrives depends on what the child asked of the terminal: a
 * plain single byte by default, a CSI-u sequence once the child enables the kitty keyboard
 * protocol (Claude Code does, on terminals that have it), or `CSI 27;…~` under xterm's
 * modifyOtherKeys. The host has to recognise all of them or the hotkey dies with the first child
 * that turns an enhancement on.
 */

/** A Unicode key code a CSI-u or modifyOtherKeys report may carry for the hotkey. */
export interface HotkeyKey {
  readonly code: number;
  /** Whether Shift may be reported too (Ctrl-^ is Ctrl-Shift-6 on a US layout). */
  readonly shiftAllowed: boolean;
}

export interface Hotkey {
  /** As given, e.g. `ctrl-]`. */
  readonly spec: string;
  /** For people, e.g. `Ctrl-]`. */
  readonly label: string;
  /** The byte a terminal sends with no keyboard enhancement (0x1d for Ctrl-]). */
  readonly legacyByte: number;
  /** Key codes that kitty / modifyOtherKeys reports may name, each with Ctrl held. */
  readonly keys: readonly HotkeyKey[];
}

/** What a complete CSI sequence means for the hotkey: a press, another event of it, or not it. */
export type HotkeyEvent = 'press' | 'repeat-or-release' | undefined;

// Letters whose control byte is another key's only byte: binding them would steal that key.
const RESERVED_LETTERS: Readonly<Record<string, string>> = {
  c: 'Ctrl-C, which interrupts',
  h: 'Backspace in many terminals',
  i: 'Tab',
  j: 'Enter (line feed)',
  m: 'Enter',
};

const PUNCTUATION: Readonly<Record<string, readonly HotkeyKey[]>> = {
  ']': [{ code: 0x5d, shiftAllowed: false }],
  '\\': [{ code: 0x5c, shiftAllowed: false }],
  // `^` and `_` are shifted keys on US layouts; terminals report them as 6 / minus with Shift.
  '^': [
    { code: 0x5e, shiftAllowed: true },
    { code: 0x36, shiftAllowed: true },
  ],
  _: [
    { code: 0x5f, shiftAllowed: true },
    { code: 0x2d, shiftAllowed: true },
  ],
};

const ACCEPTED_FORMS =
  'Use ctrl-<letter> (but not ctrl-c, ctrl-h, ctrl-i, ctrl-j or ctrl-m), ctrl-], ctrl-\\, ctrl-^ or ctrl-_, for example "ctrl-]".';

/** Parse `ctrl-]`, `Ctrl+A` and the like; throws naming the accepted forms for anything else. */
export function parseHotkey(spec: string): Hotkey {
  const match = /^\s*(?:ctrl|control)\s*[-+]\s*(\S)\s*$/i.exec(spec);
  const key = match?.[1];
  if (key === undefined) throw new Error(`Unsupported hotkey "${spec}". ${ACCEPTED_FORMS}`);

  const lower = key.toLowerCase();
  if (lower >= 'a' && lower <= 'z') {
    const reserved = RESERVED_LETTERS[lower];
    if (reserved !== undefined) {
      throw new Error(`Hotkey "${spec}" sends the same byte as ${reserved}. ${ACCEPTED_FORMS}`);
    }
    const code = lower.charCodeAt(0);
    return {
      spec,
      label: `Ctrl-${lower.toUpperCase()}`,
      legacyByte: code & 0x1f,
      keys: [{ code, shiftAllowed: false }],
    };
  }

  const keys = PUNCTUATION[key];
  if (keys === undefined) throw new Error(`Unsupported hotkey "${spec}". ${ACCEPTED_FORMS}`);
  return { spec, label: `Ctrl-${key}`, legacyByte: key.charCodeAt(0) & 0x1f, keys };
}

/**
 * The first parameters a CSI sequence for this hotkey can start with, as text: the key codes
 * (kitty, `CSI code;mods u`) and 27 (modifyOtherKeys, `CSI 27;mods;code ~`).
 */
export function hotkeyCsiLeads(hotkey: Hotkey): string[] {
  return [...new Set([...hotkey.keys.map((k) => String(k.code)), '27'])];
}

// Kitty modifier bits (value - 1): shift 1, alt 2, ctrl 4, super 8, hyper 16, meta 32, caps 64, num 128.
const SHIFT = 1;
const CTRL = 4;
const LOCKS = 64 | 128;

/**
 * Classify one complete CSI sequence, given the text between `ESC [` and its final byte (`u` or
 * `~`), as the hotkey or not. Lock keys are ignored; any modifier but Ctrl (and Shift where the
 * key allows it) makes it another chord.
 */
export function matchHotkeyCsi(hotkey: Hotkey, params: string, final: 'u' | '~'): HotkeyEvent {
  const fields = params.split(';');
  let code: number;
  let modsField: string | undefined;
  if (final === 'u') {
    // CSI code[:shifted[:base]] ; mods[:event] [; text] u
    code = Number((fields[0] ?? '').split(':')[0]);
    modsField = fields[1];
  } else {
    // CSI 27 ; mods ; code ~
    if (fields.length !== 3 || fields[0] !== '27') return undefined;
    code = Number(fields[2]);
    modsField = fields[1];
  }
  if (modsField === undefined || modsField === '') return undefined;
  const [modsText = '', eventText] = modsField.split(':');
  const mods = Number(modsText) - 1;
  if (!Number.isInteger(code) || !Number.isInteger(mods) || mods < 0) return undefined;

  const key = hotkey.keys.find((k) => k.code === code);
  if (key === undefined) return undefined;
  const held = mods & ~LOCKS;
  const allowed = key.shiftAllowed ? CTRL | SHIFT : CTRL;
  if ((held & CTRL) === 0 || (held & ~allowed) !== 0) return undefined;

  if (final === '~' || eventText === undefined || eventText === '' || eventText === '1') return 'press';
  return 'repeat-or-release';
}
