/**
 * `venv:<name>`, one per managed venv: each folder under <home>/venvs, plus the one the chosen
 * backend would install. Judged as ensureVenv judges it (marker, requirements hash) plus a look for
 * each module its import check names; `--fix` rebuilds a broken or outdated one.
 */
import { readdir } from 'node:fs/promises';
import { execa } from 'execa';
import { join } from 'node:path';
import { MLX_LM_VENV, mlxRequirements } from '../../backends/mlx-lm-backend.js';
import { MLX_OMNI_VENV } from '../../backends/mlx-omni-backend.js';
import { FIXTURE_MODEL_VENV } from '../../backends/demo-model.js';
import { ensureVenv, inspectVenv, readVenvMarker, type VenvSpec } from '../../backends/venv.js';
import type { Check, CheckResult, DoctorContext } from '../types.js';

/** Specs anyclaude itself knows for this machine: what "current" means for these venvs. */
function knownSpecs(ctx: DoctorContext): Map<string, VenvSpec> {
  const specs = new Map<string, VenvSpec>();
  try {
    specs.set(MLX_LM_VENV.name, { ...MLX_LM_VENV, requirements: mlxRequirements(ctx.platform, ctx.arch) });
  } catch {
    // No mlx-lm build for this platform: such a venv is judged by its own marker.
  }
  if (ctx.platform === 'darwin' && ctx.arch === 'arm64') specs.set(MLX_OMNI_VENV.name, { ...MLX_OMNI_VENV });
  specs.set(FIXTURE_MODEL_VENV.name, FIXTURE_MODEL_VENV);
  return specs;
}

/** The venv `up` would need with these settings, if any. */
function neededVenv(ctx: DoctorContext): string | undefined {
  const named = ctx.named;
  if (named?.includes('mlx-omni') === true) return MLX_OMNI_VENV.name;
  const mlx = named === undefined ? ctx.platform === 'darwin' && ctx.arch === 'arm64' && ctx.model !== undefined : named.includes('mlx-lm');
  return mlx && ctx.backend('mlx-lm').url === undefined ? MLX_LM_VENV.name : undefined;
}

export async function venvChecks(ctx: DoctorContext): Promise<Check[]> {
  const present = (await readdir(join(ctx.home, 'venvs'), { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && !e.name.endsWith('.lock'))
    .map((e) => e.name);
  const needed = neededVenv(ctx);
  const names = [...new Set([...(needed === undefined ? [] : [needed]), ...present])].sort();
  const known = knownSpecs(ctx);
  return names.map((name) => venvCheck(name, known.get(name), name === needed));
}

function venvCheck(name: string, known: VenvSpec | undefined, needed: boolean): Check {
  return {
    id: `venv:${name}`,
    title: `${name} venv`,
    timeoutMs: 4_000,
    run: async (ctx) => {
      const dir = join(ctx.home, 'venvs', name);
      const marker = await readVenvMarker(dir);
      const spec = known ?? marker?.spec;
      if (spec === undefined && marker === undefined) return { status: 'warn', detail: `${dir}: its install never finished (no marker), and no spec is recorded to rebuild it from`, fix: `rm -rf ${dir} (anyclaude makes it again when it needs it)` };
      if (spec === undefined) return interpreterOnly(dir);
      const health = await inspectVenv(spec, { home: ctx.home, timeoutMs: 3_500 });
      return judge(health.state, health.reason, spec, ctx, needed);
    },
  };
}

/** A venv made before its marker recorded a spec: all doctor can tell is whether its Python runs. */
async function interpreterOnly(dir: string): Promise<CheckResult> {
  const python = join(dir, 'bin', 'python');
  const result = await execa(python, ['-c', ''], { reject: false, timeout: 3_000 });
  if (result.exitCode === 0) return { status: 'pass', detail: `${dir}: its Python runs (made by an earlier anyclaude, so its requirements are not recorded)` };
  return { status: 'warn', detail: `${dir}: ${python} does not run, and no spec is recorded to rebuild it from`, fix: `rm -rf ${dir} (anyclaude makes it again when it needs it)` };
}

function judge(state: 'missing' | 'healthy' | 'outdated' | 'broken', reason: string, spec: VenvSpec, ctx: DoctorContext, needed: boolean): CheckResult {
  const dir = join(ctx.home, 'venvs', spec.name);
  if (state === 'healthy') return { status: 'pass', detail: `${dir}: healthy, ${reason}` };
  if (state === 'missing') {
    return { status: 'warn', detail: `${dir} is not installed yet${needed ? '; up installs it on first start (network, ~1 GB)' : ''}`, fix: `anyclaude up --backend ${spec.name} --model <model> installs it on its first start` };
  }
  const python = ctx.settings.python;
  return {
    status: needed ? 'fail' : 'warn',
    detail: `${dir} is ${state}: ${reason}`,
    fix: `anyclaude doctor --fix (rebuilds it), or: anyclaude up --upgrade-venv${python === undefined ? '' : ` --python ${python}`}`,
    repair: {
      action: `rebuild ${dir} from ${spec.requirements}`,
      run: async () => {
        await ensureVenv(spec, { home: ctx.home, upgrade: true, ...(python === undefined ? {} : { python }) });
        return `rebuilt ${dir} from ${spec.requirements}`;
      },
    },
  };
}
