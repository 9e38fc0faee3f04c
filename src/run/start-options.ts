/** How `up`'s settings become each backend's start options, and which backends `up` starts. */
import { BACKEND_NAMES, type BackendContext, type BackendName, type BackendStartOptions } from '../backends/backend.js';
import { autoDetect } from '../backends/registry.js';
import type { DownloadProgress } from '../models/download.js';
import type { UpSettings } from '../settings/up-settings.js';

export function startOptions(
  settings: UpSettings,
  name: BackendName,
  demoModel: string | undefined,
  onInstallProgress?: (line: string) => void,
  onDownloadProgress?: (progress: DownloadProgress) => void,
): BackendStartOptions {
  const own = settings.forBackend(name);
  const model = demoModel ?? own.model;
  return {
    ...(model === undefined ? {} : { model }),
    // --demo starts its own server, even when the profile names a running one (MLX_LM_URL).
    ...(own.url === undefined || demoModel !== undefined ? {} : { url: own.url }),
    ...(own.apiKey === undefined ? {} : { apiKey: own.apiKey }),
    ...(own.context === undefined ? {} : { context: own.context }),
    ...(settings.backendPort === undefined ? {} : { port: settings.backendPort }),
    ...(settings.protocol === undefined ? {} : { protocol: settings.protocol }),
    ...(settings.python === undefined ? {} : { python: settings.python }),
    upgradeVenv: settings.upgradeVenv,
    ...(onInstallProgress === undefined ? {} : { onInstallProgress }),
    ...(onDownloadProgress === undefined ? {} : { onDownloadProgress }),
  };
}

/** The backends `up` starts: named ones, the one a URL variable points at, or what auto-detection finds. */
export async function backendNames(settings: UpSettings, ctx: BackendContext): Promise<BackendName[]> {
  if (settings.demo) return ['mlx-lm'];
  if (settings.backends !== undefined) return settings.backends;
  const [pointed, ...others] = settings.pointed;
  if (pointed !== undefined && others.length === 0) return [pointed];
  // Where the user pointed a backend (LMSTUDIO_URL, MLX_LM_URL, --url) is where detection looks.
  const where = Object.fromEntries(BACKEND_NAMES.map((name) => [name, startOptions(settings, name, undefined)]));
  const found = await autoDetect(ctx, { options: where });
  ctx.events.log('info', 'up', `auto-detected ${found.detection.name}: ${found.detection.detail}`);
  return [found.detection.name];
}
