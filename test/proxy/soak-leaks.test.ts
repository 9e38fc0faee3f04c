/**
 * A few hundred mixed requests through the real `anyclaude proxy` process leave nothing behind:
 * once idle again it holds the same open fds and the same live handles and timers as after its
 * warm-up, and no request in flight. The mix is the reliability bench's (streams, JSON, tool
 * calls, count_tokens, backend 500/400, malformed bodies, clients leaving mid-stream); every
 * reply is checked against its own request. Sizes and times are `npm run bench:reliability`'s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { clientPool, mixed, pool, send, upstreamReply, type Outcome } from '../../scripts/reliability-workload.js';
import { settle, type Probe } from '../../scripts/proxy-probe.js';

const WARMUP = 40;
const REQUESTS = 240;
const CONCURRENCY = 8;

describe('soak: no leaked fds, handles or timers', () => {
  let upstream: ScriptedUpstream;
  let proxy: ProxyProcess;
  let baseline: Probe;
  let after: Probe;
  let outcomes: Outcome[];
  let abortedUpstream = 0;

  const run = async (from: number, count: number): Promise<Outcome[]> => {
    const dispatcher = clientPool(CONCURRENCY);
    const target = { url: proxy.env.ANTHROPIC_BASE_URL, key: proxy.env.ANTHROPIC_API_KEY, dispatcher };
    const done = await pool(count, CONCURRENCY, (i) => {
      const job = mixed(from + i, 4);
      return send(target, job.kind, job.body, job.sessionId, 8);
    });
    // The client's kept-alive connections go, so the proxy can close its side of them.
    await dispatcher.close();
    return done;
  };
  const idle = (): Promise<Probe> => settle(proxy.child.pid!, proxy.env.ANTHROPIC_BASE_URL, proxy.env.ANTHROPIC_API_KEY);

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'served-model', delayMsPerChunk: 1 });
    upstream.setDefault((rec) => upstreamReply(rec.rawBody));
    proxy = await startProxyProcess(['proxy', '--upstream', upstream.url, '--flavor', 'mlx-lm', '--model', 'served-model', '--context', '262144']);
    const warm = await run(0, WARMUP);
    expect(warm.filter((o) => !o.ok)).toEqual([]);
    baseline = await idle();
    const abortsBefore = upstream.chatRequests.filter((r) => r.abortedAt !== undefined).length;
    outcomes = await run(WARMUP, REQUESTS);
    after = await idle();
    abortedUpstream = upstream.chatRequests.filter((r) => r.abortedAt !== undefined).length - abortsBefore;
  }, 120_000);
  afterAll(async () => {
    proxy?.child.kill('SIGTERM');
    await proxy?.child;
    await upstream?.close();
  });

  it('every request got what its kind should, and no reply carried another request’s bytes', () => {
    expect(outcomes).toHaveLength(REQUESTS);
    expect(outcomes.filter((o) => !o.ok).map((o) => `${o.kind}: ${o.detail}`)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.kind)).size).toBe(9);
  });

  it('each client that left mid-stream had its backend request closed', () => {
    expect(abortedUpstream).toBe(outcomes.filter((o) => o.kind === 'client-abort').length);
  });

  it('once idle, the proxy holds what it held after warm-up: no request in flight, the same fds, the same handles and timers', () => {
    // Both probes are of an idle proxy: only the status request's own socket is open.
    expect(after.inFlight).toBe(0);
    expect(after.fds).toBe(baseline.fds);
    expect(after.fdKinds).toEqual(baseline.fdKinds);
    expect(baseline.inside.openFds).toBeGreaterThan(0);
    expect(after.inside.openFds).toBe(baseline.inside.openFds);
    expect(after.inside.activeResources).toEqual(baseline.inside.activeResources);
  });
});
