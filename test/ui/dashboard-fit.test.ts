/**
 * The whole dashboard fits the terminal: at most rows − 1 lines (Ink redraws the whole screen
 * when a frame is as tall as the terminal) and no line wider than the terminal, in every state.
 */
import { describe, expect, it } from 'vitest';
import type { RunState } from '../../src/run/run-state.js';
import { renderDashboard, renderFrame } from './render-dashboard.js';
import { contextState, crashedState, emptyState, evictedState, noCacheReportState, overflowState, promptChangedState, readyState, startingState } from './states.js';

const STATES: Record<string, () => RunState> = {
  empty: emptyState,
  starting: startingState,
  ready: readyState,
  crashed: crashedState,
  overflow: overflowState,
  'context 80%': () => contextState(0.8),
  'context 95%': () => contextState(0.95),
  evicted: evictedState,
  'prompt changed': promptChangedState,
  'no cache report': noCacheReportState,
};

function expectFits(lines: string[], columns: number, rows: number): void {
  expect(lines.length).toBeLessThanOrEqual(rows - 1);
  for (const line of lines) expect(line.length, `"${line}"`).toBeLessThanOrEqual(columns);
}

describe('the dashboard fits the terminal', () => {
  // Sizes ink-testing-library can show (it is 100 columns wide), rendered live.
  for (const [columns, rows] of [[80, 24], [100, 30], [60, 15]] as const)
    for (const [name, state] of Object.entries(STATES))
      it(`${name} at ${columns}×${rows}`, async () => {
        const r = await renderDashboard(state(), { columns, rows });
        const lines = r.text().split('\n');
        expectFits(lines, columns, rows);
        // The frame is the whole budget (stable height), header on top and help at the bottom.
        expect(lines).toHaveLength(rows - 1);
        expect(lines[0]).toMatch(/^anyclaude/);
        expect(lines.at(-1)).toMatch(/q leave/);
        r.unmount();
      });

  for (const [columns, rows] of [[160, 50], [120, 40], [40, 10], [200, 60]] as const)
    for (const [name, state] of Object.entries(STATES))
      it(`${name} at ${columns}×${rows}`, () => {
        expectFits(renderFrame(state(), columns, rows).split('\n'), columns, rows);
      });

  it('draws nothing in a terminal of one row rather than overflowing it', () => {
    expect(renderFrame(readyState(), 80, 1)).toBe('');
    expect(renderFrame(readyState(), 80, 2).split('\n')).toHaveLength(1);
  });
});

describe('the dashboard uses a large terminal', () => {
  it('at 160×50 puts the metrics beside the backends and shows every backend and many requests', () => {
    const lines = renderFrame(overflowState(), 160, 50).split('\n');
    expect(lines[1]).toMatch(/^Backends .* Decode /);
    expect(lines[2]).toMatch(/^› 1 ● mlx-lm .* Prefill /);
    for (let n = 1; n <= 9; n++) expect(lines.some((l) => new RegExp(`^[ ›] ${n} `).test(l))).toBe(true);
    const requestRows = lines.filter((l) => /^\d\d:\d\d:\d\d \S+ · /.test(l));
    expect(requestRows.length).toBeGreaterThanOrEqual(12);
    // Wide enough for time to first token, decode rate and cache share per request.
    expect(lines.find((l) => l.startsWith('Requests'))).toMatch(/in cached +hit +out +TTFT tok\/s +took stop$/);
  });

  it('at 160×50 shows a failed request’s error in full', () => {
    expect(renderFrame(crashedState(), 160, 50)).toContain('4.1s upstream connection reset: mlx-lm exited with signal SIGKILL');
  });

  it('at 60×15 still shows the backends, the context and the help line', () => {
    const lines = renderFrame(contextState(0.95), 60, 15).split('\n');
    expect(lines.filter((l) => /^[ ›] \d ./.test(l))).toHaveLength(4);
    expect(lines.some((l) => l.startsWith('Context') && l.includes('95% of 32K'))).toBe(true);
    expect(lines.at(-1)).toContain('Ctrl-] back to Claude Code');
  });
});
