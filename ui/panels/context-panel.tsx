/**
 * How full the current conversation's context window is, as a bar: yellow from 75 %, red from
 * 90 %, with what to do about it, or what `--context-strategy window` left out. Local models have small windows; running out mid-task is
 * the surprise this panel is here to prevent.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { formatContextWindow, formatPercent, formatTokens } from '../format.js';
import { contextAdvice, contextFill } from '../insights.js';
import { LABEL_WIDTH, sparkWidth, type Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';
import { SEVERITY_TONE, type Tone } from '../theme.js';

export function contextDemand(state: RunState): Demand {
  const fill = contextFill(state);
  if (fill === undefined) return { min: 0, want: 0 };
  return { min: 1, want: contextAdvice(fill.fill, fill.trimmed) ? 2 : 1 };
}

/** `width` cells, the first `fill` share of them full. */
export function fillBar(fill: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fill)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

function Context({ state, width, height }: { state: RunState; width: number; height: number }): ReactNode {
  const fill = contextFill(state);
  if (height <= 0 || fill === undefined) return null;
  const advice = contextAdvice(fill.fill, fill.trimmed);
  const tone: Tone = advice ? SEVERITY_TONE[advice.severity] : { color: 'green' };
  const label = <Text bold>{'Context'.padEnd(LABEL_WIDTH)}</Text>;
  if (fill.fill === undefined || fill.window === undefined) {
    return (
      <Line width={width}>
        {label}
        <Text>{`${formatTokens(fill.tokens)} tokens`}</Text>
        <Text dimColor> · context window unknown</Text>
      </Line>
    );
  }
  const bar = sparkWidth(width, state.requests.length);
  return (
    <Box flexDirection="column" width={width}>
      <Line width={width}>
        {label}
        <Text {...tone}>{fillBar(fill.fill, bar)}</Text>
        <Text bold {...tone}>{` ${formatPercent(fill.fill).padStart(5)}`}</Text>
        <Text dimColor>{` of ${formatContextWindow(fill.window)} (${formatTokens(fill.tokens)} tokens)`}</Text>
        {/* Alone on its line, the advice still says the one thing to do. */}
        {advice && height < 2 ? <Text {...tone}>{fill.trimmed === undefined ? ' /compact' : ` ✂ ${fill.trimmed.messages} left out`}</Text> : null}
      </Line>
      {advice && height >= 2 ? (
        <Line width={width} tone={tone}>
          {' '.repeat(LABEL_WIDTH)}
          {advice.text}
        </Line>
      ) : null}
    </Box>
  );
}

/** What it reads: the sessions' latest requests (else the latest request) and the backends' context windows. */
export const ContextPanel = memoOn(Context, ({ state, width, height }) => [state.sessions, state.requests, state.backends, width, height]);
