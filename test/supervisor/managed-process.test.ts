/** ManagedProcess against a real HTTP server process: readiness, logs, crashes, restarts, stops. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnyclaudeError } from '../../src/core/errors.js';
import { CoreEvents, type LogEvent } from '../../src/core/events.js';
import { ManagedProcess, type ServerState } from '../../src/supervisor/managed-process.js';
import { alive, fixtureOptions, grandchildPid, tempDir, track, waitFor } from './helpers.js';

async function startError(p: ManagedProcess): Promise<AnyclaudeError> {
  const error = await p.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AnyclaudeError);
  return error as AnyclaudeError;
}

describe('ManagedProcess', () => {
  it('starts, becomes ready, keeps logs in memory and in a 0600 log file, and stops', async () => {
    const dir = await tempDir();
    const logFile = path.join(dir, 'logs', 'fixture.log');
    const events = new CoreEvents();
    const logged: LogEvent[] = [];
    events.on('log', (e) => logged.push(e));
    const p = track(new ManagedProcess(await fixtureOptions(['--lines', '3'], { logFile, events, env: { FIXTURE_GREETING: 'hello' } })));
    const states: ServerState[] = [];
    p.onState((c) => states.push(c.state));
    expect(p.unavailableReason()).toMatch(/not been started/);

    await p.start();
    expect(p.state).toBe('ready');
    expect(p.unavailableReason()).toBeUndefined();
    expect(p.pid).toBeGreaterThan(0);
    await waitFor('the listening line', () => p.logs.lines().some((l) => l.startsWith('listening on')));
    expect(p.logs.lines()).toEqual(expect.arrayContaining(['greeting=hello', 'startup line 1', 'startup line 3']));
    expect(logged.some((e) => e.source === 'fixture' && e.message === 'greeting=hello')).toBe(true);
    expect(logged.some((e) => e.message.startsWith('starting → ready'))).toBe(true);

    const pid = p.pid ?? 0;
    await p.stop();
    expect(p.state).toBe('stopped');
    expect(p.pid).toBeUndefined();
    expect(p.unavailableReason()).toMatch(/stopped/);
    expect(states).toEqual(['starting', 'ready', 'stopping', 'stopped']);
    expect(await alive([pid])).toEqual([]);

    const text = await readFile(logFile, 'utf8');
    expect(text).toContain('greeting=hello');
    expect(text).toContain('startup line 2');
    expect(text).toContain('got SIGTERM, exiting');
    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
  });

  it('fails a start that never gets ready, quoting the last 20 log lines', async () => {
    const p = track(new ManagedProcess(await fixtureOptions(['--no-listen', '--lines', '30'], { readyTimeoutMs: 1_000 })));
    const error = await startError(p);
    expect(error.code).toBe('SERVER_NOT_READY');
    expect(error.message).toContain('not ready after 1 s');
    expect(error.message).toContain('startup line 30');
    expect(error.message).toContain('startup line 11');
    expect(error.message).not.toContain('startup line 10\n');
    expect(error.fix).toBeDefined();
    expect(p.state).toBe('crashed');
    expect(p.unavailableReason()).toContain('not ready');
  });

  it('fails a start whose process exits first, with its output and the command to run by hand', async () => {
    const p = track(new ManagedProcess(await fixtureOptions(['--exit-code', '3'])));
    const error = await startError(p);
    expect(error.code).toBe('SERVER_EXITED');
    expect(error.message).toContain('exit code 3');
    expect(error.message).toContain('fatal: fixture told to fail');
    expect(error.fix).toContain('server.mjs');
  });

  it('reports a command that cannot be spawned', async () => {
    const p = track(new ManagedProcess(await fixtureOptions([], { command: 'anyclaude-no-such-server' })));
    const error = await startError(p);
    expect(error.code).toBe('SERVER_SPAWN_FAILED');
    expect(error.fix).toContain('PATH');
    expect(p.state).toBe('crashed');
  });

  it('restarts a server killed with SIGKILL and becomes ready again', async () => {
    const p = track(new ManagedProcess(await fixtureOptions([], { restart: { maxRestarts: 3, backoffMs: [50] } })));
    const states: ServerState[] = [];
    p.onState((c) => states.push(c.state));
    await p.start();
    const first = p.pid ?? 0;
    process.kill(first, 'SIGKILL');
    await waitFor('the restart', () => p.state === 'ready' && p.pid !== first);
    expect(p.restarts).toBe(1);
    expect(states).toEqual(['starting', 'ready', 'crashed', 'starting', 'ready']);
  });

  it('gives up after the restart limit and says so', async () => {
    const p = track(new ManagedProcess(await fixtureOptions(['--crash-after-ms', '400'], { restart: { maxRestarts: 2, backoffMs: [50] } })));
    await p.start();
    await waitFor('giving up', () => (p.unavailableReason() ?? '').includes('gave up'));
    expect(p.state).toBe('crashed');
    expect(p.restarts).toBe(2);
    expect(p.unavailableReason()).toContain('gave up after 2 restarts');
    expect(p.pid).toBeUndefined();
  });

  it('stop kills the whole process group, grandchild included', async () => {
    const p = track(new ManagedProcess(await fixtureOptions(['--grandchild'])));
    await p.start();
    await waitFor('the grandchild pid', () => grandchildPid(p.logs.lines()) !== undefined);
    const pids = [p.pid ?? 0, grandchildPid(p.logs.lines()) ?? 0];
    expect(await alive(pids)).toEqual(pids);
    await p.stop();
    expect(await alive(pids)).toEqual([]);
  });

  it('escalates to SIGKILL when the server ignores SIGTERM', async () => {
    const p = track(new ManagedProcess(await fixtureOptions(['--ignore-term'], { stopTimeoutMs: 500 })));
    await p.start();
    const pid = p.pid ?? 0;
    const began = Date.now();
    await p.stop();
    expect(Date.now() - began).toBeGreaterThanOrEqual(450);
    expect(p.logs.lines()).toContain('ignoring SIGTERM');
    expect(await alive([pid])).toEqual([]);
  });

  it('a stop during start cancels the readiness wait at once', async () => {
    const p = track(new ManagedProcess(await fixtureOptions(['--no-listen'], { readyTimeoutMs: 60_000 })));
    const starting = p.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor('the process to start', () => p.pid !== undefined && p.logs.size > 0);
    const pid = p.pid ?? 0;
    const began = Date.now();
    await p.stop();
    expect(Date.now() - began).toBeLessThan(2_500);
    expect(((await starting) as AnyclaudeError).code).toBe('SERVER_START_CANCELLED');
    expect(p.state).toBe('stopped');
    expect(await alive([pid])).toEqual([]);
  });

  it('writes a pidfile while running and removes it on stop and on a crash', async () => {
    const pidDir = await tempDir();
    const file = path.join(pidDir, 'fixture.json');
    const options = await fixtureOptions([], { pidDir, restart: { maxRestarts: 0, backoffMs: [0] } });
    const p = track(new ManagedProcess(options));
    await p.start();
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: p.pid, pgid: p.pid, command: process.execPath, args: options.args, anyclaudePid: process.pid });
    expect(typeof record.startedAt).toBe('number');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await p.stop();
    await expect(stat(file)).rejects.toThrow(/ENOENT/);

    await p.start();
    await stat(file);
    process.kill(p.pid ?? 0, 'SIGKILL');
    await waitFor('giving up', () => (p.unavailableReason() ?? '').includes('gave up'));
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });
});
