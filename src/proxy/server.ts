/**
 * The in-process proxy: Anthropic Messages API in, the active upstream out.
 * Listens on 127.0.0.1 only; every endpoint but `/` needs the run's key.
 */
import { z } from 'zod';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { MessagesRequest } from '../anthropic/types.js';
import { parseCountTokensRequest, parseMessagesRequest } from '../anthropic/request-schema.js';
import { CoreEvents } from '../core/events.js';
import { anthropicToOpenAI } from '../translate/anthropic-to-openai.js';
import { ApiError, badRequest } from './api-error.js';
import { anthropicExchange, promptSegments } from './anthropic-exchange.js';
import { checkKey, checkOrigin, generateKey } from './auth.js';
import { readBody } from './read-body.js';
import { MAX_CONTAINERS, MAX_DEPTH, MAX_PARSE_DEPTH, textOverLimits, unknownBlock } from '../anthropic/limits.js';
import { sendJsonError, type Exchange, type ExchangeDeps } from './exchange.js';
import { PrefixTracker, type RequestMetrics } from './metrics.js';
import { openaiExchange } from './openai-exchange.js';
import { TokenCounter } from './token-counter.js';
import { TraceWriter } from './trace-writer.js';
import { processStats, type ProcessStats } from './process-stats.js';
import { ContextWindowTrimmer, type Trimmed } from './context-window.js';
import { earlierMessages, type ContextStrategy } from '../core/context-strategy.js';
import { DEFAULT_BACKEND_TIMEOUT_S, type Upstream } from '../core/upstream.js';
import { promptPrefixKey, WARMUP_HEADER, WARMUP_SKIPPED, WarmupGate, type Admission } from './warmup-gate.js';

export interface ProxyOptions {
  upstreams: Upstream[];
  /** Name of the upstream that serves requests; the first one by default. */
  active?: string;
  /** 0 or undefined: a free port. */
  port?: number;
  key?: string;
  /** Write a trace of every exchange; a string is the traces root folder. */
  trace?: boolean | string;
  /** Also put each (redacted) trace in the log as a `debug` line: full bodies (ANYCLAUDE_DEBUG=2). */
  logBodies?: boolean;
  events?: CoreEvents;
  pingIntervalMs?: number;
  headerGraceMs?: number;
  /** `--backend-timeout` in ms: the longest to wait for the backend's next byte before stopping a request (default 10 minutes). */
  backendTimeoutMs?: number;
  /** How long a request whose prompt differs from an in-flight warm-up's waits for one that matches before the warm-up is aborted. */
  warmupGraceMs?: number;
  /** Sees every valid Messages request before it is forwarded (e.g. to remember the stable prefix). */
  observeRequest?: (request: MessagesRequest, headers: IncomingMessage['headers'], upstream: Upstream) => void;
  /** Serves `GET /_anyclaude/state` and `POST /_anyclaude/switch` (status line, `anyclaude status`, a dashboard in another terminal). */
  control?: ProxyControl;
  /** `compact` (default): a prompt past the window is refused so Claude Code compacts; `window`: its oldest turns are dropped. */
  contextStrategy?: ContextStrategy;
  /** A client must send all request headers within this (default 30 s, or ANYCLAUDE_HEADERS_TIMEOUT_MS): slow-loris clients are cut off with a 408. */
  headersTimeoutMs?: number;
  /** ... and the whole request, body included (default 120 s, or ANYCLAUDE_REQUEST_TIMEOUT_MS; Claude Code's arrive in milliseconds over loopback). */
  requestTimeoutMs?: number;
}

/** What the run behind the proxy answers to its control endpoints. */
export interface ProxyControl {
  state(): unknown;
  /** Resolves when requests go to the backend; rejects with a message for the user. */
  switchTo(backend: string, model?: string): Promise<void>;
}

export interface ProxyStatus {
  url: string;
  active: string;
  upstreams: Array<{ name: string; url: string; protocol: string; model: string | undefined; contextWindow: number | undefined; available: boolean; reason: string | undefined }>;
  requests: { total: number; inFlight: number; errors: number };
  recent: RequestMetrics[];
  calibration: Record<string, number | undefined>;
  traceDir: string | undefined;
  uptimeMs: number;
  /** Memory, open descriptors and live handles: what the soak bench watches for leaks. */
  process: ProcessStats;
}

export interface Proxy {
  url: string;
  port: number;
  key: string;
  events: CoreEvents;
  status(): ProxyStatus;
  /** The upstream requests go to from now on (in-flight requests finish where they started). */
  switchUpstream(name: string): void;
  /** Adds an upstream, or replaces the one of the same name (a model switch, a restarted server); the active one stays active. */
  setUpstream(upstream: Upstream): void;
  close(): Promise<void>;
}

const RECENT_LIMIT = 50;
const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  if (options.upstreams.length === 0) throw new Error('startProxy needs at least one upstream');
  const events = options.events ?? new CoreEvents();
  const key = options.key ?? generateKey();
  const counter = new TokenCounter();
  const trace =
    options.trace === undefined || options.trace === false
      ? undefined
      : new TraceWriter({
          ...(typeof options.trace === 'string' ? { root: options.trace } : {}),
          secrets: [key, ...options.upstreams.flatMap((u) => (u.apiKey === undefined ? [] : [u.apiKey]))],
          onError: (message) => events.log('warn', 'trace', message),
          ...(options.logBodies === true ? { echo: (text: string) => events.log('debug', 'trace', text) } : {}),
        });
  const deps: ExchangeDeps = {
    counter,
    prefix: new PrefixTracker(),
    events,
    trace,
    pingIntervalMs: options.pingIntervalMs ?? 5_000,
    headerGraceMs: options.headerGraceMs ?? 250,
    backendTimeoutMs: options.backendTimeoutMs ?? DEFAULT_BACKEND_TIMEOUT_S * 1000,
    ...(options.contextStrategy === 'window' ? { trimmer: new ContextWindowTrimmer(counter) } : {}),
  };
  const state = new ProxyState(options.upstreams, options.active);
  events.on('request:end', (m) => state.recordEnd(m));
  const gate = new WarmupGate(events, options.warmupGraceMs);

  const server = createServer(serverOptions(options), (req, res) => {
    void route(req, res, { key, deps, state, gate, observe: options.observeRequest, control: options.control }).catch((error: unknown) => {
      events.log('error', 'proxy', `unhandled: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendJsonError(res, new ApiError(500, 'api_error', 'internal proxy error; see the anyclaude log'));
    });
  });
  // A client that sends garbage or dawdles must not take the proxy down: it gets an answer, then the door.
  server.on('clientError', (error, socket) => answerClientError(error, socket));
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    key,
    events,
    status: () => state.snapshot(url, counter, trace?.root),
    switchUpstream: (name) => {
      const from = state.active.name;
      state.activate(name);
      events.emit('upstream:switch', { from, to: name });
    },
    setUpstream: (upstream) => state.put(upstream),
    close: () => close(server),
  };
}

/**
 * Node enforces both limits from a timer that runs every `connectionsCheckingInterval`, so that
 * runs at a tenth of the shorter one: a slow client is cut off within about 10 % of its limit.
 * A missing Host is left to `checkOrigin`, which answers it in Anthropic format.
 */
function serverOptions(options: ProxyOptions): ServerOptions {
  const headersTimeout = options.headersTimeoutMs ?? envMs('ANYCLAUDE_HEADERS_TIMEOUT_MS') ?? DEFAULT_HEADERS_TIMEOUT_MS;
  // Node requires requestTimeout ≥ headersTimeout.
  const requestTimeout = Math.max(headersTimeout, options.requestTimeoutMs ?? envMs('ANYCLAUDE_REQUEST_TIMEOUT_MS') ?? DEFAULT_REQUEST_TIMEOUT_MS);
  return {
    keepAliveTimeout: 65_000,
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 10))),
    requireHostHeader: false,
  };
}

function envMs(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** A real HTTP answer in Anthropic format where the socket still takes one: 408 for a timeout, 400 for bytes that are not HTTP. */
function answerClientError(error: Error & { code?: string }, socket: Duplex & { _httpMessage?: ServerResponse | null }): void {
  // As Node's own handler decides: nothing once a response on this socket has begun.
  if (!socket.writable || socket._httpMessage?.headersSent === true) {
    socket.destroy();
    return;
  }
  const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const apiError = timeout
    ? new ApiError(408, 'invalid_request_error', 'request not received in time: headers and body must arrive within the limits of anyclaude (slow client)')
    : badRequest(`malformed HTTP request (${error.code ?? error.message})`);
  const body = JSON.stringify(apiError.body());
  const reason = timeout ? 'Request Timeout' : 'Bad Request';
  socket.end(`HTTP/1.1 ${apiError.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  const timer = setTimeout(() => socket.destroy(), 1_000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

class ProxyState {
  readonly upstreams: Upstream[];
  active: Upstream;
  total = 0;
  inFlight = 0;
  errors = 0;
  readonly recent: RequestMetrics[] = [];
  readonly startedAt = Date.now();

  constructor(upstreams: Upstream[], active: string | undefined) {
    this.upstreams = upstreams;
    this.active = this.#find(active ?? upstreams[0]!.name);
  }

  activate(name: string): void {
    this.active = this.#find(name);
  }

  put(upstream: Upstream): void {
    const at = this.upstreams.findIndex((u) => u.name === upstream.name);
    if (at === -1) this.upstreams.push(upstream);
    else this.upstreams[at] = upstream;
    if (this.active.name === upstream.name) this.active = upstream;
  }

  /** A request whose `model` names an upstream goes there; anything else to the active one. */
  select(model: string): Upstream {
    return this.upstreams.find((u) => u.name === model) ?? this.active;
  }

  recordEnd(metrics: RequestMetrics): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (metrics.error !== undefined) this.errors++;
    this.recent.push(metrics);
    if (this.recent.length > RECENT_LIMIT) this.recent.shift();
  }

  snapshot(url: string, counter: TokenCounter, traceDir: string | undefined): ProxyStatus {
    return {
      url,
      active: this.active.name,
      upstreams: this.upstreams.map((u) => {
        const reason = u.unavailable?.();
        return { name: u.name, url: u.url, protocol: u.protocol, model: u.model, contextWindow: u.contextWindow, available: reason === undefined, reason };
      }),
      requests: { total: this.total, inFlight: this.inFlight, errors: this.errors },
      recent: [...this.recent],
      calibration: Object.fromEntries(this.upstreams.map((u) => [u.name, u.model === undefined ? undefined : counter.ratio(u.model)])),
      traceDir,
      uptimeMs: Date.now() - this.startedAt,
      process: processStats(),
    };
  }

  #find(name: string): Upstream {
    const upstream = this.upstreams.find((u) => u.name === name);
    if (upstream === undefined) {
      throw new Error(`unknown backend "${name}"; known: ${this.upstreams.map((u) => u.name).join(', ')}`);
    }
    return upstream;
  }
}

interface RouteContext {
  key: string;
  deps: ExchangeDeps;
  state: ProxyState;
  gate: WarmupGate;
  observe: ProxyOptions['observeRequest'];
  control: ProxyControl | undefined;
}

async function route(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  try {
    checkOrigin(req);
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    // Claude Code probes `HEAD /` without credentials at start-up.
    if (path === '/' && (method === 'HEAD' || method === 'GET')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(method === 'HEAD' ? undefined : 'anyclaude proxy\n');
      return;
    }
    checkKey(req, ctx.key);
    if (method === 'POST' && path === '/v1/messages') return await messages(req, res, ctx);
    if (method === 'POST' && path === '/v1/messages/count_tokens') return await countTokens(req, res, ctx);
    if (method === 'GET' && path === '/v1/models') return models(res, ctx.state);
    if (method === 'GET' && path === '/_anyclaude/status') return json(res, 200, ctx.state.snapshot(`http://${req.headers.host}`, ctx.deps.counter, ctx.deps.trace?.root));
    if (ctx.control !== undefined && method === 'GET' && path === '/_anyclaude/state') return json(res, 200, ctx.control.state());
    if (ctx.control !== undefined && method === 'POST' && path === '/_anyclaude/switch') return await switchBackend(req, res, ctx.control);
    throw new ApiError(404, 'not_found_error', `${method} ${path} is not an endpoint of anyclaude`);
  } catch (error) {
    if (error instanceof ApiError) sendJsonError(res, error);
    else throw error;
  }
}

async function messages(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const rawBody = await readBody(req);
  const parsed = parseMessagesRequest(parseJson(rawBody));
  if (!parsed.ok) throw badRequest(parsed.error);
  const request = parsed.value;
  const upstream = ctx.state.select(request.model);
  checkTranslatable(request, upstream);
  ctx.observe?.(request, req.headers, upstream);
  // Time held behind a warm-up is time the user waits: it counts in the request's TTFT.
  const startedAt = Date.now();
  const admission = await passGate(req, res, request, upstream, ctx);
  if (admission === undefined) return;
  const id = randomBytes(12).toString('hex');
  const sessionHeader = req.headers['x-claude-code-session-id'];
  const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
  const fitted = await fitWindow(request, upstream, sessionId, ctx.deps);
  const exchange: Exchange = { id, req, res, rawBody, request: fitted.request, upstream, sessionId, startedAt, ...(fitted.trimmed === undefined ? {} : { trimmed: fitted.trimmed }) };
  ctx.state.total++;
  ctx.state.inFlight++;
  ctx.deps.events.emit('request:start', { id, sessionId: exchange.sessionId, upstream: upstream.name, model: request.model, stream: request.stream === true, at: exchange.startedAt });
  try {
    if (upstream.protocol === 'anthropic') await anthropicExchange(exchange, ctx.deps);
    else await openaiExchange(exchange, ctx.deps);
  } finally {
    admission.release();
  }
}

/** Translation would drop a block of a type no Anthropic document names; an Anthropic-protocol upstream gets it unchanged and decides. */
function checkTranslatable(request: MessagesRequest, upstream: Upstream): void {
  if (upstream.protocol === 'anthropic') return;
  const unknown = unknownBlock(request.messages);
  if (unknown !== undefined) throw badRequest(unknown);
}

/** The request as `--context-strategy window` shortens it (unchanged under the default strategy or an unknown window). */
async function fitWindow(request: MessagesRequest, upstream: Upstream, sessionId: string | undefined, deps: ExchangeDeps): Promise<{ request: MessagesRequest; trimmed: Trimmed | undefined }> {
  const window = upstream.contextWindow;
  if (deps.trimmer === undefined || window === undefined) return { request, trimmed: undefined };
  const model = upstream.model ?? request.model;
  const segmentsOf = (r: MessagesRequest): readonly string[] =>
    upstream.protocol === 'anthropic' ? promptSegments(r) : anthropicToOpenAI(r, { model, profile: upstream.profile }).segments;
  const fitted = await deps.trimmer.fit({ request, sessionId, model, contextWindow: window, segmentsOf });
  if (fitted.newCut && fitted.trimmed !== undefined) {
    deps.events.log('info', 'context', `left out ${earlierMessages(fitted.trimmed.messages)} (~${fitted.trimmed.tokens} tokens) so the prompt fits ${upstream.name}'s ${window}-token window (--context-strategy window)`);
  }
  return fitted;
}

/**
 * Warm-ups register with the gate (or are not started); real requests wait behind a warm-up of
 * their own prefix or abort one of another. Undefined: there is nothing to forward.
 */
async function passGate(req: IncomingMessage, res: ServerResponse, request: MessagesRequest, upstream: Upstream, ctx: RouteContext): Promise<Admission | undefined> {
  const ended = new Promise<void>((resolve) => res.once('close', resolve));
  if (req.headers[WARMUP_HEADER] !== undefined) {
    // The gate aborts a warm-up by hanging up on it; the exchange notices that even before it sends upstream.
    const refused = ctx.gate.admitWarmup(upstream.name, promptPrefixKey(request, upstream), { abort: () => res.destroy(), ended });
    if (refused !== undefined) throw new ApiError(409, 'invalid_request_error', `warm-up not started: ${refused}`, { [WARMUP_HEADER]: WARMUP_SKIPPED });
    return { heldMs: 0, release: () => undefined };
  }
  let gone = false;
  void ended.then(() => (gone = true));
  const admission = await ctx.gate.admit(upstream.name, () => promptPrefixKey(request, upstream));
  if (!gone) return admission;
  admission.release();
  ctx.deps.events.log('info', 'proxy', `a client left after ${admission.heldMs} ms held behind a warm-up; nothing was sent upstream`);
  return undefined;
}

/** Counted the way `/v1/messages` counts, so Claude Code's `/context` matches what the backend will see. */
async function countTokens(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const parsed = parseCountTokensRequest(parseJson(await readBody(req)));
  if (!parsed.ok) throw badRequest(parsed.error);
  const request: MessagesRequest = parsed.value;
  const upstream = ctx.state.select(request.model);
  checkTranslatable(request, upstream);
  const model = upstream.model ?? request.model;
  const segments = upstream.protocol === 'openai' ? anthropicToOpenAI(request, { model, profile: upstream.profile }).segments : promptSegments(request);
  const estimate = await ctx.deps.counter.exact(model, segments);
  json(res, 200, { input_tokens: estimate.tokens });
}

const switchSchema = z.object({ backend: z.string().min(1), model: z.string().min(1).optional() });

async function switchBackend(req: IncomingMessage, res: ServerResponse, control: ProxyControl): Promise<void> {
  const parsed = switchSchema.safeParse(parseJson(await readBody(req)));
  if (!parsed.success) throw badRequest('expected {"backend": "<name>", "model"?: "<id>"}');
  try {
    await control.switchTo(parsed.data.backend, parsed.data.model);
  } catch (error) {
    throw new ApiError(409, 'invalid_request_error', error instanceof Error ? error.message : String(error));
  }
  json(res, 200, { ok: true, active: parsed.data.backend });
}

function models(res: ServerResponse, state: ProxyState): void {
  const data = state.upstreams.map((u) => ({
    type: 'model',
    id: u.name,
    display_name: `${u.name}${u.model === undefined ? '' : ` (${u.model})`}`,
    created_at: '1970-01-01T00:00:00Z',
  }));
  json(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function parseJson(text: string): unknown {
  const breach = textOverLimits(text);
  if (breach?.kind === 'depth') throw badRequest(`request body nests more than ${MAX_PARSE_DEPTH} levels (at character ${breach.at}); anyclaude accepts at most ${MAX_DEPTH}`);
  if (breach?.kind === 'containers') throw badRequest(`request body holds more than ${MAX_CONTAINERS.toLocaleString('en-US')} arrays and objects (at character ${breach.at}); anyclaude accepts at most that many`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
