/** `bench compare`: saved runs side by side, oldest first; files that are not runs are named and skipped. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuns, renderComparison } from '../../src/bench/compare.js';
import { renderJson } from '../../src/bench/report.js';
import { ms } from '../../src/bench/format.js';
import { runCompareCommand } from '../../src/cli/bench-command.js';
import { sampleRun } from './sample-run.js';

const older = sampleRun({ backends: [['mlx-lm', 1]], createdAt: '2026-12-01T09:00:00.000Z' });
const newer = sampleRun({ backends: [['mlx-lm', 0.5], ['lmstudio', 0.25]], createdAt: '2026-12-02T09:00:00.000Z' });

async function savedRuns(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-compare-'));
  // Named so that file order and time order differ.
  await writeFile(join(dir, 'a-newer.json'), renderJson(newer));
  await writeFile(join(dir, 'b-older.json'), renderJson(older));
  await writeFile(join(dir, 'notes.json'), JSON.stringify({ hello: 'world' }));
  await writeFile(join(dir, 'broken.json'), '{');
  return dir;
}

describe('bench compare', () => {
  it('loads the saved runs oldest first and names the files that are not runs', async () => {
    const { runs, skipped } = await loadRuns(await savedRuns());
    expect(runs.map((r) => r.file)).toEqual(['b-older.json', 'a-newer.json']);
    expect(runs.map((r) => r.run)).toEqual([older, newer]);
    expect(skipped.sort()).toEqual(['broken.json', 'notes.json']);
  });

  it('prints one row per run and backend with each one\'s TTFTs', async () => {
    const dir = await savedRuns();
    let out = '';
    let err = '';
    await runCompareCommand(dir, {}, { env: {}, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
    const rows = out.trimEnd().split('\n').slice(2);
    expect(rows.map((r) => r.split(/\s{2,}/)[0])).toEqual(['b-older', 'a-newer', 'a-newer']);
    const expected = [older.backends[0]!, ...newer.backends];
    rows.forEach((row, i) => {
      expect(row).toContain(expected[i]!.backend);
      expect(row).toContain(ms(expected[i]!.summary.firstTurnTtftMs));
      expect(row).toContain(ms(expected[i]!.summary.newSessionTtftMs));
    });
    expect(err).toContain('notes.json');
  });

  it('as markdown, every row has the header\'s cells', async () => {
    const { runs } = await loadRuns(await savedRuns());
    const lines = renderComparison(runs, 'markdown').trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 3);
    const cells = (line: string): number => line.split('|').length;
    for (const line of lines) expect(cells(line)).toBe(cells(lines[0]!));
  });

  it('a folder without runs is an error that says how to save one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-compare-empty-'));
    await expect(loadRuns(dir)).rejects.toMatchObject({ code: 'BENCH_NO_RUNS', fix: expect.stringContaining('--save') });
  });
});
