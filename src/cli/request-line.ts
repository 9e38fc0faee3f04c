import type { RequestMetrics } from '../proxy/metrics.js';

const fmt = (value: number | undefined, digits = 0, unit = ''): string => (value === undefined ? '–' : `${value.toFixed(digits)}${unit}`);

/** One log line per finished request, for `--no-tui` and `anyclaude proxy`. */
export function formatRequestLine(m: RequestMetrics): string {
  const cache = m.promptTokens === undefined ? '–' : `${m.cachedTokens ?? 0}/${m.promptTokens}`;
  const parts = [
    `${m.status}`,
    m.upstream,
    `ttft ${fmt(m.ttftMs, 0, 'ms')}`,
    `prefill ${fmt(m.prefillTokensPerSec, 0, ' tok/s')}`,
    `decode ${fmt(m.decodeTokensPerSec, 1, ' tok/s')}`,
    `cached ${cache}`,
    `out ${fmt(m.outputTokens)}`,
    `ctx ${fmt(m.contextFillPct, 0, '%')}`,
    `prefix ${m.prefixPreserved === undefined ? '–' : `${(m.prefixPreserved * 100).toFixed(1)}%`}`,
    m.stopReason ?? '',
  ];
  if (m.error !== undefined) parts.push(`error: ${m.error}`);
  if (m.clientAborted) parts.push('(client hung up)');
  return parts.filter((p) => p !== '').join('  ');
}
