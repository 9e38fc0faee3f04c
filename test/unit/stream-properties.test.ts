import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEvent, ToolDefinition } from '../../src/anthropic/types.js';
import type { ChatChunkChoice, ChatCompletionChunk, ChatToolCallDelta } from '../../src/openai/types.js';
import { StreamTranslator } from '../../src/translate/openai-stream-to-anthropic.js';
import { accumulateMessage } from '../../src/translate/message-accumulator.js';

// --- a strict validator of the Anthropic event grammar -------------------------------------------

const DELTA_FOR_BLOCK = {
  text: ['text_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
  tool_use: ['input_json_delta'],
} as const;

interface OpenBlock {
  index: number;
  type: keyof typeof DELTA_FOR_BLOCK;
  deltas: string[];
  text: string;
}

/** Throws on the first event that breaks the grammar real Anthropic streams follow. */
function validateEvents(events: readonly StreamEvent[]): void {
  function fail(i: number, why: string): never {
    throw new Error(`event ${i} (${JSON.stringify(events[i])}): ${why}`);
  }
  if (events[0]?.type !== 'message_start') fail(0, 'first event must be message_start');
  let open: OpenBlock | null = null;
  let nextIndex = 0;
  let phase: 'blocks' | 'delta' | 'stopped' = 'blocks';
  let toolBlocks = 0;
  for (const [i, event] of events.entries()) {
    if (phase === 'stopped') fail(i, 'nothing may follow message_stop');
    switch (event.type) {
      case 'message_start':
        if (i !== 0) fail(i, 'message_start only once, first');
        break;
      case 'content_block_start':
        if (phase !== 'blocks') fail(i, 'block after message_delta');
        if (open) fail(i, 'a block is already open');
        if (event.index !== nextIndex) fail(i, `expected index ${nextIndex}`);
        open = { index: event.index, type: event.content_block.type, deltas: [], text: '' };
        if (event.content_block.type === 'tool_use') {
          toolBlocks += 1;
          if (!event.content_block.id || !event.content_block.name) fail(i, 'tool_use needs id and name');
        }
        nextIndex += 1;
        break;
      case 'content_block_delta': {
        if (!open || open.index !== event.index) fail(i, 'delta outside its open block');
        const block: OpenBlock = open;
        if (!(DELTA_FOR_BLOCK[block.type] as readonly string[]).includes(event.delta.type)) fail(i, 'delta type does not match block');
        if (block.deltas.at(-1) === 'signature_delta') fail(i, 'nothing after the signature');
        if (event.delta.type === 'text_delta') {
          if (event.delta.text === '') fail(i, 'empty text delta');
          block.text += event.delta.text;
        }
        if (event.delta.type === 'thinking_delta' && event.delta.thinking === '') fail(i, 'empty thinking delta');
        if (event.delta.type === 'input_json_delta' && event.delta.partial_json === '') fail(i, 'empty json delta');
        block.deltas.push(event.delta.type);
        break;
      }
      case 'content_block_stop': {
        if (!open || open.index !== event.index) fail(i, 'stop of a block that is not open');
        const block: OpenBlock = open;
        if (block.type === 'thinking' && (block.deltas.at(-1) !== 'signature_delta' || block.deltas.filter((d) => d === 'signature_delta').length !== 1)) {
          fail(i, 'a thinking block ends with exactly one signature_delta');
        }
        if (block.type === 'tool_use' && block.deltas.length === 0) fail(i, 'a tool_use block needs input');
        if (block.type === 'text' && block.text.trim() === '') fail(i, 'whitespace-only text block');
        open = null;
        break;
      }
      case 'message_delta':
        if (phase !== 'blocks' || open) fail(i, 'message_delta must follow closed blocks, once');
        // tool_use exactly when a tool block was sent, unless max_tokens cut the reply (then the call may be truncated).
        if (event.delta.stop_reason === 'tool_use' && toolBlocks === 0) fail(i, 'tool_use without a tool block');
        if (toolBlocks > 0 && event.delta.stop_reason !== 'tool_use' && event.delta.stop_reason !== 'max_tokens') fail(i, 'a tool block needs stop_reason tool_use');
        for (const [key, value] of Object.entries(event.usage)) {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(i, `bad usage ${key}`);
        }
        phase = 'delta';
        break;
      case 'message_stop':
        if (phase !== 'delta') fail(i, 'message_stop must follow message_delta');
        phase = 'stopped';
        break;
      default:
        fail(i, 'not an event the translator may send');
    }
  }
  if (phase !== 'stopped') fail(events.length - 1, 'stream must end with message_stop');
}

// --- generators of OpenAI chunks -------------------------------------------------------------------

const tools: ToolDefinition[] = [
  { name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } },
];

const textPiece = fc.constantFrom(
  '', ' ', '\n', 'Hello', ' world', '<', '<tool_call>', '</tool_call>', '\n<function=Bash>\n', '<function=Nope>',
  '<parameter=command>\nls\n</parameter>\n', '</function>', '{"name": "Bash", "arguments": {}}', '{',
);
const maybeText = fc.option(fc.oneof(textPiece, fc.string({ maxLength: 6 })), { nil: undefined });

const toolCallDelta: fc.Arbitrary<ChatToolCallDelta> = fc.record(
  {
    index: fc.integer({ min: 0, max: 2 }),
    id: fc.constantFrom('call_a', 'call_b', 'c'),
    function: fc.record({ name: fc.constantFrom('Bash', 'Read'), arguments: fc.constantFrom('', '{', '"a":1', '}', '{}') }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const finishReason = fc.constantFrom<ChatChunkChoice['finish_reason']>(null, 'stop', 'length', 'tool_calls', 'content_filter');

const choiceChunk: fc.Arbitrary<ChatCompletionChunk> = fc
  .record({
    content: fc.option(maybeText, { nil: null }),
    reasoning: maybeText,
    reasoning_content: maybeText,
    tool_calls: fc.option(fc.array(toolCallDelta, { maxLength: 2 }), { nil: undefined }),
    finish: finishReason,
  })
  .map(({ content, reasoning, reasoning_content, tool_calls, finish }) => {
    const delta: ChatChunkChoice['delta'] = { content: content ?? null };
    if (reasoning !== undefined) delta.reasoning = reasoning;
    if (reasoning_content !== undefined) delta.reasoning_content = reasoning_content;
    if (tool_calls) delta.tool_calls = tool_calls;
    return { choices: [{ index: 0, delta, finish_reason: finish }] };
  });

const usageChunk: fc.Arbitrary<ChatCompletionChunk> = fc
  .record({ prompt: fc.nat(5000), completion: fc.nat(500), cached: fc.option(fc.nat(6000), { nil: undefined }), cacheN: fc.option(fc.nat(6000), { nil: undefined }) })
  .map(({ prompt, completion, cached, cacheN }) => ({
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, prompt_tokens_details: cached === undefined ? null : { cached_tokens: cached } },
    ...(cacheN === undefined ? {} : { timings: { cache_n: cacheN } }),
  }));

const chunks = fc.array(fc.oneof({ arbitrary: choiceChunk, weight: 6 }, { arbitrary: usageChunk, weight: 1 }), { maxLength: 25 });

function translate(input: readonly ChatCompletionChunk[], withTools: boolean, callStart: boolean): StreamEvent[] {
  const translator = new StreamTranslator({ messageId: 'msg_p', model: 'm', inputTokens: 7, ...(withTools ? { tools } : {}) });
  const events = callStart ? translator.start() : [];
  for (const c of input) events.push(...translator.push(c));
  events.push(...translator.finish(), ...translator.finish());
  return events;
}

// --- properties --------------------------------------------------------------------------------------

describe('stream properties', () => {
  it('the validator rejects broken sequences (so the properties below mean something)', () => {
    const good = translate([{ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] }], false, true);
    expect(() => validateEvents(good)).not.toThrow();
    expect(() => validateEvents(good.slice(1))).toThrow(/message_start/);
    expect(() => validateEvents(good.slice(0, -1))).toThrow(/message_stop/);
    expect(() => validateEvents([...good, { type: 'ping' }])).toThrow(/follow message_stop/);
    expect(() => validateEvents(good.filter((e) => e.type !== 'content_block_stop'))).toThrow(/closed blocks/);
    const wrongDelta = good.map((e) => (e.type === 'content_block_delta' ? { ...e, delta: { type: 'thinking_delta' as const, thinking: 'x' } } : e));
    expect(() => validateEvents(wrongDelta)).toThrow(/does not match/);
  });

  it('any mix of upstream chunks yields a valid Anthropic event sequence', () => {
    fc.assert(
      fc.property(chunks, fc.boolean(), fc.boolean(), (input, withTools, callStart) => {
        validateEvents(translate(input, withTools, callStart));
      }),
      { numRuns: 500 },
    );
  });

  it('reasoning arrives intact, and the accumulated message agrees with the stream', () => {
    fc.assert(
      fc.property(chunks, fc.boolean(), (input, withTools) => {
        const events = translate(input, withTools, true);
        const message = accumulateMessage(events);
        const reasoning = input
          .map((c) => {
            const d = c.choices[0]?.delta;
            return d ? d.reasoning_content || d.reasoning || '' : '';
          })
          .join('');
        const thought = message.content.map((b) => (b.type === 'thinking' ? b.thinking : '')).join('');
        expect(thought).toBe(reasoning);
        expect(message.content.length).toBe(events.filter((e) => e.type === 'content_block_start').length);
        expect(message.stop_reason).toBe(events.at(-2)?.type === 'message_delta' ? (events.at(-2) as { delta: { stop_reason: unknown } }).delta.stop_reason : 'missing');
      }),
      { numRuns: 300 },
    );
  });

  it('sequential tool calls streamed in arbitrary pieces come out with their exact input', () => {
    const argsObject = fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), { maxKeys: 4 });
    const call = fc.record({ input: argsObject, cuts: fc.array(fc.nat(), { maxLength: 5 }), withId: fc.boolean(), prose: fc.string({ maxLength: 5 }) });
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 4 }), (calls) => {
        const input: ChatCompletionChunk[] = [];
        calls.forEach(({ input: args, cuts, withId, prose }, n) => {
          input.push({ choices: [{ index: 0, delta: { reasoning_content: prose } }] });
          const json = JSON.stringify(args);
          const bounds = [0, ...[...new Set(cuts.map((c) => c % (json.length + 1)))].sort((a, b) => a - b), json.length];
          bounds.slice(1).forEach((endAt, k) => {
            const piece: ChatToolCallDelta = { index: n, function: { arguments: json.slice(bounds[k], endAt) } };
            if (k === 0) {
              piece.function = { name: 'Bash', arguments: piece.function?.arguments ?? '' };
              if (withId) piece.id = `call_${n}`;
            }
            input.push({ choices: [{ index: 0, delta: { tool_calls: [piece] } }] });
          });
        });
        input.push({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
        const events = translate(input, true, true);
        validateEvents(events);
        const message = accumulateMessage(events);
        const uses = message.content.filter((b) => b.type === 'tool_use');
        expect(uses.map((b) => b.input)).toEqual(calls.map((c) => c.input));
        expect(new Set(uses.map((b) => b.id)).size).toBe(calls.length);
        expect(message.stop_reason).toBe('tool_use');
      }),
      { numRuns: 300 },
    );
  });
});
