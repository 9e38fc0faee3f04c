/** The run file through which `anyclaude status`, the status line and a second dashboard find a running `up`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseInstance, findRunningInstances, removeRunFile, runFilePath, writeRunFile, type RunFileRecord } from '../../src/run/run-file.js';
import { reapStale } from '../../src/supervisor/pidfiles.js';

async function home(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'anyclaude-run-file-'));
}

/** The pid of a process that has exited: an anyclaude that died without cleaning up. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Another live process, standing in for a second anyclaude. */
function livePid(): number {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  return child.pid ?? 0;
}

function record(pid: number, overrides: Partial<RunFileRecord> = {}): RunFileRecord {
  return { pid, url: `http://127.0.0.1:${40_000 + (pid % 20_000)}`, key: `anyclaude-key-${pid}`, startedAt: 1_760_000_000_000, cwd: '/home/u/project', version: '0.1.0', ...overrides };
}

describe('run files', () => {
  it('are written 0600 in a 0700 folder, atomically, and removed', async () => {
    const dir = await home();
    const file = await writeRunFile(dir, record(process.pid));
    expect(file).toBe(join(dir, 'run', `instance-${process.pid}.run`));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'run'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(record(process.pid));
    // No temp file left behind.
    expect(await readdir(join(dir, 'run'))).toEqual([`instance-${process.pid}.run`]);
    await removeRunFile(dir, process.pid);
    expect(await readdir(join(dir, 'run'))).toEqual([]);
  });

  it('refuses to write a record that would not read back', async () => {
    await expect(writeRunFile(await home(), record(process.pid, { url: 'not a url' }))).rejects.toThrow(/not a valid run file/);
  });

  it('lists live instances newest first and removes the files of dead ones', async () => {
    const dir = await home();
    const dead = await deadPid();
    const other = livePid();
    await writeRunFile(dir, record(process.pid, { startedAt: 1_000 }));
    await writeRunFile(dir, record(other, { startedAt: 2_000 }));
    await writeRunFile(dir, record(dead, { startedAt: 3_000 }));
    // A half-written temp file a dead writer left, and a corrupt file of a dead pid.
    await writeFile(join(dir, 'run', `instance-${dead}.run.${dead}.tmp`), '{"pid":', { mode: 0o600 });
    const corrupt = await deadPid();
    await writeFile(runFilePath(dir, corrupt), 'garbage', { mode: 0o600 });

    const found = await findRunningInstances(dir);
    expect(found.map((r) => r.pid)).toEqual([other, process.pid]);
    expect((await readdir(join(dir, 'run'))).sort()).toEqual([`instance-${other}.run`, `instance-${process.pid}.run`].sort());
  });

  it('finds nothing, without failing, when the folder does not exist', async () => {
    expect(await findRunningInstances(join(await home(), 'missing'))).toEqual([]);
  });

  it('picks the instance ANTHROPIC_BASE_URL names, else the newest', () => {
    const newest = record(300, { url: 'http://127.0.0.1:50300', startedAt: 3_000 });
    const older = record(200, { url: 'http://127.0.0.1:50200', startedAt: 2_000 });
    const instances = [newest, older];
    expect(chooseInstance(instances, { ANTHROPIC_BASE_URL: 'http://127.0.0.1:50200/' })).toBe(older);
    expect(chooseInstance(instances, { ANTHROPIC_BASE_URL: 'http://127.0.0.1:59999' })).toBe(newest);
    expect(chooseInstance(instances, {})).toBe(newest);
    expect(chooseInstance([], { ANTHROPIC_BASE_URL: 'http://127.0.0.1:50200' })).toBeUndefined();
  });

  it("are not mistaken for backend pidfiles: reapStale leaves them alone and reports nothing", async () => {
    const dir = await home();
    // A run file of a dead anyclaude: were it taken for a pidfile, it would be "unreadable" and deleted.
    const dead = await deadPid();
    await writeRunFile(dir, record(dead));
    await writeRunFile(dir, record(process.pid));
    const reaped = await reapStale(join(dir, 'run'));
    expect(reaped).toEqual([]);
    expect((await readdir(join(dir, 'run'))).sort()).toEqual([`instance-${dead}.run`, `instance-${process.pid}.run`].sort());
  });
});
