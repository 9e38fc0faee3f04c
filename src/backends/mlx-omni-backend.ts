/**
 * mlx-omni-server (Apple Silicon only): anyclaude keeps it in its own venv and starts it. It has no
 * `--model`: each request's `model` (an HF id or a path) is loaded on first use, so the upstream
 * names the resolved model. Its native Anthropic API lives under `/anthropic`.
 */
import { AnyclaudeError } from '../core/errors.js';
import { joinUrl } from '../core/upstream.js';
import { pickPort } from '../supervisor/ports.js';
import { httpAlive, httpReady } from '../supervisor/readiness.js';
import type { BackendAdapter, BackendCapabilities, BackendContext, BackendInfo, BackendStartOptions, Detection, RunningBackend } from './backend.js';
import { readContextWindow, resolveModel } from './model-resolver.js';
import { loopbackUrl } from './openai-backend.js';
import { makeUpstream, managedBackend, managedServer } from './running-backend.js';
import { ensureVenv } from './venv.js';
import { packageFile } from '../core/package-root.js';
import { ensureModelOnDisk } from '../models/ensure-model.js';

export const MLX_OMNI_DEFAULT_PORT = 10240;
/** Pinned requirements, shipped in the package beside dist/. */
const REQUIREMENTS = packageFile('python/mlx-omni/requirements-darwin-arm64.txt');
export const MLX_OMNI_VENV = { name: 'mlx-omni', requirements: REQUIREMENTS, importCheck: 'import mlx_omni_server' } as const;
/** The first start may download the model as well as load it (ms). */
const READY_TIMEOUT_MS = 300_000;

const CAPABILITIES: BackendCapabilities = { toolCalls: 'native', cachedTokens: true, protocols: ['anthropic', 'openai'], preferred: 'anthropic' };

export interface MlxOmniAdapterOptions {
  /** Default process.platform / process.arch. */
  platform?: NodeJS.Platform;
  arch?: string;
}

function unsupported(platform: string, arch: string): AnyclaudeError {
  return new AnyclaudeError('BACKEND_UNSUPPORTED_PLATFORM', `mlx-omni runs on Apple Silicon Macs only (this is ${platform}-${arch})`, {
    fix: 'use --backend mlx-lm or llama-cpp on this machine',
  });
}

/**
 * Starts `serverBinary` (the venv's `mlx-omni-server`) on a free port and waits for `/v1/models`.
 * Separate from the venv step so it can be run, and tested, with any binary. With `download` (the
 * venv's Python, which has huggingface_hub through mlx-lm), a catalog name or HF id not on disk is
 * downloaded first, with progress, rather than by the server on the first request.
 */
export async function startMlxOmniServer(serverBinary: string, options: BackendStartOptions, ctx: BackendContext, download?: { python: string }): Promise<RunningBackend> {
  if (options.model === undefined) {
    throw new AnyclaudeError('MODEL_REQUIRED', 'mlx-omni needs a model to serve', { fix: 'pass --model <HF id or path>, e.g. --model mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit' });
  }
  const resolved = await resolveModel(options.model);
  if (resolved.kind === 'local' && resolved.format === 'gguf') {
    throw new AnyclaudeError('MODEL_NOT_USABLE', `mlx-omni cannot serve a .gguf file (${resolved.path})`, { fix: 'use --backend llama-cpp for .gguf files, or pick an MLX model (e.g. from mlx-community)' });
  }
  const model = download === undefined ? resolved : await ensureModelOnDisk(resolved, { python: download.python, events: ctx.events, ...(options.onDownloadProgress === undefined ? {} : { onProgress: options.onDownloadProgress }) });
  const modelId = model.kind === 'local' ? model.path : model.id;
  const contextWindow = options.context ?? (model.kind === 'local' ? await readContextWindow(model.path) : undefined);
  const port = await pickPort(options.port, { strict: options.port !== undefined });
  const url = loopbackUrl(port);
  const server = managedServer(ctx, 'mlx-omni', {
    name: 'mlx-omni-server',
    command: serverBinary,
    // Its default host is 0.0.0.0: always bind loopback.
    args: ['--host', '127.0.0.1', '--port', String(port)],
    readiness: httpReady(joinUrl(url, '/v1/models')),
    // It has no /health; /v1/models is answered by its web server without touching the model.
    liveness: httpAlive(joinUrl(url, '/v1/models')),
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  await server.start();
  const protocol = options.protocol ?? CAPABILITIES.preferred;
  const upstreamUrl = protocol === 'anthropic' ? joinUrl(url, '/anthropic') : url;
  const info: BackendInfo = { name: 'mlx-omni', url, modelId, contextWindow, capabilities: CAPABILITIES, managed: true };
  const upstream = makeUpstream({ name: 'mlx-omni', url: upstreamUrl, protocol, flavor: 'mlx-omni', model: modelId, contextWindow, unavailable: () => server.unavailableReason() });
  return managedBackend(info, upstream, server);
}

export function createMlxOmniBackend(adapterOptions: MlxOmniAdapterOptions = {}): BackendAdapter {
  const platform = adapterOptions.platform ?? process.platform;
  const arch = adapterOptions.arch ?? process.arch;
  const supported = platform === 'darwin' && arch === 'arm64';

  async function detect(_ctx: BackendContext, options: BackendStartOptions = {}): Promise<Detection | undefined> {
    if (!supported) return undefined;
    const url = loopbackUrl(options.port ?? MLX_OMNI_DEFAULT_PORT);
    return { name: 'mlx-omni', url, detail: 'Apple Silicon: anyclaude can install and start mlx-omni-server' };
  }

  async function start(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend> {
    if (!supported) throw unsupported(platform, arch);
    const venv = await ensureVenv(
      MLX_OMNI_VENV,
      { home: ctx.home, events: ctx.events, ...(options.python === undefined ? {} : { python: options.python }) },
    );
    return startMlxOmniServer(venv.bin('mlx-omni-server'), options, ctx, { python: venv.python });
  }

  return { name: 'mlx-omni', detect, start };
}

export const mlxOmniBackend: BackendAdapter = createMlxOmniBackend();
