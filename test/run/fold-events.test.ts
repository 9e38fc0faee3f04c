import { describe, expect, it } from 'vitest';
import { onBackendState, onCacheWarm, onLog, onRequestEnd, onRequestStart, onSwitch, toPhase } from '../../src/run/fold-events.js';
import { emptyRunState, RECENT_REQUESTS, type BackendView, type RunState } from '../../src/run/run-state.js';
import { StateStore } from '../../src/run/state-store.js';
import type { RequestMetrics } from '../../src/proxy/metrics.js';

const backend = (id: string, patch: Partial<BackendView> = {}): BackendView => ({
  id,
  kind: 'lmstudio',
  phase: 'ready',
  active: false,
  model: 'm',
  models: [],
  contextWindow: 32_768,
  protocol: 'openai',
  url: 'http://127.0.0.1:1234',
  managed: true,
  detail: undefined,
  restarts: 0,
  pid: 1,
  ...patch,
});

const metrics = (id: string, patch: Partial<RequestMetrics> = {}): RequestMetrics => ({
  id,
  sessionId: 's1',
  upstream: 'lmstudio',
  model: 'claude-sonnet-4-5',
  stream: true,
  startedAt: 0,
  status: 200,
  error: undefined,
  stopReason: 'end_turn',
  ttftMs: 100,
  prefillMs: 90,
  prefillTokensPerSec: 1000,
  decodeTokensPerSec: 40,
  totalMs: 1000,
  promptTokens: 20_000,
  cachedTokens: 19_000,
  outputTokens: 40,
  estimatedPromptTokens: 20_100,
  contextWindow: 32_768,
  contextFillPct: 61,
  prefixStability: 1,
  prefixPreserved: 1,
  clientAborted: false,
  ...patch,
});

const apply = (state: RunState, patch: Partial<RunState> | undefined): RunState => ({ ...state, ...patch });

describe('folding core events into the run state', () => {
  it('moves a request from in flight to finished, keeps the last RECENT_REQUESTS, and tracks its session', () => {
    let state = emptyRunState();
    for (let i = 0; i < RECENT_REQUESTS + 5; i++) {
      state = apply(state, onRequestStart(state, { id: `r${i}`, sessionId: 's1', upstream: 'lmstudio', model: 'x', stream: true, at: i }));
      expect(state.inFlight.map((r) => r.id)).toEqual([`r${i}`]);
      state = apply(state, onRequestEnd(state, metrics(`r${i}`)));
    }
    expect(state.inFlight).toEqual([]);
    expect(state.requests).toHaveLength(RECENT_REQUESTS);
    expect(state.requests.at(-1)?.id).toBe(`r${RECENT_REQUESTS + 4}`);
    expect(state.sessions).toEqual([expect.objectContaining({ sessionId: 's1', requests: RECENT_REQUESTS + 5 })]);
  });

  it('a failed request does not become the session’s last one (its status line keeps real numbers)', () => {
    let state = apply(emptyRunState(), onRequestEnd(emptyRunState(), metrics('ok')));
    state = apply(state, onRequestEnd(state, metrics('bad', { error: 'backend died', promptTokens: undefined })));
    expect(state.sessions[0]?.last.id).toBe('ok');
    expect(state.requests.map((r) => r.id)).toEqual(['ok', 'bad']);
  });

  it('shows a warm-up on the backend and as progress, then restores the backend’s phase', () => {
    let state = emptyRunState({ backends: [backend('lmstudio', { managed: false, phase: 'external' })] });
    state = apply(state, onCacheWarm(state, { backend: 'lmstudio', phase: 'warming' }));
    expect(state.backends[0]?.phase).toBe('warming');
    expect(state.progress).toEqual([expect.objectContaining({ backend: 'lmstudio', step: 'warm' })]);
    state = apply(state, onCacheWarm(state, { backend: 'lmstudio', phase: 'done', ms: 1200 }));
    expect(state.backends[0]?.phase).toBe('external');
    expect(state.progress).toEqual([]);
    expect(state.warmups).toEqual([{ backend: 'lmstudio', phase: 'done', ms: 1200, detail: undefined }]);
  });

  it('maps supervisor states and marks the active backend on a switch', () => {
    expect(toPhase('stopping')).toBe('stopped');
    expect(toPhase('crashed')).toBe('crashed');
    expect(toPhase('something-new')).toBe('degraded');
    let state = emptyRunState({ backends: [backend('a', { active: true }), backend('b')] });
    state = apply(state, onSwitch(state, { from: 'a', to: 'b' }));
    expect(state.active).toBe('b');
    expect(state.backends.map((b) => b.active)).toEqual([false, true]);
    state = apply(state, onBackendState(state, { backend: 'b', state: 'crashed', reason: 'exit code 1' }));
    expect(state.backends[1]).toMatchObject({ phase: 'crashed', detail: 'exit code 1' });
    expect(onBackendState(state, { backend: 'zzz', state: 'ready', reason: undefined })).toBeUndefined();
  });

  it('keeps info and above in the log, not debug', () => {
    const state = emptyRunState();
    expect(onLog(state, { level: 'debug', source: 'x', message: 'noise', at: 1 })).toBeUndefined();
    expect(onLog(state, { level: 'warn', source: 'cache', message: 'dropped', at: 1 })?.logs).toEqual([{ at: 1, level: 'warn', source: 'cache', message: 'dropped' }]);
  });
});

describe('StateStore', () => {
  it('gives a new snapshot per change and coalesces notifications', async () => {
    const store = new StateStore(emptyRunState(), 50);
    let calls = 0;
    store.subscribe(() => calls++);
    const first = store.getSnapshot();
    for (let i = 0; i < 100; i++) store.update(() => ({ phaseDetail: String(i) }));
    expect(store.getSnapshot()).not.toBe(first);
    expect(store.getSnapshot().revision).toBe(100);
    store.update(() => undefined);
    expect(store.getSnapshot().revision).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(calls).toBe(1);
    store.close();
  });
});
