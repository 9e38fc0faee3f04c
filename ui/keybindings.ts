/**
 * Every key the dashboard understands, in one table: the input handler matches against it and
 * the help line is written from it, so the two cannot disagree.
 */
import type { Key } from 'ink';
import { fitItems } from './format.js';

/** `dashboard`: the normal view. `models`: the model list of one backend is open. */
export type KeyScope = 'dashboard' | 'models';

export type ActionId =
  | 'switch-number'
  | 'select-up'
  | 'select-down'
  | 'switch-selected'
  | 'choose-model'
  | 'toggle-logs'
  | 'leave'
  | 'pick-model'
  | 'cancel';

/** The fields of Ink's Key that bindings look at (tests build these by hand). */
export type KeyPress = Pick<Key, 'upArrow' | 'downArrow' | 'return' | 'escape' | 'ctrl' | 'meta'>;

export interface KeyBinding {
  scope: KeyScope;
  /** How the key is written in the help line. */
  keys: string;
  action: ActionId;
  help: string;
  /** Higher is dropped first from the help line when the terminal is narrow. */
  drop: number;
  matches(input: string, key: KeyPress): boolean;
}

const plain = (char: string) => (input: string, key: KeyPress) => input === char && !key.ctrl && !key.meta;

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { scope: 'dashboard', keys: '1-9', action: 'switch-number', help: 'switch', drop: 1, matches: (input, key) => /^[1-9]$/.test(input) && !key.ctrl && !key.meta },
  { scope: 'dashboard', keys: '↑↓', action: 'select-up', help: 'select', drop: 3, matches: (_input, key) => key.upArrow },
  // Listed once in the help line (with ↑), matched on its own.
  { scope: 'dashboard', keys: '', action: 'select-down', help: '', drop: 3, matches: (_input, key) => key.downArrow },
  { scope: 'dashboard', keys: 'enter', action: 'switch-selected', help: 'switch', drop: 5, matches: (_input, key) => key.return },
  { scope: 'dashboard', keys: 'm', action: 'choose-model', help: 'model', drop: 2, matches: plain('m') },
  { scope: 'dashboard', keys: 'l', action: 'toggle-logs', help: 'logs', drop: 4, matches: plain('l') },
  // Ink reports a lone escape with meta set, so escape is matched before the `plain` filter.
  { scope: 'dashboard', keys: 'q', action: 'leave', help: 'leave', drop: 0, matches: (input, key) => key.escape || plain('q')(input, key) },
  { scope: 'models', keys: '↑↓', action: 'select-up', help: 'select', drop: 2, matches: (_input, key) => key.upArrow },
  { scope: 'models', keys: '', action: 'select-down', help: '', drop: 2, matches: (_input, key) => key.downArrow },
  { scope: 'models', keys: 'enter', action: 'pick-model', help: 'use this model', drop: 0, matches: (_input, key) => key.return },
  { scope: 'models', keys: 'esc', action: 'cancel', help: 'cancel', drop: 1, matches: (input, key) => key.escape || plain('q')(input, key) },
];

export type KeyMatch = { action: 'switch-number'; index: number } | { action: Exclude<ActionId, 'switch-number'> };

/** The action a key press means in `scope`, or undefined for keys the dashboard ignores. */
export function matchKey(input: string, key: KeyPress, scope: KeyScope = 'dashboard'): KeyMatch | undefined {
  const binding = KEY_BINDINGS.find((b) => b.scope === scope && b.matches(input, key));
  if (binding === undefined) return undefined;
  if (binding.action === 'switch-number') return { action: 'switch-number', index: Number(input) - 1 };
  return { action: binding.action };
}

/**
 * "1-9 switch · ↑↓ select · … · Ctrl-] back to Claude Code", as much of it as fits in `width`.
 * The hotkey is named only when there is a Claude Code to go back to.
 */
export function helpLine(scope: KeyScope, width: number, hotkey: string | undefined): string {
  const items = KEY_BINDINGS.filter((b) => b.scope === scope && b.keys !== '').map((b) => ({ text: `${b.keys} ${b.help}`, drop: b.drop }));
  if (hotkey !== undefined && scope === 'dashboard') items.push({ text: `${hotkey} back to Claude Code`, drop: -1 });
  return fitItems(items, width, ' · ')
    .map((item) => item.text)
    .join(' · ');
}
