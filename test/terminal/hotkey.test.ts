import { describe, expect, it } from 'vitest';
import { hotkeyCsiLeads, matchHotkeyCsi, parseHotkey } from '../../src/terminal/hotkey.js';

describe('parseHotkey', () => {
  it('reads ctrl-] with its label, legacy byte and key code', () => {
    const hotkey = parseHotkey('ctrl-]');
    expect(hotkey.label).toBe('Ctrl-]');
    expect(hotkey.legacyByte).toBe(0x1d);
    expect(hotkey.keys).toEqual([{ code: 93, shiftAllowed: false }]);
  });

  it.each([
    ['ctrl-a', 'Ctrl-A', 0x01],
    ['Ctrl+Z', 'Ctrl-Z', 0x1a],
    ['CTRL-g', 'Ctrl-G', 0x07],
    ['ctrl-\\', 'Ctrl-\\', 0x1c],
    ['ctrl-^', 'Ctrl-^', 0x1e],
    ['ctrl-_', 'Ctrl-_', 0x1f],
    [' control-] ', 'Ctrl-]', 0x1d],
  ])('reads %j', (spec, label, byte) => {
    const hotkey = parseHotkey(spec);
    expect(hotkey.label).toBe(label);
    expect(hotkey.legacyByte).toBe(byte);
  });

  it.each(['alt-x', 'ctrl-', 'ctrl-ab', 'ctrl-1', 'ctrl-[', 'f12', '', 'shift-a', 'ctrl-@'])('rejects %j naming the accepted forms', (spec) => {
    expect(() => parseHotkey(spec)).toThrow(/Use ctrl-<letter> .*ctrl-\], ctrl-\\, ctrl-\^ or ctrl-_/);
  });

  it.each([
    ['ctrl-c', /Ctrl-C, which interrupts/],
    ['ctrl-m', /Enter/],
    ['ctrl-i', /Tab/],
    ['ctrl-h', /Backspace/],
    ['ctrl-j', /Enter/],
  ])('rejects %j, which would steal another key', (spec, reason) => {
    expect(() => parseHotkey(spec)).toThrow(reason);
  });
});

describe('matchHotkeyCsi', () => {
  const bracket = parseHotkey('ctrl-]');

  it.each([
    ['93;5', 'u', 'press'],
    ['93;5:1', 'u', 'press'],
    ['93;5:2', 'u', 'repeat-or-release'],
    ['93;5:3', 'u', 'repeat-or-release'],
    ['93:125;5', 'u', 'press'], // with an alternate key
    ['93;5;29', 'u', 'press'], // with associated text
    ['93;69', 'u', 'press'], // Caps Lock
    ['93;133', 'u', 'press'], // Num Lock
    ['27;5;93', '~', 'press'],
  ] as const)('takes CSI %s %s as the hotkey (%s)', (params, final, expected) => {
    expect(matchHotkeyCsi(bracket, params, final)).toBe(expected);
  });

  it.each([
    ['93;1', 'u'], // no Ctrl
    ['93;6', 'u'], // Ctrl-Shift
    ['93;7', 'u'], // Ctrl-Alt
    ['93', 'u'],
    ['94;5', 'u'],
    ['27;5;94', '~'],
    ['27;5', '~'],
    ['93;5', '~'],
    ['', 'u'],
  ] as const)('does not take CSI %s %s', (params, final) => {
    expect(matchHotkeyCsi(bracket, params, final)).toBeUndefined();
  });

  it('lets Shift through for keys that need it on common layouts', () => {
    const caret = parseHotkey('ctrl-^');
    expect(matchHotkeyCsi(caret, '54;6', 'u')).toBe('press'); // Ctrl-Shift-6
    expect(matchHotkeyCsi(caret, '94;5', 'u')).toBe('press');
    expect(matchHotkeyCsi(caret, '27;6;94', '~')).toBe('press');
    expect(matchHotkeyCsi(parseHotkey('ctrl-a'), '97;6', 'u')).toBeUndefined();
  });

  it('lists the first parameters a hotkey sequence can start with', () => {
    expect(hotkeyCsiLeads(bracket).sort()).toEqual(['27', '93']);
  });
});
