/**
 * `anyclaude up`: a Run (backends, proxy, cache warm-up), then Claude Code — hosted in a
 * pseudo-terminal with the dashboard one hotkey away when this is an interactive terminal, or
 * owning the terminal (`--no-tui`, pipes, CI). Every child stops on every way out; Claude
 * Code's exit code becomes ours.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { claudeArgs, claudeCodeVersion, claudeConfigDir, claudeEnv, exportLines, findClaudeBinary } from '../claude/claude-code.js';
import { AnyclaudeError } from '../core/errors.js';
import { CoreEvents } from '../core/events.js';
import { hostClaude, runClaudeInTerminal } from '../run/claude-session.js';
import type { DashboardLoader } from '../run/front-end.js';
import { Run } from '../run/run.js';
import { openStartupScreen } from '../run/startup-screen.js';
import { loadUpSettings } from '../settings/load-settings.js';
import type { UpFlags, UpSettings } from '../settings/up-settings.js';
import { handleInterrupt, onExit, runCleanups } from '../supervisor/cleanup.js';
import { reapStale } from '../supervisor/pidfiles.js';
import { parseHotkey } from '../terminal/hotkey.js';
import { statusLineArgs, USER_STATUSLINE_ENV, userStatusLine } from '../claude/status-line-settings.js';
import { packageFile } from '../core/package-root.js';
import { homeFromEnv, removeRunFile, tryWriteRunFile } from '../run/run-file.js';
import { ensureWritableHome } from '../run/writable-home.js';
import { buildDemoModel } from '../backends/demo-model.js';
import { anyclaudeVersion } from './version.js';
import { AUTOCOMPACT_ENV, claudeCompactThreshold } from '../claude/autocompact.js';
import { FileLog } from './file-log.js';
import { formatRequestLine } from './request-line.js';
import { downloadPrinter } from './download-printer.js';

/** `anyclaude up`'s flags (see up-settings.ts for how they combine with the environment and config file). */
export type UpOptions = UpFlags;

export interface FrontEnds {
  /** The Ink dashboard (ui/), loaded only when it is shown. */
  dashboard?: DashboardLoader | undefined;
}

export function anyclaudeHome(env: NodeJS.ProcessEnv = process.env): string {
  return homeFromEnv(env);
}

export async function runUp(flags: UpOptions, frontEnds: FrontEnds = {}): Promise<number> {
  const home = anyclaudeHome();
  const settings = await loadUpSettings(flags, { env: process.env, home });
  const hotkey = hotkeyOf(settings);
  await ensureWritableHome(home);
  const events = new CoreEvents();
  const log = new FileLog(join(home, 'logs', 'anyclaude.log'));
  onExit(() => log.close());
  log.attach(events, formatRequestLine);
  // Until Claude Code takes the terminal, progress goes to stderr too.
  const detachProgress = printProgress(events);
  events.log('debug', 'up', `settings from: ${[...settings.sources].map(([k, v]) => `${k} (${v})`).join(', ') || 'defaults'}`);
  await reapStale(join(home, 'run'), { events });

  // Before any server starts: a missing Claude Code should cost the user no model load.
  const claude = settings.proxyOnly ? undefined : findClaudeBinary({ bin: settings.claudeBin, warn: (message) => events.log('warn', 'claude', message) });
  const dashboard = chooseDashboard(settings, frontEnds, events);
  const demoModel = settings.demo ? await buildDemoModel({ home, events, ...(settings.python === undefined ? {} : { python: settings.python }) }) : undefined;
  const claudeVersion = claude === undefined ? undefined : await claudeCodeVersion(claude);
  const frontEnd = dashboard === undefined ? undefined : await dashboard();
  const run = Run.create({ settings, home, events, demoModel, claudeVersion, hotkeyLabel: hotkey.label, ...(frontEnd === undefined ? { onInstallLine: printInstallLine } : {}) });
  if (frontEnd === undefined) await run.start();
  else {
    // The dashboard shows start-up (pip, server, model load) instead of lines on stderr.
    detachProgress();
    const starting = run.start();
    const startup = openStartupScreen(() => process.kill(process.pid, 'SIGINT'));
    onExit(() => startup.close());
    try {
      await frontEnd.startup(run, startup.screen, starting);
    } finally {
      startup.close();
    }
    await starting;
  }
  await announce(home, run, events);
  if (claude === undefined) return serveUntilInterrupted(run, detachProgress);

  const configDir = await claudeConfigDir(home);
  const statusLine = statusLineArgs([process.execPath, packageFile('bin/anyclaude.js'), 'status', '--line'], userStatusLine({ cwd: process.cwd(), configDir, home: homedir() }), {
    refreshSeconds: STATUS_REFRESH_SECONDS,
  });
  const contextWindow = activeContextWindow(run);
  const env = { ...claudeEnv({ proxyUrl: run.proxy.url, key: run.proxy.key, model: 'anyclaude', configDir, ...(contextWindow === undefined ? {} : { contextWindow }) }), ...statusLine.env };
  logCompaction(events, env, contextWindow);
  if (statusLine.env[USER_STATUSLINE_ENV] === undefined) delete env[USER_STATUSLINE_ENV];
  events.emit('up:phase', { phase: 'running', detail: `Claude Code ${claudeVersion ?? ''} → ${run.proxy.url}` });
  const args = [...statusLine.args, ...claudeArgs(settings.demo ? demoClaudeArgs(settings.claudeArgs) : settings.claudeArgs)];
  const report = (state: Parameters<Run['setClaude']>[0]): void => run.setClaude(state);
  detachProgress();
  if (frontEnd === undefined) {
    const code = await runClaudeInTerminal({ bin: claude, args, env, report });
    await runCleanups();
    return code;
  }
  const session = hostClaude({ bin: claude, args, env, report, hotkey: settings.hotkey });
  const ui = frontEnd.host(run, session);
  const code = await session.exited;
  ui.dispose();
  await runCleanups();
  return code;
}

/** The window of the backend Claude Code starts on; a later switch to a smaller one relies on the proxy's "prompt is too long". */
function activeContextWindow(run: Run): number | undefined {
  const state = run.getSnapshot();
  return state.backends.find((b) => b.id === state.active)?.contextWindow;
}

function logCompaction(events: CoreEvents, env: NodeJS.ProcessEnv, contextWindow: number | undefined): void {
  if (contextWindow === undefined) return;
  const at = claudeCompactThreshold(env);
  const source = process.env[AUTOCOMPACT_ENV] ? `your ${AUTOCOMPACT_ENV}=${process.env[AUTOCOMPACT_ENV]}` : `${AUTOCOMPACT_ENV}=${env[AUTOCOMPACT_ENV] ?? '(unset)'}`;
  if (at < contextWindow) events.log('info', 'up', `Claude Code compacts at ${at} of ${contextWindow} context tokens (${source})`);
  else events.log('warn', 'up', `Claude Code compacts only at ${at} tokens, past the model's ${contextWindow} (${source}): it will compact when the proxy answers "prompt is too long"`);
}

/** A bad hotkey is a typo to fix before any model loads, in the place the user wrote it. */
function hotkeyOf(settings: UpSettings): ReturnType<typeof parseHotkey> {
  try {
    return parseHotkey(settings.hotkey);
  } catch (error) {
    const where = settings.sources.get('hotkey') ?? 'the default';
    throw new AnyclaudeError('HOTKEY_INVALID', `${where}: ${error instanceof Error ? error.message : String(error)}`, {
      fix: `pass --hotkey ctrl-] (or set ANYCLAUDE_HOTKEY, or "hotkey" in ~/.anyclaude/config.json or the project's .anyclaude.json) with one of the keys above`,
    });
  }
}

/** Claude Code re-runs the status line this often (s), so a switch or warm-up shows between turns too. */
const STATUS_REFRESH_SECONDS = 2;

/** The run file lets `anyclaude status`, `dashboard` and the status line find this instance. */
async function announce(home: string, run: Run, events: CoreEvents): Promise<void> {
  const record = { pid: process.pid, url: run.proxy.url, key: run.proxy.key, startedAt: Date.now(), cwd: process.cwd(), version: anyclaudeVersion() };
  // A full disk here costs `anyclaude status` this session, not the session itself.
  const file = await tryWriteRunFile(home, record, (line) => events.log('warn', 'up', line));
  if (file !== undefined) onExit(() => removeRunFile(home, process.pid));
}

/** The dashboard needs a terminal on both ends; pipes and CI get plain `--no-tui` behaviour. */
function chooseDashboard(settings: UpSettings, frontEnds: FrontEnds, events: CoreEvents): DashboardLoader | undefined {
  if (!settings.tui || settings.proxyOnly) return undefined;
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    events.log('debug', 'up', 'not a terminal: running as --no-tui');
    return undefined;
  }
  return frontEnds.dashboard;
}

/**
 * The demo model has an 8K window and prefills ~40 tokens/s on a small CPU; Claude Code's full
 * request (~20K tokens of system prompt and tools) would not fit. A short system prompt and no
 * tools keep the demo a working chat, unless the user chose otherwise.
 */
function demoClaudeArgs(args: readonly string[]): string[] {
  const has = (flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  return [
    ...args,
    ...(has('--system-prompt') || has('--system-prompt-file') ? [] : ['--system-prompt', 'You are a helpful assistant running on a small local demo model. Answer briefly.']),
    ...(has('--tools') ? [] : ['--tools', '']),
  ];
}

/** PROXY_ONLY / --proxy-only: the export lines on stdout (for `eval`), then serve until Ctrl-C. */
async function serveUntilInterrupted(run: Run, detachProgress: () => void): Promise<number> {
  process.stdout.write(exportLines(run.proxy, activeContextWindow(run)));
  await new Promise<void>((resolve) => handleInterrupt(resolve));
  detachProgress();
  await runCleanups();
  return 0;
}

function printInstallLine(_backend: string, line: string): void {
  if (line.startsWith('Collecting') || line.startsWith('Successfully') || line.startsWith('Downloading')) process.stderr.write(`  ${line.trim()}\n`);
}

/** Progress on stderr until Claude Code takes the terminal; a model download as one redrawn line (a line per 10 % into a pipe). */
function printProgress(events: CoreEvents): () => void {
  const download = downloadPrinter(process.stderr);
  const offs = [
    events.on('log', (e) => {
      if (e.level !== 'debug') download.line(`anyclaude: ${e.source}: ${e.message}\n`);
    }),
    events.on('up:phase', (e) => download.line(`anyclaude: ${e.detail}\n`)),
    events.on('model:download', (e) => download.progress(e.label, e.progress)),
    // Ctrl-C mid-download: the shell's prompt goes on a line of its own.
    onExit(() => download.close()),
  ];
  return () => {
    offs.forEach((off) => off());
    download.close();
  };
}
