/**
 * `anyclaude traces show`: one exchange in words — what it was, what it cost, and what went
 * each way (request in, upstream request, upstream reply, reply out), with the reply's text and
 * tool calls read back out of the stream. The bodies themselves are in `--json`.
 */
import type { Trace } from './trace-file.js';
import { promptCell, statusCell, summarise } from './list.js';
import { formatInt, formatMs, formatTime } from './table.js';

export interface ReplyContent {
  text: string;
  thinkingChars: number;
  toolCalls: Array<{ name: string; input: string }>;
  error: string | undefined;
}

const TEXT_LIMIT = 1200;

export function renderShow(trace: Trace, path: string): string {
  const s = summarise(trace, path);
  const m = trace.metrics;
  const lines: string[] = [
    `trace ${trace.id}`,
    `  file      ${path}`,
    `  time      ${formatTime(trace.startedAt)}`,
    `  backend   ${trace.backend}${s.model === undefined ? '' : `  model ${s.model}`}`,
    `  status    ${statusCell(s)}${s.error === undefined ? '' : `: ${s.error}`}`,
    `  prompt    ${promptCell(s)} tokens${m?.estimatedPromptTokens == null || s.promptTokens === undefined ? '' : ` (estimated ${formatInt(m.estimatedPromptTokens)})`}`,
    `  output    ${s.outputTokens === undefined ? '-' : `${formatInt(s.outputTokens)} tokens`}`,
    `  took      ${formatMs(s.totalMs)}${m?.ttftMs == null ? '' : ` (first token after ${formatMs(m.ttftMs)})`}`,
    '',
    `request in     ${trace.requestIn.method} ${trace.requestIn.url}  ${bytes(trace.requestIn.body)}`,
    ...indent(describeRequest(trace.requestIn.body)),
  ];
  if (trace.upstreamRequest !== undefined) {
    lines.push(`upstream req   POST ${trace.upstreamRequest.url}  ${trace.upstreamRequest.body === '' ? '(not sent)' : bytes(trace.upstreamRequest.body)}`);
  }
  if (trace.upstreamReply !== undefined) lines.push(`upstream reply ${trace.upstreamReply.status}  ${bytes(trace.upstreamReply.body)}`);
  if (trace.replyOut !== undefined) {
    lines.push(`reply out      ${trace.replyOut.status}  ${bytes(trace.replyOut.body)}`);
    lines.push(...indent(describeReply(readReply(trace.replyOut.body))));
  }
  return lines.join('\n');
}

function bytes(body: string): string {
  return `${formatInt(Buffer.byteLength(body))} bytes`;
}

function indent(lines: string[]): string[] {
  return lines.map((l) => `  ${l}`);
}

function describeRequest(body: string): string[] {
  let request: { model?: unknown; system?: unknown; tools?: unknown; messages?: unknown; stream?: unknown; max_tokens?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return ['(body is not JSON)'];
  }
  const tools = Array.isArray(request.tools) ? request.tools.length : 0;
  const messages = Array.isArray(request.messages) ? (request.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  const system =
    typeof request.system === 'string'
      ? request.system.length
      : Array.isArray(request.system)
        ? (request.system as Array<{ text?: unknown }>).reduce((n, b) => n + (typeof b.text === 'string' ? b.text.length : 0), 0)
        : 0;
  const lines = [
    `model ${String(request.model)}, max_tokens ${String(request.max_tokens)}${request.stream === true ? ', streamed' : ''}; system prompt ${formatInt(system)} chars, ${tools} tools, ${messages.length} messages`,
  ];
  const last = messages.at(-1);
  if (last !== undefined) lines.push(`last message (${String(last.role)}): ${clip(contentText(last.content), 200)}`);
  return lines;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Array<Record<string, unknown>>)
    .map((b) => {
      if (b.type === 'text') return String(b.text);
      if (b.type === 'tool_result') return `[tool result] ${contentText(b.content)}`;
      if (b.type === 'tool_use') return `[calls ${String(b.name)}]`;
      return `[${String(b.type)}]`;
    })
    .join(' ');
}

function clip(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

function describeReply(reply: ReplyContent): string[] {
  const lines: string[] = [];
  if (reply.thinkingChars > 0) lines.push(`thinking: ${formatInt(reply.thinkingChars)} chars`);
  if (reply.text !== '') {
    const text = reply.text.length > TEXT_LIMIT ? `${reply.text.slice(0, TEXT_LIMIT)}… (${formatInt(reply.text.length)} chars)` : reply.text;
    lines.push('text:', ...text.split('\n').map((l) => `  ${l}`));
  }
  for (const call of reply.toolCalls) lines.push(`tool call: ${call.name} ${clip(call.input, 300)}`);
  if (reply.error !== undefined) lines.push(`error: ${reply.error}`);
  return lines;
}

interface EventShape {
  type?: string;
  index?: number;
  content_block?: { type?: string; name?: string; text?: string };
  delta?: { type?: string; text?: string; thinking?: string; partial_json?: string };
  error?: { message?: string };
  content?: Array<{ type?: string; text?: string; thinking?: string; name?: string; input?: unknown }>;
}

/**
 * The reply as Claude Code got it, from whichever form the trace holds: an SSE stream, a JSON
 * message (non-streaming pass-through), or the JSON array of events a non-streaming
 * translated reply was assembled from. A cut-off stream gives what arrived.
 */
export function readReply(body: string): ReplyContent {
  const out: ReplyContent = { text: '', thinkingChars: 0, toolCalls: [], error: undefined };
  const trimmed = body.trimStart();
  let events: EventShape[] = [];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as EventShape | EventShape[];
      if (Array.isArray(parsed)) events = parsed;
      else if (parsed.type === 'error') out.error = parsed.error?.message;
      else {
        for (const block of parsed.content ?? []) {
          if (block.type === 'text') out.text += block.text ?? '';
          else if (block.type === 'thinking') out.thinkingChars += (block.thinking ?? '').length;
          else if (block.type === 'tool_use') out.toolCalls.push({ name: block.name ?? '?', input: JSON.stringify(block.input ?? {}) });
        }
        return out;
      }
    } catch {
      return out;
    }
  } else {
    events = sseEvents(body);
  }
  const tools = new Map<number, { name: string; input: string }>();
  for (const event of events) {
    if (event.type === 'content_block_start' && event.content_block?.type === 'tool_use') {
      const call = { name: event.content_block.name ?? '?', input: '' };
      tools.set(event.index ?? -1, call);
      out.toolCalls.push(call);
    } else if (event.type === 'content_block_delta') {
      const d = event.delta;
      if (d?.type === 'text_delta') out.text += d.text ?? '';
      else if (d?.type === 'thinking_delta') out.thinkingChars += (d.thinking ?? '').length;
      else if (d?.type === 'input_json_delta') {
        const call = tools.get(event.index ?? -1);
        if (call !== undefined) call.input += d.partial_json ?? '';
      }
    } else if (event.type === 'error') out.error = event.error?.message ?? 'error';
  }
  return out;
}

function sseEvents(body: string): EventShape[] {
  const events: EventShape[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('data:')) continue;
    try {
      events.push(JSON.parse(line.slice(5).trim()) as EventShape);
    } catch {
      // A comment, [DONE], or a frame cut at the size cap: nothing to read.
    }
  }
  return events;
}
