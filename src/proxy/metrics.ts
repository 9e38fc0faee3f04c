/**
 * Per-request measurements, and prefix stability: how much of this request's prompt is
 * byte-identical to the previous request of the same Claude Code session. Below ~100 %
 * on a follow-up turn means something rewrote the prompt and the backend recomputes it.
 */
import type { StopReason } from '../anthropic/types.js';

export interface RequestMetrics {
  id: string;
  sessionId: string | undefined;
  upstream: string;
  model: string;
  stream: boolean;
  startedAt: number;
  /** HTTP status sent to the client (200 even when an SSE error event ended the stream). */
  status: number;
  error: string | undefined;
  stopReason: StopReason | null;
  ttftMs: number | undefined;
  /** Upstream request sent → first token: the backend's prompt processing. */
  prefillMs: number | undefined;
  prefillTokensPerSec: number | undefined;
  decodeTokensPerSec: number | undefined;
  totalMs: number;
  promptTokens: number | undefined;
  cachedTokens: number | undefined;
  outputTokens: number | undefined;
  /** Calibrated estimate, before the backend answered. */
  estimatedPromptTokens: number;
  contextWindow: number | undefined;
  contextFillPct: number | undefined;
  /** 0..1: share of this prompt equal to the session's previous prompt; undefined on a session's first request. */
  prefixStability: number | undefined;
  /** 0..1: share of the previous prompt that survived unchanged; 1 on every healthy follow-up turn. */
  prefixPreserved: number | undefined;
  clientAborted: boolean;
  /** `--context-strategy window`: earlier messages left out so the prompt fits, and their estimated tokens. */
  trimmedMessages?: number;
  trimmedTokens?: number;
}

export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  // Compare in slices first: a native string compare is far faster than a char loop on 80 KB.
  const step = 4096;
  while (i + step <= n && a.slice(i, i + step) === b.slice(i, i + step)) i += step;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

const SESSION_LIMIT = 64;

/**
 * Compares prompts segment by segment (tools block, then each message): equal segments are
 * one native string compare, and only the first differing one is scanned character by character.
 */
export class PrefixTracker {
  readonly #last = new Map<string, readonly string[]>();

  /** Compares `segments` with the session's previous prompt, then remembers them. */
  observe(sessionId: string | undefined, segments: readonly string[]): { stability: number; preserved: number } | undefined {
    if (sessionId === undefined || segments.length === 0) return undefined;
    // Claude Code interleaves other prompts in one session (title, compaction, subagents); each
    // keeps its own history, told apart by the sizes of its tools block and system prompt.
    const key = `${sessionId}|${segments[0]?.length ?? 0}|${segments[1]?.length ?? 0}`;
    const previous = this.#last.get(key);
    this.#last.delete(key);
    this.#last.set(key, segments);
    if (this.#last.size > SESSION_LIMIT * 4) this.#last.delete(this.#last.keys().next().value as string);
    if (previous === undefined) return undefined;
    const common = commonSegmentPrefix(previous, segments);
    const total = (list: readonly string[]): number => list.reduce((n, s) => n + s.length, 0);
    const current = total(segments);
    const before = total(previous);
    return { stability: current === 0 ? 1 : common / current, preserved: before === 0 ? 1 : common / before };
  }
}

function commonSegmentPrefix(a: readonly string[], b: readonly string[]): number {
  let common = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) {
      common += x.length;
      continue;
    }
    return common + commonPrefixLength(x, y);
  }
  return common;
}

export function rate(tokens: number | undefined, ms: number | undefined): number | undefined {
  if (tokens === undefined || ms === undefined || ms <= 0 || tokens <= 0) return undefined;
  return (tokens * 1000) / ms;
}
