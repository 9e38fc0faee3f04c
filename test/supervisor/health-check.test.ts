/**
 * The liveness check of ManagedProcess against a real HTTP server process that stops answering
 * while it lives (SIGSTOP), with intervals shortened to a fraction of a second.
 */
import { describe, expect, it } from 'vitest';
import { CoreEvents, type LogEvent } from '../../src/core/events.js';
import { healthFromEnv } from '../../src/backends/running-backend.js';
import { cpuShare, parseProcStat, parsePsTime } from '../../src/supervisor/cpu-time.js';
import { DEFAULT_HEALTH, formatMs, type HealthPolicy } from '../../src/supervisor/health-check.js';
import { ManagedProcess, type ManagedProcessOptions, type StateChange } from '../../src/supervisor/managed-process.js';
import { httpAlive } from '../../src/supervisor/readiness.js';
import { alive, fixtureOptions, track, trackPid, waitFor } from './helpers.js';

const FAST: HealthPolicy = { intervalMs: 100, timeoutMs: 500, failuresBeforeDegraded: 2, restartAfterMs: 60_000 };

interface Watched {
  p: ManagedProcess;
  port: number;
  changes: StateChange[];
  logged: LogEvent[];
  /** Probes started so far. */
  probes: () => number;
}

/** The fixture server with a liveness check on its HTTP port that counts its probes. */
async function watched(args: string[] = [], health: Partial<HealthPolicy> = {}, overrides: Partial<ManagedProcessOptions> = {}): Promise<Watched> {
  const events = new CoreEvents();
  const logged: LogEvent[] = [];
  events.on('log', (e) => logged.push(e));
  const options = await fixtureOptions(args, { events, restart: { maxRestarts: 3, backoffMs: [50] }, ...overrides });
  const probe = overrides.liveness ?? httpAlive(`http://127.0.0.1:${options.port}/health`);
  let probes = 0;
  const p = track(
    new ManagedProcess({
      ...options,
      health: { ...FAST, ...health },
      liveness: (signal) => {
        probes += 1;
        return probe(signal);
      },
    }),
  );
  const changes: StateChange[] = [];
  p.onState((c) => changes.push(c));
  return { p, port: options.port, changes, logged, probes: () => probes };
}

/** SIGSTOP: the process lives, its port still accepts connections, but nothing answers. */
function freeze(pid: number): void {
  trackPid(pid);
  process.kill(pid, 'SIGSTOP');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ManagedProcess liveness check', () => {
  it('marks a server that stops answering degraded, with why, and ready again once it answers', async () => {
    const { p, changes, logged, probes } = await watched();
    await p.start();
    const pid = p.pid ?? 0;
    await waitFor('a few healthy probes', () => probes() >= 3);
    expect(p.state).toBe('ready');

    freeze(pid);
    await waitFor('degraded', () => p.state === 'degraded');
    const reason = p.unavailableReason() ?? '';
    expect(reason).toMatch(/^fixture did not answer its health check for \d+(\.\d)? s \(timeout after 500 ms\); anyclaude restarts it if it still does not answer in \d+ s$/);

    process.kill(pid, 'SIGCONT');
    await waitFor('ready again', () => p.state === 'ready');
    expect(p.unavailableReason()).toBeUndefined();
    expect(p.pid).toBe(pid);
    expect(p.restarts).toBe(0);
    expect(logged.some((e) => e.level === 'info' && e.message === 'answers its health check again')).toBe(true);
    expect(logged.filter((e) => e.message.startsWith('degraded → degraded')).every((e) => e.level === 'debug')).toBe(true);
    const states = changes.map((c) => c.state);
    expect(states.slice(0, 3)).toEqual(['starting', 'ready', 'degraded']);
    expect(states.at(-1)).toBe('ready');
    expect(states.filter((s) => s !== 'degraded' && s !== 'ready')).toEqual(['starting']);
  });

  it('restarts a server still not answering after the grace: a new process, counted as a restart', async () => {
    const { p, changes, logged } = await watched([], { restartAfterMs: 400 });
    await p.start();
    const first = p.pid ?? 0;
    freeze(first);
    await waitFor('the restart', () => p.state === 'ready' && p.pid !== undefined && p.pid !== first);
    expect(await alive([first])).toEqual([]);
    expect(p.restarts).toBe(1);
    const states = changes.map((c) => c.state);
    expect(states.slice(0, 3)).toEqual(['starting', 'ready', 'degraded']);
    expect(states.slice(-3)).toEqual(['crashed', 'starting', 'ready']);
    expect(changes.find((c) => c.state === 'crashed')?.reason).toMatch(/did not answer its health check for .*; restarting it$/);
    expect(logged.some((e) => e.level === 'warn' && e.message.startsWith(`still not answering 400 ms after it was marked degraded: restarting it (pid ${first})`))).toBe(true);
    // Woken by the SIGCONT that follows SIGTERM, it exited cleanly rather than waiting for SIGKILL.
    expect(p.logs.lines()).toContain('got SIGTERM, exiting');
  });

  it('kills a stopped server that ignores SIGTERM, then restarts it', async () => {
    const { p } = await watched(['--ignore-term'], { restartAfterMs: 300 }, { stopTimeoutMs: 300 });
    await p.start();
    const first = p.pid ?? 0;
    freeze(first);
    await waitFor('the restart', () => p.state === 'ready' && p.pid !== undefined && p.pid !== first);
    expect(p.logs.lines()).toContain('ignoring SIGTERM');
    expect(await alive([first])).toEqual([]);
    expect(p.restarts).toBe(1);
  });

  it('a stop() while degraded stops the process and the check: no probe runs afterwards', async () => {
    const { p, changes, probes } = await watched();
    await p.start();
    const pid = p.pid ?? 0;
    freeze(pid);
    await waitFor('degraded', () => p.state === 'degraded');
    await p.stop();
    expect(p.state).toBe('stopped');
    expect(p.healthCheckPending).toBe(false);
    expect(await alive([pid])).toEqual([]);
    const after = probes();
    await sleep(FAST.intervalMs * 5);
    expect(probes()).toBe(after);
    expect(changes.map((c) => c.state).slice(-2)).toEqual(['stopping', 'stopped']);
  });

  it('a stop() while ready leaves no timer and no probe behind', async () => {
    const { p, probes } = await watched();
    await p.start();
    await waitFor('a probe', () => probes() >= 2);
    expect(p.healthCheckPending).toBe(true);
    await p.stop();
    expect(p.healthCheckPending).toBe(false);
    const after = probes();
    await sleep(FAST.intervalMs * 5);
    expect(probes()).toBe(after);
  });

  it('a stop() aborts the probe in flight, even one that would never settle', async () => {
    let signal: AbortSignal | undefined;
    const { p } = await watched([], { timeoutMs: 60_000 }, {
      liveness: (s) => {
        signal = s;
        return new Promise(() => undefined);
      },
    });
    await p.start();
    await waitFor('a probe in flight', () => signal !== undefined);
    expect(p.healthCheckPending).toBe(true);
    await p.stop();
    expect(signal?.aborted).toBe(true);
    expect(p.healthCheckPending).toBe(false);
  });

  it('a probe that never settles fails by its timeout, and the error a probe gives is the reason', async () => {
    const hung = await watched([], { timeoutMs: 150 }, { liveness: () => new Promise(() => undefined) });
    await hung.p.start();
    await waitFor('degraded', () => hung.p.state === 'degraded');
    expect(hung.p.unavailableReason()).toContain('(timeout after 150 ms)');
    await hung.p.stop();

    const refusing = await watched([], {}, { liveness: () => Promise.reject(new Error('GET /health answered HTTP 503')) });
    await refusing.p.start();
    await waitFor('degraded', () => refusing.p.state === 'degraded');
    expect(refusing.p.unavailableReason()).toContain('(GET /health answered HTTP 503)');
    expect(refusing.logged.some((e) => e.level === 'warn' && e.message.startsWith('ready → degraded: fixture did not answer'))).toBe(true);
  });

  it('probes one at a time: a slow probe delays the next instead of overlapping it', async () => {
    let running = 0;
    let most = 0;
    const { p, probes } = await watched([], { intervalMs: 20, timeoutMs: 1_000 }, {
      liveness: async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(60);
        running -= 1;
      },
    });
    await p.start();
    await waitFor('several probes', () => probes() >= 5);
    expect(most).toBe(1);
    expect(p.state).toBe('ready');
  });

  it('a server too busy computing to answer (whole cores in use) is not marked degraded', async () => {
    const { p, changes, logged, probes, port } = await watched([], { timeoutMs: 200 });
    await p.start();
    const before = probes();
    // Its only thread spins for 3 s: no probe is answered meanwhile.
    await fetch(`http://127.0.0.1:${port}/spin?ms=3000`).then((r) => r.text());
    expect(probes()).toBeGreaterThan(before);
    const busy = logged.filter((e) => e.message.includes('while it was busy'));
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]?.message).toMatch(/^its health check failed \(timeout after 200 ms\) while it was busy \(using \d+% of a core\): not counted$/);
    expect(changes.map((c) => c.state)).toEqual(['starting', 'ready']);
  });

  it('without a liveness probe nothing is scheduled', async () => {
    const p = track(new ManagedProcess(await fixtureOptions()));
    await p.start();
    expect(p.healthCheckPending).toBe(false);
  });
});

describe('CPU time of a process', () => {
  it('reads /proc/<pid>/stat and ps time, names with spaces and parentheses included', () => {
    expect(parseProcStat('4242 (mlx (server) x) S 1 4242 4242 0 -1 4194560 10 0 0 0 1234 56 0 0 20 0 8 0 1 2 3')).toBe(12_900);
    expect(parsePsTime('  0:01.50\n')).toBe(1_500);
    expect(parsePsTime('1:02:03.25')).toBe(3_723_250);
    expect(parsePsTime('2-01:00:00')).toBe(176_400_000);
    expect(parsePsTime('garbage')).toBeUndefined();
  });

  it('a spinning process uses most of a core, a stopped one none', async () => {
    const { p, port } = await watched([], { intervalMs: 60_000 });
    await p.start();
    const pid = p.pid ?? 0;
    const spinning = fetch(`http://127.0.0.1:${port}/spin?ms=1500`).then((r) => r.text());
    await sleep(200);
    expect(await cpuShare(pid, 800, new AbortController().signal)).toBeGreaterThan(0.2);
    await spinning;
    freeze(pid);
    expect(await cpuShare(pid, 500, new AbortController().signal)).toBeLessThan(0.05);
    process.kill(pid, 'SIGCONT');
  });
});

describe('health settings', () => {
  it('defaults: every 10 s, 5 s timeout, degraded after 2 failures, restarted 60 s later', () => {
    expect(DEFAULT_HEALTH).toEqual({ intervalMs: 10_000, timeoutMs: 5_000, failuresBeforeDegraded: 2, restartAfterMs: 60_000 });
  });

  it('ANYCLAUDE_HEALTH_* set only the fields they name; INTERVAL 0 turns it off; nonsense is refused', () => {
    expect(healthFromEnv({})).toEqual({});
    expect(healthFromEnv({ ANYCLAUDE_HEALTH_INTERVAL_MS: '500', ANYCLAUDE_HEALTH_GRACE_MS: '2000' })).toEqual({ intervalMs: 500, restartAfterMs: 2_000 });
    expect(healthFromEnv({ ANYCLAUDE_HEALTH_TIMEOUT_MS: '300', ANYCLAUDE_HEALTH_FAILURES: '3' })).toEqual({ timeoutMs: 300, failuresBeforeDegraded: 3 });
    expect(healthFromEnv({ ANYCLAUDE_HEALTH_INTERVAL_MS: '0' })).toBe('off');
    expect(() => healthFromEnv({ ANYCLAUDE_HEALTH_GRACE_MS: '1m' })).toThrow(/ANYCLAUDE_HEALTH_GRACE_MS=1m is not a positive whole number/);
    expect(() => healthFromEnv({ ANYCLAUDE_HEALTH_FAILURES: '-1' })).toThrow(/not a positive whole number/);
  });

  it('durations read as people write them', () => {
    expect([formatMs(150), formatMs(5_000), formatMs(1_500), formatMs(20_400), formatMs(60_000)]).toEqual(['150 ms', '5 s', '1.5 s', '20 s', '60 s']);
  });
});
