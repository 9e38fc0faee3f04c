/**
 * Any OpenAI-compatible server named by URL (vLLM, SGLang, exo, a hosted API), plus the helpers
 * every backend adapter shares: discovery requests with short timeouts, reading untyped JSON,
 * building the Upstream, and wrapping a server as a RunningBackend.
 */
import { request } from 'undici';
import type { CoreEvents } from '../core/events.js';
import { AnyclaudeError } from '../core/errors.js';
import { joinUrl, upstreamAgent } from '../core/upstream.js';
import { externalBackend, makeUpstream } from './running-backend.js';
import type { UpstreamFlavor } from '../translate/upstream-profile.js';
import type { BackendAdapter, BackendContext, BackendInfo, BackendName, BackendStartOptions, Detection, RunningBackend } from './backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { tryParseJson } from '../core/json-value.js';

// ---- shared by the adapters -------------------------------------------------------------------

/** A discovery request gives up after this long (ms): a local server answers these in milliseconds. */
export const PROBE_TIMEOUT_MS = 1_500;
/** Log lines a status() quotes. */

export interface HttpAnswer {
  status: number;
  text: string;
  /** The parsed body; undefined when it is not JSON. */
  json: unknown;
}

export interface ProbeOptions {
  timeoutMs?: number;
  apiKey?: string;
  method?: 'GET' | 'POST';
  body?: unknown;
}

/** One discovery request; undefined when nothing answered (refused, timed out, reset). Never throws. */
export async function probe(url: string, options: ProbeOptions = {}): Promise<HttpAnswer | undefined> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const headers: Record<string, string> = {};
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await request(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      dispatcher: upstreamAgent,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    return { status: response.statusCode, text, json: tryParseJson(text) };
  } catch {
    return undefined;
  }
}

export function isOk(answer: HttpAnswer | undefined): answer is HttpAnswer {
  return answer !== undefined && answer.status >= 200 && answer.status < 300;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

export function loopbackUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export interface OpenAIModelEntry {
  id: string;
  /** vLLM `max_model_len`, or a `context_length` (OpenRouter, some gateways). */
  contextLength: number | undefined;
}

/** `GET /v1/models` as a list of entries; undefined when the server does not answer it. */
export async function listOpenAIModels(base: string, options: ProbeOptions = {}): Promise<OpenAIModelEntry[] | undefined> {
  const answer = await probe(joinUrl(base, '/v1/models'), options);
  if (!isOk(answer) || !isRecord(answer.json)) return undefined;
  return records(answer.json.data).flatMap((entry) => {
    const id = stringField(entry.id);
    if (id === undefined) return [];
    return [{ id, contextLength: positiveInt(entry.max_model_len) ?? positiveInt(entry.context_length) ?? positiveInt(entry.context_window) }];
  });
}

export function warn(events: CoreEvents, source: BackendName, message: string): void {
  events.log('warn', source, message);
}

// ---- the openai adapter -----------------------------------------------------------------------

function requireUrl(options: BackendStartOptions): string {
  if (options.url === undefined || options.url.trim() === '') {
    throw new AnyclaudeError('BACKEND_URL_REQUIRED', 'the openai backend needs the URL of an OpenAI-compatible server', {
      fix: 'pass --url, e.g. --backend openai --url http://gpu-box:8000/v1 (vLLM, SGLang, exo, …)',
    });
  }
  return normalizeBaseUrl(options.url);
}

async function detect(_ctx: BackendContext, options: BackendStartOptions = {}): Promise<Detection | undefined> {
  if (options.url === undefined) return undefined;
  const url = normalizeBaseUrl(options.url);
  const models = await listOpenAIModels(url, { ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) });
  if (models === undefined) return undefined;
  return { name: 'openai', url, detail: `OpenAI-compatible server at ${url}${models[0] === undefined ? '' : ` serving ${models.map((m) => m.id).join(', ')}`}` };
}

async function start(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
  const url = requireUrl(options);
  const apiKey = options.apiKey;
  const models = await listOpenAIModels(url, { timeoutMs: 10_000, ...(apiKey === undefined ? {} : { apiKey }) });
  if (models === undefined && options.model === undefined) {
    throw new AnyclaudeError('BACKEND_UNREACHABLE', `no OpenAI-compatible server answered ${joinUrl(url, '/v1/models')}`, {
      fix: 'check that the server is running and the URL is right (and --api-key if it needs one), or pass --model <served id> if it has no /v1/models',
    });
  }
  if (models === undefined) warn(ctx.events, 'openai', `${joinUrl(url, '/v1/models')} did not answer; using --model ${options.model ?? ''} as given`);
  return fromModelList({ name: 'openai', flavor: 'openai', url, models }, options, ctx);
}

/**
 * A running OpenAI-compatible server, described from its model list: the model asked for (or the
 * first listed) and its context when the list says it. Shared by the openai adapter and LM Studio's
 * fallback for servers without LM Studio's own API.
 */
export function fromModelList(
  server: { name: BackendName; flavor: UpstreamFlavor; url: string; models: OpenAIModelEntry[] | undefined },
  options: BackendStartOptions,
  ctx: BackendContext,
): RunningBackend {
  const { name, flavor, url, models } = server;
  const entry = options.model === undefined ? models?.[0] : models?.find((m) => m.id === options.model);
  const model = options.model ?? entry?.id;
  if (model === undefined) {
    throw new AnyclaudeError('MODEL_NOT_FOUND', `${url} lists no models`, { fix: 'load a model on the server, or pass --model <served id>' });
  }
  if (options.model !== undefined && models !== undefined && entry === undefined) {
    warn(ctx.events, name, `${url} does not list ${options.model} (it lists ${models.map((m) => m.id).join(', ') || 'nothing'}); sending it anyway`);
  }
  const protocol = options.protocol ?? 'openai';
  const contextWindow = options.context ?? entry?.contextLength;
  const info: BackendInfo = {
    name,
    url,
    modelId: model,
    contextWindow,
    capabilities: { toolCalls: 'unknown', cachedTokens: false, protocols: [protocol], preferred: protocol },
    managed: false,
  };
  return externalBackend(info, makeUpstream({ name, url, protocol, flavor, model, contextWindow, apiKey: options.apiKey }));
}

export const openaiBackend: BackendAdapter = { name: 'openai', detect, start };
