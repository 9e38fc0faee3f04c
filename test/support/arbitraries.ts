/**
 * fast-check arbitraries shared by the fuzz suites (test/fuzz): hostile-but-legal strings,
 * Anthropic Messages requests the proxy's schema accepts, OpenAI stream scripts, and SSE byte streams.
 * Sizes are kept small on purpose: the CI run does tens of thousands of cases on two cores.
 */
import fc from 'fast-check';
import type { ContentBlock, MessageParam, MessagesRequest, ToolDefinition } from '../../src/anthropic/types.js';
import type { ChatChunkChoice, ChatCompletionChunk, ChatToolCallDelta, ChatUsage } from '../../src/openai/types.js';

// --- strings -------------------------------------------------------------------------------------

/** Characters that break naive code: JSON escapes, line ends, BOM, combining marks, astral planes. */
const SPECIAL_CHARS = [
  '\n', '\r', '\r\n', '\t', ' ', '"', '\\', '/', '\u0000', '\u001f', '\u007f', '\u00a0', '\u2028', '\u2029', '\ufeff',
  'é', 'e\u0301', '中', 'ß', '😀', '👩‍💻', '𝄞', '\u{10ffff}', '<', '>', '{', '}', '[', ']', ':', ',', '`',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

function charUnit(surrogates: boolean): fc.Arbitrary<string> {
  const units: Array<fc.WeightedArbitrary<string>> = [
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_CHARS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  ];
  if (surrogates) units.push({ weight: 1, arbitrary: loneSurrogate });
  return fc.oneof(...units);
}

export interface TextOptions {
  maxLength?: number;
  /** Lone UTF-16 surrogates (legal in a JS string and in JSON as `\ud800`, not in UTF-8). */
  surrogates?: boolean;
  /** Now and then a string of tens of thousands of characters. */
  huge?: boolean;
}

/** A string of hostile characters: empty, unicode incl. astral, lone surrogates, and rarely huge. */
export function fuzzText(options: TextOptions = {}): fc.Arbitrary<string> {
  const { maxLength = 12, surrogates = true, huge = false } = options;
  const normal = fc.string({ unit: charUnit(surrogates), maxLength });
  if (!huge) return normal;
  const big = fc
    .tuple(fc.string({ unit: charUnit(surrogates), minLength: 1, maxLength: 4 }), fc.integer({ min: 1_000, max: 5_000 }))
    .map(([piece, times]) => piece.repeat(times));
  return fc.oneof({ weight: 80, arbitrary: normal }, { weight: 1, arbitrary: big });
}

/** A non-empty string (names, ids). */
export function fuzzName(pool: readonly string[] = []): fc.Arbitrary<string> {
  const free = fuzzText({ maxLength: 8 }).filter((s) => s.length > 0);
  return pool.length === 0 ? free : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: free });
}

/** Cut `text` at the given positions (any UTF-16 offset: surrogate pairs get split too). */
export function splitAt(text: string, cuts: readonly number[]): string[] {
  const bounds = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let at = 0;
  for (const bound of bounds) {
    pieces.push(text.slice(at, bound));
    at = bound;
  }
  pieces.push(text.slice(at));
  return pieces;
}

/** Same for bytes (a cut may fall inside a UTF-8 sequence or between `\r` and `\n`). */
export function splitBytes(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bounds = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const bound of bounds) {
    pieces.push(bytes.subarray(at, bound));
    at = bound;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

export const cutPoints = (maxLength = 6): fc.Arbitrary<number[]> => fc.array(fc.nat(1 << 20), { maxLength });

// --- JSON values ---------------------------------------------------------------------------------

/** Any JSON value a body can carry (no NaN, no undefined), kept shallow. */
export function fuzzJson(maxDepth = 2): fc.Arbitrary<unknown> {
  return fc.jsonValue({ maxDepth, depthSize: 'xsmall' });
}

/** A JSON object (tool input, schema), keys hostile. */
export function fuzzObject(maxKeys = 3): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fuzzText({ maxLength: 6 }), fc.oneof(fuzzText({ maxLength: 8 }), fuzzJson(2)), {
    maxKeys,
    noNullPrototype: true,
  });
}

// --- Anthropic Messages requests -----------------------------------------------------------------

export const TOOL_NAMES = ['Bash', 'Read', 'Edit', 'mcp__srv__do_it', 'wéird-😀'] as const;

const cacheControl = fc.option(fc.constant({ type: 'ephemeral' as const }), { nil: undefined });

function withCache<T extends object>(block: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.tuple(block, cacheControl).map(([b, cache]) => (cache === undefined ? b : { ...b, cache_control: cache }));
}

const text = (huge = true): fc.Arbitrary<string> => fuzzText({ maxLength: 14, huge });

export const textBlock = withCache(fc.record({ type: fc.constant('text' as const), text: text() }));

export const imageBlock = withCache(
  fc.oneof(
    fc.record({
      type: fc.constant('image' as const),
      source: fc.record({
        type: fc.constant('base64' as const),
        media_type: fc.constantFrom('image/png', 'image/jpeg', ''),
        data: fc.base64String({ maxLength: 16 }),
      }),
    }),
    fc.record({ type: fc.constant('image' as const), source: fc.record({ type: fc.constant('url' as const), url: fuzzText() }) }),
  ),
);

const thinkingBlock = fc.oneof(
  fc.record({ type: fc.constant('thinking' as const), thinking: text(false), signature: fuzzText({ maxLength: 6 }) }),
  fc.record({ type: fc.constant('redacted_thinking' as const), data: fc.base64String({ maxLength: 12 }) }),
);

/** Items the schema takes inside a tool_result today: text, images, and blocks of a known type missing their fields. */
const toolResultItem: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 6, arbitrary: textBlock },
  { weight: 2, arbitrary: imageBlock },
  { weight: 1, arbitrary: fc.constantFrom({ type: 'text' }, { type: 'image' }, { type: 'text', text: 5 }, { type: 'image', source: {} }) },
);

const toolResultContent = fc.option(fc.oneof(text(), fc.array(toolResultItem, { maxLength: 3 })), { nil: undefined });

/** One step of a conversation, before ids are tied together. */
type Step =
  | { kind: 'user'; content: string | ContentBlock[] }
  | { kind: 'system'; content: string | ContentBlock[] }
  | { kind: 'assistant'; content: string | ContentBlock[]; calls: Array<{ name: string; input: unknown }> }
  | { kind: 'results'; results: Array<{ content: unknown; is_error?: boolean }>; extra: ContentBlock[]; textFirst: boolean };

/** Mostly objects; the schema also takes null and any other JSON value today. */
/** A tool_use input is an object: the schema refuses anything else with a 400, as the Anthropic API does. */
const toolInput: fc.Arbitrary<unknown> = fuzzObject();

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(text(), fc.array(fc.oneof({ weight: 4, arbitrary: textBlock }, { weight: 1, arbitrary: imageBlock }), { maxLength: 3 }))
      .map((content) => ({ kind: 'user' as const, content: content as string | ContentBlock[] })),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(text(), fc.array(textBlock, { maxLength: 2 })).map((content) => ({ kind: 'system' as const, content })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        content: fc.oneof(text(), fc.array(fc.oneof({ weight: 3, arbitrary: textBlock }, { weight: 1, arbitrary: thinkingBlock }), { maxLength: 3 })),
        calls: fc.array(fc.record({ name: fuzzName([...TOOL_NAMES]), input: toolInput }), { maxLength: 3 }),
      })
      .map(({ content, calls }) => ({ kind: 'assistant' as const, content: content as string | ContentBlock[], calls })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        results: fc.array(fc.record({ content: toolResultContent, is_error: fc.option(fc.boolean(), { nil: undefined }) }), { maxLength: 3 }),
        extra: fc.array(fc.oneof(textBlock, imageBlock), { maxLength: 2 }),
        textFirst: fc.boolean(),
      })
      .map((r) => ({ kind: 'results' as const, ...r })),
  },
);

/**
 * Turns steps into messages where every tool_result answers a tool_use of the assistant message
 * just before it (a result with no call is another helper's 400 and is not generated).
 */
export function stepsToMessages(steps: readonly Step[], idPrefix = 'toolu_'): MessageParam[] {
  const messages: MessageParam[] = [];
  let openCalls: string[] = [];
  let counter = 0;
  for (const s of steps) {
    if (s.kind === 'assistant') {
      const uses = s.calls.map((c) => ({ type: 'tool_use' as const, id: `${idPrefix}${counter++}`, name: c.name, input: c.input }));
      openCalls = uses.map((u) => u.id);
      if (uses.length === 0) messages.push({ role: 'assistant', content: s.content });
      else {
        const before = typeof s.content === 'string' ? (s.content === '' ? [] : [{ type: 'text' as const, text: s.content }]) : s.content;
        messages.push({ role: 'assistant', content: [...before, ...uses] as ContentBlock[] });
      }
      continue;
    }
    if (s.kind === 'results') {
      const results = openCalls.slice(0, Math.max(1, s.results.length)).map((id, i) => {
        const r = s.results[i] ?? { content: undefined };
        return {
          type: 'tool_result',
          tool_use_id: id,
          ...(r.content === undefined ? {} : { content: r.content }),
          ...(r.is_error === undefined ? {} : { is_error: r.is_error }),
        } as ContentBlock;
      });
      openCalls = [];
      const content = s.textFirst ? [...s.extra, ...results] : [...results, ...s.extra];
      if (content.length > 0) messages.push({ role: 'user', content });
      continue;
    }
    openCalls = [];
    messages.push({ role: s.kind, content: s.content });
  }
  return messages;
}

export const conversationSteps = (maxLength = 6): fc.Arbitrary<Step[]> => fc.array(step, { minLength: 1, maxLength });

const BILLING = 'x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli; cch=';

export const systemPromptArb: fc.Arbitrary<MessagesRequest['system']> = fc.option(
  fc.oneof(
    text(),
    fc.array(textBlock, { maxLength: 3 }),
    fc.tuple(fuzzText({ maxLength: 5, surrogates: false }), fc.array(textBlock, { maxLength: 2 })).map(([suffix, rest]) => [
      { type: 'text' as const, text: `${BILLING}${suffix};` },
      ...rest,
    ]),
  ),
  { nil: undefined },
);

const schemaArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    type: fc.constant('object'),
    properties: fc.dictionary(
      fuzzText({ maxLength: 6 }),
      fc.record({ type: fc.constantFrom('string', 'integer', 'number', 'boolean', 'array', 'object', 'null') }),
      { maxKeys: 3, noNullPrototype: true },
    ),
  }),
  fuzzObject(),
);

export const toolsArb: fc.Arbitrary<ToolDefinition[] | undefined> = fc.option(
  fc.uniqueArray(
    fc.record(
      {
        name: fuzzName([...TOOL_NAMES]),
        description: fuzzText(),
        input_schema: schemaArb,
      },
      { requiredKeys: ['name'] },
    ),
    { maxLength: 4, selector: (t) => t.name },
  ) as fc.Arbitrary<ToolDefinition[]>,
  { nil: undefined },
);

/** The request-level fields besides messages: everything the translator reads. */
export const requestOptionsArb = fc.record(
  {
    system: systemPromptArb,
    tools: toolsArb,
    tool_choice: fc.oneof(
      fc.record({ type: fc.constantFrom('auto' as const, 'any' as const), disable_parallel_tool_use: fc.boolean() }, { requiredKeys: ['type'] }),
      fc.record({ type: fc.constant('tool' as const), name: fuzzName([...TOOL_NAMES]) }),
      fc.constant({ type: 'none' as const }),
    ),
    stop_sequences: fc.array(fuzzText({ maxLength: 4 }), { maxLength: 3 }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    top_p: fc.double({ min: 0, max: 1, noNaN: true }),
    top_k: fc.integer({ min: 0, max: 200 }),
    stream: fc.boolean(),
    thinking: fc.oneof(
      fc.record({ type: fc.constant('enabled' as const), budget_tokens: fc.nat(40_000) }),
      fc.constant({ type: 'adaptive' as const }),
      fc.constant({ type: 'disabled' as const }),
    ),
    output_config: fc.record({
      format: fc.record({ type: fc.constantFrom('json_schema', 'text'), schema: schemaArb }, { requiredKeys: ['type'] }),
    }),
    metadata: fc.record({ user_id: fuzzText() }),
  },
  { requiredKeys: [] },
);

export function buildRequest(options: Record<string, unknown>, messages: MessageParam[], maxTokens = 1024): MessagesRequest {
  const request: Record<string, unknown> = { model: 'claude-sonnet-4-5', max_tokens: maxTokens, messages };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) request[key] = value;
  return request as MessagesRequest;
}

// --- OpenAI streams ------------------------------------------------------------------------------

/** Text a model may write where tool-call recovery looks: tags, bare JSON calls, fences, and their pieces. */
export const TOOLISH_PIECES = [
  '<tool_call>', '</tool_call>', '<tool_call>\n{"name": "Bash", "arguments": {"command": "ls"}}\n</tool_call>',
  '<function=Bash>', '<function=Nope>', '<parameter=command>\nls -la\n</parameter>\n', '</function>', '<parameter=',
  '{"name": "Bash", "arguments": {"command": "ls"}}', '{"name": "Read", "parameters": {"file_path": "/x"}}',
  '{"name": "Nope", "arguments": {}}', '[{"name": "Bash", "arguments": "{}"}]', '```json\n', '```', '{', '}', '"', ':', ',',
  '<', '\n', ' ', 'Hello', '😀',
];

export const toolishText: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOOLISH_PIECES) }, { weight: 1, arbitrary: fuzzText({ maxLength: 6 }) }), {
    maxLength: 6,
  })
  .map((parts) => parts.join(''));

/** One native tool call as the upstream streams it. */
export interface ScriptCall {
  id: string | undefined;
  name: string;
  /** The concatenated arguments: a JSON object's text, or whatever a model wrote. */
  args: string;
  cuts: number[];
  /** The name arrives only in the second delta (arguments first, as some servers do). */
  nameLate: boolean;
}

/** What an upstream reply is made of, before it is cut into chunks. */
export type ScriptPart =
  | { kind: 'text'; text: string; cuts: number[] }
  | { kind: 'reasoning'; text: string; cuts: number[]; field: 'reasoning' | 'reasoning_content' }
  | { kind: 'calls'; calls: ScriptCall[]; interleave: boolean; perChunk: number }
  | { kind: 'noise'; chunk: ChatCompletionChunk };

export interface StreamScript {
  parts: ScriptPart[];
  finish: ChatChunkChoice['finish_reason'] | 'none';
  usage: ChatUsage | undefined;
}

const argsArb = (valid: boolean): fc.Arbitrary<string> => {
  const object = fc
    .tuple(fuzzObject(3), fc.constantFrom(undefined, 1, '  '))
    .map(([o, indent]) => JSON.stringify(o, null, indent));
  // No arguments at all means {}: an empty or blank string.
  if (valid) return fc.oneof({ weight: 8, arbitrary: object }, { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n') });
  return fc.oneof({ weight: 4, arbitrary: object }, { weight: 1, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.oneof(fuzzText(), toolishText) });
};

const callArb = (valid: boolean): fc.Arbitrary<Omit<ScriptCall, 'id'> & { withId: boolean }> =>
  fc.record({
    withId: fc.boolean(),
    name: fc.constantFrom('Bash', 'Read', 'Unknown_tool'),
    args: argsArb(valid),
    cuts: cutPoints(5),
    nameLate: fc.boolean(),
  });

export const noiseChunk: fc.Arbitrary<ChatCompletionChunk> = fc.constantFrom<ChatCompletionChunk>(
  { choices: [] },
  { choices: [{ index: 0, delta: { role: 'assistant' } }] },
  { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
  { choices: [{ index: 0, delta: { content: null, reasoning: null, reasoning_content: '' } }] },
  { choices: [{ index: 0, delta: {}, finish_reason: null }] },
  { choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } } },
  { choices: [], timings: { cache_n: 7, prompt_n: 5, predicted_n: 2 } },
  { choices: [{ index: 0, delta: { tool_calls: [] } }] },
);

/**
 * A reply script. `validArgs` keeps every call's arguments a JSON object (for exact-input checks);
 * `toolish` makes the text look like text-written tool calls (for the recovery paths).
 */
export function streamScriptArb(options: { validArgs: boolean; toolish: boolean; maxParts?: number }): fc.Arbitrary<StreamScript> {
  const textArb = options.toolish ? fc.oneof(toolishText, fuzzText({ maxLength: 10 })) : fuzzText({ maxLength: 12 });
  const part: fc.Arbitrary<ScriptPart> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('text' as const), text: textArb, cuts: cutPoints(5) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('reasoning' as const),
        text: fuzzText({ maxLength: 10 }),
        cuts: cutPoints(3),
        field: fc.constantFrom('reasoning' as const, 'reasoning_content' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ calls: fc.array(callArb(options.validArgs), { minLength: 1, maxLength: 3 }), interleave: fc.boolean(), perChunk: fc.integer({ min: 1, max: 3 }) })
        .map(({ calls, interleave, perChunk }) => ({ kind: 'calls' as const, calls: calls.map((c) => ({ ...c, id: c.withId ? '' : undefined })), interleave, perChunk })),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('noise' as const), chunk: noiseChunk }) },
  );
  return fc
    .record({
      parts: fc.array(part, { maxLength: options.maxParts ?? 5 }),
      finish: fc.constantFrom<StreamScript['finish']>('stop', 'stop', 'tool_calls', 'length', 'content_filter', 'function_call', null, 'none'),
      usage: fc.option(fc.record({ prompt_tokens: fc.nat(5000), completion_tokens: fc.nat(500) }), { nil: undefined }),
    })
    .map((script) => numberCalls(script));
}

/** Gives every call its own upstream index and (when it has one) a unique id, across the whole reply. */
function numberCalls(script: StreamScript): StreamScript {
  let n = 0;
  const parts = script.parts.map((part) => {
    if (part.kind !== 'calls') return part;
    return { ...part, calls: part.calls.map((c) => ({ ...c, id: c.id === undefined ? undefined : `call_${n++}` })) };
  });
  return { ...script, parts };
}

/** The upstream index of each call, in script order (ids and indexes are numbered the same way). */
export function callIndexes(script: StreamScript): Map<ScriptCall, number> {
  const indexes = new Map<ScriptCall, number>();
  for (const part of script.parts) if (part.kind === 'calls') for (const call of part.calls) indexes.set(call, indexes.size);
  return indexes;
}

const chunkOf = (delta: ChatChunkChoice['delta']): ChatCompletionChunk => ({
  id: 'chatcmpl-fuzz',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: null }],
});

function callDeltas(call: ScriptCall, index: number): ChatToolCallDelta[] {
  const pieces = splitAt(call.args, call.cuts);
  const deltas: ChatToolCallDelta[] = pieces.map((arguments_) => ({ index, function: { arguments: arguments_ } }));
  const first = deltas[0] ?? { index, function: { arguments: '' } };
  if (call.id !== undefined) first.id = call.id;
  first.type = 'function';
  if (call.nameLate) {
    const second: ChatToolCallDelta = { index, function: { name: call.name } };
    deltas.splice(1, 0, second);
  } else {
    first.function = { name: call.name, ...first.function };
  }
  return deltas;
}

/** The chunks an upstream would send for `script`, in order. */
export function scriptChunks(script: StreamScript): ChatCompletionChunk[] {
  const chunks: ChatCompletionChunk[] = [];
  const indexes = callIndexes(script);
  for (const part of script.parts) {
    switch (part.kind) {
      case 'text':
        for (const piece of splitAt(part.text, part.cuts)) chunks.push(chunkOf({ content: piece }));
        break;
      case 'reasoning':
        for (const piece of splitAt(part.text, part.cuts)) chunks.push(chunkOf({ [part.field]: piece }));
        break;
      case 'noise':
        chunks.push(part.chunk);
        break;
      case 'calls': {
        const lists = part.calls.map((call) => callDeltas(call, indexes.get(call) ?? 0));
        const order = part.interleave ? roundRobin(lists) : lists.flat();
        for (let at = 0; at < order.length; at += part.perChunk) chunks.push(chunkOf({ tool_calls: order.slice(at, at + part.perChunk) }));
        break;
      }
    }
  }
  if (script.finish !== 'none') chunks.push({ ...chunkOf({}), choices: [{ index: 0, delta: {}, finish_reason: script.finish }] });
  if (script.usage !== undefined) chunks.push({ choices: [], usage: script.usage });
  return chunks;
}

function roundRobin<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i] as T);
  return out;
}
