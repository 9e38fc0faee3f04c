/**
 * Recent requests, newest first, one line each. The columns are a table of their own: wider
 * terminals get time to first token, decode rate and cache share too; the model and the stop
 * reason (or error) take what is left, and are cut rather than wrapped.
 */
import type { ReactNode } from 'react';
import { Box } from 'ink';
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import type { RunState } from '../../src/run/run-state.js';
import { Cells, type Cell } from '../cells.js';
import { clockTime, formatDuration, formatPercent, formatRate, formatTokens, shortModel, UNKNOWN } from '../format.js';
import { cachedShare } from '../insights.js';
import type { Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';
import type { Tone } from '../theme.js';

interface Column {
  title: string;
  width: number;
  /** Shown from this table width on. */
  from: number;
  value(r: RequestMetrics): string;
}

const DIM: Tone = { dimColor: true };

/** Between time and the stop reason, in display order. */
const NUMBERS: readonly Column[] = [
  { title: 'in', width: 6, from: 0, value: (r) => (r.promptTokens === undefined ? `~${formatTokens(r.estimatedPromptTokens)}` : formatTokens(r.promptTokens)) },
  { title: 'cached', width: 6, from: 0, value: (r) => formatTokens(r.cachedTokens) },
  { title: 'hit', width: 5, from: 130, value: (r) => formatPercent(cachedShare(r)) },
  { title: 'out', width: 5, from: 0, value: (r) => formatTokens(r.outputTokens) },
  { title: 'TTFT', width: 6, from: 96, value: (r) => formatDuration(r.ttftMs) },
  { title: 'tok/s', width: 5, from: 96, value: (r) => formatRate(r.decodeTokensPerSec) },
  { title: 'took', width: 6, from: 0, value: (r) => formatDuration(r.totalMs) },
];

const TIME_WIDTH = 8;
/** The stop reason column gets at least this much before the model column grows. */
const OUTCOME_WIDTH = 19;

export function requestsDemand(state: RunState): Demand {
  if (state.requests.length === 0) return { min: 0, want: 0 };
  return { min: 2, want: 1 + state.requests.length };
}

function outcome(r: RequestMetrics): { text: string; tone: Tone } {
  if (r.error !== undefined) return { text: r.error, tone: { color: 'red' } };
  if (r.clientAborted) return { text: 'aborted by Claude Code', tone: { color: 'yellow' } };
  if (r.stopReason === 'max_tokens') return { text: 'max_tokens', tone: { color: 'yellow' } };
  return { text: r.stopReason ?? UNKNOWN, tone: DIM };
}

function Requests({ state, width, height }: { state: RunState; width: number; height: number }): ReactNode {
  if (height <= 0 || state.requests.length === 0) return null;
  const columns = NUMBERS.filter((c) => width >= c.from);
  const fixed = TIME_WIDTH + 1 + columns.reduce((n, c) => n + c.width + 1, 0);
  const modelWidth = Math.max(10, Math.min(40, width - fixed - 1 - OUTCOME_WIDTH));
  const header: Cell[] = [
    { text: 'Requests', width: TIME_WIDTH, bold: true, tone: { color: 'blue' } },
    { text: `backend · model (${state.requests.length})`, width: modelWidth, tone: DIM },
    ...columns.map((c): Cell => ({ text: c.title, width: c.width, align: 'right', tone: DIM })),
    { text: 'stop', tone: DIM },
  ];
  const rows = [...state.requests].reverse().slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width}>
      <Cells width={width} cells={header} />
      {rows.map((r) => {
        const end = outcome(r);
        const model = shortModel(r.model, Math.max(4, modelWidth - r.upstream.length - 3));
        return (
          <Cells
            key={r.id}
            width={width}
            cells={[
              { text: clockTime(r.startedAt), width: TIME_WIDTH, tone: DIM },
              { text: `${r.upstream} · ${model}`, width: modelWidth, tone: r.error === undefined ? {} : { color: 'red' } },
              ...columns.map((c): Cell => ({ text: c.value(r), width: c.width, align: 'right' })),
              { text: end.text, tone: end.tone },
            ]}
          />
        );
      })}
    </Box>
  );
}

/** What it reads: the finished requests. */
export const RequestsPanel = memoOn(Requests, ({ state, width, height }) => [state.requests, width, height]);
