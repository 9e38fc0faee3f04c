/**
 * The top line: what runs, where requests go, for how long. Items drop from the least useful
 * (the proxy URL) when the terminal is narrow, so the active backend stays readable.
 */
import { Fragment, type ReactNode } from 'react';
import { Text } from 'ink';
import type { ClaudeView, RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { useClock } from '../clock.js';
import { fitItems, formatElapsed, shortModel } from '../format.js';
import { memoOn } from '../memo-on.js';
import { RUN_PHASE_TONE, type Tone } from '../theme.js';

interface Item {
  text: string;
  drop: number;
  tone?: Tone;
  bold?: boolean;
}

const SEPARATOR = ' · ';
/** The model in the header is a reminder; the backends panel has the full name. */
const MODEL_WIDTH = 28;

export function headerItems(state: RunState, now: number): Item[] {
  return itemsWithUptime(state, formatElapsed(state.startedAt, now));
}

function itemsWithUptime(state: RunState, uptime: string): Item[] {
  const active = state.backends.find((b) => b.id === state.active);
  const items: Item[] = [{ text: 'anyclaude', drop: -1, bold: true }];
  // While anyclaude is still getting ready, what it is doing matters more than where requests will go.
  const settled = state.phase === 'running' || state.phase === 'ready';
  items.push({ text: state.phaseDetail ? `${state.phase}: ${state.phaseDetail}` : state.phase, drop: settled ? 2 : 0, tone: RUN_PHASE_TONE[state.phase] });
  if (active) items.push({ text: active.model ? `${active.id} · ${shortModel(active.model, MODEL_WIDTH)}` : active.id, drop: 1, tone: { color: 'green' } });
  else items.push({ text: 'no backend', drop: 1, tone: { color: 'yellow' } });
  items.push(claudeItem(state.claude));
  items.push({ text: `up ${uptime}`, drop: 4, tone: { dimColor: true } });
  items.push({ text: state.proxyUrl ?? 'proxy not listening yet', drop: 5, tone: { dimColor: true } });
  return items;
}

function claudeItem(claude: ClaudeView): Item {
  if (claude.state === 'running') return { text: 'Claude Code running', drop: 3 };
  if (claude.state === 'not-started') return { text: 'Claude Code not started', drop: 3, tone: { dimColor: true } };
  const code = claude.exitCode ?? 0;
  return { text: `Claude Code exited${code === 0 ? '' : ` (${code})`}`, drop: 3, tone: code === 0 ? { dimColor: true } : { color: 'red' } };
}

export interface HeaderProps {
  state: RunState;
  /** The time the uptime is counted to; omitted: the dashboard's clock. */
  now?: number;
  width: number;
}

function HeaderLine({ state, now, width }: HeaderProps): ReactNode {
  // The clock re-renders this line only when the uptime it shows changes.
  const uptime = useClock((clock) => formatElapsed(state.startedAt, now ?? clock));
  const items = fitItems(itemsWithUptime(state, uptime), width, SEPARATOR);
  return (
    <Line width={width}>
      {items.map((item, i) => (
        <Fragment key={i}>
          {i > 0 ? <Text dimColor>{SEPARATOR}</Text> : null}
          <Text bold={item.bold} {...item.tone}>
            {item.text}
          </Text>
        </Fragment>
      ))}
    </Line>
  );
}

/** What it reads: the run's phase, the active backend, Claude Code, the uptime and the proxy. */
export const Header = memoOn(HeaderLine, ({ state, now, width }) => [state.backends, state.active, state.phase, state.phaseDetail, state.claude, state.startedAt, state.proxyUrl, now, width]);
