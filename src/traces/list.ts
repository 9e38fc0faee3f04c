/** `anyclaude traces list`: the newest traces, one line each, from their metrics. */
import { readTrace, type Trace } from './trace-file.js';
import { listTraceFiles } from './trace-store.js';
import { formatInt, formatMs, formatTime, renderTable } from './table.js';
import { modelLabel } from '../core/model-name.js';

export interface TraceSummary {
  id: string;
  path: string;
  backend: string;
  model: string | undefined;
  startedAt: number;
  /** What the backend counted; undefined when it reported nothing (failed, aborted). */
  promptTokens: number | undefined;
  cachedTokens: number | undefined;
  /** The proxy's calibrated estimate, for exchanges the backend never counted. */
  estimatedPromptTokens: number | undefined;
  outputTokens: number | undefined;
  totalMs: number | undefined;
  status: number | undefined;
  stopReason: string | undefined;
  error: string | undefined;
  clientAborted: boolean;
}

export interface TraceProblem {
  path: string;
  problem: string;
}

export interface TraceListing {
  root: string;
  traces: TraceSummary[];
  /** Files that could not be read as traces: reported, never fatal. */
  problems: TraceProblem[];
  /** Traces past the limit, not read. */
  more: number;
}

export async function listTraces(root: string, options: { limit?: number; backend?: string } = {}): Promise<TraceListing> {
  const files = await listTraceFiles(root, options.backend === undefined ? {} : { backend: options.backend });
  const limit = options.limit ?? files.length;
  const chosen = files.slice(0, limit);
  const traces: TraceSummary[] = [];
  const problems: TraceProblem[] = [];
  for (const file of chosen) {
    const read = await readTrace(file.path);
    if (read.ok) traces.push(summarise(read.trace, file.path));
    else problems.push({ path: read.path, problem: read.problem });
  }
  return { root, traces, problems, more: files.length - chosen.length };
}

export function summarise(trace: Trace, path: string): TraceSummary {
  const m = trace.metrics;
  return {
    id: trace.id,
    path,
    backend: trace.backend,
    model: m?.model,
    startedAt: trace.startedAt,
    promptTokens: m?.promptTokens ?? undefined,
    cachedTokens: m?.cachedTokens ?? undefined,
    estimatedPromptTokens: m?.estimatedPromptTokens ?? undefined,
    outputTokens: m?.outputTokens ?? undefined,
    totalMs: m?.totalMs ?? undefined,
    status: m?.status ?? trace.replyOut?.status,
    stopReason: m?.stopReason ?? undefined,
    error: m?.error ?? undefined,
    clientAborted: m?.clientAborted === true,
  };
}

export function promptCell(s: Pick<TraceSummary, 'promptTokens' | 'cachedTokens' | 'estimatedPromptTokens'>): string {
  if (s.promptTokens === undefined) return s.estimatedPromptTokens === undefined ? '-' : `~${formatInt(s.estimatedPromptTokens)}`;
  const cached = s.cachedTokens === undefined || s.cachedTokens === 0 ? '' : ` (${formatInt(s.cachedTokens)} cached)`;
  return `${formatInt(s.promptTokens)}${cached}`;
}

/** `200 end_turn`, `529 error`, `aborted`: what became of the exchange, in a word or two. */
export function statusCell(s: Pick<TraceSummary, 'status' | 'stopReason' | 'error' | 'clientAborted'>): string {
  if (s.clientAborted) return 'aborted';
  const code = s.status === undefined ? '' : String(s.status);
  if (s.error !== undefined) return `${code} error`.trim();
  return [code, s.stopReason].filter((x) => x !== undefined && x !== '').join(' ') || '-';
}

export function renderList(listing: TraceListing): string {
  if (listing.traces.length === 0) return `no traces under ${listing.root} (anyclaude --trace, or ANYCLAUDE_DEBUG=1, writes them)`;
  const rows = listing.traces.map((t) => [
    formatTime(t.startedAt),
    t.id,
    t.backend,
    t.model === undefined ? '-' : modelLabel(t.model),
    promptCell(t),
    t.outputTokens === undefined ? '-' : formatInt(t.outputTokens),
    formatMs(t.totalMs),
    statusCell(t),
  ]);
  const table = renderTable(
    [
      { header: 'time' },
      { header: 'id' },
      { header: 'backend' },
      { header: 'model' },
      { header: 'prompt', align: 'right' },
      { header: 'output', align: 'right' },
      { header: 'took', align: 'right' },
      { header: 'status' },
    ],
    rows,
  );
  const lines = [table];
  if (listing.more > 0) lines.push(`… ${listing.more} older (--limit to see more)`);
  return lines.join('\n');
}

/** One line per unreadable file, for stderr: the listing goes on without them. */
export function renderProblems(problems: readonly TraceProblem[]): string {
  return problems.map((p) => `skipped ${p.path}: ${p.problem}`).join('\n');
}
