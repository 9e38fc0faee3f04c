/**
 * Folds a stream's events into the single Message a non-streaming request gets, so both kinds of
 * request are answered by the same translation code.
 */

import type { ErrorType, Message, ResponseBlock, StreamEvent } from '../anthropic/types.js';

/** The stream carried an `error` event instead of (or in the middle of) a message. */
export class StreamErrorEventError extends Error {
  readonly errorType: ErrorType;

  constructor(errorType: ErrorType, message: string) {
    super(message);
    this.name = 'StreamErrorEventError';
    this.errorType = errorType;
  }
}

type BlockBuilder =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; json: string };

export function accumulateMessage(events: readonly StreamEvent[]): Message {
  let message: Message | undefined;
  const blocks = new Map<number, BlockBuilder>();
  for (const event of events) {
    switch (event.type) {
      case 'message_start':
        message = { ...event.message, content: [], usage: { ...event.message.usage } };
        break;
      case 'content_block_start':
        blocks.set(event.index, startBlock(event.content_block));
        break;
      case 'content_block_delta': {
        const block = blocks.get(event.index);
        if (block) applyDelta(block, event.delta);
        break;
      }
      case 'message_delta':
        if (!message) break;
        message.stop_reason = event.delta.stop_reason;
        message.stop_sequence = event.delta.stop_sequence;
        message.usage = { ...message.usage, ...definedOnly(event.usage) };
        break;
      case 'error':
        throw new StreamErrorEventError(event.error.type, event.error.message);
      default:
        // content_block_stop, message_stop and ping carry nothing to keep.
        break;
    }
  }
  if (!message) throw new Error('event sequence has no message_start');
  message.content = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, block]) => finishBlock(block));
  return message;
}

function startBlock(start: Extract<StreamEvent, { type: 'content_block_start' }>['content_block']): BlockBuilder {
  switch (start.type) {
    case 'text':
      return { type: 'text', text: '' };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'tool_use':
      return { type: 'tool_use', id: start.id, name: start.name, json: '' };
  }
}

function applyDelta(block: BlockBuilder, delta: Extract<StreamEvent, { type: 'content_block_delta' }>['delta']): void {
  if (block.type === 'text' && delta.type === 'text_delta') block.text += delta.text;
  else if (block.type === 'thinking' && delta.type === 'thinking_delta') block.thinking += delta.thinking;
  else if (block.type === 'thinking' && delta.type === 'signature_delta') block.signature += delta.signature;
  else if (block.type === 'tool_use' && delta.type === 'input_json_delta') block.json += delta.partial_json;
}

function finishBlock(block: BlockBuilder): ResponseBlock {
  if (block.type !== 'tool_use') return block;
  return { type: 'tool_use', id: block.id, name: block.name, input: parseInput(block.json) };
}

/** Empty input means no arguments; input that is not a JSON object cannot be a tool input either. */
function parseInput(json: string): unknown {
  if (json.trim() === '') return {};
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
