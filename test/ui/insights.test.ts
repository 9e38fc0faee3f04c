/** What the dashboard concludes from the numbers: cache reuse that dropped, a filling context. */
import { describe, expect, it } from 'vitest';
import { cacheAdvice, cachedShare, contextAdvice, contextFill, currentConversation, throughput } from '../../ui/insights.js';
import { contextState, crashedState, emptyState, evictedState, noCacheReportState, promptChangedState, readyState, request } from './states.js';

describe('cacheAdvice', () => {
  it('says nothing when the cache serves the prompt as it should', () => {
    expect(cacheAdvice(readyState().requests)).toBeUndefined();
  });

  it('warns when the prompt did not change but the backend recomputed it', () => {
    const advice = cacheAdvice(evictedState().requests);
    expect(advice?.severity).toBe('warn');
    expect(advice?.text).toContain('only 2% cached: the backend recomputed a prompt whose prefix did not change: its prompt cache is too small or was evicted');
  });

  it('warns differently when the prompt itself changed early', () => {
    const advice = cacheAdvice(promptChangedState().requests);
    expect(advice?.severity).toBe('warn');
    expect(advice?.text).toMatch(/^the prompt changed early \(38% of the previous turn kept\)/);
  });

  it('does not call a turn that added a long tool result a cache failure', () => {
    // 20K kept, 30K new: 40 % of the prompt is old, 39 % cached: all that could be.
    const grown = request({ promptTokens: 50_000, cachedTokens: 19_500, prefixStability: 0.4, prefixPreserved: 1 });
    expect(cacheAdvice([request(), grown])).toBeUndefined();
    const evicted = { ...grown, cachedTokens: 1_000 };
    expect(cacheAdvice([request(), evicted])?.text).toContain('recomputed');
  });

  it('notes a backend that never reports cached tokens', () => {
    expect(cacheAdvice(noCacheReportState().requests)).toMatchObject({ severity: 'note', text: expect.stringContaining('reports no cached tokens') });
  });

  it('judges the newest answered request, not a failed one and not a first turn', () => {
    expect(cacheAdvice(crashedState().requests)).toBeUndefined();
    expect(cacheAdvice([request({ cachedTokens: 0, prefixStability: undefined, prefixPreserved: undefined })])).toBeUndefined();
    expect(cacheAdvice([])).toBeUndefined();
  });
});

describe('cachedShare', () => {
  it('is cached over prompt tokens, unknown when either is', () => {
    expect(cachedShare(request({ promptTokens: 20_000, cachedTokens: 19_600 }))).toBeCloseTo(0.98);
    expect(cachedShare(request({ cachedTokens: undefined }))).toBeUndefined();
    expect(cachedShare(request({ promptTokens: 0 }))).toBeUndefined();
  });
});

describe('contextFill', () => {
  it('counts prompt and output of the latest request of the most recent session', () => {
    const state = readyState();
    const last = state.requests.at(-1)!;
    expect(currentConversation(state)).toBe(last);
    expect(contextFill(state)).toEqual({ tokens: 20_510 + 612, window: 32_768, fill: (20_510 + 612) / 32_768 });
  });

  it('prefers the most recently active session over an older one', () => {
    const state = readyState();
    const older = request({ id: 'old', sessionId: 'other', startedAt: 0, promptTokens: 1_000, outputTokens: 0 });
    const sessions = [{ sessionId: 'other', last: older, requests: 1 }, ...state.sessions];
    expect(currentConversation({ ...state, sessions })?.id).toBe('req_12');
    expect(currentConversation({ ...state, sessions: [...state.sessions].reverse().concat({ sessionId: 'new', last: { ...older, id: 'new', startedAt: Date.now() + 1 }, requests: 1 }) })?.id).toBe('new');
  });

  it('uses the estimate before the backend answered, and the backend window when the request has none', () => {
    const state = readyState();
    const pending = request({ promptTokens: undefined, outputTokens: undefined, estimatedPromptTokens: 16_000, contextWindow: undefined });
    const fill = contextFill({ ...state, sessions: [{ sessionId: 's', last: pending, requests: 1 }] });
    expect(fill).toEqual({ tokens: 16_000, window: 32_768, fill: 16_000 / 32_768 });
  });

  it('has no fill when the window is unknown, and nothing before the first request', () => {
    const state = readyState();
    const unknown = request({ upstream: 'ollama', contextWindow: undefined });
    expect(contextFill({ ...state, sessions: [{ sessionId: 's', last: unknown, requests: 1 }] })?.fill).toBeUndefined();
    expect(contextFill(emptyState())).toBeUndefined();
  });
});

describe('contextAdvice', () => {
  it('is quiet below 75 %, yellow from 75 %, red from 90 %', () => {
    expect(contextAdvice(0.74)).toBeUndefined();
    expect(contextAdvice(0.78)).toEqual({ severity: 'warn', text: 'context 78% full: /compact soon' });
    expect(contextAdvice(0.9)).toEqual({ severity: 'danger', text: 'context 90% full: /compact or start a new conversation' });
    expect(contextAdvice(contextFill(contextState(0.95))?.fill)?.severity).toBe('danger');
    expect(contextAdvice(undefined)).toBeUndefined();
  });
});

describe('throughput', () => {
  it('takes rates of answered requests, the latest value and the median', () => {
    const t = throughput(crashedState().requests);
    expect(t.decode).toHaveLength(12);
    expect(t.lastDecode).toBe(35.1);
    expect(t.medianDecode).toBeCloseTo(35.05);
    expect(t.lastPrefill).toBe(905);
    expect(t.lastTtftMs).toBe(1_220);
  });
});
