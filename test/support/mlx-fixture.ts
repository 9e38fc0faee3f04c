/**
 * The real mlx_lm.server fixture: the mlx-lm venv and the SmolLM2-135M model, prepared by the
 * product's own code (as `.ci/run` does through scripts/setup-fixtures.ts; idempotent, so a
 * test run on a fresh checkout builds them once).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CoreEvents } from '../../src/core/events.js';
import { ensureVenv } from '../../src/backends/venv.js';
import { MLX_LM_VENV, mlxRequirements } from '../../src/backends/mlx-lm-backend.js';
import { buildDemoModel } from '../../src/backends/demo-model.js';

export const TEST_HOME = process.env.ANYCLAUDE_HOME ?? fileURLToPath(new URL('../../.cache/anyclaude-home', import.meta.url));

export async function prepareMlxFixture(): Promise<{ home: string; model: string }> {
  const events = new CoreEvents();
  await ensureVenv({ ...MLX_LM_VENV, requirements: mlxRequirements() }, { home: TEST_HOME, events });
  const model = await buildDemoModel({ home: TEST_HOME, events, out: join(TEST_HOME, 'models', 'smollm2-135m-instruct') });
  return { home: TEST_HOME, model };
}

/** Claude Code flags that shrink its request to ~150 tokens: SmolLM2 has an 8K window and prefills ~40 tok/s on 2 CPU cores. */
export const SMALL_CLAUDE_ARGS = ['--system-prompt', 'You are a helpful assistant. Answer in one short sentence.', '--tools', ''];
