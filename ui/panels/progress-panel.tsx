/**
 * Work that takes a while before a backend serves: a venv install, a model download, a server
 * loading its model, a cache warm-up. Each gets a spinner, its elapsed time and, dimmed, the last
 * lines it printed, because "pip is still downloading torch" is the difference between waiting
 * and giving up. A download gets a bar: percent, bytes, rate, ETA, and what an earlier run left.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { DownloadView, ProgressView, RunState, WarmupView } from '../../src/run/run-state.js';
import { Busy } from '../busy.js';
import { Line } from '../cells.js';
import { useClock } from '../clock.js';
import { downloadPercent, fitItems, formatBytes, formatDuration, formatElapsed, plainLine } from '../format.js';
import { LABEL_WIDTH, type Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';

/** Output lines shown under one step at most. */
const OUTPUT_LINES = 4;

const STEP: Record<ProgressView['step'], string> = {
  install: 'installing',
  download: 'downloading',
  start: 'starting',
  warm: 'warming the prompt cache',
};

export function progressDemand(state: RunState): Demand {
  const steps = state.progress.length;
  const bars = state.progress.filter(hasBar).length;
  const output = state.progress.reduce((n, p) => n + Math.min(OUTPUT_LINES, p.lines.length), 0);
  return { min: Math.min(steps + bars, 2), want: steps + bars + output + (showWarmups(state) ? 1 : 0) };
}

/** A download whose size is known gets a bar line (while it asks the Hub, its step line says so). */
function hasBar(p: ProgressView): p is ProgressView & { download: DownloadView } {
  return p.download !== undefined && p.download.totalBytes !== undefined;
}

/** Cells of a bar: at least this many, at most that many. */
const BAR_MIN = 10;
const BAR_MAX = 30;

/**
 * A download's bar line, without the indent: `█████░░░░░  52%  9.0 GB / 17.2 GB  85.3 MB/s  ETA 1m 36s  resumed, 4.1 GB kept`.
 * What does not fit in `width` goes first: the rate, then what was kept, then the ETA.
 */
export function downloadLine(d: DownloadView, width: number): { bar: string; text: string } {
  const total = d.totalBytes ?? 0;
  const running = d.phase === 'downloading' || d.phase === 'planning';
  const items = [
    { text: downloadPercent(d.doneBytes, d.totalBytes).padStart(4), drop: 0 },
    { text: d.phase === 'done' ? `${formatBytes(total)} downloaded` : `${formatBytes(d.doneBytes)} / ${formatBytes(total)}`, drop: 1 },
    ...(running && d.bytesPerSecond !== undefined ? [{ text: `${formatBytes(d.bytesPerSecond)}/s`, drop: 4 }] : []),
    ...(running && d.etaSeconds !== undefined ? [{ text: `ETA ${formatDuration(d.etaSeconds * 1000)}`, drop: 2 }] : []),
    ...(d.resumedBytes > 0 ? [{ text: `resumed, ${formatBytes(d.resumedBytes)} kept`, drop: 3 }] : []),
    ...(d.phase === 'failed' ? [{ text: 'failed', drop: 0 }] : d.phase === 'cancelled' ? [{ text: 'stopped: run again to resume', drop: 0 }] : []),
  ];
  const kept = fitItems(items, Math.max(0, width - BAR_MIN - 1), '  ');
  const text = kept.map((i) => i.text).join('  ');
  const cells = Math.max(BAR_MIN, Math.min(BAR_MAX, width - text.length - 1));
  const fraction = total > 0 ? Math.min(1, d.doneBytes / total) : 0;
  const full = Math.floor(fraction * cells);
  return { bar: '█'.repeat(full) + '░'.repeat(cells - full), text };
}

function DownloadBar({ download, width }: { download: DownloadView; width: number }): ReactNode {
  const { bar, text } = downloadLine(download, width - 2);
  const tone = download.phase === 'failed' || download.phase === 'cancelled' ? { color: 'red' } : { color: download.phase === 'done' ? 'green' : 'cyan' };
  return (
    <Line width={width}>
      <Text {...tone}>{`  ${bar}`}</Text>
      <Text>{` ${text}`}</Text>
    </Line>
  );
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
  // A bar is worth more than a line of output: shared out first, in order.
  const bars = steps.map((p) => {
    if (!hasBar(p) || left <= 0) return false;
    left--;
    return true;
  });
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
          {bars[i] === true && p.download !== undefined ? <DownloadBar download={p.download} width={width} /> : null}
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
