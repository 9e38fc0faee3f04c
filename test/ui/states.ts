/**
 * RunState values as a real `anyclaude up` produces them, for the dashboard tests: numbers from
 * an M-series Mac running Qwen3-Coder-30B on mlx-lm (20K-token Claude Code prompts, ~98 %
 * cached, ~35 tok/s decode, ~900 tok/s prefill), and the states that stress the layout.
 */
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import { emptyRunState, type BackendView, type LogLine, type RunState } from '../../src/run/run-state.js';

/** Fixed "now" of every fixture: times are relative to it. */
export const NOW = Date.now();
const SESSION = '7d3c2f4e-5b1a-4f7e-9c2d-1a2b3c4d5e6f';
const QWEN = 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit';

export function backend(id: string, overrides: Partial<BackendView> = {}): BackendView {
  return {
    id,
    kind: 'mlx-lm',
    phase: 'available',
    active: false,
    model: undefined,
    models: [],
    contextWindow: undefined,
    protocol: 'openai',
    url: undefined,
    managed: false,
    detail: undefined,
    restarts: 0,
    pid: undefined,
    ...overrides,
  };
}

export function request(overrides: Partial<RequestMetrics> = {}): RequestMetrics {
  return {
    id: 'req_1',
    sessionId: SESSION,
    upstream: 'mlx-lm',
    model: QWEN,
    stream: true,
    startedAt: NOW - 60_000,
    status: 200,
    error: undefined,
    stopReason: 'tool_use',
    ttftMs: 1_150,
    prefillMs: 1_100,
    prefillTokensPerSec: 905,
    decodeTokensPerSec: 35.2,
    totalMs: 9_800,
    promptTokens: 20_480,
    cachedTokens: 20_070,
    outputTokens: 312,
    estimatedPromptTokens: 20_300,
    contextWindow: 32_768,
    contextFillPct: 63.5,
    prefixStability: 0.985,
    prefixPreserved: 1,
    clientAborted: false,
    ...overrides,
  };
}

function log(secondsAgo: number, level: LogLine['level'], source: string, message: string): LogLine {
  return { at: NOW - secondsAgo * 1000, level, source, message };
}

const mlxReady = (): BackendView =>
  backend('mlx-lm', {
    kind: 'mlx-lm',
    phase: 'ready',
    active: true,
    model: QWEN,
    models: [QWEN, 'mlx-community/Devstral-Small-2507-4bit', 'mlx-community/gpt-oss-20b-MXFP4-Q8'],
    contextWindow: 32_768,
    url: 'http://127.0.0.1:8080',
    managed: true,
    pid: 48_213,
  });

const otherBackends = (): BackendView[] => [
  backend('lmstudio', { kind: 'lmstudio', model: 'qwen/qwen3-coder-30b', models: ['qwen/qwen3-coder-30b', 'openai/gpt-oss-20b', 'mistralai/devstral-small-2507'], contextWindow: 131_072, url: 'http://127.0.0.1:1234', detail: 'found on port 1234' }),
  backend('ollama', { kind: 'ollama', phase: 'external', model: 'qwen3-coder:30b', models: ['qwen3-coder:30b', 'gpt-oss:20b'], url: 'http://127.0.0.1:11434', detail: 'running, not started by anyclaude' }),
  backend('claude', { kind: 'claude', protocol: 'anthropic', model: 'claude-sonnet-4-5', models: ['claude-sonnet-4-5', 'claude-opus-4-1'], contextWindow: 200_000, url: 'https://api.anthropic.com' }),
];

/** 12 turns of one Claude Code session: the prompt grows by a tool result each turn, nearly all of it cached. */
export function twelveRequests(): RequestMetrics[] {
  return Array.from({ length: 12 }, (_, i) => {
    const prompt = 18_200 + i * 210;
    const output = [212, 388, 145, 906, 310, 254, 77, 640, 198, 433, 289, 612][i]!;
    const decode = [34.1, 35.6, 33.9, 36.2, 35.0, 34.7, 31.2, 35.9, 35.3, 34.4, 35.8, 35.1][i]!;
    const prefill = [880, 912, 870, 940, 905, 899, 860, 925, 918, 890, 931, 905][i]!;
    return request({
      id: `req_${i + 1}`,
      startedAt: NOW - (12 - i) * 45_000,
      promptTokens: prompt,
      cachedTokens: Math.round(prompt * 0.98),
      outputTokens: output,
      estimatedPromptTokens: prompt - 150,
      decodeTokensPerSec: decode,
      prefillTokensPerSec: prefill,
      ttftMs: 1_000 + i * 20,
      totalMs: 1_000 + Math.round((output / decode) * 1000),
      prefixStability: i === 0 ? undefined : 0.99,
      prefixPreserved: i === 0 ? undefined : 1,
      stopReason: i === 11 ? 'end_turn' : 'tool_use',
      contextFillPct: ((prompt + output) / 32_768) * 100,
    });
  });
}

function withSession(state: RunState): RunState {
  const last = state.requests.at(-1);
  if (last === undefined) return state;
  return { ...state, sessions: [{ sessionId: last.sessionId ?? SESSION, last, requests: state.requests.length }] };
}

export function emptyState(): RunState {
  return emptyRunState({ pid: 4242, startedAt: NOW - 2_000, phaseDetail: 'reading settings' });
}

/** First run: mlx-lm's venv is being installed. */
export function startingState(): RunState {
  return emptyRunState({
    pid: 4242,
    startedAt: NOW - 45_000,
    phase: 'installing',
    phaseDetail: 'mlx-lm into ~/.anyclaude/venv',
    proxyUrl: 'http://127.0.0.1:4141',
    active: 'mlx-lm',
    backends: [backend('mlx-lm', { phase: 'starting', active: true, model: QWEN, managed: true, detail: 'installing mlx-lm' }), otherBackends()[0]!],
    progress: [
      {
        backend: 'mlx-lm',
        step: 'install',
        detail: 'pip install mlx-lm==0.28.2',
        startedAt: NOW - 42_000,
        lines: [
          'Collecting mlx-lm==0.28.2',
          '  Downloading mlx_lm-0.28.2-py3-none-any.whl.metadata (9.6 kB)',
          'Collecting mlx>=0.29.0 (from mlx-lm==0.28.2)',
          '  Downloading mlx-0.29.1-cp312-cp312-macosx_14_0_arm64.whl (28.6 MB)\r   ━━━━━━━━━━━━━━━━ 12.3/28.6 MB 8.1 MB/s eta 0:00:03',
          'Collecting transformers>=4.39.3 (from mlx-lm==0.28.2)',
        ],
      },
    ],
    logs: [log(45, 'info', 'up', 'anyclaude 0.1.0, profile "default"'), log(44, 'info', 'proxy', 'listening on http://127.0.0.1:4141'), log(43, 'info', 'mlx-lm', 'creating ~/.anyclaude/venv (python 3.12.7)')],
    claude: { state: 'not-started', pid: undefined, exitCode: undefined, hosted: true },
  });
}

export function readyState(): RunState {
  return withSession(
    emptyRunState({
      pid: 4242,
      startedAt: NOW - (12 * 60 + 3) * 1000,
      phase: 'running',
      phaseDetail: '',
      proxyUrl: 'http://127.0.0.1:4141',
      active: 'mlx-lm',
      backends: [mlxReady(), ...otherBackends()],
      requests: twelveRequests(),
      warmups: [{ backend: 'mlx-lm', phase: 'done', ms: 4_210, detail: undefined }],
      logs: [
        log(700, 'info', 'up', 'anyclaude 0.1.0, profile "default"'),
        log(690, 'info', 'mlx-lm', `serving ${QWEN} on 127.0.0.1:8080`),
        log(600, 'debug', 'proxy', 'req_1 POST /v1/messages 18.2K tokens'),
        log(300, 'warn', 'proxy', 'claude-code sent max_tokens 32000: capped to 8192'),
        log(30, 'info', 'proxy', 'req_12 end_turn 612 tokens in 18.4s'),
      ],
      backendLog: ['Fetching 12 files: 100%|██████████| 12/12', 'Starting httpd at 127.0.0.1 on port 8080...', '127.0.0.1 - - "POST /v1/chat/completions HTTP/1.1" 200 -'],
      claude: { state: 'running', pid: 48_300, exitCode: undefined, hosted: true },
    }),
  );
}

/** mlx-lm was killed (out of memory) mid-request; the request failed. */
export function crashedState(): RunState {
  const ready = readyState();
  const failed = request({
    id: 'req_13',
    startedAt: NOW - 5_000,
    status: 200,
    error: 'upstream connection reset: mlx-lm exited with signal SIGKILL',
    stopReason: null,
    ttftMs: undefined,
    prefillTokensPerSec: undefined,
    decodeTokensPerSec: undefined,
    totalMs: 4_100,
    promptTokens: undefined,
    cachedTokens: undefined,
    outputTokens: undefined,
    estimatedPromptTokens: 21_100,
  });
  return withSession({
    ...ready,
    phase: 'running',
    backends: ready.backends.map((b) => (b.id === 'mlx-lm' ? { ...b, phase: 'crashed', detail: 'killed by SIGKILL (out of memory?)', restarts: 2, pid: undefined } : b)),
    requests: [...ready.requests, failed],
    logs: [...ready.logs, log(4, 'error', 'mlx-lm', 'server exited with signal SIGKILL after 11m 40s'), log(3, 'warn', 'supervisor', 'not restarting mlx-lm: 2 restarts in 10 minutes')],
  });
}

/** Everything at once, and too much of it: 9 backends, 50 requests, long names and lines. */
export function overflowState(): RunState {
  const long = 'mlx-community/DeepSeek-Coder-V2-Lite-Instruct-With-An-Unreasonably-Long-Fine-Tune-Name-8bit-DWQ';
  const ids = ['mlx-lm', 'mlx-omni', 'lmstudio', 'llama-cpp', 'ollama', 'openai', 'claude', 'openai-remote-gpu-box', 'llama-cpp-2'];
  const backends = ids.map((id, i) =>
    backend(id, {
      phase: (['ready', 'warming', 'starting', 'degraded', 'crashed', 'stopped', 'available', 'external', 'available'] as const)[i],
      active: i === 0,
      model: `${long}-${i}`,
      models: Array.from({ length: 14 }, (_, j) => `${long}-variant-${j}`),
      contextWindow: [32_768, 65_536, 131_072, undefined, 8_192, 128_000, 200_000, 1_048_576, 4_096][i],
      detail: `a detail line that goes on and on about backend ${id} and why it is the way it is, far past any terminal width`,
      restarts: i,
    }),
  );
  const requests = Array.from({ length: 50 }, (_, i) =>
    request({
      id: `req_${i + 1}`,
      startedAt: NOW - (50 - i) * 30_000,
      model: long,
      upstream: ids[i % ids.length]!,
      promptTokens: 100_000 + i * 1_000,
      cachedTokens: 99_000 + i * 1_000,
      outputTokens: 12_345,
      totalMs: 3_723_000,
      error: i % 7 === 0 ? `upstream 500 Internal Server Error: ${'a very long error message '.repeat(8)}` : undefined,
      contextWindow: 1_048_576,
    }),
  );
  const logs = Array.from({ length: 200 }, (_, i) => log(200 - i, (['debug', 'info', 'warn', 'error'] as const)[i % 4]!, 'a-very-long-source-name', `line ${i} ${'with a very long message that will not fit '.repeat(6)}\tand a tab\u001b[31m and colour`));
  return withSession(
    emptyRunState({
      pid: 4242,
      startedAt: NOW - 3 * 3600_000,
      phase: 'running',
      phaseDetail: 'a very long phase detail that will not fit in the header line of any terminal at all',
      proxyUrl: 'http://127.0.0.1:41414/a/long/path/for/no/reason',
      active: 'mlx-lm',
      backends,
      requests,
      inFlight: [
        { id: 'req_51', sessionId: SESSION, upstream: 'mlx-lm', model: long, startedAt: NOW - 8_000, ttftMs: 1_200, outputTokens: 240 },
        { id: 'req_52', sessionId: SESSION, upstream: 'lmstudio', model: long, startedAt: NOW - 2_000, ttftMs: undefined, outputTokens: 0 },
      ],
      progress: [
        { backend: 'mlx-omni', step: 'warm', detail: `prefilling 21K tokens of ${long}`, startedAt: NOW - 12_000, lines: [] },
        { backend: 'lmstudio', step: 'start', detail: 'lms load', startedAt: NOW - 30_000, lines: Array.from({ length: 30 }, (_, i) => `load step ${i} ${'x'.repeat(300)}`) },
      ],
      warmups: ids.map((id, i) => ({ backend: id, phase: (['warming', 'done', 'failed', 'skipped'] as const)[i % 4]!, ms: 1_000 * i, detail: i % 4 === 2 ? 'server answered 500' : undefined })),
      switching: { to: 'mlx-omni', model: long, detail: 'warming the prompt cache (21K tokens)…' },
      logs,
      backendLog: Array.from({ length: 200 }, (_, i) => `server line ${i} ${'y'.repeat(500)}`),
      claude: { state: 'running', pid: 1, exitCode: undefined, hosted: true },
    }),
  );
}

/** readyState with the conversation's latest request filling `share` of a 32K window. */
export function contextState(share: number): RunState {
  const ready = readyState();
  const requests = [...ready.requests];
  const last = requests.pop()!;
  const output = 500;
  const prompt = Math.round(share * 32_768) - output;
  requests.push({ ...last, promptTokens: prompt, cachedTokens: Math.round(prompt * 0.98), outputTokens: output });
  return withSession({ ...ready, requests });
}

/** The last turn changed nothing early, yet the backend served almost nothing from cache. */
export function evictedState(): RunState {
  const ready = readyState();
  const requests = [...ready.requests];
  const last = requests.pop()!;
  requests.push({ ...last, cachedTokens: 512, prefixStability: 0.99, prefixPreserved: 1, ttftMs: 21_400, prefillTokensPerSec: 960 });
  return withSession({ ...ready, requests });
}

/** The last turn rewrote an early part of the prompt (a /compact, a changed tool list). */
export function promptChangedState(): RunState {
  const ready = readyState();
  const requests = [...ready.requests];
  const last = requests.pop()!;
  requests.push({ ...last, cachedTokens: 2_048, prefixStability: 0.42, prefixPreserved: 0.38 });
  return withSession({ ...ready, requests });
}

/** A backend (an older llama.cpp, some OpenAI-compatible servers) that never reports cached tokens. */
export function noCacheReportState(): RunState {
  const ready = readyState();
  return withSession({ ...ready, requests: ready.requests.map((r) => ({ ...r, cachedTokens: undefined })) });
}
