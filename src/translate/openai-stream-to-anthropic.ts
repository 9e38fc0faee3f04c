/**
 * Translates an OpenAI Chat Completions stream into the Anthropic Messages event grammar:
 * message_start, then content blocks (start → deltas → stop, one open at a time, indexes 0,1,2…),
 * then message_delta and message_stop. Non-streaming upstream replies take the same path through
 * completionToChunks, and message-accumulator folds the events back into one Message.
 */

import { randomUUID } from 'node:crypto';
import type { ContentBlockStart, Delta, StopReason, StreamEvent, ToolDefinition } from '../anthropic/types.js';
import type {
  ChatChunkChoice,
  ChatCompletion,
  ChatCompletionChunk,
  ChatToolCallDelta,
  ChatUsage,
  LlamaTimings,
} from '../openai/types.js';
import { TextToolCallParser, type TextToolItem } from './text-tool-calls.js';

export interface StreamTranslatorOptions {
  messageId: string;
  /** The model name to report back: the one the client asked for. */
  model: string;
  /** Estimate for message_start, and the fallback when the upstream reports no usage. */
  inputTokens: number;
  /** For recovering text-written tool calls and coercing their arguments. */
  tools?: ToolDefinition[];
  /** Default true when tools are given. */
  recoverTextToolCalls?: boolean;
}

export interface UpstreamUsage {
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
}

/**
 * Local models have no Anthropic signature to give. Claude Code sends thinking blocks back with
 * whatever signature they came with, so a fixed marker lets the request side recognise its own.
 */
export const PLACEHOLDER_SIGNATURE = 'anyclaude-local-thinking';

type FinishReason = ChatChunkChoice['finish_reason'];
type BlockKind = 'text' | 'thinking' | 'tool_use';

interface NativeToolCall {
  upstreamIndex: number | undefined;
  id: string | undefined;
  name: string | undefined;
  /** Arguments that arrived before the call's block could start: before its name, or while another call's block was open. */
  pendingArguments: string;
  blockIndex: number | undefined;
}

export class StreamTranslator {
  private readonly options: StreamTranslatorOptions;
  private readonly textParser: TextToolCallParser | null;
  private readonly upstreamUsage: UpstreamUsage = {};
  private readonly toolCalls: NativeToolCall[] = [];
  private started = false;
  private finished = false;
  private seenToken = false;
  private nextIndex = 0;
  private open: { kind: BlockKind; index: number; hasInput: boolean } | null = null;
  /** Whitespace-only text waiting for real text: Anthropic never sends whitespace-only text blocks. */
  private pendingWhitespace = '';
  private toolBlockEmitted = false;
  private finishReason: FinishReason = null;
  private deltaCount = 0;
  private finalStopReason: StopReason | null = null;
  private cacheFromTimings: number | undefined;
  private timingsUsage: UpstreamUsage = {};

  constructor(options: StreamTranslatorOptions) {
    this.options = options;
    const tools = options.tools ?? [];
    const recover = options.recoverTextToolCalls ?? tools.length > 0;
    this.textParser = recover && tools.length > 0 ? new TextToolCallParser(tools) : null;
  }

  get usage(): UpstreamUsage {
    return {
      promptTokens: this.upstreamUsage.promptTokens ?? this.timingsUsage.promptTokens,
      completionTokens: this.upstreamUsage.completionTokens ?? this.timingsUsage.completionTokens,
      cachedTokens: this.upstreamUsage.cachedTokens ?? this.cacheFromTimings,
    };
  }

  get firstTokenSeen(): boolean {
    return this.seenToken;
  }

  get stopReason(): StopReason | null {
    return this.finalStopReason;
  }

  /** The model is repeating one text-written tool call: finish() now ends the reply with it once. */
  get loopingToolCall(): boolean {
    return this.textParser?.looping === true;
  }

  /** The upstream said why it stopped: the stream is complete even without `[DONE]`. */
  get finishReasonSeen(): boolean {
    return this.finishReason !== null && this.finishReason !== undefined;
  }

  start(): StreamEvent[] {
    if (this.started) return [];
    this.started = true;
    const { messageId, model, inputTokens } = this.options;
    return [
      {
        type: 'message_start',
        message: {
          id: messageId,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: inputTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      },
    ];
  }

  push(chunk: ChatCompletionChunk): StreamEvent[] {
    if (this.finished) return [];
    const events = this.start();
    this.recordUsage(chunk.usage, chunk.timings);
    const choice = chunk.choices.find((c) => c.index === 0) ?? chunk.choices[0];
    if (!choice) return events;
    const { delta } = choice;
    // '||' rather than '??': a backend may send an empty reasoning_content next to a real reasoning.
    const reasoning = delta.reasoning_content || delta.reasoning;
    if (reasoning) this.pushReasoning(reasoning, events);
    if (delta.content) this.pushContent(delta.content, events);
    for (const call of delta.tool_calls ?? []) this.pushToolCall(call, events);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return events;
  }

  finish(): StreamEvent[] {
    if (this.finished) return [];
    const events = this.start();
    this.finished = true;
    this.flushWaitingCalls(events);
    this.flushTextParser(events);
    this.closeBlock(events);
    this.finalStopReason = this.computeStopReason();
    events.push(
      {
        type: 'message_delta',
        delta: { stop_reason: this.finalStopReason, stop_sequence: null },
        usage: this.finalUsage(),
      },
      { type: 'message_stop' },
    );
    return events;
  }

  private pushReasoning(text: string, events: StreamEvent[]): void {
    this.seenToken = true;
    this.flushWaitingCalls(events);
    this.flushTextParser(events);
    this.ensureBlock('thinking', events);
    this.emitDelta({ type: 'thinking_delta', thinking: text }, events);
  }

  private pushContent(text: string, events: StreamEvent[]): void {
    this.seenToken = true;
    this.flushWaitingCalls(events);
    if (!this.textParser) {
      this.emitText(text, events);
      return;
    }
    this.emitItems(this.textParser.push(text), events);
  }

  private pushToolCall(delta: ChatToolCallDelta, events: StreamEvent[]): void {
    this.seenToken = true;
    this.flushTextParser(events);
    const call = this.resolveToolCall(delta);
    if (delta.id && call.blockIndex === undefined) call.id = delta.id;
    if (delta.function?.name && call.name === undefined) call.name = delta.function.name;
    const args = delta.function?.arguments ?? '';
    if (call.blockIndex === undefined) {
      // While another call's block is open this one waits whole: that call may still get arguments
      // (parallel calls streamed interleaved by index), and its block cannot be reopened once closed.
      if (call.name === undefined || this.open?.kind === 'tool_use') {
        call.pendingArguments += args;
        return;
      }
      this.openToolBlock(call, events);
    }
    // A delta for a call whose block was already closed cannot be placed.
    if (this.open?.index !== call.blockIndex) return;
    this.emitArguments(call.pendingArguments + args, events);
    call.pendingArguments = '';
  }

  /** Calls that waited behind another call's block go out whole, in order, before anything else does. */
  private flushWaitingCalls(events: StreamEvent[]): void {
    for (const call of this.toolCalls) {
      if (call.blockIndex !== undefined || call.name === undefined) continue;
      this.openToolBlock(call, events);
      this.emitArguments(call.pendingArguments, events);
      call.pendingArguments = '';
    }
  }

  /** Finds the call a delta belongs to: by index, by id, or the latest call when neither is given. */
  private resolveToolCall(delta: ChatToolCallDelta): NativeToolCall {
    const sameId = (c: NativeToolCall): boolean => delta.id === undefined || c.id === undefined || c.id === delta.id;
    const existing =
      delta.index !== undefined
        ? this.toolCalls.findLast((c) => c.upstreamIndex === delta.index && sameId(c))
        : delta.id !== undefined
          ? this.toolCalls.find((c) => c.id === delta.id)
          : this.toolCalls.at(-1);
    if (existing) return existing;
    const call: NativeToolCall = {
      upstreamIndex: delta.index,
      id: delta.id,
      name: undefined,
      pendingArguments: '',
      blockIndex: undefined,
    };
    this.toolCalls.push(call);
    return call;
  }

  private openToolBlock(call: NativeToolCall, events: StreamEvent[]): void {
    call.id ??= generateToolUseId();
    call.blockIndex = this.openBlock(
      'tool_use',
      { type: 'tool_use', id: call.id, name: call.name ?? '', input: {} },
      events,
    );
  }

  private emitItems(items: TextToolItem[], events: StreamEvent[]): void {
    for (const item of items) {
      if (item.kind === 'text') {
        this.emitText(item.text, events);
        continue;
      }
      this.openBlock('tool_use', { type: 'tool_use', id: generateToolUseId(), name: item.name, input: {} }, events);
      this.emitArguments(JSON.stringify(item.input), events);
      this.closeBlock(events);
    }
  }

  private emitText(text: string, events: StreamEvent[]): void {
    if (text === '') return;
    if (this.open?.kind !== 'text' && text.trim() === '') {
      this.pendingWhitespace += text;
      return;
    }
    const leading = this.pendingWhitespace;
    this.ensureBlock('text', events);
    this.emitDelta({ type: 'text_delta', text: leading + text }, events);
  }

  private emitArguments(json: string, events: StreamEvent[]): void {
    // Blank arguments mean none: held back so closeBlock sends '{}' (a lone "\n" is no JSON).
    if (!this.open || json === '' || (!this.open.hasInput && json.trim() === '')) return;
    this.open.hasInput = true;
    this.emitDelta({ type: 'input_json_delta', partial_json: json }, events);
  }

  private emitDelta(delta: Delta, events: StreamEvent[]): void {
    if (!this.open) return;
    if (delta.type !== 'signature_delta') this.deltaCount += 1;
    events.push({ type: 'content_block_delta', index: this.open.index, delta });
  }

  private ensureBlock(kind: 'text' | 'thinking', events: StreamEvent[]): void {
    if (this.open?.kind === kind) return;
    const start: ContentBlockStart =
      kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    this.openBlock(kind, start, events);
  }

  private openBlock(kind: BlockKind, start: ContentBlockStart, events: StreamEvent[]): number {
    this.closeBlock(events);
    // Whitespace that was waiting for more text is dropped once something else follows it.
    this.pendingWhitespace = '';
    const index = this.nextIndex++;
    this.open = { kind, index, hasInput: false };
    if (kind === 'tool_use') this.toolBlockEmitted = true;
    events.push({ type: 'content_block_start', index, content_block: start });
    return index;
  }

  private closeBlock(events: StreamEvent[]): void {
    const open = this.open;
    if (!open) return;
    // Anthropic closes every thinking block with its signature; a tool call must leave valid JSON.
    if (open.kind === 'thinking') this.emitDelta({ type: 'signature_delta', signature: PLACEHOLDER_SIGNATURE }, events);
    if (open.kind === 'tool_use' && !open.hasInput) this.emitDelta({ type: 'input_json_delta', partial_json: '{}' }, events);
    events.push({ type: 'content_block_stop', index: open.index });
    this.open = null;
  }

  private flushTextParser(events: StreamEvent[]): void {
    if (this.textParser) this.emitItems(this.textParser.end(), events);
  }

  private computeStopReason(): StopReason {
    // A call cut off by max_tokens may hold truncated input: say so, as Anthropic does.
    if (this.finishReason === 'length') return 'max_tokens';
    if (this.toolBlockEmitted) return 'tool_use';
    switch (this.finishReason) {
      case 'content_filter':
        return 'refusal';
      default:
        // Includes tool_calls without a tool block: mlx_lm.server drops calls it fails to parse.
        return 'end_turn';
    }
  }

  private recordUsage(usage: ChatUsage | null | undefined, timings: LlamaTimings | undefined): void {
    if (usage) {
      if (usage.prompt_tokens !== undefined) this.upstreamUsage.promptTokens = usage.prompt_tokens;
      if (usage.completion_tokens !== undefined) this.upstreamUsage.completionTokens = usage.completion_tokens;
      const cached = usage.prompt_tokens_details?.cached_tokens;
      if (cached !== undefined) this.upstreamUsage.cachedTokens = cached;
    }
    if (timings) {
      // llama-server: prompt_n counts only the tokens it processed, cache_n the ones it reused.
      if (timings.cache_n !== undefined) this.cacheFromTimings = timings.cache_n;
      if (timings.prompt_n !== undefined) {
        this.timingsUsage.promptTokens = timings.prompt_n + (timings.cache_n ?? 0);
      }
      if (timings.predicted_n !== undefined) this.timingsUsage.completionTokens = timings.predicted_n;
    }
  }

  private finalUsage(): { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number } {
    const { promptTokens, completionTokens, cachedTokens } = this.usage;
    const cached = cachedTokens ?? 0;
    return {
      input_tokens: promptTokens !== undefined ? Math.max(0, promptTokens - cached) : this.options.inputTokens,
      cache_read_input_tokens: cached,
      cache_creation_input_tokens: 0,
      output_tokens: completionTokens ?? this.deltaCount,
    };
  }
}

/** Anthropic-style id; the upstream's own call id is kept when it sends one. */
export function generateToolUseId(): string {
  return `toolu_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

/** Splits a non-streaming reply into the chunks a stream would have carried, for one code path. */
export function completionToChunks(completion: ChatCompletion): ChatCompletionChunk[] {
  const choice = completion.choices.find((c) => c.index === 0) ?? completion.choices[0];
  const chunks: ChatCompletionChunk[] = [];
  const add = (delta: ChatChunkChoice['delta']): void => {
    chunks.push({ id: completion.id, model: completion.model, choices: [{ index: 0, delta }] });
  };
  const message = choice?.message;
  const reasoning = message?.reasoning_content || message?.reasoning;
  if (reasoning) add({ role: 'assistant', reasoning_content: reasoning });
  if (message?.content) add({ role: 'assistant', content: message.content });
  message?.tool_calls?.forEach((call, index) => {
    add({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }],
    });
  });
  const last: ChatCompletionChunk = {
    id: completion.id,
    model: completion.model,
    choices: [{ index: 0, delta: {}, finish_reason: choice?.finish_reason ?? null }],
  };
  if (completion.usage) last.usage = completion.usage;
  if (completion.timings) last.timings = completion.timings;
  chunks.push(last);
  return chunks;
}
