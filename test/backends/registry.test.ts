import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND_NAMES, type BackendAdapter, type BackendContext, type BackendName, type BackendStartOptions } from '../../src/backends/backend.js';
import { createLmStudioBackend } from '../../src/backends/lmstudio-backend.js';
import { ADAPTERS, autoDetect, DETECT_ORDER } from '../../src/backends/registry.js';
import { AnyclaudeError } from '../../src/core/errors.js';
import { CoreEvents } from '../../src/core/events.js';
import { startScriptedUpstream, type UpstreamFlavor } from '../support/scripted-upstream.js';

let ctx: BackendContext;
const closers: Array<() => Promise<void>> = [];
beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-registry-')) };
});
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((close) => close()));
  await rm(ctx.home, { recursive: true, force: true });
});

async function running(flavor: UpstreamFlavor): Promise<BackendStartOptions> {
  const upstream = await startScriptedUpstream({ flavor });
  closers.push(() => upstream.close());
  return { port: Number(new URL(upstream.url).port) };
}

async function nothingThere(): Promise<BackendStartOptions> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return { port };
}

/** LM Studio without the lms CLI, so a real LM Studio on this machine never answers for the test. */
const adapters = { lmstudio: createLmStudioBackend({ lmsCommand: '/nonexistent/anyclaude-test/lms' }) };

describe('ADAPTERS', () => {
  it('has one adapter per backend name, under its own name', () => {
    expect(Object.keys(ADAPTERS).sort()).toEqual([...BACKEND_NAMES].sort());
    for (const name of BACKEND_NAMES) expect(ADAPTERS[name].name).toBe(name);
  });
});

describe('autoDetect', () => {
  it('checks LM Studio, then Ollama, then llama-server', async () => {
    expect(DETECT_ORDER).toEqual(['lmstudio', 'ollama', 'llama-cpp']);
    const options: Partial<Record<BackendName, BackendStartOptions>> = {
      lmstudio: await running('lmstudio'),
      ollama: await running('ollama'),
      'llama-cpp': await running('llama-server'),
    };
    const all = await autoDetect(ctx, { options, adapters, platform: 'linux', arch: 'x64' });
    expect(all.adapter.name).toBe('lmstudio');
    expect(all.detection).toMatchObject({ name: 'lmstudio', url: `http://127.0.0.1:${options.lmstudio?.port}` });

    options.lmstudio = await nothingThere();
    expect((await autoDetect(ctx, { options, adapters, platform: 'linux', arch: 'x64' })).detection.name).toBe('ollama');

    options.ollama = await nothingThere();
    const llama = await autoDetect(ctx, { options, adapters, platform: 'linux', arch: 'x64' });
    expect(llama.detection).toMatchObject({ name: 'llama-cpp', url: `http://127.0.0.1:${options['llama-cpp']?.port}` });
    expect(llama.adapter).toBe(ADAPTERS['llama-cpp']);
  });

  it('nothing running: NO_BACKEND, naming where it looked and every way to get a backend', async () => {
    const options = { lmstudio: await nothingThere(), ollama: await nothingThere(), 'llama-cpp': await nothingThere() };
    const error = await autoDetect(ctx, { options, adapters, platform: 'linux', arch: 'x64' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('NO_BACKEND');
    expect((error as AnyclaudeError).message).toContain(`LM Studio (port ${options.lmstudio.port})`);
    const fix = (error as AnyclaudeError).fix ?? '';
    for (const way of ['--backend mlx-lm --model', 'lms server start', 'ollama serve', '--backend llama-cpp', '--backend openai --url']) expect(fix).toContain(way);
  });

  it('on Apple Silicon falls back to mlx-lm when no server runs', async () => {
    const options = { lmstudio: await nothingThere(), ollama: await nothingThere(), 'llama-cpp': await nothingThere() };
    const mlx: BackendAdapter = {
      name: 'mlx-lm',
      detect: async () => ({ name: 'mlx-lm', url: '', detail: 'Apple Silicon' }),
      start: () => Promise.reject(new Error('not in this test')),
    };
    const found = await autoDetect(ctx, { options, adapters: { ...adapters, 'mlx-lm': mlx }, platform: 'darwin', arch: 'arm64' });
    expect(found.adapter).toBe(mlx);
    // Elsewhere mlx-lm is not offered by auto-detection.
    await expect(autoDetect(ctx, { options, adapters: { ...adapters, 'mlx-lm': mlx }, platform: 'linux', arch: 'x64' })).rejects.toMatchObject({ code: 'NO_BACKEND' });
  });

  it('checks in parallel, and a detect that hangs is given up after the timeout', async () => {
    const hanging: BackendAdapter = { name: 'lmstudio', detect: () => new Promise(() => undefined), start: () => Promise.reject(new Error('unused')) };
    const options = { ollama: await running('ollama'), 'llama-cpp': await nothingThere() };
    const started = Date.now();
    const found = await autoDetect(ctx, { options, adapters: { lmstudio: hanging }, timeoutMs: 300, platform: 'linux', arch: 'x64' });
    expect(found.detection.name).toBe('ollama');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
