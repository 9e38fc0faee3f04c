/**
 * A one-line chart of recent values in block characters. Scaled from 0 (not from the smallest
 * value) by default: a throughput that wobbles between 34 and 36 tok/s should look flat, not
 * like a crash.
 */

export const BARS = '▁▂▃▄▅▆▇█';

export interface SparklineScale {
  /** Value drawn as ▁ (default 0). */
  min?: number;
  /** Value drawn as █ (default: the largest value shown). */
  max?: number;
}

/**
 * The last `width` values, one character each; an undefined or non-finite value (a request
 * that failed, a backend that did not say) is a space, so gaps stay visible.
 */
export function sparkline(values: readonly (number | undefined)[], width: number, scale: SparklineScale = {}): string {
  if (width <= 0) return '';
  const shown = values.slice(-Math.floor(width));
  const known = shown.filter((v): v is number => v !== undefined && Number.isFinite(v));
  const min = scale.min ?? 0;
  const max = scale.max ?? (known.length > 0 ? Math.max(...known) : 0);
  const top = BARS.length - 1;
  return shown
    .map((v) => {
      if (v === undefined || !Number.isFinite(v)) return ' ';
      if (max <= min) return v > min ? BARS[top] : BARS[0];
      const level = Math.round(((Math.min(Math.max(v, min), max) - min) / (max - min)) * top);
      return BARS[level];
    })
    .join('');
}
