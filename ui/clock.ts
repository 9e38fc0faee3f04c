/**
 * The dashboard's clocks. Ink redraws the whole screen on every React commit (10-20 ms of CPU for
 * a 120×40 frame), so what changes with time is drawn as few times, and in as few commits, as it
 * can be:
 *  - frames: one timer, every FRAME_MS while anything listens. A streaming reply's progress
 *    (ui/use-run-state.ts) and the elapsed times are drawn on these ticks, in one commit.
 *  - `now` for elapsed times ("up 12m", "warming 14s") moves every fourth frame: once a second.
 *    A component reads it through a selector and re-renders only when what it selects changes:
 *    "up 1h 02m" costs a redraw a minute, not one a second.
 *  - the spinner: one frame for every spinner on screen, so they turn in one redraw.
 * No timer keeps the process alive, and none runs while nothing listens.
 */
import { useSyncExternalStore } from 'react';
import { SPINNER_FRAMES, SPINNER_INTERVAL_MS } from './theme.js';

/** How often a frame tick may redraw: a streaming reply's output count moves at this pace. */
export const FRAME_MS = 250;
export const FRAMES_PER_SECOND = 1000 / FRAME_MS;

class Ticker {
  readonly #listeners = new Set<() => void>();
  readonly #intervalMs: number;
  /** `now` moves every this many ticks. */
  readonly #nowEvery: number;
  #timer: NodeJS.Timeout | undefined;
  #now = 0;
  #ticks = 0;
  /** Read while no timer runs: kept for the rest of this task, so one render sees one time. */
  #fresh = false;

  constructor(intervalMs: number, nowEvery = 1) {
    this.#intervalMs = intervalMs;
    this.#nowEvery = nowEvery;
  }

  readonly now = (): number => {
    if (this.#timer === undefined && !this.#fresh) {
      this.#now = Date.now();
      this.#fresh = true;
      queueMicrotask(() => (this.#fresh = false));
    }
    return this.#now;
  };

  /** How many times it ticked. */
  readonly ticks = (): number => this.#ticks;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#now = Date.now();
      this.#ticks = 0;
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      // A dashboard left open must not keep the process alive on its own.
      this.#timer.unref?.();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0 || this.#timer === undefined) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  };

  #tick(): void {
    this.#ticks++;
    if (this.#ticks % this.#nowEvery === 0) this.#now = Date.now();
    // In one task: React draws whatever these listeners change in one commit.
    for (const notify of [...this.#listeners]) notify();
  }
}

const frames = new Ticker(FRAME_MS, FRAMES_PER_SECOND);
const spinner = new Ticker(SPINNER_INTERVAL_MS);

/**
 * Calls `listener` on every frame tick (every FRAME_MS) with the tick's number, until the returned
 * function is called. `now` moves on the ticks whose number is a multiple of FRAMES_PER_SECOND.
 */
export function onFrame(listener: (tick: number) => void): () => void {
  return frames.subscribe(() => listener(frames.ticks()));
}

/**
 * `select(now)`, with `now` moving once a second: the component re-renders when the selected
 * value changes (compared with Object.is, so select a string or a number, not a new object).
 */
export function useClock<T>(select: (now: number) => T): T {
  return useSyncExternalStore(frames.subscribe, () => select(frames.now()));
}

function spinnerFrame(): string {
  return SPINNER_FRAMES[spinner.ticks() % SPINNER_FRAMES.length]!;
}

/** The spinner's current frame: the same in every spinner on screen. */
export function useSpinnerFrame(): string {
  return useSyncExternalStore(spinner.subscribe, spinnerFrame);
}
