/**
 * How fast the backend is: decode and prefill rates of recent requests as sparklines with the
 * latest value and the median, the last time to first token, and requests streaming now.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { InFlightView, RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { formatDuration, formatRate, formatTokens, shortModel } from '../format.js';
import { throughput } from '../insights.js';
import { LABEL_WIDTH, sparkWidth, type Demand } from '../layout.js';
import { sparkline } from '../sparkline.js';

const MAX_IN_FLIGHT = 3;

export function throughputDemand(state: RunState): Demand {
  const streaming = Math.min(MAX_IN_FLIGHT, state.inFlight.length);
  if (state.requests.length === 0) return { min: 1, want: Math.max(1, streaming) };
  return { min: 1, want: 2 + streaming };
}

export function ThroughputPanel({ state, width, height, now }: { state: RunState; width: number; height: number; now: number }): ReactNode {
  if (height <= 0) return null;
  const lines: ReactNode[] = [];
  const spark = sparkWidth(width, state.requests.length);
  if (state.requests.length > 0) {
    const t = throughput(state.requests);
    lines.push(
      <Line key="decode" width={width}>
        <Text bold>{'Decode'.padEnd(LABEL_WIDTH)}</Text>
        <Text color="green">{sparkline(t.decode, spark).padEnd(spark)}</Text>
        <Text bold>{` ${formatRate(t.lastDecode).padStart(5)} tok/s`}</Text>
        <Text dimColor>{`  median ${formatRate(t.medianDecode)}`}</Text>
      </Line>,
      <Line key="prefill" width={width}>
        <Text bold>{'Prefill'.padEnd(LABEL_WIDTH)}</Text>
        <Text color="cyan">{sparkline(t.prefill, spark).padEnd(spark)}</Text>
        <Text bold>{` ${formatRate(t.lastPrefill).padStart(5)} tok/s`}</Text>
        <Text dimColor>{`  median ${formatRate(t.medianPrefill)}`}</Text>
        <Text>{`  TTFT ${formatDuration(t.lastTtftMs)}`}</Text>
      </Line>,
    );
  } else if (state.inFlight.length === 0) {
    lines.push(
      <Line key="none" width={width} tone={{ dimColor: true }}>
        {'Throughput'.padEnd(LABEL_WIDTH)}no requests yet: they appear here as Claude Code sends them
      </Line>,
    );
  }
  for (const f of state.inFlight.slice(0, MAX_IN_FLIGHT)) lines.push(<InFlightLine key={f.id} f={f} width={width} now={now} />);
  return (
    <Box flexDirection="column" width={width}>
      {lines.slice(0, height)}
    </Box>
  );
}

/** A request still streaming: its output so far, and the rate since its first token. */
function InFlightLine({ f, width, now }: { f: InFlightView; width: number; now: number }): ReactNode {
  // `now` ticks once a second, so a request may have started after it.
  const elapsed = Math.max(0, now - f.startedAt);
  const decoding = f.ttftMs === undefined ? undefined : elapsed - f.ttftMs;
  const rate = decoding !== undefined && decoding > 500 && f.outputTokens > 0 ? (f.outputTokens * 1000) / decoding : undefined;
  return (
    <Line width={width}>
      <Text bold color="yellow">
        {'Streaming'.padEnd(LABEL_WIDTH)}
      </Text>
      <Text>{`${formatTokens(f.outputTokens)} tokens out`}</Text>
      <Text dimColor>
        {f.ttftMs === undefined ? `  prefilling for ${formatDuration(elapsed)}` : `  ${rate === undefined ? '' : `~${formatRate(rate)} tok/s  `}${formatDuration(elapsed)}`}
        {`  ${f.upstream} · ${shortModel(f.model, 30)}`}
      </Text>
    </Line>
  );
}
