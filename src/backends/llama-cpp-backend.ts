/**
 * llama.cpp's `llama-server`: started by anyclaude when `--model` is a .gguf file (and the binary
 * is on PATH or in ANYCLAUDE_LLAMA_SERVER), otherwise found running. `/health` is 503 while the
 * model loads; `/props` gives the real context (n_ctx); `/v1/models` the served id.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnyclaudeError } from '../core/errors.js';
import { joinUrl } from '../core/upstream.js';
import { pickPort } from '../supervisor/ports.js';
import { httpAlive, httpReady } from '../supervisor/readiness.js';
import type { BackendAdapter, BackendCapabilities, BackendContext, BackendInfo, BackendStartOptions, Detection, RunningBackend } from './backend.js';
import { isOk, isRecord, listOpenAIModels, loopbackUrl, positiveInt, probe, stringField, warn } from './openai-backend.js';
import { externalBackend, makeUpstream, managedBackend, managedServer } from './running-backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';

export const LLAMA_SERVER_DEFAULT_PORT = 8080;
/** Context for a server anyclaude starts when --context is not given (tokens): Claude Code's prompt is ~20K. */
const DEFAULT_CONTEXT = 65_536;
/** How long a started server may take to load its model (ms): large GGUFs from a slow disk take minutes. */
const READY_TIMEOUT_MS = 600_000;
/** How long to wait for a running server that is still loading its model (ms). */
const LOADING_WAIT_MS = 300_000;
const LOADING_POLL_MS = 250;

const CAPABILITIES: BackendCapabilities = { toolCalls: 'native', cachedTokens: true, protocols: ['anthropic', 'openai'], preferred: 'anthropic' };

export interface LlamaServerProbe {
  state: 'ready' | 'loading';
  /** `/props` default_generation_settings.n_ctx: the context the server was started with. */
  contextWindow: number | undefined;
  modelId: string | undefined;
}

/** What a llama-server at `url` says about itself; undefined when none answers there. */
export async function probeLlamaServer(url: string): Promise<LlamaServerProbe | undefined> {
  const health = await probe(joinUrl(url, '/health'));
  if (health === undefined) return undefined;
  if (health.status === 503 && isLoadingError(health.json)) return { state: 'loading', contextWindow: undefined, modelId: undefined };
  if (!isOk(health)) return undefined;
  // mlx_lm.server has an always-ok /health on the same default port; only llama-server has /props.
  const props = await probe(joinUrl(url, '/props'));
  if (!isOk(props) || !isRecord(props.json) || !isRecord(props.json.default_generation_settings)) return undefined;
  const models = await listOpenAIModels(url);
  return { state: 'ready', contextWindow: positiveInt(props.json.default_generation_settings.n_ctx), modelId: models?.[0]?.id ?? stringField(props.json.model_path) };
}

function isLoadingError(body: unknown): boolean {
  return isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string' && /loading model/i.test(body.error.message);
}

function isGguf(model: string | undefined): model is string {
  return model !== undefined && /\.gguf$/i.test(model.trim());
}

/** The binary to start: ANYCLAUDE_LLAMA_SERVER when set, else `llama-server` on PATH. */
export async function findLlamaServer(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const explicit = env.ANYCLAUDE_LLAMA_SERVER;
  if (explicit !== undefined && explicit !== '') return (await isExecutable(explicit)) ? explicit : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'llama-server');
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function runningUrl(options: BackendStartOptions): string {
  if (options.url !== undefined) return normalizeBaseUrl(options.url);
  const envPort = positiveInt(Number(process.env.LLAMA_ARG_PORT));
  return loopbackUrl(options.port ?? envPort ?? LLAMA_SERVER_DEFAULT_PORT);
}

function expandModelPath(model: string): string {
  const trimmed = model.trim();
  return path.resolve(trimmed.startsWith('~/') ? path.join(os.homedir(), trimmed.slice(2)) : trimmed);
}

async function detect(_ctx: BackendContext, options: BackendStartOptions = {}): Promise<Detection | undefined> {
  if (isGguf(options.model) && options.url === undefined) {
    const binary = await findLlamaServer();
    const file = expandModelPath(options.model);
    if (binary !== undefined && (await stat(file).catch(() => undefined))?.isFile() === true) {
      return { name: 'llama-cpp', url: loopbackUrl(options.port ?? LLAMA_SERVER_DEFAULT_PORT), detail: `can start ${binary} with ${file}` };
    }
  }
  const url = runningUrl(options);
  const found = await probeLlamaServer(url);
  if (found === undefined) return undefined;
  const what = found.state === 'loading' ? 'loading its model' : `serving ${found.modelId ?? 'a model'}${found.contextWindow === undefined ? '' : ` (${found.contextWindow} ctx)`}`;
  return { name: 'llama-cpp', url, detail: `llama-server at ${url}, ${what}` };
}

async function start(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
  return isGguf(options.model) && options.url === undefined ? startManaged(options.model, options, ctx) : attach(options, ctx);
}

async function attach(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
  const url = runningUrl(options);
  let found = await probeLlamaServer(url);
  if (found?.state === 'loading') {
    ctx.events.log('info', 'llama-cpp', `llama-server at ${url} is loading its model; waiting`);
    const until = Date.now() + LOADING_WAIT_MS;
    while (found?.state === 'loading' && Date.now() < until) {
      await sleep(LOADING_POLL_MS);
      found = await probeLlamaServer(url);
    }
  }
  if (found === undefined) {
    throw new AnyclaudeError('LLAMA_SERVER_NOT_RUNNING', `no llama-server is answering at ${url}`, {
      fix: 'start one (llama-server -m model.gguf --port 8080 -c 65536 --jinja), pass --port/--url where it listens, or pass --model path/to/model.gguf so anyclaude starts it',
    });
  }
  if (found.state === 'loading') {
    throw new AnyclaudeError('LLAMA_SERVER_NOT_READY', `llama-server at ${url} was still loading its model after ${LOADING_WAIT_MS / 1000} s`, { fix: 'wait for it to finish loading (watch its log), then run anyclaude again' });
  }
  if (options.model !== undefined && found.modelId !== undefined && options.model !== found.modelId) {
    warn(ctx.events, 'llama-cpp', `llama-server at ${url} serves ${found.modelId}, not ${options.model}; using what it serves`);
  }
  const contextWindow = found.contextWindow ?? options.context;
  const protocol = options.protocol ?? CAPABILITIES.preferred;
  const info: BackendInfo = { name: 'llama-cpp', url, modelId: found.modelId, contextWindow, capabilities: CAPABILITIES, managed: false };
  return externalBackend(info, makeUpstream({ name: 'llama-cpp', url, protocol, flavor: 'llama-cpp', model: found.modelId, contextWindow, apiKey: options.apiKey }));
}

async function startManaged(model: string, options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
  const binary = await findLlamaServer();
  if (binary === undefined) {
    const explicit = process.env.ANYCLAUDE_LLAMA_SERVER;
    throw new AnyclaudeError('LLAMA_SERVER_NOT_FOUND', explicit ? `ANYCLAUDE_LLAMA_SERVER=${explicit} is not an executable file` : 'llama-server is not on PATH, so anyclaude cannot start a .gguf model', {
      fix: 'install llama.cpp (brew install llama.cpp, or a release from github.com/ggml-org/llama.cpp/releases), or set ANYCLAUDE_LLAMA_SERVER=/path/to/llama-server',
    });
  }
  const file = expandModelPath(model);
  if ((await stat(file).catch(() => undefined))?.isFile() !== true) {
    throw new AnyclaudeError('MODEL_NOT_FOUND', `no model file at ${file}`, { fix: 'pass the path of an existing .gguf file' });
  }
  const port = await pickPort(options.port, { strict: options.port !== undefined });
  const url = loopbackUrl(port);
  const context = options.context ?? DEFAULT_CONTEXT;
  const server = managedServer(ctx, 'llama-cpp', {
    name: 'llama-server',
    command: binary,
    args: ['-m', file, '--host', '127.0.0.1', '--port', String(port), '-c', String(context), '-np', '1', '--jinja', '--cache-reuse', '256'],
    readiness: httpReady(joinUrl(url, '/health')),
    liveness: httpAlive(joinUrl(url, '/health')),
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  await server.start();
  const found = await probeLlamaServer(url);
  const modelId = found?.modelId ?? path.basename(file);
  const contextWindow = found?.contextWindow ?? context;
  const protocol = options.protocol ?? CAPABILITIES.preferred;
  const info: BackendInfo = { name: 'llama-cpp', url, modelId, contextWindow, capabilities: CAPABILITIES, managed: true };
  const upstream = makeUpstream({ name: 'llama-cpp', url, protocol, flavor: 'llama-cpp', model: modelId, contextWindow, unavailable: () => server.unavailableReason() });
  return managedBackend(info, upstream, server);
}

export const llamaCppBackend: BackendAdapter = { name: 'llama-cpp', detect, start };
