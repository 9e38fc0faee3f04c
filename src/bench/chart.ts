/**
 * `--chart out.svg`: the run drawn with vega-lite (compiled to vega, rendered to SVG headless; no
 * native code). Loaded only when a chart is asked for: vega is large and most runs print a table.
 */
import type { BenchRun } from './results.js';

interface ChartPoint {
  backend: string;
  /** "1", "2", …, "new session". */
  turn: string;
  order: number;
  ttftS: number | null;
  cachedPct: number | null;
  prefill: number | null;
}

export function chartData(run: BenchRun): ChartPoint[] {
  return run.backends.flatMap((b) =>
    b.turns.map((t) => ({
      backend: b.backend,
      turn: t.phase === 'new-session' ? 'new session' : String(t.turn),
      order: t.turn,
      ttftS: t.ttftMs === null ? null : t.ttftMs / 1000,
      cachedPct: t.cachedShare === null ? null : Math.round(t.cachedShare * 1000) / 10,
      prefill: t.prefillTokensPerSec,
    })),
  );
}

/** The vega-lite spec: TTFT per turn and cached share per turn, one colour per backend. */
export function chartSpec(run: BenchRun): Record<string, unknown> {
  const turnAxis = { field: 'turn', type: 'ordinal', sort: { field: 'order' }, title: 'request (replayed turn; last: a new session after the warm-up)', axis: { labelAngle: 0 } };
  const color = { field: 'backend', type: 'nominal', title: 'backend' };
  const panel = (field: string, title: string): Record<string, unknown> => ({
    width: Math.max(360, 60 * new Set(chartData(run).map((p) => p.turn)).size),
    height: 160,
    mark: { type: 'bar', tooltip: true },
    encoding: { x: turnAxis, xOffset: { field: 'backend' }, y: { field, type: 'quantitative', title }, color },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `anyclaude bench: ${run.backends.map((b) => b.backend).join(' vs ')}`, subtitle: [`${run.input.requests} replayed requests of ${run.input.path}`, run.machine.label] },
    data: { values: chartData(run) },
    vconcat: [panel('ttftS', 'time to first token (s)'), panel('cachedPct', 'prompt found cached (%)'), panel('prefill', 'prefill (tok/s, new tokens)')],
    config: { font: 'sans-serif', background: 'white' },
  };
}

export async function renderChart(run: BenchRun): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(chartSpec(run) as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
