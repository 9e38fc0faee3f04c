/**
 * Work that takes a while before a backend serves: a venv install, a server loading its model,
 * a cache warm-up. Each gets a spinner, its elapsed time and, dimmed, the last lines it printed,
 * because "pip is still downloading torch" is the difference between waiting and giving up.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { ProgressView, RunState, WarmupView } from '../../src/run/run-state.js';
import { Busy } from '../busy.js';
import { Line } from '../cells.js';
import { useClock } from '../clock.js';
import { formatDuration, formatElapsed, plainLine } from '../format.js';
import { LABEL_WIDTH, type Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';

/** Output lines shown under one step at most. */
const OUTPUT_LINES = 4;

const STEP: Record<ProgressView['step'], string> = {
  install: 'installing',
  start: 'starting',
  warm: 'warming the prompt cache',
};

export function progressDemand(state: RunState): Demand {
  const steps = state.progress.length;
  const output = state.progress.reduce((n, p) => n + Math.min(OUTPUT_LINES, p.lines.length), 0);
  return { min: Math.min(steps, 2), want: steps + output + (showWarmups(state) ? 1 : 0) };
}

/** Warm-ups are news while one runs or after one failed; a line of "done" is not worth a request row. */
function showWarmups(state: RunState): boolean {
  return state.warmups.some((w) => w.phase === 'warming' || w.phase === 'failed');
}

/** How many output lines each step shows in `lines`: shared out one at a time, in order. */
export function shareOutput(counts: readonly number[], lines: number): number[] {
  const shown = counts.map(() => 0);
  let left = lines;
  let gave = true;
  while (gave && left > 0) {
    gave = false;
    for (let i = 0; i < counts.length && left > 0; i++) {
      if (shown[i]! >= Math.min(OUTPUT_LINES, counts[i]!)) continue;
      shown[i]!++;
      left--;
      gave = true;
    }
  }
  return shown;
}

export interface ProgressPanelProps {
  state: RunState;
  width: number;
  height: number;
  /** The time elapsed times are counted to; omitted: the dashboard's clock. */
  now?: number;
}

/** "  14s" since `since`: re-rendered by the clock only when the seconds it shows change. */
function Elapsed({ since, now }: { since: number; now: number | undefined }): ReactNode {
  return <Text dimColor>{useClock((clock) => `  ${formatElapsed(since, now ?? clock)}`)}</Text>;
}

function Progress({ state, width, height, now }: ProgressPanelProps): ReactNode {
  if (height <= 0) return null;
  const steps = state.progress.slice(0, height);
  let left = height - steps.length;
  const warmups = showWarmups(state) && left > 0;
  if (warmups) left--;
  const output = shareOutput(
    steps.map((p) => p.lines.length),
    left,
  );
  return (
    <Box flexDirection="column" width={width}>
      {steps.map((p, i) => (
        <Box key={`${p.backend}-${p.step}`} flexDirection="column" width={width}>
          <Line width={width}>
            <Busy />
            <Text color="yellow">{` ${p.backend} ${STEP[p.step]}`}</Text>
            <Text>{p.detail ? `: ${plainLine(p.detail)}` : ''}</Text>
            <Elapsed since={p.startedAt} now={now} />
          </Line>
          {p.lines.slice(p.lines.length - output[i]!).map((line, j) => (
            <Line key={j} width={width} tone={{ dimColor: true }}>
              {'  ' + plainLine(line)}
            </Line>
          ))}
        </Box>
      ))}
      {warmups ? <WarmupLine warmups={state.warmups} width={width} /> : null}
    </Box>
  );
}

/** What it reads: the steps under way and the warm-ups. */
export const ProgressPanel = memoOn(Progress, ({ state, width, height, now }) => [state.progress, state.warmups, width, height, now]);

const WARMUP_TONE: Record<WarmupView['phase'], { color?: string; dimColor?: boolean }> = {
  warming: { color: 'yellow' },
  done: { color: 'green' },
  failed: { color: 'red' },
  skipped: { dimColor: true },
};

function warmupText(w: WarmupView): string {
  const took = w.ms === undefined ? '' : ` in ${formatDuration(w.ms)}`;
  const detail = w.detail ? `: ${plainLine(w.detail)}` : '';
  if (w.phase === 'warming') return `${w.backend} warming…`;
  return `${w.backend} ${w.phase}${took}${detail}`;
}

/** Cache warm-ups of all backends on one line: they are short, and usually just "done". */
function WarmupLine({ warmups, width }: { warmups: readonly WarmupView[]; width: number }): ReactNode {
  return (
    <Line width={width}>
      <Text bold>{'Warm-up'.padEnd(LABEL_WIDTH - 1)}</Text>
      {warmups.map((w, i) => (
        <Text key={w.backend} {...WARMUP_TONE[w.phase]}>
          {(i > 0 ? ' · ' : ' ') + warmupText(w)}
        </Text>
      ))}
    </Line>
  );
}
