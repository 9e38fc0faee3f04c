/**
 * The checks behind the hostile-input 400s (nesting depth, unknown block types, orphan
 * tool_results, UTF-8), the key comparison, and the bounds on token counting: what they refuse,
 * and that every real Claude Code request passes them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessageParam, MessagesRequest } from '../../src/anthropic/types.js';
import { DOCUMENTED_UNTRANSLATED_BLOCK_TYPES, MAX_DEPTH, orphanToolResult, textOverLimits, textTooDeep, tooDeep, unknownBlock } from '../../src/anthropic/limits.js';
import { parseCountTokensRequest, parseMessagesRequest } from '../../src/anthropic/request-schema.js';
import { decodeUtf8, firstBadByte } from '../../src/proxy/read-body.js';
import { sameKey } from '../../src/proxy/auth.js';
import { ContextWindowTrimmer } from '../../src/proxy/context-window.js';
import { promptSegments } from '../../src/proxy/anthropic-exchange.js';
import { TokenCounter } from '../../src/proxy/token-counter.js';
import { ApiError } from '../../src/proxy/api-error.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Every captured request body under test/fixtures (Claude Code's own, and the bench conversation). */
function capturedBodies(): Array<{ file: string; url: string; body: unknown }> {
  const out: Array<{ file: string; url: string; body: unknown }> = [];
  for (const set of ['claude-code-2.1.197', 'bench-short-chat']) {
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.json') && entry.name.includes('POST')) {
          const capture = JSON.parse(readFileSync(path, 'utf8')) as { url: string; body: unknown };
          out.push({ file: path.slice(FIXTURES.length), url: capture.url, body: capture.body });
        }
      }
    };
    walk(`${FIXTURES}${set}`);
  }
  return out;
}

/** JSON text nested `depth` levels, built without recursion. */
const nested = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`);

describe('nesting depth', () => {
  it(`accepts ${MAX_DEPTH} levels and names the path at ${MAX_DEPTH + 1}`, () => {
    expect(tooDeep(nested(MAX_DEPTH))).toBeUndefined();
    expect(tooDeep({ tools: [{ input_schema: nested(MAX_DEPTH - 3) }] })).toBeUndefined();
    expect(tooDeep({ tools: [{ input_schema: nested(MAX_DEPTH - 2) }] })).toMatch(/^tools\.0\.input_schema(\.a)*$/);
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(tooDeep({ messages: [{ role: 'user', content: [{ type: 'tool_use', input: deep }] }] })).toMatch(/^messages\.0\.content\.0\.input(\.0)+$/);
  });

  it('counts arrays and objects side by side, strings skipped, and says where the count passed the limit', () => {
    expect(textOverLimits('[[],[],{}]', 10, 4)).toBeUndefined();
    expect(textOverLimits('[[],[],{},[]]', 10, 4)).toEqual({ kind: 'containers', at: 10 });
    expect(textOverLimits('["[[[[[[[[[[", {"a": "{{{{{{{"}]', 10, 2)).toBeUndefined();
    expect(textOverLimits('[[[[1]]]]', 3, 100)).toEqual({ kind: 'depth', at: 3 });
    // Every real Claude Code body is far below the limit.
    for (const { body } of capturedBodies()) expect(textOverLimits(JSON.stringify(body))).toBeUndefined();
  });

  it('scans JSON text for hopeless nesting before it is parsed, skipping brackets inside strings', () => {
    expect(textTooDeep('[[[1]]]', 3)).toBeUndefined();
    expect(textTooDeep('[[[[1]]]]', 3)).toBe(3);
    expect(textTooDeep('{"a":"[[[[[[\\"[[[[[[","b":[1]}', 3)).toBeUndefined();
    expect(textTooDeep('[{"a":"\\\\"},[[[]]]]', 3)).toBe(14);
    const body = JSON.stringify({ model: 'm', tools: [{ input_schema: nested(MAX_DEPTH) }] });
    expect(textTooDeep(body)).toBeUndefined();
  });

  it('is a 400 from both parsers, naming the tool schema and the limit', () => {
    const body = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'deep', input_schema: nested(10_000) }] };
    for (const parsed of [parseMessagesRequest(body), parseCountTokensRequest(body)]) {
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(/^tools\.0\.input_schema\.a\.a…: .*at most 128/);
    }
  });

  it('every captured Claude Code body nests far less than the limit', () => {
    const bodies = capturedBodies();
    expect(bodies.length).toBeGreaterThan(10);
    for (const { body } of bodies) expect(tooDeep(body, 20)).toBeUndefined();
  });
});

describe('every captured request passes every check', () => {
  it.each(capturedBodies().map((c) => [c.file, c] as const))('%s', (_file, { url, body }) => {
    const parsed = url.includes('count_tokens') ? parseCountTokensRequest(body) : parseMessagesRequest(body);
    expect(parsed.ok ? undefined : parsed.error).toBeUndefined();
    if (parsed.ok) expect(unknownBlock(parsed.value.messages)).toBeUndefined();
  });
});

describe('unknown content block types', () => {
  it('names the block and what anyclaude translates', () => {
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'hologram' }] }] as unknown as MessageParam[];
    expect(unknownBlock(messages)).toBe(
      'messages.0.content.1: unknown content block type "hologram"; anyclaude translates text, image, tool_use, tool_result, thinking, redacted_thinking',
    );
  });

  it('lets the types Anthropic documents through (translation leaves them out, as before)', () => {
    for (const type of DOCUMENTED_UNTRANSLATED_BLOCK_TYPES) {
      expect(unknownBlock([{ role: 'user', content: [{ type } as never] }])).toBeUndefined();
    }
  });
});

const use = (id: string): MessageParam => ({ role: 'assistant', content: [{ type: 'tool_use', id, name: 'Bash', input: {} }] });
const result = (id: string): MessageParam => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }] });

describe('tool_result pairing (Anthropic: each answers a tool_use of the previous assistant turn)', () => {
  it('accepts results right after their calls, in consecutive messages of one role too (the API merges them)', () => {
    expect(orphanToolResult([{ role: 'user', content: 'go' }, use('a'), result('a')])).toBeUndefined();
    expect(orphanToolResult([{ role: 'user', content: 'go' }, use('a'), { role: 'assistant', content: 'and' }, use('b'), result('a'), result('b')])).toBeUndefined();
    expect(orphanToolResult([{ role: 'user', content: 'go' }, use('a'), { role: 'user', content: 'note' }, result('a')])).toBeUndefined();
  });

  it('names a result without its call, one at the start, and one answering an older turn', () => {
    expect(orphanToolResult([{ role: 'user', content: 'go' }, use('a'), result('ghost')])).toMatch(/^messages\.2\.content\.0: .*"ghost"/);
    expect(orphanToolResult([result('a')])).toMatch(/^messages\.0\.content\.0: .*"a"/);
    expect(orphanToolResult([{ role: 'user', content: 'go' }, use('a'), result('a'), { role: 'assistant', content: 'done' }, result('a')])).toMatch(/^messages\.4\./);
  });

  it('--context-strategy window never produces an orphan, whatever it cuts', async () => {
    const words = (n: number, seed: string): string => Array.from({ length: n }, (_, i) => `${seed}${i % 10}`).join(' ');
    const turn = fc.record({ prompt: fc.integer({ min: 1, max: 300 }), calls: fc.integer({ min: 0, max: 3 }), result: fc.integer({ min: 1, max: 400 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(turn, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1024, max: 16_384 }), async (turns, window) => {
        const messages: MessageParam[] = [];
        turns.forEach((t, i) => {
          messages.push({ role: 'user', content: `prompt ${i} ${words(t.prompt, 'w')}` });
          for (let c = 0; c < t.calls; c++) {
            messages.push(use(`c${i}_${c}`));
            messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `c${i}_${c}`, content: words(t.result, 'r') }] });
          }
          messages.push({ role: 'assistant', content: `answer ${i}` });
        });
        const request: MessagesRequest = { model: 'claude', max_tokens: 256, messages };
        const out = await new ContextWindowTrimmer(new TokenCounter()).fit({ request, sessionId: 's', model: 'm', contextWindow: window, segmentsOf: promptSegments });
        expect(orphanToolResult(out.request.messages)).toBeUndefined();
      }),
      { numRuns: 100, seed: 20261202 },
    );
  });
});

describe('UTF-8', () => {
  it.each([
    ['a lone continuation byte', [0x61, 0x80, 0x62], 1],
    ['a truncated 3-byte sequence', [0x61, 0x62, 0xe2, 0x82, 0x41], 2],
    ['an overlong encoding', [0xc0, 0xaf], 0],
    ['a UTF-16 surrogate', [0x20, 0xed, 0xa0, 0x80], 1],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a sequence cut off at the end', [0x7b, 0x22, 0xf0, 0x9f, 0x98], 2],
  ])('refuses %s, naming the offset', (_name, bytes, offset) => {
    const buffer = Buffer.from(bytes);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(buffer)).toThrow();
    expect(firstBadByte(buffer)).toBe(offset);
    expect(() => decodeUtf8(buffer)).toThrow(new ApiError(400, 'invalid_request_error', `request body is not valid UTF-8 (first bad byte at offset ${offset})`));
  });

  it('accepts every valid string, emoji and CJK included, unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const bytes = Buffer.from(text, 'utf8');
        expect(firstBadByte(bytes)).toBe(bytes.length);
        expect(decodeUtf8(bytes)).toBe(text);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});

describe('key comparison', () => {
  it('is true only for the same key, whatever the lengths', () => {
    const key = 'anyclaude-0123456789abcdefghijklmnopqrstuvwx';
    expect(sameKey(key, key)).toBe(true);
    expect(sameKey(`${key.slice(0, -1)}y`, key)).toBe(false);
    expect(sameKey('', key)).toBe(false);
    expect(sameKey(`${key}${key}`, key)).toBe(false);
  });
});

describe('token counting on hostile text (hang guards: the figures are in the report, not asserted)', () => {
  it('refuses text far beyond a known window by characters, without tiktoken', async () => {
    const text = 'word '.repeat(2_000_000);
    const estimate = await new TokenCounter().estimate('m', [text], 32_768);
    expect(estimate.raw).toBeUndefined();
    expect(estimate.tokens).toBeGreaterThan(32_768);
  });

  it('counts a megabyte of one letter (a pathological case for byte-pair merging) from a sample', async () => {
    const estimate = await new TokenCounter().exact('m', ['a'.repeat(1_000_000)]);
    expect(estimate.tokens).toBe(250_000);
  });

  it('counts real prompts (every captured segment, JSON and long system prompts) and base64 exactly as plain tiktoken', async () => {
    const { Tiktoken } = await import('js-tiktoken/lite');
    const ranks = (await import('js-tiktoken/ranks/p50k_base')).default;
    const plain = new Tiktoken(ranks);
    const base64 = Buffer.from(Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 256)).toString('base64');
    const segments = [`image: ${base64} end`];
    for (const { body } of capturedBodies()) {
      const messages = (body as { messages?: unknown }).messages;
      if (Array.isArray(messages)) segments.push(...promptSegments(body as MessagesRequest));
    }
    expect(segments.some((s) => s.length > 60_000)).toBe(true);
    for (const segment of segments) expect((await new TokenCounter().exact('m', [segment])).raw).toBe(plain.encode(segment).length);
  });

});
