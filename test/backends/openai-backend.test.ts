import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendContext } from '../../src/backends/backend.js';
import { openaiBackend } from '../../src/backends/openai-backend.js';
import { AnyclaudeError } from '../../src/core/errors.js';
import { CoreEvents } from '../../src/core/events.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';

interface FakeVllm {
  url: string;
  seen: IncomingMessage['headers'][];
  close(): Promise<void>;
}

/** vLLM's /v1/models: each entry carries max_model_len. */
async function fakeVllm(data: unknown[]): Promise<FakeVllm> {
  const seen: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const vllmEntry = (id: string, maxModelLen: number): Record<string, unknown> => ({ id, object: 'model', owned_by: 'vllm', root: id, max_model_len: maxModelLen });

let ctx: BackendContext;
let server: FakeVllm | undefined;
beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-openai-')) };
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(ctx.home, { recursive: true, force: true });
});

describe('openai backend (any OpenAI-compatible URL)', () => {
  it('needs --url', async () => {
    const error = await openaiBackend.start({}, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('BACKEND_URL_REQUIRED');
    expect((error as AnyclaudeError).fix).toMatch(/--url/);
    expect(await openaiBackend.detect(ctx)).toBeUndefined();
  });

  it('learns the model and its max_model_len from a vLLM-style listing, with the key as Bearer', async () => {
    server = await fakeVllm([vllmEntry('Qwen/Qwen3-Coder-30B-A3B-Instruct', 131072)]);
    const running = await openaiBackend.start({ url: `${server.url}/v1/`, apiKey: 'secret' }, ctx);
    expect(running.info).toMatchObject({ name: 'openai', url: server.url, modelId: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', contextWindow: 131072, managed: false });
    expect(running.upstream).toEqual({
      name: 'openai',
      url: server.url,
      protocol: 'openai',
      flavor: 'openai',
      model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
      contextWindow: 131072,
      profile: UPSTREAM_PROFILES.openai,
      apiKey: 'secret',
    });
    expect(server.seen.at(-1)?.authorization).toBe('Bearer secret');
    expect(running.status().state).toBe('external');
    await running.stop();
  });

  it('options.model picks among several, options.context and options.protocol win', async () => {
    server = await fakeVllm([vllmEntry('a', 8192), { id: 'b', object: 'model', context_length: 65536 }]);
    const picked = await openaiBackend.start({ url: server.url, model: 'b' }, ctx);
    expect(picked.info).toMatchObject({ modelId: 'b', contextWindow: 65536 });
    const forced = await openaiBackend.start({ url: server.url, model: 'a', context: 4096, protocol: 'anthropic' }, ctx);
    expect(forced.upstream).toMatchObject({ model: 'a', contextWindow: 4096, protocol: 'anthropic' });
    expect(forced.upstream.apiKey).toBeUndefined();
  });

  it('detect answers only when the URL lists models', async () => {
    server = await fakeVllm([vllmEntry('m', 4096)]);
    expect(await openaiBackend.detect(ctx, { url: server.url })).toMatchObject({ name: 'openai', url: server.url, detail: expect.stringContaining('m') });
    expect(await openaiBackend.detect(ctx, { url: await closedPortUrl() })).toBeUndefined();
  });

  it('an unreachable URL without --model is an error with a fix; with --model it goes ahead and warns', async () => {
    const url = await closedPortUrl();
    const error = await openaiBackend.start({ url }, ctx).catch((e: unknown) => e);
    expect((error as AnyclaudeError).code).toBe('BACKEND_UNREACHABLE');
    const warnings: string[] = [];
    ctx.events.on('log', (e) => e.level === 'warn' && warnings.push(e.message));
    const running = await openaiBackend.start({ url, model: 'served' }, ctx);
    expect(running.upstream.model).toBe('served');
    expect(warnings.join('\n')).toMatch(/did not answer/);
  });

});
