/** Tables and numbers for the `traces` commands. */
import { textTable } from '../core/text-table.js';

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

/** The traces' tables: columns named with their alignment, no rule under the header. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const right = new Set(columns.flatMap((c, i) => (c.align === 'right' ? [i] : [])));
  return textTable(
    columns.map((c) => c.header),
    rows,
    { right },
  );
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatShare(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === undefined || ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Local time, to the second: `2026-12-02 10:22:50`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
