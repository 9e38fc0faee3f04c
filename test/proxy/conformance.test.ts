/**
 * Every captured Claude Code request, through the real proxy, with the official Anthropic SDK
 * as the client: its stream parser must accept every reply, and our strict grammar checker too.
 *
 * Meanwhile every outbound TCP connection this process opens is recorded (Node's `net.client.socket`
 * and undici's `undici:client:beforeConnect` diagnostics channels); the last test asserts each one
 * went to a configured backend or to the proxy itself (the test's own client), and none elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';
import { messageRequests, capturedRequests } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { assertAnthropicMessage, assertAnthropicStream } from '../support/anthropic-grammar.js';
import { parseSse } from '../support/sse.js';
import type { Reply, UpstreamFlavor } from '../support/scripted-upstream.js';

/** host:port of each outbound connection: `connected` as the socket saw it, `attempted` as undici was told to dial. */
const outbound = { connected: [] as string[], attempted: [] as string[] };
/** The backends the proxies were configured with (and those the suite must reach), and the proxies themselves. */
const endpoints = { upstreams: new Set<string>(), mustReach: new Set<string>(), proxies: new Set<string>() };
const hostPort = (host: string, port: number | string): string => `${host.replace(/^::ffff:/, '').replace(/^\[|\]$/g, '')}:${port}`;
subscribe('net.client.socket', (message) => {
  const { socket } = message as { socket: Socket };
  socket.once('connect', () => outbound.connected.push(hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)));
});
subscribe('undici:client:beforeConnect', (message) => {
  const { connectParams } = message as { connectParams: { hostname: string; port: string; protocol: string } };
  outbound.attempted.push(hostPort(connectParams.hostname, connectParams.port || (connectParams.protocol === 'https:' ? 443 : 80)));
});
function track(h: Harness, options: { mustReach: boolean }): Harness {
  const url = (text: string): string => hostPort(new URL(text).hostname, new URL(text).port);
  endpoints.upstreams.add(url(h.upstream.url));
  if (options.mustReach) endpoints.mustReach.add(url(h.upstream.url));
  endpoints.proxies.add(url(h.proxy.url));
  return h;
}

const flavors: UpstreamFlavor[] = ['mlx-lm', 'llama-server', 'lmstudio', 'ollama'];
const requests = messageRequests();

type Body = Anthropic.MessageCreateParamsStreaming;

function replyFor(body: Record<string, unknown>): Reply {
  const hasBash = Array.isArray(body.tools) && body.tools.some((t) => (t as { name?: string }).name === 'Bash');
  return hasBash
    ? { kind: 'tool', name: 'Bash', arguments: { command: 'ls', description: 'List files' }, text: "I'll list the files.", promptTokens: 20000, cachedTokens: 18000 }
    : { kind: 'text', text: '{"title": "List files"}', reasoning: 'The user wants a title.', promptTokens: 300 };
}

describe.each(flavors)('conformance through %s', (flavor) => {
  let h: Harness;
  beforeAll(async () => {
    h = track(await startHarness({ flavor, contextWindow: 131072 }), { mustReach: true });
  });
  afterAll(() => h.close());

  it.each(requests.map((r) => [`${r.run}/${r.seq}`, r] as const))('streams %s to the SDK', async (_name, captured) => {
    h.upstream.setDefault(replyFor(captured.body));
    const stream = h.client.messages.stream({ ...(captured.body as unknown as Body), stream: true });
    const message = await stream.finalMessage();
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(captured.body.model);
    const expected = replyFor(captured.body);
    if (expected.kind === 'tool') {
      const tool = message.content.find((b) => b.type === 'tool_use');
      expect(tool).toMatchObject({ type: 'tool_use', name: 'Bash', input: { command: 'ls', description: 'List files' } });
      expect(message.stop_reason).toBe('tool_use');
      if (flavor !== 'lmstudio' && flavor !== 'ollama') expect(message.usage.cache_read_input_tokens).toBe(18000);
      expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBe(20000);
    } else {
      expect(message.content.filter((b) => b.type === 'text').map((b) => (b.type === 'text' ? b.text : '')).join('')).toBe('{"title": "List files"}');
      expect(message.content[0]?.type).toBe('thinking');
      expect(message.stop_reason).toBe('end_turn');
    }
  });

  it.each(requests.map((r) => [`${r.run}/${r.seq}`, r] as const))('emits strict Anthropic SSE for %s', async (_name, captured) => {
    h.upstream.setDefault(replyFor(captured.body));
    const response = await h.post('/v1/messages?beta=true', captured.body, { 'x-claude-code-session-id': `grammar-${flavor}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    expect(text).not.toContain('[DONE]');
    const summary = assertAnthropicStream(parseSse(text));
    expect(summary.eventTypes[0]).toBe('message_start');
    expect(summary.eventTypes.at(-1)).toBe('message_stop');
  });

  it.each(requests.map((r) => [`${r.run}/${r.seq}`, r] as const))('answers the non-streaming fallback of %s with one JSON message', async (_name, captured) => {
    h.upstream.setDefault(replyFor(captured.body));
    const { stream: _s, ...body } = captured.body;
    const response = await h.post('/v1/messages?beta=true', body);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const json: unknown = await response.json();
    assertAnthropicMessage(json);
    expect(json.content.length).toBeGreaterThan(0);
  });
});

describe('other endpoints Claude Code calls', () => {
  let h: Harness;
  beforeAll(async () => {
    // Token counts and the model list are answered by the proxy alone.
    h = track(await startHarness(), { mustReach: false });
  });
  afterAll(() => h.close());

  it('answers HEAD / without credentials, as Claude Code probes it', async () => {
    const response = await fetch(`${h.proxy.url}/`, { method: 'HEAD' });
    expect(response.status).toBe(200);
  });

  it.each(capturedRequests().filter((r) => r.url.startsWith('/v1/messages/count_tokens')).map((r) => [r.seq, r] as const))(
    'counts tokens for count-tokens/%s',
    async (_seq, captured) => {
      const result = await h.client.messages.countTokens(captured.body as unknown as Anthropic.MessageCountTokensParams);
      expect(result.input_tokens).toBeGreaterThan(0);
      expect(result.input_tokens).toBeLessThan(2000);
    },
  );

  it('counts a full Claude Code request at roughly its real size', async () => {
    const turn = requests.find((r) => r.run === 'print-tool-turn' && r.seq === 2)!;
    const { stream: _s, max_tokens: _m, metadata: _md, thinking: _t, context_management: _c, output_config: _o, ...body } = turn.body;
    const result = await h.client.messages.countTokens(body as unknown as Anthropic.MessageCountTokensParams);
    // Anthropic counted 18,966 for this request; an uncalibrated tiktoken count lands in the same range.
    expect(result.input_tokens).toBeGreaterThan(14_000);
    expect(result.input_tokens).toBeLessThan(30_000);
  });

  it('lists the backends as models', async () => {
    const page = await h.client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['mlx-lm']);
  });
});

describe('outbound connections during the conformance suite', () => {
  it('each went to the configured backend, or to the proxy from the test client; none elsewhere', () => {
    const allowed = new Set([...endpoints.upstreams, ...endpoints.proxies]);
    // Not vacuous: connections were seen, through both channels, and every flavor's backend was reached.
    expect(outbound.connected.length).toBeGreaterThan(flavors.length);
    expect(outbound.attempted.length).toBeGreaterThan(flavors.length);
    expect(endpoints.mustReach.size).toBe(flavors.length);
    expect([...endpoints.mustReach].filter((u) => !outbound.connected.includes(u))).toEqual([]);
    expect([...new Set([...outbound.connected, ...outbound.attempted])].filter((c) => !allowed.has(c))).toEqual([]);
  });
});
