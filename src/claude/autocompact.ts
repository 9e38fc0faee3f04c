/**
 * Makes Claude Code compact a conversation before it outgrows the local model's real window.
 *
 * Claude Code believes an unknown model has a 200K window. Its auto-compact rule (2.1.197, read
 * from its binary and checked end to end in test/e2e/autocompact.test.ts):
 *   effective = window − min(max output tokens, 20K)      → 200K − 20K = 180K for our model name
 *   threshold = min(floor(effective × PCT / 100), effective − 13K)
 * where PCT is CLAUDE_AUTOCOMPACT_PCT_OVERRIDE (parsed as a float, 0 < PCT ≤ 100), and the token
 * count compared is the last reply's usage (prompt + cached + output). So a percentage of 180K
 * lands anywhere we want in a small window. CLAUDE_CODE_AUTO_COMPACT_WINDOW cannot serve for the
 * size (values under 100K are raised to 100K), but it must be set: while the window's source is
 * Claude Code's own default ("auto"), it never compacts ahead of time and waits for the API's
 * "prompt is too long". Set to the 200K it assumes anyway, it changes no number, only that.
 */

/** Claude Code's window for a model it does not know. */
const ASSUMED_WINDOW = 200_000;
/** It reserves min(max output, this) of the window for the reply. */
const OUTPUT_RESERVE_CAP = 20_000;
/** Max output tokens of a model it does not know (CLAUDE_CODE_MAX_OUTPUT_TOKENS changes it). */
const UNKNOWN_MODEL_MAX_OUTPUT = 32_000;
/** CLAUDE_CODE_AUTO_COMPACT_WINDOW below this is raised to it. */
const AUTO_COMPACT_WINDOW_FLOOR = 100_000;
/** Its own threshold sits this far below the effective window; ours never needs to be higher. */
const OWN_MARGIN = 13_000;
const MAX_RESERVE = OWN_MARGIN + OUTPUT_RESERVE_CAP;

/**
 * The compaction request is the whole conversation plus Claude Code's summary instructions
 * (~6,100 characters appended to the last user message in 2.1.197: about 1,500 tokens), and the
 * summary must still fit in what is left: 15 % of the window, at least 1K. Never more than
 * Claude Code's own 33K (200K − 167K).
 */
const COMPACT_INSTRUCTIONS_TOKENS = 1600;
const SUMMARY_SHARE = 0.15;
const MIN_SUMMARY_TOKENS = 1024;
/**
 * In a window too small for all that (under ~4K) the conversation still gets a third of it:
 * compacting on every turn would be worse than a summary squeezed for room.
 */
const MAX_RESERVE_SHARE = 2 / 3;
export const AUTOCOMPACT_ENV = 'CLAUDE_AUTOCOMPACT_PCT_OVERRIDE';
const WINDOW_ENV = 'CLAUDE_CODE_AUTO_COMPACT_WINDOW';

/** Tokens of the real window at which the conversation should be compacted. */
export function compactAtTokens(contextWindow: number): number {
  const summary = Math.max(MIN_SUMMARY_TOKENS, Math.round(contextWindow * SUMMARY_SHARE));
  const reserve = Math.min(MAX_RESERVE, COMPACT_INSTRUCTIONS_TOKENS + summary, Math.round(contextWindow * MAX_RESERVE_SHARE));
  return Math.max(1, contextWindow - reserve);
}

/** The window Claude Code compares usage against, given what the user's environment changes. */
export function claudeEffectiveWindow(env: NodeJS.ProcessEnv): number {
  const maxOutput = positiveInt(env.CLAUDE_CODE_MAX_OUTPUT_TOKENS) ?? UNKNOWN_MODEL_MAX_OUTPUT;
  const capped = positiveInt(env[WINDOW_ENV]);
  const window = capped === undefined ? ASSUMED_WINDOW : Math.min(ASSUMED_WINDOW, Math.max(AUTO_COMPACT_WINDOW_FLOOR, capped));
  return window - Math.min(maxOutput, OUTPUT_RESERVE_CAP);
}

/**
 * The variables that make Claude Code compact at `compactAtTokens(contextWindow)`; empty when the
 * window is unknown, when Claude Code's own threshold is already low enough, or when the user
 * set the percentage themselves (theirs wins, as does their window).
 */
export function autocompactEnv(contextWindow: number | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  if (contextWindow === undefined || (env[AUTOCOMPACT_ENV] ?? '') !== '') return {};
  const effective = claudeEffectiveWindow(env);
  const target = compactAtTokens(contextWindow);
  if (target >= effective - OWN_MARGIN) return {};
  // Two decimals, rounded down: Claude Code floors effective × pct / 100, which then never passes target.
  const pct = Math.max(0.01, Math.floor((target / effective) * 10_000) / 100);
  const out: Record<string, string> = { [AUTOCOMPACT_ENV]: pct.toFixed(2) };
  if (positiveInt(env[WINDOW_ENV]) === undefined) out[WINDOW_ENV] = String(ASSUMED_WINDOW);
  return out;
}

/** Where Claude Code will compact with that environment, in tokens (for logs and tests). */
export function claudeCompactThreshold(env: NodeJS.ProcessEnv): number {
  const effective = claudeEffectiveWindow(env);
  const pct = Number.parseFloat(env[AUTOCOMPACT_ENV] ?? '');
  const own = effective - OWN_MARGIN;
  return Number.isFinite(pct) && pct > 0 && pct <= 100 ? Math.min(Math.floor(effective * (pct / 100)), own) : own;
}

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isNaN(n) || n <= 0 ? undefined : n;
}
