/**
 * A traced request's prompt cut into the parts a person asks about: the system prompt, each
 * tool schema, each message. Each part is the serialised text the proxy itself counts (its
 * prompt segments: the system, the tools block, each message), with the tools block split per
 * tool, so the parts add up to what the proxy estimated and the backend was calibrated against.
 *
 * The request analysed is the one the backend received (the upstream body); a request that
 * never reached it (refused before sending) is read as Claude Code sent it.
 */
import { z } from 'zod';
import { AnyclaudeError } from '../core/errors.js';
import type { Trace } from './trace-file.js';
import { tryParseJson } from '../core/json-value.js';

export type PartKind = 'system' | 'tool' | 'message';

export interface PromptPart {
  kind: PartKind;
  /** Tool name; message role; `system`. */
  name: string;
  /** 0-based position among the conversation's messages, the system prompt not counted (messages only). */
  index?: number;
  /** A short, one-line hint of a message's content (messages only). */
  preview?: string;
  /** The serialised part, as the proxy counts it. */
  text: string;
}

export interface PromptParts {
  /** The wire format of the request that was cut up. */
  protocol: 'openai' | 'anthropic';
  /** `upstream`: what the backend received; `client`: what Claude Code sent (the backend never got it). */
  source: 'upstream' | 'client';
  parts: PromptPart[];
}

const anthropicRequest = z.looseObject({
  system: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown() })),
});

const openaiRequest = z.looseObject({
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown().optional() })),
  tools: z.array(z.looseObject({ function: z.looseObject({ name: z.string() }) })).optional(),
});

type AnthropicRequest = z.infer<typeof anthropicRequest>;
type OpenAIRequest = z.infer<typeof openaiRequest>;

export function promptParts(trace: Trace): PromptParts {
  const upstream = trace.upstreamRequest;
  if (upstream !== undefined && upstream.body !== '') {
    const protocol = upstream.url.includes('/chat/completions') ? 'openai' : 'anthropic';
    const json = tryParseJson(upstream.body);
    if (protocol === 'openai') {
      const parsed = openaiRequest.safeParse(json);
      if (parsed.success) return { protocol, source: 'upstream', parts: openaiParts(json as OpenAIRequest) };
    } else {
      const parsed = anthropicRequest.safeParse(json);
      if (parsed.success) return { protocol, source: 'upstream', parts: anthropicParts(json as AnthropicRequest) };
    }
  }
  // Never sent (a prompt too long for the window, a backend not ready), or an upstream body cut at the size cap.
  const json = tryParseJson(trace.requestIn.body);
  const parsed = anthropicRequest.safeParse(json);
  if (!parsed.success) {
    throw new AnyclaudeError('TRACE_NO_PROMPT', `trace ${trace.id} holds no readable Messages request (a body cut at the size cap, or not a /v1/messages call)`);
  }
  return { protocol: 'anthropic', source: 'client', parts: anthropicParts(json as AnthropicRequest) };
}

/*
 * Parts are serialised from the parsed JSON itself (not zod's output, which may reorder keys),
 * so each one is byte-identical to the proxy's segment for it.
 */

function anthropicParts(request: AnthropicRequest): PromptPart[] {
  const parts: PromptPart[] = [];
  if (request.system !== undefined) parts.push({ kind: 'system', name: 'system', text: JSON.stringify(request.system) });
  for (const tool of request.tools ?? []) parts.push({ kind: 'tool', name: tool.name, text: JSON.stringify(tool) });
  request.messages.forEach((message, index) => {
    parts.push({ kind: 'message', name: message.role, index, preview: anthropicPreview(message.content), text: JSON.stringify(message) });
  });
  return parts;
}

function openaiParts(request: OpenAIRequest): PromptPart[] {
  const parts: PromptPart[] = [];
  for (const tool of request.tools ?? []) parts.push({ kind: 'tool', name: tool.function.name, text: JSON.stringify(tool) });
  request.messages.forEach((message, i) => {
    const text = JSON.stringify(message);
    // The proxy puts Claude Code's system prompt first, as a system message; later system messages are turns.
    if (i === 0 && message.role === 'system') parts.push({ kind: 'system', name: 'system', text });
    else parts.push({ kind: 'message', name: message.role, index: parts.filter((p) => p.kind === 'message').length, preview: openaiPreview(message), text });
  });
  // The chat template renders tools after the system prompt; the order only matters for reading.
  return [...parts.filter((p) => p.kind === 'system'), ...parts.filter((p) => p.kind !== 'system')];
}

const PREVIEW_CHARS = 60;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

function anthropicPreview(content: unknown): string {
  if (typeof content === 'string') return oneLine(content);
  if (!Array.isArray(content)) return '';
  const blocks = content.filter((b): b is Record<string, unknown> => typeof b === 'object' && b !== null);
  const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.name));
  const results = blocks.filter((b) => b.type === 'tool_result').length;
  const text = blocks.find((b) => b.type === 'text' && typeof b.text === 'string');
  const bits: string[] = [];
  if (results > 0) bits.push(results === 1 ? '[tool result]' : `[${results} tool results]`);
  if (calls.length > 0) bits.push(`[calls ${calls.join(', ')}]`);
  if (text !== undefined) bits.push(String(text.text));
  return oneLine(bits.join(' '));
}

function openaiPreview(message: OpenAIRequest['messages'][number]): string {
  const bits: string[] = [];
  if (message.role === 'tool') bits.push('[tool result]');
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Array<{ function?: { name?: string } }>).map((c) => c.function?.name ?? '?') : [];
  if (calls.length > 0) bits.push(`[calls ${calls.join(', ')}]`);
  if (typeof message.content === 'string') bits.push(message.content);
  else if (Array.isArray(message.content)) {
    const text = (message.content as Array<{ type?: string; text?: string }>).find((p) => p.type === 'text' && typeof p.text === 'string');
    if (text?.text !== undefined) bits.push(text.text);
  }
  return oneLine(bits.join(' '));
}
