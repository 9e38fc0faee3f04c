/**
 * Strict checkers for what the proxy sends to Claude Code: the Anthropic Messages SSE grammar
 * and the non-streaming `message` JSON. Each violation throws an Error naming the frame index,
 * so a failing test points at the exact byte range that is wrong.
 *
 * Grammar (as real Anthropic streams it; see test/fixtures/claude-code-2.1.197):
 *   ping* message_start (ping | block)* message_delta ping* message_stop
 *   block := content_block_start(index=n) content_block_delta(index=n)* content_block_stop(index=n)
 * with n = 0, 1, 2… in order, one block open at a time, and `error` allowed to end it anywhere.
 */
import { z } from 'zod';
import type { Message, ResponseBlock, StopReason, Usage } from '../../src/anthropic/types.js';
import type { SseFrame } from './sse.js';

const STOP_REASONS = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'] as const;
const ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
] as const;
const EVENT_TYPES = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
  'error',
]);

const count = z.number().int().nonnegative();
const optionalCount = count.nullable().optional();

const usageSchema = z.object({
  input_tokens: count,
  output_tokens: count,
  cache_creation_input_tokens: optionalCount,
  cache_read_input_tokens: optionalCount,
});

const startMessageSchema = z.object({
  id: z.string().min(1),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(z.unknown()).length(0, 'message_start content must be []'),
  stop_reason: z.null(),
  stop_sequence: z.null(),
  usage: usageSchema,
});

const blockStartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.literal('') }),
  z.object({
    type: z.literal('tool_use'),
    id: z.string().min(1),
    name: z.string().min(1),
    input: z.object({}).strict(),
  }),
  z.object({ type: z.literal('thinking'), thinking: z.literal(''), signature: z.literal('').optional() }),
]);

const deltaSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text_delta'), text: z.string() }),
  z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
  z.object({ type: z.literal('thinking_delta'), thinking: z.string() }),
  z.object({ type: z.literal('signature_delta'), signature: z.string() }),
]);

const indexSchema = z.number().int().nonnegative();

const eventSchemas = {
  message_start: z.object({ type: z.literal('message_start'), message: startMessageSchema }),
  content_block_start: z.object({
    type: z.literal('content_block_start'),
    index: indexSchema,
    content_block: blockStartSchema,
  }),
  content_block_delta: z.object({ type: z.literal('content_block_delta'), index: indexSchema, delta: deltaSchema }),
  content_block_stop: z.object({ type: z.literal('content_block_stop'), index: indexSchema }),
  message_delta: z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: z.enum(STOP_REASONS), stop_sequence: z.string().nullable() }),
    usage: z.object({
      output_tokens: count,
      input_tokens: optionalCount,
      cache_creation_input_tokens: optionalCount,
      cache_read_input_tokens: optionalCount,
    }),
  }),
  message_stop: z.object({ type: z.literal('message_stop') }),
  ping: z.object({ type: z.literal('ping') }),
  error: z.object({
    type: z.literal('error'),
    error: z.object({ type: z.enum(ERROR_TYPES), message: z.string() }),
  }),
} as const;

const DELTA_FOR_BLOCK: Record<'text' | 'tool_use' | 'thinking', readonly string[]> = {
  text: ['text_delta'],
  tool_use: ['input_json_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
};

/** What a valid stream amounts to, rebuilt from its events (tool inputs parsed). */
export interface StreamSummary {
  message: Message;
  /** Content blocks as Claude Code would assemble them. */
  content: ResponseBlock[];
  stopReason: StopReason | null;
  stopSequence: string | null;
  /** message_start usage overlaid with message_delta usage. */
  usage: Usage;
  /** Present when the stream ended with an `error` event. */
  error?: { type: string; message: string };
  /** Names of all events in order, e.g. ['message_start', 'content_block_start', …]. */
  eventTypes: string[];
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(i: number, what: string, problem: string): never {
  throw new Error(`Anthropic SSE frame ${i}${what ? ` (${what})` : ''}: ${problem}`);
}

interface OpenBlock {
  index: number;
  type: 'text' | 'tool_use' | 'thinking';
  id: string;
  name: string;
  text: string;
  signature: string;
  sawSignature: boolean;
}

/**
 * Throws unless `events` is a complete, well-formed Anthropic Messages stream (or one that ends
 * with an `error` event). Returns what the stream amounts to, for further assertions.
 */
export function assertAnthropicStream(events: readonly SseFrame[]): StreamSummary {
  if (events.length === 0) throw new Error('Anthropic SSE: stream has no events');

  let message: Message | undefined;
  let usage: Usage | undefined;
  const content: ResponseBlock[] = [];
  const eventTypes: string[] = [];
  let open: OpenBlock | undefined;
  let nextIndex = 0;
  let stopReason: StopReason | null = null;
  let stopSequence: string | null = null;
  let sawMessageDelta = false;
  let ended: 'message_stop' | 'error' | undefined;
  let error: { type: string; message: string } | undefined;

  events.forEach((frame, i) => {
    if (frame.data.trim() === '[DONE]') fail(i, frame.event ?? '', 'data: [DONE] is OpenAI framing, not Anthropic');
    if (ended) fail(i, frame.event ?? '', `frame after ${ended} (the stream must end there)`);
    if (frame.event === undefined || frame.event === '') fail(i, '', `missing "event:" line (data: ${frame.data.slice(0, 80)})`);
    const name = frame.event as string;
    let data: unknown;
    try {
      data = JSON.parse(frame.data);
    } catch {
      fail(i, name, `data is not JSON: ${frame.data.slice(0, 80)}`);
    }
    if (!isRecord(data) || typeof data.type !== 'string') return fail(i, name, 'data is not an object with a string "type"');
    const type = data.type;
    if (type !== name) fail(i, name, `event name "${name}" does not match data.type "${type}"`);
    if (!EVENT_TYPES.has(type)) fail(i, name, `"${type}" is not an Anthropic stream event type`);
    const schema = eventSchemas[type as keyof typeof eventSchemas];
    const parsed = schema.safeParse(data);
    if (!parsed.success) fail(i, type, `invalid ${type}: ${formatIssues(parsed.error)}`);
    eventTypes.push(type);

    if (type === 'ping') return;
    if (type === 'error') {
      const e = eventSchemas.error.parse(data);
      error = { type: e.error.type, message: e.error.message };
      ended = 'error';
      return;
    }
    if (type === 'message_start') {
      if (message) fail(i, type, 'second message_start (exactly one allowed)');
      const m = eventSchemas.message_start.parse(data).message;
      usage = {
        input_tokens: m.usage.input_tokens,
        output_tokens: m.usage.output_tokens,
        cache_creation_input_tokens: m.usage.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: m.usage.cache_read_input_tokens ?? 0,
      };
      message = { ...m, content, usage };
      return;
    }
    if (!message) return fail(i, type, `${type} before message_start`);

    switch (type) {
      case 'content_block_start': {
        const e = eventSchemas.content_block_start.parse(data);
        if (sawMessageDelta) fail(i, type, 'content_block_start after message_delta');
        if (open) fail(i, type, `block ${e.index} started while block ${open.index} is still open`);
        if (e.index !== nextIndex) fail(i, type, `index ${e.index}, expected ${nextIndex} (blocks are numbered 0,1,2… in order)`);
        const b = e.content_block;
        open = {
          index: e.index,
          type: b.type,
          id: b.type === 'tool_use' ? b.id : '',
          name: b.type === 'tool_use' ? b.name : '',
          text: '',
          signature: '',
          sawSignature: false,
        };
        nextIndex++;
        return;
      }
      case 'content_block_delta': {
        const e = eventSchemas.content_block_delta.parse(data);
        if (!open) return fail(i, type, `delta for index ${e.index} but no block is open`);
        if (e.index !== open.index) fail(i, type, `delta for index ${e.index} but the open block is ${open.index}`);
        if (!DELTA_FOR_BLOCK[open.type].includes(e.delta.type)) {
          fail(i, type, `${e.delta.type} inside a ${open.type} block`);
        }
        const d = e.delta;
        if (d.type === 'signature_delta') {
          open.signature += d.signature;
          open.sawSignature = true;
        } else {
          if (open.sawSignature) fail(i, type, `${d.type} after signature_delta (the signature ends a thinking block)`);
          open.text += d.type === 'text_delta' ? d.text : d.type === 'input_json_delta' ? d.partial_json : d.thinking;
        }
        return;
      }
      case 'content_block_stop': {
        const e = eventSchemas.content_block_stop.parse(data);
        if (!open) return fail(i, type, `stop for index ${e.index} but no block is open`);
        if (e.index !== open.index) fail(i, type, `stop for index ${e.index} but the open block is ${open.index}`);
        if (open.type === 'text') content.push({ type: 'text', text: open.text });
        else if (open.type === 'thinking') content.push({ type: 'thinking', thinking: open.text, signature: open.signature });
        else {
          // Empty partial_json means `{}`: the Anthropic SDK and Claude Code treat it so.
          let input: unknown;
          try {
            input = open.text === '' ? {} : JSON.parse(open.text);
          } catch {
            fail(i, type, `tool_use block ${open.index} partial_json does not parse as JSON: ${open.text.slice(0, 120)}`);
          }
          if (!isRecord(input)) fail(i, type, `tool_use block ${open.index} input is not a JSON object: ${open.text.slice(0, 120)}`);
          content.push({ type: 'tool_use', id: open.id, name: open.name, input });
        }
        open = undefined;
        return;
      }
      case 'message_delta': {
        const e = eventSchemas.message_delta.parse(data);
        if (sawMessageDelta) fail(i, type, 'second message_delta (exactly one allowed)');
        if (open) fail(i, type, `message_delta while block ${open.index} is still open`);
        if (e.delta.stop_reason === 'tool_use' && !content.some((b) => b.type === 'tool_use')) {
          fail(i, type, 'stop_reason tool_use but the message has no tool_use block');
        }
        if (e.delta.stop_reason === 'stop_sequence' && e.delta.stop_sequence === null) {
          fail(i, type, 'stop_reason stop_sequence but stop_sequence is null');
        }
        sawMessageDelta = true;
        stopReason = e.delta.stop_reason;
        stopSequence = e.delta.stop_sequence;
        if (usage) {
          usage.output_tokens = e.usage.output_tokens;
          if (e.usage.input_tokens != null) usage.input_tokens = e.usage.input_tokens;
          if (e.usage.cache_creation_input_tokens != null) usage.cache_creation_input_tokens = e.usage.cache_creation_input_tokens;
          if (e.usage.cache_read_input_tokens != null) usage.cache_read_input_tokens = e.usage.cache_read_input_tokens;
        }
        return;
      }
      case 'message_stop': {
        if (!sawMessageDelta) fail(i, type, 'message_stop without a message_delta before it');
        ended = 'message_stop';
        return;
      }
    }
  });

  if (!ended) {
    const state = open ? `block ${open.index} still open` : sawMessageDelta ? 'after message_delta' : 'no message_delta';
    throw new Error(`Anthropic SSE: stream ended after ${events.length} frames without message_stop or error (${state})`);
  }
  const summary: StreamSummary = {
    message: message ?? emptyMessage(),
    content,
    stopReason,
    stopSequence,
    usage: usage ?? { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    eventTypes,
  };
  if (message) {
    summary.message = { ...message, content, stop_reason: stopReason, stop_sequence: stopSequence, usage: summary.usage };
  }
  if (error) summary.error = error;
  return summary;
}

function emptyMessage(): Message {
  return {
    id: '',
    type: 'message',
    role: 'assistant',
    model: '',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

const messageSchema = z.object({
  id: z.string().min(1),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({
        type: z.literal('tool_use'),
        id: z.string().min(1),
        name: z.string().min(1),
        input: z.record(z.string(), z.unknown()),
      }),
      z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }),
    ]),
  ),
  stop_reason: z.enum(STOP_REASONS),
  stop_sequence: z.string().nullable(),
  usage: usageSchema,
});

/**
 * Throws unless `json` is a complete non-streaming Anthropic `message` (what Claude Code's
 * non-streaming fallback requires). Extra fields are allowed, as the real API adds them.
 */
export function assertAnthropicMessage(json: unknown): asserts json is Message {
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success) throw new Error(`Anthropic message: ${formatIssues(parsed.error)}`);
  const m = parsed.data;
  if (m.stop_reason === 'tool_use' && !m.content.some((b) => b.type === 'tool_use')) {
    throw new Error('Anthropic message: stop_reason tool_use but content has no tool_use block');
  }
  if (m.stop_reason === 'stop_sequence' && m.stop_sequence === null) {
    throw new Error('Anthropic message: stop_reason stop_sequence but stop_sequence is null');
  }
}
