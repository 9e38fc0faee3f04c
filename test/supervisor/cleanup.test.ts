/** The cleanup registry in a real Node process, driven by real signals. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pickPort } from '../../src/supervisor/ports.js';
import { alive, tempDir, trackPid, waitFor } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));

interface Run {
  pid: number;
  output: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function run(mode: string, ...rest: string[]): Promise<Run & { marker: string }> {
  return start(mode, 'ready', ...rest);
}

async function start(mode: string, awaited: string, ...rest: string[]): Promise<Run & { marker: string }> {
  const marker = path.join(await tempDir(), 'marker');
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, marker, ...rest], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = child.pid ?? 0;
  trackPid(pid);
  const output: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await waitFor(`the child to print ${awaited}`, () => output.some((l) => l.startsWith(awaited)), 15_000);
  return { pid, output, exit, marker };
}

describe('cleanup registry', () => {
  it('runs cleanups on SIGINT, then exits 130', async () => {
    const child = await run('slow');
    process.kill(child.pid, 'SIGINT');
    expect(await child.exit).toEqual({ code: 130, signal: null });
    expect(readFileSync(child.marker, 'utf8')).toBe('cleaned');
  });

  it('runs cleanups on SIGTERM and SIGHUP with 128 + the signal number', async () => {
    const term = await run('slow');
    const hup = await run('slow');
    process.kill(term.pid, 'SIGTERM');
    process.kill(hup.pid, 'SIGHUP');
    expect(await term.exit).toEqual({ code: 143, signal: null });
    expect(await hup.exit).toEqual({ code: 129, signal: null });
    expect(existsSync(term.marker) && existsSync(hup.marker)).toBe(true);
  });

  it('runs cleanups when the event loop drains', async () => {
    const child = await run('drain');
    expect(await child.exit).toEqual({ code: 0, signal: null });
    expect(readFileSync(child.marker, 'utf8')).toBe('cleaned');
  });

  it('a second Ctrl-C exits at once even while a cleanup hangs', async () => {
    const child = await run('hang');
    process.kill(child.pid, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(child.pid, 'SIGINT');
    expect(await child.exit).toEqual({ code: 130, signal: null });
  });

  it('stops a running server group when anyclaude gets SIGTERM', async () => {
    const child = await run('server', String(await pickPort()));
    const line = child.output.find((l) => l.startsWith('server pid='));
    const serverPid = Number(line?.slice('server pid='.length));
    trackPid(serverPid);
    expect(await alive([serverPid])).toEqual([serverPid]);
    process.kill(child.pid, 'SIGTERM');
    expect(await child.exit).toEqual({ code: 143, signal: null });
    expect(await alive([serverPid])).toEqual([]);
  });

  it('kills the server group even when anyclaude calls process.exit() without cleaning up', async () => {
    const child = await start('server-exit', 'server pid=', String(await pickPort()));
    const serverPid = Number(child.output.find((l) => l.startsWith('server pid='))?.slice('server pid='.length));
    trackPid(serverPid);
    expect(await child.exit).toEqual({ code: 3, signal: null });
    await waitFor('the server to die', async () => (await alive([serverPid])).length === 0, 3_000);
  });
});
