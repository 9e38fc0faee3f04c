/**
 * Found by fuzzing (test/fuzz/openai-stream.fuzz.test.ts): native tool calls whose Anthropic
 * stream did not parse. Each case is the shrunk counterexample, checked with the project's grammar.
 */
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/anthropic/types.js';
import type { ChatCompletionChunk, ChatToolCallDelta } from '../../src/openai/types.js';
import { StreamTranslator } from '../../src/translate/openai-stream-to-anthropic.js';
import { assertAnthropicStream } from '../support/anthropic-grammar.js';

const calls = (...deltas: ChatToolCallDelta[]): ChatCompletionChunk => ({ choices: [{ index: 0, delta: { tool_calls: deltas } }] });
const finish: ChatCompletionChunk = { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] };

function translate(chunks: readonly ChatCompletionChunk[]): StreamEvent[] {
  const translator = new StreamTranslator({ messageId: 'msg_1', model: 'claude', inputTokens: 1 });
  return [...translator.start(), ...chunks.flatMap((c) => translator.push(c)), ...translator.finish()];
}

const summary = (events: StreamEvent[]) => assertAnthropicStream(events.map((e) => ({ event: e.type, data: JSON.stringify(e) })));

describe('blank tool-call arguments (found by fuzzing)', () => {
  it.each(['\n', ' ', ' \n\t'])('arguments %j mean no arguments: the input is {} and its JSON parses', (blank) => {
    const events = translate([calls({ index: 0, id: 'call_1', type: 'function', function: { name: 'Bash', arguments: blank } }), finish]);
    expect(summary(events).content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'Bash', input: {} }]);
  });

  it('blank pieces before the real arguments are harmless', () => {
    const events = translate([
      calls({ index: 0, id: 'call_1', function: { name: 'Bash', arguments: ' ' } }),
      calls({ index: 0, function: { arguments: '{"command":' } }),
      calls({ index: 0, function: { arguments: ' "ls"}' } }),
      finish,
    ]);
    expect(summary(events).content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'Bash', input: { command: 'ls' } }]);
  });
});

describe('parallel calls streamed interleaved by index (found by fuzzing)', () => {
  it('every call keeps all its arguments: a later call waits whole until the open one is done', () => {
    const events = translate([
      calls({ index: 0, id: 'call_a', type: 'function', function: { name: 'Bash', arguments: '{"command":' } }),
      calls({ index: 1, id: 'call_b', type: 'function', function: { name: 'Read', arguments: '{"file_path":' } }),
      calls({ index: 0, function: { arguments: ' "ls"}' } }, { index: 1, function: { arguments: ' "/x"}' } }),
      finish,
    ]);
    expect(summary(events).content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'Bash', input: { command: 'ls' } },
      { type: 'tool_use', id: 'call_b', name: 'Read', input: { file_path: '/x' } },
    ]);
  });

  it('the shrunk case: names arriving after the arguments, round-robin', () => {
    const events = translate([
      calls({ index: 0, type: 'function', function: { arguments: '{' } }),
      calls({ index: 1, type: 'function', function: { arguments: '' } }),
      calls({ index: 0, function: { name: 'Bash' } }),
      calls({ index: 1, function: { name: 'Bash' } }),
      calls({ index: 0, function: { arguments: '}' } }),
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ]);
    const content = summary(events).content;
    expect(content.map((b) => (b.type === 'tool_use' ? [b.name, b.input] : b.type))).toEqual([
      ['Bash', {}],
      ['Bash', {}],
    ]);
  });

  it('a waiting call goes out before text or reasoning that follows it', () => {
    const events = translate([
      calls({ index: 0, id: 'call_a', function: { name: 'Bash', arguments: '{}' } }, { index: 1, id: 'call_b', function: { name: 'Read', arguments: '{}' } }),
      { choices: [{ index: 0, delta: { content: 'done' } }] },
      finish,
    ]);
    expect(summary(events).content.map((b) => (b.type === 'tool_use' ? b.id : b.type))).toEqual(['call_a', 'call_b', 'text']);
  });
});
