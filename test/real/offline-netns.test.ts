/**
 * Nothing leaves the machine: the whole product — `anyclaude up --demo -- -p "…"`, with the
 * supervisor, the proxy, the real mlx_lm.server and the real Claude Code CLI — answers inside a
 * network namespace that has only loopback (`unshare -n`, then `ip link set lo up`: a new
 * namespace's loopback starts down). The venvs and the demo model are prepared beforehand, outside
 * it (building them needs PyPI). A product that waited on the network (a Hub lookup, Claude Code
 * phoning home) would fail here or stall into the time limit; the run's duration is printed.
 *
 * Needs `unshare -n` (root, or unprivileged user namespaces); skipped with the reason elsewhere.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import psList from 'ps-list';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../support/cli.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';

/** Why this machine cannot make a loopback-only namespace, or undefined when it can. */
async function netnsProbe(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (this is ${process.platform})`;
  const probe = await execa('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up'], { reject: false });
  if (probe.exitCode !== 0) return `\`unshare -n\` with \`ip link set lo up\` is not permitted here (${String(probe.stderr).trim() || `exit ${probe.exitCode}`}); run as root or allow unprivileged user namespaces`;
  return undefined;
}

const cannotUnshare = await netnsProbe();
if (cannotUnshare !== undefined) console.warn(`offline-netns.test.ts skipped: ${cannotUnshare}`);

/** Runs argv inside a fresh network namespace whose only interface is loopback (argv travels as "$@": no quoting). */
const OFFLINE = ['unshare', '-n', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'offline'];

describe.skipIf(cannotUnshare !== undefined)('anyclaude up --demo with no network at all', () => {
  let fixture: { home: string; model: string };
  beforeAll(async () => {
    // The demo venv and model are the fixture's (up --demo builds the same folder): built here, online.
    fixture = await prepareMlxFixture();
  }, 600_000);

  it('the namespace really has no way out', async () => {
    const [command = 'unshare', ...args] = OFFLINE;
    const routes = await execa(command, [...args, 'ip', '-o', 'link'], { reject: false });
    expect(routes.exitCode).toBe(0);
    expect(String(routes.stdout).trim().split('\n').map((l) => l.split(':')[1]?.trim())).toEqual(['lo']);
    const out = await execa(command, [...args, process.execPath, '-e', "require('net').connect(443, '1.1.1.1').on('error', (e) => { console.log(e.code); process.exit(0); }).on('connect', () => { console.log('connected'); process.exit(1); })"], { reject: false, timeout: 10_000 });
    expect(String(out.stdout).trim()).toBe('ENETUNREACH');
  });

  it('answers, exits 0, and leaves nothing running', async () => {
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-offline-'));
    const home = join(userHome, '.anyclaude');
    await mkdir(home, { recursive: true });
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    await symlink(join(fixture.home, 'models'), join(home, 'models'));
    const [command = 'unshare', ...args] = OFFLINE;
    const started = Date.now();
    const run = await execa(command, [...args, process.execPath, BIN, 'up', '--demo', '--no-tui', '--', '-p', 'What is the capital of France?'], {
      env: { HOME: userHome, ANYCLAUDE_HOME: home, PATH: process.env.PATH ?? '' },
      extendEnv: false,
      cwd: userHome,
      stdin: 'ignore',
      reject: false,
      timeout: 300_000,
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(`offline up --demo: answered in ${seconds.toFixed(1)} s inside a loopback-only network namespace`);

    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toMatch(/[A-Za-z]{2,}/);
    const log = await readFile(join(home, 'logs', 'anyclaude.log'), 'utf8');
    expect(log).toMatch(/req\s+200\s+mlx-lm/);
    const left = (await psList()).filter((p) => (p.cmd ?? '').includes(home) && !(p.cmd ?? '').includes('<defunct>'));
    expect(left).toEqual([]);
    await rm(userHome, { recursive: true, force: true });
  }, 300_000);
});
