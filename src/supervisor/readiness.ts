/** Readiness checks for ManagedProcess. Backends whose health URL lies (mlx_lm.server) need their own. */
import { request } from 'undici';

/** Ready when a GET of `url` answers 2xx. A refused connection or any other status means "not yet". */
export function httpReady(url: string, options: { timeoutMs?: number } = {}): (signal: AbortSignal) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return async (signal) => {
    const response = await request(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode > 299) throw new Error(`${url} answered HTTP ${response.statusCode}`);
  };
}

/**
 * A liveness probe: a GET of `url` must answer 2xx. No timeout of its own: the health check
 * aborts `signal` when the probe takes too long.
 */
export function httpAlive(url: string): (signal: AbortSignal) => Promise<void> {
  return async (signal) => {
    const response = await request(url, { signal });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode > 299) throw new Error(`GET ${new URL(url).pathname} answered HTTP ${response.statusCode}`);
  };
}
