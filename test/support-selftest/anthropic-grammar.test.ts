import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertAnthropicMessage, assertAnthropicStream } from '../support/anthropic-grammar.js';
import { parseSse } from '../support/sse.js';

/** The captures kept in the repository (test/fixtures/README.md). */
const FIXTURES = fileURLToPath(new URL('../fixtures/claude-code-2.1.197/', import.meta.url));

/** The fixture body after its `HTTP 200` status line. */
function fixtureBody(path: string): string {
  return readFileSync(path, 'utf8').replace(/^HTTP \d{3}[^\n]*\n\n?/, '');
}

function sseFixtures(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(FIXTURES)) {
    const full = join(FIXTURES, dir);
    for (const file of readdirSync(full)) {
      if (!file.endsWith('.response.txt')) continue;
      if (fixtureBody(join(full, file)).startsWith('event:')) out.push(join(dir, file));
    }
  }
  return out.sort();
}

type Ev = Record<string, unknown> & { type: string };

function toSse(events: Ev[]): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

const start: Ev = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'local',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  },
};
const textStart = (index: number): Ev => ({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
const textDelta = (index: number, text: string): Ev => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
const toolStart = (index: number): Ev => ({
  type: 'content_block_start',
  index,
  content_block: { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} },
});
const jsonDelta = (index: number, partial_json: string): Ev => ({
  type: 'content_block_delta',
  index,
  delta: { type: 'input_json_delta', partial_json },
});
const stop = (index: number): Ev => ({ type: 'content_block_stop', index });
const msgDelta = (stop_reason: string, output_tokens = 5): Ev => ({
  type: 'message_delta',
  delta: { stop_reason, stop_sequence: null },
  usage: { output_tokens },
});
const msgStop: Ev = { type: 'message_stop' };
const ping: Ev = { type: 'ping' };

const validText: Ev[] = [start, textStart(0), ping, textDelta(0, 'Hi'), stop(0), msgDelta('end_turn'), msgStop];
const validTool: Ev[] = [
  start,
  textStart(0),
  textDelta(0, 'Running'),
  stop(0),
  toolStart(1),
  jsonDelta(1, ''),
  jsonDelta(1, '{"command":'),
  jsonDelta(1, '"ls"}'),
  stop(1),
  msgDelta('tool_use'),
  msgStop,
];

describe('assertAnthropicStream on real Anthropic bytes (Claude Code 2.1.197 fixtures)', () => {
  it('finds the fixtures directory', () => {
    expect(existsSync(FIXTURES), `fixtures expected at ${FIXTURES}`).toBe(true);
    expect(sseFixtures().length).toBeGreaterThanOrEqual(7);
  });

  for (const name of existsSync(FIXTURES) ? sseFixtures() : []) {
    it(`accepts ${name}`, () => {
      const summary = assertAnthropicStream(parseSse(fixtureBody(join(FIXTURES, name))));
      expect(summary.eventTypes.at(-1)).toBe('message_stop');
      expect(summary.stopReason === 'end_turn' || summary.stopReason === 'tool_use').toBe(true);
    });
  }

  it('rebuilds the tool call of the print-tool-turn fixture', () => {
    const summary = assertAnthropicStream(parseSse(fixtureBody(join(FIXTURES, 'print-tool-turn/002-POST-v1_messages.response.txt'))));
    expect(summary.stopReason).toBe('tool_use');
    expect(summary.content).toEqual([
      { type: 'text', text: "I'll list the files in the current directory." },
      { type: 'tool_use', id: 'toolu_01SgHfnrN7XnadNikDkaTEo5', name: 'Bash', input: { command: 'ls', description: 'List files' } },
    ]);
    expect(summary.usage.output_tokens).toBe(23);
    expect(summary.usage.input_tokens).toBe(18966);
  });
});

describe('assertAnthropicStream accepts', () => {
  it('a text turn and a tool turn', () => {
    expect(assertAnthropicStream(parseSse(toSse(validText))).content).toEqual([{ type: 'text', text: 'Hi' }]);
    expect(assertAnthropicStream(parseSse(toSse(validTool))).content[1]).toEqual({
      type: 'tool_use',
      id: 'toolu_1',
      name: 'Bash',
      input: { command: 'ls' },
    });
  });

  it('a thinking block with a signature, and a tool call with no input', () => {
    const events: Ev[] = [
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      stop(0),
      toolStart(1),
      stop(1),
      msgDelta('tool_use'),
      msgStop,
    ];
    expect(assertAnthropicStream(parseSse(toSse(events))).content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: 'sig' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} },
    ]);
  });

  it('ping before message_start, and an error event ending the stream early', () => {
    const events: Ev[] = [ping, start, textStart(0), textDelta(0, 'par'), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }];
    const summary = assertAnthropicStream(parseSse(toSse(events)));
    expect(summary.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
  });

  it('an error event alone', () => {
    expect(() => assertAnthropicStream(parseSse(toSse([{ type: 'error', error: { type: 'api_error', message: 'x' } }])))).not.toThrow();
  });
});

describe('assertAnthropicStream rejects', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['no event: line', `data: ${JSON.stringify(start)}\n\n`, /frame 0: missing "event:" line/],
    [
      'event name differing from data.type',
      toSse(validText).replace('event: content_block_delta', 'event: content_block_start'),
      /frame 3 \(content_block_start\): event name "content_block_start" does not match data.type "content_block_delta"/,
    ],
    ['[DONE] after message_stop', `${toSse(validText)}data: [DONE]\n\n`, /frame 7: data: \[DONE\] is OpenAI framing/],
    ['data that is not JSON', toSse(validText).replace('data: {"type":"ping"}', 'data: {"type":"ping"'), /frame 2 \(ping\): data is not JSON/],
    ['an unknown event type', toSse([start, { type: 'message' }, ...validText.slice(1)]), /frame 1 \(message\): "message" is not an Anthropic stream event type/],
    ['a block before message_start', toSse(validText.slice(1)), /frame 0 \(content_block_start\): content_block_start before message_start/],
    ['a second message_start', toSse([start, ...validText]), /frame 1 \(message_start\): second message_start/],
    ['message_start with content', toSse([{ ...start, message: { ...(start.message as object), content: [{ type: 'text', text: '' }] } }, ...validText.slice(1)]), /frame 0 \(message_start\): invalid message_start: message.content/],
    [
      'message_start usage without output_tokens',
      toSse([{ ...start, message: { ...(start.message as object), usage: { input_tokens: 3 } } }, ...validText.slice(1)]),
      /frame 0 \(message_start\): invalid message_start: message.usage.output_tokens/,
    ],
    ['a block index out of order', toSse([start, textStart(1), stop(1), msgDelta('end_turn'), msgStop]), /frame 1 \(content_block_start\): index 1, expected 0/],
    ['two blocks open at once', toSse([start, textStart(0), textStart(1), stop(1), stop(0), msgDelta('end_turn'), msgStop]), /frame 2 \(content_block_start\): block 1 started while block 0 is still open/],
    ['a delta for another index', toSse([start, textStart(0), textDelta(1, 'x'), stop(0), msgDelta('end_turn'), msgStop]), /frame 2 \(content_block_delta\): delta for index 1 but the open block is 0/],
    ['a delta after the block stopped', toSse([start, textStart(0), stop(0), textDelta(0, 'x'), msgDelta('end_turn'), msgStop]), /frame 3 \(content_block_delta\): delta for index 0 but no block is open/],
    ['input_json_delta in a text block', toSse([start, textStart(0), jsonDelta(0, '{}'), stop(0), msgDelta('end_turn'), msgStop]), /frame 2 \(content_block_delta\): input_json_delta inside a text block/],
    ['text_delta in a tool_use block', toSse([start, toolStart(0), textDelta(0, 'x'), stop(0), msgDelta('tool_use'), msgStop]), /text_delta inside a tool_use block/],
    ['tool input that is not JSON', toSse([start, toolStart(0), jsonDelta(0, '{"command":'), stop(0), msgDelta('tool_use'), msgStop]), /frame 3 \(content_block_stop\): tool_use block 0 partial_json does not parse as JSON/],
    ['tool input that is not an object', toSse([start, toolStart(0), jsonDelta(0, '["ls"]'), stop(0), msgDelta('tool_use'), msgStop]), /tool_use block 0 input is not a JSON object/],
    ['tool_use start with non-empty input', toSse([start, { ...toolStart(0), content_block: { type: 'tool_use', id: 't', name: 'Bash', input: { a: 1 } } }, stop(0), msgDelta('tool_use'), msgStop]), /frame 1 \(content_block_start\): invalid content_block_start: content_block.input/],
    ['message_delta while a block is open', toSse([start, textStart(0), msgDelta('end_turn'), stop(0), msgStop]), /frame 2 \(message_delta\): message_delta while block 0 is still open/],
    ['a stop_reason Anthropic does not have', toSse([start, textStart(0), stop(0), msgDelta('stop'), msgStop]), /frame 3 \(message_delta\): invalid message_delta: delta.stop_reason/],
    ['stop_reason tool_use without a tool block', toSse([start, textStart(0), stop(0), msgDelta('tool_use'), msgStop]), /stop_reason tool_use but the message has no tool_use block/],
    ['two message_deltas', toSse([start, msgDelta('end_turn'), msgDelta('end_turn'), msgStop]), /frame 2 \(message_delta\): second message_delta/],
    ['message_stop without message_delta', toSse([start, textStart(0), stop(0), msgStop]), /frame 3 \(message_stop\): message_stop without a message_delta/],
    ['a block after message_delta', toSse([start, msgDelta('end_turn'), textStart(0), stop(0), msgStop]), /frame 2 \(content_block_start\): content_block_start after message_delta/],
    ['a ping after message_stop', toSse([...validText, ping]), /frame 7 \(ping\): frame after message_stop/],
    ['events after an error', toSse([start, { type: 'error', error: { type: 'api_error', message: 'x' } }, msgStop]), /frame 2 \(message_stop\): frame after error/],
    ['an error type Anthropic does not have', toSse([start, { type: 'error', error: { type: 'timeout', message: 'x' } }]), /invalid error: error.type/],
    ['a stream cut before message_stop', toSse(validText.slice(0, 4)), /stream ended after 4 frames without message_stop or error \(block 0 still open\)/],
    ['an empty stream', '', /stream has no events/],
    ['usage output_tokens that is not a number', toSse([start, msgDelta('end_turn', Number.NaN), msgStop]), /invalid message_delta: usage.output_tokens/],
  ];

  for (const [name, sse, message] of cases) {
    it(name, () => {
      expect(() => assertAnthropicStream(parseSse(sse))).toThrow(message);
    });
  }

  it('a frame whose last blank line never came (not dispatched, so the stream is cut)', () => {
    const text = toSse(validText).replace(/\n\n$/, '\n');
    expect(() => assertAnthropicStream(parseSse(text))).toThrow(/without message_stop/);
  });
});

describe('assertAnthropicMessage', () => {
  const message = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'local',
    content: [
      { type: 'text', text: 'Listing.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };

  it('accepts a complete message', () => {
    expect(() => assertAnthropicMessage(message)).not.toThrow();
  });

  it.each<[string, unknown, RegExp]>([
    ['SSE text instead of JSON', 'event: message_start', /Anthropic message: \(root\)/],
    ['a null stop_reason', { ...message, stop_reason: null }, /stop_reason/],
    ['missing usage', { ...message, usage: undefined }, /usage/],
    ['a tool_use input string', { ...message, content: [{ type: 'tool_use', id: 't', name: 'Bash', input: '{}' }] }, /content.0.input/],
    ['stop_reason tool_use without a tool block', { ...message, content: [{ type: 'text', text: 'x' }] }, /no tool_use block/],
    ['a role other than assistant', { ...message, role: 'user' }, /role/],
  ])('rejects %s', (_name, json, pattern) => {
    expect(() => assertAnthropicMessage(json)).toThrow(pattern);
  });
});
