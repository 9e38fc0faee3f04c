/**
 * How much CPU a process is using, to tell a busy server (computing a long prefill, slow to answer
 * a probe) from a hung one (stopped or deadlocked: it uses none). Linux reads /proc; macOS asks ps.
 */
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks, 100 a second on every architecture. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time the process (all its threads) has used, in ms; undefined where it cannot be read. */
export async function cpuTimeMs(pid: number, platform: NodeJS.Platform = process.platform): Promise<number | undefined> {
  try {
    if (platform === 'linux') return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    if (platform === 'darwin') {
      const { stdout, exitCode } = await execa('ps', ['-o', 'time=', '-p', String(pid)], { reject: false, timeout: 2_000 });
      return exitCode === 0 ? parsePsTime(stdout) : undefined;
    }
  } catch {
    // Gone, or not ours to read.
  }
  return undefined;
}

/** utime + stime from a /proc/<pid>/stat line, in ms. */
export function parseProcStat(stat: string): number | undefined {
  // The command name is in parentheses and may itself contain spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of the line, utime 14 and stime 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / TICKS_PER_SECOND : undefined;
}

/** ps's `time` column: "1:02.50", "1:02:03.50" or "1-02:03:04" (days), in ms. */
export function parsePsTime(text: string): number | undefined {
  const trimmed = text.trim();
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(trimmed);
  if (match === null) return undefined;
  const [, days, hours, minutes, seconds] = match;
  return (((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}

/**
 * The share of one core the process used over the next `windowMs` (1 = one core flat out), or
 * undefined when its CPU time cannot be read. Ends early, with undefined, once `signal` aborts.
 */
export async function cpuShare(pid: number, windowMs: number, signal: AbortSignal): Promise<number | undefined> {
  const before = await cpuTimeMs(pid);
  const startedAt = Date.now();
  if (before === undefined) return undefined;
  await unrefDelay(windowMs, signal);
  if (signal.aborted) return undefined;
  const after = await cpuTimeMs(pid);
  const elapsed = Date.now() - startedAt;
  return after === undefined || elapsed <= 0 ? undefined : (after - before) / elapsed;
}

/** Like process-group's delay, but unref'd: measuring must never keep anyclaude running. */
function unrefDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms).unref();
    signal.addEventListener('abort', done, { once: true });
    if (signal.aborted) done();
  });
}
