/**
 * Doctor on the real mlx-lm fixture: the venv the e2e tests run mlx_lm.server from (inspected with
 * its own Python, never changed: no --fix here) and the SmolLM2-135M folder built from PyPI.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlxRequirements } from '../../src/backends/mlx-lm-backend.js';
import { TEST_HOME } from '../support/mlx-fixture.js';
import { check, doctorJson, sandbox } from './support.js';

const MODEL = join(TEST_HOME, 'models', 'smollm2-135m-instruct');
const ready = existsSync(join(TEST_HOME, 'venvs', 'mlx-lm', '.anyclaude-venv.json')) && existsSync(MODEL);

describe.skipIf(!ready)('doctor on the real mlx-lm fixture (npx tsx scripts/setup-fixtures.ts builds it)', () => {
  it('finds the venv healthy, the model complete but without tools, and its 8K context too small', async () => {
    const box = await sandbox({ ANYCLAUDE_HOME: TEST_HOME });
    const { run, json } = await doctorJson(box, ['--backend', 'mlx-lm', '--model', MODEL]);
    const venvDir = join(TEST_HOME, 'venvs', 'mlx-lm');
    expect(check(json, 'venv:mlx-lm')).toEqual({ id: 'venv:mlx-lm', title: 'mlx-lm venv', status: 'pass', detail: `${venvDir}: healthy, installed from ${mlxRequirements()}`, fix: null });
    expect(check(json, 'model')).toMatchObject({ status: 'warn', detail: `${MODEL} (folder, 0.5 GiB): its chat template has no tools: Claude Code will run without tools on this model` });
    expect(check(json, 'backend:mlx-lm')).toMatchObject({ status: 'fail', detail: `up starts mlx_lm.server with ${MODEL}, 8192-token context: too small for Claude Code's ~20K-token first request` });
    expect(check(json, 'memory')).toMatchObject({ status: 'pass' });
    expect(check(json, 'memory').detail).toMatch(/^the model takes 0\.5 GiB on disk/);
    expect(run.code).toBe(1);
  });
});
