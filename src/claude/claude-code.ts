/**
 * Finding and launching Claude Code, pointed at the proxy, without touching the user's own
 * Claude Code configuration and without any first-run screen that waits for the internet.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { AnyclaudeError } from '../core/errors.js';
import { packageFile } from '../core/package-root.js';
import { autocompactEnv } from './autocompact.js';

const CLAUDE_PACKAGE = '@anthropic-ai/claude-code';

/** Where the Claude Code that anyclaude runs comes from. */
export type ClaudeSource = 'flag' | 'env' | 'bundled' | 'path';

export interface ClaudeBinary {
  path: string;
  source: ClaudeSource;
  /** From `claude --version`. */
  version: string;
}

export interface FindClaudeOptions {
  /** `up --claude-bin`: wins over everything else. */
  bin?: string | undefined;
  /** Where ANYCLAUDE_CLAUDE_BIN and PATH are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Told why the bundled Claude Code was passed over when one on PATH is used instead. */
  warn?: (message: string) => void;
  /** Tests inject where the bundled package's `claude` is (undefined: not installed). */
  bundled?: () => string | undefined;
}

/**
 * The Claude Code anyclaude will run: `--claude-bin`, else ANYCLAUDE_CLAUDE_BIN, else the version
 * installed with anyclaude (the one its tests run), else `claude` on PATH. Each candidate must
 * answer `--version`: npm can leave the bundled package with a stub in place of its native binary
 * (scripts or optional dependencies skipped), and a stub that fails later would cost a model load.
 */
export function resolveClaude(options: FindClaudeOptions = {}): ClaudeBinary {
  const env = options.env ?? process.env;
  const chosen = options.bin !== undefined && options.bin !== '' ? { bin: options.bin, source: 'flag' as const, name: '--claude-bin' } : undefined;
  const fromEnv = env.ANYCLAUDE_CLAUDE_BIN !== undefined && env.ANYCLAUDE_CLAUDE_BIN !== '' ? { bin: env.ANYCLAUDE_CLAUDE_BIN, source: 'env' as const, name: 'ANYCLAUDE_CLAUDE_BIN' } : undefined;
  const explicit = chosen ?? fromEnv;
  if (explicit !== undefined) {
    const path = explicit.bin.includes('/') ? resolve(explicit.bin) : onPath(explicit.bin, env);
    const version = path === undefined || !isExecutable(path) ? undefined : probeClaude(path);
    if (path === undefined || version === undefined) {
      const problem =
        path === undefined ? 'is not on PATH' : !existsSync(path) ? 'does not exist' : `is not a working Claude Code (\`${path} --version\` failed)`;
      throw new AnyclaudeError('CLAUDE_BIN_BROKEN', `${explicit.name} ${explicit.bin} ${problem}`, {
        fix: `point ${explicit.name} at a claude binary, or leave it unset to use the bundled Claude Code ${pinnedClaudeCodeVersion()}`,
      });
    }
    return { path, source: explicit.source, version };
  }

  const bundled = (options.bundled ?? bundledClaude)();
  const bundledVersion = bundled === undefined || !isExecutable(bundled) ? undefined : probeClaude(bundled);
  if (bundled !== undefined && bundledVersion !== undefined) return { path: bundled, source: 'bundled', version: bundledVersion };
  const why =
    bundled === undefined
      ? `the bundled Claude Code (${CLAUDE_PACKAGE}) is not installed`
      : `the bundled Claude Code at ${bundled} does not run (npm skipped its postinstall or its platform package)`;

  const fromPath = onPath('claude', env);
  const pathVersion = fromPath === undefined ? undefined : probeClaude(fromPath);
  if (fromPath !== undefined && pathVersion !== undefined) {
    const untested = pathVersion === pinnedClaudeCodeVersion() ? '' : ', which anyclaude is not tested with';
    options.warn?.(`${why}; using Claude Code ${pathVersion} from ${fromPath}${untested}`);
    return { path: fromPath, source: 'path', version: pathVersion };
  }
  const onPathToo = fromPath === undefined ? 'and there is no `claude` on PATH' : `and ${fromPath} does not run either`;
  throw new AnyclaudeError('CLAUDE_MISSING', `${why}, ${onPathToo}`, { fix: `npm install -g ${CLAUDE_PACKAGE}@${pinnedClaudeCodeVersion()}` });
}

/** The path of the Claude Code to run; see resolveClaude. */
export function findClaudeBinary(options: FindClaudeOptions = {}): string {
  return resolveClaude(options).path;
}

/** The exact Claude Code version anyclaude depends on (and is tested with), from its package.json. */
export function pinnedClaudeCodeVersion(): string {
  const manifest = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return manifest.dependencies?.[CLAUDE_PACKAGE] ?? 'latest';
}

/**
 * Resolved the way Node resolves anyclaude's own imports, so it is found wherever npm put it:
 * nested under anyclaude (global install), or hoisted beside it (a project's dependency).
 */
function bundledClaude(): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve(`${CLAUDE_PACKAGE}/package.json`);
  } catch {
    return undefined;
  }
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> };
  const relative = typeof bin === 'string' ? bin : bin?.claude;
  return relative === undefined ? undefined : join(dirname(manifest), relative);
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `claude --version` answers in ~0.2s; remembered so `up` does not ask twice. */
const probed = new Map<string, string | undefined>();

function probeClaude(bin: string): string | undefined {
  if (probed.has(bin)) return probed.get(bin);
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const version = result.status === 0 ? /\d+\.\d+\.\d+/.exec(result.stdout)?.[0] : undefined;
  probed.set(bin, version);
  return version;
}

/** "2.1.197", or undefined when it cannot say. */
export async function claudeCodeVersion(bin: string): Promise<string | undefined> {
  if (probed.get(bin) !== undefined) return probed.get(bin);
  const result = await execa(bin, ['--version'], { reject: false, timeout: 15_000 });
  return /\d+\.\d+\.\d+/.exec(String(result.stdout))?.[0];
}

/**
 * The config folder Claude Code runs with. A user who has completed onboarding keeps theirs
 * (their settings, MCP servers and history), untouched. A brand-new user gets one under
 * anyclaude's home with onboarding marked done, so the first run works offline.
 */
export async function claudeConfigDir(home: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const own = env.CLAUDE_CONFIG_DIR ?? homedir();
  const ownFile = join(own, '.claude.json');
  if (await hasOnboarded(ownFile)) return env.CLAUDE_CONFIG_DIR;
  const dir = join(home, 'claude-config');
  const file = join(dir, '.claude.json');
  if (!(await hasOnboarded(file))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${JSON.stringify({ hasCompletedOnboarding: true }, null, 2)}\n`, { mode: 0o600 });
  }
  return dir;
}

async function hasOnboarded(file: string): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(file, 'utf8')) as { hasCompletedOnboarding?: unknown };
    return config.hasCompletedOnboarding === true;
  } catch {
    return false;
  }
}

export interface ClaudeEnvOptions {
  proxyUrl: string;
  key: string;
  /** What Claude Code names as its main and small model; the proxy routes either to the active backend. */
  model: string;
  configDir: string | undefined;
  base?: NodeJS.ProcessEnv;
  /** The active model's real window: Claude Code is told to compact in time for it. */
  contextWindow?: number;
}

/** Generous: a 20K-token first prompt on a laptop can prefill for minutes. */
const API_TIMEOUT_MS = 60 * 60_000;

/**
 * What lets Claude Code wait out a long silent prefill: also printed by `anyclaude proxy` and
 * `--proxy-only`, for users who start Claude Code themselves.
 */
export function slowBackendEnv(): Record<string, string> {
  return {
    API_TIMEOUT_MS: String(API_TIMEOUT_MS),
    // Claude Code abandons a stream after max(this, 300 s) without an event other than `ping`
    // (pings do not reset that watchdog), and a long first prefill sends nothing else.
    CLAUDE_STREAM_IDLE_TIMEOUT_MS: String(API_TIMEOUT_MS),
    // Bun, Claude Code's runtime, drops an HTTP socket that moves no byte for 300 s (this is in
    // seconds): a request held behind a warm-up, or the non-streaming retry, is silent that long.
    BUN_CONFIG_HTTP_IDLE_TIMEOUT: String(API_TIMEOUT_MS / 1000),
  };
}

/** The `export` lines for a shell: the proxy's URL and key, slowBackendEnv(), and when to compact for a known window. */
export function exportLines(proxy: { url: string; key: string }, contextWindow?: number, env: NodeJS.ProcessEnv = process.env): string {
  const vars = { ANTHROPIC_BASE_URL: proxy.url, ANTHROPIC_API_KEY: proxy.key, ...slowBackendEnv(), ...autocompactEnv(contextWindow, env) };
  return Object.entries(vars)
    .map(([name, value]) => `export ${name}=${value}\n`)
    .join('');
}

export function claudeEnv(options: ClaudeEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(options.base ?? process.env) };
  // A real key in the environment would trigger Claude Code's "use this key?" prompt, and is not needed:
  // the proxy holds whatever key the backend needs.
  delete env.ANTHROPIC_API_KEY;
  return {
    ...env,
    ANTHROPIC_BASE_URL: options.proxyUrl,
    // Sent as Authorization: Bearer; unlike ANTHROPIC_API_KEY it needs no approval on first run.
    ANTHROPIC_AUTH_TOKEN: options.key,
    ANTHROPIC_MODEL: options.model,
    ANTHROPIC_SMALL_FAST_MODEL: options.model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: options.model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: options.model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: options.model,
    // The billing block changes every session and would break the cached prefix.
    CLAUDE_CODE_ATTRIBUTION_HEADER: '0',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    ...slowBackendEnv(),
    ...autocompactEnv(options.contextWindow, env),
    ...(options.configDir === undefined ? {} : { CLAUDE_CONFIG_DIR: options.configDir }),
  };
}

/**
 * `--exclude-dynamic-system-prompt-sections` moves cwd, git status and memory paths out of the
 * system prompt, so it is byte-identical across sessions and projects (and cacheable) — unless
 * the user replaces the system prompt, where the flag does not apply.
 */
export function claudeArgs(userArgs: readonly string[]): string[] {
  const replacesPrompt = userArgs.some((a) => a === '--system-prompt' || a === '--system-prompt-file' || a.startsWith('--system-prompt='));
  return replacesPrompt ? [...userArgs] : ['--exclude-dynamic-system-prompt-sections', ...userArgs];
}
