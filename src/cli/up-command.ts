/**
 * `anyclaude up`: backends, then the proxy in-process, then Claude Code as a child that owns
 * the terminal. Every child stops on every way out; Claude Code's exit code becomes ours.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BackendName, BackendStartOptions, RunningBackend } from '../backends/backend.js';
import { BACKEND_NAMES } from '../backends/backend.js';
import { ADAPTERS, autoDetect } from '../backends/registry.js';
import { PrefixStore } from '../cache/prefix-store.js';
import { warmPrefix } from '../cache/warm-prefix.js';
import { claudeArgs, claudeCodeVersion, claudeConfigDir, claudeEnv, findClaudeBinary } from '../claude/claude-code.js';
import { AnyclaudeError } from '../core/errors.js';
import { CoreEvents } from '../core/events.js';
import type { UpstreamProtocol } from '../proxy/upstream.js';
import { startProxy, type Proxy } from '../proxy/server.js';
import { handleInterrupt, onExit, runCleanups } from '../supervisor/cleanup.js';
import { reapStale } from '../supervisor/pidfiles.js';
import { readConfig } from './config-file.js';
import { buildDemoModel } from './demo-model.js';
import { FileLog } from './file-log.js';
import { formatRequestLine } from './request-line.js';

export interface UpOptions {
  backend?: string;
  model?: string;
  port?: number;
  backendPort?: number;
  url?: string;
  context?: number;
  protocol?: UpstreamProtocol;
  python?: string;
  key?: string;
  trace?: boolean;
  tui?: boolean;
  demo?: boolean;
  upgradeVenv?: boolean;
  /** Arguments after `--`, for Claude Code. */
  claudeArgs?: string[];
}

export function anyclaudeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANYCLAUDE_HOME ?? join(homedir(), '.anyclaude');
}

export async function runUp(flags: UpOptions): Promise<number> {
  const home = anyclaudeHome();
  // Flags win over ANYCLAUDE_MODE (read in backendNames), which wins over the config file.
  const config = await readConfig(home);
  const options: UpOptions = {
    ...config,
    ...(process.env.ANYCLAUDE_MODE === undefined ? {} : { backend: undefined }),
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  };
  await mkdir(join(home, 'logs'), { recursive: true, mode: 0o700 });
  await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
  const events = new CoreEvents();
  const log = new FileLog(join(home, 'logs', 'anyclaude.log'));
  onExit(() => log.close());
  log.attach(events, formatRequestLine);
  // Until Claude Code takes the terminal, progress goes to stderr too.
  const detachProgress = printProgress(events);
  if (options.tui !== false) events.log('info', 'up', 'the dashboard is not built yet: running as --no-tui (log: ~/.anyclaude/logs/anyclaude.log)');
  await reapStale(join(home, 'run'), { events });

  // Before any server starts: a missing Claude Code should cost the user no model load.
  const claude = findClaudeBinary();
  const ctx = { events, home };
  const model = options.demo === true ? await buildDemoModel({ home, events, ...(options.python === undefined ? {} : { python: options.python }) }) : options.model;
  const names = await backendNames(options, ctx);
  const backends: RunningBackend[] = [];
  onExit(() => Promise.all(backends.map((b) => b.stop())).then(() => undefined));
  for (const name of names) {
    events.emit('up:phase', { phase: 'starting', detail: `starting ${name}` });
    const started = await ADAPTERS[name].start(startOptions(options, model), ctx);
    backends.push(started);
    if (!started.info.managed) events.emit('backend:state', { backend: name, state: 'external', reason: undefined });
    events.log('info', name, `ready at ${started.info.url}: ${started.info.modelId ?? '(model chosen per request)'}, context ${started.info.contextWindow ?? 'unknown'}`);
  }

  const prefixes = new PrefixStore(home, (message) => events.log('warn', 'cache', message));
  const proxy = await startProxy({
    upstreams: backends.map((b) => b.upstream),
    events,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.trace === true ? { trace: join(home, 'traces') } : {}),
    observeRequest: (request, headers, upstream) => {
      const backend = backends.find((b) => b.upstream === upstream);
      if (headers['x-anyclaude-warmup'] === undefined && backend !== undefined) prefixes.record(request, headers['user-agent'], backend.info);
    },
  });
  onExit(() => proxy.close());
  events.log('info', 'proxy', `listening at ${proxy.url}`);

  const version = await claudeCodeVersion(claude);
  void warmCache(proxy, backends, prefixes, version, events);
  const env = claudeEnv({ proxyUrl: proxy.url, key: proxy.key, model: 'anyclaude', configDir: await claudeConfigDir(home) });
  events.emit('up:phase', { phase: 'running', detail: `Claude Code ${version ?? ''} → ${proxy.url}` });
  detachProgress();
  const args = options.demo === true ? demoClaudeArgs(options.claudeArgs ?? []) : (options.claudeArgs ?? []);
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

async function backendNames(options: UpOptions, ctx: { events: CoreEvents; home: string }): Promise<BackendName[]> {
  const requested = options.demo === true ? 'mlx-lm' : (options.backend ?? process.env.ANYCLAUDE_MODE);
  if (requested === undefined) {
    const found = await autoDetect(ctx);
    ctx.events.log('info', 'up', `auto-detected ${found.detection.name}: ${found.detection.detail}`);
    return [found.detection.name];
  }
  const names = requested.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const name of names) {
    if (!BACKEND_NAMES.includes(name as BackendName)) {
      throw new AnyclaudeError('BACKEND_UNKNOWN', `unknown backend "${name}"`, { fix: `choose from ${BACKEND_NAMES.join(', ')}` });
    }
  }
  return names as BackendName[];
}

function startOptions(options: UpOptions, model: string | undefined): BackendStartOptions {
  return {
    ...(model === undefined ? {} : { model }),
    ...(options.backendPort === undefined ? {} : { port: options.backendPort }),
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.upgradeVenv === undefined ? {} : { upgradeVenv: options.upgradeVenv }),
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
