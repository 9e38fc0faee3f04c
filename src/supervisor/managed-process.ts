/**
 * One supervised server process as an explicit state machine. start() and stop() take one lock,
 * so they never interleave; stop() first cancels whatever start or restart is waiting, so it never
 * waits behind a model that takes minutes to load. Backend-agnostic: adapters supply the command,
 * the readiness check and the liveness check (health-check.ts) that catches a live but hung server.
 */
import { AnyclaudeError, errorMessage } from '../core/errors.js';
import type { CoreEvents, LogEvent } from '../core/events.js';
import { onExit } from './cleanup.js';
import { cpuShare } from './cpu-time.js';
import { DEFAULT_HEALTH, formatMs, HealthMonitor, type BusyCheck, type HealthPolicy, type HealthVerdict, type LivenessProbe } from './health-check.js';
import { delay } from './process-group.js';
import { RingBuffer } from './ring-buffer.js';
import { describeExit, spawnChild, type Child, type ExitInfo } from './spawn-child.js';

export type ServerState = 'stopped' | 'starting' | 'ready' | 'degraded' | 'crashed' | 'stopping';

export interface StateChange {
  state: ServerState;
  previous: ServerState;
  /** Why it is not ready; undefined when ready. */
  reason: string | undefined;
}

export interface RestartPolicy {
  maxRestarts: number;
  /** Wait before the 1st, 2nd, … restart; the last entry repeats. */
  backoffMs: number[];
  /** The restart count goes back to 0 after this long ready (default 60 s). */
  resetAfterMs?: number;
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  /** Passed as argv, never through a shell. */
  args: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** stdout and stderr are appended here too; created with mode 0600. */
  logFile?: string;
  /** Resolves once the server answers. Rejecting means "not yet": it is called again every 250 ms. */
  readiness: (signal: AbortSignal) => Promise<void>;
  readyTimeoutMs?: number;
  /**
   * While ready, called every `health.intervalMs`: rejecting (or not settling within
   * `health.timeoutMs`) is a failure. Without it only an exit is noticed, not a hang.
   */
  liveness?: LivenessProbe;
  /** How often and how patiently `liveness` is asked (defaults in health-check.ts). */
  health?: Partial<HealthPolicy>;
  restart?: RestartPolicy;
  /** After SIGTERM to the group, SIGKILL after this long. */
  stopTimeoutMs?: number;
  /** `<pidDir>/<name>.json` exists while the process runs, so a later anyclaude can reap it. */
  pidDir?: string;
  events?: CoreEvents;
}

const DEFAULT_RESTART: Required<RestartPolicy> = { maxRestarts: 5, backoffMs: [500, 1_000, 2_000, 5_000, 10_000], resetAfterMs: 60_000 };
const DEFAULT_READY_TIMEOUT_MS = 180_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const READINESS_RETRY_MS = 250;
/** Log lines quoted in an error. */
const ERROR_LINES = 20;

/**
 * Every legal move; anything else is a bug here, and throws. 'degraded' (alive but failing its
 * liveness check) → 'degraded' updates the reason as the silence grows.
 */
const TRANSITIONS: Record<ServerState, readonly ServerState[]> = {
  stopped: ['starting'],
  starting: ['ready', 'crashed', 'stopping'],
  ready: ['degraded', 'crashed', 'stopping'],
  degraded: ['ready', 'degraded', 'crashed', 'stopping'],
  crashed: ['starting', 'crashed', 'stopping', 'stopped'],
  stopping: ['stopped'],
};

/**
 * A failed probe met a busy server when it used at least this share of a core in the second after.
 * Measured (scripts/bench-health-probe.ts, 2 shared cores): mlx_lm.server idle, probes included,
 * ≤ 2 %; prefilling 22–45 %, decoding 8–43 % (the other core's load decides); stopped: 0.
 */
const BUSY_CPU_SHARE = 0.1;
/** How long that CPU use is measured (less when probes come more often). */
const BUSY_WINDOW_MS = 1_000;

/** Busy means computing: a stopped or deadlocked process uses no CPU, one prefilling a long prompt uses whole cores. */
function busyByCpu(pid: number, policy: HealthPolicy): BusyCheck {
  return async (signal) => {
    const share = await cpuShare(pid, Math.min(BUSY_WINDOW_MS, policy.intervalMs), signal);
    return share !== undefined && share >= BUSY_CPU_SHARE ? `using ${Math.round(share * 100)}% of a core` : undefined;
  };
}

/** A first crash warns, repeated ones are errors; going degraded warns, its growing silence is detail. */
function stateLogLevel(previous: ServerState, state: ServerState): LogEvent['level'] {
  if (state === 'crashed') return previous === 'crashed' ? 'error' : 'warn';
  if (state === 'degraded') return previous === 'degraded' ? 'debug' : 'warn';
  return 'info';
}

export class ManagedProcess {
  readonly logs = new RingBuffer();
  readonly #o: ManagedProcessOptions;
  readonly #restart: Required<RestartPolicy>;
  readonly #listeners = new Set<(change: StateChange) => void>();
  #state: ServerState = 'stopped';
  #reason: string | undefined;
  #child: Child | undefined;
  #restarts = 0;
  #lock: Promise<unknown> = Promise.resolve();
  /** Cancels the readiness wait or restart backoff in progress. */
  #attempt: AbortController | undefined;
  /** Bumped by start() and stop(), so a restart queued before them knows it is no longer wanted. */
  #epoch = 0;
  #resetTimer: NodeJS.Timeout | undefined;
  /** The liveness check of the current child, while it is ready or degraded. */
  #health: HealthMonitor | undefined;
  #dropCleanup: (() => void) | undefined;

  constructor(options: ManagedProcessOptions) {
    this.#o = options;
    this.#restart = { ...DEFAULT_RESTART, ...options.restart };
    this.#reason = `${options.name} has not been started`;
  }

  get state(): ServerState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Automatic restarts since the last start() or since it last stayed ready for `resetAfterMs`. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Resolves when ready; rejects with an AnyclaudeError quoting the last log lines. */
  start(): Promise<void> {
    this.#epoch += 1;
    return this.#exclusive(async () => {
      if (this.#state === 'ready' || this.#state === 'degraded') return;
      this.#restarts = 0;
      const attempt = (this.#attempt = new AbortController());
      try {
        await this.#launch(attempt.signal);
      } catch (error) {
        this.#dropCleanup?.();
        this.#dropCleanup = undefined;
        throw error;
      }
    });
  }

  /** Stops the whole process group (SIGTERM, then SIGKILL) and cancels any start or restart in progress. */
  stop(): Promise<void> {
    this.#epoch += 1;
    this.#attempt?.abort();
    this.#stopHealth();
    return this.#exclusive(() => this.#halt());
  }

  onState(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Why requests cannot go to this server now; undefined only when ready. */
  unavailableReason(): string | undefined {
    return this.#state === 'ready' ? undefined : this.#reason;
  }

  /** Whether a liveness timer or probe is outstanding (for tests: none may outlive stop()). */
  get healthCheckPending(): boolean {
    return this.#health?.pending ?? false;
  }

  #exclusive<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(job);
    this.#lock = result.catch(() => undefined);
    return result;
  }

  async #launch(signal: AbortSignal): Promise<void> {
    const { name } = this.#o;
    this.#setState('starting', `${name} is starting`);
    let child: Child;
    try {
      child = await spawnChild({ ...this.#o, onLine: (line) => this.#onLine(line) });
    } catch (error) {
      this.#setState('crashed', errorMessage(error));
      throw error;
    }
    this.#child = child;
    this.#dropCleanup ??= onExit(() => this.stop());
    const failure = await this.#waitUntilReady(child, signal);
    if (failure === undefined) {
      this.#setState('ready', undefined);
      void child.finished.then((exit) => this.#onExit(child, exit));
      this.#resetTimer = setTimeout(() => (this.#restarts = 0), this.#restart.resetAfterMs).unref();
      this.#startHealth(child);
      return;
    }
    this.#child = undefined;
    await child.terminate(this.#o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    if (signal.aborted) {
      this.#setState('stopping', `${name} is stopping`);
    } else {
      this.#setState('crashed', failure.message);
    }
    throw failure;
  }

  async #waitUntilReady(child: Child, signal: AbortSignal): Promise<AnyclaudeError | undefined> {
    const { name, command, args, logFile } = this.#o;
    const timeoutMs = this.#o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const attempt = new AbortController();
    const cancel = (): void => attempt.abort();
    signal.addEventListener('abort', cancel, { once: true });
    if (signal.aborted) attempt.abort();
    try {
      const outcome = await Promise.race([this.#pollReadiness(attempt.signal), child.finished, delay(timeoutMs, 'timeout' as const, attempt.signal)]);
      const seeLog = logFile === undefined ? '' : ` (full log: ${logFile})`;
      if (signal.aborted) return new AnyclaudeError('SERVER_START_CANCELLED', `${name} was stopped before it was ready`);
      if (outcome === 'ready') return undefined;
      if (outcome === 'timeout') {
        return this.#failure('SERVER_NOT_READY', `${name} was not ready after ${Math.round(timeoutMs / 1000)} s`, `if it is still downloading or loading the model, give it longer; otherwise read the log lines above${seeLog}`);
      }
      const exit: ExitInfo = typeof outcome === 'object' ? outcome : { code: null, signal: null };
      return this.#failure('SERVER_EXITED', `${name} exited (${describeExit(exit)}) before it was ready`, `read the log lines above${seeLog}, or run it by hand to see the full error: ${[command, ...args].join(' ')}`);
    } finally {
      attempt.abort();
      signal.removeEventListener('abort', cancel);
    }
  }

  async #pollReadiness(signal: AbortSignal): Promise<'ready' | 'cancelled'> {
    while (!signal.aborted) {
      try {
        await this.#o.readiness(signal);
        if (!signal.aborted) return 'ready';
      } catch {
        // Not ready yet: a refused connection or a 503 while the model loads.
      }
      await delay(READINESS_RETRY_MS, undefined, signal);
    }
    return 'cancelled';
  }

  #startHealth(child: Child): void {
    const probe = this.#o.liveness;
    if (probe === undefined) return;
    const policy: HealthPolicy = { ...DEFAULT_HEALTH, ...this.#o.health };
    this.#health = new HealthMonitor(this.#o.name, probe, policy, (verdict) => this.#onHealth(child, verdict, policy), busyByCpu(child.pid, policy));
    this.#health.start();
  }

  #stopHealth(): void {
    this.#health?.stop();
    this.#health = undefined;
  }

  #onHealth(child: Child, verdict: HealthVerdict, policy: HealthPolicy): void {
    if (this.#child !== child || (this.#state !== 'ready' && this.#state !== 'degraded')) return;
    if (verdict.kind === 'busy') {
      this.#o.events?.log('debug', this.#o.name, verdict.detail);
    } else if (verdict.kind === 'ok') {
      if (this.#state !== 'degraded') return;
      this.#o.events?.log('info', this.#o.name, verdict.how);
      this.#setState('ready', undefined);
    } else if (verdict.kind === 'degraded') {
      this.#setState('degraded', verdict.reason);
    } else {
      this.#o.events?.log('warn', this.#o.name, `still not answering ${formatMs(policy.restartAfterMs)} after it was marked degraded: restarting it (pid ${child.pid})`);
      this.#restartHung(child, verdict.reason);
    }
  }

  /**
   * A live process that stopped answering is ended (SIGTERM, then SIGKILL: a stopped or deadlocked
   * one ignores SIGTERM) and relaunched the way a crashed one is: same backoff, counted as a restart.
   */
  #restartHung(child: Child, reason: string): void {
    this.#stopHealth();
    // From here its exit is ours, not a crash to react to.
    this.#child = undefined;
    clearTimeout(this.#resetTimer);
    this.#setState('crashed', reason);
    const epoch = this.#epoch;
    this.#exclusive(async () => {
      await child.terminate(this.#o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
      await this.#restartLoop(epoch);
    }).catch(() => undefined);
  }

  #onExit(child: Child, exit: ExitInfo): void {
    if (this.#child !== child) return; // stopped on purpose
    this.#child = undefined;
    this.#stopHealth();
    clearTimeout(this.#resetTimer);
    this.#setState('crashed', `${this.#o.name} exited unexpectedly (${describeExit(exit)})`);
    const epoch = this.#epoch;
    this.#exclusive(() => this.#restartLoop(epoch)).catch(() => undefined);
  }

  async #restartLoop(epoch: number): Promise<void> {
    if (epoch !== this.#epoch || this.#state !== 'crashed') return;
    const { maxRestarts, backoffMs } = this.#restart;
    const attempt = (this.#attempt = new AbortController());
    while (!attempt.signal.aborted) {
      if (this.#restarts >= maxRestarts) {
        const { command, args, logFile } = this.#o;
        const see = logFile === undefined ? `run it by hand to see why: ${[command, ...args].join(' ')}` : `see ${logFile}`;
        this.#setState('crashed', `${this.#o.name} kept crashing; gave up after ${maxRestarts} restarts. Last failure: ${this.#reason ?? 'unknown'}. ${see}`);
        this.#dropCleanup?.();
        this.#dropCleanup = undefined;
        return;
      }
      await delay(backoffMs[Math.min(this.#restarts, backoffMs.length - 1)] ?? 1_000, undefined, attempt.signal);
      if (attempt.signal.aborted) return;
      this.#restarts += 1;
      try {
        await this.#launch(attempt.signal);
        return;
      } catch {
        // #launch left it 'crashed' with the reason; the loop decides whether to try again.
      }
    }
  }

  async #halt(): Promise<void> {
    this.#stopHealth();
    clearTimeout(this.#resetTimer);
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined) {
      this.#setState('stopping', `${this.#o.name} is stopping`);
      await child.terminate(this.#o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    }
    if (this.#state !== 'stopped') this.#setState('stopped', `${this.#o.name} is stopped`);
    this.#dropCleanup?.();
    this.#dropCleanup = undefined;
  }

  #failure(code: string, message: string, fix: string): AnyclaudeError {
    const lines = this.logs.tail(ERROR_LINES);
    const quoted = lines.length === 0 ? '\n(it printed nothing)' : `\nlast ${lines.length} log lines:\n${lines.map((l) => `  ${l}`).join('\n')}`;
    return new AnyclaudeError(code, `${message}${quoted}`, { fix });
  }

  #onLine(line: string): void {
    this.logs.push(line);
    this.#o.events?.log('debug', this.#o.name, line);
  }

  #setState(state: ServerState, reason: string | undefined): void {
    const previous = this.#state;
    if (!TRANSITIONS[previous].includes(state)) throw new Error(`${this.#o.name}: illegal state change ${previous} → ${state}`);
    this.#state = state;
    this.#reason = reason;
    const level = stateLogLevel(previous, state);
    this.#o.events?.log(level, this.#o.name, `${previous} → ${state}${reason === undefined ? '' : `: ${reason}`}`);
    for (const listener of this.#listeners) {
      try {
        listener({ state, previous, reason });
      } catch (error) {
        this.#o.events?.log('error', this.#o.name, `a state listener threw: ${errorMessage(error)}`);
      }
    }
  }
}
