/** A model download on the startup screen and the dashboard: the bar, bytes, rate, ETA, and a resumed download. */
import { createElement as h } from 'react';
import { describe, expect, it } from 'vitest';
import { emptyRunState, type DownloadView, type ProgressView, type RunState } from '../../src/run/run-state.js';
import { downloadPercent, formatBytes } from '../../ui/format.js';
import { downloadLine, ProgressPanel, progressDemand } from '../../ui/panels/progress-panel.js';
import { renderDashboard, renderOnce } from './render-dashboard.js';
import { backend, NOW } from './states.js';

const QWEN = 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit';
const TOTAL = 17_200_000_000;

function download(overrides: Partial<DownloadView> = {}): DownloadView {
  return {
    label: 'Qwen3-Coder-30B',
    repo: QWEN,
    phase: 'downloading',
    totalBytes: TOTAL,
    doneBytes: 0,
    resumedBytes: 0,
    bytesPerSecond: undefined,
    etaSeconds: undefined,
    file: undefined,
    filesDone: 0,
    filesTotal: 7,
    startedAt: NOW - 96_000,
    ...overrides,
  };
}

/** `up` with mlx-lm fetching Qwen3-Coder-30B: the entry run.ts keeps in the state. */
function downloading(d: DownloadView, step: ProgressView['step'] = 'download'): RunState {
  const detail = step === 'download' ? 'Qwen3-Coder-30B' : 'loading Qwen3-Coder-30B';
  return emptyRunState({
    pid: 4242,
    startedAt: NOW - 100_000,
    phase: 'starting',
    phaseDetail: 'starting mlx-lm',
    backends: [backend('mlx-lm', { phase: 'starting', active: true, managed: true, model: QWEN })],
    progress: [{ backend: 'mlx-lm', step, detail, startedAt: step === 'download' ? d.startedAt : NOW - 3_000, lines: [], download: d }],
  });
}

const START = download({ doneBytes: 0, startedAt: NOW - 1_000 });
const MID = download({ doneBytes: 8_944_000_000, bytesPerSecond: 85_300_000, etaSeconds: 96.8, file: 'model-00004-of-00007.safetensors', filesDone: 3 });
const RESUMED = download({ doneBytes: 12_000_000_000, resumedBytes: 4_100_000_000, bytesPerSecond: 52_000_000, etaSeconds: 100 });
const DONE = download({ phase: 'done', doneBytes: TOTAL, resumedBytes: 4_100_000_000, bytesPerSecond: 61_000_000, etaSeconds: 0, filesDone: 7 });

/** The panel's lines, its spinner (which turns with the clock) written as `*`. */
async function panel(state: RunState, width = 80, height = 4): Promise<string[]> {
  const { lines } = await renderOnce(h(ProgressPanel, { state, width, height, now: NOW }));
  return lines.map((line) => line.replace(/^[^ ] /, '* '));
}

describe('the download bar', () => {
  it('starts empty, with the size the Hub gave', async () => {
    expect(await panel(downloading(START))).toEqual([
      '* mlx-lm downloading: Qwen3-Coder-30B  1.0s',
      '  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░   0%  0 B / 17.2 GB',
    ]);
  });

  it('fills with bytes, rate and ETA as it goes', async () => {
    expect(await panel(downloading(MID))).toEqual([
      '* mlx-lm downloading: Qwen3-Coder-30B  1m 36s',
      '  ███████████████░░░░░░░░░░░░░░░  52%  8.9 GB / 17.2 GB  85.3 MB/s  ETA 1m 37s',
    ]);
  });

  it('says what an earlier run left, and gives up the rate before that on 80 columns', async () => {
    expect(await panel(downloading(RESUMED))).toEqual([
      '* mlx-lm downloading: Qwen3-Coder-30B  1m 36s',
      '  █████████████░░░░░░░  69%  12.0 GB / 17.2 GB  ETA 1m 40s  resumed, 4.1 GB kept',
    ]);
    expect((await panel(downloading(RESUMED), 100))[1]).toBe('  ████████████████████░░░░░░░░░  69%  12.0 GB / 17.2 GB  52.0 MB/s  ETA 1m 40s  resumed, 4.1 GB kept');
  });

  it('stays, full, while the server loads what it fetched', async () => {
    expect(await panel(downloading(DONE, 'start'))).toEqual([
      '* mlx-lm starting: loading Qwen3-Coder-30B  3.0s',
      '  ██████████████████████████████ 100%  17.2 GB downloaded  resumed, 4.1 GB kept',
    ]);
  });

  it('keeps percent and bytes on a narrow terminal, and the step line before the bar when only one fits', async () => {
    const narrow = await panel(downloading(MID), 40);
    expect(narrow).toEqual(['* mlx-lm downloading: Qwen3-Coder-30B  …', '  ███████░░░░░░░░  52%  8.9 GB / 17.2 GB']);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(40);
    expect(await panel(downloading(MID), 80, 1)).toEqual(['* mlx-lm downloading: Qwen3-Coder-30B  1m 36s']);
  });

  it('asks for a line for the bar once the size is known', () => {
    expect(progressDemand(downloading(MID))).toEqual({ min: 2, want: 2 });
    expect(progressDemand(downloading(download({ phase: 'planning', totalBytes: undefined })))).toEqual({ min: 1, want: 1 });
  });

  it('says a stopped download resumes', () => {
    expect(downloadLine(download({ phase: 'cancelled', doneBytes: 4_100_000_000 }), 78).text).toBe(' 23%  4.1 GB / 17.2 GB  stopped: run again to resume');
  });
});

describe('byte formats', () => {
  it('writes decimal units with one decimal below 100, as the Hub does', () => {
    expect([0, 999, 12_000, 850_000_000, 9_000_000_000, 17_200_000_000, 99_960_000_000, 270_000_000_000].map(formatBytes)).toEqual(['0 B', '999 B', '12.0 kB', '850 MB', '9.0 GB', '17.2 GB', '100 GB', '270 GB']);
    expect(formatBytes(undefined)).toBe('–');
  });

  it('never shows 100 % before the last byte', () => {
    expect(downloadPercent(17_199_999_999, TOTAL)).toBe('99%');
    expect(downloadPercent(TOTAL, TOTAL)).toBe('100%');
    expect(downloadPercent(0, undefined)).toBe('–');
  });
});

describe('the dashboard while up downloads', () => {
  it('shows the bar under the step on the startup screen', async () => {
    const r = await renderDashboard(downloading(MID), { columns: 80, rows: 24 });
    const lines = r.text().split('\n');
    const at = lines.findIndex((l) => l.includes('mlx-lm downloading: Qwen3-Coder-30B'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toBe('  ███████████████░░░░░░░░░░░░░░░  52%  8.9 GB / 17.2 GB  85.3 MB/s  ETA 1m 37s');
    r.unmount();
  });
});
