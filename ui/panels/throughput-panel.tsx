/**
 * How fast the backend is: decode and prefill rates of recent requests as sparklines with the
 * latest value and the median, the last time to first token, and requests streaming now.
 */
import { memo, type ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import type { InFlightView, RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { useClock } from '../clock.js';
import { formatDuration, formatRate, formatTokens, shortModel } from '../format.js';
import { throughput } from '../insights.js';
import { LABEL_WIDTH, sparkWidth, type Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';
import { sparkline } from '../sparkline.js';

const MAX_IN_FLIGHT = 3;

export function throughputDemand(state: RunState): Demand {
  const streaming = Math.min(MAX_IN_FLIGHT, state.inFlight.length);
  if (state.requests.length === 0) return { min: 1, want: Math.max(1, streaming) };
  return { min: 1, want: 2 + streaming };
}

export interface ThroughputPanelProps {
  state: RunState;
  width: number;
  height: number;
  /** The time in-flight requests are timed to; omitted: the dashboard's clock. */
  now?: number;
}

function Throughput({ state, width, height, now }: ThroughputPanelProps): ReactNode {
  if (height <= 0) return null;
  const { requests, inFlight } = state;
  const rateLines = requests.length > 0 ? Math.min(2, height) : 0;
  const none = requests.length === 0 && inFlight.length === 0;
  const streaming = inFlight.slice(0, Math.min(MAX_IN_FLIGHT, height - rateLines));
  return (
    <Box flexDirection="column" width={width}>
      {rateLines > 0 ? <Rates requests={requests} width={width} lines={rateLines} /> : null}
      {none ? (
        <Line width={width} tone={{ dimColor: true }}>
          {'Throughput'.padEnd(LABEL_WIDTH)}no requests yet: they appear here as Claude Code sends them
        </Line>
      ) : null}
      {streaming.map((f) => (
        <InFlightLine key={f.id} f={f} width={width} now={now} />
      ))}
    </Box>
  );
}

/** What it reads: the finished requests and those streaming now. */
export const ThroughputPanel = memoOn(Throughput, ({ state, width, height, now }) => [state.requests, state.inFlight, width, height, now]);

/** Decode and prefill of the finished requests (the first `lines` of the two): redrawn only when a request finishes. */
const Rates = memo(function Rates({ requests, width, lines }: { requests: readonly RequestMetrics[]; width: number; lines: number }): ReactNode {
  const spark = sparkWidth(width, requests.length);
  const t = throughput(requests);
  return (
    <>
      <Line width={width}>
        <Text bold>{'Decode'.padEnd(LABEL_WIDTH)}</Text>
        <Text color="green">{sparkline(t.decode, spark).padEnd(spark)}</Text>
        <Text bold>{` ${formatRate(t.lastDecode).padStart(5)} tok/s`}</Text>
        <Text dimColor>{`  median ${formatRate(t.medianDecode)}`}</Text>
      </Line>
      {lines > 1 ? (
        <Line width={width}>
          <Text bold>{'Prefill'.padEnd(LABEL_WIDTH)}</Text>
          <Text color="cyan">{sparkline(t.prefill, spark).padEnd(spark)}</Text>
          <Text bold>{` ${formatRate(t.lastPrefill).padStart(5)} tok/s`}</Text>
          <Text dimColor>{`  median ${formatRate(t.medianPrefill)}`}</Text>
          <Text>{`  TTFT ${formatDuration(t.lastTtftMs)}`}</Text>
        </Line>
      ) : null}
    </>
  );
});

/** After the output count: the rate since the first token and the time since the start, or how long it has been prefilling. */
function inFlightTiming(f: InFlightView, now: number): string {
  // `now` ticks once a second, so a request may have started after it.
  const elapsed = Math.max(0, now - f.startedAt);
  const decoding = f.ttftMs === undefined ? undefined : elapsed - f.ttftMs;
  const rate = decoding !== undefined && decoding > 500 && f.outputTokens > 0 ? (f.outputTokens * 1000) / decoding : undefined;
  return f.ttftMs === undefined ? `  prefilling for ${formatDuration(elapsed)}` : `  ${rate === undefined ? '' : `~${formatRate(rate)} tok/s  `}${formatDuration(elapsed)}`;
}

/** A request still streaming: its output so far, and the rate since its first token. */
function InFlightLine({ f, width, now }: { f: InFlightView; width: number; now: number | undefined }): ReactNode {
  const timing = useClock((clock) => inFlightTiming(f, now ?? clock));
  return (
    <Line width={width}>
      <Text bold color="yellow">
        {'Streaming'.padEnd(LABEL_WIDTH)}
      </Text>
      <Text>{`${formatTokens(f.outputTokens)} tokens out`}</Text>
      <Text dimColor>
        {timing}
        {`  ${f.upstream} · ${shortModel(f.model, 30)}`}
      </Text>
    </Line>
  );
}
