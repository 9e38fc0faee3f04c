/**
 * Prompt cache reuse: what share of each prompt the backend served from its cache, next to how
 * much of the prompt anyclaude saw unchanged since the previous turn. The two together tell a
 * cache that is too small or was evicted from a prompt that really changed.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import type { RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { formatPercent, formatTokens, wrapWords } from '../format.js';
import { cacheAdvice, cachedShare, type Advice } from '../insights.js';
import { LABEL_WIDTH, sparkWidth, type Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';
import { sparkline } from '../sparkline.js';
import { SEVERITY_TONE } from '../theme.js';

function answered(requests: readonly RequestMetrics[]): RequestMetrics[] {
  return requests.filter((r) => r.error === undefined && r.promptTokens !== undefined);
}

/** The advice as the lines it takes, indented under the label. */
function adviceLines(advice: Advice | undefined, width: number): string[] {
  return advice ? wrapWords(advice.text, Math.max(10, width - LABEL_WIDTH)) : [];
}

export function cacheDemand(state: RunState, width: number): Demand {
  if (answered(state.requests).length === 0) return { min: 0, want: 0 };
  return { min: 1, want: 1 + adviceLines(cacheAdvice(state.requests), width).length };
}

function Cache({ state, width, height }: { state: RunState; width: number; height: number }): ReactNode {
  const requests = answered(state.requests);
  const last = requests.at(-1);
  if (height <= 0 || last === undefined) return null;
  const advice = cacheAdvice(state.requests);
  const spark = sparkWidth(width, state.requests.length);
  const share = cachedShare(last);
  const reported = requests.some((r) => r.cachedTokens !== undefined);
  const tone = advice?.severity === 'warn' ? SEVERITY_TONE.warn : { color: 'green' };
  return (
    <Box flexDirection="column" width={width}>
      <Line width={width}>
        <Text bold>{'Cache'.padEnd(LABEL_WIDTH)}</Text>
        {reported ? (
          <>
            <Text color="green">{sparkline(requests.map(cachedShare), spark, { min: 0, max: 1 }).padEnd(spark)}</Text>
            <Text bold {...tone}>{` ${formatPercent(share).padStart(5)} cached`}</Text>
            <Text dimColor>{share === undefined ? '' : ` (${formatTokens(last.cachedTokens)}/${formatTokens(last.promptTokens)})`}</Text>
          </>
        ) : (
          <Text dimColor>not reported by the backend</Text>
        )}
        <Text>{last.prefixStability === undefined ? ' · first turn of its session' : ` · ${formatPercent(last.prefixStability)} same as last turn`}</Text>
      </Line>
      {adviceLines(advice, width)
        .slice(0, height - 1)
        .map((text, i) => (
          <Line key={i} width={width} tone={advice ? SEVERITY_TONE[advice.severity] : {}}>
            {' '.repeat(LABEL_WIDTH)}
            {text}
          </Line>
        ))}
    </Box>
  );
}

/** What it reads: the finished requests. */
export const CachePanel = memoOn(Cache, ({ state, width, height }) => [state.requests, width, height]);
