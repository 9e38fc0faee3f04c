/** The renderers produce what they claim: a table and markdown with a row per turn, JSON that loads back, an SVG chart. */
import { describe, expect, it } from 'vitest';
import { chartData, renderChart } from '../../src/bench/chart.js';
import { renderJson, renderMarkdown, renderTable } from '../../src/bench/report.js';
import { benchRunSchema } from '../../src/bench/results.js';
import { ms, pct } from '../../src/bench/format.js';
import { sampleRun } from './sample-run.js';

const run = sampleRun({ backends: [['mlx-lm', 1], ['lmstudio', 0.25]], createdAt: '2026-12-02T10:00:00.000Z' });

/** Every opened element is closed in order (enough to tell a whole SVG document from a cut or broken one). */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '').matchAll(/<(\/?)([A-Za-z][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('bench renderers', () => {
  it('the table has one row per turn and backend, the new session marked, and the machine named', () => {
    const text = renderTable(run);
    expect(text).toContain(run.machine.label);
    for (const b of run.backends) {
      const rows = text.split('\n').filter((l) => /^\s*(\d+|new session)\s+s\d/.test(l));
      expect(rows.length).toBe(run.backends.reduce((n, x) => n + x.turns.length, 0));
      expect(text).toContain(ms(b.summary.firstTurnTtftMs));
      expect(text).toContain(ms(b.summary.newSessionTtftMs));
    }
    expect(text.match(/new session {2}/g)?.length).toBe(run.backends.length);
  });

  it('markdown is a summary table and a table per backend, each row with the same number of cells as its header', () => {
    const md = renderMarkdown(run);
    const tables = md.trimEnd().split('\n\n').filter((block) => block.startsWith('|'));
    expect(tables).toHaveLength(1 + run.backends.length);
    for (const table of tables) {
      const lines = table.split('\n');
      const cells = (line: string): number => line.split(/(?<!\\)\|/).length;
      expect(lines[1]).toMatch(/^\| (---:?|---)( \| (---:?|---))* \|$/);
      for (const line of lines) expect(cells(line)).toBe(cells(lines[0]!));
    }
    const summary = tables[0]!.split('\n').slice(2);
    expect(summary.map((l) => l.split(' | ')[0]!.replace('| ', ''))).toEqual(run.backends.map((b) => b.backend));
    expect(md).toContain(pct(run.backends[0]!.summary.newSessionCachedShare));
  });

  it('JSON is the run, and loads back through the schema compare uses', () => {
    const parsed = benchRunSchema.parse(JSON.parse(renderJson(run)));
    expect(parsed).toEqual(run);
  });

  it('the chart is a whole SVG with every backend, every turn and the machine in it', async () => {
    const svg = await renderChart(run);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    for (const b of run.backends) expect(svg).toContain(`>${b.backend}<`);
    expect(svg).toContain('>new session<');
    expect(svg).toContain(run.machine.label);
    // One bar per turn, backend and panel (TTFT, cached share, prefill).
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(chartData(run).length * 3);
  }, 60_000);
});
