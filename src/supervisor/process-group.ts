/**
 * Signals to whole process groups. Servers are spawned detached, so each leads its own group and
 * `kill(-pgid)` reaches the workers it forks too (Python servers fork tokenizer and loader helpers).
 */
import { readFileSync } from 'node:fs';

/** Send `signal` to every process in the group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  // kill(-1) would signal every process we may signal, and kill(-0) our own group.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`refusing to signal process group ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return false;
    throw error;
  }
}

/**
 * Whether a process is alive. A zombie counts as dead: it holds no memory or port, and where
 * nothing reaps orphans (a container whose PID 1 is not an init) it would otherwise look alive forever.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return isErrno(error, 'EPERM');
  }
  if (process.platform !== 'linux') return true;
  try {
    // The state letter follows the parenthesised command name, which may itself contain spaces or ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * SIGTERM the group, wait up to `timeoutMs` for `exited` (or, without it, for the leader to vanish),
 * then SIGKILL whatever is left of the group. The final SIGKILL also catches group members that
 * outlived a leader which exited cleanly.
 */
export async function terminateGroup(pgid: number, options: { timeoutMs: number; exited?: Promise<unknown> }): Promise<'exited' | 'killed'> {
  if (!signalGroup(pgid, 'SIGTERM')) return 'exited';
  // A stopped process (SIGSTOP, or a debugger) keeps SIGTERM pending until it runs again; wake it
  // so it can exit cleanly, as systemd does. One that still does not exit gets the SIGKILL below.
  signalGroup(pgid, 'SIGCONT');
  const done = new AbortController();
  const gone = options.exited ?? waitUntilGone(pgid, done.signal);
  try {
    const outcome = await Promise.race([gone.then(() => 'exited' as const), delay(options.timeoutMs, 'killed' as const, done.signal)]);
    signalGroup(pgid, 'SIGKILL');
    // SIGKILL cannot be ignored, but the kernel still needs a moment to tear the process down.
    if (outcome === 'killed') await Promise.race([gone, delay(2_000, undefined, done.signal)]);
    return outcome;
  } finally {
    done.abort();
  }
}

async function waitUntilGone(pid: number, signal: AbortSignal): Promise<void> {
  while (isRunning(pid) && !signal.aborted) await delay(50, undefined, signal);
}

/**
 * A timer that resolves with `value`, or early (never rejecting) once `signal` aborts. It is
 * ref'd on purpose: a caller awaiting a kill must not find the process exiting under it.
 */
export function delay<T>(ms: number, value: T, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(value);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(value);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const tracked = new Set<number>();
let exitHookInstalled = false;

/**
 * Kill the group synchronously if this process exits without stopping it first (a `process.exit()`
 * somewhere, or a crash the cleanup registry could not handle). execa's own `cleanup` option does
 * nothing for detached children, so without this a server would outlive anyclaude.
 * Returns the function that stops tracking (call it once the group is gone).
 */
export function killGroupOnExit(pgid: number): () => void {
  tracked.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of tracked) {
        try {
          signalGroup(group, 'SIGKILL');
        } catch {
          // Exiting anyway; nothing useful to do with the error.
        }
      }
    });
  }
  return () => tracked.delete(pgid);
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
