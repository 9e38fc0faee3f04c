/**
 * How numbers look on the dashboard: short, fixed-ish widths, so columns line up and nothing
 * wraps. Pure functions; the panels never format numbers themselves.
 */
import { formatBytes as formatCoreBytes } from '../src/core/bytes.js';

/** Shown where a value is not known (the backend did not report it, no request yet). */
export const UNKNOWN = '–';

/** 950 → "950", 12345 → "12.3K", 123456 → "123K", 1234567 → "1.2M". */
export function formatTokens(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return UNKNOWN;
  const abs = Math.abs(n);
  if (abs < 1000) return String(Math.round(n));
  if (abs < 999_500) return short(n / 1000) + 'K';
  return short(n / 1_000_000) + 'M';
}

/** One decimal below 100, none above: "12.3", "123". */
function short(x: number): string {
  return Math.abs(x) < 99.95 ? trimZero(x.toFixed(1)) : String(Math.round(x));
}

function trimZero(s: string): string {
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/**
 * Context windows are round thousands on hosted models (200000 is "200K", 128000 "128K") and
 * powers of two on most local servers (32768 is "32K", as llama.cpp and LM Studio write it).
 */
export function formatContextWindow(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n <= 0) return UNKNOWN;
  if (n < 1000) return String(n);
  if (n % 1000 !== 0 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}M`;
  if (n % 1000 !== 0 && n % 1024 === 0) return `${n / 1024}K`;
  if (n >= 1_000_000) return `${trimZero((n / 1_000_000).toFixed(1))}M`;
  return `${Math.round(n / 1000)}K`;
}

/** Tokens per second: "35.2", "912", "1.2K". */
export function formatRate(perSec: number | undefined): string {
  if (perSec === undefined || !Number.isFinite(perSec)) return UNKNOWN;
  if (perSec < 100) return perSec.toFixed(1);
  if (perSec < 1000) return String(Math.round(perSec));
  return formatTokens(perSec);
}

/** 850 → "850ms", 1234 → "1.2s", 14_600 → "15s", 184_000 → "3m 04s", 7_380_000 → "2h 03m". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return UNKNOWN;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 9.95) return `${seconds.toFixed(1)}s`;
  if (seconds < 59.5) return `${Math.round(seconds)}s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h === 0) return `${m}m ${pad2(s)}s`;
  return `${h}h ${pad2(m)}m`;
}

/**
 * A 0..1 share as a percentage. Near 100 % one decimal is kept and never rounded up, so a prompt
 * that is 99.6 % stable does not read as "100%" (the difference is a recomputed tail).
 */
export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return UNKNOWN;
  const p = fraction * 100;
  if (p > 0 && p < 1) return '<1%';
  if (p >= 99 && p < 100) return `${Math.floor(p * 10) / 10}%`;
  return `${Math.round(p)}%`;
}

/** Bytes in decimal units (src/core/bytes.ts), or the unknown mark. */
export function formatBytes(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) || bytes < 0 ? UNKNOWN : formatCoreBytes(bytes);
}

/** A download's progress as a whole percentage, never 100 % before the last byte: 0.996 → "99%". */
export function downloadPercent(done: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return UNKNOWN;
  return `${Math.floor(Math.min(1, Math.max(0, done / total)) * 100)}%`;
}

/** Local wall-clock time, "14:03:07". */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Whole seconds since `since`, for things under way: "12s", "3m 04s". */
export function formatElapsed(since: number, now: number): string {
  return formatDuration(Math.max(0, Math.floor((now - since) / 1000) * 1000));
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Greedy word wrap to at most `width` characters a line; a word longer than a line is cut. */
export function wrapWords(text: string, width: number): string[] {
  if (width <= 0) return [];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (w.length > width) {
      if (line) lines.push(line);
      line = '';
      lines.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (!w) continue;
    if (!line) line = w;
    else if (line.length + 1 + w.length <= width) line += ' ' + w;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Which of `items` fit in `width` when joined by `separator`: those with the highest `drop`
 * go first, and the rest keep their order. Header and help line use it so that a narrow
 * terminal loses whole items (the proxy URL, a rarely used key), not half a word.
 */
export function fitItems<T extends { text: string; drop: number }>(items: readonly T[], width: number, separator: string): T[] {
  const length = (list: readonly T[]): number => list.reduce((n, item) => n + item.text.length, 0) + separator.length * Math.max(0, list.length - 1);
  const kept = new Set(items);
  const dropped: T[] = [];
  const byDrop = [...items].sort((a, b) => b.drop - a.drop);
  for (const item of byDrop) {
    if (kept.size <= 1 || length(items.filter((i) => kept.has(i))) <= width) break;
    kept.delete(item);
    dropped.push(item);
  }
  // A long item dropped late may have made room for a short one dropped before it.
  for (const item of dropped.reverse()) {
    kept.add(item);
    if (length(items.filter((i) => kept.has(i))) > width) kept.delete(item);
  }
  return items.filter((i) => kept.has(i));
}

/**
 * A model name in `width` characters: the organisation ("mlx-community/") goes first, then the
 * middle, because the end says which quantisation it is.
 */
export function shortModel(name: string, width: number): string {
  if (name.length <= width) return name;
  const bare = name.slice(name.lastIndexOf('/') + 1);
  if (bare.length <= width) return bare;
  if (width <= 1) return bare.slice(0, Math.max(0, width));
  const head = Math.ceil((width - 1) / 2);
  return bare.slice(0, head) + '…' + bare.slice(bare.length - (width - 1 - head));
}

// eslint-disable-next-line no-control-regex -- matching terminal escapes is the point
const ESCAPES = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/**
 * A line of someone else's output (pip, a server log) made safe to draw: colours and cursor
 * moves removed, only what a progress bar left after its last carriage return, tabs as spaces.
 * One stray escape would otherwise shift every column after it.
 */
export function plainLine(text: string): string {
  const afterReturn = text.replace(/\r+$/, '').split('\r').at(-1) ?? '';
  return afterReturn.replace(ESCAPES, '').replace(/\t/g, '  ').replace(/\n/g, ' ').replace(CONTROLS, '');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
