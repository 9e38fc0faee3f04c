/**
 * `anyclaude doctor --fix` on real damage: a venv whose interpreter is gone, one installed from
 * other requirements, a pidfile of a dead run, a server a killed run left behind, traces others can read.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ensureVenv } from '../../src/backends/venv.js';
import { writePidfile } from '../../src/supervisor/pidfiles.js';
import { check, deadPid, doctor, doctorJson, sandbox } from './support.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('doctor --fix: venvs', () => {
  it('finds a venv whose interpreter is gone, rebuilds it with --fix, and then reports it healthy', async () => {
    const box = await sandbox();
    const requirements = join(box.dir, 'requirements.txt');
    await writeFile(requirements, '--no-index\n# nothing to install\n');
    const spec = { name: 'probe', requirements, importCheck: 'import json' };
    const venv = await ensureVenv(spec, { home: box.home });
    await rm(venv.python);

    const before = await doctorJson(box);
    const broken = check(before.json, 'venv:probe');
    expect(broken).toMatchObject({ title: 'probe venv', status: 'warn' });
    expect(broken.detail).toBe(`${venv.dir} is broken: ${venv.python} does not run`);
    expect(broken.fix).toContain('anyclaude doctor --fix');

    const fixed = await doctorJson(box, ['--fix']);
    expect(fixed.json.repairs).toEqual([{ id: 'venv:probe', action: `rebuild ${venv.dir} from ${requirements}`, ok: true, result: `rebuilt ${venv.dir} from ${requirements}` }]);
    expect(check(fixed.json, 'venv:probe')).toEqual({ id: 'venv:probe', title: 'probe venv', status: 'pass', detail: `${venv.dir}: healthy, installed from ${requirements}`, fix: null });
    expect((await execa(venv.python, ['-c', 'import json'], { reject: false })).exitCode).toBe(0);
  }, 120_000);

  it('finds a package deleted from a venv, and --fix installs it again', async () => {
    const box = await sandbox();
    const wheels = join(box.dir, 'wheels');
    await tinyWheel(wheels, 'anyclaude_doctor_probe');
    const requirements = join(box.dir, 'requirements.txt');
    await writeFile(requirements, `--no-index\n--find-links ${wheels}\nanyclaude-doctor-probe==1.0\n`);
    const venv = await ensureVenv({ name: 'pkg', requirements, importCheck: 'import json, anyclaude_doctor_probe' }, { home: box.home });
    const site = (await execa(venv.python, ['-c', 'import anyclaude_doctor_probe, os; print(os.path.dirname(anyclaude_doctor_probe.__file__))'])).stdout;
    await rm(site, { recursive: true });

    const before = await doctorJson(box);
    expect(check(before.json, 'venv:pkg')).toMatchObject({ status: 'warn', detail: `${venv.dir} is broken: missing module(s): anyclaude_doctor_probe` });
    const after = await doctorJson(box, ['--fix']);
    expect(after.json.repairs?.map((r) => [r.id, r.ok])).toEqual([['venv:pkg', true]]);
    expect(check(after.json, 'venv:pkg').status).toBe('pass');
    expect((await execa(venv.python, ['-c', 'import anyclaude_doctor_probe'], { reject: false })).exitCode).toBe(0);
  }, 180_000);

  it('calls a venv installed from other requirements outdated, and one whose install never finished unfinished', async () => {
    const box = await sandbox();
    const requirements = join(box.dir, 'requirements.txt');
    await writeFile(requirements, '--no-index\n');
    const venv = await ensureVenv({ name: 'moved', requirements, importCheck: 'import json' }, { home: box.home });
    await writeFile(requirements, '--no-index\n# pinned differently now\n');
    const unfinished = await ensureVenv({ name: 'nomod', requirements, importCheck: 'import anyclaude_doctor_absent' }, { home: box.home }).catch((e: unknown) => e);
    // ensureVenv refuses a venv whose import check fails, and writes no marker.
    expect(unfinished).toMatchObject({ code: 'VENV_BROKEN' });

    const { json } = await doctorJson(box);
    expect(check(json, 'venv:moved')).toMatchObject({ status: 'warn', detail: `${venv.dir} is outdated: installed from other requirements than ${requirements}` });
    const dir = join(box.home, 'venvs', 'nomod');
    expect(check(json, 'venv:nomod')).toEqual({ id: 'venv:nomod', title: 'nomod venv', status: 'warn', detail: `${dir}: its install never finished (no marker), and no spec is recorded to rebuild it from`, fix: `rm -rf ${dir} (anyclaude makes it again when it needs it)` });
  }, 120_000);
});

/** A pure-Python wheel pip can install offline (--no-index --find-links): a real package to delete. */
async function tinyWheel(dir: string, module: string): Promise<void> {
  const script = [
    'import sys, zipfile, hashlib, base64',
    'out, mod = sys.argv[1], sys.argv[2]',
    'dist = mod + "-1.0.dist-info"',
    'files = {mod + "/__init__.py": "VALUE = 1\\n", dist + "/METADATA": "Metadata-Version: 2.1\\nName: anyclaude-doctor-probe\\nVersion: 1.0\\n", dist + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}',
    'def digest(text): return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()',
    'record = "".join(f"{n},{digest(t)},{len(t.encode())}\\n" for n, t in files.items()) + dist + "/RECORD,,\\n"',
    'with zipfile.ZipFile(f"{out}/{mod}-1.0-py3-none-any.whl", "w") as z:',
    '    [z.writestr(n, t) for n, t in files.items()]',
    '    z.writestr(dist + "/RECORD", record)',
  ].join('\n');
  await mkdir(dir, { recursive: true });
  await execa('python3', ['-c', script, dir, module]);
}

describe('doctor --fix: leftovers', () => {
  it('removes a stale pidfile and the run file of an exited run', async () => {
    const box = await sandbox();
    const run = join(box.home, 'run');
    const dead = await deadPid();
    await writePidfile(run, 'mlx-lm', { pid: dead, pgid: dead, command: 'mlx_lm.server', args: ['--port', '1'], startedAt: Date.now(), anyclaudePid: dead });
    await writeFile(join(run, `instance-${dead}.run`), JSON.stringify({ pid: dead, url: 'http://127.0.0.1:1', key: 'k', startedAt: 1, cwd: '/', version: '0' }));

    const before = await doctorJson(box);
    expect(check(before.json, 'orphans')).toMatchObject({ status: 'warn', detail: `1 stale pidfile (${join(run, 'mlx-lm.json')}); 1 run file of exited runs`, fix: 'anyclaude doctor --fix (removes them)' });

    const after = await doctorJson(box, ['--fix']);
    expect(after.json.repairs).toEqual([{ id: 'orphans', action: `stop servers left by exited runs and remove stale files in ${run}`, ok: true, result: `removed 2 stale files from ${run}` }]);
    expect(check(after.json, 'orphans').status).toBe('pass');
    expect(await readdir(run)).toEqual([]);
  });

  it('stops a server a killed run left behind (its process group), and names it first', async () => {
    const box = await sandbox();
    const run = join(box.home, 'run');
    const args = ['-e', 'setInterval(() => {}, 1000)', 'anyclaude-doctor-orphan'];
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const pid = child.pid ?? 0;
    try {
      await writePidfile(run, 'llama-cpp', { pid, pgid: pid, command: process.execPath, args, startedAt: Date.now(), anyclaudePid: await deadPid() });
      const before = await doctorJson(box);
      const orphans = check(before.json, 'orphans');
      expect(orphans.status).toBe('warn');
      expect(orphans.detail).toContain(`${process.execPath} (pid ${pid}) left running by anyclaude pid`);
      expect(orphans.fix).toContain(`kill -- -${pid}`);

      const after = await doctorJson(box, ['--fix']);
      expect(after.json.repairs?.[0]?.result).toBe(`stopped ${process.execPath} (pid ${pid}); removed 1 stale file from ${run}`);
      // Dead, not merely signalled: this test process is its parent and sees it exit.
      expect(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5_000))])).toBe('SIGTERM');
      expect(check(after.json, 'orphans').status).toBe('pass');
    } finally {
      if (alive(pid)) process.kill(-pid, 'SIGKILL');
    }
  });

  it('leaves the pidfile of a running anyclaude alone', async () => {
    const box = await sandbox();
    const run = join(box.home, 'run');
    // This test process plays the running anyclaude; its "server" is itself.
    await writePidfile(run, 'mlx-lm', { pid: process.pid, pgid: process.pid, command: process.execPath, args: [], startedAt: Date.now(), anyclaudePid: process.pid });
    const { json } = await doctorJson(box, ['--fix']);
    expect(check(json, 'orphans')).toMatchObject({ status: 'pass', detail: `nothing left behind in ${run}; 1 server of a running anyclaude` });
    expect(json.repairs).toEqual([]);
    expect(await readdir(run)).toEqual(['mlx-lm.json']);
  });
});

describe('doctor --fix: traces', () => {
  it('finds trace folders and files others can read, and makes them 0700 and 0600', async () => {
    const box = await sandbox();
    const root = join(box.home, 'traces');
    const folder = join(root, 'lmstudio');
    const file = join(folder, '2026-01-01T00-00-00-000Z-req1.json');
    await mkdir(folder, { recursive: true });
    await writeFile(file, '{}');
    await chmod(root, 0o700);
    await chmod(folder, 0o755);
    await chmod(file, 0o644);

    const before = await doctorJson(box);
    expect(check(before.json, 'traces')).toEqual({
      id: 'traces',
      title: 'Trace permissions',
      status: 'warn',
      detail: `2 trace paths readable by others: ${folder} is 0755, ${file} is 0644`,
      fix: `anyclaude doctor --fix, or: chmod -R go-rwx ${root}`,
    });
    const after = await doctorJson(box, ['--fix']);
    expect(after.json.repairs).toEqual([{ id: 'traces', action: `make ${root} private (folders 0700, files 0600)`, ok: true, result: `made 2 paths under ${root} private (folders 0700, files 0600)` }]);
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(check(after.json, 'traces')).toMatchObject({ status: 'pass', detail: `${root}: 1 trace file, folders 0700, files 0600` });
  });

  it('says what it is fixing as it starts, what it did at the end, and shows the check passing', async () => {
    const box = await sandbox();
    const root = join(box.home, 'traces');
    await mkdir(root, { recursive: true });
    await chmod(root, 0o755);
    const run = await doctor(box, ['--fix']);
    expect(run.stderr).toBe(`fixing traces: make ${root} private (folders 0700, files 0600)…`);
    expect(run.stdout).toContain(`\nfixed traces: made 1 path under ${root} private (folders 0700, files 0600)\n`);
    expect(run.stdout).toMatch(/^✓ pass {2}traces +/m);
    expect((await stat(root)).mode & 0o777).toBe(0o700);
  });
});
