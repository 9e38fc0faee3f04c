/**
 * `--context-strategy window` over real sockets: the official SDK sends a conversation longer than
 * the window to the proxy; the scripted backend receives it shortened, and the reply, the metrics
 * and the log say what was left out. Without the strategy the same request is refused as too long.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { CoreEvents } from '../../src/core/events.js';
import type { RequestMetrics } from '../../src/proxy/metrics.js';

const WINDOW = 4096;
const words = (n: number, seed: string): string => Array.from({ length: n }, (_, i) => `${seed}${i % 10}`).join(' ');

function longConversation(turns: number): Anthropic.MessageParam[] {
  const out: Anthropic.MessageParam[] = [];
  for (let t = 0; t < turns; t++) {
    out.push({ role: 'user', content: `TURN-${t} ${words(300, 'x')}` });
    out.push({ role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${t}`, name: 'Read', input: { path: `f${t}` } }] });
    out.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${t}`, content: words(200, 'r') }] });
    out.push({ role: 'assistant', content: `read f${t}` });
  }
  out.push({ role: 'user', content: 'LAST: say done' });
  return out;
}

const tools: Anthropic.Tool[] = [{ name: 'Read', description: 'read a file', input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }];

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('--context-strategy window', () => {
  it('sends the backend the first message, a note and the latest turns, and reports what was left out', async () => {
    const events = new CoreEvents();
    const ended: RequestMetrics[] = [];
    const logs: string[] = [];
    events.on('request:end', (m) => ended.push(m));
    events.on('log', (e) => logs.push(e.message));
    harness = await startHarness({ contextWindow: WINDOW, proxy: { contextStrategy: 'window', events } });
    harness.upstream.setDefault({ kind: 'text', text: 'done', promptTokens: 1500 });
    const messages = longConversation(12);
    const reply = await harness.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 512, tools, messages });
    expect(reply.content).toEqual([{ type: 'text', text: 'done' }]);

    const sent = harness.upstream.chatRequests[0]?.body as { messages: Array<{ role: string; content: unknown; tool_call_id?: string; tool_calls?: Array<{ id: string }> }> };
    const text = JSON.stringify(sent.messages);
    expect(text).toContain('TURN-0 ');
    expect(text).toMatch(/\[anyclaude: \d+ earlier messages were left out/);
    expect(text).not.toContain('TURN-1 ');
    expect(text).toContain('LAST: say done');
    // Every tool message the backend sees answers a call it also sees.
    const calls = new Set(sent.messages.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id)));
    for (const m of sent.messages.filter((m) => m.role === 'tool')) expect(calls.has(m.tool_call_id ?? '')).toBe(true);

    const metrics = ended[0];
    expect(metrics?.trimmedMessages).toBeGreaterThan(0);
    expect(metrics?.trimmedTokens).toBeGreaterThan(1000);
    expect(logs.some((l) => new RegExp(`left out ${metrics?.trimmedMessages} earlier messages .* ${WINDOW}-token window`).test(l))).toBe(true);
  });

  it('without it, the same conversation is refused as too long (so Claude Code compacts)', async () => {
    harness = await startHarness({ contextWindow: WINDOW });
    const response = await harness.post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 512, tools, messages: longConversation(12) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^prompt is too long: \d+ tokens > 4096 maximum/);
    expect(harness.upstream.chatRequests).toHaveLength(0);
  });
});
