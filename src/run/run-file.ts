/**
 * How `anyclaude status`, the status line and a dashboard in another terminal find a running
 * `anyclaude up`: each one writes `<home>/run/instance-<pid>.run` (JSON: its proxy URL and key)
 * while it runs. The extension is not `.json` on purpose: the backend servers' pidfiles live in
 * the same folder, and reapStale (src/supervisor/pidfiles.ts) treats every `*.json` there as a
 * pidfile it may delete.
 *
 * The file holds the proxy's key, so it is 0600 in a 0700 folder, like the pidfiles.
 *
 * Validated by hand, not with zod: `anyclaude status --line` reads these files on its fast path,
 * where importing zod alone would cost ~100 ms of a 150 ms budget.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describeWriteError, realMkdirError, writeFaultFix } from '../core/write-fault.js';

export interface RunFileRecord {
  pid: number;
  /** The proxy's base URL, as Claude Code gets it in ANTHROPIC_BASE_URL. */
  url: string;
  /** The proxy's key (ANTHROPIC_AUTH_TOKEN). */
  key: string;
  /** ms since the epoch. */
  startedAt: number;
  cwd: string;
  /** anyclaude's version. */
  version: string;
}

/** The record in `value`, or undefined when it is not a valid one (extra fields are dropped). */
export function parseRunFile(value: unknown): RunFileRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const { pid, url, key, startedAt, cwd, version } = v;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) return undefined;
  if (typeof key !== 'string' || key === '') return undefined;
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) return undefined;
  if (typeof cwd !== 'string' || typeof version !== 'string') return undefined;
  return { pid, url, key, startedAt, cwd, version };
}

/** ANYCLAUDE_HOME, else ~/.anyclaude (what up-command's anyclaudeHome() says, without its imports). */
export function homeFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANYCLAUDE_HOME ?? join(homedir(), '.anyclaude');
}

const FILE_PATTERN = /^instance-(\d+)\.run$/;
/** A temp file a writer that died mid-write left: `instance-<pid>.run.<writer pid>.tmp`. */
const TEMP_PATTERN = /^instance-\d+\.run\.(\d+)\.tmp$/;

export function runDir(home: string): string {
  return join(home, 'run');
}

export function runFilePath(home: string, pid: number): string {
  return join(runDir(home), `instance-${pid}.run`);
}

/** Written atomically (temp file + rename): a reader never sees half a record. Returns the file. */
export async function writeRunFile(home: string, record: RunFileRecord): Promise<string> {
  const parsed = parseRunFile(record);
  if (parsed === undefined) throw new Error(`not a valid run file record: ${JSON.stringify({ ...record, key: '…' })}`);
  const dir = runDir(home);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = runFilePath(home, parsed.pid);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(parsed)}\n`, { mode: 0o600 });
  await rename(temp, file);
  return file;
}

/**
 * writeRunFile for a running session: a failure (full disk, read-only home) costs only what the
 * file is for, said in one line through `warn`, never the session. The file, or undefined.
 */
export async function tryWriteRunFile(home: string, record: RunFileRecord, warn: (line: string) => void): Promise<string | undefined> {
  try {
    return await writeRunFile(home, record);
  } catch (failure) {
    const file = runFilePath(home, record.pid);
    await rm(`${file}.${process.pid}.tmp`, { force: true }).catch(() => undefined);
    const error = await realMkdirError(runDir(home), failure);
    warn(`anyclaude status, the dashboard and the status line cannot find this session: ${file}: ${describeWriteError(error)}; ${writeFaultFix(error)}`);
    return undefined;
  }
}

export async function removeRunFile(home: string, pid: number): Promise<void> {
  await rm(runFilePath(home, pid), { force: true });
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The record in `file`, or undefined when it is missing, unreadable or not a run file. */
export async function readRunFile(file: string): Promise<RunFileRecord | undefined> {
  try {
    return parseRunFile(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * The instances whose process is alive, newest first. Files of dead processes, invalid files and
 * temp files their writer left are removed. A pid the OS reused for another program still counts
 * as alive here: whoever uses the record finds out when the URL does not answer.
 */
export async function findRunningInstances(home: string): Promise<RunFileRecord[]> {
  let names: string[];
  try {
    names = await readdir(runDir(home));
  } catch {
    return [];
  }
  const found: RunFileRecord[] = [];
  for (const name of names) {
    const file = join(runDir(home), name);
    const temp = TEMP_PATTERN.exec(name);
    if (temp !== null) {
      if (!pidAlive(Number(temp[1]))) await rm(file, { force: true }).catch(() => undefined);
      continue;
    }
    const match = FILE_PATTERN.exec(name);
    if (match === null) continue;
    const record = await readRunFile(file);
    if (record === undefined) {
      // Another writer may be renaming over it right now; a file only disappears when its pid is gone too.
      if (!pidAlive(Number(match[1]))) await rm(file, { force: true }).catch(() => undefined);
      continue;
    }
    if (record.pid !== Number(match[1]) || !pidAlive(record.pid)) {
      await rm(file, { force: true }).catch(() => undefined);
      continue;
    }
    found.push(record);
  }
  return found.sort((a, b) => b.startedAt - a.startedAt || b.pid - a.pid);
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string): string => u.trim().replace(/\/+$/, '').toLowerCase();
  return norm(a) === norm(b);
}

/**
 * The instance this shell or this Claude Code belongs to: the one whose URL is
 * ANTHROPIC_BASE_URL, else the newest. `instances` must be newest first (as findRunningInstances gives).
 */
export function chooseInstance(instances: readonly RunFileRecord[], env: NodeJS.ProcessEnv = process.env): RunFileRecord | undefined {
  const base = env.ANTHROPIC_BASE_URL;
  if (base !== undefined && base !== '') {
    const match = instances.find((i) => sameUrl(i.url, base));
    if (match !== undefined) return match;
  }
  return instances[0];
}
