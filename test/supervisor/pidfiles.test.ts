/** reapStale against real orphaned processes: kill what a dead anyclaude left, spare what pid reuse put there. */
import { spawn } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLineMatches, reapStale, writePidfile, type PidRecord } from '../../src/supervisor/pidfiles.js';
import { pickPort } from '../../src/supervisor/ports.js';
import { alive, FIXTURE, grandchildPid, tempDir, trackPid, waitFor } from './helpers.js';

/** The pid of a process that has exited and been reaped: an anyclaude that died. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

/** A server left running on its own, as a crashed anyclaude would leave it. */
async function orphan(command: string, args: string[]): Promise<{ pid: number; lines: string[] }> {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = child.pid ?? 0;
  trackPid(pid);
  const lines: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  child.unref();
  return { pid, lines };
}

describe('reapStale', () => {
  it('kills the process group a dead anyclaude left behind and deletes its pidfile', async () => {
    const dir = await tempDir();
    const port = await pickPort();
    const args = [FIXTURE, '--port', String(port), '--grandchild'];
    const server = await orphan(process.execPath, args);
    await waitFor('the grandchild', () => grandchildPid(server.lines) !== undefined);
    const pids = [server.pid, grandchildPid(server.lines) ?? 0];
    const record: PidRecord = { pid: server.pid, pgid: server.pid, command: process.execPath, args, startedAt: Date.now(), anyclaudePid: await deadPid() };
    await writePidfile(dir, 'mlx-lm', record);

    const reaped = await reapStale(dir, { stopTimeoutMs: 2_000 });
    expect(reaped).toEqual([{ file: path.join(dir, 'mlx-lm.json'), record, outcome: 'killed' }]);
    expect(await alive(pids)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('never kills a process whose command line does not match (the pid was reused)', async () => {
    const dir = await tempDir();
    const stranger = await orphan('sleep', ['30']);
    await writePidfile(dir, 'mlx-lm', {
      pid: stranger.pid,
      pgid: stranger.pid,
      command: 'mlx_lm.server',
      args: ['--model', 'x', '--port', '8080'],
      startedAt: Date.now(),
      anyclaudePid: await deadPid(),
    });
    const reaped = await reapStale(dir);
    expect(reaped.map((r) => r.outcome)).toEqual(['not-ours']);
    expect(await alive([stranger.pid])).toEqual([stranger.pid]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves the pidfiles of a live anyclaude alone, and removes unreadable and dead ones', async () => {
    const dir = await tempDir();
    const server = await orphan('sleep', ['30']);
    await writePidfile(dir, 'live', { pid: server.pid, pgid: server.pid, command: 'sleep', args: ['30'], startedAt: Date.now(), anyclaudePid: process.pid });
    await writePidfile(dir, 'gone', { pid: await deadPid(), pgid: 1, command: 'sleep', args: ['30'], startedAt: Date.now(), anyclaudePid: await deadPid() });
    await writeFile(path.join(dir, 'broken.json'), '{not json');
    const reaped = await reapStale(dir);
    expect(Object.fromEntries(reaped.map((r) => [path.basename(r.file), r.outcome]))).toEqual({ 'broken.json': 'unreadable', 'gone.json': 'gone' });
    expect(await readdir(dir)).toEqual(['live.json']);
    expect(await alive([server.pid])).toEqual([server.pid]);
    expect((await stat(path.join(dir, 'live.json'))).mode & 0o777).toBe(0o600);
  });

  it('returns nothing for a missing directory', async () => {
    expect(await reapStale(path.join(await tempDir(), 'nope'))).toEqual([]);
  });
});

describe('commandLineMatches', () => {
  it('accepts the spawned argv, a PATH-resolved argv[0], and a shebang interpreter in front', () => {
    expect(commandLineMatches('node server.mjs --port 1', ['node', 'server.mjs', '--port', '1'])).toBe(true);
    expect(commandLineMatches('/usr/bin/node server.mjs --port 1', ['node', 'server.mjs', '--port', '1'])).toBe(true);
    expect(commandLineMatches('/opt/py/bin/python3.12 /opt/py/bin/mlx_lm.server --model m --port 8080', ['mlx_lm.server', '--model', 'm', '--port', '8080'])).toBe(true);
    expect(commandLineMatches('sleep 30', ['sleep', '30'])).toBe(true);
  });

  it('rejects other programs and other arguments', () => {
    expect(commandLineMatches('sleep 30', ['mlx_lm.server', '--port', '8080'])).toBe(false);
    expect(commandLineMatches('/usr/bin/node server.mjs --port 2', ['node', 'server.mjs', '--port', '1'])).toBe(false);
    expect(commandLineMatches('python3 other.py --model m', ['mlx_lm.server', '--model', 'm'])).toBe(false);
    expect(commandLineMatches('[sleep] <defunct>', ['sleep', '30'])).toBe(false);
  });

  it('matches arguments with spaces and non-ASCII the way ps prints them', () => {
    expect(commandLineMatches('llama-server -m /Users/jö/My Models/x.gguf', ['llama-server', '-m', '/Users/jö/My Models/x.gguf'])).toBe(true);
    expect(commandLineMatches('llama-server -m /Users/j??/My Models/x.gguf', ['llama-server', '-m', '/Users/jö/My Models/x.gguf'])).toBe(true);
  });
});
