/**
 * The backend's KV cache survives only if turn N+1's upstream prompt starts with turn N's,
 * byte for byte. Claude Code's real consecutive requests go through the real proxy here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import type { ProxyStatus } from '../../src/proxy/server.js';

interface UpstreamBody {
  messages: unknown[];
  tools?: unknown[];
}

async function upstreamBodyFor(h: Harness, run: string, seq: number, session: string): Promise<{ raw: string; body: UpstreamBody }> {
  const before = h.upstream.chatRequests.length;
  const response = await h.post('/v1/messages?beta=true', capture(run, seq).body, { 'x-claude-code-session-id': session });
  expect(response.status).toBe(200);
  await response.text();
  const recorded = h.upstream.chatRequests[before];
  if (recorded === undefined) throw new Error('upstream got no request');
  return { raw: recorded.rawBody, body: recorded.body as UpstreamBody };
}

describe('byte-stable prompts across turns', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ flavor: 'mlx-lm' });
  });
  afterAll(() => h.close());

  it('print-tool-turn: turn 2 starts with turn 1, byte for byte', async () => {
    const turn1 = await upstreamBodyFor(h, 'print-tool-turn', 2, 's-print');
    const turn2 = await upstreamBodyFor(h, 'print-tool-turn', 3, 's-print');
    expect(JSON.stringify(turn2.body.tools)).toBe(JSON.stringify(turn1.body.tools));
    const m1 = turn1.body.messages.map((m) => JSON.stringify(m));
    const m2 = turn2.body.messages.map((m) => JSON.stringify(m));
    expect(m2.slice(0, m1.length)).toEqual(m1);
    expect(m2.length).toBeGreaterThan(m1.length);
    // The raw body too: everything up to the end of turn 1's last message is identical.
    const lastOfTurn1 = m1.at(-1)!;
    const cut = turn1.raw.indexOf(lastOfTurn1) + lastOfTurn1.length;
    expect(turn2.raw.slice(0, cut)).toBe(turn1.raw.slice(0, cut));
  });

  it('interactive: every turn keeps the previous prompt intact', async () => {
    const bodies = [];
    for (const seq of [3, 4, 5, 6]) bodies.push((await upstreamBodyFor(h, 'interactive', seq, 's-interactive')).body);
    for (let i = 1; i < bodies.length; i++) {
      const prev = bodies[i - 1]!.messages.map((m) => JSON.stringify(m));
      const next = bodies[i]!.messages.map((m) => JSON.stringify(m));
      expect(next.slice(0, prev.length)).toEqual(prev);
      expect(JSON.stringify(bodies[i]!.tools)).toBe(JSON.stringify(bodies[i - 1]!.tools));
    }
  });

  it('reports 100 % of the previous prompt preserved in the status endpoint', async () => {
    const response = await fetch(`${h.proxy.url}/_anyclaude/status`, { headers: { 'x-api-key': h.proxy.key } });
    const status = (await response.json()) as ProxyStatus;
    const followUps = status.recent.filter((m) => m.sessionId === 's-interactive' && m.prefixPreserved !== undefined);
    expect(followUps).toHaveLength(3);
    for (const m of followUps) {
      expect(m.prefixPreserved).toBe(1);
      expect(m.prefixStability).toBeGreaterThan(0.9);
      expect(m.prefixStability).toBeLessThan(1);
    }
  });

  it('never forwards the billing header, cache_control, or a reordered system prompt', async () => {
    const { raw, body } = await upstreamBodyFor(h, 'print-tool-turn', 2, 's-clean');
    expect(raw).not.toContain('x-anthropic-billing-header');
    expect(raw).not.toContain('cache_control');
    const messages = body.messages as Array<{ role: string; content: unknown }>;
    expect(messages[0]?.role).toBe('system');
    expect(String(messages[0]?.content)).toMatch(/^You are a Claude agent/);
    // The mid-conversation system message stays right after the first user message.
    expect(messages.map((m) => m.role).slice(0, 3)).toEqual(['system', 'user', 'system']);
    expect(messages[1]?.content).toEqual(expect.any(String));
  });

  it('renders a one-block text array and a plain string identically', async () => {
    const base = capture('print-tool-turn', 3).body as { messages: Array<{ role: string; content: unknown }> };
    const asString = structuredClone(base);
    const asBlocks = structuredClone(base);
    asString.messages.push({ role: 'user', content: 'next question' });
    asBlocks.messages.push({ role: 'user', content: [{ type: 'text', text: 'next question', cache_control: { type: 'ephemeral' } }] });
    const send = async (body: unknown): Promise<string> => {
      const before = h.upstream.chatRequests.length;
      await (await h.post('/v1/messages', body)).text();
      return h.upstream.chatRequests[before]!.rawBody;
    };
    expect(await send(asBlocks)).toBe(await send(asString));
  });
});
