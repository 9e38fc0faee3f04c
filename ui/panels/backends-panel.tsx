/**
 * Every backend, numbered for the 1-9 keys: where requests go (●), what is selected (›), how
 * each one is doing. Below the list, a switch under way and the last switch that failed.
 */
import type { ReactNode } from 'react';
import { Box } from 'ink';
import type { BackendView, RunState } from '../../src/run/run-state.js';
import { Busy } from '../busy.js';
import { Cells, Line, Title, type Cell } from '../cells.js';
import { formatContextWindow, shortModel, UNKNOWN } from '../format.js';
import { scrollWindow, type Demand } from '../layout.js';
import { memoOn } from '../memo-on.js';
import { isBusy, PHASE_TONE, type Tone } from '../theme.js';

export interface BackendsPanelProps {
  state: RunState;
  width: number;
  height: number;
  /** Index of the selected backend in state.backends. */
  selected: number;
  /** A line under the list: why the last switch asked for from here failed (red), or a hint. */
  message: Message | undefined;
}

export interface Message {
  text: string;
  tone: Tone;
}

function extraLines(state: RunState, message: Message | undefined): number {
  return (state.switching ? 1 : 0) + (message ? 1 : 0);
}

export function backendsDemand(state: RunState, message: Message | undefined): Demand {
  const rows = Math.max(1, state.backends.length);
  const extra = extraLines(state, message);
  return { min: 1 + extra, want: 1 + rows + extra };
}

function Backends({ state, width, height, selected, message }: BackendsPanelProps): ReactNode {
  if (height <= 0) return null;
  const { backends } = state;
  // Kept in this order as lines run out: the selected row, the switch lines, other rows, the title.
  const extra = Math.min(extraLines(state, message), Math.max(0, height - 1));
  const rowLines = height - extra;
  const showTitle = rowLines > Math.max(1, backends.length);
  const { first, shown } = scrollWindow(backends.length, selected, rowLines - (showTitle ? 1 : 0));
  const columns = planColumns(backends, width);
  const extras: ReactNode[] = [];
  if (state.switching) {
    const { to, model, detail } = state.switching;
    extras.push(
      <Line key="switching" width={width} tone={{ color: 'yellow' }}>
        <Busy /> switching to {to}
        {model ? ` · ${model}` : ''}: {detail}
      </Line>,
    );
  }
  if (message) {
    extras.push(
      <Line key="message" width={width} tone={message.tone}>
        {message.text}
      </Line>,
    );
  }
  return (
    <Box flexDirection="column" width={width}>
      {showTitle ? <Title text="Backends" note={backends.length > 1 ? '1-9 or ↑↓ enter switches' : undefined} width={width} /> : null}
      {backends.length === 0 && rowLines > 0 ? (
        <Line width={width} tone={{ dimColor: true }}>
          no backends yet
        </Line>
      ) : null}
      {backends.slice(first, first + shown).map((b, i) => (
        <Cells key={b.id} width={width} cells={backendCells(b, first + i, first + i === selected, columns)} />
      ))}
      {extras.slice(0, extra)}
    </Box>
  );
}

/** What it reads: the backends and a switch under way. */
export const BackendsPanel = memoOn(Backends, ({ state, width, height, selected, message }) => [state.backends, state.switching, width, height, selected, message]);

const PHASE_WIDTH = 10;
const CONTEXT_WIDTH = 8;
const PROTOCOL_WIDTH = 9;
/** From this width the detail of every backend gets a column; below it only a broken one shows it. */
const DETAIL_FROM = 100;

/** Column widths shared by all rows, so the table lines up. */
interface Columns {
  id: number;
  model: number;
  protocol: boolean;
  detail: boolean;
}

function detailOf(b: BackendView): string {
  const restarts = b.restarts > 0 ? `restarted ${b.restarts}×` : '';
  return [b.detail, restarts].filter(Boolean).join(' · ');
}

function modelOf(b: BackendView): string {
  return b.model ?? (b.models.length > 0 ? `${b.models.length} models` : UNKNOWN);
}

/** Why a backend does not serve matters more than which model it would serve. */
function broken(b: BackendView): boolean {
  return b.phase === 'crashed' || b.phase === 'degraded';
}

function planColumns(backends: readonly BackendView[], width: number): Columns {
  const id = Math.min(12, Math.max(2, ...backends.map((b) => b.id.length)));
  // Cursor, number, marker, id and phase, each with its gap, then the context window.
  let used = 2 + 2 + 2 + id + 1 + PHASE_WIDTH + 1 + CONTEXT_WIDTH + 1;
  const detail = width >= DETAIL_FROM && backends.some((b) => detailOf(b) !== '');
  const detailRoom = detail ? 24 : 0;
  // Full names when they fit beside the detail, else without the organisation (shortModel's first cut).
  const full = Math.max(8, ...backends.map((b) => modelOf(b).length));
  const bare = Math.max(8, ...backends.map((b) => modelOf(b).slice(modelOf(b).lastIndexOf('/') + 1).length));
  const longest = full + detailRoom + 6 <= width - used ? full : bare;
  // The protocol is the least telling column: it goes first on a narrow terminal.
  const protocol = width - used - (PROTOCOL_WIDTH + 1) >= Math.min(longest, 32) + 1 + detailRoom;
  if (protocol) used += PROTOCOL_WIDTH + 1;
  const model = Math.max(12, Math.min(longest, width - used - 1 - detailRoom));
  return { id, model, protocol, detail };
}

function backendCells(b: BackendView, index: number, selected: boolean, columns: Columns): Cell[] {
  const tone = PHASE_TONE[b.phase];
  const cells: Cell[] = [
    { text: selected ? '›' : ' ', width: 1, bold: true, tone: { color: 'cyan' } },
    { text: index < 9 ? String(index + 1) : ' ', width: 1, tone: { dimColor: true } },
    { text: b.active ? '●' : ' ', width: 1, tone: { color: 'green' } },
    { text: b.id, width: columns.id, bold: b.active },
    {
      text: b.phase,
      width: PHASE_WIDTH,
      tone,
      content: isBusy(b.phase) ? (
        <>
          <Busy /> {b.phase}
        </>
      ) : undefined,
    },
  ];
  const detailTone = b.phase === 'crashed' ? { color: 'red' } : b.phase === 'degraded' ? { color: 'yellow' } : { dimColor: true };
  if (!columns.detail && broken(b) && detailOf(b) !== '') {
    cells.push({ text: detailOf(b), tone: detailTone });
    return cells;
  }
  cells.push({ text: shortModel(modelOf(b), columns.model), width: columns.model, tone: b.model ? {} : { dimColor: true } });
  cells.push({ text: b.contextWindow === undefined ? 'ctx ?' : `${formatContextWindow(b.contextWindow)} ctx`, width: CONTEXT_WIDTH, tone: { dimColor: true } });
  if (columns.protocol) cells.push({ text: b.protocol ?? '', width: PROTOCOL_WIDTH, tone: { dimColor: true } });
  if (columns.detail) cells.push({ text: detailOf(b), tone: detailTone });
  return cells;
}
