/**
 * The run's state as a React value. The store notifies at most about ten times a second; while a
 * reply streams, nearly every notification only moves its output count. Ink redraws the whole
 * screen for any change (a 120×40 frame is 10-30 ms of CPU, whatever changed), so the dashboard
 * draws those on its frame ticks (ui/clock.ts), together with the clock, and only as often as
 * PROGRESS_BUDGET allows: four times a second where a frame is cheap, once a second (with the
 * clock) where it is not. Every other change (a request starting or ending, a backend, a log
 * line, a switch) is drawn at once, with the latest progress.
 */
import { useMemo, useSyncExternalStore } from 'react';
import { performance } from 'node:perf_hooks';
import type { RunState, RunStore } from '../src/run/run-state.js';
import { FRAMES_PER_SECOND, FRAME_MS, onFrame } from './clock.js';

/** The share of one core that redrawing a streaming reply's progress may take. */
export const PROGRESS_BUDGET = 0.03;

/** Progress is drawn on every, every other or every fourth frame tick (with the clock): whichever keeps a frame of `frameMs` within budget. */
export function progressStride(frameMs: number): number {
  for (let stride = 1; stride < FRAMES_PER_SECOND; stride *= 2) if (frameMs <= stride * FRAME_MS * PROGRESS_BUDGET) return stride;
  return FRAMES_PER_SECOND;
}

/** Only a reply's progress changed: the same requests in flight, and nothing else different. */
export function onlyProgress(shown: RunState, next: RunState): boolean {
  for (const key of Object.keys(next) as (keyof RunState)[]) {
    if (key === 'revision' || key === 'inFlight') continue;
    if (!Object.is(shown[key], next[key])) return false;
  }
  const a = shown.inFlight;
  const b = next.inFlight;
  return a.length === b.length && a.every((f, i) => f.id === b[i]!.id);
}

interface View {
  getSnapshot(): RunState;
  subscribe(listener: () => void): () => void;
}

/** What the dashboard draws of `store`: its latest state, progress-only changes held to a frame tick. */
function pacedView(store: RunStore, paced: boolean): View {
  let shown = store.getSnapshot();
  let pending = false;
  /** What drawing a change takes here (wall time, smoothed): React, Yoga and Ink's whole frame. */
  let frameMs = 0;
  return {
    getSnapshot: () => shown,
    subscribe(listener) {
      const publish = (): void => {
        pending = false;
        shown = store.getSnapshot();
        const started = performance.now();
        listener();
        // React renders in a microtask and Ink draws in its commit: done before the next macrotask.
        if (paced)
          setImmediate(() => {
            const ms = performance.now() - started;
            frameMs = frameMs === 0 ? ms : 0.7 * frameMs + 0.3 * ms;
          });
      };
      const offStore = store.subscribe(() => {
        const next = store.getSnapshot();
        if (next === shown) return;
        if (paced && onlyProgress(shown, next)) pending = true;
        else publish();
      });
      // Every stride divides FRAMES_PER_SECOND: the tick that moves the clock draws the progress too, in one redraw.
      const offFrames = paced ? onFrame((tick) => pending && tick % progressStride(frameMs) === 0 && publish()) : () => undefined;
      // A change since the first render: React reads the snapshot again after subscribing.
      shown = store.getSnapshot();
      return () => {
        offFrames();
        offStore();
      };
    },
  };
}

/** `paced`: a change that only moves a reply's progress is drawn on a frame tick, within PROGRESS_BUDGET, instead of at once. */
export function useRunState(store: RunStore, paced = false): RunState {
  // Bound here: a store written as a class would lose `this` if its methods were passed bare.
  const view = useMemo(() => pacedView(store, paced), [store, paced]);
  return useSyncExternalStore(view.subscribe, view.getSnapshot);
}
