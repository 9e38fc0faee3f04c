/**
 * anyclaude's status line in the Claude Code it starts, without taking the user's own away:
 * `up` passes `--settings '{"statusLine":…}'` (flag settings win over the user's and the
 * project's), and the user's own status line command, found here, runs inside ours and is shown
 * first: `<theirs> │ <ours>`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The environment variable that hands the user's own status line command to `anyclaude status --line`. */
export const USER_STATUSLINE_ENV = 'ANYCLAUDE_USER_STATUSLINE';

export interface UserStatusLineOptions {
  /** Where Claude Code runs (its project settings are looked up from here). */
  cwd: string;
  /** CLAUDE_CONFIG_DIR as Claude Code will get it; undefined: `<home>/.claude`. */
  configDir: string | undefined;
  /** The user's home folder. */
  home: string;
}

/**
 * The files Claude Code takes a status line from, highest precedence first: the project's
 * `.claude/settings.local.json` then `.claude/settings.json` (the nearest folder from `cwd` up
 * that has them first), then the user's `settings.json`.
 */
export function statusLineSettingsFiles(options: UserStatusLineOptions): string[] {
  const files: string[] = [];
  let dir = options.cwd;
  for (;;) {
    files.push(join(dir, '.claude', 'settings.local.json'), join(dir, '.claude', 'settings.json'));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const user = join(options.configDir ?? join(options.home, '.claude'), 'settings.json');
  // Under $HOME, walking up from cwd meets ~/.claude/settings.json as a "project" file already.
  return [...files.filter((f) => f !== user), user];
}

/** The user's own `statusLine.command`, or undefined. Unreadable or invalid files are skipped. */
export function userStatusLine(options: UserStatusLineOptions): string | undefined {
  for (const file of statusLineSettingsFiles(options)) {
    const command = statusLineIn(file);
    if (command !== undefined) return command;
  }
  return undefined;
}

function statusLineIn(file: string): string | undefined {
  let settings: unknown;
  try {
    settings = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof settings !== 'object' || settings === null) return undefined;
  const statusLine = (settings as { statusLine?: unknown }).statusLine;
  if (typeof statusLine !== 'object' || statusLine === null) return undefined;
  const { type, command } = statusLine as { type?: unknown; command?: unknown };
  if (type !== undefined && type !== 'command') return undefined;
  return typeof command === 'string' && command.trim() !== '' ? command : undefined;
}

/** One word for `sh`: left bare when it is plainly safe, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_=-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A status line command that is anyclaude's own: chaining it into ours would run it inside itself. */
export function isAnyclaudeStatusLine(command: string): boolean {
  return /anyclaude(?:\.js)?['"]?\s+status\s+--line\b/.test(command);
}

export interface StatusLineArgs {
  /** For Claude Code's command line. */
  args: string[];
  /** For Claude Code's environment (the status line command inherits it). */
  env: Record<string, string>;
}

/**
 * `--settings` with anyclaude's status line, and the user's own command (if any) in
 * ANYCLAUDE_USER_STATUSLINE. `anyclaudeCommand` is the argv that runs it, e.g.
 * `[process.execPath, '/…/bin/anyclaude.js', 'status', '--line']`.
 * `refreshSeconds`: also re-run it every N seconds (Claude Code otherwise re-runs it only when the
 * conversation changes, so a switch or a warm-up started from the dashboard would wait for the next turn).
 */
export function statusLineArgs(anyclaudeCommand: readonly string[], user: string | undefined, options: { refreshSeconds?: number } = {}): StatusLineArgs {
  const command = anyclaudeCommand.map(shellQuote).join(' ');
  const statusLine = {
    type: 'command',
    command,
    padding: 0,
    ...(options.refreshSeconds === undefined ? {} : { refreshInterval: options.refreshSeconds }),
  };
  const chained = user !== undefined && user.trim() !== '' && !isAnyclaudeStatusLine(user) ? user : undefined;
  return {
    args: ['--settings', JSON.stringify({ statusLine })],
    env: chained === undefined ? {} : { [USER_STATUSLINE_ENV]: chained },
  };
}
