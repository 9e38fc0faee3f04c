/** `anyclaude proxy` as a user runs it: only export lines on stdout, then a clean exit on a signal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startProxyProcess } from '../support/cli.js';
import { execa } from 'execa';
import { BIN } from '../support/cli.js';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('anyclaude proxy', () => {
  let upstream: ScriptedUpstream;
  beforeAll(async () => {
    upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'mlx-community/tiny' });
  });
  afterAll(() => upstream.close());

  it('prints only export lines (URL, key, and the timeouts a slow prefill needs), serves, and exits 0 on SIGTERM', async () => {
    const proxy = await startProxyProcess(['proxy', '--upstream', upstream.url, '--flavor', 'mlx-lm', '--key', 'test-key-123']);
    await new Promise((r) => setTimeout(r, 100));
    expect(proxy.stdoutLines).toEqual([
      `export ANTHROPIC_BASE_URL=${proxy.env.ANTHROPIC_BASE_URL}`,
      'export ANTHROPIC_API_KEY=test-key-123',
      'export API_TIMEOUT_MS=3600000',
      'export CLAUDE_STREAM_IDLE_TIMEOUT_MS=3600000',
      'export BUN_CONFIG_HTTP_IDLE_TIMEOUT=3600',
    ]);
    expect(proxy.env.ANTHROPIC_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${proxy.env.ANTHROPIC_BASE_URL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'test-key-123', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-x', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    // The served model id was discovered from /v1/models and is what the backend receives.
    expect((upstream.chatRequests.at(-1)?.body as { model: string }).model).toBe('mlx-community/tiny');
    proxy.child.kill('SIGTERM');
    const result = await proxy.child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout).trim().split('\n').every((line) => line.startsWith('export '))).toBe(true);
  });

  it('PROXY_ONLY=true anyclaude behaves the same', async () => {
    const proxy = await startProxyProcess(['--upstream', upstream.url, '--model', 'm'], { PROXY_ONLY: 'true' });
    expect(proxy.env.ANTHROPIC_API_KEY).toMatch(/^anyclaude-/);
    proxy.child.kill('SIGINT');
    expect((await proxy.child).exitCode).toBe(0);
  });

  it.each([
    ['1', 'on', true],
    ['0', 'off', false],
  ] as const)('ANYCLAUDE_DEBUG=%s turns traces %s', async (value, _word, expected) => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-debug-'));
    // Traces go under ANYCLAUDE_HOME (CI sets one for the whole run), so the test names its own.
    const anyclaudeHome = join(home, 'anyclaude-home');
    const proxy = await startProxyProcess(['proxy', '--upstream', upstream.url, '--model', 'm'], { HOME: home, ANYCLAUDE_HOME: anyclaudeHome, ANYCLAUDE_DEBUG: value });
    await fetch(`${proxy.env.ANTHROPIC_BASE_URL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': proxy.env.ANTHROPIC_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-x', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 200));
    proxy.child.kill('SIGTERM');
    await proxy.child;
    expect(existsSync(join(anyclaudeHome, 'traces'))).toBe(expected);
  });

  it('fails with one readable line and a fix when the backend is not there', async () => {
    const result = await execa('node', [BIN, 'proxy', '--upstream', 'http://127.0.0.1:9'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^anyclaude: could not learn the served model from http:\/\/127\.0\.0\.1:9\/v1\/models/);
    expect(result.stderr).toContain('fix: start the backend first, or pass --model');
  });
});
