/**
 * Every `anyclaude up` setting and where it came from, decided in one place:
 * flag > environment > project file (.anyclaude.json) > user file (~/.anyclaude/config.json) > default,
 * with a chosen alias's settings between the environment and the files' top-level keys.
 * The environment table is also what `up --help` and the README list, so they cannot drift.
 */
import { BACKEND_NAMES, type BackendName } from '../backends/backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { AnyclaudeError } from '../core/errors.js';
import { DEFAULT_BACKEND_TIMEOUT_S, type UpstreamProtocol } from '../core/upstream.js';
import { backendKind } from './backend-kinds.js';
import type { AnyclaudeConfig, BackendAlias, ConfigScope } from './config-file.js';
import { ENV_REFERENCE } from './config-schema.js';
import { CONTEXT_STRATEGIES, type ContextStrategy } from '../core/context-strategy.js';

/** `anyclaude up`'s parsed flags; undefined means "not given". */
export interface UpFlags {
  backend?: string;
  /** The predecessor's name for --backend. */
  mode?: string;
  model?: string;
  port?: number;
  backendPort?: number;
  url?: string;
  context?: number;
  protocol?: UpstreamProtocol;
  python?: string;
  upgradeVenv?: boolean;
  key?: string;
  apiKey?: string;
  trace?: boolean;
  tui?: boolean;
  demo?: boolean;
  proxyOnly?: boolean;
  claudeBin?: string;
  /** The key that flips between Claude Code and the dashboard, e.g. `ctrl-]`. */
  hotkey?: string;
  contextStrategy?: ContextStrategy;
  /** Seconds the proxy waits for the backend's next byte before it stops a request. */
  backendTimeout?: number;
  /** Arguments after `--`, for Claude Code. */
  claudeArgs?: string[];
}

/** What one backend needs that a user may set per backend (LMSTUDIO_URL) or for all (--url). */
export interface BackendSettings {
  model?: string;
  url?: string;
  apiKey?: string;
  context?: number;
}

type BackendKey = keyof BackendSettings;
type GlobalKey = 'backend' | 'debug' | 'proxyOnly' | 'home' | 'claudeBin' | 'hotkey' | 'contextStrategy' | 'backendTimeout';

export interface EnvVar {
  name: string;
  /** The setting it feeds; undefined for variables read elsewhere (ANYCLAUDE_HOME). */
  setting: BackendKey | GlobalKey;
  /** Only for this backend. */
  backend?: BackendName;
  help: string;
}

export const UP_ENV: readonly EnvVar[] = [
  { name: 'ANYCLAUDE_MODE', setting: 'backend', help: 'backend(s) or alias(es), as --backend: lmstudio, mlx-lm, claude, ollama, …' },
  { name: 'LMSTUDIO_URL', setting: 'url', backend: 'lmstudio', help: 'LM Studio (or any OpenAI-compatible server), e.g. http://localhost:1234/v1' },
  { name: 'LMSTUDIO_MODEL', setting: 'model', backend: 'lmstudio', help: 'LM Studio model to use (loaded with lms when needed)' },
  { name: 'LMSTUDIO_API_KEY', setting: 'apiKey', backend: 'lmstudio', help: "key LM Studio's server requires" },
  { name: 'LMSTUDIO_CONTEXT_LENGTH', setting: 'context', backend: 'lmstudio', help: 'context window (tokens) to load the model with' },
  { name: 'MLX_LM_URL', setting: 'url', backend: 'mlx-lm', help: 'an mlx_lm.server you already run: used as is, none is started' },
  { name: 'MLX_LM_MODEL', setting: 'model', backend: 'mlx-lm', help: 'mlx-lm model: a name, Hugging Face id or path' },
  { name: 'MLX_MODEL', setting: 'model', backend: 'mlx-lm', help: 'same as MLX_LM_MODEL' },
  { name: 'MLX_LM_API_KEY', setting: 'apiKey', backend: 'mlx-lm', help: 'key your mlx_lm.server requires' },
  { name: 'ANYCLAUDE_DEBUG', setting: 'debug', help: '1: trace every exchange to ~/.anyclaude/traces; 2: also full bodies in the log' },
  { name: 'PROXY_ONLY', setting: 'proxyOnly', help: 'true: start the backend and proxy, print the env for Claude Code, do not run it' },
  { name: 'ANYCLAUDE_CLAUDE_BIN', setting: 'claudeBin', help: 'the Claude Code executable to run instead of the bundled one' },
  { name: 'ANYCLAUDE_HOTKEY', setting: 'hotkey', help: 'the key that flips between Claude Code and the dashboard (default ctrl-])' },
  { name: 'ANYCLAUDE_CONTEXT_STRATEGY', setting: 'contextStrategy', help: 'a prompt past the context window: compact (default) or window, as --context-strategy' },
  { name: 'ANYCLAUDE_BACKEND_TIMEOUT', setting: 'backendTimeout', help: `seconds to wait for the backend's next byte before a request is stopped (default ${DEFAULT_BACKEND_TIMEOUT_S}), as --backend-timeout` },
  { name: 'ANYCLAUDE_HOME', setting: 'home', help: 'where anyclaude keeps venvs, logs, pidfiles and traces (default ~/.anyclaude)' },
];

/** Where a value came from; a setting with no source is at its default. */
export type Source =
  | { kind: 'flag'; name: string }
  | { kind: 'env'; name: string }
  /** `key` is the key path in the file, e.g. `model` or `backends.fast.model`; `via` the variable an `env:` key named. */
  | { kind: ConfigScope; path: string; key: string; via?: string };

/** Where a value came from, e.g. "flag --model", "env LMSTUDIO_URL", "config /home/u/.anyclaude/config.json". */
export type SourceLabel = string;

export function sourceLabel(source: Source): SourceLabel {
  if (source.kind === 'flag' || source.kind === 'env') return `${source.kind} ${source.name}`;
  // A top-level key is said by the file alone; an alias's key needs its path to be found.
  const key = source.key.includes('.') ? ` ${source.key}` : '';
  const via = source.via === undefined ? '' : ` (env ${source.via})`;
  return `config ${source.path}${key}${via}`;
}

/** An alias as declared, with the file that declares it (the project file's wins over the user file's). */
export interface DeclaredAlias extends BackendAlias {
  name: string;
  scope: ConfigScope;
  path: string;
}

/** A backend named by flag, environment or config: its kind, and the alias it was named by, if any. */
export interface ChosenBackend {
  kind: BackendName;
  alias?: string;
}

export interface UpSettings {
  /** Backends named by flag, environment or config; undefined: auto-detect. */
  backends: BackendName[] | undefined;
  /** The same, with the alias each was named by. */
  chosen: ChosenBackend[] | undefined;
  /** Every alias the config files declare, chosen or not. */
  aliases: ReadonlyMap<string, DeclaredAlias>;
  /** Backends whose own URL variable is set (LMSTUDIO_URL, MLX_LM_URL): the user's profile says which server. */
  pointed: BackendName[];
  demo: boolean;
  proxyOnly: boolean;
  tui: boolean;
  upgradeVenv: boolean;
  trace: boolean;
  /** 0 off, 1 traces, 2 traces and full bodies in the log. */
  debug: 0 | 1 | 2;
  port?: number;
  backendPort?: number;
  key?: string;
  python?: string;
  protocol?: UpstreamProtocol;
  claudeBin?: string;
  /** The key that flips between Claude Code and the dashboard (`ctrl-]` unless set). */
  hotkey: string;
  /** What happens to a prompt past the model's window (`compact` unless set). */
  contextStrategy: ContextStrategy;
  /** Seconds the proxy waits for the backend's next byte (headers or body) before it stops a request. */
  backendTimeout: number;
  claudeArgs: string[];
  /** A backend's own settings, each from the first source that has it (a chosen alias's among them). */
  forBackend(name: BackendName): BackendSettings;
  /** "setting → where it came from", for the log and `anyclaude config`. */
  sources: ReadonlyMap<string, SourceLabel>;
  /** The same, as data. */
  origins: ReadonlyMap<string, Source>;
}

/** One config file's content and path. */
export interface ConfigLayer {
  config: AnyclaudeConfig;
  file: string;
}

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  /** The user file's content (`~/.anyclaude/config.json`). */
  config: AnyclaudeConfig;
  /** The user file's path, for source labels. */
  configFile: string;
  /** The project file (`.anyclaude.json`), which wins over the user file key by key. */
  project?: ConfigLayer | undefined;
}

type FileKey = Exclude<keyof AnyclaudeConfig, 'backends'>;

/**
 * flag > environment > project file > user file > default. A chosen alias's settings sit just
 * below the environment: naming an alias is a choice made in a file, so flags and variables
 * still win over it, and it wins over the files' top-level keys.
 */
export function resolveUpSettings(flags: UpFlags, { env, config, configFile, project }: ResolveContext): UpSettings {
  const origins = new Map<string, Source>();
  const sources = new Map<string, SourceLabel>();
  const choose = <T>(setting: string, candidates: Array<[Source, T | undefined]>): T | undefined => {
    for (const [source, value] of candidates) {
      if (value === undefined) continue;
      origins.set(setting, source);
      sources.set(setting, sourceLabel(source));
      return value;
    }
    return undefined;
  };
  const flag = (name: string): Source => ({ kind: 'flag', name });
  const variable = (name: string): Source => ({ kind: 'env', name });
  // Nearest first: the project file wins over the user file.
  const layers: Array<{ scope: ConfigScope; path: string; config: AnyclaudeConfig }> = [
    ...(project === undefined ? [] : [{ scope: 'project' as const, path: project.file, config: project.config }]),
    { scope: 'user', path: configFile, config },
  ];
  const fromFiles = <K extends FileKey>(key: K): Array<[Source, AnyclaudeConfig[K]]> => layers.map((l) => [{ kind: l.scope, path: l.path, key }, l.config[key]]);

  const aliases = new Map<string, DeclaredAlias>();
  for (const layer of [...layers].reverse()) {
    for (const [name, alias] of Object.entries(layer.config.backends ?? {})) aliases.set(name, { ...alias, name, scope: layer.scope, path: layer.path });
  }

  const backendText = choose('backend', [
    [flag('--backend'), flags.backend],
    [flag('--mode'), flags.mode],
    [variable('ANYCLAUDE_MODE'), nonEmpty(env.ANYCLAUDE_MODE)],
    ...fromFiles('backend'),
  ]);
  const chosen = backendText === undefined ? undefined : chooseBackends(backendText, { from: sources.get('backend') ?? 'backend', aliases });
  const debug = debugLevel(env.ANYCLAUDE_DEBUG);
  const trace = choose('trace', [[flag('--trace'), flags.trace], [variable('ANYCLAUDE_DEBUG'), debug >= 1 ? true : undefined], ...fromFiles('trace')]) ?? false;
  const proxyOnly = choose('proxyOnly', [[flag('--proxy-only'), flags.proxyOnly], [variable('PROXY_ONLY'), truthy(env.PROXY_ONLY)]]) ?? false;
  const protocol = choose('protocol', [[flag('--protocol'), flags.protocol], ...fromFiles('protocol')]);
  const python = choose('python', [[flag('--python'), flags.python], ...fromFiles('python')]);
  // ANYCLAUDE_CLAUDE_BIN is read where Claude Code is found, which says which one it used.
  const claudeBin = choose('claudeBin', [[flag('--claude-bin'), flags.claudeBin]]);

  const perBackend = new Map<BackendName, BackendSettings>();
  const forBackend = (name: BackendName): BackendSettings => {
    const cached = perBackend.get(name);
    if (cached !== undefined) return cached;
    const fromEnv = (setting: BackendKey): Array<[Source, string | undefined]> =>
      UP_ENV.filter((v) => v.setting === setting && v.backend === name).map((v) => [variable(v.name), nonEmpty(env[v.name])]);
    const aliasName = chosen?.find((c) => c.kind === name)?.alias;
    const alias = aliasName === undefined ? undefined : aliases.get(aliasName);
    const fromAlias = <K extends 'url' | 'model' | 'context'>(key: K): Array<[Source, DeclaredAlias[K]]> =>
      alias === undefined ? [] : [[{ kind: alias.scope, path: alias.path, key: `backends.${alias.name}.${key}` }, alias[key]]];
    const key = (setting: BackendKey): string => `${name}.${setting}`;
    const url = choose(key('url'), [[flag('--url'), flags.url], ...fromEnv('url'), ...fromAlias('url'), ...fromFiles('url')]);
    const envContext = fromEnv('context').map(([source, v]): [Source, number | undefined] => [source, v === undefined ? undefined : positiveInt(v, sourceLabel(source))]);
    const context = choose(key('context'), [[flag('--context'), flags.context], ...envContext, ...fromAlias('context'), ...fromFiles('context')]);
    const keyGiven: Array<[Source, string | undefined]> = [[flag('--api-key'), flags.apiKey], ...fromEnv('apiKey')];
    // An alias's `env:VAR` key is looked up only when nothing above it gives one, so an unset VAR cannot stop a run that does not need it.
    const aliasKey = alias === undefined || keyGiven.some(([, v]) => v !== undefined) ? [] : aliasApiKey(alias, env);
    const settings: BackendSettings = {
      ...optional('model', choose(key('model'), [[flag('--model'), flags.model], ...fromEnv('model'), ...fromAlias('model'), ...fromFiles('model')])),
      ...optional('url', url === undefined ? undefined : normalizeBaseUrl(url, sources.get(key('url')) ?? 'the URL')),
      ...optional('apiKey', choose(key('apiKey'), [...keyGiven, ...aliasKey])),
      ...optional('context', context),
    };
    perBackend.set(name, settings);
    return settings;
  };

  return {
    backends: chosen?.map((c) => c.kind),
    chosen,
    aliases,
    pointed: BACKEND_NAMES.filter((name) => UP_ENV.some((v) => v.setting === 'url' && v.backend === name && nonEmpty(env[v.name]) !== undefined)),
    demo: flags.demo === true,
    proxyOnly,
    tui: flags.tui !== false,
    hotkey: choose('hotkey', [[flag('--hotkey'), flags.hotkey], [variable('ANYCLAUDE_HOTKEY'), nonEmpty(env.ANYCLAUDE_HOTKEY)], ...fromFiles('hotkey')]) ?? 'ctrl-]',
    contextStrategy: choose('contextStrategy', [[flag('--context-strategy'), flags.contextStrategy], [variable('ANYCLAUDE_CONTEXT_STRATEGY'), envStrategy(env.ANYCLAUDE_CONTEXT_STRATEGY)], ...fromFiles('contextStrategy')]) ?? 'compact',
    backendTimeout:
      choose('backendTimeout', [
        [flag('--backend-timeout'), flags.backendTimeout],
        [variable('ANYCLAUDE_BACKEND_TIMEOUT'), envSeconds('ANYCLAUDE_BACKEND_TIMEOUT', env.ANYCLAUDE_BACKEND_TIMEOUT)],
        ...fromFiles('backendTimeout'),
      ]) ?? DEFAULT_BACKEND_TIMEOUT_S,
    upgradeVenv: flags.upgradeVenv === true,
    trace: trace || debug >= 1,
    debug,
    ...optional('port', choose('port', [[flag('--port'), flags.port]])),
    ...optional('backendPort', choose('backendPort', [[flag('--backend-port'), flags.backendPort]])),
    ...optional('key', flags.key),
    ...optional('python', python),
    ...optional('protocol', protocol),
    ...optional('claudeBin', claudeBin),
    claudeArgs: flags.claudeArgs ?? [],
    forBackend,
    sources,
    origins,
  };
}

function envStrategy(value: string | undefined): ContextStrategy | undefined {
  const given = nonEmpty(value);
  if (given === undefined) return undefined;
  const found = CONTEXT_STRATEGIES.find((s) => s === given);
  if (found === undefined) {
    throw new AnyclaudeError('SETTING_INVALID', `env ANYCLAUDE_CONTEXT_STRATEGY: expected ${CONTEXT_STRATEGIES.join(' or ')}, got "${given}"`, { fix: 'export ANYCLAUDE_CONTEXT_STRATEGY=window (or unset it)' });
  }
  return found;
}

/** A variable holding a whole number of seconds. */
export function envSeconds(name: string, value: string | undefined): number | undefined {
  const given = nonEmpty(value);
  if (given === undefined) return undefined;
  const n = Number(given);
  if (!Number.isInteger(n) || n <= 0) {
    throw new AnyclaudeError('SETTING_INVALID', `env ${name}: expected a positive whole number of seconds, got "${given}"`, { fix: `export ${name}=${DEFAULT_BACKEND_TIMEOUT_S} (or unset it)` });
  }
  return n;
}

/** An alias's key, read from the variable it names when it says `env:VAR`. */
function aliasApiKey(alias: DeclaredAlias, env: NodeJS.ProcessEnv): Array<[Source, string | undefined]> {
  if (alias.apiKey === undefined) return [];
  const key = `backends.${alias.name}.apiKey`;
  const variable = ENV_REFERENCE.exec(alias.apiKey)?.[1];
  if (variable === undefined) return [[{ kind: alias.scope, path: alias.path, key }, alias.apiKey]];
  const value = nonEmpty(env[variable]);
  if (value === undefined) {
    throw new AnyclaudeError('CONFIG_KEY_UNSET', `${alias.path}: ${key}: says "env:${variable}", but ${variable} is not set`, {
      fix: `export ${variable}=<the key> before running anyclaude, or pass --api-key`,
    });
  }
  return [[{ kind: alias.scope, path: alias.path, key, via: variable }, value]];
}

export interface ChooseBackendsOptions {
  /** Where the names came from, for errors, e.g. "flag --backend". */
  from: string;
  aliases?: ReadonlyMap<string, DeclaredAlias>;
}

/** Comma-separated backend names, spellings and aliases, as the kinds to start. */
export function chooseBackends(text: string, { from, aliases = new Map() }: ChooseBackendsOptions): ChosenBackend[] {
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  const chosen = names.map((name): ChosenBackend => {
    const alias = aliases.get(name);
    if (alias !== undefined) return { kind: alias.backend, alias: name };
    const kind = backendKind(name);
    if (kind === undefined) {
      const declared = [...aliases.keys()];
      throw new AnyclaudeError('BACKEND_UNKNOWN', `unknown backend "${name}" (from ${from})`, {
        fix: `choose from ${BACKEND_NAMES.join(', ')}${declared.length === 0 ? ', or declare it under "backends" in a config file' : `, or an alias: ${declared.join(', ')}`}`,
      });
    }
    return { kind };
  });
  // A run starts one server per kind, with one set of settings: two names for one kind would share them silently.
  for (const [i, c] of chosen.entries()) {
    const first = chosen.findIndex((other) => other.kind === c.kind);
    if (first !== i) {
      throw new AnyclaudeError('BACKEND_TWICE', `"${names[first]}" and "${names[i]}" (from ${from}) are both ${c.kind}, and one run starts each kind of backend once`, {
        fix: `name one of them; run a second anyclaude for the other`,
      });
    }
  }
  return chosen;
}

/** The kinds `text` names (no aliases), for callers that only take built-in names. */
export function parseBackends(text: string, from: string): BackendName[] {
  return chooseBackends(text, { from }).map((c) => c.kind);
}

/** ANYCLAUDE_DEBUG: unset, empty, 0, false or no is off; 2 or more adds bodies; anything else is 1. */
export function debugLevel(value: string | undefined): 0 | 1 | 2 {
  if (truthy(value) !== true) return 0;
  const n = Number(value);
  return Number.isFinite(n) && n >= 2 ? 2 : 1;
}

/** true for a set variable that does not say 0, false, no or off; undefined otherwise (so a lower source can decide). */
export function truthy(value: string | undefined): true | undefined {
  const text = value?.trim().toLowerCase();
  return text === undefined || ['', '0', 'false', 'no', 'off'].includes(text) ? undefined : true;
}

function nonEmpty(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text === undefined || text === '' ? undefined : text;
}

function positiveInt(value: string, from: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new AnyclaudeError('SETTING_INVALID', `${from.replace(/^env /, '')}="${value}" is not a positive whole number`, { fix: 'set it to a number of tokens, e.g. 65536' });
  }
  return n;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The environment section of `up --help`. */
export function environmentHelp(): string {
  const width = Math.max(...UP_ENV.map((v) => v.name.length));
  return ['Environment (a flag wins over a variable, a variable over the config files; see anyclaude config):', ...UP_ENV.map((v) => `  ${v.name.padEnd(width)}  ${v.help}`)].join('\n');
}
