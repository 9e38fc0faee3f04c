/**
 * Claude Code's status line for a session run through anyclaude, as one line:
 *
 *   ⚡ lmstudio · qwen3-coder-30b · 38 tok/s · cache 98% · ctx 31%
 *
 * Pure (no I/O, only type imports): `anyclaude status --line` must answer in milliseconds, so this
 * module is loaded on its fast path and nothing heavy may come in with it.
 */
import type { RequestMetrics } from '../proxy/metrics.js';
import type { BackendView, RunState, SessionView } from './run-state.js';
import { shortModel } from '../core/model-name.js';
import { downloadSummary } from './download-summary.js';

export interface StatusLineOptions {
  /** ANSI colors (Claude Code renders them in status lines). */
  color: boolean;
  /** Columns available: less important parts are dropped first, then the line is cut with `…`. */
  width?: number;
}

/** Context fill from which the line warns (yellow), and from which it says what to do (red). */
export const CONTEXT_WARN_PCT = 75;
export const CONTEXT_FULL_PCT = 90;
export const COMPACT_ADVICE = '/compact or start a new conversation';

type Tone = 'plain' | 'dim' | 'bold' | 'yellow' | 'red' | 'green';

interface Part {
  text: string;
  tone: Tone;
  /** Dropped first when the line is too wide: lower goes first; undefined is never dropped. */
  drop?: number;
  /** The next part follows after a plain space, not a separator (the ⚡ icon). */
  icon?: boolean;
}

const CODES: Record<Exclude<Tone, 'plain'>, string> = {
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  green: '\x1b[32m',
};
const RESET = '\x1b[0m';

function paint(text: string, tone: Tone, color: boolean): string {
  return !color || tone === 'plain' ? text : `${CODES[tone]}${text}${RESET}`;
}

/** Enough of a RunState (from another process) that formatting it cannot throw. */
export function looksLikeRunState(value: unknown): value is RunState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof RunState, unknown>>;
  return (
    typeof v.revision === 'number' &&
    typeof v.phase === 'string' &&
    Array.isArray(v.backends) &&
    Array.isArray(v.sessions) &&
    Array.isArray(v.requests) &&
    Array.isArray(v.warmups) &&
    Array.isArray(v.progress) &&
    Array.isArray(v.inFlight) &&
    Array.isArray(v.logs) &&
    typeof v.claude === 'object' &&
    v.claude !== null &&
    v.sessions.every((s) => typeof s === 'object' && s !== null && typeof (s as { last?: unknown }).last === 'object' && (s as { last?: unknown }).last !== null)
  );
}

/** The session this status line is for: its own, or (no id given) the one that ran last. */
export function sessionFor(state: RunState, sessionId: string | undefined): SessionView | undefined {
  if (sessionId !== undefined) return state.sessions.find((s) => s.sessionId === sessionId);
  let latest: SessionView | undefined;
  for (const s of state.sessions) if (latest === undefined || s.last.startedAt > latest.last.startedAt) latest = s;
  return latest;
}

/** Percent (0..100) of `window` the conversation fills after this request, or undefined when the window is unknown. */
export function contextFill(m: RequestMetrics, window: number | undefined = m.contextWindow): number | undefined {
  if (window === m.contextWindow && m.contextFillPct !== undefined) return m.contextFillPct;
  if (window === undefined || window <= 0) return undefined;
  return Math.min(100, ((usedTokens(m) / window) * 100));
}

function usedTokens(m: RequestMetrics): number {
  return (m.promptTokens ?? m.estimatedPromptTokens) + (m.outputTokens ?? 0);
}

/** Share of the prompt the backend found in its cache, in percent; 100 only when all of it was. */
export function cachePct(m: RequestMetrics): number | undefined {
  if (m.cachedTokens === undefined || m.promptTokens === undefined || m.promptTokens <= 0) return undefined;
  const pct = Math.round((Math.min(m.cachedTokens, m.promptTokens) / m.promptTokens) * 100);
  return pct === 100 && m.cachedTokens < m.promptTokens ? 99 : pct;
}

export function formatRate(tokensPerSec: number): string {
  return tokensPerSec < 10 ? tokensPerSec.toFixed(1) : String(Math.round(tokensPerSec));
}

export function formatTokens(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 10_000) return `${(n / 1000).toFixed(1)}K`;
  if (n < 1_000_000) return `${Math.round(n / 1000)}K`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** What the active backend is doing when it is not simply serving: shown first, in place of ⚡. */
function marker(state: RunState, active: BackendView | undefined): { part: Part; namesActive: boolean } | undefined {
  if (state.switching !== undefined) {
    const to = state.switching.to;
    return { part: { text: `⟳ switching to ${to}`, tone: 'yellow' }, namesActive: state.active === to };
  }
  if (state.phase === 'stopping') return { part: { text: '■ stopping', tone: 'dim' }, namesActive: false };
  const id = active?.id;
  if (id !== undefined) {
    const progress = state.progress.find((p) => p.backend === id);
    const step = progress?.step;
    if (step === 'install') return { part: { text: `⟳ installing ${id}`, tone: 'yellow' }, namesActive: true };
    if (step === 'download' && progress?.download !== undefined) {
      return { part: { text: `⟳ downloading ${progress.download.label} ${downloadSummary(progress.download)}`, tone: 'yellow' }, namesActive: false };
    }
    if (active?.phase === 'starting' || step === 'start') return { part: { text: `⟳ starting ${id}`, tone: 'yellow' }, namesActive: true };
    if (active?.phase === 'warming' || step === 'warm' || state.warmups.some((w) => w.backend === id && w.phase === 'warming')) {
      return { part: { text: `⟳ warming ${id}`, tone: 'yellow' }, namesActive: true };
    }
    if (active?.phase === 'degraded') return { part: { text: `⚠ ${id} degraded`, tone: 'yellow' }, namesActive: true };
    if (active?.phase === 'crashed') return { part: { text: `✗ ${id} crashed`, tone: 'red' }, namesActive: true };
    if (active?.phase === 'stopped') return { part: { text: `■ ${id} stopped`, tone: 'dim' }, namesActive: true };
    return undefined;
  }
  if (state.phase === 'preparing' || state.phase === 'installing' || state.phase === 'starting') {
    return { part: { text: `⟳ ${state.phaseDetail !== '' ? state.phaseDetail : state.phase}`, tone: 'yellow' }, namesActive: false };
  }
  return undefined;
}

function sessionParts(session: SessionView, active: BackendView | undefined): Part[] {
  const last = session.last;
  // After a switch the last request came from another backend: its speed and cache say nothing
  // about the active one, but the conversation is as long, so its fill is shown against the active window.
  const sameBackend = active === undefined || last.upstream === active.id;
  const parts: Part[] = [];
  if (last.error !== undefined && last.status >= 400 && !last.clientAborted) {
    parts.push({ text: `✗ ${clip(last.error, 48)}`, tone: 'red', drop: 2 });
  }
  if (sameBackend && last.decodeTokensPerSec !== undefined) parts.push({ text: `${formatRate(last.decodeTokensPerSec)} tok/s`, tone: 'plain', drop: 3 });
  const cache = sameBackend ? cachePct(last) : undefined;
  if (cache !== undefined) parts.push({ text: `cache ${cache}%`, tone: 'plain', drop: 1 });
  const fill = contextFill(last, sameBackend ? last.contextWindow : active?.contextWindow);
  if (fill === undefined) {
    parts.push({ text: `ctx ${formatTokens(usedTokens(last))} tok`, tone: 'plain' });
  } else {
    const pct = Math.round(fill);
    const tone: Tone = fill >= CONTEXT_FULL_PCT ? 'red' : fill >= CONTEXT_WARN_PCT ? 'yellow' : 'plain';
    parts.push({ text: `ctx ${pct}%`, tone });
    if (fill >= CONTEXT_FULL_PCT) parts.push({ text: COMPACT_ADVICE, tone: 'red', drop: 5 });
  }
  // --context-strategy window: the model did not see all of the conversation.
  if (last.trimmedMessages !== undefined && last.trimmedMessages > 0) parts.push({ text: `✂ ${last.trimmedMessages} msg${last.trimmedMessages === 1 ? '' : 's'} left out`, tone: 'yellow', drop: 2 });
  return parts;
}

/**
 * One line for the session `sessionId` (Claude Code's `session_id`; undefined: the session that
 * ran last). The backend named is always `state.active`, so a switch shows at once.
 */
export function formatStatusLine(state: RunState, sessionId: string | undefined, options: StatusLineOptions): string {
  const active = state.active === undefined ? undefined : state.backends.find((b) => b.id === state.active);
  const mark = marker(state, active);
  const session = sessionFor(state, sessionId);
  const parts: Part[] = [];
  parts.push(mark?.part ?? { text: '⚡', tone: 'plain', icon: true });
  if (state.active !== undefined && mark?.namesActive !== true) parts.push({ text: state.active, tone: 'bold' });
  if (state.active === undefined && mark === undefined) parts.push({ text: 'anyclaude', tone: 'bold' });
  const model = active?.model ?? (session !== undefined && session.last.upstream === state.active ? session.last.model : undefined);
  if (model !== undefined && model !== '') parts.push({ text: shortModel(model), tone: 'plain', drop: 4 });
  if (session !== undefined) parts.push(...sessionParts(session, active));
  else if (mark === undefined) parts.push({ text: state.active === undefined ? state.phase : 'ready', tone: 'dim' });
  return render(parts, options);
}

/** For an instance that does not answer (or none running): short and dim, never alarming. */
export function formatStatusLineError(reason: string, options: { color: boolean } = { color: true }): string {
  return paint(`⚡ anyclaude: ${reason}`, 'dim', options.color);
}

const SEPARATOR = ' · ';

function render(parts: Part[], options: StatusLineOptions): string {
  const kept = [...parts];
  const { width } = options;
  if (width !== undefined) {
    while (visibleWidth(plainText(kept)) > width) {
      let victim = -1;
      kept.forEach((p, i) => {
        if (p.drop !== undefined && (victim === -1 || p.drop < kept[victim]!.drop!)) victim = i;
      });
      if (victim === -1) break;
      kept.splice(victim, 1);
    }
  }
  if (width === undefined || visibleWidth(plainText(kept)) <= width) {
    return kept.flatMap((_, i) => pieces(kept, i)).map(([text, tone]) => paint(text, tone, options.color)).join('');
  }
  return truncate(kept, width, options.color);
}

function plainText(parts: Part[]): string {
  return parts
    .flatMap((_, i) => pieces(parts, i))
    .map(([text]) => text)
    .join('');
}

/** Part `i` and what joins it to the one before: a plain space after the ⚡ icon, else a dim separator. */
function pieces(parts: Part[], i: number): Array<[string, Tone]> {
  const p = parts[i]!;
  if (i === 0) return [[p.text, p.tone]];
  return [parts[i - 1]!.icon === true ? [' ', 'plain'] : [SEPARATOR, 'dim'], [p.text, p.tone]];
}

/** Cuts the line at `width` columns, ending with `…`, keeping each part's color. */
function truncate(parts: Part[], width: number, color: boolean): string {
  let out = '';
  let used = 0;
  const room = Math.max(0, width - 1);
  for (let i = 0; i < parts.length; i++) {
    for (const [text, tone] of pieces(parts, i)) {
      const w = visibleWidth(text);
      if (used + w <= room) {
        out += paint(text, tone, color);
        used += w;
        continue;
      }
      let cut = '';
      for (const ch of text) {
        const cw = charWidth(ch);
        if (used + cw > room) break;
        cut += ch;
        used += cw;
      }
      return `${out}${paint(cut, tone, color)}…`;
    }
  }
  return out;
}

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** Emoji like ⚡ take two columns in a terminal; everything this line prints otherwise takes one. */
function charWidth(ch: string): number {
  const code = ch.codePointAt(0) ?? 0;
  if (code === 0x26a1 || (code >= 0x1f300 && code <= 0x1faff) || (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xff00 && code <= 0xff60)) return 2;
  return 1;
}

/** Columns `text` takes on screen (ANSI codes take none). */
export function visibleWidth(text: string): number {
  let n = 0;
  // eslint-disable-next-line no-control-regex
  for (const ch of text.replace(/\x1b\[[0-9;]*m/g, '')) n += charWidth(ch);
  return n;
}
