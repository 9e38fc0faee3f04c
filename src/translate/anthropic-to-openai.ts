/**
 * Anthropic Messages request → OpenAI Chat Completions request.
 *
 * The one rule above all: the same conversation renders to the same bytes every turn,
 * so the backend's KV cache for the unchanged prefix survives. Claude Code alternates
 * between a one-block text array and a plain string for the same user turn, and moves its
 * `cache_control` marker to the newest block; both are normalised away here. Nothing in
 * the prompt is reordered, rewritten or appended.
 */
import type {
  ContentBlock,
  ImageBlock,
  MessageParam,
  MessagesRequest,
  TextBlock,
  ToolChoice,
  ToolDefinition,
  ToolResultBlock,
} from '../anthropic/types.js';
import type {
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
} from '../openai/types.js';
import type { UpstreamProfile } from './upstream-profile.js';
import { badRequest } from '../proxy/api-error.js';

export interface TranslateOptions {
  /** The id the server serves (mlx_lm.server reloads on any other name). */
  model: string;
  profile: UpstreamProfile;
}

/** Claude Code's first system block; its suffix changes every session (and per request in newer versions). */
const BILLING_HEADER = /^x-anthropic-billing-header:/;

/** The system blocks without the billing block (first block only, anchored match). */
export function withoutBillingBlock(system: TextBlock[]): TextBlock[] {
  return system.filter((block, i) => !(i === 0 && BILLING_HEADER.test(block.text)));
}

export function systemPrompt(system: MessagesRequest['system']): string | undefined {
  if (system === undefined) return undefined;
  if (typeof system === 'string') {
    return BILLING_HEADER.test(system) ? dropFirstLine(system) : system;
  }
  const kept = withoutBillingBlock(system);
  if (kept.length === 0) return undefined;
  return joinTexts(kept.map((b) => b.text));
}

function dropFirstLine(text: string): string | undefined {
  const nl = text.indexOf('\n');
  const rest = nl === -1 ? '' : text.slice(nl + 1);
  return rest === '' ? undefined : rest;
}

/** Adjacent text blocks are one text to the model; a newline keeps words apart when neither side has one. */
export function joinTexts(texts: readonly string[]): string {
  let out = '';
  for (const text of texts) {
    if (out !== '' && text !== '' && !out.endsWith('\n') && !text.startsWith('\n')) out += '\n';
    out += text;
  }
  return out;
}

export function translateMessages(request: MessagesRequest, profile: UpstreamProfile): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = systemPrompt(request.system);
  if (system !== undefined) out.push({ role: 'system', content: system });
  for (const message of request.messages) appendMessage(out, message, profile);
  return out;
}

function appendMessage(out: ChatMessage[], message: MessageParam, profile: UpstreamProfile): void {
  if (message.role === 'system') {
    out.push(systemMessage(textOf(message.content), profile));
  } else if (message.role === 'assistant') {
    out.push(assistantMessage(message.content));
  } else {
    appendUserMessage(out, message.content, profile);
  }
}

/** Mid-conversation system messages stay where they are; never moved to the front. */
function systemMessage(text: string, profile: UpstreamProfile): ChatMessage {
  if (profile.midConversationSystem === 'system') return { role: 'system', content: text };
  return { role: 'user', content: `<system-reminder>\n${text}\n</system-reminder>` };
}

function textOf(content: string | ContentBlock[]): string {
  if (typeof content === 'string') return content;
  return joinTexts(content.filter((b): b is TextBlock => b.type === 'text').map((b) => b.text));
}

function assistantMessage(content: string | ContentBlock[]): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const toolCalls: ChatToolCall[] = [];
  for (const block of content) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'tool_use') toolCalls.push(toolCall(block.id, block.name, block.input));
    // Thinking in history is dropped: most chat templates strip it anyway, and keeping it
    // for some turns but not others would break the cached prefix.
  }
  const text = joinTexts(texts);
  if (toolCalls.length === 0) return { role: 'assistant', content: text };
  return { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls };
}

function toolCall(id: string, name: string, input: unknown): ChatToolCall {
  return { id, type: 'function', function: { name, arguments: JSON.stringify(input ?? {}) } };
}

/** Tool results become `tool` messages right after the assistant's calls; other blocks follow as one user turn. */
function appendUserMessage(out: ChatMessage[], content: string | ContentBlock[], profile: UpstreamProfile): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content });
    return;
  }
  const rest: Array<TextBlock | ImageBlock> = [];
  const resultImages: ChatContentPart[] = [];
  for (const block of content) {
    if (block.type === 'tool_result') {
      out.push(toolMessage(block));
      resultImages.push(...toolResultImages(block, profile));
    } else if (block.type === 'text' || block.type === 'image') {
      rest.push(block);
    }
  }
  if (resultImages.length > 0) out.push({ role: 'user', content: resultImages });
  if (rest.length > 0) out.push({ role: 'user', content: userContent(rest, profile) });
}

function toolMessage(block: ToolResultBlock): ChatMessage {
  if (Array.isArray(block.content)) block.content.forEach((item) => checkResultItem(item, block.tool_use_id));
  const text = typeof block.content === 'string' ? block.content : textOf(block.content ?? []);
  // OpenAI tool messages have no error flag; the model must still see that the call failed.
  const content = block.is_error === true ? `[tool error]\n${text}` : text;
  return { role: 'tool', tool_call_id: block.tool_use_id, content };
}

/**
 * The schema lets any `{type}` object into a tool result's content, so a text or image block
 * missing its fields gets here: refuse it by name rather than fail on it (HTTP 500) or drop it.
 */
function checkResultItem(item: unknown, toolUseId: string): void {
  const block = item as { type?: unknown; text?: unknown; source?: unknown };
  const where = `tool_result for ${JSON.stringify(toolUseId)}`;
  if (block.type === 'text' && typeof block.text !== 'string') throw badRequest(`${where}: a text block needs a string "text"`);
  if (block.type === 'image' && !validImageSource(block.source)) {
    throw badRequest(`${where}: an image block needs a "source" of type base64 (media_type, data) or url (url)`);
  }
}

function validImageSource(source: unknown): boolean {
  if (typeof source !== 'object' || source === null) return false;
  const s = source as Record<string, unknown>;
  if (s['type'] === 'base64') return typeof s['media_type'] === 'string' && typeof s['data'] === 'string';
  return s['type'] === 'url' && typeof s['url'] === 'string';
}

/** Tool messages carry text only, so images from a tool result follow as a user turn. */
function toolResultImages(block: ToolResultBlock, profile: UpstreamProfile): ChatContentPart[] {
  if (typeof block.content === 'string' || block.content === undefined) return [];
  const images = block.content.filter((b): b is ImageBlock => b.type === 'image');
  if (images.length === 0) return [];
  const label: ChatContentPart = { type: 'text', text: `Image(s) from tool result ${block.tool_use_id}:` };
  return [label, ...images.map((image) => imagePart(image, profile))];
}

/** A text-only turn is a plain string, whatever form the client used, so the bytes never flip. */
function userContent(blocks: Array<TextBlock | ImageBlock>, profile: UpstreamProfile): string | ChatContentPart[] {
  const hasImage = blocks.some((b) => b.type === 'image');
  if (!hasImage || !profile.images) {
    return joinTexts(blocks.map((b) => (b.type === 'text' ? b.text : IMAGE_OMITTED)));
  }
  return blocks.map((b) => (b.type === 'text' ? { type: 'text', text: b.text } : imagePart(b, profile)));
}

const IMAGE_OMITTED = '[image omitted: this backend accepts text only]';

function imagePart(image: ImageBlock, profile: UpstreamProfile): ChatContentPart {
  if (!profile.images) return { type: 'text', text: IMAGE_OMITTED };
  const url = image.source.type === 'base64' ? `data:${image.source.media_type};base64,${image.source.data}` : image.source.url;
  return { type: 'image_url', image_url: { url } };
}

export function translateTools(tools: readonly ToolDefinition[] | undefined, profile: UpstreamProfile): ChatTool[] | undefined {
  if (tools === undefined) return undefined;
  // Server tools (web_search and the like) have no schema and cannot run locally.
  const functions = tools.filter((t) => t.input_schema !== undefined);
  if (functions.length === 0) return undefined;
  return functions.map((tool) => ({
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: stripKeys(tool.input_schema, profile.schemaStripKeys),
    },
  }));
}

function stripKeys(schema: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  if (keys.length === 0) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!keys.includes(key)) out[key] = value;
  }
  return out;
}

function translateToolChoice(choice: ToolChoice): ChatToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

/** Sampling and switches; these sit after the prompt and never affect the cached prefix. */
function options(request: MessagesRequest, opts: TranslateOptions, hasTools: boolean): Partial<ChatCompletionRequest> {
  const { profile } = opts;
  const out: Partial<ChatCompletionRequest> = {};
  if (hasTools && request.tool_choice !== undefined && profile.toolChoice) {
    out.tool_choice = translateToolChoice(request.tool_choice);
    if ('disable_parallel_tool_use' in request.tool_choice && request.tool_choice.disable_parallel_tool_use === true) {
      out.parallel_tool_calls = false;
    }
  }
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) out.stop = request.stop_sequences;
  if (request.temperature !== undefined) out.temperature = request.temperature;
  if (request.top_p !== undefined) out.top_p = request.top_p;
  if (request.top_k !== undefined && profile.topK) out.top_k = request.top_k;
  if (request.thinking !== undefined && profile.thinkingSwitch === 'chat_template_kwargs') {
    out.chat_template_kwargs = { enable_thinking: request.thinking.type !== 'disabled' };
  }
  const format = request.output_config?.format;
  if (format?.type === 'json_schema' && profile.responseFormat) {
    out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } };
  }
  return out;
}

export interface TranslatedRequest {
  /** The request without `max_tokens`, which is set per send (clamped to the context left). */
  request: Omit<ChatCompletionRequest, 'max_tokens'>;
  /** The prompt in the order a chat template renders it (tools, then each message), serialised:
   * token counts are memoised per segment and prefix stability compares their concatenation. */
  segments: string[];
  /** Everything after the prompt, serialised: `{"model":…}` without max_tokens. */
  tail: string;
}

/** The exact upstream body. Prompt first, so the bytes that matter for caching lead. */
export function upstreamBody(translated: TranslatedRequest, maxTokens: number): string {
  const [toolsJson, ...messageJsons] = translated.segments;
  const tools = toolsJson === '' || toolsJson === undefined ? '' : `,"tools":${toolsJson}`;
  return `{"messages":[${messageJsons.join(',')}]${tools},"max_tokens":${maxTokens},${translated.tail.slice(1)}`;
}

export function anthropicToOpenAI(request: MessagesRequest, opts: TranslateOptions): TranslatedRequest {
  const messages = translateMessages(request, opts.profile);
  const tools = translateTools(request.tools, opts.profile);
  // The proxy always streams from the upstream: one code path, and TTFT is measured for
  // non-streaming clients too; their reply is assembled from the same events.
  const rest = {
    model: opts.model,
    stream: true,
    stream_options: { include_usage: true },
    ...options(request, opts, tools !== undefined),
  };
  // Serialise the two big parts once; the segments serve the body, token counts and metrics.
  const toolsJson = tools === undefined ? '' : JSON.stringify(tools);
  const messageJsons = messages.map((m) => JSON.stringify(m));
  return {
    request: { messages, ...(tools === undefined ? {} : { tools }), ...rest },
    segments: [toolsJson, ...messageJsons],
    tail: JSON.stringify(rest),
  };
}
