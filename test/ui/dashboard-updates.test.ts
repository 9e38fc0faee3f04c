/**
 * The live dashboard follows the store. Panels re-render only when the slices of the state they
 * read change, a reply's progress is drawn on the next frame tick, and time comes from shared
 * clocks: these check that nothing the screen shows is left behind by that.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { InFlightView, RunState } from '../../src/run/run-state.js';
import { FRAME_MS, FRAMES_PER_SECOND } from '../../ui/clock.js';
import { onlyProgress, PROGRESS_BUDGET, progressStride } from '../../ui/use-run-state.js';
import { eventually, renderDashboard, settle } from './render-dashboard.js';
import { NOW, overflowState, readyState, request } from './states.js';

function streaming(outputTokens: number, overrides: Partial<InFlightView> = {}): InFlightView {
  return { id: 'req_13', sessionId: undefined, upstream: 'mlx-lm', model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', startedAt: Date.now() - 4_000, ttftMs: 1_100, outputTokens, ...overrides };
}

describe('the dashboard follows the store', () => {
  it('draws a reply streaming, its output count moving, and the request once it ends', async () => {
    const ready = readyState();
    const r = await renderDashboard(ready, { columns: 100, rows: 30 });
    r.store.set({ ...ready, inFlight: [streaming(0, { ttftMs: undefined })] });
    await eventually(() => expect(r.text()).toMatch(/Streaming +0 tokens out +prefilling for/));
    r.store.set({ ...ready, inFlight: [streaming(120)] });
    await eventually(() => expect(r.text()).toContain('120 tokens out'));
    r.store.set({ ...ready, inFlight: [streaming(456)] });
    await eventually(() => expect(r.text()).toContain('456 tokens out'));
    const done = request({ id: 'req_13', startedAt: NOW - 1_000, outputTokens: 777, totalMs: 12_345, stopReason: 'end_turn' });
    r.store.set({ ...ready, requests: [...ready.requests, done] });
    await eventually(() => expect(r.text()).not.toContain('Streaming'));
    expect(r.text()).toMatch(/ 777 +1\.1s +35\.2 +12s end_turn$/m);
    expect(r.text()).toContain('backend · model (13)');
    r.unmount();
  });

  it('draws a new log line, a backend that changed and a switch under way', async () => {
    // More lines than the log panel shows, so that a new one changes what it shows, not its height.
    const logs = Array.from({ length: 60 }, (_, i) => ({ at: NOW - (60 - i) * 1000, level: 'info' as const, source: 'proxy', message: `older line ${i}` }));
    const ready = { ...readyState(), logs };
    const r = await renderDashboard(ready, { columns: 100, rows: 30 });
    r.store.set({ ...ready, logs: [...ready.logs, { at: NOW, level: 'warn', source: 'cache', message: 'a line that just arrived' }] });
    await eventually(() => expect(r.text()).toContain('a line that just arrived'));
    const backends = ready.backends.map((b) => (b.id === 'ollama' ? { ...b, phase: 'crashed' as const } : b));
    r.store.set({ ...ready, backends, switching: { to: 'lmstudio', model: undefined, detail: 'starting the server' } });
    await eventually(() => expect(r.text()).toMatch(/3 +ollama +crashed/));
    expect(r.text()).toContain('switching to lmstudio: starting the server');
    r.store.set({ ...ready, claude: { state: 'exited', pid: undefined, exitCode: 3, hosted: true } });
    await eventually(() => expect(r.text()).toContain('Claude Code exited (3)'));
    expect(r.text()).not.toContain('back to Claude Code');
    r.unmount();
  });

  it('turns every spinner on screen in step', async () => {
    const r = await renderDashboard(overflowState(), { columns: 100, rows: 40 });
    const spinners = (): string[] => r.text().match(/[⠁⠂⠄⡀⢀⠠⠐⠈]/g) ?? [];
    expect(spinners().length).toBeGreaterThan(2);
    const first = spinners()[0];
    await eventually(() => expect(spinners()[0]).not.toBe(first));
    expect(new Set(spinners()).size).toBe(1);
    r.unmount();
  });

  it('does not keep the render timings of React’s development build', async () => {
    // Vitest runs React's development build, which records every component render in Node's performance timeline.
    const ready = readyState();
    const r = await renderDashboard(ready);
    for (let i = 1; i <= 20; i++) {
      r.store.set({ ...ready, logs: [...ready.logs, { at: NOW, level: 'info', source: 'test', message: `line ${i}` }] });
      await settle(5);
    }
    await eventually(() => expect(r.text()).toContain('line 20'));
    await settle();
    expect(performance.getEntriesByType('measure').length).toBeLessThan(50);
    r.unmount();
  });
});

describe('onlyProgress', () => {
  const ready = (): RunState => ({ ...readyState(), inFlight: [streaming(10)] });

  it('is a change of the output count (or first token) of the same requests in flight', () => {
    const before = ready();
    expect(onlyProgress(before, { ...before, revision: 9, inFlight: [streaming(20)] })).toBe(true);
    expect(onlyProgress(before, { ...before, inFlight: [streaming(10, { ttftMs: 900 })] })).toBe(true);
  });

  it('is not a request starting or ending, or any other change', () => {
    const before = ready();
    expect(onlyProgress(before, { ...before, inFlight: [] })).toBe(false);
    expect(onlyProgress(before, { ...before, inFlight: [streaming(10), streaming(0, { id: 'req_14' })] })).toBe(false);
    expect(onlyProgress(before, { ...before, inFlight: [streaming(20)], logs: [] })).toBe(false);
    expect(onlyProgress(before, { ...before, inFlight: [streaming(20)], active: 'lmstudio' })).toBe(false);
  });
});

describe('progressStride', () => {
  it('draws progress on every frame tick where a frame is cheap, less often where it is not, and at least once a second', () => {
    const budget = FRAME_MS * PROGRESS_BUDGET;
    expect(progressStride(0)).toBe(1);
    expect(progressStride(budget)).toBe(1);
    expect(progressStride(budget * 1.5)).toBe(2);
    expect(progressStride(budget * 3)).toBe(4);
    expect(progressStride(1_000)).toBe(FRAMES_PER_SECOND);
  });

  it('lands on the ticks that move the clock, so the count and the elapsed time change in one redraw', () => {
    for (const ms of [0, 5, 10, 20, 40, 1_000]) expect(FRAMES_PER_SECOND % progressStride(ms)).toBe(0);
  });
});
