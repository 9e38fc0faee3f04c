/** MLX_LM_URL / --url with mlx-lm: an mlx_lm.server the user already runs is used as is, none is started. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import psList from 'ps-list';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendContext } from '../../src/backends/backend.js';
import { mlxLmBackend } from '../../src/backends/mlx-lm-backend.js';
import { autoDetect } from '../../src/backends/registry.js';
import { CoreEvents } from '../../src/core/events.js';
import { expectError } from '../support/expect-error.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

describe('mlx-lm at a URL', () => {
  let server: ScriptedUpstream;
  let ctx: BackendContext;
  beforeAll(async () => {
    server = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'mlx-community/some-cached-model' });
    ctx = { events: new CoreEvents(), home: await mkdtemp(join(tmpdir(), 'anyclaude-mlx-url-')) };
  });
  afterAll(() => server.close());

  it('uses the running server: nothing started, the served model asked for by mlx_lm\'s own name for it', async () => {
    const before = (await psList()).filter((p) => p.cmd?.includes('mlx_lm.server')).length;
    const running = await mlxLmBackend.start({ url: `${server.url}/v1` }, ctx);
    expect(running.info).toMatchObject({ name: 'mlx-lm', url: server.url, managed: false, modelId: 'default_model' });
    expect(running.upstream).toMatchObject({ flavor: 'mlx-lm', protocol: 'openai', model: 'default_model' });
    expect(running.status().state).toBe('external');
    expect((await psList()).filter((p) => p.cmd?.includes('mlx_lm.server')).length).toBe(before);
    await running.stop();
  });

  it('a named model, key and context go through as given', async () => {
    const running = await mlxLmBackend.start({ url: server.url, model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', apiKey: 'k-123', context: 32768 }, ctx);
    expect(running.upstream).toMatchObject({ model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', apiKey: 'k-123', contextWindow: 32768 });
  });

  it('auto-detection finds it when MLX_LM_URL points there', async () => {
    const found = await autoDetect(ctx, { options: { 'mlx-lm': { url: `${server.url}/v1/` }, lmstudio: { port: 9 }, ollama: { port: 9 }, 'llama-cpp': { port: 9 } }, timeoutMs: 2_000 });
    expect(found.detection).toMatchObject({ name: 'mlx-lm', url: server.url });
  });

  it('a URL where nothing answers: one line and a fix', async () => {
    const error = await expectError(mlxLmBackend.start({ url: 'http://127.0.0.1:9' }, ctx), 'BACKEND_UNREACHABLE');
    expect(error.fix).toMatch(/MLX_LM_URL/);
  });
});
