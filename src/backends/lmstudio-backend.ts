/**
 * LM Studio, found running (anyclaude never starts the app). Where it listens comes from
 * `lms server status` when the CLI is installed, else port 1234; which models are loaded from
 * `/api/v1/models` (0.4.0+) or `/api/v0/models` (older). A model that is not loaded is loaded
 * with `lms load` when the CLI is there.
 */
import { execa } from 'execa';
import { AnyclaudeError } from '../core/errors.js';
import { joinUrl, type UpstreamProtocol } from '../core/upstream.js';
import type { BackendAdapter, BackendContext, BackendInfo, BackendStartOptions, Detection, RunningBackend } from './backend.js';
import { bestMatches } from './model-resolver.js';
import { fromModelList, isOk, isRecord, listOpenAIModels, loopbackUrl, positiveInt, probe, records, stringField, warn } from './openai-backend.js';
import { externalBackend, makeUpstream } from './running-backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { findInCatalog } from '../models/catalog.js';

export const LMSTUDIO_DEFAULT_PORT = 1234;
/** `lms server status` starts a Node process that talks to the app: slow, but seconds, not more (ms). */
const LMS_STATUS_TIMEOUT_MS = 4_000;
/** Loading a 30B model from disk can take a minute or two (ms). */
const LMS_LOAD_TIMEOUT_MS = 600_000;
/** Context asked of `lms load` when --context is not given: room for Claude Code's ~20K-token prompt and a long session, without the memory of a model's full 256K. */
const DEFAULT_LOAD_CONTEXT = 65_536;

export interface LmStudioModel {
  key: string;
  /** What requests name: the loaded instance's identifier (v1 API), or the id (v0 API). */
  id: string;
  type: string | undefined;
  loaded: boolean;
  loadedContext: number | undefined;
  maxContext: number | undefined;
  toolUse: boolean | undefined;
}

export interface LmStudioServer {
  url: string;
  /** `v1`: `/api/v1/models` exists, so LM Studio is 0.4.x or later. */
  api: 'v1' | 'v0';
  models: LmStudioModel[];
}

export interface LmStudioAdapterOptions {
  /** The `lms` CLI to run (default `lms` from PATH); a missing one means "no CLI". */
  lmsCommand?: string;
}

/** Every model LM Studio lists, or undefined when no LM Studio API answers at `url`. */
export async function discoverLmStudio(url: string, apiKey?: string): Promise<LmStudioServer | undefined> {
  const auth = apiKey === undefined ? {} : { apiKey };
  const v1 = await probe(joinUrl(url, '/api/v1/models'), auth);
  if (isOk(v1) && isRecord(v1.json) && Array.isArray(v1.json.models)) return { url, api: 'v1', models: records(v1.json.models).flatMap(fromV1) };
  const v0 = await probe(joinUrl(url, '/api/v0/models'), auth);
  if (isOk(v0) && isRecord(v0.json) && Array.isArray(v0.json.data)) return { url, api: 'v0', models: records(v0.json.data).flatMap(fromV0) };
  return undefined;
}

function fromV1(entry: Record<string, unknown>): LmStudioModel[] {
  const key = stringField(entry.key);
  if (key === undefined) return [];
  const caps = isRecord(entry.capabilities) ? entry.capabilities : {};
  const common = {
    key,
    type: stringField(entry.type),
    maxContext: positiveInt(entry.max_context_length),
    toolUse: typeof caps.trained_for_tool_use === 'boolean' ? caps.trained_for_tool_use : undefined,
  };
  const instances = records(entry.loaded_instances);
  if (instances.length === 0) return [{ ...common, id: key, loaded: false, loadedContext: undefined }];
  return instances.map((instance) => ({
    ...common,
    id: stringField(instance.id) ?? key,
    loaded: true,
    loadedContext: isRecord(instance.config) ? positiveInt(instance.config.context_length) : undefined,
  }));
}

function fromV0(entry: Record<string, unknown>): LmStudioModel[] {
  const id = stringField(entry.id);
  if (id === undefined) return [];
  return [
    {
      key: id,
      id,
      type: stringField(entry.type),
      loaded: entry.state === 'loaded',
      loadedContext: positiveInt(entry.loaded_context_length),
      maxContext: positiveInt(entry.max_context_length),
      toolUse: Array.isArray(entry.capabilities) ? entry.capabilities.includes('tool_use') : undefined,
    },
  ];
}

/** Chat models only: embedding models cannot answer Claude Code. */
export function isChatModel(m: LmStudioModel): boolean {
  return m.type === undefined || m.type === 'llm' || m.type === 'vlm';
}

interface LmsResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the `lms` CLI; undefined when it cannot be run at all (not installed). Never throws. */
async function runLms(lms: string, args: string[], timeoutMs: number): Promise<LmsResult | undefined> {
  try {
    const result = await execa(lms, args, { reject: false, timeout: timeoutMs, stdin: 'ignore' });
    if (result.timedOut) return { exitCode: -1, stdout: '', stderr: `lms ${args[0] ?? ''} timed out after ${Math.round(timeoutMs / 1000)} s` };
    if (result.exitCode === undefined) return undefined;
    return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
  } catch {
    return undefined;
  }
}

export function createLmStudioBackend(adapterOptions: LmStudioAdapterOptions = {}): BackendAdapter {
  const lms = adapterOptions.lmsCommand ?? 'lms';

  /** Explicit --url/--port win; else the port `lms` reports; else 1234. */
  async function locate(options: BackendStartOptions): Promise<string> {
    if (options.url !== undefined) return normalizeBaseUrl(options.url);
    if (options.port !== undefined) return loopbackUrl(options.port);
    const status = await runLms(lms, ['server', 'status', '--json', '--quiet'], LMS_STATUS_TIMEOUT_MS);
    const parsed = status?.exitCode === 0 ? parseJsonObject(status.stdout) : undefined;
    const port = positiveInt(parsed?.port);
    return loopbackUrl(parsed?.running === true && port !== undefined ? port : LMSTUDIO_DEFAULT_PORT);
  }

  async function detect(_ctx: BackendContext, options: BackendStartOptions = {}): Promise<Detection | undefined> {
    // Only LM Studio's own API counts here: detection must not take another server for LM Studio.
    // Starting it (ANYCLAUDE_MODE=lmstudio, LMSTUDIO_URL) falls back to the OpenAI model list.
    const server = await discoverLmStudio(await locate(options), options.apiKey);
    if (server === undefined) return undefined;
    const loaded = server.models.filter((m) => m.loaded && isChatModel(m));
    const what = loaded.length === 0 ? 'no model loaded' : `loaded: ${loaded.map((m) => `${m.id}${m.loadedContext === undefined ? '' : ` (${m.loadedContext} ctx)`}`).join(', ')}`;
    return { name: 'lmstudio', url: server.url, detail: `LM Studio${server.api === 'v1' ? ' 0.4+' : ''} at ${server.url}, ${what}` };
  }

  async function start(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
    const url = await locate(options);
    const server = await discoverLmStudio(url, options.apiKey);
    if (server === undefined) {
      const fallback = await openAICompatible(url, options, ctx);
      if (fallback !== undefined) return fallback;
      throw new AnyclaudeError('LMSTUDIO_NOT_RUNNING', `LM Studio's server is not answering at ${url}`, {
        fix: "start it with `lms server start` (or LM Studio → Developer → Start Server), or pass --port/--url if it listens elsewhere",
      });
    }
    const model = await chooseModel(server, options, ctx);
    const v1 = server.api === 'v1';
    // /api/v1 appeared in 0.4.0 and native /v1/messages in 0.4.1: a v1 API is the best sign there is.
    const protocols: readonly UpstreamProtocol[] = v1 ? ['anthropic', 'openai'] : ['openai'];
    const protocol = options.protocol ?? protocols[0] ?? 'openai';
    if (protocol === 'anthropic' && !v1) warn(ctx.events, 'lmstudio', 'this LM Studio has no /api/v1 (older than 0.4); its native /v1/messages needs 0.4.1+ — use --protocol openai if requests fail');
    const contextWindow = model.loadedContext ?? options.context;
    const info: BackendInfo = {
      name: 'lmstudio',
      url: server.url,
      modelId: model.id,
      contextWindow,
      capabilities: { toolCalls: model.toolUse === true ? 'native' : 'unknown', cachedTokens: false, protocols, preferred: protocols[0] ?? 'openai' },
      managed: false,
    };
    return externalBackend(info, makeUpstream({ name: 'lmstudio', url: server.url, protocol, flavor: 'lmstudio', model: model.id, contextWindow, apiKey: options.apiKey }));
  }

  async function chooseModel(server: LmStudioServer, options: BackendStartOptions, ctx: BackendContext): Promise<LmStudioModel> {
    const chat = server.models.filter(isChatModel);
    const loaded = chat.filter((m) => m.loaded);
    const listing = describeModels(chat);
    if (options.model === undefined) {
      const [only] = loaded;
      if (loaded.length === 1 && only !== undefined) return only;
      if (loaded.length > 1) {
        throw new AnyclaudeError('MODEL_AMBIGUOUS', `LM Studio has ${loaded.length} models loaded; which one?\n${listing}`, { fix: 'pass --model <name> (part of the name is enough)' });
      }
      throw new AnyclaudeError('NO_MODEL_LOADED', `LM Studio has no model loaded\n${listing}`, {
        fix: 'pass --model <key> (anyclaude loads it with `lms load`), or load one in LM Studio',
      });
    }
    const hits = bestMatches(options.model, loaded, (m) => m.key);
    const hit = hits.length === 0 ? bestMatches(options.model, loaded, (m) => m.id) : hits;
    const [one] = hit;
    if (hit.length === 1 && one !== undefined) return one;
    if (hit.length > 1) throw ambiguous(options.model, hit.map((m) => m.id));
    const available = bestMatches(options.model, uniqueKeys(chat.filter((m) => !m.loaded)), (m) => m.key);
    const [candidate] = available;
    if (available.length > 1) throw ambiguous(options.model, available.map((m) => m.key));
    if (candidate === undefined) {
      // A catalog name (Qwen3-Coder-30B) knows its LM Studio key, and so the exact download command.
      const [entry, ...others] = findInCatalog(options.model);
      const key = others.length === 0 ? entry?.lmstudio : undefined;
      const byKey = key === undefined ? undefined : chat.find((m) => m.key === key);
      if (byKey !== undefined) return byKey.loaded ? byKey : loadModel(server.url, byKey, options, ctx);
      throw new AnyclaudeError('MODEL_NOT_FOUND', `LM Studio has no model matching "${options.model}"\n${listing}`, {
        fix: key === undefined ? 'pick one of those, or download it in LM Studio (or `lms get <name>`)' : `download it: lms get ${key} (or in LM Studio's Discover tab)`,
      });
    }
    return loadModel(server.url, candidate, options, ctx);
  }

  async function loadModel(url: string, model: LmStudioModel, options: BackendStartOptions, ctx: BackendContext): Promise<LmStudioModel> {
    const context = options.context ?? Math.min(model.maxContext ?? DEFAULT_LOAD_CONTEXT, DEFAULT_LOAD_CONTEXT);
    const args = ['load', model.key, '--context-length', String(context)];
    ctx.events.log('info', 'lmstudio', `${model.key} is not loaded; running lms ${args.join(' ')}`);
    const result = await runLms(lms, args, LMS_LOAD_TIMEOUT_MS);
    if (result === undefined) {
      throw new AnyclaudeError('MODEL_NOT_LOADED', `${model.key} is not loaded in LM Studio, and the lms CLI is not available to load it`, {
        fix: `load it in LM Studio (context length ${context} or more), or install lms (https://lmstudio.ai/docs/cli) and run: lms load ${model.key} --context-length ${context}`,
      });
    }
    if (result.exitCode !== 0) {
      const said = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-5).join('\n  ');
      throw new AnyclaudeError('LMSTUDIO_LOAD_FAILED', `lms load ${model.key} failed (exit ${result.exitCode})${said === '' ? '' : `:\n  ${said}`}`, {
        fix: 'try a smaller --context, free memory by unloading other models (`lms unload --all`), or load it in LM Studio to see the error',
      });
    }
    const after = await discoverLmStudio(url);
    const loaded = after?.models.find((m) => m.loaded && m.key === model.key);
    if (loaded === undefined) {
      throw new AnyclaudeError('LMSTUDIO_LOAD_FAILED', `lms load ${model.key} succeeded but LM Studio does not list it as loaded`, { fix: 'check LM Studio, then run anyclaude again' });
    }
    return loaded;
  }

  return { name: 'lmstudio', detect, start };
}

/**
 * LMSTUDIO_URL may name an LM Studio too old for its REST API, or any OpenAI-compatible server a
 * user set up that way: its OpenAI model list is enough to serve from.
 */
async function openAICompatible(url: string, options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend | undefined> {
  const models = await listOpenAIModels(url, { timeoutMs: 10_000, ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) });
  if (models === undefined) return undefined;
  warn(ctx.events, 'lmstudio', `no LM Studio API at ${url}; serving from its OpenAI model list (${models.map((m) => m.id).join(', ') || 'empty'})`);
  return fromModelList({ name: 'lmstudio', flavor: 'lmstudio', url, models }, options, ctx);
}

function ambiguous(query: string, names: string[]): AnyclaudeError {
  return new AnyclaudeError('MODEL_AMBIGUOUS', `"${query}" matches several LM Studio models: ${names.join(', ')}`, { fix: 'pass more of the name' });
}

function uniqueKeys(models: LmStudioModel[]): LmStudioModel[] {
  const byKey = new Map<string, LmStudioModel>();
  for (const m of models) if (!byKey.has(m.key)) byKey.set(m.key, m);
  return [...byKey.values()];
}

function describeModels(models: LmStudioModel[]): string {
  const loaded = models.filter((m) => m.loaded).map((m) => `${m.id}${m.loadedContext === undefined ? '' : ` (${m.loadedContext} ctx)`}`);
  const available = uniqueKeys(models.filter((m) => !m.loaded)).map((m) => m.key);
  return `  loaded: ${loaded.join(', ') || 'none'}\n  available: ${available.join(', ') || 'none'}`;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text.trim());
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const lmStudioBackend: BackendAdapter = createLmStudioBackend();
