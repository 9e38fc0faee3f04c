/**
 * Finding and launching Claude Code, pointed at the proxy, without touching the user's own
 * Claude Code configuration and without any first-run screen that waits for the internet.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { AnyclaudeError } from '../core/errors.js';

const BUNDLED_CLAUDE = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

/** `claude` on PATH first (the user's own install), else the one installed with anyclaude. */
export function findClaudeBinary(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'claude');
    if (existsSync(candidate)) return candidate;
  }
  if (existsSync(BUNDLED_CLAUDE)) return BUNDLED_CLAUDE;
  throw new AnyclaudeError('CLAUDE_MISSING', 'Claude Code is not installed', { fix: 'npm install -g @anthropic-ai/claude-code' });
}

/** "2.1.197", or undefined when it cannot say. */
export async function claudeCodeVersion(bin: string): Promise<string | undefined> {
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
}

/** Generous: a 20K-token first prompt on a laptop can prefill for minutes. */
const API_TIMEOUT_MS = 60 * 60_000;

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
    API_TIMEOUT_MS: String(API_TIMEOUT_MS),
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
