/**
 * Checks of an incoming Messages body that the schema cannot express, each naming where the
 * problem is: nesting depth (before anything walks the body recursively), content block types
 * a translating proxy would silently drop, and tool results that answer no tool call.
 */
import type { ContentBlock, MessageParam } from './types.js';

/**
 * Deepest JSON nesting accepted. Claude Code 2.1.197's captured bodies nest 12 levels (tool
 * schemas included); recursive walks in translation and validation overflow the stack in the
 * thousands, so 128 leaves a wide margin on both sides.
 */
export const MAX_DEPTH = 128;

/** Where `value` first nests deeper than `limit` (a dotted path like `tools.0.input_schema.properties.a`), or undefined. Iterative: it cannot overflow. */
export function tooDeep(value: unknown, limit = MAX_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 1 }];
  while (stack.length > 0) {
    const { value: node, path, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return path === '' ? 'body' : path;
    for (const [key, child] of Object.entries(node)) stack.push({ value: child, path: path === '' ? key : `${path}.${key}`, depth: depth + 1 });
  }
  return undefined;
}

/**
 * Nesting no JSON.parse should even attempt: ten million levels take it 3 s and 670 MB (measured),
 * before any check of the parsed value could run. Far above MAX_DEPTH, so everything nearer the
 * limit is parsed and refused with its path.
 */
export const MAX_PARSE_DEPTH = 100_000;

/**
 * Arrays and objects no body needs: JSON.parse spends ~0.3 µs and ~60 bytes on each, so the
 * 10 million empty arrays that fit under the body limit took 3 s and 600 MB (measured), while
 * 1 million take ~0.2 s. The captured Claude Code bodies hold at most 281; a long session, thousands.
 */
export const MAX_CONTAINERS = 1_000_000;

export type TextLimitBreach = { kind: 'depth' | 'containers'; at: number };

/**
 * Where `text` (JSON) first nests deeper than `depthLimit` or opens more than `containerLimit`
 * arrays and objects, or undefined: one pass, strings skipped, before JSON.parse is asked to build it.
 */
export function textOverLimits(text: string, depthLimit = MAX_PARSE_DEPTH, containerLimit = MAX_CONTAINERS): TextLimitBreach | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > depthLimit) return { kind: 'depth', at: i };
      if (++containers > containerLimit) return { kind: 'containers', at: i };
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

/** Offset in `text` (JSON) where nesting passes `limit`, or undefined. */
export function textTooDeep(text: string, limit = MAX_PARSE_DEPTH): number | undefined {
  const breach = textOverLimits(text, limit, Infinity);
  return breach?.at;
}

/** The most specific named part of a too-deep path: the tool's schema rather than a point 128 levels inside it. */
export function depthMessage(path: string, limit = MAX_DEPTH): string {
  const parts = path.split('.');
  const shown = parts.length > 6 ? `${parts.slice(0, 5).join('.')}…` : path;
  return `${shown}: JSON nested more than ${limit} levels deep; anyclaude accepts at most ${limit}`;
}

/** Block types the OpenAI translation turns into something. */
export const TRANSLATED_BLOCK_TYPES = ['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'] as const;

/**
 * Block types the Anthropic Messages API documents (@anthropic-ai/sdk's ContentBlockParam and
 * BetaContentBlockParam) that translation leaves out, as it always has: server-side tool blocks
 * and documents mean nothing to a local model.
 */
export const DOCUMENTED_UNTRANSLATED_BLOCK_TYPES = [
  'document',
  'search_result',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'advisor_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'container_upload',
  'compaction',
  'tool_addition',
  'tool_removal',
  'mcp_tool_listing',
  'fallback',
] as const;

const KNOWN = new Set<string>([...TRANSLATED_BLOCK_TYPES, ...DOCUMENTED_UNTRANSLATED_BLOCK_TYPES]);

/**
 * The first content block of a type no Anthropic document names: the translation would drop it
 * and the backend then fail on what is left, as if it were at fault. (An Anthropic-protocol
 * upstream gets such blocks unchanged instead: it decides.)
 */
export function unknownBlock(messages: readonly MessageParam[]): string | undefined {
  for (const [m, message] of messages.entries()) {
    if (typeof message.content === 'string') continue;
    for (const [b, block] of (message.content as ContentBlock[]).entries()) {
      const type = (block as { type: string }).type;
      if (!KNOWN.has(type)) {
        return `messages.${m}.content.${b}: unknown content block type ${JSON.stringify(type)}; anyclaude translates ${TRANSLATED_BLOCK_TYPES.join(', ')}`;
      }
    }
  }
  return undefined;
}

/**
 * Anthropic's rule: each `tool_result` answers a `tool_use` of the assistant turn right before
 * its user turn. Consecutive messages of one role count as one turn (the API merges them), and
 * `system` messages in between are skipped, so whatever the real API accepts is accepted here.
 */
export function orphanToolResult(messages: readonly MessageParam[]): string | undefined {
  let previousAssistantIds = new Set<string>();
  let currentAssistantIds = new Set<string>();
  let lastRole: string | undefined;
  for (const [m, message] of messages.entries()) {
    if (message.role !== 'user' && message.role !== 'assistant') continue;
    if (message.role === 'assistant') {
      if (lastRole !== 'assistant') currentAssistantIds = new Set();
      for (const block of blocks(message)) if (block.type === 'tool_use') currentAssistantIds.add(block.id);
    } else {
      if (lastRole === 'assistant') previousAssistantIds = currentAssistantIds;
      else if (lastRole === undefined) previousAssistantIds = new Set();
      for (const [b, block] of blocks(message).entries()) {
        if (block.type === 'tool_result' && !previousAssistantIds.has(block.tool_use_id)) {
          return (
            `messages.${m}.content.${b}: tool_result for tool_use_id ${JSON.stringify(block.tool_use_id)} answers no tool_use of the previous assistant message; ` +
            'each tool_result must follow the assistant message that made the call'
          );
        }
      }
    }
    lastRole = message.role;
  }
  return undefined;
}

function blocks(message: MessageParam): ContentBlock[] {
  return typeof message.content === 'string' ? [] : (message.content as ContentBlock[]);
}
