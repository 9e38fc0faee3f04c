import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendContext } from '../../src/backends/backend.js';
import { createLmStudioBackend } from '../../src/backends/lmstudio-backend.js';
import { CoreEvents } from '../../src/core/events.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { expectError } from '../support/expect-error.js';

interface FakeModel {
  key: string;
  max: number;
  loadedContext?: number;
  type?: string;
}

interface FakeLmStudio {
  url: string;
  port: number;
  models: FakeModel[];
  close(): Promise<void>;
}

/**
 * LM Studio's model listing in either API generation, with models that can be "loaded" through
 * `POST /__load` (what the fake lms below calls, as the real one asks the app).
 */
async function fakeLmStudio(api: 'v1' | 'v0', models: FakeModel[]): Promise<FakeLmStudio> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/__load') {
        const { key, context } = JSON.parse(Buffer.concat(chunks).toString()) as { key: string; context: number };
        const model = models.find((m) => m.key === key);
        if (model !== undefined) model.loadedContext = context;
        return json(model === undefined ? 404 : 200, {});
      }
      if (api === 'v1' && req.url === '/api/v1/models') {
        return json(200, {
          models: models.map((m) => ({
            type: m.type ?? 'llm',
            key: m.key,
            max_context_length: m.max,
            loaded_instances: m.loadedContext === undefined ? [] : [{ id: m.key, config: { context_length: m.loadedContext } }],
            capabilities: { vision: false, trained_for_tool_use: true },
          })),
        });
      }
      if (req.url === '/api/v0/models') {
        return json(200, {
          object: 'list',
          data: models.map((m) => ({
            id: m.key,
            type: m.type ?? 'llm',
            state: m.loadedContext === undefined ? 'not-loaded' : 'loaded',
            max_context_length: m.max,
            ...(m.loadedContext === undefined ? {} : { loaded_context_length: m.loadedContext }),
          })),
        });
      }
      json(200, { error: `Unexpected endpoint or method. (${req.method ?? ''} ${req.url ?? ''})` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    models,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** A stand-in `lms`: logs its argv, reports the server on `port`, loads through the fake's /__load. */
async function fakeLms(dir: string, studio: { url: string; port: number }, o: { failLoad?: boolean } = {}): Promise<{ command: string; calls: () => Promise<string[][]> }> {
  const command = path.join(dir, 'lms');
  const log = path.join(dir, 'lms-calls.jsonl');
  await writeFile(
    command,
    `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
if (args[0] === 'server' && args[1] === 'status') {
  console.log(JSON.stringify({ running: true, port: ${studio.port} }));
} else if (args[0] === 'load') {
  if (${o.failLoad === true}) { console.error('Error: not enough memory to load the model'); process.exit(1); }
  const context = Number(args[args.indexOf('--context-length') + 1]);
  fetch(${JSON.stringify(`${studio.url}/__load`)}, { method: 'POST', body: JSON.stringify({ key: args[1], context }) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
} else {
  process.exit(2);
}
`,
  );
  await chmod(command, 0o755);
  const calls = async (): Promise<string[][]> =>
    (await readFile(log, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);
  return { command, calls };
}


let ctx: BackendContext;
const closers: Array<() => Promise<void>> = [];
/** No `lms` anywhere: these tests never depend on an LM Studio installed on this machine. */
const noLms = createLmStudioBackend({ lmsCommand: '/nonexistent/anyclaude-test/lms' });

beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-lmstudio-')) };
});
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((close) => close()));
  await rm(ctx.home, { recursive: true, force: true });
});

async function scripted(): Promise<ScriptedUpstream> {
  const upstream = await startScriptedUpstream({ flavor: 'lmstudio', contextLength: 32768, trainedContextLength: 131072 });
  closers.push(() => upstream.close());
  return upstream;
}

async function fake(api: 'v1' | 'v0', models: FakeModel[]): Promise<FakeLmStudio> {
  const studio = await fakeLmStudio(api, models);
  closers.push(() => studio.close());
  return studio;
}

describe('LM Studio backend', () => {
  it('0.4+ (v1 API): the loaded model, its loaded context, and the native anthropic protocol', async () => {
    const upstream = await scripted();
    const port = Number(new URL(upstream.url).port);
    expect(await noLms.detect(ctx, { port })).toMatchObject({ name: 'lmstudio', url: upstream.url, detail: expect.stringContaining('qwen/qwen3-4b (32768 ctx)') });
    const running = await noLms.start({ port }, ctx);
    expect(running.info).toEqual({
      name: 'lmstudio',
      url: upstream.url,
      modelId: 'qwen/qwen3-4b',
      contextWindow: 32768,
      capabilities: { toolCalls: 'native', cachedTokens: false, protocols: ['anthropic', 'openai'], preferred: 'anthropic' },
      managed: false,
    });
    expect(running.upstream).toEqual({
      name: 'lmstudio',
      url: upstream.url,
      protocol: 'anthropic',
      flavor: 'lmstudio',
      model: 'qwen/qwen3-4b',
      contextWindow: 32768,
      profile: UPSTREAM_PROFILES.lmstudio,
    });
    expect(running.status()).toEqual({ state: 'external', reason: undefined, restarts: 0, pid: undefined, logTail: [] });
    await running.stop();
    expect(upstream.requests.some((r) => r.url === '/api/v1/models')).toBe(true);
    // --protocol openai still works against the same server.
    expect((await noLms.start({ url: `${upstream.url}/v1`, protocol: 'openai' }, ctx)).upstream.protocol).toBe('openai');
  });

  it('before 0.4 (v0 API only): openai protocol, context from loaded_context_length', async () => {
    const studio = await fake('v0', [
      { key: 'qwen3-coder-30b-a3b-instruct', max: 262144, loadedContext: 65536 },
      { key: 'text-embedding-nomic-embed-text-v1.5', max: 2048, loadedContext: 2048, type: 'embeddings' },
    ]);
    const running = await noLms.start({ url: studio.url }, ctx);
    expect(running.info).toMatchObject({ modelId: 'qwen3-coder-30b-a3b-instruct', contextWindow: 65536, capabilities: { protocols: ['openai'], preferred: 'openai' } });
    expect(running.upstream.protocol).toBe('openai');
  });

  it('picks the loaded model --model names (fuzzy); several loaded and no --model is ambiguous', async () => {
    const studio = await fake('v1', [
      { key: 'qwen/qwen3-coder-30b', max: 262144, loadedContext: 32768 },
      { key: 'google/gemma-3-12b', max: 131072, loadedContext: 8192 },
    ]);
    expect((await noLms.start({ url: studio.url, model: 'Qwen3 Coder' }, ctx)).info).toMatchObject({ modelId: 'qwen/qwen3-coder-30b', contextWindow: 32768 });
    expect((await noLms.start({ url: studio.url, model: 'GEMMA' }, ctx)).info.modelId).toBe('google/gemma-3-12b');
    const error = await expectError(noLms.start({ url: studio.url }, ctx), 'MODEL_AMBIGUOUS');
    expect(error.message).toContain('qwen/qwen3-coder-30b');
    expect(error.message).toContain('google/gemma-3-12b');
  });

  it('nothing loaded and no lms: says what is available and how to load it', async () => {
    const studio = await fake('v1', [{ key: 'qwen/qwen3-4b', max: 40960 }]);
    const none = await expectError(noLms.start({ url: studio.url }, ctx), 'NO_MODEL_LOADED');
    expect(none.message).toContain('available: qwen/qwen3-4b');
    const unloaded = await expectError(noLms.start({ url: studio.url, model: 'qwen3-4b' }, ctx), 'MODEL_NOT_LOADED');
    expect(unloaded.fix).toContain('lms load qwen/qwen3-4b --context-length 40960');
    const unknown = await expectError(noLms.start({ url: studio.url, model: 'llama' }, ctx), 'MODEL_NOT_FOUND');
    expect(unknown.message).toContain('loaded: none');
  });

  it('a catalog name it does not have: the fix is the exact `lms get` for that model', async () => {
    const studio = await fake('v1', [{ key: 'qwen/qwen3-4b', max: 40960 }]);
    const error = await expectError(noLms.start({ url: studio.url, model: 'GLM-4.5-Air' }, ctx), 'MODEL_NOT_FOUND');
    expect(error.fix).toMatch(/^download it: lms get \S+ \(or in LM Studio's Discover tab\)$/);
  });

  it('with lms: finds the port from `lms server status`, and loads a model that is not loaded', async () => {
    const studio = await fake('v1', [{ key: 'qwen/qwen3-coder-30b', max: 262144 }]);
    const lms = await fakeLms(ctx.home, studio);
    const adapter = createLmStudioBackend({ lmsCommand: lms.command });
    expect(await adapter.detect(ctx)).toMatchObject({ url: studio.url, detail: expect.stringContaining('no model loaded') });
    const running = await adapter.start({ model: 'coder', context: 49152 }, ctx);
    expect(running.info).toMatchObject({ url: studio.url, modelId: 'qwen/qwen3-coder-30b', contextWindow: 49152 });
    expect(await lms.calls()).toContainEqual(['load', 'qwen/qwen3-coder-30b', '--context-length', '49152']);
  });

  it('a failing `lms load` is an error quoting what lms said', async () => {
    const studio = await fake('v1', [{ key: 'qwen/qwen3-coder-30b', max: 262144 }]);
    const lms = await fakeLms(ctx.home, studio, { failLoad: true });
    const error = await expectError(createLmStudioBackend({ lmsCommand: lms.command }).start({ url: studio.url, model: 'coder' }, ctx), 'LMSTUDIO_LOAD_FAILED');
    expect(error.message).toContain('not enough memory');
    // Without --context it asks for 64K, capped at what the model supports.
    expect(await lms.calls()).toContainEqual(['load', 'qwen/qwen3-coder-30b', '--context-length', '65536']);
  });

  it('not running: detect finds nothing, start says how to start the server', async () => {
    const studio = await fake('v1', []);
    const url = studio.url;
    await studio.close();
    expect(await noLms.detect(ctx, { url })).toBeUndefined();
    const error = await expectError(noLms.start({ url }, ctx), 'LMSTUDIO_NOT_RUNNING');
    expect(error.fix).toContain('lms server start');
  });

  it('a server that is not LM Studio (no /api/v0 or /api/v1) is not detected', async () => {
    const other = await startScriptedUpstream({ flavor: 'llama-server' });
    closers.push(() => other.close());
    expect(await noLms.detect(ctx, { url: other.url })).toBeUndefined();
  });

  it('LMSTUDIO_URL at a server without LM Studio\'s API (an old LM Studio, any OpenAI server): served from its OpenAI model list', async () => {
    const other = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'org/served-model' });
    closers.push(() => other.close());
    const warnings: string[] = [];
    ctx.events.on('log', (e) => e.level === 'warn' && warnings.push(e.message));
    const running = await noLms.start({ url: `${other.url}/v1` }, ctx);
    expect(running.info).toMatchObject({ name: 'lmstudio', url: other.url, modelId: 'org/served-model', managed: false });
    expect(running.upstream).toMatchObject({ url: other.url, protocol: 'openai', model: 'org/served-model' });
    expect(warnings.join('\n')).toMatch(/no LM Studio API.*OpenAI model list/);
    const named = await noLms.start({ url: other.url, model: 'my-alias', context: 8192 }, ctx);
    expect(named.upstream).toMatchObject({ model: 'my-alias', contextWindow: 8192 });
  });

  it('an unreachable LMSTUDIO_URL still fails with LM Studio\'s fix', async () => {
    const error = await expectError(noLms.start({ url: 'http://127.0.0.1:9/v1' }, ctx), 'LMSTUDIO_NOT_RUNNING');
    expect(error.fix).toContain('lms server start');
  });
});
