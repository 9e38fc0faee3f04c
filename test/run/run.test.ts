/**
 * The Run core object against real HTTP servers: a scripted LM Studio and a scripted Ollama
 * (fault-free here; their discovery endpoints are what the adapters really call). Requests go
 * through the real proxy with the official Anthropic SDK.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreEvents } from '../../src/core/events.js';
import type { RunState } from '../../src/run/run-state.js';
import { Run } from '../../src/run/run.js';
import { resolveUpSettings } from '../../src/settings/up-settings.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

const SESSION = 'c0ffee00-0000-4000-8000-000000000001';

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Run: one observable state, and switching backends without restarting the client', () => {
  let lmstudio: ScriptedUpstream;
  let ollama: ScriptedUpstream;
  let home: string;
  let run: Run;
  let client: Anthropic;
  const notifications: number[] = [];

  beforeAll(async () => {
    lmstudio = await startScriptedUpstream({ flavor: 'lmstudio', contextLength: 32_768, delayMsPerChunk: 2 });
    ollama = await startScriptedUpstream({ flavor: 'ollama', contextLength: 65_536 });
    lmstudio.setDefault({ kind: 'text', text: 'from LM Studio '.repeat(40), promptTokens: 20_000, cachedTokens: 19_800, chunkSize: 2 });
    ollama.setDefault({ kind: 'text', text: 'from Ollama', promptTokens: 20_000, cachedTokens: 0 });
    home = await mkdtemp(join(tmpdir(), 'anyclaude-run-'));
    // Where the Ollama adapter looks (as a user's OLLAMA_HOST would say).
    process.env.OLLAMA_HOST = ollama.url;
    const settings = resolveUpSettings({ backend: 'lmstudio', protocol: 'openai' }, { env: { LMSTUDIO_URL: lmstudio.url }, config: {}, configFile: join(home, 'config.json') });
    run = await Run.start({ settings, home, events: new CoreEvents(), claudeVersion: '2.1.197' });
    run.subscribe(() => notifications.push(Date.now()));
    client = new Anthropic({ baseURL: run.proxy.url, apiKey: run.proxy.key, maxRetries: 0 });
  });

  afterAll(async () => {
    await run?.stop();
    await Promise.all([lmstudio?.close(), ollama?.close()]);
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  const ask = (headers: Record<string, string> = {}) =>
    client.messages.create(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 200,
        system: [{ type: 'text', text: 'You are Claude Code. '.repeat(50) }],
        tools: [{ name: 'Read', description: 'Read a file', input_schema: { type: 'object', properties: { path: { type: 'string' } } } }],
        messages: [{ role: 'user', content: 'hello' }],
        stream: true,
      },
      { headers: { 'x-claude-code-session-id': SESSION, 'user-agent': 'claude-cli/2.1.197 (external, cli)', ...headers } },
    );

  async function drain(stream: Awaited<ReturnType<typeof ask>>): Promise<string> {
    let text = '';
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    return text;
  }

  it('starts with the backend it was given, active, with its model and real context window', () => {
    const state = run.getSnapshot();
    expect(state.proxyUrl).toBe(run.proxy.url);
    expect(state.active).toBe('lmstudio');
    const lm = state.backends.find((b) => b.id === 'lmstudio');
    expect(lm).toMatchObject({ active: true, phase: 'external', model: 'qwen/qwen3-4b', contextWindow: 32_768, protocol: 'openai', managed: false });
  });

  it('finds the other servers on this machine, with the models they can serve', async () => {
    const found = await until('Ollama in the catalog', () => run.getSnapshot().backends.find((b) => b.id === 'ollama'));
    expect(found).toMatchObject({ phase: 'available', active: false, models: ['qwen3:4b'] });
    expect(found.detail).toContain('Ollama at');
  });

  it('records each request, in flight then finished, per session, with at most ~10 notifications a second', async () => {
    notifications.length = 0;
    const before = run.getSnapshot().revision;
    const sawInFlight: boolean[] = [];
    const off = run.subscribe(() => sawInFlight.push(run.getSnapshot().inFlight.length > 0));
    const text = await drain(await ask());
    off();
    expect(text).toContain('from LM Studio');
    const state = await until('the request in the state', () => (run.getSnapshot().requests.length > 0 ? run.getSnapshot() : undefined));
    expect(state.revision).toBeGreaterThan(before);
    const last = state.requests.at(-1)!;
    expect(last).toMatchObject({ upstream: 'lmstudio', promptTokens: 20_000, sessionId: SESSION });
    expect(last.decodeTokensPerSec).toBeGreaterThan(0);
    expect(state.sessions[0]).toMatchObject({ sessionId: SESSION, requests: 1 });
    expect(state.inFlight).toEqual([]);
    expect(sawInFlight).toContain(true);
    // ~300 streamed pieces, yet the store told its subscribers at most once per 100 ms.
    const gaps = notifications.slice(1).map((t, i) => t - notifications[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(90);
  });

  it('follows a model loaded in the server’s own window, with its context window', async () => {
    lmstudio.setModel('qwen/qwen3-coder-30b', 16_384);
    const followed = await until('the new model', () => run.getSnapshot().backends.find((b) => b.id === 'lmstudio' && b.model === 'qwen/qwen3-coder-30b'), 8_000);
    expect(followed.contextWindow).toBe(16_384);
    expect(run.getSnapshot().logs.some((l) => l.message.includes('now serving qwen/qwen3-coder-30b'))).toBe(true);
    // A new session: its first request is what anyclaude remembers to warm this model with.
    await drain(await ask({ 'x-claude-code-session-id': 'c0ffee00-0000-4000-8000-000000000002' }));
    expect((lmstudio.chatRequests.at(-1)!.body as { model: string }).model).toBe('qwen/qwen3-coder-30b');
  });

  it('switches to a backend that was only available: started, then the next request goes there', async () => {
    const switching = run.switchTo('ollama');
    // The status line and the dashboard show a switch at once, before the target is ready.
    expect(run.getSnapshot().switching).toMatchObject({ to: 'ollama', detail: 'starting' });
    await switching;
    const state = run.getSnapshot();
    expect(state.active).toBe('ollama');
    expect(state.switching).toBeUndefined();
    expect(state.backends.find((b) => b.id === 'ollama')).toMatchObject({ active: true, phase: 'external', model: 'qwen3:4b', contextWindow: 65_536 });
    expect(state.backends.find((b) => b.id === 'lmstudio')?.active).toBe(false);
    const before = ollama.chatRequests.length;
    expect(await drain(await ask())).toBe('from Ollama');
    expect(ollama.chatRequests.length).toBe(before + 1);
  });

  it('switching back warms the target with the remembered prompt prefix before it takes requests', async () => {
    const before = lmstudio.chatRequests.length;
    await run.switchTo('lmstudio');
    const warm = lmstudio.chatRequests.slice(before);
    expect(warm).toHaveLength(1);
    expect((warm[0]!.body as { max_tokens?: number }).max_tokens).toBe(1);
    expect(run.getSnapshot().warmups.find((w) => w.backend === 'lmstudio')?.phase).toBe('done');
    expect(run.getSnapshot().active).toBe('lmstudio');
  });

  it('switches to another model of a backend: the next request names it, with its context window', async () => {
    // The model is now one Ollama has (as after `ollama pull`); lmstudio stays active meanwhile.
    ollama.setModel('qwen3-coder:30b', 40_960);
    await run.switchTo('ollama', 'qwen3-coder:30b');
    const view = run.getSnapshot().backends.find((b) => b.id === 'ollama');
    expect(view).toMatchObject({ active: true, model: 'qwen3-coder:30b', contextWindow: 40_960 });
    await drain(await ask());
    expect((ollama.chatRequests.at(-1)!.body as { model: string }).model).toBe('qwen3-coder:30b');
    await run.switchTo('lmstudio');
  });

  it('refuses an unknown backend with the ones it knows', async () => {
    await expect(run.switchTo('vllm')).rejects.toThrow(/unknown backend "vllm": known here are .*lmstudio.*ollama/);
  });

  it('answers its control endpoints: the state, and a switch (key required)', async () => {
    const headers = { authorization: `Bearer ${run.proxy.key}` };
    const state = await request(`${run.proxy.url}/_anyclaude/state`, { headers });
    expect(state.statusCode).toBe(200);
    const body = (await state.body.json()) as RunState;
    expect(body.active).toBe('lmstudio');
    expect(body.backends.map((b) => b.id)).toEqual(expect.arrayContaining(['lmstudio', 'ollama']));

    const noKey = await request(`${run.proxy.url}/_anyclaude/state`);
    expect(noKey.statusCode).toBe(401);
    await noKey.body.dump();

    const bad = await request(`${run.proxy.url}/_anyclaude/switch`, { method: 'POST', headers, body: JSON.stringify({ model: 'x' }) });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: { message: string } }).error.message).toContain('"backend"');

    const unknown = await request(`${run.proxy.url}/_anyclaude/switch`, { method: 'POST', headers, body: JSON.stringify({ backend: 'vllm' }) });
    expect(unknown.statusCode).toBe(409);
    expect(((await unknown.body.json()) as { error: { message: string } }).error.message).toContain('unknown backend');

    const ok = await request(`${run.proxy.url}/_anyclaude/switch`, { method: 'POST', headers, body: JSON.stringify({ backend: 'ollama' }) });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toEqual({ ok: true, active: 'ollama' });
    expect(run.getSnapshot().active).toBe('ollama');
  });
});
