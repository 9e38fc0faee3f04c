import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message, ToolDefinition } from '../../src/anthropic/types.js';
import type { ChatCompletionChunk } from '../../src/openai/types.js';
import { BareJsonToolCalls, MAX_HELD_CHARS } from '../../src/translate/bare-json-tool-calls.js';
import { accumulateMessage } from '../../src/translate/message-accumulator.js';
import { StreamTranslator, completionToChunks } from '../../src/translate/openai-stream-to-anthropic.js';
import { TextToolCallParser, type TextToolItem } from '../../src/translate/text-tool-calls.js';
import { parsePieces, splits } from '../support/text-pieces.js';

const tools: ToolDefinition[] = [
  { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
  {
    name: 'Bash',
    input_schema: { type: 'object', properties: { command: { type: 'string' }, timeout: { type: 'integer' } } },
  },
  // No properties: nothing to coerce, so arbitrary arguments must come through exactly.
  { name: 'Anything', input_schema: { type: 'object' } },
];
const toolNames = tools.map((tool) => tool.name);

// --- helpers ---------------------------------------------------------------------------------------

const parse = (pieces: readonly string[]): TextToolItem[] => parsePieces(tools, pieces);

function piecesAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...points, text.length];
  return bounds.slice(1).map((end, i) => text.slice(bounds[i], end));
}

function expectAllSplits(text: string, expected: TextToolItem[]): void {
  for (const pieces of splits(text)) expect(parse(pieces), JSON.stringify(pieces)).toEqual(expected);
}

const chunk = (content: string): ChatCompletionChunk => ({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const stopChunk: ChatCompletionChunk = { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };

function translate(pieces: readonly string[], withTools = true): Message {
  const translator = new StreamTranslator({ messageId: 'msg_b', model: 'm', inputTokens: 1, ...(withTools ? { tools } : {}) });
  const events = [...translator.start(), ...pieces.flatMap((p) => translator.push(chunk(p))), ...translator.push(stopChunk), ...translator.finish()];
  return accumulateMessage(events);
}

function translateCompletion(content: string, withTools = true): Message {
  const chunks = completionToChunks({
    id: 'c',
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });
  const translator = new StreamTranslator({ messageId: 'msg_b', model: 'm', inputTokens: 1, ...(withTools ? { tools } : {}) });
  return accumulateMessage([...translator.start(), ...chunks.flatMap((c) => translator.push(c)), ...translator.finish()]);
}

const tool = (name: string, input: Record<string, unknown>): TextToolItem => ({ kind: 'tool', name, input });
const weather = '{"name": "get_weather", "arguments": {"city": "Paris"}}';
const paris = tool('get_weather', { city: 'Paris' });

// --- recovered -------------------------------------------------------------------------------------

describe('bare JSON calls: recovered', () => {
  const cases: Array<[string, string, TextToolItem[]]> = [
    ['a bare call', weather, [paris]],
    ['a ```json fenced call', '```json\n' + weather + '\n```', [paris]],
    ['a plain ``` fenced call', '```\n' + weather + '\n```\n', [paris]],
    ['a fence with an uppercase language and no closing fence', '```JSON\n' + weather + '\n', [paris]],
    ['two calls on two lines', `${weather}\n{"name": "Bash", "arguments": {"command": "ls"}}`, [paris, tool('Bash', { command: 'ls' })]],
    ['two calls back to back', `${weather}{"name":"get_weather","arguments":{"city":"Oslo"}}`, [paris, tool('get_weather', { city: 'Oslo' })]],
    ['two calls in one fence', '```json\n' + `${weather}\n${weather}` + '\n```', [paris, paris]],
    ['an array of calls', `[${weather}, {"name": "Bash", "parameters": {"command": "pwd"}}]`, [paris, tool('Bash', { command: 'pwd' })]],
    ['the Llama "parameters" key', '{"name": "get_weather", "parameters": {"city": "Paris"}}', [paris]],
    ['arguments as a JSON string', '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}', [paris]],
    ['arguments as an empty string, or none', '{"name":"Bash","arguments":""} {"name":"Bash"}', [tool('Bash', {}), tool('Bash', {})]],
    ['a "type": "function" key', '{"type": "function", "name": "get_weather", "parameters": {"city": "Paris"}}', [paris]],
    ['leading and trailing whitespace', `\n\n  \t${weather}  \n\n`, [paris]],
    ['whitespace around a fence', '\n ```json\n' + weather + '\n```  \n', [paris]],
    ['pretty-printed JSON with braces and quotes in strings', JSON.stringify({ name: 'Bash', arguments: { command: 'echo "}{\\"" `x`' } }, null, 2), [tool('Bash', { command: 'echo "}{\\"" `x`' })]],
  ];

  for (const [title, text, expected] of cases) {
    it(`recovers ${title}, at every split point`, () => {
      expectAllSplits(text, expected);
    });
  }

  it('keeps JSON types as written: no schema coercion of string values', () => {
    expect(parse(['{"name":"Bash","arguments":{"command":"\\nls\\n","timeout":"5"}}'])).toEqual([
      tool('Bash', { command: '\nls\n', timeout: '5' }),
    ]);
  });
});

// --- not recovered ---------------------------------------------------------------------------------

describe('bare JSON calls: left as text', () => {
  const cases: Array<[string, string]> = [
    ['prose before the JSON', `Here is the JSON: ${weather}`],
    ['prose after the JSON', `${weather}\nThis asks for the weather.`],
    ['prose after a fence', '```json\n' + weather + '\n```\nDone.'],
    ['an unknown tool name', '{"name": "delete_everything", "arguments": {}}'],
    ['a name that is not a string', '{"name": 5, "arguments": {}}'],
    ['truncated JSON', '{"name": "get_weather", "arguments": {"city": "Par'],
    ['truncated JSON in a fence', '```json\n{"name": "get_weather", "arguments": {"ci'],
    ['a JSON object without "name"', '{"arguments": {"city": "Paris"}}'],
    ['a JSON object with other keys', '{"name": "get_weather", "arguments": {}, "reason": "x"}'],
    ['a package.json-like object', '{"name": "my-app", "version": "1.0.0"}'],
    ['a JSON array of non-calls', '[1, 2, {"name": "get_weather"}]'],
    ['an array of objects that are not calls', '[{"id": 1}, {"id": 2}]'],
    ['an empty array', '[]'],
    ['an empty array before a call', `[] ${weather}`],
    ['a fence with another language', '```python\n' + weather + '\n```'],
    ['a fence with a longer language starting like json', '```jsonl\n' + weather + '\n```'],
    ['inline code', '`{"name": "get_weather"}`'],
    ['a call and another fence', '```json\n' + weather + '\n```\n```json\n' + weather + '\n```'],
    ['arguments that are not an object', '{"name": "get_weather", "arguments": [1]}'],
    ['null arguments', '{"name": "get_weather", "arguments": null}'],
    ['arguments as a string that is not an object', '{"name": "get_weather", "arguments": "Paris"}'],
    ['both argument spellings', '{"name": "get_weather", "arguments": {}, "parameters": {}}'],
    ['a trailing comma between calls', `${weather},`],
    ['invalid JSON that looks complete', '{"name": "get_weather", "arguments": {"city": Paris}}'],
    ['a call and a stray bracket', `${weather}]`],
  ];

  for (const [title, text] of cases) {
    it(`keeps ${title} as text, at every split point`, () => {
      expectAllSplits(text, [{ kind: 'text', text }]);
    });
  }

  it('leaves everything alone when the request has no tools', () => {
    for (const message of [translate([weather], false), translateCompletion(weather, false)]) {
      expect(message.content).toEqual([{ type: 'text', text: weather }]);
      expect(message.stop_reason).toBe('end_turn');
    }
  });
});

// --- holding and releasing -------------------------------------------------------------------------

describe('bare JSON calls: text streams as early as possible', () => {
  function stepwise(pieces: readonly string[]): TextToolItem[][] {
    const parser = new TextToolCallParser(tools);
    return pieces.map((piece) => parser.push(piece));
  }

  it('does not hold prose, even prose that contains JSON', () => {
    expect(stepwise(['Here: {"name": '])).toEqual([[{ kind: 'text', text: 'Here: {"name": ' }]]);
  });

  it('releases an object as soon as a key is not a call key', () => {
    expect(stepwise(['{"tit', 'le"', ': 1'])).toEqual([[], [{ kind: 'text', text: '{"title"' }], [{ kind: 'text', text: ': 1' }]]);
  });

  it('releases an object as soon as its name is not a tool', () => {
    expect(stepwise(['{"name": "my-a', 'pp"'])).toEqual([[], [{ kind: 'text', text: '{"name": "my-app"' }]]);
  });

  it('releases a fence as soon as its language is not json', () => {
    expect(stepwise(['```', 'py'])).toEqual([[], [{ kind: 'text', text: '```py' }]]);
    expect(stepwise(['`code`'])).toEqual([[{ kind: 'text', text: '`code`' }]]);
  });

  it('releases a complete call as soon as text follows it', () => {
    expect(stepwise([weather, '\n', 'So'])).toEqual([[], [], [{ kind: 'text', text: `${weather}\nSo` }]]);
  });

  it('holds leading whitespace with the call, and gives it back when prose follows', () => {
    expect(parse(['\n  ', weather])).toEqual([paris]);
    expect(stepwise(['\n ', 'Hi'])).toEqual([[], [{ kind: 'text', text: '\n Hi' }]]);
  });

  it('still recovers tagged calls after a released object', () => {
    const hermes = '<tool_call>{"name": "Bash", "arguments": {"command": "ls"}}</tool_call>';
    expect(parse(['{"a": 1}\n', hermes])).toEqual([{ kind: 'text', text: '{"a": 1}\n' }, tool('Bash', { command: 'ls' })]);
    expect(parse(['```\n', hermes, '\n```'])).toEqual([
      { kind: 'text', text: '```\n' },
      tool('Bash', { command: 'ls' }),
      { kind: 'text', text: '\n```' },
    ]);
  });

  it('gives up holding past the size cap, as text', () => {
    const gate = new BareJsonToolCalls(new Set(toolNames));
    const head = '{"name": "Bash", "arguments": {"command": "';
    expect(gate.push(head)).toEqual({ holding: true });
    const body = 'x'.repeat(MAX_HELD_CHARS);
    expect(gate.push(body)).toEqual({ holding: false, text: head + body });
    expect(gate.push('"}}')).toEqual({ holding: false, text: '"}}' });
  });

  it('recovers a call that is large but under the cap', () => {
    const command = 'y'.repeat(100_000);
    expect(parse([`{"name": "Bash", "arguments": {"command": "${command}"}}`])).toEqual([tool('Bash', { command })]);
  });

  it('says a reply loops once it holds the same call three times in a row, and ends it with that call once', () => {
    const ls = '{"name": "Bash", "arguments": {"command": "ls"}}';
    const parser = new TextToolCallParser(tools);
    parser.push(`${ls}\n${ls}\n`);
    expect(parser.looping).toBe(false);
    parser.push(`{"name": "Bash", "arguments": {"command": "ls -l"}}\n${ls}\n${ls}\n`);
    expect(parser.looping).toBe(false);
    parser.push(`${ls}\n{"name": "Ba`);
    expect(parser.looping).toBe(true);
    // The unfinished fourth copy is cut off with the rest; consecutive copies collapse into one.
    const gate = new BareJsonToolCalls(new Set(toolNames));
    gate.push(`${ls}\n${ls}\n${ls}\n`);
    expect(gate.looping).toBe(true);
    expect(gate.end()).toEqual({ calls: [{ name: 'Bash', input: { command: 'ls' } }] });
  });

  it('keeps every call of a reply that does not loop, the same one twice included', () => {
    const a = '{"name": "Bash", "arguments": {"command": "ls"}}';
    const b = '{"name": "Bash", "arguments": {"command": "pwd"}}';
    expect(parse([`${a}\n${b}\n${a}`])).toEqual([tool('Bash', { command: 'ls' }), tool('Bash', { command: 'pwd' }), tool('Bash', { command: 'ls' })]);
    expect(parse([`${a}\n${a}`])).toEqual([tool('Bash', { command: 'ls' }), tool('Bash', { command: 'ls' })]);
  });

  it('stays ready for the reply when the parser is flushed on whitespace alone (reasoning came between)', () => {
    const parser = new TextToolCallParser(tools);
    expect(parser.push('\n')).toEqual([]);
    expect(parser.end()).toEqual([{ kind: 'text', text: '\n' }]);
    expect([...parser.push(weather), ...parser.end()]).toEqual([paris]);
    expect([...parser.push(weather), ...parser.end()]).toEqual([{ kind: 'text', text: weather }]);
  });
});

// --- end to end through StreamTranslator -----------------------------------------------------------

describe('bare JSON calls: StreamTranslator', () => {
  const recovered: Array<[string, Array<{ name: string; input: Record<string, unknown> }>]> = [
    [weather, [{ name: 'get_weather', input: { city: 'Paris' } }]],
    ['```json\n' + weather + '\n```', [{ name: 'get_weather', input: { city: 'Paris' } }]],
    [
      `\n${weather}\n{"name": "Bash", "parameters": {"command": "ls"}}\n`,
      [
        { name: 'get_weather', input: { city: 'Paris' } },
        { name: 'Bash', input: { command: 'ls' } },
      ],
    ],
  ];

  it('turns a reply of bare calls into tool_use blocks with ids, in any chunking and without streaming', () => {
    for (const [text, calls] of recovered) {
      for (const message of [...splits(text).map((pieces) => translate(pieces)), translateCompletion(text)]) {
        expect(message.content.map((b) => (b.type === 'tool_use' ? { name: b.name, input: b.input } : b))).toEqual(calls);
        for (const block of message.content) expect(block).toMatchObject({ type: 'tool_use', id: expect.stringMatching(/^toolu_/) });
        expect(message.stop_reason).toBe('tool_use');
      }
    }
  });

  it('keeps prose with JSON as one text block and answers end_turn, in any chunking and without streaming', () => {
    for (const text of [`Here is the JSON: ${weather}`, `${weather} done`, '{"name": "nope"}', '```python\n' + weather + '\n```', weather.slice(0, -1)]) {
      for (const message of [...splits(text).map((pieces) => translate(pieces)), translateCompletion(text)]) {
        expect(message.content).toEqual([{ type: 'text', text }]);
        expect(message.stop_reason).toBe('end_turn');
      }
    }
  });

  it('recovers a bare call that follows reasoning', () => {
    const translator = new StreamTranslator({ messageId: 'msg_b', model: 'm', inputTokens: 1, tools });
    const events = [
      ...translator.start(),
      ...translator.push({ choices: [{ index: 0, delta: { reasoning_content: 'Weather, so a call.' }, finish_reason: null }] }),
      ...translator.push(chunk(weather)),
      ...translator.push(stopChunk),
      ...translator.finish(),
    ];
    const message = accumulateMessage(events);
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect(message.content[1]).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(message.stop_reason).toBe('tool_use');
  });
});

// --- properties ------------------------------------------------------------------------------------

const cuts = fc.array(fc.nat(), { maxLength: 12 });
const whitespace = fc.string({ unit: fc.constantFrom(' ', '\n', '\t', '\r'), maxLength: 4 });

/** Pieces of text that look like JSON, fences and calls, but never name a tool of this request. */
const soupPiece = fc.oneof(
  fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '`', '```', '```json\n', '```python\n', ' ', '\n', 'json'),
  fc.constantFrom('"name"', '"arguments"', '"parameters"', '"type"', '"Nope"', '"function"', 'Here is the JSON: ', '1', 'null'),
  fc.constantFrom('{"name": "Nope", "arguments": {}}', '{"arguments": {"city": "x"}}', '[{"id": 1}]', 'Paris'),
  fc.string({ maxLength: 6 }).filter((s) => !s.includes('<')),
);

const callArbitrary = fc.record({
  name: fc.constantFrom(...toolNames),
  input: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  key: fc.constantFrom('arguments', 'parameters'),
  asString: fc.boolean(),
  indent: fc.constantFrom(0, 2),
});

interface CallSpec {
  name: string;
  input: Record<string, unknown>;
  key: string;
  asString: boolean;
  indent: number;
}

function serialise(call: CallSpec): string {
  const args = call.asString ? JSON.stringify(call.input) : call.input;
  return JSON.stringify({ name: call.name, [call.key]: args }, null, call.indent);
}

/** The arguments as they come back from JSON: what "JSON-serializable" means (-0 becomes 0, and so on). */
const roundTrip = (input: Record<string, unknown>): unknown => JSON.parse(JSON.stringify(input)) as unknown;

describe('bare JSON calls: properties', () => {
  it('(1) text that is not solely calls comes out exactly, however it is chunked', () => {
    const notSolelyCalls = fc.oneof(
      fc
        .array(soupPiece, { maxLength: 20 })
        .map((parts) => parts.join(''))
        .filter((text) => !toolNames.some((name) => text.includes(name))),
      fc.tuple(callArbitrary, fc.nat()).map(([call, cut]) => {
        const json = serialise(call);
        return json.slice(0, cut % json.length); // truncated: an object's every strict prefix is unfinished
      }),
      fc.tuple(callArbitrary, whitespace, fc.string({ minLength: 1, maxLength: 10 })).filter(([, , tail]) => /^[^\s{[,`]/.test(tail) && !tail.includes('<')).map(([call, ws, tail]) => serialise(call) + ws + tail),
    );
    fc.assert(
      fc.property(notSolelyCalls, cuts, (text, at) => {
        const items = parse(piecesAt(text, at));
        expect(items.every((item) => item.kind === 'text')).toBe(true);
        expect(items.map((item) => (item.kind === 'text' ? item.text : '')).join('')).toBe(text);
      }),
      { numRuns: 1000, seed: 20261202 },
    );
  });

  it('(2) any valid call of a known tool, fenced or not, in any whitespace and chunking, comes out exactly', () => {
    const fence = fc.constantFrom(['', ''], ['```json\n', '\n```'], ['```\n', '\n```'], ['```JSON\n', '```']);
    fc.assert(
      fc.property(callArbitrary, fence, whitespace, whitespace, whitespace, whitespace, cuts, (call, [open, close], w1, w2, w3, w4, at) => {
        const text = w1 + open + w2 + serialise(call) + w3 + close + (open === '' ? '' : w4);
        expect(parse(piecesAt(text, at))).toEqual([{ kind: 'tool', name: call.name, input: roundTrip(call.input) }]);
      }),
      { numRuns: 1000, seed: 20261203 },
    );
  });

  it('(3) a valid call after non-whitespace prose is never recovered', () => {
    const prose = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /\S/.test(s) && !/^\s*[{[`]/.test(s) && !s.includes('<'));
    fc.assert(
      fc.property(prose, callArbitrary, whitespace, cuts, (before, call, ws, at) => {
        const text = before + ws + serialise(call);
        const items = parse(piecesAt(text, at));
        expect(items).toEqual([{ kind: 'text', text }]);
      }),
      { numRuns: 1000, seed: 20261204 },
    );
  });
});
