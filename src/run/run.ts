/**
 * One `anyclaude up`, as a core object: it owns the backends, the proxy and the cache warm-up,
 * keeps one observable state (RunStore) that every front end renders, and takes commands
 * (switchTo). It knows nothing about terminals; cli/ picks a front end and launches Claude Code.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { BackendContext, BackendName, RunningBackend } from '../backends/backend.js';
import { BACKEND_NAMES } from '../backends/backend.js';
import { ADAPTERS } from '../backends/registry.js';
import { PrefixStore } from '../cache/prefix-store.js';
import { warmPrefix } from '../cache/warm-prefix.js';
import type { CoreEvents } from '../core/events.js';
import { startProxy, type Proxy } from '../proxy/server.js';
import { WARMUP_HEADER } from '../proxy/warmup-gate.js';
import type { UpSettings } from '../settings/up-settings.js';
import { onExit } from '../supervisor/cleanup.js';
import { discoverAvailable, modelsOf, runningView } from './backend-catalog.js';
import { foldEvents } from './fold-events.js';
import { FOLLOW_INTERVAL_MS, loadedModels, modelToFollow, withModel } from './model-follower.js';
import type { DownloadProgress } from '../models/download.js';
import { emptyRunState, type BackendView, type ClaudeView, type DownloadView, type ProgressView, type RunState, type RunStore } from './run-state.js';
import { backendNames, startOptions } from './start-options.js';
import { StateStore } from './state-store.js';
import { displayName } from '../models/catalog.js';

/** Backend status (pid, restarts, log tail) is read this often for the dashboard (ms). */
const REFRESH_MS = 1_000;
/** Servers started or stopped after `up` (and probes that were too slow once) show within this long (ms). */
const DISCOVER_MS = 15_000;
/** Lines of output kept per progress entry. */
const PROGRESS_LINES = 8;

export interface RunOptions {
  settings: UpSettings;
  home: string;
  events: CoreEvents;
  /** The model --demo built (it replaces the model of the backend it starts). */
  demoModel?: string | undefined;
  /** Claude Code's version, for the remembered prompt prefix (undefined: proxy only, nothing to warm). */
  claudeVersion?: string | undefined;
  /** How the hotkey reads on screen. */
  hotkeyLabel?: string;
  /** Each line of a venv install, besides the state (a plain front end prints them). */
  onInstallLine?: (backend: string, line: string) => void;
}

export class Run implements RunStore {
  readonly #store: StateStore;
  readonly #options: RunOptions;
  readonly #ctx: BackendContext;
  readonly #backends = new Map<string, RunningBackend>();
  readonly #models = new Map<string, string[]>();
  readonly #prefixes: PrefixStore;
  readonly #timers: NodeJS.Timeout[] = [];
  #available: BackendView[] = [];
  #proxy: Proxy | undefined;
  #switching: string | undefined;
  #discovering = false;
  #stopFolding: () => void;

  private constructor(options: RunOptions) {
    this.#options = options;
    this.#ctx = { events: options.events, home: options.home };
    this.#store = new StateStore(emptyRunState({ hotkey: options.hotkeyLabel ?? 'Ctrl-]' }));
    this.#stopFolding = foldEvents(options.events, this.#store);
    this.#prefixes = new PrefixStore(options.home, (message) => options.events.log('warn', 'cache', message));
  }

  /** A run whose state a front end can show at once (start-up progress); nothing starts before start(). */
  static create(options: RunOptions): Run {
    const run = new Run(options);
    onExit(() => run.stop());
    return run;
  }

  /** Starts the backends and the proxy, then returns; the cache warm-up and backend discovery go on in the background. */
  async start(): Promise<void> {
    await this.#startBackends();
    await this.#startProxy();
    this.#every(REFRESH_MS, () => this.#refresh());
    this.#every(FOLLOW_INTERVAL_MS, () => this.#followLoadedModel());
    void this.#discover();
    this.#every(DISCOVER_MS, () => this.#discover());
    void this.#warmAll();
  }

  /** create() and start() in one. */
  static async start(options: RunOptions): Promise<Run> {
    const run = Run.create(options);
    await run.start();
    return run;
  }

  readonly getSnapshot = (): RunState => this.#store.getSnapshot();
  readonly subscribe = (listener: () => void): (() => void) => this.#store.subscribe(listener);

  get proxy(): Proxy {
    if (this.#proxy === undefined) throw new Error('the proxy is not started yet');
    return this.#proxy;
  }

  get events(): CoreEvents {
    return this.#options.events;
  }

  /** Claude Code's state, as the front end that runs it reports. */
  setClaude(claude: Partial<ClaudeView>): void {
    this.#store.update((s) => ({ claude: { ...s.claude, ...claude } }));
  }

  /**
   * From now on requests go to `id` (and `model`): a backend not running is started first, and
   * every target is warmed with the remembered prompt prefix before it takes requests, so the
   * first turn after a switch is not a cold 20K-token prefill. In-flight requests finish where they are.
   */
  async switchTo(id: string, model?: string): Promise<void> {
    if (this.#switching !== undefined) throw new Error(`a switch to ${this.#switching} is under way; wait for it to finish`);
    const kind = BACKEND_NAMES.find((name) => name === id);
    const known = this.#backends.get(id) ?? this.#available.find((b) => b.id === id);
    if (kind === undefined || known === undefined) {
      throw new Error(`unknown backend "${id}": known here are ${[...this.#backends.keys(), ...this.#available.map((b) => b.id)].join(', ')}`);
    }
    const current = this.#backends.get(id);
    const sameModel = model === undefined || model === current?.upstream.model || model === current?.info.modelId;
    if (current !== undefined && sameModel && this.proxy.status().active === id) return;
    this.#switching = id;
    this.#store.update(() => ({ switching: { to: id, model, detail: current === undefined || !sameModel ? 'starting' : 'warming the prompt cache' } }));
    try {
      const target = current !== undefined && sameModel ? current : await this.#startForSwitch(kind, model, current);
      this.#store.update((s) => ({ switching: s.switching === undefined ? undefined : { ...s.switching, detail: 'warming the prompt cache' } }));
      await this.#warm(target);
      this.proxy.switchUpstream(id);
      this.events.log('info', 'switch', `requests now go to ${id}${target.upstream.model === undefined ? '' : ` · ${target.upstream.model}`}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.events.log('error', 'switch', `could not switch to ${id}: ${message}`);
      throw new Error(`could not switch to ${id}: ${message}`, { cause: error });
    } finally {
      this.#switching = undefined;
      this.#store.update(() => ({ switching: undefined }));
      this.#refresh();
    }
  }

  /** Stops timers, the proxy and every backend anyclaude started (also run on any exit). */
  async stop(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    this.#stopFolding();
    this.#store.update(() => ({ phase: 'stopping', phaseDetail: 'stopping' }));
    await this.#proxy?.close();
    await Promise.all([...this.#backends.values()].map((b) => b.stop()));
    this.#store.close();
  }

  async #startBackends(): Promise<void> {
    const { settings, demoModel, events } = this.#options;
    for (const name of await backendNames(settings, this.#ctx)) {
      events.emit('up:phase', { phase: 'starting', detail: `starting ${name}` });
      const options = startOptions(settings, name, demoModel, this.#installLines(name));
      const started = await this.#startBackend(name, { ...options, onDownloadProgress: this.#downloadProgress(name, options.model) });
      if (!started.info.managed) events.emit('backend:state', { backend: name, state: 'external', reason: undefined });
      events.log('info', name, `ready at ${started.info.url}: ${started.info.modelId ?? '(model chosen per request)'}, context ${started.info.contextWindow ?? 'unknown'}`);
    }
  }

  /** Starts (or connects to) a backend with its progress in the state; on failure the entry is dropped. */
  async #startBackend(name: BackendName, options: ReturnType<typeof startOptions>): Promise<RunningBackend> {
    this.#progress({ backend: name, step: 'start', detail: `starting ${name}${options.model === undefined ? '' : ` with ${options.model}`}`, startedAt: Date.now(), lines: [] });
    try {
      const started = await ADAPTERS[name].start(options, this.#ctx);
      this.#backends.set(started.upstream.name, started);
      this.#available = this.#available.filter((b) => b.id !== started.upstream.name);
      this.#refresh();
      return started;
    } finally {
      this.#store.update((s) => ({ progress: s.progress.filter((p) => p.backend !== name || p.step === 'warm') }));
    }
  }

  async #startForSwitch(kind: BackendName, model: string | undefined, current: RunningBackend | undefined): Promise<RunningBackend> {
    const { settings } = this.#options;
    const base = startOptions(settings, kind, undefined, this.#installLines(kind), this.#downloadProgress(kind, model ?? settings.forBackend(kind).model));
    // A second server of a kind anyclaude manages needs a port of its own; `--backend-port` is the first one's.
    const managedAgain = current?.info.managed === true;
    const { port: _port, ...withoutPort } = base;
    const options = { ...(managedAgain ? withoutPort : base), ...(model === undefined ? {} : { model }) };
    const started = await this.#startBackend(kind, options);
    this.proxy.setUpstream(started.upstream);
    // The old server of this kind is replaced: requests still on it finish first (stop drains).
    if (current !== undefined && current !== started) void current.stop();
    return started;
  }

  async #startProxy(): Promise<void> {
    const { settings, home, events } = this.#options;
    const upstreams = [...this.#backends.values()].map((b) => b.upstream);
    this.#proxy = await startProxy({
      upstreams,
      events,
      ...(settings.port === undefined ? {} : { port: settings.port }),
      ...(settings.key === undefined ? {} : { key: settings.key }),
      ...(settings.trace ? { trace: join(home, 'traces') } : {}),
      logBodies: settings.debug >= 2,
      contextStrategy: settings.contextStrategy,
      backendTimeoutMs: settings.backendTimeout * 1000,
      observeRequest: (request, headers, upstream) => {
        const backend = [...this.#backends.values()].find((b) => b.upstream.name === upstream.name);
        if (headers[WARMUP_HEADER] === undefined && backend !== undefined) {
          this.#prefixes.record(request, { userAgent: headers['user-agent'], sessionId: sessionIdOf(headers) }, backend.info);
        }
      },
      control: { state: () => this.getSnapshot(), switchTo: (backend, model) => this.switchTo(backend, model) },
    });
    onExit(() => this.#proxy?.close());
    events.log('info', 'proxy', `listening at ${this.#proxy.url}`);
    const active = this.#proxy.status().active;
    this.#store.update((s) => ({ proxyUrl: this.#proxy?.url, active, backends: s.backends.map((b) => ({ ...b, active: b.id === active })) }));
  }

  async #warmAll(): Promise<void> {
    for (const backend of this.#backends.values()) await this.#warm(backend);
  }

  /** Remembered per model and (for a server anyclaude did not start) per server: another's prefix would only cost a prefill. */
  async #warm(backend: RunningBackend): Promise<void> {
    const { claudeVersion, events } = this.#options;
    const name = backend.upstream.name;
    const prefix = claudeVersion === undefined ? undefined : await this.#prefixes.load(claudeVersion, backend.info);
    if (prefix === undefined) {
      events.emit('cache:warm', { backend: name, phase: 'skipped', detail: 'no remembered prefix for this model and server yet: the first session fills it' });
      return;
    }
    events.emit('cache:warm', { backend: name, phase: 'warming' });
    const result = await warmPrefix(this.proxy, name, prefix);
    events.emit('cache:warm', { backend: name, phase: result.phase, ms: result.ms, detail: result.detail });
  }

  /** Backends found on this machine besides the running ones, with the models each can serve. */
  async #discover(): Promise<void> {
    if (this.#discovering) return;
    this.#discovering = true;
    try {
      await this.#discoverOnce();
    } finally {
      this.#discovering = false;
    }
  }

  async #discoverOnce(): Promise<void> {
    const { settings } = this.#options;
    const running = new Set(this.#backends.keys());
    const where = (kind: BackendName) => startOptions(settings, kind, undefined);
    const [available] = await Promise.all([
      discoverAvailable({ ctx: this.#ctx, startOptions: where, running }),
      ...[...this.#backends.values()].map(async (b) => this.#models.set(b.upstream.name, await modelsOf(b.info.name, b.info.url, where(b.info.name)).catch(() => []))),
    ]);
    this.#available = available.filter((b) => !this.#backends.has(b.id));
    this.#refresh();
  }

  /** Re-reads each backend's status (state, pid, restarts, log) into the state. */
  #refresh(): void {
    const active = this.#proxy?.status().active;
    const running = [...this.#backends.values()].map((b) => this.#view(b, b.upstream.name === active));
    const backends = [...running, ...this.#available.filter((a) => !this.#backends.has(a.id))];
    const backendLog = [...(active === undefined ? [] : (this.#backends.get(active)?.status().logTail ?? []))];
    this.#store.update((s) => (sameJson(s.backends, backends) && sameJson(s.backendLog, backendLog) && s.active === active ? undefined : { backends, backendLog, active }));
  }

  #view(backend: RunningBackend, active: boolean): BackendView {
    const view = runningView(backend, active, this.#models.get(backend.upstream.name) ?? []);
    // A warm-up in progress shows as `warming`, whatever the server's own state.
    const warming = this.#store.getSnapshot().warmups.some((w) => w.backend === view.id && w.phase === 'warming');
    return warming && (view.phase === 'ready' || view.phase === 'external') ? { ...view, phase: 'warming', detail: view.managed ? 'ready' : 'external' } : view;
  }

  /** When the user loads another model in LM Studio's (or Ollama's) own window, requests follow it. */
  async #followLoadedModel(): Promise<void> {
    const active = this.#proxy?.status().active;
    const backend = active === undefined ? undefined : this.#backends.get(active);
    if (backend === undefined || this.#switching !== undefined) return;
    const loaded = await loadedModels(backend).catch(() => undefined);
    const next = loaded === undefined ? undefined : modelToFollow(backend.upstream.model, loaded);
    if (next === undefined || this.#backends.get(backend.upstream.name) !== backend) return;
    const followed = withModel(backend, next);
    this.#backends.set(followed.upstream.name, followed);
    this.proxy.setUpstream(followed.upstream);
    const window = next.contextWindow === undefined ? '' : `, context ${next.contextWindow}`;
    this.events.log('info', backend.info.name, `now serving ${next.model} (loaded in the server's own window): requests go there${window}`);
    this.#refresh();
  }

  #installLines(backend: string): (line: string) => void {
    return (line) => {
      this.#options.onInstallLine?.(backend, line);
      this.#store.update((s) => {
        const entry = s.progress.find((p) => p.backend === backend && p.step !== 'warm');
        if (entry === undefined) return undefined;
        const updated: ProgressView = { ...entry, step: 'install', detail: `installing ${backend}'s Python packages`, lines: [...entry.lines, line.trim()].slice(-PROGRESS_LINES) };
        return { progress: s.progress.map((p) => (p === entry ? updated : p)) };
      });
    };
  }

  /**
   * A model download as data in the progress entry (step `download`, a bar on screen), and as an
   * event for a plain front end. Once it is done the step is `start` again (the server loads what
   * was fetched), with the finished bar kept beside it.
   */
  #downloadProgress(backend: string, asked: string | undefined): (progress: DownloadProgress) => void {
    return (progress) => {
      const label = asked === undefined ? progress.repo : displayName(asked);
      this.#options.events.emit('model:download', { backend, label, progress });
      const download = downloadView(progress, label);
      this.#store.update((s) => {
        const entry = s.progress.find((p) => p.backend === backend && p.step !== 'warm');
        if (entry === undefined) return undefined;
        const updated: ProgressView =
          progress.phase === 'done'
            ? { ...entry, step: 'start', detail: `loading ${label}`, startedAt: Date.now(), lines: [], download }
            : { ...entry, step: 'download', detail: progress.phase === 'planning' ? `${label}: asking the Hub for the file list` : label, startedAt: entry.step === 'download' ? entry.startedAt : progress.startedAt, lines: [], download };
        // While up starts (not in a switch), the header says what it waits for.
        const starting = s.phase === 'starting' || s.phase === 'installing';
        const phaseDetail = progress.phase === 'done' ? `starting ${backend}` : `downloading ${label}`;
        return { progress: s.progress.map((p) => (p === entry ? updated : p)), ...(starting ? { phaseDetail } : {}) };
      });
    };
  }

  #progress(entry: ProgressView): void {
    this.#store.update((s) => ({ progress: [...s.progress.filter((p) => !(p.backend === entry.backend && p.step === entry.step)), entry] }));
  }

  #every(ms: number, task: () => unknown): void {
    const timer = setInterval(() => void Promise.resolve(task()).catch(() => undefined), ms);
    timer.unref();
    this.#timers.push(timer);
  }
}

/** The plain data a front end draws (and a remote dashboard receives as JSON). */
export function downloadView(p: DownloadProgress, label: string): DownloadView {
  return {
    label,
    repo: p.repo,
    phase: p.phase,
    totalBytes: p.totalBytes,
    doneBytes: p.doneBytes,
    resumedBytes: p.resumedBytes,
    bytesPerSecond: p.bytesPerSecond,
    etaSeconds: p.etaSeconds,
    file: p.file,
    filesDone: p.filesDone,
    filesTotal: p.filesTotal,
    startedAt: p.startedAt,
  };
}

function sessionIdOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-claude-code-session-id'];
  return typeof value === 'string' ? value : undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
