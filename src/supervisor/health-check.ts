/**
 * The liveness check of a ready server: a cheap probe every `intervalMs`, one at a time, each cut
 * off after `timeoutMs`. It only judges — after `failuresBeforeDegraded` failures in a row it says
 * "degraded", after `restartAfterMs` more of failing it says "restart", on the next success "ok" —
 * and ManagedProcess acts on that. A process that lives but no longer answers (deadlocked,
 * stopped, swapped out) is otherwise never noticed: only exits are.
 */

export interface HealthPolicy {
  /** Time between the end of one probe and the start of the next (default 10 s). */
  intervalMs: number;
  /** A probe that has not answered after this long failed (default 5 s). */
  timeoutMs: number;
  /** Failures in a row before the server is marked degraded (default 2). */
  failuresBeforeDegraded: number;
  /** Still failing this long after it was marked degraded: restart it (default 60 s). */
  restartAfterMs: number;
}

/**
 * Measured on mlx_lm.server (CPU, 2 cores shared with other work; scripts/bench-health-probe.ts):
 * GET /health while it prefilled 3,700 tokens answered in 5–6 ms (p50), 13–70 ms (p95), at worst
 * 75 ms–1.4 s over three runs; while decoding, 230 ms at worst. Its HTTP threads answer while the
 * model computes, so 5 s leaves room; a probe that still fails while the server burns CPU is not
 * counted (ManagedProcess's busy check), so a long prefill is never taken for a hang.
 */
export const DEFAULT_HEALTH: HealthPolicy = { intervalMs: 10_000, timeoutMs: 5_000, failuresBeforeDegraded: 2, restartAfterMs: 60_000 };

/** Resolves if the server answered; rejects (or never settles: the timeout covers that) if not. */
export type LivenessProbe = (signal: AbortSignal) => Promise<void>;

/**
 * Asked after a failed probe: a description ("using 97% of a core") when the server is busy
 * computing rather than hung, undefined when it looks idle or it cannot tell.
 */
export type BusyCheck = (signal: AbortSignal) => Promise<string | undefined>;

export type HealthVerdict =
  /** Back from degraded: `how` says why it counts as alive. */
  | { kind: 'ok'; how: string }
  /** A probe failed, but the server is busy: alive, not counted as a failure. */
  | { kind: 'busy'; detail: string }
  | { kind: 'degraded'; reason: string }
  | { kind: 'restart'; reason: string };

export class HealthMonitor {
  readonly #name: string;
  readonly #probe: LivenessProbe;
  readonly #policy: HealthPolicy;
  readonly #onVerdict: (verdict: HealthVerdict) => void;
  readonly #busy: BusyCheck | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Aborts the probe in flight. */
  #inFlight: AbortController | undefined;
  #stopped = true;
  #failures = 0;
  /** When the first probe of the current run of failures started. */
  #failingSince = 0;
  #degradedAt: number | undefined;

  constructor(name: string, probe: LivenessProbe, policy: HealthPolicy, onVerdict: (verdict: HealthVerdict) => void, busy?: BusyCheck) {
    this.#busy = busy;
    this.#name = name;
    this.#probe = probe;
    this.#policy = policy;
    this.#onVerdict = onVerdict;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#failures = 0;
    this.#degradedAt = undefined;
    this.#schedule();
  }

  /** Cancels the pending probe or the one in flight; nothing of it is left after this returns. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
  }

  /** Whether a timer or a probe is still outstanding (false once stopped). */
  get pending(): boolean {
    return this.#timer !== undefined || this.#inFlight !== undefined;
  }

  #schedule(): void {
    // unref'd: a health check alone must never keep anyclaude running.
    this.#timer = setTimeout(() => void this.#tick(), this.#policy.intervalMs).unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    const startedAt = Date.now();
    const failure = await this.#runProbe();
    if (this.#stopped) return;
    const busy = failure === undefined ? undefined : await this.#checkBusy();
    if (this.#stopped) return;
    const verdict = failure === undefined ? this.#succeeded() : busy !== undefined ? this.#wasBusy(failure, busy) : this.#failed(startedAt, failure);
    if (verdict !== undefined) {
      try {
        this.#onVerdict(verdict);
      } catch {
        // The owner's bug must not become an unhandled rejection that ends anyclaude; the next probe retries.
      }
    }
    if (!this.#stopped && verdict?.kind !== 'restart') this.#schedule();
  }

  /** undefined when it answered; otherwise what went wrong, in a few words. */
  async #runProbe(): Promise<string | undefined> {
    const controller = (this.#inFlight = new AbortController());
    const { timeoutMs } = this.#policy;
    let timer: NodeJS.Timeout | undefined;
    // A probe that ignores its signal still loses this race, so a hung probe cannot stall the check;
    // stop() (an abort) ends the race at once, and with it the timer.
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        resolve(`timeout after ${formatMs(timeoutMs)}`);
        controller.abort();
      }, timeoutMs).unref();
      controller.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    try {
      return await Promise.race([
        this.#probe(controller.signal).then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        ),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
      controller.abort();
      if (this.#inFlight === controller) this.#inFlight = undefined;
    }
  }

  /** Whether a failed probe met a busy server; stop() cancels the question. */
  async #checkBusy(): Promise<string | undefined> {
    if (this.#busy === undefined) return undefined;
    const controller = (this.#inFlight = new AbortController());
    try {
      return await this.#busy(controller.signal);
    } catch {
      return undefined;
    } finally {
      if (this.#inFlight === controller) this.#inFlight = undefined;
    }
  }

  /**
   * A server computing flat out answers late (a long prefill on a loaded machine) but is alive:
   * the streak of failures ends, as on a success. A hung one (stopped, deadlocked) uses no CPU.
   */
  #wasBusy(failure: string, busy: string): HealthVerdict {
    const wasDegraded = this.#degradedAt !== undefined;
    this.#failures = 0;
    this.#degradedAt = undefined;
    const detail = `its health check failed (${failure}) while it was busy (${busy}): not counted`;
    return wasDegraded ? { kind: 'ok', how: detail } : { kind: 'busy', detail };
  }

  #succeeded(): HealthVerdict | undefined {
    const wasDegraded = this.#degradedAt !== undefined;
    this.#failures = 0;
    this.#degradedAt = undefined;
    return wasDegraded ? { kind: 'ok', how: 'answers its health check again' } : undefined;
  }

  #failed(startedAt: number, what: string): HealthVerdict | undefined {
    if (this.#failures === 0) this.#failingSince = startedAt;
    this.#failures += 1;
    if (this.#failures < this.#policy.failuresBeforeDegraded) return undefined;
    const now = Date.now();
    const silent = `${this.#name} did not answer its health check for ${formatMs(now - this.#failingSince)} (${what})`;
    this.#degradedAt ??= now;
    const left = this.#degradedAt + this.#policy.restartAfterMs - now;
    if (left <= 0) return { kind: 'restart', reason: `${silent}; restarting it` };
    return { kind: 'degraded', reason: `${silent}; anyclaude restarts it if it still does not answer in ${formatMs(left)}` };
  }
}

/** "750 ms", "5 s", "1.5 s". */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  return `${s < 10 ? Math.round(s * 10) / 10 : Math.round(s)} s`;
}
