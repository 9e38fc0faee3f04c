/**
 * `anyclaude up`: backends, then the proxy in-process, then Claude Code as a child that owns
 * the terminal. Every child stops on every way out; Claude Code's exit code becomes ours.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BACKEND_NAMES, type BackendName, type BackendStartOptions, type RunningBackend } from '../backends/backend.js';
import { ADAPTERS, autoDetect } from '../backends/registry.js';
import { PrefixStore } from '../cache/prefix-store.js';
import { warmPrefix } from '../cache/warm-prefix.js';
import { claudeArgs, claudeCodeVersion, claudeConfigDir, claudeEnv, exportLines, findClaudeBinary } from '../claude/claude-code.js';
import { CoreEvents } from '../core/events.js';
import { startProxy, type Proxy } from '../proxy/server.js';
import { WARMUP_HEADER } from '../proxy/warmup-gate.js';
import { handleInterrupt, onExit, runCleanups } from '../supervisor/cleanup.js';
import { reapStale } from '../supervisor/pidfiles.js';
import { readConfig } from './config-file.js';
import { buildDemoModel } from './demo-model.js';
import { FileLog } from './file-log.js';
import { formatRequestLine } from './request-line.js';
import { resolveUpSettings, type UpFlags, type UpSettings } from './up-settings.js';

/** `anyclaude up`'s flags (see up-settings.ts for how they combine with the environment and config file). */
export type UpOptions = UpFlags;

export function anyclaudeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANYCLAUDE_HOME ?? join(homedir(), '.anyclaude');
}

export async function runUp(flags: UpOptions): Promise<number> {
  const home = anyclaudeHome();
  const settings = resolveUpSettings(flags, { env: process.env, config: await readConfig(home), configFile: join(home, 'config.json') });
  await mkdir(join(home, 'logs'), { recursive: true, mode: 0o700 });
  await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
  const events = new CoreEvents();
  const log = new FileLog(join(home, 'logs', 'anyclaude.log'));
  onExit(() => log.close());
  log.attach(events, formatRequestLine);
  // Until Claude Code takes the terminal, progress goes to stderr too.
  const detachProgress = printProgress(events);
  events.log('debug', 'up', `settings from: ${[...settings.sources].map(([k, v]) => `${k} (${v})`).join(', ') || 'defaults'}`);
  if (settings.tui && !settings.proxyOnly) events.log('info', 'up', 'the dashboard is not built yet: running as --no-tui (log: ~/.anyclaude/logs/anyclaude.log)');
  await reapStale(join(home, 'run'), { events });

  // Before any server starts: a missing Claude Code should cost the user no model load.
  const claude = settings.proxyOnly ? undefined : findClaudeBinary({ bin: settings.claudeBin, warn: (message) => events.log('warn', 'claude', message) });
  const ctx = { events, home };
  const demoModel = settings.demo ? await buildDemoModel({ home, events, ...(settings.python === undefined ? {} : { python: settings.python }) }) : undefined;
  const names = await backendNames(settings, ctx);
  const backends: RunningBackend[] = [];
  onExit(() => Promise.all(backends.map((b) => b.stop())).then(() => undefined));
  for (const name of names) {
    events.emit('up:phase', { phase: 'starting', detail: `starting ${name}` });
    const started = await ADAPTERS[name].start(startOptions(settings, name, demoModel), ctx);
    backends.push(started);
    if (!started.info.managed) events.emit('backend:state', { backend: name, state: 'external', reason: undefined });
    events.log('info', name, `ready at ${started.info.url}: ${started.info.modelId ?? '(model chosen per request)'}, context ${started.info.contextWindow ?? 'unknown'}`);
  }

  const prefixes = new PrefixStore(home, (message) => events.log('warn', 'cache', message));
  const proxy = await startProxy({
    upstreams: backends.map((b) => b.upstream),
    events,
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.key === undefined ? {} : { key: settings.key }),
    ...(settings.trace ? { trace: join(home, 'traces') } : {}),
    logBodies: settings.debug >= 2,
    observeRequest: (request, headers, upstream) => {
      const backend = backends.find((b) => b.upstream === upstream);
      if (headers[WARMUP_HEADER] === undefined && backend !== undefined) prefixes.record(request, { userAgent: headers['user-agent'], sessionId: sessionIdOf(headers) }, backend.info);
    },
  });
  onExit(() => proxy.close());
  events.log('info', 'proxy', `listening at ${proxy.url}`);

  const version = claude === undefined ? undefined : await claudeCodeVersion(claude);
  void warmCache(proxy, backends, prefixes, version, events);
  if (claude === undefined) return serveUntilInterrupted(proxy, detachProgress);
  const env = claudeEnv({ proxyUrl: proxy.url, key: proxy.key, model: 'anyclaude', configDir: await claudeConfigDir(home) });
  events.emit('up:phase', { phase: 'running', detail: `Claude Code ${version ?? ''} → ${proxy.url}` });
  detachProgress();
  const args = settings.demo ? demoClaudeArgs(settings.claudeArgs) : settings.claudeArgs;
  return runClaude(claude, claudeArgs(args), env);
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

async function backendNames(settings: UpSettings, ctx: { events: CoreEvents; home: string }): Promise<BackendName[]> {
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

function startOptions(settings: UpSettings, name: BackendName, demoModel: string | undefined): BackendStartOptions {
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
    onInstallProgress: (line) => {
      if (line.startsWith('Collecting') || line.startsWith('Successfully') || line.startsWith('Downloading')) process.stderr.write(`  ${line.trim()}\n`);
    },
  };
}

async function warmCache(proxy: Proxy, backends: RunningBackend[], prefixes: PrefixStore, version: string | undefined, events: CoreEvents): Promise<void> {
  for (const backend of backends) {
    const name = backend.info.name;
    // Remembered per model and (for a server anyclaude did not start) per server: another's prefix would only cost a prefill.
    const prefix = version === undefined ? undefined : await prefixes.load(version, backend.info);
    if (prefix === undefined) {
      events.emit('cache:warm', { backend: name, phase: 'skipped', detail: 'no remembered prefix for this model and server yet: the first session fills it' });
      continue;
    }
    events.emit('cache:warm', { backend: name, phase: 'warming' });
    const result = await warmPrefix(proxy, name, prefix);
    events.emit('cache:warm', { backend: name, phase: result.phase, ms: result.ms, detail: result.detail });
  }
}

function sessionIdOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-claude-code-session-id'];
  return typeof value === 'string' ? value : undefined;
}

/** PROXY_ONLY / --proxy-only: the export lines on stdout (for `eval`), then serve until Ctrl-C. */
async function serveUntilInterrupted(proxy: Proxy, detachProgress: () => void): Promise<number> {
  process.stdout.write(exportLines(proxy));
  await new Promise<void>((resolve) => handleInterrupt(resolve));
  detachProgress();
  await runCleanups();
  return 0;
}

/** Claude Code owns the terminal: Ctrl-C is its own; SIGTERM/SIGHUP to us are passed on, then we clean up. */
async function runClaude(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = execa(bin, args, { env, extendEnv: false, stdio: 'inherit', reject: false });
  handleInterrupt(() => undefined);
  const dropKill = onExit(() => {
    child.kill('SIGTERM');
  });
  const result = await child;
  dropKill();
  handleInterrupt(undefined);
  await runCleanups();
  if (typeof result.exitCode === 'number') return result.exitCode;
  return result.signal === undefined ? 1 : 128 + (signalNumber(result.signal) ?? 0);
}

function signalNumber(signal: string): number | undefined {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[signal];
}

function printProgress(events: CoreEvents): () => void {
  const offs = [
    events.on('log', (e) => {
      if (e.level !== 'debug') process.stderr.write(`anyclaude: ${e.source}: ${e.message}\n`);
    }),
    events.on('up:phase', (e) => process.stderr.write(`anyclaude: ${e.detail}\n`)),
  ];
  return () => offs.forEach((off) => off());
}
