/**
 * Users of the predecessor type `anyclaude` and keep its variables in their shell profiles:
 * each habit, run through the real `anyclaude` bin (and the real Claude Code where it matters).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBackend } from '../../src/backends/backend.js';
import { mlxLmBackend } from '../../src/backends/mlx-lm-backend.js';
import { CoreEvents } from '../../src/core/events.js';
import { BIN, startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { makeClaudeConfigDir } from '../support/claude-home.js';
import { prepareMlxFixture, SMALL_CLAUDE_ARGS } from '../support/mlx-fixture.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

/** A user's machine: its own HOME and anyclaude home, and nothing from the test runner's environment. */
async function userEnv(extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; home: string; cwd: string }> {
  const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-habits-'));
  const home = join(userHome, '.anyclaude');
  await mkdir(home, { recursive: true });
  const configDir = await makeClaudeConfigDir(userHome);
  return { env: { PATH: process.env.PATH ?? '', HOME: userHome, ANYCLAUDE_HOME: home, CLAUDE_CONFIG_DIR: configDir, ...extra }, home, cwd: userHome };
}

async function ask(proxy: ProxyProcess, text = 'hi'): Promise<{ status: number; body: string }> {
  const response = await fetch(`${proxy.env.ANTHROPIC_BASE_URL}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': proxy.env.ANTHROPIC_API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-x', max_tokens: 20, messages: [{ role: 'user', content: text }] }),
  });
  return { status: response.status, body: await response.text() };
}

interface StatusUpstream {
  name: string;
  url: string;
  model: string | undefined;
  contextWindow: number | undefined;
}

async function upstreams(proxy: ProxyProcess): Promise<StatusUpstream[]> {
  const response = await fetch(`${proxy.env.ANTHROPIC_BASE_URL}/_anyclaude/status`, { headers: { 'x-api-key': proxy.env.ANTHROPIC_API_KEY } });
  return ((await response.json()) as { upstreams: StatusUpstream[] }).upstreams;
}

async function stop(proxy: ProxyProcess): Promise<number | undefined> {
  proxy.child.kill('SIGINT');
  return (await proxy.child).exitCode;
}

describe("the predecessor's habits", () => {
  let server: ScriptedUpstream;
  beforeAll(async () => {
    // An OpenAI-compatible server without LM Studio's own API (an old LM Studio, or anything set up as one).
    server = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'listed-model' });
    server.setDefault({ kind: 'text', text: 'Hello from the scripted backend' });
  });
  afterAll(() => server.close());

  it('`anyclaude` with no subcommand runs up, with --mode=<backend>, a full endpoint URL and `-- claude args`', async () => {
    const user = await userEnv();
    const result = await execa('node', [BIN, '--mode=openai', '--url', `${server.url}/v1/chat/completions`, '--no-tui', '--', '-p', 'Say hello', ...SMALL_CLAUDE_ARGS], {
      env: user.env,
      extendEnv: false,
      cwd: user.cwd,
      stdin: 'ignore',
      reject: false,
      timeout: 120_000,
    });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toContain('Hello from the scripted backend');
    expect(String(result.stderr)).toContain('anyclaude: starting openai');
  }, 150_000);

  it('PROXY_ONLY=true with ANYCLAUDE_MODE and the LMSTUDIO_* variables: served from the OpenAI model list, with the model, key and context given', async () => {
    const user = await userEnv({
      PROXY_ONLY: 'true',
      ANYCLAUDE_MODE: 'lmstudio',
      LMSTUDIO_URL: `${server.url}/v1`,
      LMSTUDIO_MODEL: 'my-studio-model',
      LMSTUDIO_API_KEY: 'lm-secret-123456',
      LMSTUDIO_CONTEXT_LENGTH: '16384',
    });
    const proxy = await startProxyProcess([], user.env);
    try {
      const reply = await ask(proxy);
      expect(reply.status).toBe(200);
      expect(reply.body).toContain('Hello from the scripted backend');
      const sent = server.chatRequests.at(-1);
      expect((sent?.body as { model: string }).model).toBe('my-studio-model');
      expect(sent?.headers.authorization).toBe('Bearer lm-secret-123456');
      expect(await upstreams(proxy)).toEqual([expect.objectContaining({ name: 'lmstudio', url: server.url, model: 'my-studio-model', contextWindow: 16384 })]);
    } finally {
      expect(await stop(proxy)).toBe(0);
    }
  });

  it('LMSTUDIO_URL alone picks LM Studio there (no detection elsewhere)', async () => {
    const user = await userEnv({ PROXY_ONLY: 'true', LMSTUDIO_URL: `${server.url}/v1/` });
    const proxy = await startProxyProcess([], user.env);
    try {
      expect(await upstreams(proxy)).toEqual([expect.objectContaining({ name: 'lmstudio', url: server.url, model: 'listed-model' })]);
      expect((await ask(proxy)).status).toBe(200);
    } finally {
      expect(await stop(proxy)).toBe(0);
    }
  });

  it('MLX_LM_URL with MLX_MODEL and MLX_LM_API_KEY: that server, that model, that key', async () => {
    const user = await userEnv({ PROXY_ONLY: 'true', MLX_LM_URL: `${server.url}/v1`, MLX_MODEL: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', MLX_LM_API_KEY: 'mlx-secret-123456' });
    const proxy = await startProxyProcess([], user.env);
    try {
      expect((await ask(proxy)).status).toBe(200);
      const sent = server.chatRequests.at(-1);
      expect((sent?.body as { model: string }).model).toBe('mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit');
      expect(sent?.headers.authorization).toBe('Bearer mlx-secret-123456');
      expect(await upstreams(proxy)).toEqual([expect.objectContaining({ name: 'mlx-lm', url: server.url })]);
    } finally {
      expect(await stop(proxy)).toBe(0);
    }
  });

  it('a flag wins over the environment, which wins over the config file', async () => {
    const user = await userEnv({ PROXY_ONLY: 'true', ANYCLAUDE_MODE: 'lmstudio', LMSTUDIO_URL: 'http://127.0.0.1:9/v1' });
    await writeFile(join(user.home, 'config.json'), JSON.stringify({ backend: 'ollama', model: 'from-config' }));
    // --mode beats ANYCLAUDE_MODE; --url beats LMSTUDIO_URL; the config's model is used where nothing else names one.
    const proxy = await startProxyProcess(['--mode', 'openai', '--url', server.url], user.env);
    try {
      expect(await upstreams(proxy)).toEqual([expect.objectContaining({ name: 'openai', url: server.url, model: 'from-config' })]);
    } finally {
      expect(await stop(proxy)).toBe(0);
    }
  });

  it.each([
    ['1', true, false],
    ['2', true, true],
  ] as const)('ANYCLAUDE_DEBUG=%s: traces %s, full bodies in the log %s', async (level, traces, bodiesInLog) => {
    const marker = `marker-${level}-${Date.now()}`;
    const user = await userEnv({ PROXY_ONLY: 'true', ANYCLAUDE_MODE: 'openai', ANYCLAUDE_DEBUG: level });
    const proxy = await startProxyProcess(['--url', `${server.url}/v1`], user.env);
    try {
      expect((await ask(proxy, marker)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      expect(await stop(proxy)).toBe(0);
    }
    const traceDir = join(user.home, 'traces');
    expect(existsSync(traceDir)).toBe(traces);
    expect(statSync(traceDir).mode & 0o777).toBe(0o700);
    const log = await readFile(join(user.home, 'logs', 'anyclaude.log'), 'utf8');
    expect(log.includes(marker)).toBe(bodiesInLog);
    // Keys never reach the log, bodies or not.
    expect(log).not.toContain(proxy.env.ANTHROPIC_API_KEY);
  });

  describe('MLX_LM_URL: an mlx_lm.server the user already runs', () => {
    let running: RunningBackend;
    beforeAll(async () => {
      const fixture = await prepareMlxFixture();
      running = await mlxLmBackend.start({ model: fixture.model }, { events: new CoreEvents(), home: fixture.home });
    }, 600_000);
    afterAll(() => running.stop());

    it('--demo still starts its own server when MLX_LM_URL is in the profile', async () => {
      const user = await userEnv({ PROXY_ONLY: 'true', MLX_LM_URL: `${running.info.url}/v1` });
      const fixture = await prepareMlxFixture();
      await symlink(join(fixture.home, 'venvs'), join(user.home, 'venvs'));
      await symlink(join(fixture.home, 'models'), join(user.home, 'models'));
      const proxy = await startProxyProcess(['--demo'], user.env);
      try {
        const [upstream] = await upstreams(proxy);
        expect(upstream?.name).toBe('mlx-lm');
        expect(upstream?.url).not.toBe(running.info.url);
      } finally {
        expect(await stop(proxy)).toBe(0);
      }
    }, 300_000);

    it('is used as is: Claude Code gets its reply and anyclaude starts no server of its own', async () => {
      const user = await userEnv({ MLX_LM_URL: `${running.info.url}/v1`, ANYCLAUDE_MODE: 'mlx-lm' });
      const result = await execa('node', [BIN, '--no-tui', '--', '-p', 'Say hello', ...SMALL_CLAUDE_ARGS], {
        env: user.env,
        extendEnv: false,
        cwd: user.cwd,
        stdin: 'ignore',
        reject: false,
        timeout: 240_000,
      });
      expect(result.exitCode, String(result.stderr)).toBe(0);
      expect(String(result.stdout)).toMatch(/[A-Za-z]{2,}/);
      expect(String(result.stderr)).toContain(`ready at ${running.info.url}`);
      // Nothing was installed or started: no venv, no supervised server's states, no pidfile.
      expect(existsSync(join(user.home, 'venvs'))).toBe(false);
      const log = await readFile(join(user.home, 'logs', 'anyclaude.log'), 'utf8');
      expect(log).toMatch(/state mlx-lm: external/);
      expect(log).not.toMatch(/state mlx-lm: (starting|ready)/);
      expect(await readdir(join(user.home, 'run'))).toEqual([]);
      expect(log).toMatch(/req\s+200\s+mlx-lm/);
    }, 300_000);
  });
});
