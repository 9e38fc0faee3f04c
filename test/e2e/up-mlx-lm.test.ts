/**
 * The whole chain as a user runs it: `anyclaude up` starts a real mlx_lm.server with the
 * SmolLM2 fixture model, the proxy, and the real Claude Code CLI, which prints the model's reply.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import psList from 'ps-list';
import { BIN } from '../support/cli.js';
import { prepareMlxFixture, SMALL_CLAUDE_ARGS } from '../support/mlx-fixture.js';

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  home: string;
}

/** A fresh HOME and anyclaude home (sharing the prepared venvs and model), so the user's config is never read. */
async function runUp(args: string[]): Promise<Run> {
  const fixture = await prepareMlxFixture();
  const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-user-'));
  const home = join(userHome, '.anyclaude');
  await execa('mkdir', ['-p', home]);
  await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
  await symlink(join(fixture.home, 'models'), join(home, 'models'));
  const result = await execa('node', [BIN, 'up', ...args], {
    env: { HOME: userHome, ANYCLAUDE_HOME: home, PATH: process.env.PATH ?? '' },
    extendEnv: false,
    cwd: userHome,
    stdin: 'ignore',
    reject: false,
    timeout: 300_000,
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), home };
}

async function serversUsing(home: string): Promise<number> {
  return (await psList()).filter((p) => (p.cmd ?? '').includes('mlx_lm.server') && (p.cmd ?? '').includes(home) && !(p.cmd ?? '').includes('<defunct>')).length;
}

describe('anyclaude up with a real mlx_lm.server and real Claude Code', () => {
  let model: string;
  beforeAll(async () => {
    model = (await prepareMlxFixture()).model;
  }, 600_000);

  it('--backend mlx-lm --model <fixture> --no-tui -- -p "Say hello" prints the reply and exits 0', async () => {
    const run = await runUp(['--backend', 'mlx-lm', '--model', model, '--no-tui', '--', '-p', 'Say hello', ...SMALL_CLAUDE_ARGS]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/[A-Za-z]{2,}/);
    expect(run.stderr).toContain('anyclaude: starting mlx-lm');
    // Every child stopped with Claude Code's exit.
    expect(await serversUsing(run.home)).toBe(0);
    const log = await readFile(join(run.home, 'logs', 'anyclaude.log'), 'utf8');
    expect(log).toMatch(/req\s+200\s+mlx-lm\s+ttft \d+ms/);
  }, 300_000);

  it('--demo -- -p "Say hello": the README command works with the PyPI model', async () => {
    const run = await runUp(['--demo', '--', '-p', 'Say hello']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/[A-Za-z]{2,}/);
    expect(await serversUsing(run.home)).toBe(0);
  }, 300_000);

  it("Claude Code's exit code becomes anyclaude's, and nothing is left running", async () => {
    const direct = await execa(join(process.cwd(), 'node_modules/.bin/claude'), ['--definitely-not-a-flag'], { reject: false, stdin: 'ignore' });
    expect(direct.exitCode).not.toBe(0);
    const run = await runUp(['--backend', 'mlx-lm', '--model', model, '--', '--definitely-not-a-flag']);
    expect(run.exitCode).toBe(direct.exitCode);
    expect(await serversUsing(run.home)).toBe(0);
  }, 300_000);
});

describe('anyclaude up on SIGTERM and SIGHUP', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s mid-request stops Claude Code and the server, exit %i', async (signal, code) => {
    const fixture = await prepareMlxFixture();
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-user-'));
    const home = join(userHome, '.anyclaude');
    await execa('mkdir', ['-p', home]);
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    const child = execa('node', [BIN, 'up', '--backend', 'mlx-lm', '--model', fixture.model, '--', '-p', 'Write a long story about the sea.', ...SMALL_CLAUDE_ARGS], {
      env: { HOME: userHome, ANYCLAUDE_HOME: home, PATH: process.env.PATH ?? '' },
      extendEnv: false,
      cwd: userHome,
      stdin: 'ignore',
      reject: false,
    });
    // Wait until Claude Code's request is in flight.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const log = await readFile(join(home, 'logs', 'anyclaude.log'), 'utf8').catch(() => '');
      if (log.includes('phase running')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const claudes = async (): Promise<number> => (await psList()).filter((p) => (p.cmd ?? '').includes('Write a long story') && !(p.cmd ?? '').includes('anyclaude.js up')).length;
    expect(await claudes()).toBeGreaterThan(0);
    child.kill(signal);
    const result = await child;
    expect(result.exitCode).toBe(code);
    expect(await serversUsing(home)).toBe(0);
    expect(await claudes()).toBe(0);
  }, 200_000);
});
