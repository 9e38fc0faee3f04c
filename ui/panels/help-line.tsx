/** The bottom line: the keys of the current view, written from the keybinding table. */
import type { ReactNode } from 'react';
import type { RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { helpLine, type KeyScope } from '../keybindings.js';
import { memoOn } from '../memo-on.js';

/** The hotkey back to Claude Code, when there is a hosted Claude Code to go back to. */
export function backHotkey(state: RunState): string | undefined {
  return state.claude.hosted && state.claude.state !== 'exited' ? state.hotkey : undefined;
}

function Help({ state, scope, width }: { state: RunState; scope: KeyScope; width: number }): ReactNode {
  return (
    <Line width={width} tone={{ dimColor: true }}>
      {helpLine(scope, width, backHotkey(state))}
    </Line>
  );
}

/** What it reads: whether there is a Claude Code to go back to, and the hotkey. */
export const HelpLine = memoOn(Help, ({ state, scope, width }) => [state.claude, state.hotkey, scope, width]);
