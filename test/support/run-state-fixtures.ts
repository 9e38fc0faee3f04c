/** Realistic pieces of a RunState for tests and benchmarks: a backend, and a finished Claude Code turn. */
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import type { BackendView } from '../../src/run/run-state.js';

export const FIXTURE_WINDOW = 65_536;

export function backendView(overrides: Partial<BackendView> = {}): BackendView {
  return {
    id: 'lmstudio',
    kind: 'lmstudio',
    phase: 'ready',
    active: true,
    model: 'qwen/qwen3-coder-30b',
    models: ['qwen/qwen3-coder-30b', 'openai/gpt-oss-20b'],
    contextWindow: FIXTURE_WINDOW,
    protocol: 'openai',
    url: 'http://localhost:1234/v1',
    managed: false,
    detail: 'found running on port 1234',
    restarts: 0,
    pid: undefined,
    ...overrides,
  };
}

/** A finished streaming turn as the proxy records it: 20,000-token prompt, mostly cached. */
export function requestMetrics(overrides: Partial<RequestMetrics> = {}): RequestMetrics {
  const promptTokens = overrides.promptTokens ?? 20_000;
  const outputTokens = overrides.outputTokens ?? 316;
  const contextWindow = 'contextWindow' in overrides ? overrides.contextWindow : FIXTURE_WINDOW;
  return {
    id: 'msg_01',
    sessionId: 'session-a',
    upstream: 'lmstudio',
    model: 'qwen/qwen3-coder-30b',
    stream: true,
    startedAt: 1_760_000_000_000,
    status: 200,
    error: undefined,
    stopReason: 'end_turn',
    ttftMs: 640,
    prefillMs: 410,
    prefillTokensPerSec: 975.6,
    decodeTokensPerSec: 35.2,
    totalMs: 9_600,
    promptTokens,
    cachedTokens: 19_600,
    outputTokens,
    estimatedPromptTokens: 19_850,
    contextWindow,
    contextFillPct: contextWindow === undefined ? undefined : Math.min(100, ((promptTokens + outputTokens) / contextWindow) * 100),
    prefixStability: 0.998,
    prefixPreserved: 1,
    clientAborted: false,
    ...overrides,
  };
}
