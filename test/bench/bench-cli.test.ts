/** `anyclaude bench` as a user runs it, through the real bin (run `npm run build` first). */
import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { loadRuns } from '../../src/bench/compare.js';
import { BACKEND_FLAGS } from '../../src/cli/flag-specs.js';
import { BENCH_FLAGS } from '../../src/cli/bench-command.js';
import { BIN } from '../support/cli.js';

const SAVED = fileURLToPath(new URL('../../docs/bench-runs/', import.meta.url));
const anyclaude = (args: string[]) => execa('node', [BIN, ...args], { reject: false, env: { PATH: process.env.PATH ?? '' }, extendEnv: false });

describe('anyclaude bench (bin)', () => {
  it("--help lists up's backend flags and the bench's own", async () => {
    const result = await anyclaude(['bench', '--help']);
    expect(result.exitCode).toBe(0);
    for (const [spec] of [...BACKEND_FLAGS, ...BENCH_FLAGS]) expect(result.stdout).toContain(spec.split(' ')[0]);
    expect(result.stdout).toContain('compare');
  });

  it('compare prints one markdown row per saved run and backend', async () => {
    const { runs } = await loadRuns(SAVED);
    const result = await anyclaude(['bench', 'compare', SAVED, '--markdown']);
    expect(result.exitCode, result.stderr).toBe(0);
    const rows = result.stdout.trimEnd().split('\n').slice(2);
    expect(rows).toHaveLength(runs.reduce((n, r) => n + r.run.backends.length, 0));
    expect(rows.every((row) => row.startsWith('| ') && row.endsWith(' |'))).toBe(true);
    for (const { run } of runs) expect(result.stdout).toContain(run.machine.label);
  });

  it('a folder with nothing to replay fails before any backend starts, saying what to pass', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'bench-empty-'));
    const result = await anyclaude(['bench', empty, '--backend', 'mlx-lm']);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('no POST /v1/messages requests');
    expect(result.stderr).toContain('--trace');
  });
});
