/**
 * Pidfiles let the next anyclaude clean up servers a crashed one left behind (a `kill -9`, a closed
 * laptop lid, a power loss): nothing else would ever stop them, and a stray model server can hold
 * tens of GB of memory and the port the new one needs.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import psList, { type ProcessDescriptor } from 'ps-list';
import { z } from 'zod';
import type { CoreEvents } from '../core/events.js';
import { terminateGroup } from './process-group.js';

const pidRecordSchema = z.object({
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  command: z.string(),
  args: z.array(z.string()),
  /** ms since the epoch, taken just after spawn. */
  startedAt: z.number(),
  anyclaudePid: z.number().int().positive(),
});

export type PidRecord = z.infer<typeof pidRecordSchema>;

export interface ReapedPidfile {
  file: string;
  record: PidRecord | undefined;
  /** killed: its group was terminated; gone: nothing left to kill; not-ours: the pid now runs something else; unreadable: not a valid pidfile. */
  outcome: 'killed' | 'gone' | 'not-ours' | 'unreadable';
}

/**
 * ps prints start times to the second and clocks drift a little; a process that started this much
 * later than the record says cannot be the one recorded.
 */
const START_TIME_SLACK_MS = 2_000;

/** Written atomically (temp file + rename) so a concurrent reaper never reads half a record. */
export async function writePidfile(pidDir: string, name: string, record: PidRecord): Promise<string> {
  await mkdir(pidDir, { recursive: true, mode: 0o700 });
  const file = path.join(pidDir, `${name}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await rename(temp, file);
  return file;
}

/** Removes the pidfile only if it still describes `pid` (another anyclaude may have taken the name since). */
export async function removePidfile(pidDir: string, name: string, pid: number): Promise<void> {
  const file = path.join(pidDir, `${name}.json`);
  const record = await readRecord(file);
  if (record === undefined || record.pid === pid) await rm(file, { force: true });
}

/**
 * For every pidfile whose anyclaude is gone: terminate the recorded server's process group if that
 * pid still runs the recorded command line, then delete the pidfile. A pid that now runs anything
 * else was reused by the OS and is never touched. Pidfiles of a live anyclaude are left alone.
 */
export async function reapStale(pidDir: string, options: { events?: CoreEvents; stopTimeoutMs?: number } = {}): Promise<ReapedPidfile[]> {
  let names: string[];
  try {
    names = (await readdir(pidDir)).filter((n) => n.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  if (names.length === 0) return [];
  const processes = new Map((await psList()).map((p) => [p.pid, p]));
  const reaped: ReapedPidfile[] = [];
  for (const name of names) {
    const file = path.join(pidDir, name);
    const record = await readRecord(file);
    if (record !== undefined && isOurs(processes.get(record.anyclaudePid), record, undefined)) continue;
    const outcome = record === undefined ? 'unreadable' : await reapServer(record, processes.get(record.pid), options.stopTimeoutMs ?? 5_000);
    await rm(file, { force: true });
    reaped.push({ file, record, outcome });
    options.events?.log(outcome === 'killed' ? 'warn' : 'info', 'supervisor', describe(name, record, outcome));
  }
  return reaped;
}

export interface PidfileState {
  file: string;
  record: PidRecord | undefined;
  /** live: its anyclaude still runs; orphan: anyclaude is gone, its server still runs (reapStale stops it); the rest as in ReapedPidfile. */
  state: 'live' | 'orphan' | 'gone' | 'not-ours' | 'unreadable';
  /** The server's command line as ps shows it, for an orphan. */
  cmd?: string;
}

/** What reapStale would do with each pidfile, doing none of it (`anyclaude doctor`). */
export async function inspectPidfiles(pidDir: string): Promise<PidfileState[]> {
  const names = (await readdir(pidDir).catch(() => [])).filter((n) => n.endsWith('.json'));
  if (names.length === 0) return [];
  const processes = new Map((await psList()).map((p) => [p.pid, p]));
  return Promise.all(
    names.map(async (name): Promise<PidfileState> => {
      const file = path.join(pidDir, name);
      const record = await readRecord(file);
      if (record === undefined) return { file, record, state: 'unreadable' };
      if (isOurs(processes.get(record.anyclaudePid), record, undefined)) return { file, record, state: 'live' };
      const running = processes.get(record.pid);
      if (running === undefined || isZombie(running)) return { file, record, state: 'gone' };
      if (record.pgid !== record.pid || !isOurs(running, record, [record.command, ...record.args])) return { file, record, state: 'not-ours' };
      return { file, record, state: 'orphan', cmd: running.cmd ?? record.command };
    }),
  );
}

async function reapServer(record: PidRecord, running: ProcessDescriptor | undefined, timeoutMs: number): Promise<ReapedPidfile['outcome']> {
  if (running === undefined || isZombie(running)) return 'gone';
  // We only ever record group leaders; anything else is not a pidfile we wrote.
  if (record.pgid !== record.pid || !isOurs(running, record, [record.command, ...record.args])) return 'not-ours';
  await terminateGroup(record.pgid, { timeoutMs });
  return 'killed';
}

/**
 * Whether `p` is still the process the record describes: alive, started no later than the record,
 * and (when `argv` is given) running that command line.
 */
function isOurs(p: ProcessDescriptor | undefined, record: PidRecord, argv: string[] | undefined): boolean {
  if (p === undefined || isZombie(p)) return false;
  if (p.startTime !== undefined && p.startTime.getTime() > record.startedAt + START_TIME_SLACK_MS) return false;
  return argv === undefined || commandLineMatches(p.cmd ?? '', argv);
}

/**
 * ps shows argv joined by spaces, with unprintable bytes as '?', and argv[0] may differ from what we
 * spawned: PATH lookup can make `node` appear as `/usr/bin/node`, and a shebang script such as
 * `mlx_lm.server` runs as `python3 /path/to/bin/mlx_lm.server …`. So: the arguments must match
 * exactly (after normalising), and some word before them must name the same executable.
 */
export function commandLineMatches(cmd: string, argv: string[]): boolean {
  const [command = '', ...args] = argv;
  const actual = normalize(cmd);
  const tail = normalize(args.join(' '));
  if (tail !== '' && !actual.endsWith(` ${tail}`)) return false;
  const head = tail === '' ? actual : actual.slice(0, actual.length - tail.length - 1);
  const wanted = path.basename(normalize(command));
  return wanted !== '' && head.split(' ').some((word) => path.basename(word) === wanted);
}

function normalize(text: string): string {
  return text
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\?+/g, '?')
    .replace(/ +/g, ' ')
    .trim();
}

function isZombie(p: ProcessDescriptor): boolean {
  return (p.cmd ?? '').includes('<defunct>');
}

async function readRecord(file: string): Promise<PidRecord | undefined> {
  try {
    const parsed = pidRecordSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function describe(name: string, record: PidRecord | undefined, outcome: ReapedPidfile['outcome']): string {
  if (record === undefined) return `removed unreadable pidfile ${name}`;
  const what = `${record.command} (pid ${record.pid}) left by anyclaude pid ${record.anyclaudePid}`;
  if (outcome === 'killed') return `stopped ${what}`;
  if (outcome === 'not-ours') return `pid ${record.pid} now runs another program; left it alone and removed ${name}`;
  return `removed stale pidfile ${name}: ${what} is no longer running`;
}
