/**
 * The run's state as an external store (React's useSyncExternalStore contract): every change
 * makes a new RunState value, and subscribers hear about changes at most every MIN_NOTIFY_MS,
 * so a reply streaming at 100 tok/s costs ten dashboard renders a second, not a hundred.
 */
import { emptyRunState, type RunState } from './run-state.js';

/** ≤ 10 notifications a second (ms). */
export const MIN_NOTIFY_MS = 100;

export class StateStore {
  #state: RunState;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #lastNotify = 0;
  readonly #minNotifyMs: number;

  constructor(initial: RunState = emptyRunState(), minNotifyMs = MIN_NOTIFY_MS) {
    this.#state = initial;
    this.#minNotifyMs = minNotifyMs;
  }

  readonly getSnapshot = (): RunState => this.#state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Applies a change (return undefined for "nothing changed") and schedules one notification. */
  update(change: (state: RunState) => Partial<RunState> | undefined): void {
    const patch = change(this.#state);
    if (patch === undefined) return;
    this.#state = { ...this.#state, ...patch, revision: this.#state.revision + 1 };
    this.#schedule();
  }

  /** Stops pending notifications (the run is over). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastNotify + this.#minNotifyMs - Date.now());
    this.#timer = setTimeout(() => this.#notify(), wait);
    // A pending redraw never keeps anyclaude alive.
    this.#timer.unref();
  }

  #notify(): void {
    this.#timer = undefined;
    this.#lastNotify = Date.now();
    for (const listener of [...this.#listeners]) listener();
  }
}
