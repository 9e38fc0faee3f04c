import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, parseHfLine, ProgressTracker, type HfLine } from '../../src/models/download.js';

const plan = (present: number): HfLine => ({
  type: 'plan',
  repo: 'org/m',
  revision: 'main',
  commit: 'c0ffee',
  totalBytes: 1000e6,
  presentBytes: present,
  files: [
    { name: 'config.json', size: 1e3, present: present > 0 ? 1e3 : 0 },
    { name: 'model.safetensors', size: 1000e6 - 1e3, present: Math.max(0, present - 1e3) },
  ],
});
const progress = (done: number): HfLine => ({ type: 'progress', doneBytes: done, totalBytes: 1000e6, file: 'model.safetensors', fileDone: done, fileSize: 1000e6 });

describe('parseHfLine', () => {
  it('reads each kind of line and ignores anything else', () => {
    expect(parseHfLine('{"type":"file","name":"a","size":3,"resumeFrom":1}')).toEqual({ type: 'file', name: 'a', size: 3, resumeFrom: 1 });
    expect(parseHfLine('{"type":"error","code":"network","message":"down"}')).toMatchObject({ code: 'network' });
    expect(parseHfLine('{"type":"cancelled"}')).toEqual({ type: 'cancelled' });
    expect(parseHfLine('Warning: something')).toBeUndefined();
    expect(parseHfLine('{"type":"progress"}')).toBeUndefined();
    expect(parseHfLine('{not json')).toBeUndefined();
  });
});

describe('ProgressTracker', () => {
  it('counts what an earlier run left as done and resumed, and files already complete', () => {
    const t = new ProgressTracker('org/m', 0);
    const s = t.apply(plan(400e6), 0);
    expect(s).toMatchObject({ phase: 'downloading', totalBytes: 1000e6, doneBytes: 400e6, resumedBytes: 400e6, filesTotal: 2, filesDone: 1, bytesPerSecond: undefined });
  });

  it('measures the rate over the last seconds only, and the ETA from it', () => {
    const t = new ProgressTracker('org/m', 0);
    t.apply(plan(0), 0);
    // 10 MB/s for 10 s, then 50 MB/s: after 5 s more the window holds only the fast part.
    for (let s = 1; s <= 10; s++) t.apply(progress(s * 10e6), s * 1000);
    expect(t.state.bytesPerSecond).toBeCloseTo(10e6, -3);
    for (let s = 1; s <= 6; s++) t.apply(progress(100e6 + s * 50e6), 10_000 + s * 1000);
    const state = t.state;
    expect(state.bytesPerSecond).toBeGreaterThan(45e6);
    expect(state.bytesPerSecond).toBeLessThanOrEqual(50e6);
    expect(state.etaSeconds).toBeCloseTo((1000e6 - 400e6) / state.bytesPerSecond!, 5);
  });

  it('does not count bytes that were already there in the rate', () => {
    const t = new ProgressTracker('org/m', 0);
    t.apply(plan(500e6), 0);
    t.apply(progress(520e6), 2000);
    expect(t.state.bytesPerSecond).toBeCloseTo(10e6, -3);
  });

  it('ends done, failed or cancelled', () => {
    const t = new ProgressTracker('org/m', 0);
    t.apply(plan(0), 0);
    t.apply({ type: 'file-done', name: 'config.json' }, 1);
    expect(t.state.filesDone).toBe(1);
    expect(t.apply({ type: 'done', path: '/x', commit: 'c', downloadedBytes: 1000e6 }, 2)).toMatchObject({ phase: 'done', doneBytes: 1000e6, filesDone: 2, etaSeconds: 0 });
    expect(new ProgressTracker('r', 0).apply({ type: 'error', code: 'network', message: 'down' })).toMatchObject({ phase: 'failed', message: 'down' });
    expect(new ProgressTracker('r', 0).end('cancelled', undefined).phase).toBe('cancelled');
  });
});

describe('formatProgress', () => {
  it('shows a bar, bytes, rate, ETA and what was kept', () => {
    const t = new ProgressTracker('org/m', 0);
    t.apply(plan(100e6), 0);
    t.apply(progress(520e6), 2000);
    const line = formatProgress(t.state, 'Qwen3-Coder-30B', 10);
    expect(line).toBe('Downloading Qwen3-Coder-30B  [#####-----]  52%  520 MB/1.0 GB  210 MB/s  ETA 2s  (100 MB kept from before)');
    expect(formatProgress(new ProgressTracker('org/m').state)).toContain('asking the Hub');
  });

  it('formatDuration', () => {
    expect(formatDuration(7)).toBe('7s');
    expect(formatDuration(95)).toBe('1m35s');
    expect(formatDuration(4000)).toBe('1h06m');
  });
});
