/**
 * The predecessor's hot switching: a user who loads another model in LM Studio's window (or runs
 * another with Ollama) expects the next request to go to it. anyclaude polls what the server has
 * loaded and follows it, with that model's context window.
 */
import type { RunningBackend } from '../backends/backend.js';
import { discoverLmStudio, isChatModel } from '../backends/lmstudio-backend.js';
import { loadedModels as ollamaLoaded } from '../backends/ollama-backend.js';

export interface LoadedModel {
  model: string;
  contextWindow: number | undefined;
}

/** How often the active server's loaded models are checked (ms). */
export const FOLLOW_INTERVAL_MS = 3_000;

/** The chat models the server has in memory now; undefined for servers that cannot say. */
export async function loadedModels(backend: RunningBackend): Promise<LoadedModel[] | undefined> {
  const { info, upstream } = backend;
  if (info.name === 'lmstudio') {
    const server = await discoverLmStudio(info.url, upstream.apiKey);
    if (server === undefined) return undefined;
    return server.models.filter((m) => m.loaded && isChatModel(m)).map((m) => ({ model: m.id, contextWindow: m.loadedContext }));
  }
  if (info.name === 'ollama') return (await ollamaLoaded(info.url)).map((m) => ({ model: m.name, contextWindow: m.context }));
  return undefined;
}

/**
 * The model to follow, or undefined to stay: stay while ours is loaded, or when nothing is
 * (LM Studio and Ollama load the requested model on demand, so "none loaded" is not a choice).
 */
export function modelToFollow(current: string | undefined, loaded: readonly LoadedModel[]): LoadedModel | undefined {
  if (loaded.length === 0 || loaded.some((m) => m.model === current)) return undefined;
  return loaded[0];
}

/** The same backend, now serving `next`: requests name it and the context check uses its window. */
export function withModel(backend: RunningBackend, next: LoadedModel): RunningBackend {
  const contextWindow = next.contextWindow ?? backend.upstream.contextWindow;
  return {
    ...backend,
    info: { ...backend.info, modelId: next.model, contextWindow },
    upstream: { ...backend.upstream, model: next.model, contextWindow },
  };
}
