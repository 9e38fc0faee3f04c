/** Backend failures, hang-ups and bad input: Claude Code always gets an answer it knows how to handle. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { assertAnthropicStream } from '../support/anthropic-grammar.js';
import { parseSse } from '../support/sse.js';
import { startProxy } from '../../src/proxy/server.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import getPort from 'get-port';

const hello = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-opus-4-8',
  max_tokens: 256,
  messages: [{ role: 'user', content: 'hello' }],
  ...extra,
});

async function errorOf(response: Response): Promise<{ type: string; message: string }> {
  const body = (await response.json()) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe('error');
  return body.error;
}

describe('backend faults', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ flavor: 'mlx-lm', contextWindow: 8192, proxy: { pingIntervalMs: 100 } });
  });
  afterEach(() => h.upstream.setDefault({ kind: 'text', text: 'ok' }));
  afterAll(() => h.close());

  it('maps a backend 500 to 529 overloaded before the stream starts', async () => {
    h.upstream.enqueue({ kind: 'error', status: 500, message: 'out of memory' });
    const response = await h.post('/v1/messages', hello({ stream: true }));
    expect(response.status).toBe(529);
    const error = await errorOf(response);
    expect(error.type).toBe('overloaded_error');
    expect(error.message).toContain('out of memory');
  });

  it('passes a backend 400 on as invalid_request_error', async () => {
    h.upstream.enqueue({ kind: 'error', status: 400, message: 'bad template' });
    const response = await h.post('/v1/messages', hello());
    expect(response.status).toBe(400);
    expect((await errorOf(response)).type).toBe('invalid_request_error');
  });

  it('ends a stream broken mid-way with an SSE error event', async () => {
    h.upstream.enqueue({ kind: 'break-after', chunks: 3, reply: { kind: 'text', text: 'a fairly long answer that will be cut' } });
    const response = await h.post('/v1/messages', hello({ stream: true }));
    expect(response.status).toBe(200);
    const frames = parseSse(await response.text());
    const last = frames.at(-1)!;
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const summary = assertAnthropicStream(frames);
    expect(summary.error).toBeDefined();
  });

  it('turns a malformed upstream chunk into an SSE error, not a crash', async () => {
    h.upstream.enqueue({ kind: 'chunks', chunks: ['{not json'] });
    const response = await h.post('/v1/messages', hello({ stream: true }));
    const frames = parseSse(await response.text());
    expect(frames.at(-1)?.event).toBe('error');
    // The proxy still serves the next request.
    const next = await h.client.messages.create(hello() as never);
    expect(next.content[0]).toMatchObject({ type: 'text', text: 'ok' });
  });

  it('pings while the backend is still prefilling', async () => {
    h.upstream.enqueue({ kind: 'stall', ms: 450, reply: { kind: 'text', text: 'late' } });
    const response = await h.post('/v1/messages', hello({ stream: true }));
    const frames = parseSse(await response.text());
    const firstDelta = frames.findIndex((f) => f.event === 'content_block_delta');
    const pings = frames.slice(0, firstDelta).filter((f) => f.event === 'ping');
    expect(pings.length).toBeGreaterThanOrEqual(2);
    assertAnthropicStream(frames);
  });

  it('aborts the upstream request within 100 ms when the client hangs up', async () => {
    h.upstream.enqueue({ kind: 'stall', ms: 5_000, reply: { kind: 'text', text: 'never read' } });
    const controller = new AbortController();
    const pending = fetch(`${h.proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': h.proxy.key },
      body: JSON.stringify(hello({ stream: true })),
      signal: controller.signal,
    });
    const res = await pending;
    const reader = res.body!.getReader();
    await reader.read(); // message_start: the exchange is under way
    await new Promise((r) => setTimeout(r, 100));
    const hungUpAt = Date.now();
    controller.abort();
    const aborted = await h.upstream.waitForAbort(2_000);
    expect(aborted.abortedAt! - hungUpAt).toBeLessThan(100);
  });

  it('refuses a prompt that cannot fit the context with the wording Claude Code compacts on', async () => {
    const huge = 'word '.repeat(12_000);
    const response = await h.post('/v1/messages', hello({ messages: [{ role: 'user', content: huge }] }));
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toMatch(/^prompt is too long: \d+ tokens > 8192 maximum$/);
  });

  it('clamps max_tokens to the context that is left', async () => {
    const before = h.upstream.chatRequests.length;
    await (await h.post('/v1/messages', hello({ max_tokens: 64_000 }))).json();
    const sent = h.upstream.chatRequests[before]!.body as { max_tokens: number; model: string };
    expect(sent.max_tokens).toBeLessThan(8192);
    expect(sent.max_tokens).toBeGreaterThan(7000);
    expect(sent.model).toBe('served-model');
  });
});

describe('unreachable backend', () => {
  it('answers 529 overloaded_error before any stream starts', async () => {
    const deadPort = await getPort();
    const proxy = await startProxy({
      upstreams: [{ name: 'mlx-lm', url: `http://127.0.0.1:${deadPort}`, protocol: 'openai', flavor: 'mlx-lm', model: 'm', contextWindow: undefined, profile: UPSTREAM_PROFILES['mlx-lm'] }],
    });
    try {
      const response = await fetch(`${proxy.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': proxy.key },
        body: JSON.stringify(hello({ stream: true })),
      });
      expect(response.status).toBe(529);
      const error = await errorOf(response);
      expect(error.type).toBe('overloaded_error');
      expect(error.message).toContain('ECONNREFUSED');
    } finally {
      await proxy.close();
    }
  });

  it('answers 529 while the supervisor says the backend is restarting', async () => {
    const h = await startHarness({ upstream: { unavailable: () => 'restarting after a crash' } });
    try {
      const response = await h.post('/v1/messages', hello());
      expect(response.status).toBe(529);
      expect((await errorOf(response)).message).toContain('restarting after a crash');
      expect(h.upstream.chatRequests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe('malformed requests', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it.each([
    ['not JSON', '{"model":', /not valid JSON/],
    ['no messages', JSON.stringify({ model: 'x', max_tokens: 5 }), /^messages: /],
    ['bad role', JSON.stringify(hello({ messages: [{ role: 'robot', content: 'x' }] })), /^messages\.0\.role: /],
    ['no max_tokens', JSON.stringify({ model: 'x', messages: [] }), /^max_tokens: /],
    ['tool_result without id', JSON.stringify(hello({ messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] })), /^messages\.0\.content/],
  ])('rejects %s with a 400 naming the field', async (_name, body, pattern) => {
    const response = await h.post('/v1/messages', body);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toMatch(pattern);
  });

  it('answers unknown paths with a 404 in Anthropic format', async () => {
    const response = await h.post('/v1/complete', hello());
    expect(response.status).toBe(404);
    expect((await errorOf(response)).type).toBe('not_found_error');
  });
});
