/**
 * What doctor checks: the settings `up` would resolve from the same flags, environment and config
 * files. Doctor must report a broken config rather than die of it, so an invalid source falls back
 * to the next one down (config ignored, then the environment) and the `config` check names it.
 */
import type { BackendName } from '../backends/backend.js';
import { errorMessage } from '../core/errors.js';
import { homeFromEnv } from '../run/run-file.js';
import { loadUpSettings } from '../settings/load-settings.js';
import { resolveUpSettings, type BackendSettings, type UpFlags, type UpSettings } from '../settings/up-settings.js';
import { join } from 'node:path';
import type { DoctorContext, DoctorFlags } from './types.js';

export interface ContextOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  platform?: NodeJS.Platform;
  arch?: string;
}

export async function doctorContext(flags: DoctorFlags, options: ContextOptions = {}): Promise<DoctorContext> {
  const env = options.env ?? process.env;
  const home = homeFromEnv(env);
  const cwd = options.cwd ?? process.cwd();
  const upFlags: UpFlags = pickUpFlags(flags);
  const { settings, error } = await settingsFor(upFlags, env, home, cwd);
  const backend = (name: BackendName): BackendSettings => {
    try {
      return settings.forBackend(name);
    } catch {
      return {};
    }
  };
  const named = safe(() => settings.backends);
  return { flags, env, home, cwd, settings, settingsError: error, named, backend, model: chosenModel(named, backend), platform: options.platform ?? process.platform, arch: options.arch ?? process.arch };
}

function pickUpFlags(flags: DoctorFlags): UpFlags {
  const { backend, model, backendPort, url, apiKey, context } = flags;
  return Object.fromEntries(Object.entries({ backend, model, backendPort, url, apiKey, context }).filter(([, v]) => v !== undefined)) as UpFlags;
}

async function settingsFor(flags: UpFlags, env: NodeJS.ProcessEnv, home: string, cwd: string): Promise<{ settings: UpSettings; error: string | undefined }> {
  try {
    const settings = await loadUpSettings(flags, { env, home, cwd });
    // Per-backend values are read lazily; read them now so an invalid variable is found here.
    const named = settings.backends ?? [];
    for (const name of named) settings.forBackend(name);
    return { settings, error: undefined };
  } catch (error) {
    const configFile = join(home, 'config.json');
    try {
      return { settings: resolveUpSettings(flags, { env, config: {}, configFile }), error: errorMessage(error) };
    } catch {
      return { settings: resolveUpSettings(flags, { env: {}, config: {}, configFile }), error: errorMessage(error) };
    }
  }
}

/** The model named for the first backend that has one (named backends first, in order). */
function chosenModel(named: readonly BackendName[] | undefined, backend: (name: BackendName) => BackendSettings): DoctorContext['model'] {
  const order: readonly BackendName[] = named ?? ['mlx-lm', 'llama-cpp', 'lmstudio', 'ollama', 'mlx-omni', 'openai'];
  for (const name of order) {
    const query = backend(name).model;
    if (query !== undefined) return { query, backend: named === undefined ? undefined : name };
  }
  return undefined;
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
