/**
 * Every `anyclaude up` setting and where it came from, decided in one place:
 * flag > environment > config file (~/.anyclaude/config.json) > default.
 * The environment table is also what `up --help` and the README list, so they cannot drift.
 */
import { BACKEND_NAMES, type BackendName } from '../backends/backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { AnyclaudeError } from '../core/errors.js';
import type { UpstreamProtocol } from '../core/upstream.js';
import type { AnyclaudeConfig } from './config-file.js';

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
type GlobalKey = 'backend' | 'debug' | 'proxyOnly' | 'home' | 'claudeBin' | 'hotkey';

export interface EnvVar {
  name: string;
  /** The setting it feeds; undefined for variables read elsewhere (ANYCLAUDE_HOME). */
  setting: BackendKey | GlobalKey;
  /** Only for this backend. */
  backend?: BackendName;
  help: string;
}

export const UP_ENV: readonly EnvVar[] = [
  { name: 'ANYCLAUDE_MODE', setting: 'backend', help: 'backend(s), as --backend: lmstudio, mlx-lm, claude, ollama, …' },
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
  { name: 'ANYCLAUDE_HOME', setting: 'home', help: 'where anyclaude keeps venvs, logs, pidfiles and traces (default ~/.anyclaude)' },
];

/** Where a value came from, e.g. "flag --model", "env LMSTUDIO_URL", "config /home/u/.anyclaude/config.json". */
export type SourceLabel = string;

export interface UpSettings {
  /** Backends named by flag, environment or config; undefined: auto-detect. */
  backends: BackendName[] | undefined;
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
  claudeArgs: string[];
  /** A backend's own settings, each from the first source that has it. */
  forBackend(name: BackendName): BackendSettings;
  /** "setting → where it came from", for the log and `anyclaude config`. */
  sources: ReadonlyMap<string, SourceLabel>;
}

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  config: AnyclaudeConfig;
  /** The config file's path, for source labels. */
  configFile: string;
}

export function resolveUpSettings(flags: UpFlags, { env, config, configFile }: ResolveContext): UpSettings {
  const sources = new Map<string, SourceLabel>();
  const configLabel = `config ${configFile}`;
  const choose = <T>(setting: string, candidates: Array<[SourceLabel, T | undefined]>): T | undefined => {
    for (const [label, value] of candidates) {
      if (value === undefined) continue;
      sources.set(setting, label);
      return value;
    }
    return undefined;
  };

  const backendText = choose('backend', [
    ['flag --backend', flags.backend],
    ['flag --mode', flags.mode],
    ['env ANYCLAUDE_MODE', nonEmpty(env.ANYCLAUDE_MODE)],
    [configLabel, config.backend],
  ]);
  const debug = debugLevel(env.ANYCLAUDE_DEBUG);
  const trace = choose('trace', [['flag --trace', flags.trace], ['env ANYCLAUDE_DEBUG', debug >= 1 ? true : undefined], [configLabel, config.trace]]) ?? false;
  const proxyOnly = choose('proxyOnly', [['flag --proxy-only', flags.proxyOnly], ['env PROXY_ONLY', truthy(env.PROXY_ONLY)]]) ?? false;
  const protocol = choose('protocol', [['flag --protocol', flags.protocol], [configLabel, config.protocol]]);
  const python = choose('python', [['flag --python', flags.python], [configLabel, config.python]]);
  // ANYCLAUDE_CLAUDE_BIN is read where Claude Code is found, which says which one it used.
  const claudeBin = choose('claudeBin', [['flag --claude-bin', flags.claudeBin]]);

  const perBackend = new Map<BackendName, BackendSettings>();
  const forBackend = (name: BackendName): BackendSettings => {
    const cached = perBackend.get(name);
    if (cached !== undefined) return cached;
    const fromEnv = (setting: BackendKey): Array<[SourceLabel, string | undefined]> =>
      UP_ENV.filter((v) => v.setting === setting && v.backend === name).map((v) => [`env ${v.name}`, nonEmpty(env[v.name])]);
    const key = (setting: BackendKey): string => `${name}.${setting}`;
    const url = choose(key('url'), [['flag --url', flags.url], ...fromEnv('url'), [configLabel, config.url]]);
    const context = choose(key('context'), [['flag --context', flags.context], ...fromEnv('context').map(([l, v]): [SourceLabel, number | undefined] => [l, v === undefined ? undefined : positiveInt(v, l)]), [configLabel, config.context]]);
    const settings: BackendSettings = {
      ...optional('model', choose(key('model'), [['flag --model', flags.model], ...fromEnv('model'), [configLabel, config.model]])),
      ...optional('url', url === undefined ? undefined : normalizeBaseUrl(url, sources.get(key('url')) ?? 'the URL')),
      ...optional('apiKey', choose(key('apiKey'), [['flag --api-key', flags.apiKey], ...fromEnv('apiKey')])),
      ...optional('context', context),
    };
    perBackend.set(name, settings);
    return settings;
  };

  return {
    backends: backendText === undefined ? undefined : parseBackends(backendText, sources.get('backend') ?? 'backend'),
    pointed: BACKEND_NAMES.filter((name) => UP_ENV.some((v) => v.setting === 'url' && v.backend === name && nonEmpty(env[v.name]) !== undefined)),
    demo: flags.demo === true,
    proxyOnly,
    tui: flags.tui !== false,
    hotkey: choose('hotkey', [['flag --hotkey', flags.hotkey], ['env ANYCLAUDE_HOTKEY', nonEmpty(env.ANYCLAUDE_HOTKEY)], [configLabel, config.hotkey]]) ?? 'ctrl-]',
    upgradeVenv: flags.upgradeVenv === true,
    trace: trace || debug >= 1,
    debug,
    ...optional('port', flags.port),
    ...optional('backendPort', flags.backendPort),
    ...optional('key', flags.key),
    ...optional('python', python),
    ...optional('protocol', protocol),
    ...optional('claudeBin', claudeBin),
    claudeArgs: flags.claudeArgs ?? [],
    forBackend,
    sources,
  };
}

/** Names people use for backends, including the predecessor's. */
const BACKEND_ALIASES: Readonly<Record<string, BackendName>> = {
  mlx: 'mlx-lm',
  mlx_lm: 'mlx-lm',
  'lm-studio': 'lmstudio',
  llamacpp: 'llama-cpp',
  'llama.cpp': 'llama-cpp',
  'llama-server': 'llama-cpp',
  anthropic: 'claude',
};

export function parseBackends(text: string, from: string): BackendName[] {
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  return names.map((name) => {
    const known = BACKEND_NAMES.includes(name as BackendName) ? (name as BackendName) : BACKEND_ALIASES[name];
    if (known === undefined) {
      throw new AnyclaudeError('BACKEND_UNKNOWN', `unknown backend "${name}" (from ${from})`, { fix: `choose from ${BACKEND_NAMES.join(', ')}` });
    }
    return known;
  });
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
  return ['Environment (a flag wins over a variable, a variable over ~/.anyclaude/config.json):', ...UP_ENV.map((v) => `  ${v.name.padEnd(width)}  ${v.help}`)].join('\n');
}
