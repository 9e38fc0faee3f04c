/**
 * A real mlx_lm.server on CPU with a small real model (SmolLM2-135M-Instruct from PyPI),
 * started, watched and stopped by the product's own adapter and supervisor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import psList from 'ps-list';
import { createServer, type Server } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import getPort from 'get-port';
import { CoreEvents } from '../../src/core/events.js';
import { mlxLmBackend } from '../../src/backends/mlx-lm-backend.js';
import type { RunningBackend } from '../../src/backends/backend.js';
import { startProxy, type Proxy } from '../../src/proxy/server.js';
import { reapStale } from '../../src/supervisor/pidfiles.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';

const alive = async (pid: number): Promise<boolean> => (await psList()).some((p) => p.pid === pid && !(p.cmd ?? '').includes('<defunct>'));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('real mlx_lm.server through anyclaude', () => {
  let fixture: { home: string; model: string };
  let backend: RunningBackend;
  let proxy: Proxy;
  let client: Anthropic;
  const events = new CoreEvents();

  beforeAll(async () => {
    fixture = await prepareMlxFixture();
    backend = await mlxLmBackend.start({ model: fixture.model }, { events, home: fixture.home });
    proxy = await startProxy({ upstreams: [backend.upstream], events });
    client = new Anthropic({ baseURL: proxy.url, apiKey: proxy.key, maxRetries: 0, timeout: 300_000 });
  }, 600_000);

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
  });

  it('is ready, with the context window read from config.json', () => {
    expect(backend.status().state).toBe('ready');
    expect(backend.info.contextWindow).toBe(8192);
    expect(backend.info.modelId).toBe(fixture.model);
  });

  it('answers through the proxy with the real model, for the Anthropic SDK', async () => {
    const message = await client.messages.create({
      model: 'claude-opus-4-8',
      max_tokens: 24,
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
    });
    const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(text).toMatch(/Paris/);
    expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(10);
  }, 180_000);

  it('reuses the backend KV cache on the next turn of the conversation', async () => {
    const system = 'You are a geography tutor. Keep every answer to one sentence. '.repeat(8);
    const first = await client.messages.stream({ model: 'claude-opus-4-8', max_tokens: 16, system, messages: [{ role: 'user', content: 'Name a river in Europe.' }] }).finalMessage();
    const answer = first.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(answer.length).toBeGreaterThan(0);
    const second = await client.messages
      .stream({
        model: 'claude-opus-4-8',
        max_tokens: 16,
        system,
        messages: [
          { role: 'user', content: 'Name a river in Europe.' },
          { role: 'assistant', content: answer },
          { role: 'user', content: 'And one in Africa?' },
        ],
      })
      .finalMessage();
    const total = second.usage.input_tokens + (second.usage.cache_read_input_tokens ?? 0);
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);
    // Everything up to the new turn was cached: system prompt, first question, first answer.
    expect((second.usage.cache_read_input_tokens ?? 0) / total).toBeGreaterThan(0.8);
  }, 240_000);

  it('restarts a server killed with SIGKILL; meanwhile requests get 529, then succeed', async () => {
    const pid = backend.status().pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => backend.status().state !== 'ready', 10_000, 'the crash to be noticed');
    const during = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': proxy.key },
      body: JSON.stringify({ model: 'x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(during.status).toBe(529);
    await waitFor(() => backend.status().state === 'ready', 120_000, 'the restart');
    expect(backend.status().restarts).toBe(1);
    expect(backend.status().pid).not.toBe(pid);
    const message = await client.messages.create({ model: 'x', max_tokens: 8, messages: [{ role: 'user', content: 'Say hi.' }] });
    expect(message.content.length).toBeGreaterThan(0);
  }, 240_000);

  it('refuses a taken --backend-port with a clear error', async () => {
    const port = await getPort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await expect(mlxLmBackend.start({ model: fixture.model, port }, { events, home: fixture.home })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: expect.stringContaining(String(port)),
      });
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('leaves no process behind when stopped', async () => {
    const pid = backend.status().pid!;
    expect(await alive(pid)).toBe(true);
    await backend.stop();
    expect(await alive(pid)).toBe(false);
    const servers = (await psList()).filter((p) => (p.cmd ?? '').includes('mlx_lm.server') && (p.cmd ?? '').includes(fixture.model));
    expect(servers.filter((p) => !(p.cmd ?? '').includes('<defunct>'))).toEqual([]);
  }, 60_000);
});

describe('a server left behind by an anyclaude that was killed', () => {
  it('is reaped by the next run, using its pidfile and command line', async () => {
    const fixture = await prepareMlxFixture();
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-home-'));
    // Reuse the prepared venv: a fresh home would install mlx-lm again.
    await execa('ln', ['-s', join(fixture.home, 'venvs'), join(home, 'venvs')]);
    const script = fileURLToPath(new URL('./fixtures/start-then-hang.ts', import.meta.url));
    const child = execa('node', ['--import', 'tsx', script, home, fixture.model], { reject: false });
    const serverPid = await new Promise<number>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      void child.then((r) => reject(new Error(`starter exited: ${String(r.stderr)}`)));
    });
    child.kill('SIGKILL');
    await child;
    expect(await alive(serverPid)).toBe(true);
    const reaped = await reapStale(join(home, 'run'));
    expect(reaped.map((r) => r.outcome)).toEqual(['killed']);
    await waitFor(async () => !(await alive(serverPid)), 10_000, 'the orphan to die');
  }, 300_000);
});
