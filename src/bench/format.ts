/** Number formats shared by the bench's table, markdown and compare views (a missing value is "–"). */

export const NONE = '–';

export function ms(value: number | null): string {
  if (value === null) return NONE;
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

export function rate(value: number | null): string {
  if (value === null) return NONE;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} tok/s`;
}

export function pct(value: number | null): string {
  return value === null ? NONE : `${Math.round(value * 100)} %`;
}

export function count(value: number | null): string {
  return value === null ? NONE : String(value);
}

/** Columns padded to their widest cell; `right` columns align numbers. */
