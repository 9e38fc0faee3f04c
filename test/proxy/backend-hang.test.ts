/**
 * A backend that goes silent (accepts and never answers, or stops mid-reply): the client is kept
 * alive with pings, then after `--backend-timeout` gets an error Claude Code retries, and the
 * backend request is aborted so the server stops computing. A backend that is slow but keeps
 * sending is never cut. Real sockets throughout; the scripted upstream gives exact timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { assertAnthropicStream } from '../support/anthropic-grammar.js';
import { readSse, type SseFrame } from '../support/sse.js';
import { startProxyProcess } from '../support/cli.js';
import { startProxy, type Proxy } from '../../src/proxy/server.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import type { LogEvent } from '../../src/core/events.js';
import type { RequestMetrics } from '../../src/proxy/metrics.js';

const LIMIT_MS = 1500;
/** Far below the 600 s default: an error this soon can only come from the configured limit. */
const CUT_BY = 10_000;
const NEVER = 60_000;

const hello = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-opus-4-8',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: 'hello' }],
  ...extra,
});

function errorEvent(frames: SseFrame[]): { type: string; message: string } {
  const last = frames.at(-1);
  expect(last?.event).toBe('error');
  const body = JSON.parse(last!.data) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe('error');
  return body.error;
}

function expectTimeoutMessage(message: string, seconds: number): void {
  expect(message).toContain(`sent nothing for ${seconds} s`);
  expect(message).toContain('--backend-timeout');
  expect(message).toContain('ANYCLAUDE_BACKEND_TIMEOUT');
}

/** Log lines and ended requests of one proxy, to check the timeout is said once per request. */
function watch(proxy: Proxy): { logs: LogEvent[]; ended: RequestMetrics[] } {
  const logs: LogEvent[] = [];
  const ended: RequestMetrics[] = [];
  proxy.events.on('log', (e) => logs.push(e));
  proxy.events.on('request:end', (m) => ended.push(m));
  return { logs, ended };
}

describe('a silent backend (OpenAI protocol)', () => {
  let h: Harness;
  let seen: ReturnType<typeof watch>;
  beforeAll(async () => {
    // llama-server sends nothing at all until its first token: the harshest backend to wait for.
    h = await startHarness({ flavor: 'llama-server', proxy: { pingIntervalMs: 200, backendTimeoutMs: LIMIT_MS } });
    seen = watch(h.proxy);
  });
  afterAll(() => h.close());

  it('that accepts and never answers: the streaming client gets pings, then an overloaded_error event; the backend request is aborted', async () => {
    h.upstream.enqueue({ kind: 'stall', ms: NEVER, reply: { kind: 'text', text: 'too late' } });
    const logsBefore = seen.logs.length;
    const started = Date.now();
    const response = await h.post('/v1/messages', hello({ stream: true }));
    expect(response.status).toBe(200);
    const sse = await readSse(response.body);
    const elapsed = Date.now() - started;
    expect(sse.error).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(LIMIT_MS - 50);
    expect(elapsed).toBeLessThan(CUT_BY);
    expect(sse.events[0]?.event).toBe('message_start');
    // Pings every 200 ms of silence for 1.5 s.
    expect(sse.events.filter((f) => f.event === 'ping').length).toBeGreaterThanOrEqual(3);
    const error = errorEvent(sse.events);
    expect(error.type).toBe('overloaded_error');
    expectTimeoutMessage(error.message, 1.5);
    expect(assertAnthropicStream(sse.events).error).toBeDefined();
    // The upstream socket was closed by the proxy: the server stops computing.
    const aborted = await h.upstream.waitForAbort(5000);
    expect(aborted).toBe(h.upstream.chatRequests.at(-1));
    const said = seen.logs.slice(logsBefore).filter((e) => e.message.includes('sent nothing'));
    expect(said).toHaveLength(1);
    expect(said[0]?.level).toBe('warn');
    const metrics = seen.ended.at(-1)!;
    expect(metrics.error).toContain('sent nothing for 1.5 s');
    expect(metrics.clientAborted).toBe(false);
  });

  it('a non-streaming request gets a 529 overloaded_error naming the limit, and the backend request is aborted', async () => {
    h.upstream.enqueue({ kind: 'stall', ms: NEVER, reply: { kind: 'text', text: 'too late' } });
    const started = Date.now();
    const response = await h.post('/v1/messages', hello());
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMIT_MS - 50);
    expect(response.status).toBe(529);
    const body = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(body.error.type).toBe('overloaded_error');
    expectTimeoutMessage(body.error.message, 1.5);
    await h.upstream.waitForAbort(5000);
    expect(seen.ended.at(-1)?.status).toBe(529);
  });

  it('a backend that answers headers and goes silent is cut too', async () => {
    h.upstream.enqueue({ kind: 'stall-after', chunks: 0, ms: NEVER, reply: { kind: 'text', text: 'too late' } });
    const response = await h.post('/v1/messages', hello({ stream: true }));
    const sse = await readSse(response.body);
    expectTimeoutMessage(errorEvent(sse.events).message, 1.5);
    await h.upstream.waitForAbort(5000);
  });

  it('a stall after some tokens is caught: the limit is on silence, not on the whole reply', async () => {
    const text = 'The first words arrive, and then the backend stops for good.';
    h.upstream.enqueue({ kind: 'stall-after', chunks: 4, ms: NEVER, reply: { kind: 'text', text, chunkSize: 4 } });
    const response = await h.post('/v1/messages', hello({ stream: true }));
    const sse = await readSse(response.body);
    const streamed = sse.events
      .filter((f) => f.event === 'content_block_delta')
      .map((f) => (JSON.parse(f.data) as { delta: { text?: string } }).delta.text ?? '')
      .join('');
    expect(streamed.length).toBeGreaterThan(0);
    expect(text.startsWith(streamed)).toBe(true);
    expect(streamed).not.toBe(text);
    const error = errorEvent(sse.events);
    expect(error.type).toBe('overloaded_error');
    expectTimeoutMessage(error.message, 1.5);
    await h.upstream.waitForAbort(5000);
  });

  it('the next request after a timeout is served normally', async () => {
    h.upstream.enqueue({ kind: 'text', text: 'back to normal' });
    const message = await h.client.messages.create(hello());
    expect(message.content).toEqual([{ type: 'text', text: 'back to normal' }]);
  });
});

describe('a slow backend that keeps sending', () => {
  let h: Harness;
  beforeAll(async () => {
    // A chunk every 500 ms: the whole reply takes ~3.5 s, more than twice the limit.
    h = await startHarness({ flavor: 'llama-server', delayMsPerChunk: 500, proxy: { pingIntervalMs: 200, backendTimeoutMs: LIMIT_MS } });
  });
  afterAll(() => h.close());

  it('is not cut, streaming or not', async () => {
    const text = 'slow and steady wins';
    for (const stream of [true, false]) {
      h.upstream.enqueue({ kind: 'text', text, chunkSize: 5 });
      const started = Date.now();
      if (stream) {
        const sse = await readSse((await h.post('/v1/messages', hello({ stream: true }))).body);
        const summary = assertAnthropicStream(sse.events);
        expect(summary.error).toBeUndefined();
        expect(summary.content).toEqual([{ type: 'text', text }]);
      } else {
        const message = await h.client.messages.create(hello());
        expect(message.content).toEqual([{ type: 'text', text }]);
      }
      expect(Date.now() - started).toBeGreaterThan(LIMIT_MS + 1000);
    }
    expect(h.upstream.chatRequests.every((r) => r.abortedAt === undefined)).toBe(true);
  });

  it("mlx_lm.server's prefill keepalives count as the backend talking", async () => {
    const mlx = await startHarness({ flavor: 'mlx-lm', proxy: { backendTimeoutMs: LIMIT_MS } });
    try {
      // A 3 s prefill with a `: keepalive` comment every 100 ms, as mlx_lm.server writes per prefill step.
      mlx.upstream.enqueue({ kind: 'stall', ms: 2 * LIMIT_MS, reply: { kind: 'text', text: 'prefilled' } });
      const sse = await readSse((await mlx.post('/v1/messages', hello({ stream: true }))).body);
      const summary = assertAnthropicStream(sse.events);
      expect(summary.error).toBeUndefined();
      expect(summary.content).toEqual([{ type: 'text', text: 'prefilled' }]);
    } finally {
      await mlx.close();
    }
  });
});

describe('a silent backend (Anthropic protocol)', () => {
  // The native backend is a second anyclaude proxy (the OpenAI path, no pings) in front of a scripted
  // upstream that never answers: it commits message_start, then sends nothing.
  let h: Harness;
  let front: Proxy;
  let seen: ReturnType<typeof watch>;
  beforeAll(async () => {
    h = await startHarness({ flavor: 'llama-server', proxy: { pingIntervalMs: NEVER } });
    front = await startProxy({
      upstreams: [
        { name: 'native', url: h.proxy.url, protocol: 'anthropic', flavor: 'llama-cpp', model: 'served-model', contextWindow: undefined, profile: UPSTREAM_PROFILES['llama-cpp'], apiKey: h.proxy.key },
      ],
      pingIntervalMs: 200,
      backendTimeoutMs: LIMIT_MS,
    });
    seen = watch(front);
  });
  afterAll(async () => {
    await front.close();
    await h.close();
  });

  const post = (body: unknown): Promise<Response> =>
    fetch(`${front.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': front.key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
    });

  it('mid-stream: an overloaded_error event after the limit, and the abort reaches the server behind', async () => {
    h.upstream.enqueue({ kind: 'stall', ms: NEVER, reply: { kind: 'text', text: 'too late' } });
    const started = Date.now();
    const response = await post(hello({ stream: true }));
    expect(response.status).toBe(200);
    const sse = await readSse(response.body);
    expect(Date.now() - started).toBeLessThan(CUT_BY);
    expect(sse.events[0]?.event).toBe('message_start');
    const error = errorEvent(sse.events);
    expect(error.type).toBe('overloaded_error');
    expectTimeoutMessage(error.message, 1.5);
    // The front proxy closed its request; the proxy behind saw its client leave and closed its own.
    await h.upstream.waitForAbort(5000);
    expect(seen.logs.filter((e) => e.message.includes('sent nothing'))).toHaveLength(1);
  });

  it('before any byte, a non-streaming request gets a 529', async () => {
    h.upstream.enqueue({ kind: 'stall', ms: NEVER, reply: { kind: 'text', text: 'too late' } });
    const response = await post(hello());
    expect(response.status).toBe(529);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('overloaded_error');
    expectTimeoutMessage(body.error.message, 1.5);
    await h.upstream.waitForAbort(5000);
  });
});

describe('anyclaude proxy --backend-timeout', () => {
  it('is the limit the running proxy applies, said once in its log', async () => {
    const h = await startHarness({ flavor: 'llama-server' });
    const proxy = await startProxyProcess(['proxy', '--upstream', h.upstream.url, '--flavor', 'llama-cpp', '--model', 'served-model', '--backend-timeout', '2'], {
      PATH: process.env.PATH ?? '',
      ANYCLAUDE_HOME: '/nonexistent-anyclaude-home',
    });
    try {
      h.upstream.enqueue({ kind: 'stall', ms: NEVER, reply: { kind: 'text', text: 'too late' } });
      const started = Date.now();
      const response = await fetch(`${proxy.env.ANTHROPIC_BASE_URL}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': proxy.env.ANTHROPIC_API_KEY, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify(hello()),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1950);
      expect(response.status).toBe(529);
      const body = (await response.json()) as { error: { message: string } };
      expectTimeoutMessage(body.error.message, 2);
      await h.upstream.waitForAbort(5000);
    } finally {
      proxy.child.kill('SIGTERM');
      await proxy.child;
      await h.close();
    }
    const stderr = String((await proxy.child).stderr);
    expect(stderr.match(/sent nothing for 2 s/g)?.length).toBe(2); // the warning, and the request line's error
    expect(stderr).toMatch(/\[warn\] llama-cpp: backend llama-cpp sent nothing for 2 s/);
  });
});
