/**
 * Prepares what the real-server tests need, with the product's own code: the mlx-lm venv
 * (ensureVenv, as `anyclaude up` makes it) and the SmolLM2 fixture model (as `up --demo`
 * builds it), and the Qwen2.5-Coder-0.5B tool-calling fixture (test/support/qwen-fixture.ts).
 * Idempotent: a second run takes seconds. Prints the SmolLM2 model folder.
 */
import { join } from 'node:path';
import { CoreEvents } from '../src/core/events.js';
import { ensureVenv } from '../src/backends/venv.js';
import { MLX_LM_VENV, mlxRequirements } from '../src/backends/mlx-lm-backend.js';
import { buildDemoModel } from '../src/backends/demo-model.js';
import { anyclaudeHome } from '../src/cli/up-command.js';
import { prepareQwenFixture } from '../test/support/qwen-fixture.js';

const home = anyclaudeHome();
const events = new CoreEvents();
events.on('log', (e) => console.error(`[${e.source}] ${e.message}`));
const started = Date.now();
const venv = await ensureVenv({ ...MLX_LM_VENV, requirements: mlxRequirements() }, { home, events });
console.error(`mlx-lm venv ${venv.installed ? 'installed' : 'reused'} at ${venv.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const model = await buildDemoModel({ home, events, out: join(home, 'models', 'smollm2-135m-instruct') });
console.error(`fixture model at ${model} (${((Date.now() - started) / 1000).toFixed(1)} s total)`);
const qwenStarted = Date.now();
const qwen = await prepareQwenFixture({ home, events });
console.error(`Qwen fixture at ${qwen.model} (${((Date.now() - qwenStarted) / 1000).toFixed(1)} s)`);
console.log(model);
