/**
 * The one place that decides what happens when anyclaude exits: every registered cleanup (stop the
 * servers, close the proxy) runs once, whether the exit is normal, a signal, or an uncaught error.
 * Hooks are installed on first registration, so importing this module changes nothing by itself.
 */
import { constants } from 'node:os';

export type Cleanup = () => void | Promise<void>;

/** A signal exit waits at most this long for cleanups (servers get 5 s to stop, then SIGKILL). */
export const CLEANUP_TIMEOUT_MS = 10_000;

const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const cleanups = new Set<Cleanup>();
let running: Promise<unknown[]> | undefined;
let installed = false;

/** Register `fn` to run once when anyclaude exits; returns a function that unregisters it. */
export function onExit(fn: Cleanup): () => void {
  install();
  const entry: Cleanup = () => fn();
  cleanups.add(entry);
  return () => cleanups.delete(entry);
}

/**
 * Run every registered cleanup once, concurrently (servers stop in parallel), and resolve with the
 * errors they threw. Later calls return the same promise. Call this before `process.exit()`:
 * an exit that skips it only gets the synchronous start of each cleanup.
 */
export function runCleanups(): Promise<unknown[]> {
  running ??= (async () => {
    const pending = [...cleanups];
    cleanups.clear();
    const results = await Promise.allSettled(pending.map(async (fn) => fn()));
    return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  })();
  return running;
}

function install(): void {
  if (installed) return;
  installed = true;
  // Normal end: the event loop drained. Cleanups may schedule more work, after which this fires again.
  process.on('beforeExit', () => void runCleanups());
  // process.exit() or a fatal error elsewhere: nothing async can run now, so at least start each one.
  process.on('exit', () => {
    if (running !== undefined) return;
    for (const fn of cleanups) {
      try {
        void Promise.resolve(fn()).catch(() => undefined);
      } catch {
        // Exiting anyway.
      }
    }
  });
  for (const signal of HANDLED_SIGNALS) {
    process.on(signal, () => {
      if (signal === 'SIGINT' && interruptHandler !== undefined) return interruptHandler();
      void exitAfterCleanup(128 + constants.signals[signal]);
    });
  }
  process.on('uncaughtException', (error) => {
    // Replacing Node's default handler means printing the error ourselves, as Node would.
    console.error(error);
    void exitAfterCleanup(1);
  });
}

let exiting = false;
let interruptHandler: (() => void) | undefined;

/**
 * While a child owns the terminal (Claude Code), Ctrl-C is its to handle: the terminal sends
 * SIGINT to the whole foreground group, so anyclaude must not exit on it. `undefined` restores exiting.
 */
export function handleInterrupt(handler: (() => void) | undefined): void {
  install();
  interruptHandler = handler;
}

async function exitAfterCleanup(code: number): Promise<void> {
  if (exiting) {
    // A second Ctrl-C (or a second fatal error) while cleaning up: the user wants out now.
    process.exit(code);
  }
  exiting = true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS);
  });
  await Promise.race([runCleanups(), timeout]);
  clearTimeout(timer);
  process.exit(code);
}
