/**
 * A clock for "up 12m", "warming 14s": one tick a second, so elapsed times move without
 * waiting for the next state change, and never faster than the store itself notifies.
 */
import { useEffect, useState } from 'react';

export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    // A dashboard left open must not keep the process alive on its own.
    timer.unref?.();
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
