/**
 * The replay options applied to one captured request body. Everything else stays exactly as
 * Claude Code sent it (key order included), so the prompt the backend sees, and its cache
 * behaviour, are those of the real session.
 */
import type { StablePrefix } from '../cache/prefix-store.js';
import type { TextBlock, ToolDefinition } from '../anthropic/types.js';
import type { MessagesBody } from './replay-input.js';

export interface ReplayBodyOptions {
  /** Caps each request's max_tokens (small models ramble to the cap; quick runs). */
  maxTokens?: number | undefined;
  /** Drops tools and tool_choice: a small model's window cannot hold Claude Code's 24 tool definitions. */
  stripTools?: boolean | undefined;
}

export function replayBody(body: MessagesBody, options: ReplayBodyOptions): MessagesBody {
  const out: MessagesBody = { ...body };
  if (options.maxTokens !== undefined) {
    const sent = typeof body.max_tokens === 'number' ? body.max_tokens : undefined;
    const capped = sent === undefined ? options.maxTokens : Math.min(sent, options.maxTokens);
    out.max_tokens = capped;
    // Anthropic requires budget_tokens < max_tokens; a capped request must stay valid.
    const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined;
    if (thinking?.type === 'enabled' && typeof thinking.budget_tokens === 'number' && thinking.budget_tokens >= capped) delete out.thinking;
  }
  if (options.stripTools === true) {
    delete out.tools;
    delete out.tool_choice;
  }
  return out;
}

/**
 * The prefix `anyclaude up` would remember from this request and warm a new session with: its
 * system prompt and tools without cache_control (as src/cache/prefix-store.ts records it).
 * Unlike the store it accepts a request without tools, so a `--strip-tools` replay warms too.
 */
export function stablePrefixOf(body: MessagesBody): StablePrefix | undefined {
  const system = body.system as string | TextBlock[] | undefined;
  if (system === undefined) return undefined;
  const tools = (Array.isArray(body.tools) ? (body.tools as ToolDefinition[]) : []).map(({ cache_control: _c, ...tool }) => tool);
  return { system: typeof system === 'string' ? system : system.map(({ cache_control: _c, ...block }) => block), tools };
}
