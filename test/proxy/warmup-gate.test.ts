/**
 * The warm-up gate over real sockets: the proxy in front of a scripted mlx_lm.server that, like
 * the real one, answers a streaming request with headers and a keepalive comment every 100 ms while
 * it "prefills". Warm-ups are sent by the product's own warmPrefix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TextBlock, ToolDefinition } from '../../src/anthropic/types.js';
import type { StablePrefix } from '../../src/cache/prefix-store.js';
import { warmPrefix, type WarmResult } from '../../src/cache/warm-prefix.js';
import type { RecordedRequest, Reply } from '../support/scripted-upstream.js';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { parseSse } from '../support/sse.js';

const TOOL: ToolDefinition = {
  name: 'Read',
  description: 'Reads a file.',
  input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};
const PREFIX: StablePrefix = { system: [{ type: 'text', text: 'You are a coding agent. '.repeat(40) }], tools: [TOOL] };
const REAL_ANSWER = 'Hello from the real request.';

interface ChatBody {
  max_tokens?: number;
  messages: Array<{ role: string; content: unknown }>;
}

function isWarmup(rec: RecordedRequest): boolean {
  const body = rec.body as ChatBody;
  return body.max_tokens === 1 && JSON.stringify(body.messages.at(-1)?.content).includes('Reply with OK.');
}

let harness: Harness | undefined;
const logs: string[] = [];

async function start(warmupStallMs: number, warmupGraceMs?: number): Promise<Harness> {
  harness = await startHarness({ flavor: 'mlx-lm', proxy: warmupGraceMs === undefined ? {} : { warmupGraceMs } });
  harness.proxy.events.on('log', (e) => logs.push(e.message));
  harness.upstream.setDefault((rec): Reply => (isWarmup(rec) ? { kind: 'stall', ms: warmupStallMs, reply: { kind: 'text', text: 'OK' } } : { kind: 'text', text: REAL_ANSWER }));
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
  logs.length = 0;
});

async function chatRequest(h: Harness, index: number): Promise<RecordedRequest> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const rec = h.upstream.chatRequests[index];
    if (rec !== undefined) return rec;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the upstream never got chat request #${index}`);
}

/** Claude Code's shape: the same system and tools, now with cache_control markers, and a real question. */
function matching(question: string, stream: boolean): Record<string, unknown> {
  const system = (PREFIX.system as TextBlock[]).map((b) => ({ ...b, cache_control: { type: 'ephemeral' } }));
  return { model: 'claude-sonnet-4-5', max_tokens: 64, stream, system, tools: [{ ...TOOL, cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: question }] };
}

function other(question: string): Record<string, unknown> {
  return { model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Generate a short title for this conversation.', messages: [{ role: 'user', content: question }] };
}

async function send(h: Harness, body: Record<string, unknown>, signal?: AbortSignal): Promise<{ status: number; text: string; ms: number }> {
  const sent = Date.now();
  const response = await fetch(`${h.proxy.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': h.proxy.key, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  const raw = await response.text();
  return { status: response.status, text: answerText(raw, body.stream === true), ms: Date.now() - sent };
}

/** The answer's text, from the SSE deltas or the JSON message. */
function answerText(raw: string, stream: boolean): string {
  if (!stream) return raw;
  return parseSse(raw)
    .map((f) => JSON.parse(f.data) as { delta?: { text?: string } })
    .map((e) => e.delta?.text ?? '')
    .join('');
}

describe('a request while a warm-up is in flight', () => {
  it('with the same prefix is held until the warm-up ends, and reaches the backend only then', async () => {
    const stallMs = 1_500;
    const h = await start(stallMs);
    const warming = warmPrefix(h.proxy, 'mlx-lm', PREFIX);
    const warm = await chatRequest(h, 0);
    const reply = await send(h, matching('What does main.ts do?', true));
    const result = await warming;

    expect(reply.status).toBe(200);
    expect(reply.text).toContain(REAL_ANSWER);
    expect(result).toMatchObject({ ok: true, phase: 'done' });
    const real = await chatRequest(h, 1);
    expect(real.receivedAt - warm.receivedAt).toBeGreaterThanOrEqual(stallMs);
    expect(warm.abortedAt).toBeUndefined();
    const held = logs.find((l) => l.startsWith('held a request'));
    expect(held).toMatch(/held a request \d+ ms until the mlx-lm warm-up of its prefix finished/);
    expect(Number(/(\d+) ms/.exec(held ?? '')?.[1])).toBeGreaterThan(stallMs / 2);
  });

  it('with another prompt aborts the warm-up: the backend sees its connection close and serves the request at once', async () => {
    const graceMs = 300;
    const h = await start(60_000, graceMs);
    const warming = warmPrefix(h.proxy, 'mlx-lm', PREFIX);
    const warm = await chatRequest(h, 0);
    const abort = h.upstream.waitForAbort(5_000);
    const reply = await send(h, other('Summarise this session.'));
    const aborted = await abort;
    const result: WarmResult = await warming;

    expect(reply.status).toBe(200);
    expect(reply.text).toContain(REAL_ANSWER);
    expect(aborted).toBe(warm);
    expect(reply.ms).toBeLessThan(graceMs + 2_000);
    // The proxy does not wait for the backend to see the hang-up: both happen at once.
    const real = await chatRequest(h, 1);
    expect(Math.abs((aborted.abortedAt ?? Infinity) - real.receivedAt)).toBeLessThan(1_000);
    expect(result).toMatchObject({ ok: false, phase: 'failed' });
    expect(logs.some((l) => /aborted the mlx-lm warm-up after \d+ ms: a request with a different prompt/.test(l))).toBe(true);
  });

  it("that differs but is followed at once by one that matches (Claude Code's title request, then turn 1) keeps the warm-up: both wait for it", async () => {
    const stallMs = 1_500;
    const h = await start(stallMs);
    const warming = warmPrefix(h.proxy, 'mlx-lm', PREFIX);
    const warm = await chatRequest(h, 0);
    const title = send(h, other('Write a title.'));
    await new Promise((r) => setTimeout(r, 20));
    const turn = send(h, matching('Fix the bug in main.ts.', true));
    const [titleReply, turnReply, result] = await Promise.all([title, turn, warming]);

    expect(titleReply.status).toBe(200);
    expect(turnReply.text).toContain(REAL_ANSWER);
    expect(result.phase).toBe('done');
    expect(warm.abortedAt).toBeUndefined();
    const reals = [await chatRequest(h, 1), await chatRequest(h, 2)];
    for (const real of reals) expect(real.receivedAt - warm.receivedAt).toBeGreaterThanOrEqual(stallMs);
    expect(logs.some((l) => l.includes('aborted'))).toBe(false);
  });

  it('whose client hangs up while held is never sent to the backend', async () => {
    const stallMs = 1_000;
    const h = await start(stallMs);
    const warming = warmPrefix(h.proxy, 'mlx-lm', PREFIX);
    await chatRequest(h, 0);
    const leave = new AbortController();
    const pending = send(h, matching('Never mind.', true), leave.signal).catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 200));
    leave.abort();
    await pending;
    expect((await warming).phase).toBe('done');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.upstream.chatRequests).toHaveLength(1);
    expect(logs.some((l) => l.includes('nothing was sent upstream'))).toBe(true);
  });
});

describe('requests when no warm-up is in flight', () => {
  it('are forwarded at once, before and after a warm-up, and a warm-up never starts beside a real request', async () => {
    // A grace far longer than the bound below: waiting on it by mistake would fail the test.
    const graceMs = 3_000;
    const h = await start(300, graceMs);
    const before = await send(h, other('First question.'));
    expect(before.status).toBe(200);
    expect(before.ms).toBeLessThan(1_000);

    expect((await warmPrefix(h.proxy, 'mlx-lm', PREFIX)).phase).toBe('done');
    const after = await send(h, matching('Second question.', false));
    expect(after.text).toContain(REAL_ANSWER);
    expect(after.ms).toBeLessThan(1_000);

    // A real request that takes a while; a warm-up sent meanwhile is refused, not queued beside it.
    h.upstream.setDefault({ kind: 'stall', ms: 1_000, reply: { kind: 'text', text: REAL_ANSWER } });
    const slow = send(h, other('A slow one.'));
    await chatRequest(h, 3);
    const refused = await warmPrefix(h.proxy, 'mlx-lm', PREFIX);
    expect(refused).toMatchObject({ ok: false, phase: 'skipped' });
    expect((await slow).status).toBe(200);
    expect(h.upstream.chatRequests).toHaveLength(4);
    expect(logs.some((l) => l.startsWith('held'))).toBe(false);
  });
});
