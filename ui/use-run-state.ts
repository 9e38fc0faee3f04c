/**
 * The run's state as a React value. The store already limits notifications to about ten a
 * second, so a render per notification is cheap enough and needs no throttling here.
 */
import { useCallback, useSyncExternalStore } from 'react';
import type { RunState, RunStore } from '../src/run/run-state.js';

export function useRunState(store: RunStore): RunState {
  // Bound here: a store written as a class would lose `this` if its methods were passed bare.
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const getSnapshot = useCallback(() => store.getSnapshot(), [store]);
  return useSyncExternalStore(subscribe, getSnapshot);
}
