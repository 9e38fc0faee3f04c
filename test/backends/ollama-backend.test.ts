import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendContext } from '../../src/backends/backend.js';
import { ollamaBackend, ollamaUrl, parseOllamaHost, versionAtLeast } from '../../src/backends/ollama-backend.js';
import { CoreEvents } from '../../src/core/events.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import { startScriptedUpstream } from '../support/scripted-upstream.js';
import { expectError } from '../support/expect-error.js';

interface FakeOllamaModel {
  name: string;
  trained: number;
  loadedContext?: number;
  tools?: boolean;
}

/** Ollama with nothing loaded unless said, installed models for /api/tags and /api/show, and a chosen version. */
async function fakeOllama(models: FakeOllamaModel[], version = '0.14.2'): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/') return void res.end('Ollama is running');
      if (req.url === '/api/version') return json(200, { version });
      if (req.url === '/api/tags') return json(200, { models: models.map((m) => ({ name: m.name, model: m.name })) });
      if (req.url === '/api/ps') {
        return json(200, { models: models.filter((m) => m.loadedContext !== undefined).map((m) => ({ name: m.name, model: m.name, context_length: m.loadedContext })) });
      }
      if (req.url === '/api/show' && req.method === 'POST') {
        const asked = (JSON.parse(Buffer.concat(chunks).toString()) as { model: string }).model;
        const model = models.find((m) => m.name === asked);
        if (model === undefined) return json(404, { error: `model '${asked}' not found` });
        return json(200, { model_info: { 'general.architecture': 'qwen3moe', 'qwen3moe.context_length': model.trained }, capabilities: ['completion', ...(model.tools === false ? [] : ['tools'])] });
      }
      res.writeHead(404).end('404 page not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}


let ctx: BackendContext;
let warnings: string[];
const closers: Array<() => Promise<void>> = [];
beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-ollama-')) };
  warnings = [];
  ctx.events.on('log', (e) => {
    if (e.level === 'warn') warnings.push(e.message);
  });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.allSettled(closers.splice(0).map((close) => close()));
  await rm(ctx.home, { recursive: true, force: true });
});

async function fake(models: FakeOllamaModel[], version?: string): Promise<string> {
  const server = await fakeOllama(models, version);
  closers.push(() => server.close());
  return server.url;
}

describe('Ollama backend', () => {
  it('a loaded model: its loaded context, openai by default, anthropic offered from 0.14', async () => {
    const upstream = await startScriptedUpstream({ flavor: 'ollama', contextLength: 65536, trainedContextLength: 262144 });
    closers.push(() => upstream.close());
    const port = Number(new URL(upstream.url).port);
    expect(await ollamaBackend.detect(ctx, { port })).toMatchObject({ name: 'ollama', url: upstream.url, detail: expect.stringContaining('qwen3:4b (65536 ctx)') });
    const running = await ollamaBackend.start({ port }, ctx);
    expect(running.info).toEqual({
      name: 'ollama',
      url: upstream.url,
      modelId: 'qwen3:4b',
      contextWindow: 65536,
      capabilities: { toolCalls: 'native', cachedTokens: false, protocols: ['openai', 'anthropic'], preferred: 'openai' },
      managed: false,
    });
    expect(running.upstream).toEqual({ name: 'ollama', url: upstream.url, protocol: 'openai', flavor: 'ollama', model: 'qwen3:4b', contextWindow: 65536, profile: UPSTREAM_PROFILES.ollama });
    expect(warnings).toEqual([]);
    expect(running.status().state).toBe('external');
  });

  it('a model loaded with a small context: warns and names OLLAMA_CONTEXT_LENGTH', async () => {
    const upstream = await startScriptedUpstream({ flavor: 'ollama', contextLength: 4096 });
    closers.push(() => upstream.close());
    const running = await ollamaBackend.start({ url: upstream.url, model: 'qwen3' }, ctx);
    expect(running.info.contextWindow).toBe(4096);
    expect(warnings.join('\n')).toMatch(/4096-token context.*OLLAMA_CONTEXT_LENGTH/);
  });

  it('a model not loaded yet: trained context from /api/show, and a warning about the default context', async () => {
    const url = await fake([
      { name: 'qwen3-coder:30b', trained: 262144 },
      { name: 'llama3.2:1b', trained: 131072, tools: false },
    ]);
    const running = await ollamaBackend.start({ url, model: 'qwen3-coder' }, ctx);
    expect(running.info).toMatchObject({ modelId: 'qwen3-coder:30b', contextWindow: 262144, capabilities: { toolCalls: 'native' } });
    expect(warnings.join('\n')).toMatch(/not loaded yet.*OLLAMA_CONTEXT_LENGTH/);
    expect((await ollamaBackend.start({ url, model: 'llama3.2', context: 16384 }, ctx)).info).toMatchObject({ contextWindow: 16384, capabilities: { toolCalls: 'text' } });
  });

  it('picks by --model among several loaded; without it several loaded is ambiguous and none loaded lists what is installed', async () => {
    const url = await fake([
      { name: 'qwen3:4b', trained: 40960, loadedContext: 32768 },
      { name: 'gemma3:12b', trained: 131072, loadedContext: 32768 },
    ]);
    expect((await ollamaBackend.start({ url, model: 'gemma3' }, ctx)).info.modelId).toBe('gemma3:12b');
    await expectError(ollamaBackend.start({ url }, ctx), 'MODEL_AMBIGUOUS');
    const empty = await fake([{ name: 'qwen3:4b', trained: 40960 }]);
    const error = await expectError(ollamaBackend.start({ url: empty }, ctx), 'NO_MODEL_LOADED');
    expect(error.message).toContain('installed: qwen3:4b');
  });

  it('a model Ollama does not have: says to pull it', async () => {
    const url = await fake([{ name: 'qwen3:4b', trained: 40960 }]);
    const error = await expectError(ollamaBackend.start({ url, model: 'mistral-small:24b' }, ctx), 'MODEL_NOT_FOUND');
    expect(error.fix).toBe('pull it first: ollama pull mistral-small:24b');
  });

  it('a catalog name means its Ollama tag: used when installed, else the fix says which tag to pull', async () => {
    const url = await fake([{ name: 'qwen3-coder:30b', trained: 262144 }]);
    expect((await ollamaBackend.start({ url, model: 'Qwen3-Coder-30B' }, ctx)).info.modelId).toBe('qwen3-coder:30b');
    const other = await fake([{ name: 'qwen3:4b', trained: 40960 }]);
    const error = await expectError(ollamaBackend.start({ url: other, model: 'Qwen3-Coder-30B' }, ctx), 'MODEL_NOT_FOUND');
    expect(error.fix).toBe('pull it first: ollama pull qwen3-coder:30b');
  });

  it('before 0.14 only the openai protocol is offered', async () => {
    const url = await fake([{ name: 'qwen3:4b', trained: 40960, loadedContext: 40960 }], '0.12.6');
    const running = await ollamaBackend.start({ url }, ctx);
    expect(running.info.capabilities.protocols).toEqual(['openai']);
  });

  it('finds Ollama where OLLAMA_HOST says', async () => {
    const url = await fake([{ name: 'qwen3:4b', trained: 40960, loadedContext: 40960 }]);
    vi.stubEnv('OLLAMA_HOST', `0.0.0.0:${new URL(url).port}`);
    expect(await ollamaBackend.detect(ctx)).toMatchObject({ url });
  });

  it('not running: detect finds nothing and start says how to start it', async () => {
    const url = await fake([]);
    await closers.pop()?.();
    expect(await ollamaBackend.detect(ctx, { url })).toBeUndefined();
    const error = await expectError(ollamaBackend.start({ url }, ctx), 'OLLAMA_NOT_RUNNING');
    expect(error.fix).toContain('ollama serve');
  });
});

describe('OLLAMA_HOST and versions', () => {
  it('reads OLLAMA_HOST the way Ollama does (a scheme without a port means 80/443), with wildcard hosts made reachable', () => {
    expect(parseOllamaHost('0.0.0.0')).toBe('http://127.0.0.1:11434');
    expect(parseOllamaHost(':8080')).toBe('http://127.0.0.1:8080');
    expect(parseOllamaHost('127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(parseOllamaHost('http://gpu-box')).toBe('http://gpu-box');
    expect(parseOllamaHost('https://ollama.example.com/')).toBe('https://ollama.example.com');
    expect(ollamaUrl({}, {})).toBe('http://127.0.0.1:11434');
    expect(ollamaUrl({ port: 1 }, { OLLAMA_HOST: 'x:2' })).toBe('http://127.0.0.1:1');
  });

  it('compares versions', () => {
    expect(versionAtLeast('0.14.0', [0, 14, 0])).toBe(true);
    expect(versionAtLeast('0.15.1-rc0', [0, 14, 0])).toBe(true);
    expect(versionAtLeast('0.13.9', [0, 14, 0])).toBe(false);
    expect(versionAtLeast(undefined, [0, 14, 0])).toBe(false);
  });
});
