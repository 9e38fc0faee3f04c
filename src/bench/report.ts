/**
 * A bench run as text: a terminal table or markdown, with the same rows. Per backend, one row per
 * replayed request and one for the new session after the warm-up; then one summary row per backend.
 */
import type { BackendResult, BenchRun, TurnResult } from './results.js';
import { count, ms, pct, rate } from './format.js';
import { markdownTable, textTable } from '../core/text-table.js';
import { modelLabel, shortModel } from '../core/model-name.js';

const TURN_HEADER = ['turn', 'session', 'msgs', 'prompt tok', 'cached tok', 'cached', 'prefix kept', 'TTFT', 'prefill', 'decode', 'out tok', 'total'];
const TURN_RIGHT = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
const SUMMARY_HEADER = ['backend', 'model', 'start', '1st turn TTFT', 'follow-up TTFT', 'new session TTFT', 'new session cached', 'follow-up cached', 'prefill', 'decode', 'replay total', 'errors'];
const SUMMARY_RIGHT = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

function turnRow(t: TurnResult): string[] {
  return [
    t.phase === 'new-session' ? 'new session' : String(t.turn),
    t.session,
    String(t.messages),
    count(t.promptTokens),
    count(t.cachedTokens),
    pct(t.cachedShare),
    pct(t.prefixPreserved),
    ms(t.ttftMs),
    rate(t.prefillTokensPerSec),
    rate(t.decodeTokensPerSec),
    count(t.outputTokens),
    t.error === null ? ms(t.totalMs) : `error: ${t.error.slice(0, 60)}`,
  ];
}

export function summaryRow(b: BackendResult): string[] {
  const s = b.summary;
  return [
    b.backend,
    b.model === null ? '–' : shortModel(b.model),
    ms(b.startMs),
    ms(s.firstTurnTtftMs),
    ms(s.followUpTtftMs),
    ms(s.newSessionTtftMs),
    pct(s.newSessionCachedShare),
    pct(s.followUpCachedShare),
    rate(s.meanPrefillTokensPerSec),
    rate(s.meanDecodeTokensPerSec),
    ms(s.replayMs),
    String(s.errors),
  ];
}

export const SUMMARY_COLUMNS = { header: SUMMARY_HEADER, right: SUMMARY_RIGHT };

function backendLine(b: BackendResult): string {
  if (b.error !== null) return `${b.backend}: failed — ${b.error}`;
  const how = b.managed ? 'started by anyclaude, cold' : 'already running (its cache may not be cold)';
  const warm = b.warmup === null ? 'no warm-up (no system prompt to remember)' : `warm-up ${b.warmup.ok ? ms(b.warmup.ms) : `failed: ${b.warmup.detail}`}${b.warmup.restarted ? ' after a cold restart' : ''}`;
  // A local path says little beyond its folder's name, and shows the user's folders in a shared report.
  const model = b.model === null ? 'model per request' : modelLabel(b.model);
  return `${b.backend} · ${model} · ${how}, context ${b.contextWindow ?? 'unknown'} · started in ${ms(b.startMs)} · ${warm}`;
}

function heading(run: BenchRun): string[] {
  const o = run.options;
  const options = [o.maxTokens === null ? undefined : `--max-tokens ${o.maxTokens}`, o.stripTools ? '--strip-tools' : undefined, o.turns === null ? undefined : `--turns ${o.turns}`].filter(Boolean);
  return [
    `Replay of ${run.input.path} (${run.input.requests} requests, ${run.input.sessions} session${run.input.sessions === 1 ? '' : 's'})${options.length === 0 ? '' : ` with ${options.join(' ')}`}`,
    `Machine: ${run.machine.label} · Node ${run.machine.node} · anyclaude ${run.anyclaudeVersion} · ${run.createdAt}`,
  ];
}

export function renderTable(run: BenchRun): string {
  const parts = [heading(run).join('\n')];
  for (const b of run.backends) {
    parts.push(backendLine(b));
    if (b.turns.length > 0) parts.push(textTable(TURN_HEADER, b.turns.map(turnRow), { right: TURN_RIGHT, rule: true }));
  }
  parts.push(textTable(SUMMARY_HEADER, run.backends.map(summaryRow), { right: SUMMARY_RIGHT, rule: true }));
  return `${parts.join('\n\n')}\n`;
}

export function renderMarkdown(run: BenchRun): string {
  const parts = [heading(run).map((l) => `${l}  `).join('\n'), markdownTable(SUMMARY_HEADER, run.backends.map(summaryRow), { right: SUMMARY_RIGHT })];
  for (const b of run.backends) {
    parts.push(`**${backendLine(b).replace(/\*/g, '\\*')}**`);
    if (b.turns.length > 0) parts.push(markdownTable(TURN_HEADER, b.turns.map(turnRow), { right: TURN_RIGHT }));
  }
  return `${parts.join('\n\n')}\n`;
}

export function renderJson(run: BenchRun): string {
  return `${JSON.stringify(run, null, 2)}\n`;
}
