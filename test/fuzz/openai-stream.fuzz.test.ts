/**
 * Fuzzing OpenAI stream → Anthropic stream translation: arbitrary chunk sequences (text and
 * reasoning cut anywhere, inside surrogate pairs and tool-call tags too; native tool calls with
 * ids, names and arguments split at any point; usage, noise and every finish_reason), with and
 * without tools and text-tool-call recovery. The translator must never throw, must always speak
 * the Anthropic grammar, and must not lose or alter what the model said.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEvent, ToolDefinition } from '../../src/anthropic/types.js';
import { completionToChunks, StreamTranslator } from '../../src/translate/openai-stream-to-anthropic.js';
import type { ChatCompletion } from '../../src/openai/types.js';
import { accumulateMessage } from '../../src/translate/message-accumulator.js';
import { ApiError } from '../../src/proxy/api-error.js';
import { assertAnthropicStream } from '../support/anthropic-grammar.js';
import { cutPoints, fuzzText, scriptChunks, splitAt, streamScriptArb, toolishText, type ScriptCall, type StreamScript } from '../support/arbitraries.js';
import { checkProperty, FUZZ_TIMEOUT_MS } from './fuzz-run.js';

const FILE = 'test/fuzz/openai-stream.fuzz.test.ts';

const TOOLS: ToolDefinition[] = [
  { name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' }, timeout: { type: 'integer' } } } },
  { name: 'Read', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, limit: { type: 'integer' } } } },
];

/** How the proxy may configure the translator: no tools, tools with recovery (the default), tools without. */
const setupArb = fc.constantFrom(
  { tools: undefined, recover: undefined },
  { tools: TOOLS, recover: undefined },
  { tools: TOOLS, recover: true },
  { tools: TOOLS, recover: false },
);
type Setup = typeof setupArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs the translator as the proxy's pump does: start, every chunk, finish. Only an ApiError may escape. */
function translate(script: StreamScript, setup: Setup): StreamEvent[] | undefined {
  const translator = new StreamTranslator({
    messageId: 'msg_fuzz',
    model: 'claude-sonnet-4-5',
    inputTokens: 9,
    ...(setup.tools === undefined ? {} : { tools: setup.tools }),
    ...(setup.recover === undefined ? {} : { recoverTextToolCalls: setup.recover }),
  });
  try {
    const events = translator.start();
    for (const chunk of scriptChunks(script)) events.push(...translator.push(chunk));
    events.push(...translator.finish());
    // Nothing may follow the end.
    expect(translator.push({ choices: [{ index: 0, delta: { content: 'late' } }] })).toEqual([]);
    expect(translator.finish()).toEqual([]);
    return events;
  } catch (error) {
    if (error instanceof ApiError) return undefined;
    throw error;
  }
}

const frames = (events: readonly StreamEvent[]) => events.map((e) => ({ event: e.type, data: JSON.stringify(e) }));

const allCalls = (script: StreamScript): ScriptCall[] => script.parts.flatMap((p) => (p.kind === 'calls' ? p.calls : []));
const textIn = (script: StreamScript): string => script.parts.map((p) => (p.kind === 'text' ? p.text : '')).join('');
const reasoningIn = (script: StreamScript): string => script.parts.map((p) => (p.kind === 'reasoning' ? p.text : '')).join('');

/** `sub` is `full` with some characters removed, and only whitespace ones. */
function isWhitespaceDeletion(sub: string, full: string): boolean {
  let at = 0;
  for (const c of full) {
    if (sub.startsWith(c, at)) at += c.length;
    else if (c.trim() !== '') return false;
  }
  return at === sub.length;
}

function checkContent(script: StreamScript, events: StreamEvent[]): void {
  const message = accumulateMessage(events);
  const said = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  const thought = message.content.map((b) => (b.type === 'thinking' ? b.thinking : '')).join('');
  expect(thought, 'reasoning is passed on whole, in order').toBe(reasoningIn(script));
  const toolBlocks = message.content.filter((b) => b.type === 'tool_use').length;
  // Every native call has a name, so it opens exactly one block; more blocks were recovered from text.
  const recovered = toolBlocks - allCalls(script).length;
  expect(recovered, 'a native tool call was lost or duplicated').toBeGreaterThanOrEqual(0);
  if (recovered === 0) {
    const written = textIn(script);
    // Whitespace with nothing else around it may go (Anthropic sends no blank text blocks); nothing else may change.
    expect(isWhitespaceDeletion(said, written), `text changed: sent ${JSON.stringify(written)}, got ${JSON.stringify(said)}`).toBe(true);
    if (script.parts.every((p) => p.kind !== 'reasoning' && p.kind !== 'calls')) expect(said).toBe(written.trim() === '' ? '' : written);
  }
}

const parsesAsObject = (json: string): boolean => {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
};

/**
 * The events with each tool_use block whose input does not parse replaced by `{}`, and those blocks' ids.
 * A native call's arguments are streamed as the model writes them, so they parse only if the model's did.
 */
function setAsideBadInputs(events: readonly StreamEvent[]): { events: StreamEvent[]; bad: string[] } {
  const json = new Map<number, string>();
  const ids = new Map<number, string>();
  for (const e of events) {
    if (e.type === 'content_block_start' && e.content_block.type === 'tool_use') ids.set(e.index, e.content_block.id);
    if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') json.set(e.index, (json.get(e.index) ?? '') + e.delta.partial_json);
  }
  const badIndexes = new Set([...json].filter(([, text]) => !parsesAsObject(text)).map(([index]) => index));
  const out: StreamEvent[] = [];
  for (const e of events) {
    if (e.type === 'content_block_delta' && badIndexes.has(e.index)) continue;
    if (e.type === 'content_block_stop' && badIndexes.has(e.index)) {
      out.push({ type: 'content_block_delta', index: e.index, delta: { type: 'input_json_delta', partial_json: '{}' } });
    }
    out.push(e);
  }
  return { events: out, bad: [...badIndexes].map((i) => ids.get(i) ?? '') };
}

describe('fuzz: OpenAI stream → Anthropic stream translation', () => {
  it(
    'any reply, arguments garbage included: never throws, valid grammar, a tool input fails to parse only where the model\'s arguments did',
    () => {
      const arb = fc.tuple(fc.boolean(), setupArb).chain(([toolish, setup]) =>
        fc.tuple(streamScriptArb({ validArgs: false, toolish }), fc.constant(setup)),
      );
      checkProperty(FILE, 'any reply, arguments garbage included', fc.property(arb, ([script, setup]) => {
        const events = translate(script, setup);
        if (events === undefined) return;
        const { events: checked, bad } = setAsideBadInputs(events);
        assertAnthropicStream(frames(checked));
        checkContent(script, events);
        const badCalls = allCalls(script).filter((c) => c.args.trim() !== '' && !parsesAsObject(c.args));
        expect(bad.length, `tool inputs that do not parse: ${JSON.stringify(bad)}`).toBeLessThanOrEqual(badCalls.length);
        for (const id of bad) if (!id.startsWith('toolu_')) expect(badCalls.map((c) => c.id)).toContain(id);
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'any reply with well-formed arguments: never throws, a valid Anthropic stream, text and reasoning intact, exact tool inputs',
    () => {
      const arb = fc.tuple(fc.boolean(), setupArb).chain(([toolish, setup]) =>
        fc.tuple(streamScriptArb({ validArgs: true, toolish }), fc.constant(setup)),
      );
      checkProperty(FILE, 'any reply with well-formed arguments', fc.property(arb, ([script, setup]) => {
        const events = translate(script, setup);
        if (events === undefined) return;
        const summary = assertAnthropicStream(frames(events));
        checkContent(script, events);
        // A call streamed in one run (not interleaved with another) arrives with exactly its arguments.
        for (const part of script.parts) {
          if (part.kind !== 'calls' || (part.interleave && part.calls.length > 1)) continue;
          for (const call of part.calls) {
            if (call.id === undefined) continue;
            const block = summary.content.find((b) => b.type === 'tool_use' && b.id === call.id);
            expect(block, `call ${call.id} has no tool_use block`).toBeDefined();
            expect(block).toMatchObject({ name: call.name, input: call.args.trim() === '' ? {} : JSON.parse(call.args) });
          }
        }
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'the reply does not depend on where the upstream cut its chunks',
    () => {
      const arb = fc.tuple(fc.boolean(), fc.boolean(), setupArb).chain(([toolish, validArgs, setup]) =>
        fc.tuple(streamScriptArb({ validArgs, toolish }), fc.array(cutPoints(8), { minLength: 12, maxLength: 12 }), fc.constant(setup)),
      );
      checkProperty(FILE, 'the reply does not depend on where', fc.property(arb, ([script, cuts, setup]) => {
        const first = translate(script, setup);
        const second = translate(recut(script, cuts), setup);
        if (first === undefined || second === undefined) return;
        expect(comparable(second)).toEqual(comparable(first));
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a tool call written as text (Hermes, Qwen XML, bare JSON) is recovered with its exact input, however it is cut',
    () => {
      checkProperty(FILE, 'a tool call written as text', fc.property(textCallArb, cutPoints(8), ({ text, prose, calls }, cuts) => {
        const chunks = splitAt(text, cuts).map((piece) => ({ choices: [{ index: 0, delta: { content: piece } }] }));
        chunks.push({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' } as never] });
        const translator = new StreamTranslator({ messageId: 'msg_fuzz', model: 'claude', inputTokens: 1, tools: TOOLS });
        const events = [...translator.start(), ...chunks.flatMap((c) => translator.push(c)), ...translator.finish()];
        const summary = assertAnthropicStream(frames(events));
        expect(summary.content.filter((b) => b.type !== 'text')).toEqual(
          calls.map(({ name, input }) => ({ type: 'tool_use', id: expect.stringMatching(/^toolu_/), name, input })),
        );
        expect(summary.content.map((b) => (b.type === 'text' ? b.text : '')).join('')).toBe(prose.trim() === '' ? '' : prose);
        expect(summary.stopReason).toBe('tool_use');
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a non-streaming reply goes the same way: a valid stream, its text, reasoning and every call intact',
    () => {
      checkProperty(FILE, 'a non-streaming reply', fc.property(completionArb, ({ completion, setup }) => {
        const translator = new StreamTranslator({
          messageId: 'msg_fuzz',
          model: 'claude',
          inputTokens: 3,
          ...(setup.tools === undefined ? {} : { tools: setup.tools }),
          ...(setup.recover === undefined ? {} : { recoverTextToolCalls: setup.recover }),
        });
        const events = [...translator.start(), ...completionToChunks(completion).flatMap((c) => translator.push(c)), ...translator.finish()];
        const summary = assertAnthropicStream(frames(events));
        const message = completion.choices[0]?.message;
        const calls = message?.tool_calls ?? [];
        const uses = summary.content.filter((b) => b.type === 'tool_use');
        for (const call of calls) {
          expect(uses.find((u) => u.type === 'tool_use' && u.id === call.id)).toMatchObject({ name: call.function.name, input: JSON.parse(call.function.arguments) });
        }
        expect(summary.content.map((b) => (b.type === 'thinking' ? b.thinking : '')).join('')).toBe(message?.reasoning_content || message?.reasoning || '');
        if (uses.length === calls.length) {
          const said = summary.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
          expect(isWhitespaceDeletion(said, message?.content ?? '')).toBe(true);
        }
      }));
    },
    FUZZ_TIMEOUT_MS,
  );
});

const completionArb: fc.Arbitrary<{ completion: ChatCompletion; setup: Setup }> = fc.record({
  setup: setupArb,
  content: fc.option(fc.oneof(fuzzText({ maxLength: 16 }), toolishText), { nil: null }),
  reasoning: fc.option(fuzzText({ maxLength: 10 }), { nil: undefined }),
  field: fc.constantFrom('reasoning' as const, 'reasoning_content' as const),
  calls: fc.array(fc.record({ name: fc.constantFrom('Bash', 'Read', 'Other'), args: fc.dictionary(fuzzText({ maxLength: 5 }), fuzzText({ maxLength: 8 }), { maxKeys: 3, noNullPrototype: true }) }), { maxLength: 3 }),
  finish: fc.constantFrom('stop' as const, 'tool_calls' as const, 'length' as const, null),
}).map(({ setup, content, reasoning, field, calls, finish }) => ({
  setup,
  completion: {
    id: 'chatcmpl-fuzz',
    model: 'local',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content,
          ...(reasoning === undefined ? {} : { [field]: reasoning }),
          ...(calls.length === 0
            ? {}
            : { tool_calls: calls.map((c, i) => ({ id: `call_${i}`, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.args) } })) }),
        },
        finish_reason: finish,
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 4 },
  },
}));

/** String values a model may put in a call: hostile text, tags and JSON included. */
const argValue = fc.oneof(fuzzText({ maxLength: 10 }), toolishText);

/** Qwen XML has no escaping: a value cannot hold the format's own closing tags. */
const XML_TAGS = ['</parameter>', '<parameter=', '</function>', '</tool_call>'];
const xmlValue = argValue.filter((v) => !XML_TAGS.some((tag) => v.includes(tag)));

const textCallArb = fc.oneof(
  // Hermes: <tool_call>{"name": …, "arguments": {…}}</tool_call>, after some prose.
  fc.record({ prose: fuzzText({ maxLength: 8 }).map((p) => p.replace(/</g, '(')), command: argValue, timeout: fc.integer() }).map(({ prose, command, timeout }) => ({
    text: `${prose}<tool_call>\n${JSON.stringify({ name: 'Bash', arguments: { command, timeout } })}\n</tool_call>`,
    prose,
    calls: [{ name: 'Bash', input: { command, timeout } }],
  })),
  // Qwen3-Coder XML: string and integer parameters, coerced by the tool's schema.
  fc.record({ prose: fuzzText({ maxLength: 8 }).map((p) => p.replace(/</g, '(')), path: xmlValue, limit: fc.integer({ min: -1000, max: 1000 }) }).map(({ prose, path, limit }) => ({
    text: `${prose}<tool_call>\n<function=Read>\n<parameter=file_path>\n${path}\n</parameter>\n<parameter=limit>\n${limit}\n</parameter>\n</function>\n</tool_call>`,
    prose,
    calls: [{ name: 'Read', input: { file_path: path, limit } }],
  })),
  // Bare JSON, the whole reply, fenced or not.
  fc.record({ command: argValue, fence: fc.boolean(), spelling: fc.constantFrom('arguments', 'parameters') }).map(({ command, fence, spelling }) => {
    const json = JSON.stringify({ name: 'Bash', [spelling]: { command } });
    return { text: fence ? `\`\`\`json\n${json}\n\`\`\`` : `\n${json}\n`, prose: '', calls: [{ name: 'Bash', input: { command } }] };
  }),
  // Qwen XML without the <tool_call> wrapper, a stray </tool_call> after it.
  fc.record({ path: xmlValue, stray: fc.boolean() }).map(({ path, stray }) => ({
    text: `<function=Read>\n<parameter=file_path>\n${path}\n</parameter>\n</function>${stray ? '\n</tool_call>' : ''}`,
    prose: '',
    calls: [{ name: 'Read', input: { file_path: path } }],
  })),
  // Hermes with the arguments as a JSON string (the OpenAI wire format), and a bare array of calls.
  fc.record({ a: argValue, b: argValue, array: fc.boolean() }).map(({ a, b, array }) => {
    const calls = [
      { name: 'Bash', input: { command: a } },
      { name: 'Read', input: { file_path: b } },
    ];
    const text = array
      ? JSON.stringify(calls.map((c) => ({ name: c.name, arguments: c.input })))
      : `<tool_call>\n${JSON.stringify({ name: 'Bash', arguments: JSON.stringify({ command: a }) })}\n</tool_call>`;
    return { text, prose: '', calls: array ? calls : calls.slice(0, 1) };
  }),
);

/** The same reply cut elsewhere: every text, reasoning and argument string split at other points. */
function recut(script: StreamScript, cuts: readonly number[][]): StreamScript {
  let n = 0;
  const next = (): number[] => cuts[n++ % cuts.length] ?? [];
  const parts = script.parts.map((part) => {
    if (part.kind === 'text' || part.kind === 'reasoning') return { ...part, cuts: next() };
    if (part.kind === 'calls') return { ...part, calls: part.calls.map((c) => ({ ...c, cuts: next() })) };
    return part;
  });
  return { ...script, parts };
}

/**
 * The message the client assembles, with generated tool ids (random) replaced by their order, and
 * without usage: with none from the upstream, output_tokens is estimated by counting deltas.
 */
function comparable(events: StreamEvent[]): unknown {
  const { usage: _estimated, ...message } = accumulateMessage(events);
  let n = 0;
  const content = message.content.map((b) => (b.type === 'tool_use' && b.id.startsWith('toolu_') ? { ...b, id: `generated_${n++}` } : b));
  return { ...message, content };
}
