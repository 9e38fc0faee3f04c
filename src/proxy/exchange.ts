/**
 * What both upstream protocols share for one `/v1/messages` exchange: the context check,
 * error delivery (JSON before the stream starts, an SSE `error` event after), client
 * hang-up detection, metrics and the trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MessagesRequest, StopReason } from '../anthropic/types.js';
import type { CoreEvents } from '../core/events.js';
import { ApiError, overloaded, promptTooLong } from './api-error.js';
import { rate, type PrefixTracker, type RequestMetrics } from './metrics.js';
import { SseWriter } from './sse-writer.js';
import type { PromptEstimate, TokenCounter } from './token-counter.js';
import type { TraceExchange, TraceWriter } from './trace-writer.js';
import type { Upstream } from '../core/upstream.js';
import type { ContextWindowTrimmer, Trimmed } from './context-window.js';

export interface ExchangeDeps {
  counter: TokenCounter;
  prefix: PrefixTracker;
  events: CoreEvents;
  trace: TraceWriter | undefined;
  pingIntervalMs: number;
  /** How long to wait for upstream headers before committing to a 200 stream (so an unreachable backend is a 529). */
  headerGraceMs: number;
  /** `--context-strategy window`: drops the oldest turns of a prompt too long for the window. */
  trimmer?: ContextWindowTrimmer;
  /** `--backend-timeout`: the longest the proxy waits for the backend's next byte (headers or body) before it stops the request. */
  backendTimeoutMs: number;
}

export interface Exchange {
  id: string;
  req: IncomingMessage;
  res: ServerResponse;
  rawBody: string;
  request: MessagesRequest;
  upstream: Upstream;
  sessionId: string | undefined;
  startedAt: number;
  /** What `--context-strategy window` left out of `request` (which is then the shortened one). */
  trimmed?: Trimmed;
}

/** What every exchange starts with: its clock, the calibrated prompt estimate, and an SSE writer for streaming clients. */
export async function beginExchange(
  exchange: Exchange,
  deps: ExchangeDeps,
  segments: readonly string[],
): Promise<{ clock: ExchangeClock; sse: SseWriter | undefined; estimate: PromptEstimate }> {
  const clock = new ExchangeClock(exchange);
  const { upstream, request } = exchange;
  const estimate = await deps.counter.estimate(upstream.model ?? request.model, segments, upstream.contextWindow);
  clock.estimatedPromptTokens = estimate.tokens;
  const sse = request.stream === true ? new SseWriter(exchange.res, { pingIntervalMs: deps.pingIntervalMs, record: deps.trace !== undefined }) : undefined;
  return { clock, sse, estimate };
}

/** Room kept free for the chat template's own tokens, which no estimate sees. */
export const TEMPLATE_MARGIN = 32;

/** `max_tokens` clamped to the context left; a prompt that cannot fit is a 400 Claude Code answers by compacting. */
export function clampMaxTokens(requested: number, promptTokens: number, contextWindow: number | undefined): number {
  if (contextWindow === undefined) return requested;
  if (promptTokens + TEMPLATE_MARGIN >= contextWindow) throw promptTooLong(promptTokens, contextWindow);
  return Math.max(1, Math.min(requested, contextWindow - promptTokens - TEMPLATE_MARGIN));
}

export function checkAvailable(upstream: Upstream): void {
  const reason = upstream.unavailable?.();
  if (reason !== undefined) throw overloaded(`backend ${upstream.name} is not ready: ${reason}`);
}

/** Network failures reaching the backend, in words a person can act on. */
export function connectionError(upstream: Upstream, error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code = errorCode(error);
  const detail = code === undefined ? (error instanceof Error ? error.message : String(error)) : code;
  return overloaded(`backend ${upstream.name} at ${upstream.url} is not reachable (${detail}); anyclaude retries while it restarts`);
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    current = current.cause;
  }
  return undefined;
}

export function sendJsonError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(error.status, { 'content-type': 'application/json', ...error.headers });
  res.end(JSON.stringify(error.body()));
}

/** After the stream has started, errors travel as an SSE `error` event; Claude Code retries those at once. */
export async function deliverError(res: ServerResponse, sse: SseWriter | undefined, error: ApiError): Promise<void> {
  if (sse !== undefined && sse.started) {
    const type = error.status >= 500 ? 'overloaded_error' : error.type;
    await sse.writeRaw(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message: error.message } })}\n\n`);
    sse.end();
    return;
  }
  sendJsonError(res, error);
}

/** Mutable timings of one exchange; turned into `RequestMetrics` once at the end. */
export class ExchangeClock {
  upstreamSentAt: number | undefined;
  firstTokenAt: number | undefined;
  endedAt: number | undefined;
  promptTokens: number | undefined;
  cachedTokens: number | undefined;
  outputTokens: number | undefined;
  stopReason: StopReason | null = null;
  status = 200;
  error: string | undefined;
  clientAborted = false;
  estimatedPromptTokens = 0;
  prefixStability: number | undefined;
  prefixPreserved: number | undefined;

  constructor(readonly exchange: Exchange) {}

  metrics(): RequestMetrics {
    const { exchange } = this;
    const ended = this.endedAt ?? Date.now();
    const prefillMs = this.firstTokenAt !== undefined && this.upstreamSentAt !== undefined ? this.firstTokenAt - this.upstreamSentAt : undefined;
    const decodeMs = this.firstTokenAt === undefined ? undefined : ended - this.firstTokenAt;
    const newPromptTokens = this.promptTokens === undefined ? undefined : this.promptTokens - (this.cachedTokens ?? 0);
    const window = exchange.upstream.contextWindow;
    const used = (this.promptTokens ?? this.estimatedPromptTokens) + (this.outputTokens ?? 0);
    return {
      id: exchange.id,
      sessionId: exchange.sessionId,
      upstream: exchange.upstream.name,
      model: exchange.upstream.model ?? exchange.request.model,
      stream: exchange.request.stream === true,
      startedAt: exchange.startedAt,
      status: this.status,
      error: this.error,
      stopReason: this.stopReason,
      ttftMs: this.firstTokenAt === undefined ? undefined : this.firstTokenAt - exchange.startedAt,
      prefillMs,
      prefillTokensPerSec: rate(newPromptTokens, prefillMs),
      decodeTokensPerSec: rate(this.outputTokens === undefined ? undefined : this.outputTokens - 1, decodeMs),
      totalMs: ended - exchange.startedAt,
      promptTokens: this.promptTokens,
      cachedTokens: this.cachedTokens,
      outputTokens: this.outputTokens,
      estimatedPromptTokens: this.estimatedPromptTokens,
      contextWindow: window,
      contextFillPct: window === undefined ? undefined : Math.min(100, (used / window) * 100),
      prefixStability: this.prefixStability,
      prefixPreserved: this.prefixPreserved,
      clientAborted: this.clientAborted,
      ...(exchange.trimmed === undefined ? {} : { trimmedMessages: exchange.trimmed.messages, trimmedTokens: exchange.trimmed.tokens }),
    };
  }
}

/** Calibrates the token estimate, emits the end event and writes the trace; never throws. */
export function finishExchange(
  clock: ExchangeClock,
  deps: ExchangeDeps,
  estimate: PromptEstimate,
  trace: Omit<TraceExchange, 'id' | 'backend' | 'startedAt' | 'requestIn' | 'metrics'>,
): void {
  clock.endedAt ??= Date.now();
  const { upstream, request } = clock.exchange;
  if (clock.promptTokens !== undefined) deps.counter.calibrate(upstream.model ?? request.model, estimate, clock.promptTokens);
  const metrics = clock.metrics();
  deps.events.emit('request:end', metrics);
  if (deps.trace === undefined) return;
  const { exchange } = clock;
  void deps.trace.write({
    id: exchange.id,
    backend: exchange.upstream.name,
    startedAt: exchange.startedAt,
    requestIn: { method: exchange.req.method ?? 'POST', url: exchange.req.url ?? '', headers: exchange.req.headers, body: exchange.rawBody },
    ...trace,
    metrics,
  });
}

/** Aborts the upstream request as soon as the client hangs up mid-reply. */
export function abortOnHangUp(res: ServerResponse, clock: ExchangeClock): AbortController {
  const controller = new AbortController();
  const hangUp = (): void => {
    if (res.writableFinished) return;
    clock.clientAborted = true;
    controller.abort(new Error('client closed the connection'));
  };
  // A client can leave before this is called (while the request waited on I/O): 'close' has fired already.
  if (res.destroyed) hangUp();
  else res.on('close', hangUp);
  return controller;
}

/** Compares this prompt with the session's previous one (runs while the backend prefills). */
export function observePrefix(clock: ExchangeClock, deps: ExchangeDeps, segments: readonly string[]): void {
  const prefix = deps.prefix.observe(clock.exchange.sessionId, segments);
  clock.prefixStability = prefix?.stability;
  clock.prefixPreserved = prefix?.preserved;
}

/** A failed exchange: recorded on the clock, then told to the client (unless it already hung up). */
export async function failExchange(clock: ExchangeClock, sse: SseWriter | undefined, error: unknown): Promise<void> {
  const { exchange } = clock;
  const apiError = clock.clientAborted ? overloaded('client closed the connection') : connectionError(exchange.upstream, error);
  clock.status = sse?.started === true ? 200 : apiError.status;
  clock.error = apiError.message;
  if (clock.clientAborted) exchange.res.destroy();
  else await deliverError(exchange.res, sse, apiError);
}

/**
 * Stops a request whose backend has gone silent: every wait for the backend's next byte (its
 * headers, then each body read) may last at most `limitMs`. Past that, the upstream request is
 * aborted (its socket closes, so the server stops computing) and the wait rejects with a 529 that
 * says how to raise the limit. Only waits on the backend count, not time spent writing to a slow
 * client, so a long but steady reply is never cut.
 */
export class BackendSilence {
  readonly #limitMs: number;
  readonly #controller: AbortController;
  readonly #clock: ExchangeClock;
  readonly #deps: ExchangeDeps;
  #error: ApiError | undefined;

  constructor(limitMs: number, controller: AbortController, clock: ExchangeClock, deps: ExchangeDeps) {
    this.#limitMs = limitMs;
    this.#controller = controller;
    this.#clock = clock;
    this.#deps = deps;
  }

  /** Settles as `step` does, or rejects with the timeout error if the backend stays silent past the limit. */
  async watch<T>(step: Promise<T>): Promise<T> {
    if (this.#error !== undefined) throw this.#error;
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(this.#fire()), this.#limitMs);
    });
    try {
      return await Promise.race([step, silent]);
    } catch (error) {
      // The abort makes `step` reject too, with whatever undici chose: the timeout is the reason.
      throw this.#error ?? error;
    } finally {
      clearTimeout(timer);
      // `step` may reject later (the abort); that is already handled here.
      step.catch(() => undefined);
    }
  }

  /** The body's chunks, each read under the limit; leaving early closes the body. */
  async *chunks(body: AsyncIterable<unknown>): AsyncGenerator<unknown> {
    const iterator = body[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await this.watch(iterator.next());
        if (next.done === true) {
          finished = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!finished) await iterator.return?.().catch(() => undefined);
    }
  }

  /** The whole body as text, under the same limit per read. */
  async text(body: AsyncIterable<unknown>): Promise<string> {
    const decoder = new TextDecoder();
    let text = '';
    for await (const bytes of this.chunks(body)) text += decoder.decode(bytes as Uint8Array, { stream: true });
    return text + decoder.decode();
  }

  #fire(): ApiError {
    const { upstream } = this.#clock.exchange;
    const seconds = Number((this.#limitMs / 1000).toFixed(1));
    this.#error = overloaded(
      `backend ${upstream.name} sent nothing for ${seconds} s, so anyclaude stopped the request. ` +
        'If the backend is only slow (a long prompt on a slow machine), raise the limit: --backend-timeout <seconds>, ' +
        'ANYCLAUDE_BACKEND_TIMEOUT or "backendTimeout" in the config file',
    );
    this.#deps.events.log('warn', upstream.name, this.#error.message);
    this.#controller.abort(this.#error);
    return this.#error;
  }
}
