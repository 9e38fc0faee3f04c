/** One table drives both what keys do and what the help line says. */
import { describe, expect, it } from 'vitest';
import { helpLine, KEY_BINDINGS, matchKey, type KeyPress } from '../../ui/keybindings.js';

const none: KeyPress = { upArrow: false, downArrow: false, return: false, escape: false, ctrl: false, meta: false };
const key = (overrides: Partial<KeyPress>): KeyPress => ({ ...none, ...overrides });

describe('matchKey', () => {
  it('turns a digit into switching to that backend (counted from 1)', () => {
    expect(matchKey('1', none)).toEqual({ action: 'switch-number', index: 0 });
    expect(matchKey('9', none)).toEqual({ action: 'switch-number', index: 8 });
    expect(matchKey('0', none)).toBeUndefined();
  });

  it('knows arrows, enter, m, l, q and esc on the dashboard', () => {
    expect(matchKey('', key({ upArrow: true }))).toEqual({ action: 'select-up' });
    expect(matchKey('', key({ downArrow: true }))).toEqual({ action: 'select-down' });
    expect(matchKey('\r', key({ return: true }))).toEqual({ action: 'switch-selected' });
    expect(matchKey('m', none)).toEqual({ action: 'choose-model' });
    expect(matchKey('l', none)).toEqual({ action: 'toggle-logs' });
    expect(matchKey('q', none)).toEqual({ action: 'leave' });
    // Ink reports a lone escape with meta set.
    expect(matchKey('', key({ escape: true, meta: true }))).toEqual({ action: 'leave' });
  });

  it('ignores letters typed with ctrl or meta, and keys it does not know', () => {
    expect(matchKey('q', key({ ctrl: true }))).toBeUndefined();
    expect(matchKey('m', key({ meta: true }))).toBeUndefined();
    expect(matchKey('2', key({ ctrl: true }))).toBeUndefined();
    expect(matchKey('x', none)).toBeUndefined();
  });

  it('in the model list, enter picks and esc cancels instead of leaving', () => {
    expect(matchKey('\r', key({ return: true }), 'models')).toEqual({ action: 'pick-model' });
    expect(matchKey('', key({ escape: true, meta: true }), 'models')).toEqual({ action: 'cancel' });
    expect(matchKey('', key({ downArrow: true }), 'models')).toEqual({ action: 'select-down' });
    expect(matchKey('2', none, 'models')).toBeUndefined();
    expect(matchKey('m', none, 'models')).toBeUndefined();
  });
});

describe('helpLine', () => {
  it('names every key of the table that has a label, and the hotkey back to Claude Code', () => {
    const line = helpLine('dashboard', 200, 'Ctrl-]');
    for (const b of KEY_BINDINGS.filter((b) => b.scope === 'dashboard' && b.keys !== '')) expect(line).toContain(`${b.keys} ${b.help}`);
    expect(line).toBe('1-9 switch · ↑↓ select · enter switch · m model · l logs · q leave · Ctrl-] back to Claude Code');
  });

  it('says nothing of the hotkey when there is no Claude Code to go back to', () => {
    expect(helpLine('dashboard', 200, undefined)).not.toContain('Claude Code');
  });

  it('fits the width by dropping the least needed keys, never the hotkey or q', () => {
    for (const width of [80, 60, 40]) {
      const line = helpLine('dashboard', width, 'Ctrl-]');
      expect(line.length).toBeLessThanOrEqual(width);
      expect(line).toContain('Ctrl-] back to Claude Code');
    }
    expect(helpLine('dashboard', 80, 'Ctrl-]')).toBe('1-9 switch · ↑↓ select · m model · l logs · q leave · Ctrl-] back to Claude Code');
    expect(helpLine('dashboard', 60, undefined)).toContain('q leave');
  });

  it('shows the model list keys while the list is open', () => {
    expect(helpLine('models', 80, 'Ctrl-]')).toBe('↑↓ select · enter use this model · esc cancel');
  });
});
