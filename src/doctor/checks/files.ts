/** anyclaude's own files and surroundings: ports, leftovers of a killed run, trace permissions, config files, environment. */
import { chmod, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendName } from '../../backends/backend.js';
import { LLAMA_SERVER_DEFAULT_PORT } from '../../backends/llama-cpp-backend.js';
import { LMSTUDIO_DEFAULT_PORT } from '../../backends/lmstudio-backend.js';
import { ollamaUrl } from '../../backends/ollama-backend.js';
import { defaultTraceRoot } from '../../proxy/trace-writer.js';
import { pidAlive, readRunFile, runDir } from '../../run/run-file.js';
import { checkConfigFiles } from '../../settings/config-file.js';
import { inspectPidfiles, reapStale } from '../../supervisor/pidfiles.js';
import { portHolder, type PortHolder } from '../port-holder.js';
import type { Check, CheckResult, DoctorContext } from '../types.js';

/** Backends whose server anyclaude starts on --backend-port itself: a taken port stops `up`. */
function startsOnBackendPort(ctx: DoctorContext): BackendName[] {
  return (ctx.named ?? []).filter((name) => {
    const own = ctx.backend(name);
    if (own.url !== undefined) return false;
    return name === 'mlx-lm' || name === 'mlx-omni' || (name === 'llama-cpp' && own.model !== undefined && /\.gguf$/i.test(own.model));
  });
}

function describeHolder(holder: PortHolder): string {
  const command = holder.command.length > 120 ? `${holder.command.slice(0, 117)}…` : holder.command;
  return holder.pid === undefined ? command : `${command} (pid ${holder.pid})`;
}

export const portsCheck: Check = {
  id: 'ports',
  title: 'Ports',
  run: async (ctx) => {
    const wanted: Array<{ port: number; role: string; mustBeFree: boolean }> = [];
    const starts = startsOnBackendPort(ctx);
    if (ctx.settings.backendPort !== undefined) {
      wanted.push({ port: ctx.settings.backendPort, role: `--backend-port${starts.length > 0 ? `, where up starts ${starts.join(', ')}` : ', where up looks for the backend'}`, mustBeFree: starts.length > 0 });
    } else {
      // OLLAMA_HOST may name another machine: only a port on this one is ours to look at.
      const ollama = new URL(ollamaUrl({}, ctx.env));
      const local = ['127.0.0.1', 'localhost', '[::1]'].includes(ollama.hostname);
      wanted.push({ port: LMSTUDIO_DEFAULT_PORT, role: 'LM Studio', mustBeFree: false });
      if (local) wanted.push({ port: Number(ollama.port), role: 'Ollama', mustBeFree: false });
      wanted.push({ port: LLAMA_SERVER_DEFAULT_PORT, role: 'llama-server', mustBeFree: false });
    }
    const seen = await Promise.all(wanted.map(async (w) => ({ ...w, holder: await portHolder(w.port) })));
    const detail = seen.map((s) => `${s.port} (${s.role}): ${s.holder === undefined ? 'free' : `held by ${describeHolder(s.holder)}`}`).join('; ');
    const blocked = seen.find((s) => s.mustBeFree && s.holder !== undefined);
    if (blocked?.holder === undefined) return { status: 'pass', detail };
    const kill = blocked.holder.pid === undefined ? `find it: lsof -nP -iTCP:${blocked.port} -sTCP:LISTEN` : `stop it (kill ${blocked.holder.pid})`;
    return { status: 'fail', detail, fix: `${kill}, or pass another --backend-port` };
  },
};

export const orphansCheck: Check = {
  id: 'orphans',
  title: 'Leftovers',
  timeoutMs: 3_000,
  run: async (ctx): Promise<CheckResult> => {
    const dir = runDir(ctx.home);
    const [pidfiles, staleRuns] = await Promise.all([inspectPidfiles(dir), staleRunFiles(dir)]);
    const orphans = pidfiles.filter((p) => p.state === 'orphan');
    const stale = pidfiles.filter((p) => p.state !== 'orphan' && p.state !== 'live');
    const live = pidfiles.filter((p) => p.state === 'live');
    const parts = [
      ...orphans.map((o) => `${o.record?.command ?? 'a server'} (pid ${o.record?.pid ?? '?'}) left running by anyclaude pid ${o.record?.anyclaudePid ?? '?'}`),
      ...(stale.length > 0 ? [`${stale.length} stale pidfile${stale.length === 1 ? '' : 's'} (${stale.map((s) => s.file).join(', ')})`] : []),
      ...(staleRuns.length > 0 ? [`${staleRuns.length} run file${staleRuns.length === 1 ? '' : 's'} of exited runs`] : []),
    ];
    const inUse = live.length > 0 ? `; ${live.length} server${live.length === 1 ? '' : 's'} of a running anyclaude` : '';
    if (parts.length === 0) return { status: 'pass', detail: `nothing left behind in ${dir}${inUse}` };
    return {
      status: 'warn',
      detail: `${parts.join('; ')}${inUse}`,
      fix: orphans.length > 0 ? `anyclaude doctor --fix (stops ${orphans.map((o) => `pid ${o.record?.pid ?? '?'}`).join(', ')} and removes the pidfiles), or kill ${orphans.map((o) => o.record?.pgid ?? '?').map((g) => `-- -${g}`).join(' ')}` : 'anyclaude doctor --fix (removes them)',
      repair: {
        action: `stop servers left by exited runs and remove stale files in ${dir}`,
        run: async () => {
          const reaped = await reapStale(dir);
          await Promise.all(staleRuns.map((f) => rm(f, { force: true })));
          const killed = reaped.filter((r) => r.outcome === 'killed').map((r) => `stopped ${r.record?.command ?? 'a server'} (pid ${r.record?.pid ?? '?'})`);
          const removed = reaped.length + staleRuns.length;
          return [...killed, `removed ${removed} stale file${removed === 1 ? '' : 's'} from ${dir}`].join('; ');
        },
      },
    };
  },
};

/** instance-<pid>.run files whose anyclaude has exited (findRunningInstances would delete them; doctor only reports). */
async function staleRunFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  return names.flatMap((name) => {
    const pid = /^instance-(\d+)\.run$/.exec(name)?.[1];
    return pid !== undefined && !pidAlive(Number(pid)) ? [join(dir, name)] : [];
  });
}

/** The proxy URLs of running anyclaude instances (read only: findRunningInstances would also tidy). */
async function liveProxyUrls(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [])).filter((n) => /^instance-\d+\.run$/.test(n));
  const records = await Promise.all(names.map((n) => readRunFile(join(dir, n))));
  return records.flatMap((r) => (r !== undefined && pidAlive(r.pid) ? [r.url.replace(/\/+$/, '')] : []));
}

/** Traces hold prompts, code and file contents: folders 0700, files 0600. */
export const tracesCheck: Check = {
  id: 'traces',
  title: 'Trace permissions',
  run: async (ctx): Promise<CheckResult> => {
    const root = defaultTraceRoot(ctx.env);
    const top = await stat(root).catch(() => undefined);
    if (top === undefined) return { status: 'pass', detail: `no traces yet (${root})` };
    const entries = await walk(root, 3);
    const wrong = entries.filter((e) => (e.mode & 0o077) !== 0);
    const files = entries.filter((e) => !e.dir).length;
    if (wrong.length === 0) return { status: 'pass', detail: `${root}: ${files} trace file${files === 1 ? '' : 's'}, folders 0700, files 0600` };
    const sample = wrong.slice(0, 3).map((e) => `${e.path} is ${(e.mode & 0o777).toString(8).padStart(4, '0')}`).join(', ');
    return {
      status: 'warn',
      detail: `${wrong.length} trace path${wrong.length === 1 ? '' : 's'} readable by others: ${sample}${wrong.length > 3 ? ', …' : ''}`,
      fix: `anyclaude doctor --fix, or: chmod -R go-rwx ${root}`,
      repair: {
        action: `make ${root} private (folders 0700, files 0600)`,
        run: async () => {
          await Promise.all(wrong.map((e) => chmod(e.path, e.dir ? 0o700 : 0o600)));
          return `made ${wrong.length} path${wrong.length === 1 ? '' : 's'} under ${root} private (folders 0700, files 0600)`;
        },
      },
    };
  },
};

interface Entry {
  path: string;
  dir: boolean;
  mode: number;
}

async function walk(dir: string, depth: number): Promise<Entry[]> {
  const self = await stat(dir);
  const out: Entry[] = [{ path: dir, dir: true, mode: self.mode }];
  if (depth === 0) return out;
  const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const below = await Promise.all(
    names.map(async (e): Promise<Entry[]> => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path, depth - 1);
      if (!e.isFile()) return [];
      return [{ path, dir: false, mode: (await stat(path)).mode }];
    }),
  );
  return [...out, ...below.flat()];
}

export const configCheck: Check = {
  id: 'config',
  title: 'Config files',
  run: async (ctx): Promise<CheckResult> => {
    const files = await checkConfigFiles({ home: ctx.home, cwd: ctx.cwd });
    const bad = files.find((f) => f.error !== undefined);
    const found = files.filter((f) => f.found);
    if (bad?.error !== undefined) return { status: 'fail', detail: bad.error, fix: bad.fix ?? `correct ${bad.path}, or remove it` };
    if (ctx.settingsError !== undefined) return { status: 'fail', detail: ctx.settingsError, fix: 'correct or unset the variable named there' };
    if (found.length === 0) return { status: 'pass', detail: `no config files (${files.map((f) => f.path).join(', ')}): flags, environment and defaults only` };
    return { status: 'pass', detail: `valid: ${found.map((f) => `${f.path} (${f.scope})`).join(', ')}` };
  },
};

/** HTTP(S)_PROXY catches 127.0.0.1 unless NO_PROXY names it (or `*`): Claude Code would send the proxy's traffic there. */
function proxyCatchesLoopback(env: NodeJS.ProcessEnv): string | undefined {
  const set = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'].find((n) => (env[n] ?? '') !== '');
  if (set === undefined) return undefined;
  const noProxy = `${env.NO_PROXY ?? ''},${env.no_proxy ?? ''}`.split(',').map((s) => s.trim().toLowerCase());
  const exempt = noProxy.some((h) => h === '*' || h === '127.0.0.1' || h === 'localhost' || h === '127.0.0.0/8' || h === '.localhost');
  return exempt ? undefined : set;
}

export const envCheck: Check = {
  id: 'env',
  title: 'Environment',
  run: async (ctx): Promise<CheckResult> => {
    const env = ctx.env;
    const proxy = proxyCatchesLoopback(env);
    if (proxy !== undefined) {
      return { status: 'fail', detail: `${proxy}=${env[proxy] ?? ''} and NO_PROXY does not name 127.0.0.1: Claude Code would send its requests for the local proxy to that proxy`, fix: 'export NO_PROXY=127.0.0.1,localhost (and no_proxy likewise)' };
    }
    const notes: string[] = [];
    const warnings: Array<{ note: string; fix: string }> = [];
    const key = env.ANTHROPIC_API_KEY ?? '';
    if (key.startsWith('sk-ant-')) notes.push('a real ANTHROPIC_API_KEY is set: up hides it from Claude Code on local backends; --backend claude uses it');
    const base = env.ANTHROPIC_BASE_URL ?? '';
    if (base !== '') {
      const running = await liveProxyUrls(runDir(ctx.home));
      if (running.includes(base.replace(/\/+$/, ''))) notes.push(`ANTHROPIC_BASE_URL=${base} is a running anyclaude's proxy (this shell is inside it)`);
      else warnings.push({ note: `ANTHROPIC_BASE_URL=${base} is set: up replaces it for the Claude Code it runs, but a claude started by hand in this shell goes there, and no running anyclaude listens there`, fix: 'unset ANTHROPIC_BASE_URL' });
    }
    const attribution = env.CLAUDE_CODE_ATTRIBUTION_HEADER;
    if (attribution !== undefined && attribution !== '0') {
      warnings.push({ note: `CLAUDE_CODE_ATTRIBUTION_HEADER=${attribution}: a claude started by hand against \`anyclaude proxy\` sends a per-session header that defeats the backend's prompt cache (up sets 0)`, fix: 'export CLAUDE_CODE_ATTRIBUTION_HEADER=0' });
    }
    const all = [...warnings.map((w) => w.note), ...notes];
    if (warnings.length > 0) return { status: 'warn', detail: all.join('; '), fix: warnings.map((w) => w.fix).join('; ') };
    return { status: 'pass', detail: all.length > 0 ? all.join('; ') : 'no variable here changes how Claude Code reaches anyclaude' };
  },
};
