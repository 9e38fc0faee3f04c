/**
 * The top line: what runs, where requests go, for how long. Items drop from the least useful
 * (the proxy URL) when the terminal is narrow, so the active backend stays readable.
 */
import { Fragment, type ReactNode } from 'react';
import { Text } from 'ink';
import type { ClaudeView, RunState } from '../../src/run/run-state.js';
import { Line } from '../cells.js';
import { fitItems, formatElapsed, shortModel } from '../format.js';
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
  const active = state.backends.find((b) => b.id === state.active);
  const items: Item[] = [{ text: 'anyclaude', drop: -1, bold: true }];
  // While anyclaude is still getting ready, what it is doing matters more than where requests will go.
  const settled = state.phase === 'running' || state.phase === 'ready';
  items.push({ text: state.phaseDetail ? `${state.phase}: ${state.phaseDetail}` : state.phase, drop: settled ? 2 : 0, tone: RUN_PHASE_TONE[state.phase] });
  if (active) items.push({ text: active.model ? `${active.id} · ${shortModel(active.model, MODEL_WIDTH)}` : active.id, drop: 1, tone: { color: 'green' } });
  else items.push({ text: 'no backend', drop: 1, tone: { color: 'yellow' } });
  items.push(claudeItem(state.claude));
  items.push({ text: `up ${formatElapsed(state.startedAt, now)}`, drop: 4, tone: { dimColor: true } });
  items.push({ text: state.proxyUrl ?? 'proxy not listening yet', drop: 5, tone: { dimColor: true } });
  return items;
}

function claudeItem(claude: ClaudeView): Item {
  if (claude.state === 'running') return { text: 'Claude Code running', drop: 3 };
  if (claude.state === 'not-started') return { text: 'Claude Code not started', drop: 3, tone: { dimColor: true } };
  const code = claude.exitCode ?? 0;
  return { text: `Claude Code exited${code === 0 ? '' : ` (${code})`}`, drop: 3, tone: code === 0 ? { dimColor: true } : { color: 'red' } };
}

export function Header({ state, now, width }: { state: RunState; now: number; width: number }): ReactNode {
  const items = fitItems(headerItems(state, now), width, SEPARATOR);
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
