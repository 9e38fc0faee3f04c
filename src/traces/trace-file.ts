/**
 * One trace file as the proxy writes it (src/proxy/trace-writer.ts), validated on read.
 * Validation is lenient where the writer has changed or may change (metrics, extra fields):
 * a trace from an older anyclaude still loads, with the facts it lacks left undefined.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** The parts of `RequestMetrics` that `traces` reads; each one optional, since old or failed exchanges lack some. */
const metricsSchema = z.looseObject({
  model: z.string().optional(),
  upstream: z.string().optional(),
  stream: z.boolean().optional(),
  status: z.number().optional(),
  error: z.string().nullish(),
  stopReason: z.string().nullish(),
  ttftMs: z.number().nullish(),
  totalMs: z.number().nullish(),
  promptTokens: z.number().nullish(),
  cachedTokens: z.number().nullish(),
  outputTokens: z.number().nullish(),
  estimatedPromptTokens: z.number().nullish(),
  contextWindow: z.number().nullish(),
  clientAborted: z.boolean().optional(),
});

const bodyPart = z.looseObject({ url: z.string(), body: z.string() });
const replyPart = z.looseObject({ status: z.number(), body: z.string() });

const traceSchema = z.looseObject({
  id: z.string(),
  backend: z.string(),
  startedAt: z.number(),
  requestIn: z.looseObject({
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.unknown()),
    body: z.string(),
  }),
  upstreamRequest: bodyPart.optional(),
  upstreamReply: replyPart.optional(),
  replyOut: replyPart.optional(),
  // A metrics object of a shape this version does not know must not make the whole trace unreadable.
  metrics: metricsSchema.optional().catch(undefined),
});

export type TraceMetrics = z.infer<typeof metricsSchema>;
export type Trace = z.infer<typeof traceSchema>;

/** A trace file read and validated, or why it could not be. */
export type TraceRead = { ok: true; path: string; trace: Trace; raw: string } | { ok: false; path: string; problem: string };

export async function readTrace(path: string): Promise<TraceRead> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, path, problem: `cannot read it (${error instanceof Error ? error.message : String(error)})` };
  }
  return parseTrace(path, raw);
}

/** An already parsed JSON value as a trace, or undefined when it is none (bench tells traces from captures this way). */
export function asTrace(json: unknown): Trace | undefined {
  const parsed = traceSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export function parseTrace(path: string, raw: string): TraceRead {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // A proxy killed mid-write leaves a partial file; it says so rather than failing the listing.
    return { ok: false, path, problem: raw.trim() === '' ? 'empty file' : 'not valid JSON (cut short while being written?)' };
  }
  const parsed = traceSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    return { ok: false, path, problem: `not an anyclaude trace${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, path, trace: parsed.data, raw };
}
