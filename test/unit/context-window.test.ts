/** `--context-strategy window`: which turns are left out, and what must never be. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ContentBlock, MessageParam, MessagesRequest } from '../../src/anthropic/types.js';
import { ContextWindowTrimmer, turnStarts } from '../../src/proxy/context-window.js';
import { promptSegments } from '../../src/proxy/anthropic-exchange.js';
import { TokenCounter } from '../../src/proxy/token-counter.js';

const MODEL = 'm';

function request(messages: MessageParam[], maxTokens = 512): MessagesRequest {
  return { model: 'claude', max_tokens: maxTokens, system: 'You are terse.', messages };
}

/** `words` plain words: about that many tokens. */
const words = (n: number, seed = 'w'): string => Array.from({ length: n }, (_, i) => `${seed}${i % 10}`).join(' ');

/** A conversation of `turns` turns, each a prompt, a tool call, its result and an answer. */
function conversation(turns: number, size = 200): MessageParam[] {
  const out: MessageParam[] = [{ role: 'user', content: `FIRST ${words(50, 'f')}` }];
  for (let t = 0; t < turns; t++) {
    if (t > 0) out.push({ role: 'user', content: `turn ${t}: ${words(size)}` });
    out.push({ role: 'assistant', content: [{ type: 'tool_use', id: `call_${t}`, name: 'Bash', input: { command: 'ls' } }] });
    out.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `call_${t}`, content: words(size, 'r') }] });
    out.push({ role: 'assistant', content: `done ${t}` });
  }
  return out;
}

async function fit(trimmer: ContextWindowTrimmer, req: MessagesRequest, contextWindow: number, sessionId = 's') {
  return trimmer.fit({ request: req, sessionId, model: MODEL, contextWindow, segmentsOf: promptSegments });
}

async function tokens(counter: TokenCounter, req: MessagesRequest): Promise<number> {
  return (await counter.exact(MODEL, promptSegments(req))).tokens;
}

/** Every tool_result in `messages` answers a tool_use earlier in them. */
function paired(messages: readonly MessageParam[]): boolean {
  const seen = new Set<string>();
  for (const m of messages) {
    if (typeof m.content === 'string') continue;
    for (const block of m.content as ContentBlock[]) {
      if (block.type === 'tool_use') seen.add(block.id);
      if (block.type === 'tool_result' && !seen.has(block.tool_use_id)) return false;
    }
  }
  return true;
}

describe('ContextWindowTrimmer', () => {
  it('leaves a prompt that fits untouched', async () => {
    const req = request(conversation(2));
    const out = await fit(new ContextWindowTrimmer(new TokenCounter()), req, 32_768);
    expect(out.request).toBe(req);
    expect(out.trimmed).toBeUndefined();
  });

  it('leaves out the oldest turns, keeping the first message, a note, and whole recent turns', async () => {
    const counter = new TokenCounter();
    const req = request(conversation(12));
    const out = await fit(new ContextWindowTrimmer(counter), req, 4096);
    expect(out.trimmed?.messages).toBeGreaterThan(0);
    expect(out.newCut).toBe(true);
    const kept = out.request.messages;
    expect(kept[0]).toEqual(req.messages[0]);
    expect(kept[1]).toEqual({ role: 'assistant', content: expect.stringMatching(new RegExp(`^\\[anyclaude: ${out.trimmed?.messages} earlier messages were left out`)) });
    expect(kept[2]?.role).toBe('user');
    expect(typeof kept[2]?.content).toBe('string');
    expect(kept.slice(2)).toEqual(req.messages.slice(req.messages.length - (kept.length - 2)));
    expect(paired(kept)).toBe(true);
    expect(await tokens(counter, out.request)).toBeLessThanOrEqual(4096 - 512 - 32);
    // Room is left so the next turns fit behind the same cut.
    expect(await tokens(counter, out.request)).toBeLessThanOrEqual((4096 - 512 - 32) * 0.6 + 50);
    expect(out.trimmed?.tokens).toBeGreaterThan(0);
  });

  it('keeps the same cut on the next turns, so the cached prefix survives', async () => {
    const trimmer = new ContextWindowTrimmer(new TokenCounter());
    const all = conversation(14);
    const first = await fit(trimmer, request(all.slice(0, 12 * 4 - 3)), 4096);
    const next = await fit(trimmer, request(all.slice(0, 13 * 4 - 3)), 4096);
    expect(next.newCut).toBe(false);
    expect(next.trimmed?.messages).toBe(first.trimmed?.messages);
    expect(JSON.stringify(next.request.messages).startsWith(JSON.stringify(first.request.messages).slice(0, -1))).toBe(true);
  });

  it('keeps the cut per session', async () => {
    const trimmer = new ContextWindowTrimmer(new TokenCounter());
    const a = await fit(trimmer, request(conversation(12)), 4096, 'a');
    const b = await fit(trimmer, request(conversation(12)), 4096, 'b');
    expect(b.newCut).toBe(true);
    expect(b.request.messages).toEqual(a.request.messages);
  });

  it('gives up (and lets the exchange answer "prompt is too long") when the last turn alone cannot fit', async () => {
    const req = request([{ role: 'user', content: words(5000) }]);
    const out = await fit(new ContextWindowTrimmer(new TokenCounter()), req, 2048);
    expect(out.request).toBe(req);
    expect(out.trimmed).toBeUndefined();
  });

  it('never cuts before a tool_result', () => {
    const starts = turnStarts(conversation(3));
    for (const i of starts) expect(conversation(3)[i]?.content).toEqual(expect.any(String));
    expect(starts).toEqual([4, 8]);
  });

  it('for any conversation and window: the result fits or is the request itself; tool calls stay with their results; the last turn is kept', async () => {
    const turn = fc.record({ prompt: fc.integer({ min: 1, max: 300 }), calls: fc.integer({ min: 0, max: 3 }), result: fc.integer({ min: 1, max: 400 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(turn, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1024, max: 16_384 }), async (turns, window) => {
        const messages: MessageParam[] = [];
        turns.forEach((t, i) => {
          messages.push({ role: 'user', content: `prompt ${i} ${words(t.prompt)}` });
          for (let c = 0; c < t.calls; c++) {
            messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `c${i}_${c}`, name: 'Read', input: { path: `f${c}` } }] });
            messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `c${i}_${c}`, content: words(t.result, 'r') }] });
          }
          messages.push({ role: 'assistant', content: `answer ${i}` });
        });
        const counter = new TokenCounter();
        const req = request(messages, 256);
        const out = await fit(new ContextWindowTrimmer(counter), req, window);
        if (out.trimmed === undefined) {
          expect(out.request).toBe(req);
          return;
        }
        expect(await tokens(counter, out.request)).toBeLessThanOrEqual(window - 256 - 32);
        expect(paired(out.request.messages)).toBe(true);
        expect(out.request.messages.at(-1)).toEqual(messages.at(-1));
        expect(out.request.messages[0]?.role).toBe('user');
      }),
      { numRuns: 200, seed: 20261202 },
    );
  });
});
