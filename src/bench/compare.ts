/**
 * `anyclaude bench compare <dir>`: the saved runs in a folder (`--save`, or `--json > file`), side by
 * side, one row per run and backend. Files that are not bench runs are skipped, and named.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AnyclaudeError } from '../core/errors.js';
import { markdownTable, textTable } from '../core/text-table.js';
import { summaryRow, SUMMARY_COLUMNS } from './report.js';
import { benchRunSchema, type BenchRun } from './results.js';

export interface SavedRun {
  file: string;
  run: BenchRun;
}

export async function loadRuns(dir: string): Promise<{ runs: SavedRun[]; skipped: string[] }> {
  const entries = await readdir(dir).catch((error: unknown) => {
    throw new AnyclaudeError('BENCH_NO_RUNS', `cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}`, { fix: 'pass the folder you gave `anyclaude bench --save`' });
  });
  const names = entries.filter((n) => n.endsWith('.json')).sort();
  const runs: SavedRun[] = [];
  const skipped: string[] = [];
  for (const file of names) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(join(dir, file), 'utf8'));
    } catch {
      skipped.push(file);
      continue;
    }
    const parsed = benchRunSchema.safeParse(value);
    if (parsed.success) runs.push({ file, run: parsed.data });
    else skipped.push(file);
  }
  if (runs.length === 0) {
    throw new AnyclaudeError('BENCH_NO_RUNS', `${dir} holds no saved bench runs${skipped.length === 0 ? '' : ` (not runs: ${skipped.join(', ')})`}`, {
      fix: 'save runs with `anyclaude bench <folder> --save <dir>` (or --json > <dir>/name.json)',
    });
  }
  // Oldest first, so a change reads left to right, top to bottom.
  runs.sort((a, b) => a.run.createdAt.localeCompare(b.run.createdAt));
  return { runs, skipped };
}

const HEADER = ['run', 'machine', 'input', ...SUMMARY_COLUMNS.header];
const RIGHT = new Set([...SUMMARY_COLUMNS.right].map((i) => i + 3));

function rows(runs: readonly SavedRun[]): string[][] {
  return runs.flatMap(({ file, run }) =>
    run.backends.map((b) => [file.replace(/\.json$/, ''), run.machine.label, `${run.input.requests} req${run.options.maxTokens === null ? '' : `, max ${run.options.maxTokens}`}${run.options.stripTools ? ', no tools' : ''}`, ...summaryRow(b)]),
  );
}

export function renderComparison(runs: readonly SavedRun[], format: 'table' | 'markdown'): string {
  return `${format === 'markdown' ? markdownTable(HEADER, rows(runs), { right: RIGHT }) : textTable(HEADER, rows(runs), { right: RIGHT, rule: true })}\n`;
}
