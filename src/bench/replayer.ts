/**
 * Replays a captured conversation against each backend in turn, through anyclaude's own proxy
 * (in process, as Claude Code reaches it), so the numbers are the ones a user gets: each backend
 * is started cold the way `up` starts it, every request is sent as Claude Code sent it (same
 * body, stream setting and session header), and its numbers are the proxy's RequestMetrics.
 * Then the backend is restarted cold (when anyclaude manages it), warmed with the remembered
 * prompt prefix as `up` warms it, and a new session's first turn is timed.
 * Backends run one after another, so they never compete for memory or cores.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { BackendContext, BackendName, RunningBackend } from '../backends/backend.js';
import { ADAPTERS } from '../backends/registry.js';
import { warmPrefix } from '../cache/warm-prefix.js';
import { CoreEvents } from '../core/events.js';
import type { RequestMetrics } from '../proxy/metrics.js';
import { startProxy, type Proxy } from '../proxy/server.js';
import { backendNames, startOptions } from '../run/start-options.js';
import type { UpSettings } from '../settings/up-settings.js';
import { replayBody, stablePrefixOf, type ReplayBodyOptions } from './replay-body.js';
import type { ReplayInput, ReplayRequest } from './replay-input.js';
import { BENCH_SCHEMA, summarise, type BackendResult, type BenchRun, type TurnResult } from './results.js';
import { machineInfo } from './machine.js';

export interface BenchProgress {
  backend: string;
  /** Requests done for this backend, out of `total` (the replay plus the new session). */
  done: number;
  total: number;
  detail: string;
}

export interface BenchOptions extends ReplayBodyOptions {
  input: ReplayInput;
  settings: UpSettings;
  /** anyclaude's home: venvs, pidfiles and logs of the servers it starts. */
  home: string;
  /** Replay only the first N requests. */
  turns?: number | undefined;
  /** Describes the machine in the results (default: from the OS). */
  machineLabel?: string | undefined;
  anyclaudeVersion: string;
  onProgress?: (progress: BenchProgress) => void;
  /** Non-debug log lines from the backends and proxy. */
  onLog?: (source: string, message: string) => void;
}

/** How long the proxy's end-of-request metrics may trail the reply's last byte (ms). */
const METRICS_GRACE_MS = 5_000;
/** A replayed turn may prefill for a long time on a laptop; Claude Code waits as long. */
const TURN_TIMEOUT_MS = 30 * 60_000;

export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const events = new CoreEvents();
  events.on('log', (e) => {
    if (e.level !== 'debug') options.onLog?.(e.source, e.message);
  });
  const ctx: BackendContext = { events, home: options.home };
  const requests = options.input.requests.slice(0, options.turns ?? undefined);
  const backends: BackendResult[] = [];
  for (const name of await backendNames(options.settings, ctx)) {
    backends.push(await benchBackend(name, requests, options, ctx));
  }
  return {
    schema: BENCH_SCHEMA,
    createdAt: new Date().toISOString(),
    anyclaudeVersion: options.anyclaudeVersion,
    machine: machineInfo(options.machineLabel),
    input: { path: options.input.path, kind: options.input.kind, requests: requests.length, sessions: new Set(requests.map((r) => r.sessionId)).size },
    options: { maxTokens: options.maxTokens ?? null, stripTools: options.stripTools === true, turns: options.turns ?? null },
    backends,
  };
}

async function benchBackend(name: BackendName, requests: readonly ReplayRequest[], options: BenchOptions, ctx: BackendContext): Promise<BackendResult> {
  const total = requests.length + 1;
  const progress = (done: number, detail: string): void => options.onProgress?.({ backend: name, done, total, detail });
  const start = (): Promise<RunningBackend> => ADAPTERS[name].start(startOptions(options.settings, name, undefined), ctx);
  progress(0, `starting ${name}`);
  const startedAt = Date.now();
  let backend: RunningBackend;
  try {
    backend = await start();
  } catch (error) {
    return failed(name, error, Date.now() - startedAt);
  }
  const startMs = Date.now() - startedAt;
  let proxy: Proxy | undefined;
  try {
    proxy = await startProxy({ upstreams: [backend.upstream], events: ctx.events });
    const sessions = new SessionLabels();
    const turns: TurnResult[] = [];
    for (const [i, replayed] of requests.entries()) {
      progress(i, `turn ${i + 1}/${requests.length}`);
      const sessionId = replayed.sessionId ?? 'replay';
      turns.push(await replayTurn(proxy, replayed, { turn: i + 1, phase: 'replay', sessionId, session: sessions.label(sessionId), body: replayBody(replayed.body, options) }));
    }
    // A new session's first turn: the main agent's first request, the first with tools (a title request has none), else the first with a system prompt.
    const hasSystem = (r: ReplayRequest): boolean => stablePrefixOf(r.body) !== undefined;
    const first = requests.find((r) => hasSystem(r) && Array.isArray(r.body.tools) && r.body.tools.length > 0) ?? requests.find(hasSystem);
    let warmup: BackendResult['warmup'] = null;
    if (first !== undefined) {
      const fresh = await newSession({ name, first, options, proxy, backend, start, progress: (detail) => progress(requests.length, detail) });
      backend = fresh.backend;
      warmup = fresh.warmup;
      if (fresh.turn !== undefined) turns.push({ ...fresh.turn, turn: requests.length + 1, session: sessions.label(fresh.sessionId) });
    }
    progress(total, 'done');
    return {
      backend: backend.upstream.name,
      model: backend.info.modelId ?? backend.upstream.model ?? null,
      url: backend.info.url,
      managed: backend.info.managed,
      contextWindow: backend.info.contextWindow ?? null,
      startMs,
      turns,
      warmup,
      summary: summarise(turns),
      error: null,
    };
  } catch (error) {
    return failed(name, error, startMs);
  } finally {
    await proxy?.close();
    await backend.stop();
  }
}

interface NewSessionPlan {
  name: string;
  first: ReplayRequest;
  options: BenchOptions;
  proxy: Proxy;
  backend: RunningBackend;
  start: () => Promise<RunningBackend>;
  progress: (detail: string) => void;
}

/**
 * The warm-up `up` does, then a new session's first turn. A server anyclaude manages starts again,
 * cold, as the next `up` would find it; one it did not start keeps its cache. A failure here is
 * reported in the warm-up, and the replay's turns are kept.
 */
async function newSession(plan: NewSessionPlan): Promise<{ backend: RunningBackend; warmup: NonNullable<BackendResult['warmup']>; turn: TurnResult | undefined; sessionId: string }> {
  const { name, first, options, proxy } = plan;
  let backend = plan.backend;
  const sessionId = randomUUID();
  const restarted = backend.info.managed;
  const prefix = stablePrefixOf(replayBody(first.body, options))!;
  try {
    if (restarted) {
      plan.progress(`restarting ${name} cold`);
      await backend.stop();
      backend = await plan.start();
      proxy.setUpstream(backend.upstream);
    }
    plan.progress('warming the prompt cache');
    const warmed = await warmPrefix(proxy, backend.upstream.name, prefix);
    plan.progress('new session, first turn');
    const turn = await replayTurn(proxy, first, { turn: 0, phase: 'new-session', sessionId, session: '', body: replayBody(first.body, options) });
    return { backend, warmup: { ok: warmed.ok, ms: warmed.ms, detail: warmed.detail, restarted }, turn, sessionId };
  } catch (error) {
    return { backend, warmup: { ok: false, ms: 0, detail: error instanceof Error ? error.message : String(error), restarted }, turn: undefined, sessionId };
  }
}

interface TurnPlan {
  turn: number;
  phase: TurnResult['phase'];
  sessionId: string;
  session: string;
  body: ReplayRequest['body'];
}

/** Sends one request through the proxy, reads the whole reply as Claude Code would, and takes the proxy's metrics for it. */
async function replayTurn(proxy: Proxy, replayed: ReplayRequest, plan: TurnPlan): Promise<TurnResult> {
  const metrics = nextMetrics(proxy.events, plan.sessionId);
  const began = Date.now();
  let status = 0;
  let failure: string | undefined;
  try {
    const response = await request(`${proxy.url}${replayed.url}`, {
      method: 'POST',
      headers: { ...replayed.headers, 'x-claude-code-session-id': plan.sessionId, 'content-type': 'application/json', 'x-api-key': proxy.key },
      body: JSON.stringify(plan.body),
      headersTimeout: TURN_TIMEOUT_MS,
      bodyTimeout: TURN_TIMEOUT_MS,
    });
    status = response.statusCode;
    const text = await response.body.text();
    if (status !== 200) failure = `HTTP ${status}: ${text.slice(0, 300)}`;
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  const measured = await metrics.settle(METRICS_GRACE_MS);
  return turnResult(plan, measured, { status, failure, totalMs: Date.now() - began });
}

function turnResult(plan: TurnPlan, m: RequestMetrics | undefined, sent: { status: number; failure: string | undefined; totalMs: number }): TurnResult {
  const promptTokens = m?.promptTokens ?? null;
  const cachedTokens = m?.cachedTokens ?? null;
  return {
    turn: plan.turn,
    phase: plan.phase,
    session: plan.session,
    messages: plan.body.messages.length,
    stream: plan.body.stream === true,
    status: m?.status ?? sent.status,
    error: m?.error ?? sent.failure ?? null,
    stopReason: m?.stopReason ?? null,
    ttftMs: m?.ttftMs ?? null,
    prefillTokensPerSec: m?.prefillTokensPerSec ?? null,
    decodeTokensPerSec: m?.decodeTokensPerSec ?? null,
    promptTokens,
    cachedTokens,
    cachedShare: promptTokens !== null && cachedTokens !== null && promptTokens > 0 ? cachedTokens / promptTokens : null,
    outputTokens: m?.outputTokens ?? null,
    prefixStability: m?.prefixStability ?? null,
    prefixPreserved: m?.prefixPreserved ?? null,
    totalMs: m?.totalMs ?? sent.totalMs,
  };
}

/** The proxy's end-of-request metrics for the next request of this session (turns are sent one at a time). */
function nextMetrics(events: CoreEvents, sessionId: string): { settle(graceMs: number): Promise<RequestMetrics | undefined> } {
  let found: RequestMetrics | undefined;
  let notify: (() => void) | undefined;
  const off = events.on('request:end', (m) => {
    if (m.sessionId !== sessionId || found !== undefined) return;
    found = m;
    notify?.();
  });
  return {
    async settle(graceMs) {
      if (found === undefined) {
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, graceMs).unref();
        });
      }
      off();
      return found;
    },
  };
}

class SessionLabels {
  readonly #labels = new Map<string, string>();
  label(sessionId: string): string {
    let label = this.#labels.get(sessionId);
    if (label === undefined) {
      label = `s${this.#labels.size + 1}`;
      this.#labels.set(sessionId, label);
    }
    return label;
  }
}

function failed(name: string, error: unknown, startMs: number): BackendResult {
  return {
    backend: name,
    model: null,
    url: '',
    managed: false,
    contextWindow: null,
    startMs,
    turns: [],
    warmup: null,
    summary: summarise([]),
    error: error instanceof Error ? error.message : String(error),
  };
}
