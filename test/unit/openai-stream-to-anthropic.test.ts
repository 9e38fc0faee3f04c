import { describe, expect, it } from 'vitest';
import type { ContentBlockStart, Delta, StreamEvent, ToolDefinition, Usage } from '../../src/anthropic/types.js';
import type { ChatCompletion, ChatCompletionChunk, ChatChunkChoice } from '../../src/openai/types.js';
import {
  PLACEHOLDER_SIGNATURE,
  StreamTranslator,
  completionToChunks,
  type StreamTranslatorOptions,
} from '../../src/translate/openai-stream-to-anthropic.js';
import { accumulateMessage } from '../../src/translate/message-accumulator.js';

const base: StreamTranslatorOptions = { messageId: 'msg_test', model: 'claude-opus-4-8', inputTokens: 1234 };
const tools: ToolDefinition[] = [
  {
    name: 'Bash',
    input_schema: { type: 'object', properties: { command: { type: 'string' }, timeout: { type: 'integer' } } },
  },
];

// --- builders for upstream chunks and expected events -------------------------------------------

type Delta0 = ChatChunkChoice['delta'];
function chunk(delta: Delta0, finish: ChatChunkChoice['finish_reason'] = null, extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], ...extra };
}
function usageChunk(prompt: number, completion: number, cached?: number): ChatCompletionChunk {
  const usage: ChatCompletionChunk['usage'] = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage };
}

const messageStart: StreamEvent = {
  type: 'message_start',
  message: {
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: 'claude-opus-4-8',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 1234, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  },
};
const blockStart = (index: number, content_block: ContentBlockStart): StreamEvent => ({ type: 'content_block_start', index, content_block });
const textStart = (index: number): StreamEvent => blockStart(index, { type: 'text', text: '' });
const thinkingStart = (index: number): StreamEvent => blockStart(index, { type: 'thinking', thinking: '', signature: '' });
const toolStart = (index: number, id: string, name: string): StreamEvent => blockStart(index, { type: 'tool_use', id, name, input: {} });
const delta = (index: number, d: Delta): StreamEvent => ({ type: 'content_block_delta', index, delta: d });
const text = (index: number, t: string): StreamEvent => delta(index, { type: 'text_delta', text: t });
const thinking = (index: number, t: string): StreamEvent => delta(index, { type: 'thinking_delta', thinking: t });
const signature = (index: number): StreamEvent => delta(index, { type: 'signature_delta', signature: PLACEHOLDER_SIGNATURE });
const json = (index: number, partial_json: string): StreamEvent => delta(index, { type: 'input_json_delta', partial_json });
const stop = (index: number): StreamEvent => ({ type: 'content_block_stop', index });
const end = (stop_reason: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal', usage: Usage): StreamEvent[] => [
  { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage },
  { type: 'message_stop' },
];
const usage = (input: number, cached: number, output: number): Usage => ({
  input_tokens: input,
  cache_read_input_tokens: cached,
  cache_creation_input_tokens: 0,
  output_tokens: output,
});

function run(chunks: readonly ChatCompletionChunk[], options: Partial<StreamTranslatorOptions> = {}): StreamEvent[] {
  const translator = new StreamTranslator({ ...base, ...options });
  return [...translator.start(), ...chunks.flatMap((c) => translator.push(c)), ...translator.finish()];
}

/** Generated tool ids are random: replace them so sequences compare exactly. */
function normaliseIds(events: StreamEvent[]): StreamEvent[] {
  return events.map((e) =>
    e.type === 'content_block_start' && e.content_block.type === 'tool_use' && e.content_block.id.startsWith('toolu_')
      ? { ...e, content_block: { ...e.content_block, id: 'toolu_GEN' } }
      : e,
  );
}

// --- backend shapes --------------------------------------------------------------------------------

describe('StreamTranslator: mlx_lm.server shape', () => {
  const role = { role: 'assistant' };

  it('translates reasoning, text, a whole tool call and the trailing usage chunk', () => {
    const events = run([
      chunk({ ...role, reasoning: 'The user ' }),
      chunk({ ...role, reasoning: 'wants ls.' }),
      chunk({ ...role, content: 'Listing.' }),
      chunk(
        { ...role, tool_calls: [{ index: 0, id: 'f1c2-uuid', type: 'function', function: { name: 'Bash', arguments: '{"command": "ls"}' } }] },
        'tool_calls',
      ),
      usageChunk(100, 20, 60),
    ]);
    expect(events).toEqual([
      messageStart,
      thinkingStart(0),
      thinking(0, 'The user '),
      thinking(0, 'wants ls.'),
      signature(0),
      stop(0),
      textStart(1),
      text(1, 'Listing.'),
      stop(1),
      toolStart(2, 'f1c2-uuid', 'Bash'),
      json(2, '{"command": "ls"}'),
      stop(2),
      ...end('tool_use', usage(40, 60, 20)),
    ]);
  });

  it('answers end_turn when finish_reason says tool_calls but the server dropped the call', () => {
    const events = run([chunk({ ...role, content: 'Bad call' }), chunk({ ...role }, 'tool_calls'), usageChunk(10, 3, 0)]);
    expect(events).toEqual([messageStart, textStart(0), text(0, 'Bad call'), stop(0), ...end('end_turn', usage(10, 0, 3))]);
  });
});

describe('StreamTranslator: llama-server shape', () => {
  const toolPieces = [
    chunk({ tool_calls: [{ index: 0, id: 'AbC123', type: 'function', function: { name: 'Bash', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"comman' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: 'd":"pwd"}' } }] }),
  ];

  it('streams arguments piece by piece and reads cached tokens from usage', () => {
    const events = run([
      chunk({ role: 'assistant', content: null }),
      chunk({ reasoning_content: 'Hmm.' }),
      chunk({ content: 'Sure' }),
      ...toolPieces,
      chunk({}, 'tool_calls', { timings: { cache_n: 80, prompt_n: 20, predicted_n: 9 } }),
      usageChunk(100, 9, 80),
    ]);
    expect(events).toEqual([
      messageStart,
      thinkingStart(0),
      thinking(0, 'Hmm.'),
      signature(0),
      stop(0),
      textStart(1),
      text(1, 'Sure'),
      stop(1),
      toolStart(2, 'AbC123', 'Bash'),
      json(2, '{"comman'),
      json(2, 'd":"pwd"}'),
      stop(2),
      ...end('tool_use', usage(20, 80, 9)),
    ]);
  });

  it('falls back to timings.cache_n when usage has no cached count', () => {
    const events = run([chunk({ content: 'ok' }, 'stop', { timings: { cache_n: 70, prompt_n: 30, predicted_n: 1 } }), usageChunk(100, 1)]);
    expect(events.at(-2)).toEqual(end('end_turn', usage(30, 70, 1))[0]);
  });

  it('uses timings alone when the stream carries no usage at all', () => {
    const translator = new StreamTranslator(base);
    translator.push(chunk({ content: 'ok' }, 'stop', { timings: { cache_n: 70, prompt_n: 30, predicted_n: 4 } }));
    expect(translator.usage).toEqual({ promptTokens: 100, completionTokens: 4, cachedTokens: 70 });
    expect(translator.finish()[1]).toEqual(end('end_turn', usage(30, 70, 4))[0]);
  });
});

describe('StreamTranslator: LM Studio shape', () => {
  it('translates reasoning_content and a call announced with empty arguments, without cached tokens', () => {
    const events = run([
      chunk({ role: 'assistant', reasoning_content: 'Plan' }),
      chunk({ tool_calls: [{ index: 0, id: '100007919', type: 'function', function: { name: 'Bash', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, type: 'function', function: { arguments: '{"command":' } }] }),
      chunk({ tool_calls: [{ index: 0, type: 'function', function: { arguments: '"ls"}' } }] }),
      chunk({}, 'tool_calls'),
      usageChunk(500, 12),
    ]);
    expect(events).toEqual([
      messageStart,
      thinkingStart(0),
      thinking(0, 'Plan'),
      signature(0),
      stop(0),
      toolStart(1, '100007919', 'Bash'),
      json(1, '{"command":'),
      json(1, '"ls"}'),
      stop(1),
      ...end('tool_use', usage(500, 0, 12)),
    ]);
  });
});

describe('StreamTranslator: Ollama shape', () => {
  it('translates reasoning and two whole calls, one per index', () => {
    const events = run([
      chunk({ role: 'assistant', reasoning: 'Two files.' }),
      chunk({
        role: 'assistant',
        tool_calls: [
          { index: 0, id: 'call_aaaa', type: 'function', function: { name: 'Bash', arguments: '{"command":"cat a"}' } },
          { index: 1, id: 'call_bbbb', type: 'function', function: { name: 'Bash', arguments: '{"command":"cat b"}' } },
        ],
      }),
      chunk({ role: 'assistant', content: '' }, 'tool_calls'),
      usageChunk(300, 25),
    ]);
    expect(events).toEqual([
      messageStart,
      thinkingStart(0),
      thinking(0, 'Two files.'),
      signature(0),
      stop(0),
      toolStart(1, 'call_aaaa', 'Bash'),
      json(1, '{"command":"cat a"}'),
      stop(1),
      toolStart(2, 'call_bbbb', 'Bash'),
      json(2, '{"command":"cat b"}'),
      stop(2),
      ...end('tool_use', usage(300, 0, 25)),
    ]);
  });

  it('separates calls that all say index 0 but carry different ids', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'Bash', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_2', function: { name: 'Bash', arguments: '{"command":"x"}' } }] }),
    ]);
    expect(events.filter((e) => e.type === 'content_block_start')).toEqual([toolStart(0, 'call_1', 'Bash'), toolStart(1, 'call_2', 'Bash')]);
  });
});

// --- rules -----------------------------------------------------------------------------------------

describe('StreamTranslator: rules', () => {
  it('emits message_start once, and push() starts the message when start() was not called', () => {
    const translator = new StreamTranslator(base);
    const first = translator.push(chunk({ content: 'a' }));
    expect(first).toEqual([messageStart, textStart(0), text(0, 'a')]);
    expect(translator.start()).toEqual([]);
  });

  it('skips empty and null content and opens no block for it', () => {
    const events = run([chunk({ content: '' }), chunk({ content: null, reasoning: '' }), chunk({}, 'stop')]);
    expect(events).toEqual([messageStart, ...end('end_turn', usage(1234, 0, 0))]);
  });

  it('maps finish reasons', () => {
    const stopOf = (finish: ChatChunkChoice['finish_reason']): unknown => run([chunk({ content: 'x' }, finish)]).at(-2);
    expect(stopOf('stop')).toMatchObject({ delta: { stop_reason: 'end_turn' } });
    expect(stopOf('length')).toMatchObject({ delta: { stop_reason: 'max_tokens' } });
    expect(stopOf('content_filter')).toMatchObject({ delta: { stop_reason: 'refusal' } });
    expect(stopOf(null)).toMatchObject({ delta: { stop_reason: 'end_turn' } });
  });

  it('answers tool_use whenever a tool block was emitted, whatever finish_reason says', () => {
    const events = run([chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'Bash', arguments: '{}' } }] }, 'stop')]);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('falls back to the input estimate and a delta count when the upstream reports no usage', () => {
    const events = run([chunk({ reasoning: 'a' }), chunk({ content: 'b' }), chunk({ content: 'c' }, 'stop')]);
    expect(events.at(-2)).toEqual(end('end_turn', usage(1234, 0, 3))[0]);
  });

  it('gives a call whose arguments never came valid input', () => {
    const events = run([chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'Bash' } }] }, 'tool_calls')]);
    expect(events).toEqual([messageStart, toolStart(0, 'c1', 'Bash'), json(0, '{}'), stop(0), ...end('tool_use', usage(1234, 0, 1))]);
  });

  it('generates a toolu_ id when the upstream gives none', () => {
    const events = run([chunk({ tool_calls: [{ index: 0, function: { name: 'Bash', arguments: '{}' } }] })]);
    const start = events.find((e) => e.type === 'content_block_start');
    expect(start).toMatchObject({ content_block: { type: 'tool_use', id: expect.stringMatching(/^toolu_[0-9a-f]{24}$/) } });
  });

  it('holds arguments that arrive before the name until the block can start', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'c', function: { arguments: '{"command"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'Bash', arguments: ':"ls"}' } }] }),
    ]);
    expect(events.slice(1, 4)).toEqual([toolStart(0, 'c', 'Bash'), json(0, '{"command":"ls"}'), stop(0)]);
  });

  it('drops a call that never got a name', () => {
    const events = run([chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }, 'tool_calls')]);
    expect(events).toEqual([messageStart, ...end('end_turn', usage(1234, 0, 0))]);
  });

  it('closes the open block when the kind switches, text after a call gets a new block', () => {
    const events = run([
      chunk({ content: 'a' }),
      chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'Bash', arguments: '{}' } }] }),
      chunk({ content: 'b' }),
      chunk({ reasoning: 'r' }),
      chunk({ content: 'c' }),
    ]);
    expect(events.slice(1, -2)).toEqual([
      textStart(0), text(0, 'a'), stop(0),
      toolStart(1, 'c', 'Bash'), json(1, '{}'), stop(1),
      textStart(2), text(2, 'b'), stop(2),
      thinkingStart(3), thinking(3, 'r'), signature(3), stop(3),
      textStart(4), text(4, 'c'), stop(4),
    ]);
  });

  it('prefers a non-empty reasoning over an empty reasoning_content', () => {
    const events = run([chunk({ reasoning_content: '', reasoning: 'deep' })]);
    expect(events[2]).toEqual(thinking(0, 'deep'));
  });

  it('does not open a text block for whitespace alone, but keeps it once real text follows', () => {
    expect(run([chunk({ content: '\n\n' }), chunk({ content: 'Hi' })]).slice(1, 4)).toEqual([textStart(0), text(0, '\n\nHi'), stop(0)]);
    expect(run([chunk({ content: 'Hi' }), chunk({ content: '\n' })]).slice(1, 5)).toEqual([textStart(0), text(0, 'Hi'), text(0, '\n'), stop(0)]);
    expect(run([chunk({ content: '\n' })], {}).filter((e) => e.type.startsWith('content_block'))).toEqual([]);
  });

  it('tracks firstTokenSeen, usage and stopReason', () => {
    const translator = new StreamTranslator(base);
    translator.start();
    translator.push(chunk({ role: 'assistant', content: null }));
    expect(translator.firstTokenSeen).toBe(false);
    translator.push(chunk({ content: 'x' }));
    expect(translator.firstTokenSeen).toBe(true);
    expect(translator.stopReason).toBeNull();
    translator.push(usageChunk(50, 2, 10));
    expect(translator.usage).toEqual({ promptTokens: 50, completionTokens: 2, cachedTokens: 10 });
    translator.finish();
    expect(translator.stopReason).toBe('end_turn');
  });

  it('is idempotent at finish and ignores chunks after it', () => {
    const translator = new StreamTranslator(base);
    translator.push(chunk({ content: 'x' }));
    expect(translator.finish().map((e) => e.type)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(translator.finish()).toEqual([]);
    expect(translator.push(chunk({ content: 'late' }))).toEqual([]);
  });

  it('finishes a message that never got a chunk', () => {
    expect(new StreamTranslator(base).finish()).toEqual([messageStart, ...end('end_turn', usage(1234, 0, 0))]);
  });

  it('never reports negative input tokens', () => {
    expect(run([usageChunk(5, 1, 9)]).at(-2)).toMatchObject({ usage: { input_tokens: 0, cache_read_input_tokens: 9 } });
  });
});

// --- text-written tool calls -----------------------------------------------------------------------

describe('StreamTranslator: text-written tool calls', () => {
  const qwen =
    'Running it.\n<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</parameter>\n<parameter=timeout>\n30\n</parameter>\n</function>\n</tool_call>';

  it('turns a Qwen3-Coder call written as text into a tool_use block, in any chunking', () => {
    for (const size of [1, 2, 3, 7, 13, 1000]) {
      const pieces: ChatCompletionChunk[] = [];
      for (let i = 0; i < qwen.length; i += size) pieces.push(chunk({ content: qwen.slice(i, i + size) }));
      const events = normaliseIds(run([...pieces, chunk({}, 'stop'), usageChunk(10, 5)], { tools }));
      const message = accumulateMessage(events);
      expect(message.content).toEqual([
        { type: 'text', text: 'Running it.\n' },
        { type: 'tool_use', id: 'toolu_GEN', name: 'Bash', input: { command: 'ls', timeout: 30 } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      const toolEvents = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
      expect(toolEvents).toEqual([json(1, '{"command":"ls","timeout":30}')]);
    }
  });

  it('streams text before a call before the call is complete', () => {
    const translator = new StreamTranslator({ ...base, tools });
    translator.start();
    expect(translator.push(chunk({ content: 'Running it.\n<tool_' }))).toEqual([textStart(0), text(0, 'Running it.\n')]);
    expect(translator.push(chunk({ content: 'call>\n<function=Bash>\n' }))).toEqual([]);
  });

  it('gives an unfinished text call back as text at the end', () => {
    const events = run([chunk({ content: 'x <tool_call>\n<function=Bash>\n<parameter=command>\nl' })], { tools });
    expect(accumulateMessage(events).content).toEqual([{ type: 'text', text: 'x <tool_call>\n<function=Bash>\n<parameter=command>\nl' }]);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' } });
  });

  it('leaves text calls alone when recovery is off or there are no tools', () => {
    for (const options of [{ tools, recoverTextToolCalls: false }, {}]) {
      const events = run([chunk({ content: qwen })], options);
      expect(accumulateMessage(events).content).toEqual([{ type: 'text', text: qwen }]);
    }
  });

  it('flushes held text before a native tool call, in order', () => {
    const events = run(
      [chunk({ content: 'see <tool' }), chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'Bash', arguments: '{}' } }] })],
      { tools },
    );
    expect(events.slice(1, 7)).toEqual([textStart(0), text(0, 'see '), text(0, '<tool'), stop(0), toolStart(1, 'c', 'Bash'), json(1, '{}')]);
  });
});

// --- non-streaming replies -------------------------------------------------------------------------

describe('completionToChunks', () => {
  const completion: ChatCompletion = {
    id: 'chatcmpl-9',
    model: 'qwen',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Here.',
          reasoning: 'Think.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } },
            { id: 'call_2', type: 'function', function: { name: 'Bash', arguments: '' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 40, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 30 } },
    timings: { cache_n: 30 },
  };

  it('splits a completion into reasoning, content, one chunk per call and a final chunk', () => {
    const chunks = completionToChunks(completion);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', reasoning_content: 'Think.' },
      { role: 'assistant', content: 'Here.' },
      { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
      { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'Bash', arguments: '' } }] },
      {},
    ]);
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }], usage: completion.usage, timings: { cache_n: 30 } });
  });

  it('goes through the translator and accumulator into one Message', () => {
    const message = accumulateMessage(run(completionToChunks(completion)));
    expect(message).toEqual({
      id: 'msg_test',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-4-8',
      content: [
        { type: 'thinking', thinking: 'Think.', signature: PLACEHOLDER_SIGNATURE },
        { type: 'text', text: 'Here.' },
        { type: 'tool_use', id: 'call_1', name: 'Bash', input: { command: 'ls' } },
        { type: 'tool_use', id: 'call_2', name: 'Bash', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: usage(10, 30, 8),
    });
  });

  it('handles a completion with no choices', () => {
    const chunks = completionToChunks({ choices: [] });
    expect(chunks).toEqual([{ id: undefined, model: undefined, choices: [{ index: 0, delta: {}, finish_reason: null }] }]);
    expect(accumulateMessage(run(chunks)).content).toEqual([]);
  });
});
