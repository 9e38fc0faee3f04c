/**
 * Python virtual environments that anyclaude creates and keeps for the servers it runs
 * (`~/.anyclaude/venvs/<backend>/`). Reused while healthy (imports work, requirements
 * unchanged), rebuilt when broken, and every failure ends in one message with pip's last
 * lines and what to do.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { AnyclaudeError } from '../core/errors.js';
import type { CoreEvents } from '../core/events.js';

export interface VenvSpec {
  /** Folder name under venvs/, and the name shown in progress lines. */
  name: string;
  /** Absolute path of the pinned requirements file for this platform. */
  requirements: string;
  /** Python statement that must run for the venv to count as healthy. */
  importCheck: string;
}

export interface VenvOptions {
  /** `~/.anyclaude` */
  home: string;
  /** Interpreter that creates the venv (default `python3`). */
  python?: string;
  /** Reinstall even when healthy (`--upgrade-venv`). */
  upgrade?: boolean;
  events?: CoreEvents;
  /** Every pip output line, for a progress display. */
  onProgress?: (line: string) => void;
}

export interface Venv {
  dir: string;
  python: string;
  bin(name: string): string;
  /** false when an existing healthy venv was reused. */
  installed: boolean;
}

const MARKER = '.anyclaude-venv.json';
const MIN_PYTHON: readonly [number, number] = [3, 10];
const TAIL_LINES = 15;

export async function ensureVenv(spec: VenvSpec, options: VenvOptions): Promise<Venv> {
  await mkdir(join(options.home, 'venvs'), { recursive: true, mode: 0o700 });
  // Two anyclaude runs on a first start must not build the same venv over each other.
  const release = await lock(join(options.home, 'venvs', `${spec.name}.lock`), (message) => options.events?.log('info', `venv:${spec.name}`, message));
  try {
    return await ensureVenvLocked(spec, options);
  } finally {
    await release();
  }
}

async function ensureVenvLocked(spec: VenvSpec, options: VenvOptions): Promise<Venv> {
  const dir = join(options.home, 'venvs', spec.name);
  const venv = describe(dir);
  const requirements = await readRequirements(spec.requirements);
  const hash = createHash('sha256').update(requirements).digest('hex');
  if (options.upgrade !== true && (await isHealthy(venv, hash))) return { ...venv, installed: false };
  const log = (message: string): void => options.events?.log('info', `venv:${spec.name}`, message);
  const python = options.python ?? 'python3';
  await checkPython(python);
  if (existsSync(dir)) {
    log(`rebuilding ${dir} (missing, broken or out of date)`);
    await rm(dir, { recursive: true, force: true });
  }
  log(`creating ${dir} with ${python}`);
  await run(python, ['-m', 'venv', dir], spec, options, 'VENV_CREATE_FAILED', `install the venv module for ${python} (Debian/Ubuntu: apt install python3-venv)`);
  log(`installing ${requirements.trim().split('\n').filter((l) => !l.startsWith('#')).join(', ')}`);
  await run(
    venv.python,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', spec.requirements],
    spec,
    options,
    'VENV_INSTALL_FAILED',
    `check the network (pip needs PyPI) and disk space, then run anyclaude again; the venv is rebuilt from scratch`,
  );
  if (!(await importsWork(venv, spec))) {
    throw new AnyclaudeError('VENV_BROKEN', `${spec.name}: packages installed but \`${spec.importCheck}\` fails in ${dir}`, {
      fix: `remove ${dir} and run again, or choose another interpreter with --python`,
    });
  }
  // The spec is recorded so `anyclaude doctor` can judge and rebuild a venv it has no spec for.
  await writeFile(join(dir, MARKER), JSON.stringify({ requirementsHash: hash, createdAt: new Date().toISOString(), spec }));
  log('ready');
  return { ...venv, installed: true };
}

function describe(dir: string): Omit<Venv, 'installed'> {
  const binDir = join(dir, process.platform === 'win32' ? 'Scripts' : 'bin');
  return { dir, python: join(binDir, 'python'), bin: (name) => join(binDir, name) };
}

async function readRequirements(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new AnyclaudeError('VENV_NO_REQUIREMENTS', `no pinned requirements at ${file}`, { fix: 'reinstall anyclaude: its python/ folder is incomplete' });
  }
}

/**
 * Healthy = installed from these exact requirements (the marker is written only after the import
 * check passed) and the interpreter still runs. Importing mlx again on every start would cost
 * ~1 s; a venv broken later shows up as a server that fails to start, whose error names --upgrade-venv.
 */
async function isHealthy(venv: Omit<Venv, 'installed'>, hash: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(venv.dir, MARKER), 'utf8')) as { requirementsHash?: string };
    if (marker.requirementsHash !== hash) return false;
    const result = await execa(venv.python, ['-c', ''], { reject: false, timeout: 30_000 });
    return result.exitCode === 0;
  } catch {
    return false;
  }
}

export interface VenvHealth {
  dir: string;
  /** missing: no folder; outdated: not installed from these requirements; broken: the interpreter or a package is gone. */
  state: 'missing' | 'healthy' | 'outdated' | 'broken';
  reason: string;
}

/** What a venv's marker says: the spec it was installed from (recorded since doctor), when it says. */
export async function readVenvMarker(dir: string): Promise<{ spec?: VenvSpec; createdAt?: string } | undefined> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { spec?: Partial<VenvSpec>; createdAt?: string };
    const spec = marker.spec;
    const whole = spec !== undefined && typeof spec.name === 'string' && typeof spec.requirements === 'string' && typeof spec.importCheck === 'string';
    return { ...(whole ? { spec: spec as VenvSpec } : {}), ...(typeof marker.createdAt === 'string' ? { createdAt: marker.createdAt } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * The judgement ensureVenv makes, without changing anything, plus a look for every module the
 * import check names (find_spec: milliseconds, where importing mlx would cost a second or more).
 * Used by `anyclaude doctor`.
 */
export async function inspectVenv(spec: VenvSpec, options: { home: string; timeoutMs?: number }): Promise<VenvHealth> {
  const venv = describe(join(options.home, 'venvs', spec.name));
  const health = (state: VenvHealth['state'], reason: string): VenvHealth => ({ dir: venv.dir, state, reason });
  if (!existsSync(venv.dir)) return health('missing', `${venv.dir} does not exist`);
  const requirements = await readFile(spec.requirements, 'utf8').catch(() => undefined);
  if (requirements === undefined) return health('broken', `no pinned requirements at ${spec.requirements}`);
  const marker = JSON.parse(await readFile(join(venv.dir, MARKER), 'utf8').catch(() => '{}')) as { requirementsHash?: string };
  if (marker.requirementsHash === undefined) return health('broken', 'the install never finished (no marker)');
  if (marker.requirementsHash !== createHash('sha256').update(requirements).digest('hex')) return health('outdated', `installed from other requirements than ${spec.requirements}`);
  const modules = importedModules(spec.importCheck);
  const probe = `import importlib.util as u, sys\nmissing = [m for m in ${JSON.stringify(modules)} if u.find_spec(m) is None]\nprint(' '.join(missing)); sys.exit(1 if missing else 0)`;
  const result = await execa(venv.python, ['-c', probe], { reject: false, timeout: options.timeoutMs ?? 10_000 });
  if (result.exitCode === 0) return health('healthy', `installed from ${spec.requirements}`);
  if (result.exitCode === 1 && String(result.stdout).trim() !== '') return health('broken', `missing module(s): ${String(result.stdout).trim()}`);
  return health('broken', `${venv.python} does not run${result.timedOut ? ' (timed out)' : ''}`);
}

/** `import mlx.core, mlx_lm` → ['mlx.core', 'mlx_lm']. */
function importedModules(statement: string): string[] {
  return statement
    .split(/[;\n]/)
    .flatMap((part) => /^\s*import\s+(.+)$/.exec(part)?.[1]?.split(',') ?? [])
    .map((m) => m.trim().split(/\s+/)[0] ?? '')
    .filter((m) => m !== '');
}

async function importsWork(venv: Omit<Venv, 'installed'>, spec: VenvSpec): Promise<boolean> {
  const result = await execa(venv.python, ['-c', spec.importCheck], { reject: false, timeout: 120_000 });
  return result.exitCode === 0;
}

async function checkPython(python: string): Promise<void> {
  const result = await execa(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { reject: false });
  if (result.exitCode !== 0) {
    throw new AnyclaudeError('PYTHON_MISSING', `cannot run ${python}`, { fix: 'install Python 3.10 or newer, or pass --python <path>' });
  }
  const [major, minor] = String(result.stdout).trim().split('.').map(Number);
  if (major === undefined || minor === undefined || major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new AnyclaudeError('PYTHON_TOO_OLD', `${python} is Python ${String(result.stdout).trim()}; the model servers need ${MIN_PYTHON.join('.')} or newer`, {
      fix: 'install a newer Python and pass it with --python <path>',
    });
  }
}

/** Runs a setup step, streaming its output as progress, and turns a failure into one clear error. */
async function run(command: string, args: string[], spec: VenvSpec, options: VenvOptions, code: string, fix: string): Promise<void> {
  const tail: string[] = [];
  const child = execa(command, args, { reject: false, all: true, buffer: false, env: { PIP_PROGRESS_BAR: 'off' } });
  child.all?.setEncoding('utf8');
  let partial = '';
  child.all?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      options.onProgress?.(line);
    }
  });
  const result = await child;
  if (result.exitCode === 0) return;
  const last = [...tail, partial].filter((l) => l.trim() !== '').slice(-TAIL_LINES).join('\n    ');
  throw new AnyclaudeError(code, `${spec.name}: \`${[command, ...args].join(' ')}\` failed (exit ${result.exitCode ?? result.signal ?? '?'}):\n    ${last}`, { fix });
}

const LOCK_WAIT_MS = 20 * 60_000;

/** A lock folder holding the owner's pid; one left by a dead process is taken over. */
async function lock(path: string, say: (message: string) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && !isAlive(owner)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new AnyclaudeError('VENV_LOCKED', `another anyclaude (pid ${owner}) has been installing into this venv for 20 minutes`, { fix: `stop it, or remove ${path}` });
    }
    if (!told) say(`waiting for another anyclaude (pid ${owner}) to finish installing`);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
