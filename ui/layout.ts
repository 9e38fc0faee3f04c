/**
 * Which panels get how many lines. Ink clears the screen and redraws everything when a frame is
 * as tall as the terminal, so the frame is at most rows − 1 lines: every panel states the
 * fewest lines it is useful in and the most it can fill, and this hands out the budget by
 * priority. On a small terminal low-priority panels shrink, then go.
 */

export type PanelId = 'backends' | 'context' | 'throughput' | 'cache' | 'progress' | 'requests' | 'logs';

export interface Demand {
  /** Lines below which the panel is left out (0: it may be left out without harm). */
  min: number;
  /** Lines it can use (≥ min). */
  want: number;
}

export type Demands = Record<PanelId, Demand>;

export interface Layout {
  /** Backends beside the metrics (wide terminals), else everything stacked. */
  wide: boolean;
  columns: number;
  /** Lines of the whole frame: rows − 1. */
  height: number;
  /** Width of the backends column and of the metrics column (both `columns` when stacked). */
  leftWidth: number;
  rightWidth: number;
  header: number;
  help: number;
  lines: Record<PanelId, number>;
}

/** From here the backends table and the metrics each get about half the width and still fit. */
export const WIDE_COLUMNS = 120;
/** Between the two columns of a wide layout. */
export const GUTTER = 2;

type MetricId = 'context' | 'throughput' | 'cache';
/** Width of the "Decode", "Prefill", "Cache", "Context" labels of the metric panels. */
export const LABEL_WIDTH = 11;

/**
 * Sparklines and the context bar in a metrics column `width` wide: what the numbers after them
 * leave, and no wider than the requests there are to draw (a gap before the numbers reads as
 * missing data).
 */
export function sparkWidth(width: number, requests: number): number {
  return Math.max(6, Math.min(50, width - LABEL_WIDTH - 52, Math.max(10, requests)));
}

const METRICS: readonly MetricId[] = ['context', 'throughput', 'cache'];

export function columnWidths(columns: number): { wide: boolean; leftWidth: number; rightWidth: number } {
  if (columns < WIDE_COLUMNS) return { wide: false, leftWidth: columns, rightWidth: columns };
  const leftWidth = Math.floor((columns - GUTTER) / 2);
  return { wide: true, leftWidth, rightWidth: columns - GUTTER - leftWidth };
}

export function planLayout(columns: number, rows: number, demands: Demands): Layout {
  const { wide, leftWidth, rightWidth } = columnWidths(columns);
  const height = Math.max(0, rows - 1);
  let left = height;
  const header = left >= 1 ? 1 : 0;
  left -= header;
  // With three lines or fewer, a backend row says more than the list of keys.
  const help = left >= 3 ? 1 : 0;
  left -= help;

  const lines: Record<PanelId, number> = { backends: 0, context: 0, throughput: 0, cache: 0, progress: 0, requests: 0, logs: 0 };
  if (wide) {
    const sum = (key: keyof Demand): number => METRICS.reduce((n, id) => n + demands[id][key], 0);
    const top: Demand = { min: Math.max(demands.backends.min, sum('min')), want: Math.max(demands.backends.want, sum('want')) };
    const outer = allocate<'top' | 'progress' | 'requests' | 'logs'>(left, { top, progress: demands.progress, requests: demands.requests, logs: demands.logs }, ['top', 'progress']);
    const topLines = outer.lines.top;
    lines.backends = Math.min(demands.backends.want, topLines);
    Object.assign(lines, allocate(topLines, pick(demands, METRICS), ['context', 'cache', 'throughput']).lines);
    lines.progress = outer.lines.progress;
    lines.requests = outer.lines.requests;
    lines.logs = outer.lines.logs;
    left = outer.left;
  } else {
    const result = allocate(left, demands, ['backends', 'progress', 'context', 'cache', 'throughput']);
    Object.assign(lines, result.lines);
    left = result.left;
  }
  // What is left goes to the request table and the log, about half each, then to whichever can use more.
  const room = (id: 'requests' | 'logs'): number => (lines[id] > 0 || demands[id].min === 0 ? Math.max(0, demands[id].want - lines[id]) : 0);
  const toRequests = Math.min(room('requests'), Math.ceil(left / 2));
  lines.requests += toRequests;
  left -= toRequests;
  const toLogs = Math.min(room('logs'), left);
  lines.logs += toLogs;
  left -= toLogs;
  const more = Math.min(room('requests'), left);
  lines.requests += more;
  return { wide, columns, height, leftWidth, rightWidth, header, help, lines };
}

/**
 * First every panel in `demands` order gets its minimum while it fits; then the panels in
 * `extraOrder` get what else they want, in that order.
 */
function allocate<K extends string>(budget: number, demands: Record<K, Demand>, extraOrder: readonly K[]): { lines: Record<K, number>; left: number } {
  let left = budget;
  const lines = {} as Record<K, number>;
  for (const id of Object.keys(demands) as K[]) {
    const { min } = demands[id];
    lines[id] = min <= left ? min : 0;
    left -= lines[id];
  }
  for (const id of extraOrder) {
    const { min, want } = demands[id];
    if (lines[id] < min) continue; // left out: a few lines of it would be worse than none
    const add = Math.min(Math.max(0, want - lines[id]), left);
    lines[id] += add;
    left -= add;
  }
  return { lines, left };
}

function pick<K extends PanelId>(demands: Demands, ids: readonly K[]): Record<K, Demand> {
  const out = {} as Record<K, Demand>;
  for (const id of ids) out[id] = demands[id];
  return out;
}

/** The rows a list of `count` shows in `lines`: `cursor` stays in view, near the middle. */
export function scrollWindow(count: number, cursor: number, lines: number): { first: number; shown: number } {
  const shown = Math.max(0, Math.min(count, lines));
  const first = Math.min(Math.max(0, cursor - Math.floor(shown / 2)), Math.max(0, count - shown));
  return { first, shown };
}
