import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendContext, RunningBackend } from '../../src/backends/backend.js';
import { createMlxOmniBackend, startMlxOmniServer } from '../../src/backends/mlx-omni-backend.js';
import { AnyclaudeError } from '../../src/core/errors.js';
import { CoreEvents } from '../../src/core/events.js';

let ctx: BackendContext;
const running: RunningBackend[] = [];
beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-omni-')) };
});
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((r) => r.stop()));
  await rm(ctx.home, { recursive: true, force: true });
});

/** Stands in for the venv's mlx-omni-server: parses --host/--port and answers GET /v1/models. */
const FAKE_SERVER = `#!${process.execPath}
const http = require('node:http');
const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]);
const host = args[args.indexOf('--host') + 1];
http.createServer((req, res) => {
  res.writeHead(req.url.startsWith('/v1/models') ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'list', data: [] }));
}).listen(port, host, () => console.log('listening on ' + host + ':' + port));
process.on('SIGTERM', () => process.exit(0));
`;

describe('mlx-omni backend', () => {
  it('off Apple Silicon: detect finds nothing and start says what to use instead', async () => {
    const adapter = createMlxOmniBackend({ platform: 'linux', arch: 'x64' });
    expect(await adapter.detect(ctx)).toBeUndefined();
    const error = await adapter.start({ model: 'mlx-community/Qwen3-4B-4bit' }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('BACKEND_UNSUPPORTED_PLATFORM');
    expect((error as AnyclaudeError).fix).toBe('use --backend mlx-lm or llama-cpp on this machine');
  });

  it.runIf(process.platform !== 'darwin' || process.arch !== 'arm64')('the default adapter refuses on this machine', async () => {
    const { mlxOmniBackend } = await import('../../src/backends/mlx-omni-backend.js');
    expect(await mlxOmniBackend.detect(ctx)).toBeUndefined();
    await expect(mlxOmniBackend.start({}, ctx)).rejects.toMatchObject({ code: 'BACKEND_UNSUPPORTED_PLATFORM' });
  });

  it('on Apple Silicon it offers to start the server', async () => {
    const adapter = createMlxOmniBackend({ platform: 'darwin', arch: 'arm64' });
    expect(await adapter.detect(ctx)).toMatchObject({ name: 'mlx-omni', url: 'http://127.0.0.1:10240' });
  });

  it('starts the server binary on loopback and points the anthropic upstream at /anthropic', async () => {
    const bin = path.join(ctx.home, 'mlx-omni-server');
    await writeFile(bin, FAKE_SERVER);
    await chmod(bin, 0o755);
    const model = path.join(ctx.home, 'Qwen3-4B-4bit');
    await mkdir(model);
    await writeFile(path.join(model, 'config.json'), JSON.stringify({ max_position_embeddings: 40960 }));

    const backend = await startMlxOmniServer(bin, { model }, ctx);
    running.push(backend);
    expect(backend.info).toMatchObject({ name: 'mlx-omni', modelId: model, contextWindow: 40960, managed: true });
    expect(backend.upstream).toMatchObject({ name: 'mlx-omni', protocol: 'anthropic', flavor: 'mlx-omni', model });
    expect(backend.upstream.url).toBe(`${backend.info.url}/anthropic`);
    expect(backend.upstream.unavailable?.()).toBeUndefined();
    expect(backend.status()).toMatchObject({ state: 'ready', restarts: 0 });
    await backend.stop();
    expect(backend.status().state).toBe('stopped');
    expect(backend.upstream.unavailable?.()).toMatch(/stopped/);
  });

  it('needs a model', async () => {
    await expect(startMlxOmniServer('/nonexistent', {}, ctx)).rejects.toMatchObject({ code: 'MODEL_REQUIRED' });
  });
});
