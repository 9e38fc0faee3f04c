/** A RunStore over a plain RunState, for the dashboard tests: set() replaces it and notifies. */
import { vi, type Mock } from 'vitest';
import type { RunState, RunStore } from '../../src/run/run-state.js';

export interface FakeStore extends RunStore {
  switchTo: Mock<(backend: string, model?: string) => Promise<void>>;
  set(state: RunState): void;
  listeners(): number;
}

export function fakeStore(initial: RunState, switchTo: (backend: string, model?: string) => Promise<void> = async () => {}): FakeStore {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getSnapshot: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    switchTo: vi.fn(switchTo),
    set(next) {
      state = { ...next, revision: state.revision + 1 };
      for (const listener of listeners) listener();
    },
    listeners: () => listeners.size,
  };
}
