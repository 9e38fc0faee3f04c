/**
 * Every backend anyclaude could switch to right now, for the dashboard: the ones running, servers
 * found on this machine (LM Studio, Ollama, llama-server), mlx-lm when it can run here, and
 * `claude` when an API key is set. Each with the models it can serve.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_NAMES, type BackendContext, type BackendName, type BackendStartOptions, type RunningBackend } from '../backends/backend.js';
import { discoverLmStudio, isChatModel } from '../backends/lmstudio-backend.js';
import { listLocalModels } from '../backends/model-resolver.js';
import { installedModels } from '../backends/ollama-backend.js';
import { ADAPTERS } from '../backends/registry.js';
import type { BackendView } from './run-state.js';

/** One detect gives up after this long (ms): the dashboard fills in, it never waits on a hung server. */
const DETECT_TIMEOUT_MS = 4_000;
/** Models listed per backend. */
const MODEL_LIST_LIMIT = 40;

/** The view of a backend anyclaude uses (started or connected). */
export function runningView(backend: RunningBackend, active: boolean, models: readonly string[]): BackendView {
  const status = backend.status();
  const { info, upstream } = backend;
  return {
    id: upstream.name,
    kind: info.name,
    phase: status.state === 'stopping' ? 'stopped' : status.state,
    active,
    model: upstream.model ?? info.modelId,
    models: [...models],
    contextWindow: upstream.contextWindow ?? info.contextWindow,
    protocol: upstream.protocol,
    url: info.url,
    managed: info.managed,
    detail: status.reason,
    restarts: status.restarts,
    pid: status.pid,
  };
}

/** A backend anyclaude can start or connect to, not in use yet. */
function availableView(kind: BackendName, url: string | undefined, detail: string, models: readonly string[]): BackendView {
  const managed = kind === 'mlx-lm' || kind === 'mlx-omni';
  return { id: kind, kind, phase: 'available', active: false, model: undefined, models: [...models], contextWindow: undefined, protocol: undefined, url, managed, detail, restarts: 0, pid: undefined };
}

export interface CatalogOptions {
  ctx: BackendContext;
  /** Where each backend is looked for (the settings `up` uses). */
  startOptions: (kind: BackendName) => BackendStartOptions;
  /** Kinds already running: not probed again. */
  running: ReadonlySet<string>;
}

/** Backends that can be switched to, besides the running ones; never throws. */
export async function discoverAvailable(options: CatalogOptions): Promise<BackendView[]> {
  const kinds = BACKEND_NAMES.filter((kind) => !options.running.has(kind));
  const found = await Promise.all(kinds.map((kind) => discoverOne(kind, options).catch(() => undefined)));
  return found.filter((v): v is BackendView => v !== undefined);
}

async function discoverOne(kind: BackendName, options: CatalogOptions): Promise<BackendView | undefined> {
  const where = options.startOptions(kind);
  if (kind === 'mlx-lm') return mlxLmView(options.ctx, where);
  if (kind === 'mlx-omni') return undefined; // Offered only when named: its venv is large and Apple-only.
  if (kind === 'openai' && where.url === undefined) return undefined;
  const detection = await within(ADAPTERS[kind].detect(options.ctx, where), DETECT_TIMEOUT_MS);
  if (detection === undefined) return undefined;
  return availableView(kind, detection.url || undefined, detection.detail, await modelsOf(kind, detection.url, where));
}

/** mlx-lm can run where its venv exists, on Apple Silicon, or at a URL the user gave; its models are the local ones. */
async function mlxLmView(ctx: BackendContext, where: BackendStartOptions): Promise<BackendView | undefined> {
  const appleSilicon = process.platform === 'darwin' && process.arch === 'arm64';
  const hasVenv = existsSync(join(ctx.home, 'venvs', 'mlx-lm'));
  if (!appleSilicon && !hasVenv && where.url === undefined) return undefined;
  const local = await listLocalModels().catch(() => []);
  const models = local.filter((m) => m.format === 'dir').map((m) => m.name);
  const detail = where.url !== undefined ? `mlx_lm.server at ${where.url}` : `starts mlx_lm.server; ${models.length} local model${models.length === 1 ? '' : 's'}`;
  return availableView('mlx-lm', where.url, detail, models.slice(0, MODEL_LIST_LIMIT));
}

/** The models a server offers (for the dashboard's model list); empty when it cannot say. */
export async function modelsOf(kind: BackendName, url: string, where: BackendStartOptions): Promise<string[]> {
  if (kind === 'lmstudio') {
    const server = await discoverLmStudio(url, where.apiKey);
    return (server?.models ?? []).filter(isChatModel).map((m) => m.id).slice(0, MODEL_LIST_LIMIT);
  }
  if (kind === 'ollama') return (await installedModels(url)).slice(0, MODEL_LIST_LIMIT);
  if (kind === 'mlx-lm') return (await listLocalModels().catch(() => [])).filter((m) => m.format === 'dir').map((m) => m.name).slice(0, MODEL_LIST_LIMIT);
  return [];
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
