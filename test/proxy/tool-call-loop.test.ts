/**
 * A model that loops on one text-written tool call (seen with Qwen2.5-Coder-0.5B after a tool
 * result: the same bare JSON call, line after line, to the output limit) gets its reply ended
 * after the third copy: the client receives the call once, and the backend stops decoding.
 * Over real sockets: the official SDK → the proxy → a scripted mlx_lm.server stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { CoreEvents } from '../../src/core/events.js';

const tools: Anthropic.Tool[] = [{ name: 'Bash', description: 'run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }];
const CALL = '{"name": "Bash", "arguments": {"command": "ls"}}\n';
const COPIES = 40;

/** mlx_lm.server's stream of `text`, a few characters a frame. */
function contentChunks(text: string): unknown[] {
  const pieces = text.match(/[\s\S]{1,12}/g) ?? [];
  return [
    ...pieces.map((content) => ({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'served-model', choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: null }] })),
    { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'served-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  ];
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('a model looping on one tool call', () => {
  it('ends the reply with that call once and stops the backend', async () => {
    const events = new CoreEvents();
    const logs: string[] = [];
    events.on('log', (e) => logs.push(e.message));
    harness = await startHarness({ delayMsPerChunk: 15, proxy: { events } });
    harness.upstream.setDefault({ kind: 'chunks', chunks: contentChunks(CALL.repeat(COPIES)) });
    const started = Date.now();
    const message = await harness.client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 4096, tools, messages: [{ role: 'user', content: 'List the files.' }] }).finalMessage();
    const ms = Date.now() - started;

    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.map((b) => (b.type === 'tool_use' ? { name: b.name, input: b.input } : b.type))).toEqual([{ name: 'Bash', input: { command: 'ls' } }]);
    // The backend's request was closed long before its 40 copies were streamed (~180 frames, 15 ms apart).
    const aborted = await harness.upstream.waitForAbort(2000);
    expect(aborted.abortedAt).toBeDefined();
    expect(ms).toBeLessThan((CALL.length * COPIES) / 12 * 15 * 0.5);
    expect(logs.some((l) => /repeated the same tool call 3 times/.test(l))).toBe(true);
  });

  it('leaves a reply that says one call twice, and then stops by itself, as it is', async () => {
    harness = await startHarness();
    harness.upstream.setDefault({ kind: 'chunks', chunks: contentChunks(CALL.repeat(2)) });
    const message = await harness.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 4096, tools, messages: [{ role: 'user', content: 'List the files.' }] });
    expect(message.content.filter((b) => b.type === 'tool_use')).toHaveLength(2);
  });
});
