/**
 * Validation of incoming Messages requests. Lenient where Claude Code adds fields we do not
 * use (they pass through unread), strict where translation depends on a shape, and every
 * failure names the field so a 400 says exactly what is wrong.
 */
import { z } from 'zod';
import type { MessagesRequest } from './types.js';
import { depthMessage, orphanToolResult, tooDeep } from './limits.js';

const cacheControl = z.looseObject({ type: z.string() }).optional();

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: cacheControl });
const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.union([
    z.looseObject({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
  ]),
});
const toolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown(), { error: "must be a JSON object (the tool's arguments)" }) });
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, z.looseObject({ type: z.string() })]))]).optional(),
  is_error: z.boolean().optional(),
});
const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking') });
const KNOWN_BLOCKS: Readonly<Record<string, z.ZodType>> = {
  text: textBlock,
  image: imageBlock,
  tool_use: toolUseBlock,
  tool_result: toolResultBlock,
  thinking: thinkingBlock,
  redacted_thinking: redactedThinkingBlock,
};

/**
 * A block of a type we translate must have that type's shape, and the error names the field that
 * is wrong (a union would only say "malformed"). Other block types pass the schema: an
 * Anthropic-protocol upstream gets them unchanged, and for an OpenAI one the server refuses types
 * no Anthropic document names (limits.ts `unknownBlock`).
 */
const block = z.looseObject({ type: z.string() }).superRefine((value, ctx) => {
  const result = KNOWN_BLOCKS[value.type]?.safeParse(value);
  if (result === undefined || result.success) return;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: value });
});

const message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(block)]),
});

const tool = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoice = z.union([
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('none') }),
]);

const thinking = z.union([
  z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().optional() }),
  z.looseObject({ type: z.literal('adaptive') }),
  z.looseObject({ type: z.literal('disabled') }),
]);

const base = {
  model: z.string().min(1),
  messages: z.array(message),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().int().optional(),
  stream: z.boolean().optional(),
  thinking: thinking.optional(),
  output_config: z
    .looseObject({
      effort: z.string().optional(),
      format: z.looseObject({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional() }).optional(),
    })
    .optional(),
};

const messagesRequest = z.looseObject({ ...base, max_tokens: z.number().int().positive() });
const countTokensRequest = z.looseObject(base);

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request body';
  const path = issue.path.length === 0 ? 'body' : issue.path.join('.');
  return `${path}: ${issue.message}`;
}

export function parseMessagesRequest(body: unknown): ParseResult<MessagesRequest> {
  const deep = tooDeep(body);
  if (deep !== undefined) return { ok: false, error: depthMessage(deep) };
  const result = messagesRequest.safeParse(body);
  if (!result.success) return { ok: false, error: describe(result.error) };
  // The schema is a looser mirror of MessagesRequest; translation re-checks what it reads.
  return checked(result.data as unknown as MessagesRequest);
}

/** count_tokens takes the same body without `max_tokens`. */
export function parseCountTokensRequest(body: unknown): ParseResult<MessagesRequest> {
  const deep = tooDeep(body);
  if (deep !== undefined) return { ok: false, error: depthMessage(deep) };
  const result = countTokensRequest.safeParse(body);
  if (!result.success) return { ok: false, error: describe(result.error) };
  return checked({ max_tokens: 1, ...result.data } as unknown as MessagesRequest);
}

/** What holds whatever the upstream: every tool_result answers a call (Anthropic's own rule). */
function checked(request: MessagesRequest): ParseResult<MessagesRequest> {
  const orphan = orphanToolResult(request.messages);
  return orphan === undefined ? { ok: true, value: request } : { ok: false, error: orphan };
}
