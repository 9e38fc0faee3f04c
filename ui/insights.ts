/**
 * What the numbers mean: cache reuse that dropped, a context that is filling up. Pure functions
 * of RunState so they are tested without rendering; the panels only choose colours and words.
 */
import type { RequestMetrics } from '../src/proxy/metrics.js';
import type { RunState } from '../src/run/run-state.js';
import { formatPercent, formatTokens, median } from './format.js';
import { earlierMessages } from '../src/core/context-strategy.js';

/** Share of the prompt the backend said it served from its cache; undefined when it did not say. */
export function cachedShare(r: RequestMetrics): number | undefined {
  if (r.cachedTokens === undefined || r.promptTokens === undefined || r.promptTokens <= 0) return undefined;
  return Math.min(1, r.cachedTokens / r.promptTokens);
}

export type Severity = 'note' | 'warn' | 'danger';

export interface Advice {
  severity: Severity;
  text: string;
}

/** Below this share of the previous prompt surviving, a turn "changed early". */
const CHANGED_EARLY = 0.9;
/** Prefix unchanged (≥ this share of the previous prompt kept) ... */
const UNCHANGED = 0.95;
/** ... yet the backend served less than this share of what it could have from cache. */
const POOR_REUSE = 0.5;

/**
 * About the newest finished request only, so a warning goes away once reuse recovers.
 *
 * prefixStability is the share of *this* prompt equal to the previous one: a turn that adds a
 * 30K tool result to a 20K prompt is 40 % stable and perfectly healthy. So "changed early" is
 * read from prefixPreserved (the share of the previous prompt that survived), and the cache is
 * judged against what it could have served (prefixStability of the prompt), not against 100 %.
 */
export function cacheAdvice(requests: readonly RequestMetrics[]): Advice | undefined {
  const answered = requests.filter((r) => r.error === undefined && r.promptTokens !== undefined);
  if (answered.length === 0) return undefined;
  if (answered.every((r) => r.cachedTokens === undefined)) {
    return { severity: 'note', text: 'the backend reports no cached tokens: its cache reuse cannot be shown (prefix stability is measured by anyclaude)' };
  }
  const last = answered[answered.length - 1]!;
  const stability = last.prefixStability;
  if (stability === undefined) return undefined; // a session's first request: nothing to reuse yet
  const preserved = last.prefixPreserved ?? stability;
  if (preserved < CHANGED_EARLY) {
    return {
      severity: 'warn',
      text: `the prompt changed early (${formatPercent(preserved)} of the previous turn kept): the backend recomputes everything after the change (a /compact, changed tools or system prompt, an edited earlier message)`,
    };
  }
  const share = cachedShare(last);
  if (share !== undefined && preserved >= UNCHANGED && share < POOR_REUSE * stability) {
    return {
      severity: 'warn',
      text: `only ${formatPercent(share)} cached: the backend recomputed a prompt whose prefix did not change: its prompt cache is too small or was evicted (another client, a model reload)`,
    };
  }
  return undefined;
}

export interface ContextFill {
  /** Prompt plus output of the conversation's latest request. */
  tokens: number;
  window: number | undefined;
  /** 0..1 (may pass 1 when the estimate is off); undefined when the window is unknown. */
  fill: number | undefined;
  /** `--context-strategy window` left this much of the conversation out of its latest request. */
  trimmed?: { messages: number; tokens: number };
}

/** The conversation Claude Code is in now: the latest request of the most recently active session. */
export function currentConversation(state: RunState): RequestMetrics | undefined {
  let latest: RequestMetrics | undefined;
  for (const session of state.sessions) if (latest === undefined || session.last.startedAt > latest.startedAt) latest = session.last;
  return latest ?? state.requests[state.requests.length - 1];
}

export function contextFill(state: RunState): ContextFill | undefined {
  const r = currentConversation(state);
  if (r === undefined) return undefined;
  const tokens = (r.promptTokens ?? r.estimatedPromptTokens) + (r.outputTokens ?? 0);
  const window = r.contextWindow ?? state.backends.find((b) => b.id === r.upstream)?.contextWindow;
  const trimmed = r.trimmedMessages === undefined ? {} : { trimmed: { messages: r.trimmedMessages, tokens: r.trimmedTokens ?? 0 } };
  return { tokens, window, fill: window === undefined || window <= 0 ? undefined : tokens / window, ...trimmed };
}

export const CONTEXT_WARN = 0.75;
export const CONTEXT_DANGER = 0.9;

export function contextAdvice(fill: number | undefined, trimmed?: ContextFill['trimmed']): Advice | undefined {
  if (trimmed !== undefined) {
    return { severity: 'warn', text: `${earlierMessages(trimmed.messages)} (~${formatTokens(trimmed.tokens)} tokens) left out to fit the window` };
  }
  if (fill === undefined) return undefined;
  if (fill >= CONTEXT_DANGER) return { severity: 'danger', text: `context ${formatPercent(fill)} full: /compact or start a new conversation` };
  if (fill >= CONTEXT_WARN) return { severity: 'warn', text: `context ${formatPercent(fill)} full: /compact soon` };
  return undefined;
}

export interface Throughput {
  decode: (number | undefined)[];
  prefill: (number | undefined)[];
  lastDecode: number | undefined;
  lastPrefill: number | undefined;
  medianDecode: number | undefined;
  medianPrefill: number | undefined;
  lastTtftMs: number | undefined;
}

/** Rates of finished requests that got an answer (failed ones would read as 0 tok/s). */
export function throughput(requests: readonly RequestMetrics[]): Throughput {
  const ok = requests.filter((r) => r.error === undefined);
  const known = (values: (number | undefined)[]): number[] => values.filter((v): v is number => v !== undefined);
  const decode = ok.map((r) => r.decodeTokensPerSec);
  const prefill = ok.map((r) => r.prefillTokensPerSec);
  const lastOf = (values: (number | undefined)[]): number | undefined => known(values).at(-1);
  return {
    decode,
    prefill,
    lastDecode: lastOf(decode),
    lastPrefill: lastOf(prefill),
    medianDecode: median(known(decode)),
    medianPrefill: median(known(prefill)),
    lastTtftMs: ok.findLast((r) => r.ttftMs !== undefined)?.ttftMs,
  };
}
