/**
 * The tail of a log: anyclaude's own (levels coloured) or the active backend's server output,
 * toggled with `l`. Newest at the bottom, as in a terminal.
 */
import type { ReactNode } from 'react';
import { Box } from 'ink';
import type { LogLine, RunState } from '../../src/run/run-state.js';
import { Cells, Line, Title } from '../cells.js';
import { clockTime, plainLine } from '../format.js';
import type { Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';
import { LEVEL_TONE } from '../theme.js';

/** `anyclaude`: state.logs. `backend`: state.backendLog, the active backend's server. */
export type LogSource = 'anyclaude' | 'backend';

export function logsDemand(state: RunState, source: LogSource): Demand {
  const count = source === 'anyclaude' ? state.logs.length : state.backendLog.length;
  return { min: 2, want: 1 + Math.max(1, count) };
}

function Logs({ state, width, height, source }: { state: RunState; width: number; height: number; source: LogSource }): ReactNode {
  if (height <= 0) return null;
  const active = state.backends.find((b) => b.id === state.active);
  const backendName = active ? `${active.id} server` : 'backend server';
  const title = source === 'anyclaude' ? 'Log · anyclaude' : `Log · ${backendName}`;
  const other = source === 'anyclaude' ? `l: ${backendName} log` : 'l: anyclaude log';
  const tail = Math.max(0, height - 1);
  return (
    <Box flexDirection="column" width={width}>
      <Title text={title} note={other} width={width} />
      {source === 'anyclaude' ? <OwnLog lines={tail > 0 ? state.logs.slice(-tail) : []} tail={tail} width={width} /> : null}
      {source === 'backend' ? <ServerLog lines={tail > 0 ? state.backendLog.slice(-tail) : []} tail={tail} width={width} empty={emptyServerLog(state)} /> : null}
    </Box>
  );
}

/** What it reads: the log shown, and the active backend (its name, whether anyclaude started it). */
export const LogsPanel = memoOn(Logs, ({ state, width, height, source }) => [source === 'anyclaude' ? state.logs : state.backendLog, state.backends, state.active, source, width, height]);

function emptyServerLog(state: RunState): string {
  const active = state.backends.find((b) => b.id === state.active);
  if (active === undefined) return 'no backend is active';
  if (!active.managed) return `${active.id} was not started by anyclaude: its log is wherever it runs`;
  return `${active.id} has printed nothing yet`;
}

function OwnLog({ lines, tail, width }: { lines: readonly LogLine[]; tail: number; width: number }): ReactNode {
  if (tail <= 0) return null;
  if (lines.length === 0)
    return (
      <Line width={width} tone={{ dimColor: true }}>
        nothing logged yet
      </Line>
    );
  const sourceWidth = Math.min(12, Math.max(...lines.map((l) => l.source.length)));
  return lines.map((l, i) => (
    <Cells
      key={i}
      width={width}
      cells={[
        { text: clockTime(l.at), width: 8, tone: { dimColor: true } },
        { text: l.level, width: 5, tone: LEVEL_TONE[l.level] },
        { text: l.source, width: sourceWidth, tone: { dimColor: true } },
        { text: plainLine(l.message), tone: l.level === 'info' ? {} : LEVEL_TONE[l.level] },
      ]}
    />
  ));
}

function ServerLog({ lines, tail, width, empty }: { lines: readonly string[]; tail: number; width: number; empty: string }): ReactNode {
  if (tail <= 0) return null;
  if (lines.length === 0)
    return (
      <Line width={width} tone={{ dimColor: true }}>
        {empty}
      </Line>
    );
  return lines.map((line, i) => (
    <Line key={i} width={width}>
      {plainLine(line) || ' '}
    </Line>
  ));
}
