/** Shared by the supervisor tests: the fixture server, temp dirs, and process checks via ps-list. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import psList from 'ps-list';
import { afterEach } from 'vitest';
import type { ManagedProcess, ManagedProcessOptions } from '../../src/supervisor/managed-process.js';
import { pickPort } from '../../src/supervisor/ports.js';
import { httpReady } from '../../src/supervisor/readiness.js';

export const FIXTURE = fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url));

/** Options for a ManagedProcess running the fixture on a fresh port, ready on HTTP 200. */
export async function fixtureOptions(args: string[] = [], overrides: Partial<ManagedProcessOptions> = {}): Promise<ManagedProcessOptions & { port: number }> {
  const port = await pickPort();
  return {
    name: 'fixture',
    command: process.execPath,
    args: [FIXTURE, '--port', String(port), ...args],
    readiness: httpReady(`http://127.0.0.1:${port}/health`, { timeoutMs: 1_000 }),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 2_000,
    port,
    ...overrides,
  };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).map((fn) => fn()));
});

/** Stopped after the test, pass or fail. */
export function track<T extends ManagedProcess>(p: T): T {
  cleanups.push(() => p.stop());
  return p;
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anyclaude-supervisor-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Killed after the test if still alive. */
export function trackPid(pid: number): void {
  cleanups.push(async () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
}

/**
 * Alive according to ps. Zombies count as gone: in containers whose PID 1 never reaps orphans, a
 * killed grandchild stays listed as `<defunct>` forever although it holds nothing.
 */
export async function alive(pids: number[]): Promise<number[]> {
  const running = new Set((await psList()).filter((p) => !(p.cmd ?? '').includes('<defunct>')).map((p) => p.pid));
  return pids.filter((pid) => running.has(pid));
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The pid the fixture printed for its grandchild. */
export function grandchildPid(lines: string[]): number | undefined {
  const line = lines.find((l) => l.startsWith('grandchild pid='));
  return line === undefined ? undefined : Number(line.slice('grandchild pid='.length));
}
