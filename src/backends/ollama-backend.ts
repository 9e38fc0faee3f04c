/**
 * Ollama, found running (`GET /` says "Ollama is running"). `/api/ps` lists the loaded models with
 * the context they were loaded with; `/api/show` gives a model's trained context and capabilities.
 * Ollama's default context is small (4K under 24 GiB of GPU memory), too small for Claude Code's
 * ~20K-token prompt, so anyclaude warns and says how to raise it.
 */
import { AnyclaudeError } from '../core/errors.js';
import { joinUrl, type UpstreamProtocol } from '../core/upstream.js';
import type { BackendAdapter, BackendContext, BackendInfo, BackendStartOptions, Detection, RunningBackend } from './backend.js';
import { bestMatches } from './model-resolver.js';
import { isOk, isRecord, loopbackUrl, positiveInt, probe, records, stringField, warn } from './openai-backend.js';
import { externalBackend, makeUpstream } from './running-backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { findInCatalog } from '../models/catalog.js';

export const OLLAMA_DEFAULT_PORT = 11434;
/** Below this many tokens a Claude Code session barely starts (system prompt and tools are ~20K). */
export const OLLAMA_SMALL_CONTEXT = 32_768;
/** Native `/v1/messages` arrived in Ollama 0.14.0. */
const ANTHROPIC_SINCE: readonly number[] = [0, 14, 0];

/** Where Ollama listens: --url, --port, OLLAMA_HOST (read the way Ollama reads it), or 127.0.0.1:11434. */
export function ollamaUrl(options: BackendStartOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (options.url !== undefined) return normalizeBaseUrl(options.url);
  if (options.port !== undefined) return loopbackUrl(options.port);
  const host = env.OLLAMA_HOST?.trim();
  return host === undefined || host === '' ? loopbackUrl(OLLAMA_DEFAULT_PORT) : parseOllamaHost(host);
}

/** `0.0.0.0`, `:11434`, `127.0.0.1:8080`, `http://box:11434`: as Ollama's envconfig.Host reads them, but reachable (a wildcard host becomes 127.0.0.1). */
export function parseOllamaHost(value: string): string {
  const [scheme, rest] = value.includes('://') ? value.split('://', 2) : ['http', value];
  const defaultPort = value.includes('://') ? (scheme === 'https' ? '443' : '80') : String(OLLAMA_DEFAULT_PORT);
  try {
    const url = new URL(`${scheme ?? 'http'}://${(rest ?? '').startsWith(':') ? `127.0.0.1${rest ?? ''}` : (rest ?? '')}`);
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]' || url.hostname === '') url.hostname = '127.0.0.1';
    if (url.port === '') url.port = defaultPort;
    return normalizeBaseUrl(`${url.protocol}//${url.host}${url.pathname}`);
  } catch {
    return loopbackUrl(OLLAMA_DEFAULT_PORT);
  }
}

export function versionAtLeast(version: string | undefined, minimum: readonly number[]): boolean {
  if (version === undefined) return false;
  const parts = version.replace(/^v/, '').split(/[.-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const want = minimum[i] ?? 0;
    if (Number.isNaN(have)) return false;
    if (have !== want) return have > want;
  }
  return true;
}

async function isOllama(url: string): Promise<boolean> {
  const root = await probe(joinUrl(url, '/'));
  return isOk(root) && root.text.includes('Ollama is running');
}

export interface LoadedModel {
  name: string;
  context: number | undefined;
}

export async function loadedModels(url: string): Promise<LoadedModel[]> {
  const ps = await probe(joinUrl(url, '/api/ps'));
  if (!isOk(ps) || !isRecord(ps.json)) return [];
  return records(ps.json.models).flatMap((m) => {
    const name = stringField(m.name) ?? stringField(m.model);
    return name === undefined ? [] : [{ name, context: positiveInt(m.context_length) }];
  });
}

export async function installedModels(url: string): Promise<string[]> {
  const tags = await probe(joinUrl(url, '/api/tags'));
  if (!isOk(tags) || !isRecord(tags.json)) return [];
  return records(tags.json.models).flatMap((m) => stringField(m.name) ?? []);
}

interface ShownModel {
  trainedContext: number | undefined;
  tools: boolean;
}

/** `/api/show`: undefined when Ollama does not have the model. */
async function showModel(url: string, name: string): Promise<ShownModel | undefined> {
  const shown = await probe(joinUrl(url, '/api/show'), { method: 'POST', body: { model: name }, timeoutMs: 5_000 });
  if (!isOk(shown) || !isRecord(shown.json)) return undefined;
  const info = isRecord(shown.json.model_info) ? shown.json.model_info : {};
  const trained = Object.entries(info).find(([key]) => key.endsWith('.context_length'))?.[1];
  const caps = Array.isArray(shown.json.capabilities) ? shown.json.capabilities : [];
  return { trainedContext: positiveInt(trained), tools: caps.includes('tools') };
}

async function detect(_ctx: BackendContext, options: BackendStartOptions = {}): Promise<Detection | undefined> {
  const url = ollamaUrl(options);
  if (!(await isOllama(url))) return undefined;
  const loaded = await loadedModels(url);
  const what = loaded.length === 0 ? 'no model loaded' : `loaded: ${loaded.map((m) => `${m.name}${m.context === undefined ? '' : ` (${m.context} ctx)`}`).join(', ')}`;
  return { name: 'ollama', url, detail: `Ollama at ${url}, ${what}` };
}

async function start(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
  const url = ollamaUrl(options);
  if (!(await isOllama(url))) {
    throw new AnyclaudeError('OLLAMA_NOT_RUNNING', `Ollama is not answering at ${url}`, {
      fix: 'start it (`ollama serve`, or open the Ollama app), or set OLLAMA_HOST / pass --url if it listens elsewhere',
    });
  }
  const [versionAnswer, loaded] = await Promise.all([probe(joinUrl(url, '/api/version')), loadedModels(url)]);
  const version = isOk(versionAnswer) && isRecord(versionAnswer.json) ? stringField(versionAnswer.json.version) : undefined;
  const { name, loadedContext } = await chooseModel(url, loaded, options);
  const shown = await showModel(url, name);
  if (shown === undefined) {
    throw new AnyclaudeError('MODEL_NOT_FOUND', `Ollama does not have the model ${name}`, { fix: `pull it first: ollama pull ${name}` });
  }
  let contextWindow: number | undefined;
  if (loadedContext !== undefined) {
    contextWindow = loadedContext;
    if (loadedContext < OLLAMA_SMALL_CONTEXT) {
      warn(ctx.events, 'ollama', `${name} is loaded with a ${loadedContext}-token context, too small for Claude Code; restart Ollama with OLLAMA_CONTEXT_LENGTH=65536 (or more) and load it again`);
    }
  } else {
    contextWindow = options.context ?? shown.trainedContext;
    warn(
      ctx.events,
      'ollama',
      `${name} is not loaded yet; Ollama will load it with its default context (4K–32K depending on GPU memory), not the ${shown.trainedContext ?? 'full'} tokens it was trained for. Set OLLAMA_CONTEXT_LENGTH=65536 (or more) where \`ollama serve\` runs, then restart it`,
    );
  }
  const anthropic = versionAtLeast(version, ANTHROPIC_SINCE);
  const protocols: readonly UpstreamProtocol[] = anthropic ? ['openai', 'anthropic'] : ['openai'];
  const protocol = options.protocol ?? 'openai';
  if (protocol === 'anthropic' && !anthropic) warn(ctx.events, 'ollama', `Ollama ${version ?? '(unknown version)'} may not have /v1/messages (0.14.0+); use --protocol openai if requests fail`);
  const info: BackendInfo = {
    name: 'ollama',
    url,
    modelId: name,
    contextWindow,
    capabilities: { toolCalls: shown.tools ? 'native' : 'text', cachedTokens: false, protocols, preferred: 'openai' },
    managed: false,
  };
  return externalBackend(info, makeUpstream({ name: 'ollama', url, protocol, flavor: 'ollama', model: name, contextWindow, apiKey: options.apiKey }));
}

async function chooseModel(url: string, loaded: LoadedModel[], options: BackendStartOptions): Promise<{ name: string; loadedContext: number | undefined }> {
  const query = options.model;
  if (query === undefined) {
    const [only] = loaded;
    if (loaded.length === 1 && only !== undefined) return { name: only.name, loadedContext: only.context };
    const installed = await installedModels(url);
    const listing = `loaded: ${loaded.map((m) => m.name).join(', ') || 'none'}; installed: ${installed.join(', ') || 'none'}`;
    if (loaded.length > 1) throw new AnyclaudeError('MODEL_AMBIGUOUS', `Ollama has ${loaded.length} models loaded (${listing})`, { fix: 'pass --model <name>' });
    throw new AnyclaudeError('NO_MODEL_LOADED', `Ollama has no model loaded (${listing})`, { fix: 'pass --model <name> (e.g. --model qwen3-coder:30b), or load one with `ollama run <name>`' });
  }
  const hits = bestMatches(query, loaded, (m) => m.name);
  const [hit] = hits;
  if (hits.length > 1) throw ambiguous(query, hits.map((m) => m.name));
  if (hit !== undefined) return { name: hit.name, loadedContext: hit.context };
  const installed = bestMatches(query, await installedModels(url), (n) => n);
  if (installed.length > 1) throw ambiguous(query, installed);
  // A catalog name (Qwen3-Coder-30B) means its Ollama tag (qwen3-coder:30b), installed or to pull.
  return { name: installed[0] ?? catalogTag(query) ?? query, loadedContext: undefined };
}

function catalogTag(query: string): string | undefined {
  const [entry, ...others] = findInCatalog(query);
  return others.length === 0 ? entry?.ollama : undefined;
}

function ambiguous(query: string, names: string[]): AnyclaudeError {
  return new AnyclaudeError('MODEL_AMBIGUOUS', `"${query}" matches several Ollama models: ${names.join(', ')}`, { fix: 'pass the full name, e.g. --model qwen3:4b' });
}

export const ollamaBackend: BackendAdapter = { name: 'ollama', detect, start };
