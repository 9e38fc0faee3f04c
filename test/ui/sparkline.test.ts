/** Sparklines: one block character per value, scaled from zero. */
import { describe, expect, it } from 'vitest';
import { BARS, sparkline } from '../../ui/sparkline.js';

describe('sparkline', () => {
  it('draws the largest value full and the others in proportion to it, from zero', () => {
    expect(sparkline([0, 35, 70], 10)).toBe('▁▅█');
    expect(sparkline([10, 20, 30, 40, 50, 60, 70, 80], 8)).toBe('▂▃▄▅▅▆▇█');
  });

  it('shows small wobbles of a steady rate as flat, not as a crash', () => {
    expect(sparkline([34.1, 35.6, 33.9, 36.2], 4)).toBe('████');
  });

  it('shows only the newest `width` values', () => {
    expect(sparkline([100, 0, 0, 50, 100], 3)).toBe('▁▅█');
    expect(sparkline([1, 2, 3], 0)).toBe('');
  });

  it('leaves a gap for a value that is unknown', () => {
    expect(sparkline([10, undefined, 10, Number.NaN], 4)).toBe('█ █ ');
  });

  it('draws on a fixed scale when given one', () => {
    expect(sparkline([0, 0.5, 1, 2], 4, { min: 0, max: 1 })).toBe('▁▅██');
  });

  it('draws all zeros at the bottom and nothing for no values', () => {
    expect(sparkline([0, 0], 5)).toBe('▁▁');
    expect(sparkline([], 5)).toBe('');
  });

  it('uses eight levels', () => {
    expect([...BARS]).toHaveLength(8);
    expect(new Set(sparkline(Array.from({ length: 8 }, (_, i) => i), 8))).toEqual(new Set(BARS));
  });
});
