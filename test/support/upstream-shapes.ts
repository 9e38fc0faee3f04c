/**
 * How each OpenAI-compatible backend shapes its Chat Completions replies and discovery
 * endpoints, as pure functions (no I/O). Used by scripted-upstream.ts; sources for each shape
 * are in the servers' documentation and the servers' own code:
 * - mlx_lm.server: `delta.role` on every chunk, content only when non-empty, `reasoning`, a tool
 *   call whole (id, name, full arguments) in the chunk that carries `finish_reason`, a usage chunk
 *   with `choices: []` and `prompt_tokens_details.cached_tokens`, errors as `{"error": "text"}`.
 * - llama-server: first chunk `{role, content: null}`, `reasoning_content`, arguments streamed in
 *   pieces (the first piece carries id + name), `timings` on the last chunk (every chunk with
 *   `timings_per_token`), usage with cached tokens.
 * - LM Studio: `reasoning_content`, streamed arguments after an id + name delta with empty
 *   arguments, usage without cached tokens.
 * - Ollama: `reasoning`, a tool call whole in one delta, usage chunk without cached tokens.
 */
import type { UpstreamFlavor } from './scripted-upstream.js';

export interface ShapeContext {
  flavor: UpstreamFlavor;
  /** The model name the reply carries. */
  model: string;
  id: string;
  created: number;
  includeUsage: boolean;
  /** llama-server's `timings_per_token` request flag. */
  timingsPerToken: boolean;
}

export interface TextSpec {
  text: string;
  reasoning: string;
  chunkSize: number;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  cachedTokens: number;
}

export interface ToolSpec {
  name: string;
  argumentsJson: string;
  text: string;
  id: string;
  promptTokens: number;
  cachedTokens: number;
}

/** Characters per streamed arguments piece (llama-server, LM Studio). */
export const ARGUMENT_PIECE_CHARS = 7;

export function reasoningField(flavor: UpstreamFlavor): 'reasoning' | 'reasoning_content' {
  return flavor === 'mlx-lm' || flavor === 'ollama' ? 'reasoning' : 'reasoning_content';
}

/** Rough token count: 4 characters a token, at least 1 for any non-empty text. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

export function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < text.length; i += step) pieces.push(text.slice(i, i + step));
  return pieces;
}

export function defaultToolCallId(flavor: UpstreamFlavor, n: number): string {
  switch (flavor) {
    case 'mlx-lm':
      return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    case 'llama-server':
      return randomAlnum(32);
    case 'lmstudio':
      return String(100_000_000 + n * 7919 + Math.floor(Math.random() * 1000));
    case 'ollama':
      return `call_${randomAlnum(8).toLowerCase()}`;
  }
}

function hex(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

function randomAlnum(n: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

interface Counts {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
}

export function usageFor(flavor: UpstreamFlavor, c: Counts): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.promptTokens + c.completionTokens,
  };
  if (flavor === 'mlx-lm' || flavor === 'llama-server') usage.prompt_tokens_details = { cached_tokens: c.cachedTokens };
  return usage;
}

export function llamaTimings(c: Counts): Record<string, number> {
  const promptN = Math.max(0, c.promptTokens - c.cachedTokens);
  const promptMs = promptN * 0.5 + 1;
  const predictedMs = c.completionTokens * 20 + 1;
  return {
    cache_n: c.cachedTokens,
    prompt_n: promptN,
    prompt_ms: promptMs,
    prompt_per_token_ms: promptMs / Math.max(1, promptN),
    prompt_per_second: (promptN * 1000) / promptMs,
    predicted_n: c.completionTokens,
    predicted_ms: predictedMs,
    predicted_per_token_ms: predictedMs / Math.max(1, c.completionTokens),
    predicted_per_second: (c.completionTokens * 1000) / predictedMs,
  };
}

type Delta = Record<string, unknown>;
type FinishReason = 'stop' | 'length' | 'tool_calls' | null;

/** One streaming chunk object in the flavor's envelope. */
function chunk(ctx: ShapeContext, delta: Delta, finish: FinishReason): Record<string, unknown> {
  switch (ctx.flavor) {
    case 'mlx-lm':
      return {
        id: ctx.id,
        system_fingerprint: '0.31.0-0.29.0-macOS-15.5-arm64-arm-64bit-applegpu_g15s',
        object: 'chat.completion.chunk',
        model: ctx.model,
        created: ctx.created,
        choices: [{ index: 0, finish_reason: finish, delta: { role: 'assistant', ...delta } }],
      };
    case 'llama-server':
      return {
        choices: [{ finish_reason: finish, index: 0, delta }],
        created: ctx.created,
        id: ctx.id,
        model: ctx.model,
        system_fingerprint: 'b6500-scripted',
        object: 'chat.completion.chunk',
      };
    case 'lmstudio':
      return {
        id: ctx.id,
        object: 'chat.completion.chunk',
        created: ctx.created,
        model: ctx.model,
        system_fingerprint: ctx.model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      };
    case 'ollama':
      return {
        id: ctx.id,
        object: 'chat.completion.chunk',
        created: ctx.created,
        model: ctx.model,
        system_fingerprint: 'fp_ollama',
        choices: [{ index: 0, delta: { role: 'assistant', ...delta }, finish_reason: finish }],
      };
  }
}

function usageChunk(ctx: ShapeContext, counts: Counts): Record<string, unknown> {
  return {
    id: ctx.id,
    object: ctx.flavor === 'mlx-lm' ? 'chat.completion' : 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    choices: [],
    usage: usageFor(ctx.flavor, counts),
  };
}

/** Adds the flavor's trailer (finish chunk, usage chunk, timings) after the body chunks. */
function finishStream(
  ctx: ShapeContext,
  body: Array<Record<string, unknown>>,
  finishChunk: Record<string, unknown>,
  counts: Counts,
): Array<Record<string, unknown>> {
  const out = [...body, finishChunk];
  if (ctx.includeUsage) out.push(usageChunk(ctx, counts));
  if (ctx.flavor === 'llama-server') {
    const timings = llamaTimings(counts);
    if (ctx.timingsPerToken) for (const c of out) c.timings = timings;
    else {
      const last = out[out.length - 1];
      if (last) last.timings = timings;
    }
  }
  return out;
}

function openingChunks(ctx: ShapeContext): Array<Record<string, unknown>> {
  if (ctx.flavor === 'llama-server') return [chunk(ctx, { role: 'assistant', content: null }, null)];
  if (ctx.flavor === 'lmstudio') return [chunk(ctx, { role: 'assistant', content: '' }, null)];
  return [];
}

function textAndReasoningChunks(ctx: ShapeContext, reasoning: string, text: string, size: number): Array<Record<string, unknown>> {
  const field = reasoningField(ctx.flavor);
  const out: Array<Record<string, unknown>> = [];
  for (const piece of splitText(reasoning, size)) out.push(chunk(ctx, { [field]: piece }, null));
  for (const piece of splitText(text, size)) out.push(chunk(ctx, { content: piece }, null));
  return out;
}

/** Streaming chunks (objects, without `[DONE]`) for a text reply. */
export function textStream(ctx: ShapeContext, spec: TextSpec): Array<Record<string, unknown>> {
  const counts = {
    promptTokens: spec.promptTokens,
    cachedTokens: spec.cachedTokens,
    completionTokens: estimateTokens(spec.reasoning + spec.text) || 1,
  };
  const body = [...openingChunks(ctx), ...textAndReasoningChunks(ctx, spec.reasoning, spec.text, spec.chunkSize)];
  const emptyDelta: Delta = ctx.flavor === 'ollama' ? { content: '' } : {};
  return finishStream(ctx, body, chunk(ctx, emptyDelta, spec.finishReason), counts);
}

/** Streaming chunks (objects, without `[DONE]`) for a tool-call reply. */
export function toolStream(ctx: ShapeContext, spec: ToolSpec): Array<Record<string, unknown>> {
  const counts = {
    promptTokens: spec.promptTokens,
    cachedTokens: spec.cachedTokens,
    completionTokens: estimateTokens(spec.text + spec.name + spec.argumentsJson),
  };
  const body = [...openingChunks(ctx), ...textAndReasoningChunks(ctx, '', spec.text, 4)];
  const whole = { index: 0, id: spec.id, type: 'function', function: { name: spec.name, arguments: spec.argumentsJson } };
  const pieces = splitText(spec.argumentsJson, ARGUMENT_PIECE_CHARS);
  switch (ctx.flavor) {
    case 'mlx-lm':
      // mlx_lm sends the parsed call in the same chunk as finish_reason.
      return finishStream(ctx, body, chunk(ctx, { tool_calls: [whole] }, 'tool_calls'), counts);
    case 'ollama':
      body.push(chunk(ctx, { content: '', tool_calls: [whole] }, null));
      return finishStream(ctx, body, chunk(ctx, { content: '' }, 'tool_calls'), counts);
    case 'llama-server': {
      const [first = '', ...rest] = pieces;
      body.push(chunk(ctx, { tool_calls: [{ index: 0, id: spec.id, type: 'function', function: { name: spec.name, arguments: first } }] }, null));
      for (const p of rest) body.push(chunk(ctx, { tool_calls: [{ index: 0, function: { arguments: p } }] }, null));
      return finishStream(ctx, body, chunk(ctx, {}, 'tool_calls'), counts);
    }
    case 'lmstudio':
      body.push(chunk(ctx, { tool_calls: [{ index: 0, id: spec.id, type: 'function', function: { name: spec.name, arguments: '' } }] }, null));
      for (const p of pieces) body.push(chunk(ctx, { tool_calls: [{ index: 0, type: 'function', function: { arguments: p } }] }, null));
      return finishStream(ctx, body, chunk(ctx, {}, 'tool_calls'), counts);
  }
}

/** A non-streaming ChatCompletion (usage always present, as every real server sends it). */
export function completion(
  ctx: ShapeContext,
  message: { text: string; reasoning: string; toolCall?: { id: string; name: string; argumentsJson: string } },
  finish: 'stop' | 'length' | 'tool_calls',
  counts: Counts,
): Record<string, unknown> {
  const msg: Record<string, unknown> = { role: 'assistant' };
  if (ctx.flavor === 'mlx-lm') {
    if (message.text) msg.content = message.text;
  } else msg.content = message.text === '' && message.toolCall ? (ctx.flavor === 'ollama' ? '' : null) : message.text;
  if (message.reasoning) msg[reasoningField(ctx.flavor)] = message.reasoning;
  if (message.toolCall) {
    msg.tool_calls = [
      {
        ...(ctx.flavor === 'mlx-lm' || ctx.flavor === 'ollama' ? { index: 0 } : {}),
        id: message.toolCall.id,
        type: 'function',
        function: { name: message.toolCall.name, arguments: message.toolCall.argumentsJson },
      },
    ];
  }
  const out: Record<string, unknown> = {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message: msg, logprobs: null, finish_reason: finish }],
    usage: usageFor(ctx.flavor, counts),
  };
  if (ctx.flavor === 'llama-server') out.timings = llamaTimings(counts);
  return out;
}

/** The body of an HTTP error reply, as the flavor words it. */
export function errorBody(flavor: UpstreamFlavor, status: number, message: string): Record<string, unknown> {
  switch (flavor) {
    case 'mlx-lm':
      return { error: message };
    case 'llama-server':
      return {
        error: {
          code: status,
          message,
          type: status === 400 ? 'invalid_request_error' : status === 503 ? 'unavailable_error' : 'server_error',
        },
      };
    case 'lmstudio':
      return { error: { message, type: status === 400 ? 'invalid_request_error' : 'server_error', param: null, code: null } };
    case 'ollama':
      return { error: { message, type: status === 400 ? 'invalid_request_error' : 'api_error', param: null, code: null } };
  }
}
