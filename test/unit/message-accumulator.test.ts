import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message, StreamEvent } from '../../src/anthropic/types.js';
import { StreamErrorEventError, accumulateMessage } from '../../src/translate/message-accumulator.js';
import { FIXTURES_DIR } from '../support/fixtures.js';

const start: StreamEvent = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'm',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  },
};

const FIXTURE = join(FIXTURES_DIR, 'print-tool-turn/002-POST-v1_messages.response.txt');

/** The `data:` payloads of a recorded Anthropic SSE reply. */
function recordedEvents(path: string): StreamEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as StreamEvent);
}

describe('accumulateMessage', () => {
  it('folds a real Anthropic reply into the message the API would have returned', () => {
    const message = accumulateMessage(recordedEvents(FIXTURE));
    expect(message).toMatchObject({
      id: 'msg_01GOoMdt6IYKKzvJaUPmEgSB',
      model: 'claude-opus-4-8',
      content: [
        { type: 'text', text: "I'll list the files in the current directory." },
        { type: 'tool_use', id: 'toolu_01SgHfnrN7XnadNikDkaTEo5', name: 'Bash', input: { command: 'ls', description: 'List files' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
    });
    // message_delta carried only output_tokens: the rest comes from message_start.
    expect(message.usage).toMatchObject({ input_tokens: 18966, output_tokens: 23, cache_read_input_tokens: 0 });
  });

  it('builds thinking blocks with their signature, and merges usage from both ends', () => {
    const message = accumulateMessage([
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'a' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'b' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'ping' },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 40, cache_read_input_tokens: 60, output_tokens: 7 } },
      { type: 'message_stop' },
    ]);
    expect(message).toEqual<Message>({
      ...start.message,
      content: [{ type: 'thinking', thinking: 'ab', signature: 'sig' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 40, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 60 },
    });
  });

  it('gives a tool call with no or invalid input an empty object', () => {
    const tool = (index: number, json: string[]): StreamEvent[] => [
      { type: 'content_block_start', index, content_block: { type: 'tool_use', id: `t${index}`, name: 'X', input: {} } },
      ...json.map((partial_json): StreamEvent => ({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } })),
      { type: 'content_block_stop', index },
    ];
    const message = accumulateMessage([start, ...tool(0, []), ...tool(1, ['{"a":']), ...tool(2, ['[1]']), ...tool(3, ['{"b"', ':2}'])]);
    expect(message.content.map((b) => (b.type === 'tool_use' ? b.input : null))).toEqual([{}, {}, {}, { b: 2 }]);
  });

  it('orders blocks by index and does not share state with the events', () => {
    const events: StreamEvent[] = [
      start,
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'second' } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'first' } },
    ];
    const message = accumulateMessage(events);
    expect(message.content).toEqual([{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }]);
    message.usage.input_tokens = 1;
    expect(start.type === 'message_start' && start.message.usage.input_tokens).toBe(100);
  });

  it('throws on an error event and on a sequence without message_start', () => {
    expect(() => accumulateMessage([start, { type: 'error', error: { type: 'overloaded_error', message: 'busy' } }])).toThrow(
      StreamErrorEventError,
    );
    const thrown = ((): unknown => {
      try {
        accumulateMessage([{ type: 'error', error: { type: 'api_error', message: 'boom' } }]);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toMatchObject({ errorType: 'api_error', message: 'boom' });
    expect(() => accumulateMessage([{ type: 'message_stop' }])).toThrow(/message_start/);
  });
});
