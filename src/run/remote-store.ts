/**
 * A RunStore for a running `anyclaude up` in another process: `anyclaude dashboard` in a second
 * terminal renders this exactly as the in-process store. It polls `GET /_anyclaude/state` and
 * sends `switchTo` as `POST /_anyclaude/switch`.
 *
 * Connection problems: `error()` says what is wrong (undefined while the instance answers), and
 * the snapshot stays the last state received, with one `error` log line (source `remote`) added
 * when the connection is lost, so a component reading only the snapshot re-renders and shows it.
 * Subscribers are told when the state's `revision` changes and when the connection is lost or back.
 */
import { request } from 'undici';
import { emptyRunState, type RunState, type RunStore } from './run-state.js';
import { looksLikeRunState } from './status-line.js';

export interface RemoteStoreOptions {
  /** The proxy's base URL (the run file's `url`). */
  url: string;
  /** The proxy's key. */
  key: string;
  /** Time between the end of one poll and the start of the next. */
  pollMs?: number;
  /** How long one poll may take before it counts as a failure. */
  timeoutMs?: number;
}

export interface RemoteStore extends RunStore {
  /** Why the instance cannot be read now (it stopped, refused the key, answers garbage); undefined while it answers. */
  error(): string | undefined;
  /** Settles after the first poll, whichever way it went. */
  readonly ready: Promise<void>;
  /** Stops polling (and aborts a poll in flight); switchTo rejects from then on. */
  close(): void;
}

export const REMOTE_LOG_SOURCE = 'remote';
/** A switch may start a server and load a model: minutes, not seconds. */
const SWITCH_TIMEOUT_MS = 30 * 60_000;

export function connectRemoteStore(options: RemoteStoreOptions): RemoteStore {
  const base = options.url.replace(/\/+$/, '');
  const pollMs = options.pollMs ?? 500;
  const timeoutMs = options.timeoutMs ?? Math.max(2_000, pollMs * 4);
  const headers = { authorization: `Bearer ${options.key}` };
  const listeners = new Set<() => void>();
  let snapshot: RunState = emptyRunState({ pid: 0, startedAt: 0, phaseDetail: `connecting to ${base}` });
  let received: RunState | undefined;
  let problem: string | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: AbortController | undefined;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };

  const fail = (message: string): void => {
    if (closed || problem === message) return;
    problem = message;
    const from = received ?? snapshot;
    snapshot = { ...from, logs: [...from.logs, { at: Date.now(), level: 'error', source: REMOTE_LOG_SOURCE, message }] };
    notify();
  };

  const accept = (state: RunState): void => {
    const recovered = problem !== undefined;
    problem = undefined;
    const changed = received === undefined || state.revision !== received.revision;
    if (changed) received = state;
    if (changed || recovered) {
      snapshot = received ?? state;
      notify();
    }
  };

  async function poll(): Promise<void> {
    const controller = new AbortController();
    inFlight = controller;
    const timeout = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const response = await request(`${base}/_anyclaude/state`, { method: 'GET', headers, signal: controller.signal });
      const body = await response.body.text();
      if (response.statusCode !== 200) {
        fail(`${base} answered HTTP ${response.statusCode}${suffix(errorMessageIn(body))}`);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        fail(`${base} answered something that is not JSON`);
        return;
      }
      if (looksLikeRunState(parsed)) accept(parsed);
      else fail(`${base} answered JSON that is not anyclaude's state`);
    } catch (error) {
      if (!closed) fail(describeFailure(base, error));
    } finally {
      clearTimeout(timeout);
      inFlight = undefined;
    }
  }

  const ready = (async () => {
    await poll();
    void loop();
  })();

  async function loop(): Promise<void> {
    while (!closed) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, pollMs);
      });
      wake = undefined;
      if (closed) return;
      await poll();
    }
  }

  /** Polls now instead of at the next tick (after a switch). */
  const pollSoon = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    wake?.();
  };

  return {
    ready,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    error: () => problem,
    async switchTo(backend, model) {
      if (closed) throw new Error('the connection to anyclaude is closed');
      let response;
      try {
        response = await request(`${base}/_anyclaude/switch`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(model === undefined ? { backend } : { backend, model }),
          headersTimeout: SWITCH_TIMEOUT_MS,
          bodyTimeout: SWITCH_TIMEOUT_MS,
        });
      } catch (error) {
        throw new Error(`could not switch to ${backend}: ${describeFailure(base, error)}`, { cause: error });
      }
      const body = await response.body.text();
      pollSoon();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        const ok = parseJson(body) as { ok?: unknown } | undefined;
        if (ok?.ok === true) return;
        throw new Error(`could not switch to ${backend}: ${errorMessageIn(body) ?? `unexpected answer: ${body.slice(0, 200)}`}`);
      }
      throw new Error(errorMessageIn(body) ?? `could not switch to ${backend}: HTTP ${response.statusCode}`);
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
      inFlight?.abort(new Error('closed'));
      listeners.clear();
    },
  };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function errorMessageIn(body: string): string | undefined {
  const parsed = parseJson(body) as { error?: { message?: unknown } } | undefined;
  return typeof parsed?.error?.message === 'string' ? parsed.error.message : undefined;
}

function suffix(message: string | undefined): string {
  return message === undefined ? '' : `: ${message}`;
}

function describeFailure(base: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return `anyclaude at ${base} is not running (connection refused)`;
  if (error instanceof Error && error.name === 'AbortError') return `anyclaude at ${base} does not answer`;
  const message = error instanceof Error ? error.message : String(error);
  return `anyclaude at ${base}: ${typeof code === 'string' ? `${code} ` : ''}${message}`;
}
