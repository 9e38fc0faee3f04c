/**
 * What `anyclaude config` shows, as data: every effective setting with its value and source, the
 * files read, and the declared aliases, secrets masked. `--json` prints this object as is, so its
 * shape is a promise: add fields, never rename or remove them.
 */
import { BACKEND_NAMES, type BackendName } from '../backends/backend.js';
import type { ConfigFiles } from './config-file.js';
import { ENV_REFERENCE } from './config-schema.js';
import type { LoadedSettings } from './load-settings.js';
import { debugLevel, type Source } from './up-settings.js';

export type SourceView = Source | { kind: 'default' };

export type SettingValue = string | number | boolean | string[] | null;

export interface SettingView {
  /** null: not set (the backend or server decides). */
  value: SettingValue;
  source: SourceView;
}

export interface FilesView {
  user: { path: string; found: boolean };
  /** path null when no `.anyclaude.json` exists from `searchedFrom` upward. */
  project: { path: string | null; found: boolean; searchedFrom: string };
}

export interface BackendView {
  /** The alias this backend was chosen by, or null. */
  alias: string | null;
  model: SettingView;
  url: SettingView;
  apiKey: SettingView;
  context: SettingView;
}

export interface AliasView {
  backend: BackendName;
  url: string | null;
  model: string | null;
  context: number | null;
  /** Masked, or `env:VAR` as written. */
  apiKey: string | null;
  scope: 'user' | 'project';
  path: string;
}

export interface ConfigView {
  files: FilesView;
  /** backend, protocol, python, trace, debug, proxyOnly, hotkey, contextStrategy, backendTimeout, backendPort, home. */
  settings: Record<string, SettingView>;
  /** The chosen backends' settings, or every kind's when none is chosen (auto-detect may pick any). */
  backends: Partial<Record<BackendName, BackendView>>;
  aliases: Record<string, AliasView>;
}

export interface ConfigViewOptions {
  env: NodeJS.ProcessEnv;
  home: string;
  cwd: string;
}

export function configView(settings: LoadedSettings, { env, home, cwd }: ConfigViewOptions): ConfigView {
  const at = (setting: string, value: SettingValue | undefined): SettingView => {
    const source = settings.origins.get(setting);
    return { value: value ?? null, source: source ?? { kind: 'default' } };
  };
  const fromEnv = (name: string, value: SettingValue, set: boolean): SettingView => ({ value, source: set ? { kind: 'env', name } : { kind: 'default' } });
  const debug = debugLevel(env.ANYCLAUDE_DEBUG);

  const kinds = settings.chosen?.map((c) => c.kind) ?? BACKEND_NAMES;
  const backends: Partial<Record<BackendName, BackendView>> = {};
  for (const kind of kinds) {
    const own = settings.forBackend(kind);
    backends[kind] = {
      alias: settings.chosen?.find((c) => c.kind === kind)?.alias ?? null,
      model: at(`${kind}.model`, own.model),
      url: at(`${kind}.url`, own.url),
      apiKey: at(`${kind}.apiKey`, own.apiKey === undefined ? undefined : maskSecret(own.apiKey)),
      context: at(`${kind}.context`, own.context),
    };
  }

  const aliases: Record<string, AliasView> = {};
  for (const [name, alias] of settings.aliases) {
    aliases[name] = {
      backend: alias.backend,
      url: alias.url ?? null,
      model: alias.model ?? null,
      context: alias.context ?? null,
      apiKey: alias.apiKey === undefined ? null : ENV_REFERENCE.test(alias.apiKey) ? alias.apiKey : maskSecret(alias.apiKey),
      scope: alias.scope,
      path: alias.path,
    };
  }

  return {
    files: filesView(settings.files, cwd),
    settings: {
      backend: at('backend', settings.chosen?.map((c) => c.alias ?? c.kind) ?? null),
      protocol: at('protocol', settings.protocol),
      python: at('python', settings.python),
      trace: at('trace', settings.trace),
      debug: fromEnv('ANYCLAUDE_DEBUG', debug, debug > 0),
      proxyOnly: at('proxyOnly', settings.proxyOnly),
      hotkey: at('hotkey', settings.hotkey),
      contextStrategy: at('contextStrategy', settings.contextStrategy),
      backendTimeout: at('backendTimeout', settings.backendTimeout),
      backendPort: at('backendPort', settings.backendPort),
      home: fromEnv('ANYCLAUDE_HOME', home, env.ANYCLAUDE_HOME !== undefined),
    },
    backends,
    aliases,
  };
}

export function filesView(files: ConfigFiles, cwd: string): FilesView {
  return {
    user: { path: files.user.path, found: files.user.found },
    project: { path: files.project?.path ?? null, found: files.project !== undefined, searchedFrom: cwd },
  };
}

/** Enough of a key to tell two apart, never enough to use: the last 4 characters of a long one. */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `****${secret.slice(-4)}` : '****';
}

/** A source in words: "flag --model", "env LMSTUDIO_URL", "project /p/.anyclaude.json backends.fast.url", "default". */
export function describeSource(source: SourceView): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'flag':
    case 'env':
      return `${source.kind} ${source.name}`;
    default: {
      const key = source.key.includes('.') ? ` ${source.key}` : '';
      const via = source.via === undefined ? '' : ` (env ${source.via})`;
      return `${source.kind} ${source.path}${key}${via}`;
    }
  }
}
