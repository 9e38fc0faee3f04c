/**
 * A managed mlx_lm.server (SmolLM2-135M fixture, CPU) that stops answering while its process
 * lives, under the real `anyclaude up --proxy-only`: SIGSTOP freezes it (its port still accepts
 * connections; nothing answers). The liveness check, shortened through ANYCLAUDE_HEALTH_*, marks
 * it degraded — `anyclaude status` says so and why, the proxy answers 529 overloaded_error so
 * Claude Code retries — then restarts it after the grace, and requests succeed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import psList from 'ps-list';
import { runAnyclaude, startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';

const HEALTH_ENV = { ANYCLAUDE_HEALTH_INTERVAL_MS: '500', ANYCLAUDE_HEALTH_TIMEOUT_MS: '1000', ANYCLAUDE_HEALTH_FAILURES: '2', ANYCLAUDE_HEALTH_GRACE_MS: '8000' };

const alive = async (pid: number): Promise<boolean> => (await psList()).some((p) => p.pid === pid && !(p.cmd ?? '').includes('<defunct>'));

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a managed mlx_lm.server that stops answering', () => {
  let user: string;
  let home: string;
  let up: (ProxyProcess & { stderr: () => string }) | undefined;
  /** Every server pid seen, to be sure none is left running (or stopped) at the end. */
  const seen = new Set<number>();

  const serverPid = async (): Promise<number | undefined> => {
    const text = await readFile(join(home, 'run', 'mlx-lm.json'), 'utf8').catch(() => undefined);
    const pid = text === undefined ? undefined : (JSON.parse(text) as { pid: number }).pid;
    if (pid !== undefined) seen.add(pid);
    return pid;
  };
  const status = async (): Promise<string> => {
    const result = await runAnyclaude(['status'], { userHome: user, cwd: user, home, timeoutMs: 20_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout;
  };
  const ask = async (content = 'Say hi.'): Promise<{ status: number; body: string }> => {
    const env = up!.env;
    const response = await fetch(`${env.ANTHROPIC_BASE_URL}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': env.ANTHROPIC_API_KEY },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content }] }),
      signal: AbortSignal.timeout(240_000),
    });
    return { status: response.status, body: await response.text() };
  };

  beforeAll(async () => {
    const fixture = await prepareMlxFixture();
    user = await mkdtemp(join(tmpdir(), 'anyclaude-degraded-'));
    home = join(user, '.anyclaude');
    await mkdir(home, { recursive: true });
    // The prepared venv, shared; everything else (run/, logs/) is this test's own.
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    const proxy = await startProxyProcess(['up', '--backend', 'mlx-lm', '--model', fixture.model, '--proxy-only'], { HOME: user, ANYCLAUDE_HOME: home, ...HEALTH_ENV });
    let stderr = '';
    proxy.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    up = { ...proxy, stderr: () => stderr };
  }, 600_000);

  afterAll(async () => {
    // A failed run may leave the server stopped: wake it so it can die with the rest.
    for (const pid of seen) {
      for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
    }
    up?.child.kill('SIGINT');
    await up?.child;
    if (user !== undefined) await rm(user, { recursive: true, force: true });
  });

  it('stays ready while it is busy prefilling a long prompt, probed every 500 ms', async () => {
    const first = await waitFor('the pidfile', serverPid, 10_000);
    const words = 'the quick brown fox jumps over the lazy dog while the server prefills'.split(' ');
    const long = Array.from({ length: 1_500 }, (_, i) => words[i % words.length]).join(' ');
    const answered = await ask(`${long}\nSay ok.`);
    expect(answered.status, answered.body).toBe(200);
    const usage = (JSON.parse(answered.body) as { usage: { input_tokens: number; cache_read_input_tokens?: number } }).usage;
    expect(usage.input_tokens + (usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(1_400);
    // up logs every state change on stderr (the next test sees its 'ready → degraded'): none here, and the same server.
    expect(up!.stderr()).not.toMatch(/degraded/);
    expect(await serverPid()).toBe(first);
  }, 300_000);

  it('is marked degraded (status says why, requests get 529), then restarted after the grace, and answers again', async () => {
    const first = await waitFor('the pidfile', serverPid, 10_000);
    expect((await ask()).status).toBe(200);
    expect(await status()).toMatch(/▶ mlx-lm\s+ready · .* managed, pid \d+/);

    process.kill(first, 'SIGSTOP');
    const degraded = await waitFor('degraded in anyclaude status', async () => {
      const text = await status();
      return text.includes('degraded') ? text : undefined;
    }, 20_000);
    expect(degraded).toMatch(/▶ mlx-lm\s+degraded · .* managed, pid \d+/);
    expect(degraded).toMatch(/mlx-lm did not answer its health check for \d+(\.\d)? s \(timeout after 1 s\); anyclaude restarts it if it still does not answer in \d+(\.\d)? s/);

    expect(up!.stderr()).toMatch(/ready → degraded: mlx-lm did not answer its health check/);

    const refused = await ask();
    expect(refused.status).toBe(529);
    const error = (JSON.parse(refused.body) as { error: { type: string; message: string } }).error;
    expect(error.type).toBe('overloaded_error');
    expect(error.message).toContain('backend mlx-lm is not ready: mlx-lm did not answer its health check');

    const second = await waitFor('a new server', async () => {
      const pid = await serverPid();
      return pid !== undefined && pid !== first ? pid : undefined;
    }, 60_000);
    const restarted = await waitFor('ready in anyclaude status', async () => {
      const text = await status();
      return /▶ mlx-lm\s+ready/.test(text) ? text : undefined;
    }, 120_000);
    expect(restarted).toContain(`managed, pid ${second}`);
    expect(restarted).toContain('1 restart');
    expect(await alive(first)).toBe(false);

    const answered = await ask();
    expect(answered.status, answered.body).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ type: 'message', role: 'assistant' });
  }, 300_000);

  it('leaves nothing running once anyclaude stops', async () => {
    up?.child.kill('SIGINT');
    expect((await up?.child)?.exitCode).toBe(0);
    up = undefined;
    for (const pid of seen) expect(await alive(pid)).toBe(false);
  }, 60_000);
});
