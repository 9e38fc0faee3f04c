import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendContext, RunningBackend } from '../../src/backends/backend.js';
import { findLlamaServer, llamaCppBackend } from '../../src/backends/llama-cpp-backend.js';
import { CoreEvents } from '../../src/core/events.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { expectError } from '../support/expect-error.js';

/**
 * A stand-in llama-server: logs its argv, answers /health 503 "Loading model" for 300 ms and then
 * 200, /props with n_ctx from -c, /v1/models with the model file's name.
 */
const FAKE_LLAMA_SERVER = (argvLog: string): string => `#!${process.execPath}
const fs = require('node:fs');
const http = require('node:http');
const args = process.argv.slice(2);
fs.writeFileSync(${JSON.stringify(argvLog)}, JSON.stringify(args));
const arg = (name) => args[args.indexOf(name) + 1];
const started = Date.now();
const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
http.createServer((req, res) => {
  if (Date.now() - started < 300) return json(res, 503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
  if (req.url === '/health') return json(res, 200, { status: 'ok' });
  if (req.url === '/props') return json(res, 200, { default_generation_settings: { n_ctx: Number(arg('-c')) }, total_slots: 1 });
  if (req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: require('node:path').basename(arg('-m')), object: 'model' }] });
  json(res, 404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
}).listen(Number(arg('--port')), arg('--host'), () => console.log('main: server is listening'));
process.on('SIGTERM', () => process.exit(0));
`;


async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let ctx: BackendContext;
const cleanups: Array<() => Promise<void>> = [];
beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-llama-')) };
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.allSettled(cleanups.splice(0).map((fn) => fn()));
  await rm(ctx.home, { recursive: true, force: true });
});

async function scripted(contextLength = 16384): Promise<{ upstream: ScriptedUpstream; port: number }> {
  const upstream = await startScriptedUpstream({ flavor: 'llama-server', modelId: 'qwen3-coder-30b', contextLength, trainedContextLength: 262144 });
  cleanups.push(() => upstream.close());
  return { upstream, port: Number(new URL(upstream.url).port) };
}

describe('llama-cpp backend, server already running', () => {
  it('detects it and reads n_ctx from /props and the id from /v1/models', async () => {
    const { upstream, port } = await scripted();
    expect(await llamaCppBackend.detect(ctx, { port })).toMatchObject({ name: 'llama-cpp', url: upstream.url, detail: expect.stringContaining('qwen3-coder-30b (16384 ctx)') });
    const running = await llamaCppBackend.start({ port }, ctx);
    expect(running.info).toEqual({
      name: 'llama-cpp',
      url: upstream.url,
      modelId: 'qwen3-coder-30b',
      contextWindow: 16384,
      capabilities: { toolCalls: 'native', cachedTokens: true, protocols: ['anthropic', 'openai'], preferred: 'anthropic' },
      managed: false,
    });
    expect(running.upstream).toEqual({
      name: 'llama-cpp',
      url: upstream.url,
      protocol: 'anthropic',
      flavor: 'llama-cpp',
      model: 'qwen3-coder-30b',
      contextWindow: 16384,
      profile: UPSTREAM_PROFILES['llama-cpp'],
    });
    expect(running.status().state).toBe('external');
    await running.stop();
    expect((await llamaCppBackend.start({ url: upstream.url, protocol: 'openai' }, ctx)).upstream.protocol).toBe('openai');
  });

  it('waits while /health is 503 (loading), then reads the context once ready', async () => {
    const { upstream, port } = await scripted(8192);
    upstream.setLoading(true);
    expect((await llamaCppBackend.detect(ctx, { port }))?.detail).toContain('loading');
    const started = llamaCppBackend.start({ port }, ctx);
    setTimeout(() => upstream.setLoading(false), 600);
    const running = await started;
    expect(running.info.contextWindow).toBe(8192);
    expect(upstream.requests.filter((r) => r.url === '/health').length).toBeGreaterThan(2);
  });

  it('a server with an always-ok /health but no /props (mlx_lm.server) is not llama-server', async () => {
    const mlx = await startScriptedUpstream({ flavor: 'mlx-lm' });
    cleanups.push(() => mlx.close());
    expect(await llamaCppBackend.detect(ctx, { url: mlx.url })).toBeUndefined();
  });

  it('nothing running: detect finds nothing, start says what to do', async () => {
    const port = await closedPort();
    expect(await llamaCppBackend.detect(ctx, { port })).toBeUndefined();
    const error = await expectError(llamaCppBackend.start({ port }, ctx), 'LLAMA_SERVER_NOT_RUNNING');
    expect(error.fix).toContain('.gguf');
  });
});

describe('llama-cpp backend, started by anyclaude', () => {
  async function setup(): Promise<{ binary: string; model: string; argvLog: string }> {
    const binary = path.join(ctx.home, 'llama-server');
    const argvLog = path.join(ctx.home, 'argv.json');
    await writeFile(binary, FAKE_LLAMA_SERVER(argvLog));
    await chmod(binary, 0o755);
    const model = path.join(ctx.home, 'Qwen3-4B-Q4_K_M.gguf');
    await writeFile(model, 'GGUF');
    return { binary, model, argvLog };
  }

  it('starts llama-server for a .gguf model, waits for /health, and stops it', async () => {
    const { binary, model, argvLog } = await setup();
    vi.stubEnv('ANYCLAUDE_LLAMA_SERVER', binary);
    expect(await findLlamaServer()).toBe(binary);
    expect((await llamaCppBackend.detect(ctx, { model }))?.detail).toContain('can start');
    const running: RunningBackend = await llamaCppBackend.start({ model, context: 32768 }, ctx);
    cleanups.push(() => running.stop());
    const port = Number(new URL(running.info.url).port);
    expect(JSON.parse(await readFile(argvLog, 'utf8'))).toEqual(['-m', model, '--host', '127.0.0.1', '--port', String(port), '-c', '32768', '-np', '1', '--jinja', '--cache-reuse', '256']);
    expect(running.info).toMatchObject({ name: 'llama-cpp', modelId: 'Qwen3-4B-Q4_K_M.gguf', contextWindow: 32768, managed: true });
    expect(running.upstream).toMatchObject({ protocol: 'anthropic', flavor: 'llama-cpp', url: running.info.url });
    expect(running.upstream.unavailable?.()).toBeUndefined();
    expect(running.status()).toMatchObject({ state: 'ready', restarts: 0, pid: expect.any(Number) });
    await running.stop();
    expect(running.status().state).toBe('stopped');
    expect(running.upstream.unavailable?.()).toMatch(/stopped/);
  });

  it('finds llama-server on PATH', async () => {
    const { binary } = await setup();
    vi.stubEnv('ANYCLAUDE_LLAMA_SERVER', '');
    vi.stubEnv('PATH', `${path.dirname(binary)}${path.delimiter}${process.env.PATH ?? ''}`);
    expect(await findLlamaServer()).toBe(binary);
  });

  it('no binary: an error that says how to install it', async () => {
    const { model } = await setup();
    vi.stubEnv('ANYCLAUDE_LLAMA_SERVER', path.join(ctx.home, 'missing-llama-server'));
    const error = await expectError(llamaCppBackend.start({ model }, ctx), 'LLAMA_SERVER_NOT_FOUND');
    expect(error.fix).toMatch(/ANYCLAUDE_LLAMA_SERVER/);
  });

  it('a .gguf path that does not exist: MODEL_NOT_FOUND', async () => {
    const { binary } = await setup();
    vi.stubEnv('ANYCLAUDE_LLAMA_SERVER', binary);
    await expectError(llamaCppBackend.start({ model: path.join(ctx.home, 'nope.gguf') }, ctx), 'MODEL_NOT_FOUND');
  });
});
