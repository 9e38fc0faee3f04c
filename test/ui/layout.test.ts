/** The line budget: never taller than rows − 1, panels shrink and go by priority. */
import { describe, expect, it } from 'vitest';
import { columnWidths, planLayout, scrollWindow, WIDE_COLUMNS, type Demands, type Layout } from '../../ui/layout.js';

const demands = (overrides: Partial<Demands> = {}): Demands => ({
  backends: { min: 1, want: 5 },
  context: { min: 1, want: 2 },
  throughput: { min: 1, want: 2 },
  cache: { min: 1, want: 3 },
  progress: { min: 0, want: 0 },
  requests: { min: 2, want: 13 },
  logs: { min: 2, want: 40 },
  ...overrides,
});

function used(layout: Layout): number {
  const { lines } = layout;
  const top = layout.wide ? Math.max(lines.backends, lines.context + lines.throughput + lines.cache) : lines.backends + lines.context + lines.throughput + lines.cache;
  return layout.header + layout.help + top + lines.progress + lines.requests + lines.logs;
}

describe('planLayout', () => {
  it('never plans more than rows − 1 lines', () => {
    for (const rows of [1, 2, 3, 5, 10, 15, 24, 30, 50, 80])
      for (const columns of [40, 80, 100, 160]) {
        const layout = planLayout(columns, rows, demands());
        expect(layout.height).toBe(Math.max(0, rows - 1));
        expect(used(layout)).toBeLessThanOrEqual(layout.height);
      }
  });

  it('at 80×24 gives every panel what it wants and splits the rest between requests and log', () => {
    const { lines, header, help } = planLayout(80, 24, demands());
    expect({ header, help }).toEqual({ header: 1, help: 1 });
    expect(lines).toMatchObject({ backends: 5, context: 2, throughput: 2, cache: 3 });
    expect(lines.requests + lines.logs).toBe(23 - 2 - 12);
    expect(lines.requests).toBeGreaterThanOrEqual(4);
    expect(lines.logs).toBeGreaterThanOrEqual(4);
  });

  it('on a short terminal drops the log and the requests before the backends and the context', () => {
    const { lines } = planLayout(80, 10, demands());
    expect(lines.backends).toBeGreaterThanOrEqual(1);
    expect(lines.context).toBeGreaterThanOrEqual(1);
    expect(lines.logs).toBe(0);
    const tiny = planLayout(80, 4, demands());
    expect(tiny.header + tiny.lines.backends).toBe(2);
    expect(tiny.lines.requests + tiny.lines.logs + tiny.lines.cache).toBe(0);
  });

  it('gives the request table the lines the log cannot use', () => {
    const { lines } = planLayout(80, 40, demands({ logs: { min: 2, want: 2 }, requests: { min: 2, want: 51 } }));
    expect(lines.logs).toBe(2);
    expect(lines.requests).toBe(39 - 2 - 12 - 2);
  });

  it('leaves out a panel that wants nothing', () => {
    const { lines } = planLayout(80, 24, demands({ requests: { min: 0, want: 0 }, cache: { min: 0, want: 0 } }));
    expect(lines.requests).toBe(0);
    expect(lines.cache).toBe(0);
  });

  it(`from ${WIDE_COLUMNS} columns puts backends beside the metrics, so the top takes the taller of the two`, () => {
    const layout = planLayout(160, 50, demands({ backends: { min: 1, want: 10 } }));
    expect(layout.wide).toBe(true);
    expect(layout.leftWidth + layout.rightWidth + 2).toBe(160);
    expect(layout.lines).toMatchObject({ backends: 10, context: 2, throughput: 2, cache: 3 });
    expect(layout.lines.requests).toBe(13);
    expect(layout.lines.logs).toBe(49 - 2 - 10 - 13);
    expect(planLayout(119, 50, demands()).wide).toBe(false);
  });
});

describe('columnWidths', () => {
  it('uses the whole width when stacked', () => {
    expect(columnWidths(100)).toEqual({ wide: false, leftWidth: 100, rightWidth: 100 });
    expect(columnWidths(121)).toEqual({ wide: true, leftWidth: 59, rightWidth: 60 });
  });
});

describe('scrollWindow', () => {
  it('keeps the cursor in view, near the middle', () => {
    expect(scrollWindow(14, 0, 5)).toEqual({ first: 0, shown: 5 });
    expect(scrollWindow(14, 7, 5)).toEqual({ first: 5, shown: 5 });
    expect(scrollWindow(14, 13, 5)).toEqual({ first: 9, shown: 5 });
    expect(scrollWindow(3, 2, 5)).toEqual({ first: 0, shown: 3 });
    expect(scrollWindow(3, 2, 0)).toEqual({ first: 2, shown: 0 });
  });
});
