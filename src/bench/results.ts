/**
 * What `anyclaude bench` measures, as plain serialisable data: `--json` prints a BenchRun, `--save`
 * writes one, and `bench compare` reads them back (validated, so a stray JSON file is skipped, not
 * misread). The numbers are the proxy's own RequestMetrics for each replayed request.
 */
import { z } from 'zod';

export const BENCH_SCHEMA = 'anyclaude-bench/1';

const num = z.number().nullable();

/** One replayed request, as the proxy measured it. */
export const turnResultSchema = z.object({
  /** 1-based position in the replay; the new-session turn after the warm-up is `phase: 'new-session'`. */
  turn: z.number().int(),
  phase: z.enum(['replay', 'new-session']),
  /** Short session label (s1, s2, …) in the order sessions first appear. */
  session: z.string(),
  messages: z.number().int(),
  stream: z.boolean(),
  status: z.number().int(),
  error: z.string().nullable(),
  stopReason: z.string().nullable(),
  ttftMs: num,
  prefillTokensPerSec: num,
  decodeTokensPerSec: num,
  promptTokens: num,
  cachedTokens: num,
  /** cachedTokens / promptTokens (0..1). */
  cachedShare: num,
  outputTokens: num,
  /** 0..1: share of this prompt equal to the session's previous one (below 1 on every follow-up: the new turn is new). */
  prefixStability: num,
  /** 0..1: share of the session's previous prompt kept unchanged; 1 on a healthy follow-up, null on a session's first request. */
  prefixPreserved: num,
  totalMs: z.number(),
});
export type TurnResult = z.infer<typeof turnResultSchema>;

export const backendResultSchema = z.object({
  backend: z.string(),
  model: z.string().nullable(),
  url: z.string(),
  /** anyclaude started the server (so it started cold); false: a server that was already running. */
  managed: z.boolean(),
  contextWindow: num,
  /** Backend start (venv check, server start, model load) in ms. */
  startMs: z.number(),
  turns: z.array(turnResultSchema),
  /** The remembered-prefix warm-up before the new session (null: not run). */
  warmup: z.object({ ok: z.boolean(), ms: z.number(), detail: z.string(), restarted: z.boolean() }).nullable(),
  summary: z.object({
    firstTurnTtftMs: num,
    /** Median TTFT of the replay's other requests. */
    followUpTtftMs: num,
    /** TTFT of a new session's first turn after the warm-up. */
    newSessionTtftMs: num,
    newSessionCachedShare: num,
    meanPrefillTokensPerSec: num,
    meanDecodeTokensPerSec: num,
    /** Mean cached share of the follow-up requests. */
    followUpCachedShare: num,
    /** Sum of the replayed requests' total times (not the start or the warm-up). */
    replayMs: z.number(),
    errors: z.number().int(),
  }),
  /** Why this backend has no turns (it failed to start), else null. */
  error: z.string().nullable(),
});
export type BackendResult = z.infer<typeof backendResultSchema>;

export const benchRunSchema = z.object({
  schema: z.literal(BENCH_SCHEMA),
  createdAt: z.string(),
  anyclaudeVersion: z.string(),
  machine: z.object({ cpu: z.string(), cores: z.number().int(), memoryGiB: z.number(), os: z.string(), arch: z.string(), node: z.string(), label: z.string() }),
  input: z.object({ path: z.string(), kind: z.enum(['capture', 'trace']), requests: z.number().int(), sessions: z.number().int() }),
  options: z.object({ maxTokens: z.number().int().nullable(), stripTools: z.boolean(), turns: z.number().int().nullable() }),
  backends: z.array(backendResultSchema),
});
export type BenchRun = z.infer<typeof benchRunSchema>;

/** The per-backend summary from its turns. */
export function summarise(turns: readonly TurnResult[]): BackendResult['summary'] {
  const replay = turns.filter((t) => t.phase === 'replay');
  const fresh = turns.find((t) => t.phase === 'new-session');
  const followUps = replay.slice(1);
  return {
    firstTurnTtftMs: replay[0]?.ttftMs ?? null,
    followUpTtftMs: median(followUps.map((t) => t.ttftMs)),
    newSessionTtftMs: fresh?.ttftMs ?? null,
    newSessionCachedShare: fresh?.cachedShare ?? null,
    meanPrefillTokensPerSec: mean(replay.map((t) => t.prefillTokensPerSec)),
    meanDecodeTokensPerSec: mean(replay.map((t) => t.decodeTokensPerSec)),
    followUpCachedShare: mean(followUps.map((t) => t.cachedShare)),
    replayMs: replay.reduce((n, t) => n + t.totalMs, 0),
    errors: turns.filter((t) => t.error !== null).length,
  };
}

function present(values: ReadonlyArray<number | null>): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

export function mean(values: ReadonlyArray<number | null>): number | null {
  const list = present(values);
  return list.length === 0 ? null : list.reduce((a, b) => a + b, 0) / list.length;
}

export function median(values: ReadonlyArray<number | null>): number | null {
  const list = present(values).sort((a, b) => a - b);
  if (list.length === 0) return null;
  const mid = Math.floor(list.length / 2);
  return list.length % 2 === 1 ? list[mid]! : (list[mid - 1]! + list[mid]!) / 2;
}
