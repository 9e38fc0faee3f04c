/** The machine and the programs anyclaude runs: Node, Claude Code, the platform, Python, disk space. */
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { pinnedClaudeCodeVersion, resolveClaude } from '../../claude/claude-code.js';
import { AnyclaudeError, errorMessage } from '../../core/errors.js';
import { packageFile } from '../../core/package-root.js';
import { modelSearchPlaces } from '../../backends/model-resolver.js';
import type { Check, CheckResult, DoctorContext } from '../types.js';

export const nodeCheck: Check = {
  id: 'node',
  title: 'Node.js',
  run: async () => {
    const manifest = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { engines?: { node?: string } };
    const range = manifest.engines?.node ?? '>=20';
    const minimum = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range)?.slice(1).map((p) => Number(p ?? 0)) ?? [20, 0, 0];
    const have = process.versions.node.split('.').map(Number);
    const ok = compare(have, minimum) >= 0;
    return ok
      ? { status: 'pass', detail: `${process.versions.node} at ${process.execPath} (anyclaude needs ${range})` }
      : { status: 'fail', detail: `${process.versions.node} at ${process.execPath}; anyclaude needs ${range}`, fix: `install Node.js ${minimum.join('.')} or newer (e.g. \`nvm install 22\`), then reinstall anyclaude with it` };
  },
};

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const claudeCodeCheck: Check = {
  id: 'claude-code',
  title: 'Claude Code',
  timeoutMs: 5_000,
  run: async (ctx) => {
    const pinned = pinnedClaudeCodeVersion();
    const notes: string[] = [];
    try {
      const found = resolveClaude({ bin: ctx.settings.claudeBin, env: ctx.env, warn: (m) => notes.push(m) });
      const where = `${found.version} (${found.source}: ${found.path})`;
      if (found.version === pinned) return { status: 'pass', detail: `${where}, the version this anyclaude is tested with` };
      return {
        status: 'warn',
        detail: `${where}; this anyclaude is tested with ${pinned}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
        fix: found.source === 'path' ? `reinstall anyclaude so its bundled Claude Code ${pinned} is installed (npm install -g anyclaude)` : `unset ANYCLAUDE_CLAUDE_BIN (or drop --claude-bin) to run the bundled ${pinned}, or install it: npm install -g @anthropic-ai/claude-code@${pinned}`,
      };
    } catch (error) {
      const fix = error instanceof AnyclaudeError && error.fix !== undefined ? error.fix : `npm install -g @anthropic-ai/claude-code@${pinned}`;
      return { status: 'fail', detail: errorMessage(error), fix };
    }
  },
};

export function hasNvidiaGpu(): boolean {
  return existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidiactl');
}

export const platformCheck: Check = {
  id: 'platform',
  title: 'Platform',
  run: async (ctx) => {
    const { platform, arch } = ctx;
    const cpus = `${os.cpus().length} cores, ${gib(os.totalmem())} memory`;
    if (platform === 'darwin' && arch === 'arm64') return { status: 'pass', detail: `Apple Silicon (${os.cpus()[0]?.model ?? 'arm64'}), Metal, ${cpus}: every backend runs here` };
    if (platform === 'darwin') return { status: 'warn', detail: `Intel Mac, ${cpus}: no MLX (mlx-lm, mlx-omni)`, fix: 'use --backend llama-cpp, ollama or lmstudio' };
    if (platform === 'linux' && hasNvidiaGpu()) return { status: 'pass', detail: `Linux ${arch} with an NVIDIA GPU (${nvidiaDriver() ?? 'driver present'}), ${cpus}` };
    if (platform === 'linux') return { status: 'pass', detail: `Linux ${arch}, CPU only (no GPU found), ${cpus}: models run, slowly; prefer a small one` };
    return { status: 'warn', detail: `${platform} ${arch}, ${cpus}: anyclaude is tested on macOS and Linux only`, fix: 'run anyclaude on macOS or Linux, or under WSL 2' };
  },
};

function nvidiaDriver(): string | undefined {
  try {
    return /Kernel Module\s+([\d.]+)/.exec(readFileSync('/proc/driver/nvidia/version', 'utf8'))?.[1]?.replace(/^/, 'driver ');
  } catch {
    return undefined;
  }
}

/** Backends whose server lives in a venv anyclaude builds with Python. */
function needsPython(ctx: DoctorContext): boolean {
  const named = ctx.named;
  if (named === undefined) return ctx.platform === 'darwin' && ctx.arch === 'arm64';
  return named.some((n) => (n === 'mlx-lm' && ctx.backend('mlx-lm').url === undefined) || n === 'mlx-omni');
}

export const pythonCheck: Check = {
  id: 'python',
  title: 'Python',
  timeoutMs: 4_000,
  run: async (ctx): Promise<CheckResult> => {
    const python = ctx.settings.python ?? 'python3';
    const bad = needsPython(ctx) ? 'fail' : 'warn';
    const why = needsPython(ctx) ? '' : ' (needed only for mlx-lm and mlx-omni, which this setup does not use)';
    const script = 'import sys\nv = "%d.%d.%d" % sys.version_info[:3]\ntry:\n  import venv, ensurepip\n  print(v, "ok")\nexcept ImportError as e:\n  print(v, e.name)';
    const result = await execa(python, ['-c', script], { reject: false, timeout: 3_500, env: ctx.env, extendEnv: false });
    if (result.exitCode !== 0) {
      return { status: bad, detail: `cannot run ${python}${why}`, fix: 'install Python 3.10 or newer (macOS: brew install python@3.12; Debian/Ubuntu: apt install python3 python3-venv), or pass --python <path> to up' };
    }
    const [version = '', module = ''] = String(result.stdout).trim().split(' ');
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major < 3 || (major === 3 && minor < 10)) return { status: bad, detail: `${python} is Python ${version}; the model servers need 3.10 or newer${why}`, fix: 'install Python 3.10 or newer and pass it to up with --python <path>' };
    if (module !== 'ok') return { status: bad, detail: `${python} is Python ${version} without the ${module} module${why}`, fix: `install it (Debian/Ubuntu: apt install python3-venv python${major}.${minor}-venv)` };
    return { status: 'pass', detail: `${python} is Python ${version}, with venv and ensurepip` };
  },
};

/** Below this much free space a venv install or a model download fails (bytes). */
const DISK_FAIL = 2 * 1024 ** 3;
const DISK_WARN = 20 * 1024 ** 3;

export const diskCheck: Check = {
  id: 'disk',
  title: 'Disk space',
  run: async (ctx) => {
    const places = [
      { what: 'venvs', dir: join(ctx.home, 'venvs') },
      { what: 'models', dir: modelSearchPlaces({ env: ctx.env })[0]?.dir ?? join(os.homedir(), '.cache', 'huggingface', 'hub') },
    ];
    const free = await Promise.all(places.map(async (p) => ({ ...p, bytes: await freeBytes(p.dir) })));
    const known = free.filter((f): f is typeof f & { bytes: number } => f.bytes !== undefined);
    const low = known.reduce<(typeof known)[number] | undefined>((min, f) => (min === undefined || f.bytes < min.bytes ? f : min), undefined);
    const detail = known.map((f) => `${gib(f.bytes)} free for ${f.what} (${f.dir})`).join('; ') || 'could not read free space';
    if (low === undefined) return { status: 'skip', detail };
    if (low.bytes < DISK_FAIL) return { status: 'fail', detail, fix: `free space on the disk holding ${low.dir}: a venv needs ~1 GB, a model 5–40 GB` };
    if (low.bytes < DISK_WARN) return { status: 'warn', detail, fix: `free space on the disk holding ${low.dir} before downloading a model (they are 5–40 GB)` };
    return { status: 'pass', detail };
  },
};

/** Free bytes on the disk that holds `dir`, or its nearest existing parent. */
async function freeBytes(dir: string): Promise<number | undefined> {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    const s = await statfs(at);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes < 10 * 1024 ** 3 ? 1 : 0)} GiB`;
}
