/**
 * mlx_lm.server in a venv anyclaude keeps. Facts that shaped this (observed on the real server):
 * the port binds before the weights load and `/health` always says ok, so readiness is a
 * 1-token completion; the server does not report the context window, so it comes from the
 * model's config.json; any `model` other than the served one makes it load that name.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { AnyclaudeError } from '../core/errors.js';
import { pickPort } from '../supervisor/ports.js';
import { httpAlive } from '../supervisor/readiness.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import type { BackendAdapter, BackendCapabilities, BackendContext, BackendStartOptions, RunningBackend } from './backend.js';
import { listOpenAIModels, loopbackUrl } from './openai-backend.js';
import { externalBackend, makeUpstream, managedBackend, managedServer } from './running-backend.js';
import { readContextWindow, resolveModel } from './model-resolver.js';
import { ensureVenv } from './venv.js';
import { packageFile } from '../core/package-root.js';
import { ensureModelOnDisk } from '../models/ensure-model.js';

const PYTHON_DIR = packageFile('python/mlx-lm/');

/** The pinned requirements for this machine: Apple Silicon, NVIDIA CUDA, or CPU. */
export function mlxRequirements(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  if (platform === 'darwin' && arch === 'arm64') return join(PYTHON_DIR, 'requirements-darwin-arm64.txt');
  if (platform === 'linux' && hasNvidiaGpu()) return join(PYTHON_DIR, 'requirements-linux-cuda12.txt');
  if (platform === 'linux') return join(PYTHON_DIR, 'requirements-linux-cpu.txt');
  throw new AnyclaudeError('BACKEND_UNSUPPORTED_PLATFORM', `mlx-lm has no build for ${platform}/${arch}`, {
    fix: 'use --backend llama-cpp, ollama or lmstudio on this machine',
  });
}

function hasNvidiaGpu(): boolean {
  return existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidiactl');
}

/**
 * Tokens per prefill step (mlx_lm's default is 2048). The server notices a client that hung up
 * only when it writes its per-step keepalive, and stops about two steps later, so this bounds
 * what an aborted cache warm-up keeps computing beside the user's request; 512 is also
 * llama.cpp's default batch, big enough to keep the matrix units busy.
 */
const PREFILL_STEP = 512;

const CAPABILITIES: BackendCapabilities = { toolCalls: 'native', cachedTokens: true, protocols: ['openai'], preferred: 'openai' };

export const MLX_LM_VENV = { name: 'mlx-lm', importCheck: 'import mlx.core, mlx_lm' } as const;

export const mlxLmBackend: BackendAdapter = {
  name: 'mlx-lm',

  async detect(_ctx, options = {}) {
    if (options.url !== undefined) {
      const url = normalizeBaseUrl(options.url);
      const models = await listOpenAIModels(url, options.apiKey === undefined ? {} : { apiKey: options.apiKey });
      return models === undefined ? undefined : { name: 'mlx-lm', url, detail: `mlx_lm.server at ${url}` };
    }
    if (process.platform === 'darwin' && process.arch === 'arm64') return { name: 'mlx-lm', url: '', detail: 'Apple Silicon: anyclaude can run mlx_lm.server' };
    return undefined;
  },

  async start(options, ctx) {
    if (options.protocol === 'anthropic') {
      throw new AnyclaudeError('PROTOCOL_UNSUPPORTED', 'mlx_lm.server speaks only the OpenAI API', { fix: 'drop --protocol, or use --backend mlx-omni for a native Anthropic endpoint' });
    }
    if (options.url !== undefined) return useRunningServer(options, ctx);
    if (options.model === undefined) {
      throw new AnyclaudeError('MODEL_REQUIRED', 'mlx-lm needs a model', { fix: 'pass --model <name, Hugging Face id or path>, e.g. --model Qwen3-Coder-30B' });
    }
    const model = await resolveModel(options.model);
    if (model.kind === 'local' && model.format === 'gguf') {
      throw new AnyclaudeError('MODEL_FORMAT', `${model.path} is a GGUF file, which mlx_lm.server cannot load`, {
        fix: 'use --backend llama-cpp for GGUF models, or pick an MLX model directory',
      });
    }
    const venv = await ensureVenv(
      { ...MLX_LM_VENV, requirements: mlxRequirements() },
      {
        home: ctx.home,
        events: ctx.events,
        ...(options.python === undefined ? {} : { python: options.python }),
        ...(options.upgradeVenv === undefined ? {} : { upgrade: options.upgradeVenv }),
        ...(options.onInstallProgress === undefined ? {} : { onProgress: options.onInstallProgress }),
      },
    );
    // A catalog name or HF id not on disk is downloaded here, with progress, rather than silently by the server.
    const onDisk = await ensureModelOnDisk(model, { python: venv.python, events: ctx.events, ...(options.onDownloadProgress === undefined ? {} : { onProgress: options.onDownloadProgress }) });
    const modelId = onDisk.path;
    const contextWindow = options.context ?? (await readContextWindow(onDisk.path));
    const port = await pickPort(options.port, { strict: options.port !== undefined });
    const url = loopbackUrl(port);
    const server = managedServer(ctx, 'mlx-lm', {
      name: 'mlx-lm',
      command: venv.bin('mlx_lm.server'),
      args: ['--model', modelId, '--host', '127.0.0.1', '--port', String(port), '--prompt-cache-size', '8', '--prefill-step-size', String(PREFILL_STEP), '--log-level', 'INFO'],
      env: await serverEnv(),
      readiness: (signal) => oneTokenCompletion(url, modelId, signal),
      // Once loaded, /health is answered by its HTTP threads in milliseconds even mid-prefill, and says 503 when its generation thread died.
      liveness: httpAlive(`${url}/health`),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
    await server.start().catch((error: unknown) => {
      // A venv damaged after it was installed fails here, at import time.
      if (server.logs.lines().some((l) => /ModuleNotFoundError|ImportError/.test(l)) && error instanceof AnyclaudeError) {
        throw new AnyclaudeError('VENV_BROKEN', error.message, { fix: 'run again with --upgrade-venv to reinstall the mlx-lm venv' });
      }
      throw error;
    });
    const info = { name: 'mlx-lm' as const, url, modelId, contextWindow, capabilities: CAPABILITIES, managed: true };
    const upstream = makeUpstream({ name: 'mlx-lm', url, protocol: 'openai', flavor: 'mlx-lm', model: modelId, contextWindow, unavailable: () => server.unavailableReason() });
    return managedBackend(info, upstream, server);
  },
};

/** mlx_lm's own name for "the model the server was started with" (its `--model`). */
const SERVED_MODEL = 'default_model';

/**
 * MLX_LM_URL / --url: an mlx_lm.server the user runs. anyclaude neither starts nor stops it. Without
 * a model named, requests ask for `default_model`, which mlx_lm maps to the model it was started
 * with (its /v1/models lists the whole HF cache, so it cannot say which one that is).
 */
async function useRunningServer(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
  const url = normalizeBaseUrl(options.url ?? '');
  const models = await listOpenAIModels(url, { timeoutMs: 10_000, ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) });
  if (models === undefined) {
    throw new AnyclaudeError('BACKEND_UNREACHABLE', `no mlx_lm.server answered ${url}/v1/models`, {
      fix: 'start it (mlx_lm.server --model <model> --port <port>) or fix MLX_LM_URL / --url; unset MLX_LM_URL to let anyclaude start one',
    });
  }
  const modelId = options.model ?? SERVED_MODEL;
  const contextWindow = options.context ?? (await localContextWindow(options.model));
  if (contextWindow === undefined) ctx.events.log('warn', 'mlx-lm', `the context window of ${modelId} is unknown, so prompts are not checked against it; pass --context`);
  const info = { name: 'mlx-lm' as const, url, modelId, contextWindow, capabilities: CAPABILITIES, managed: false };
  return externalBackend(info, makeUpstream({ name: 'mlx-lm', url, protocol: 'openai', flavor: 'mlx-lm', model: modelId, contextWindow, apiKey: options.apiKey }));
}

/** The context window from the model's config.json, when the model is on this machine. */
async function localContextWindow(model: string | undefined): Promise<number | undefined> {
  if (model === undefined) return undefined;
  try {
    const resolved = await resolveModel(model);
    return resolved.kind === 'local' ? await readContextWindow(resolved.path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * - The HF hub cache must exist: mlx_lm.server's `/v1/models` crashes without it. The user's own
 *   cache is kept (an HF id is downloaded there on first start).
 * - Linux CPU: the mlx-cpu wheel bundles reference BLAS (~2 GFLOP/s); preloading the system's
 *   OpenBLAS makes prefill ~5x faster. One thread: multi-threaded OpenBLAS stalled next to mlx's
 *   own threads on 2 cores.
 */
export async function serverEnv(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<Record<string, string>> {
  const out: Record<string, string> = { PYTHONUNBUFFERED: '1' };
  const hubCache = env.HF_HUB_CACHE ?? join(env.HF_HOME ?? join(homedir(), '.cache', 'huggingface'), 'hub');
  await mkdir(hubCache, { recursive: true });
  if (platform === 'linux' && !hasNvidiaGpu() && env.ANYCLAUDE_NO_OPENBLAS === undefined) {
    const openblas = OPENBLAS_PATHS.find((path) => existsSync(path));
    if (openblas !== undefined) {
      out.LD_PRELOAD = env.LD_PRELOAD === undefined ? openblas : `${openblas}:${env.LD_PRELOAD}`;
      out.OPENBLAS_NUM_THREADS = env.OPENBLAS_NUM_THREADS ?? '1';
    }
  }
  return out;
}

const OPENBLAS_PATHS = ['/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/libopenblas.so.0', '/usr/lib64/libopenblas.so.0'];

/** The only real readiness signal: it blocks until the weights are loaded. */
async function oneTokenCompletion(url: string, model: string, signal: AbortSignal): Promise<void> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, stream: false }),
    signal,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`readiness completion answered HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
}
