import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { claudeBackend } from '../../src/backends/claude-backend.js';
import type { BackendContext } from '../../src/backends/backend.js';
import { AnyclaudeError } from '../../src/core/errors.js';
import { CoreEvents } from '../../src/core/events.js';

let ctx: BackendContext;
beforeEach(async () => {
  ctx = { events: new CoreEvents(), home: await mkdtemp(path.join(tmpdir(), 'anyclaude-claude-')) };
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(ctx.home, { recursive: true, force: true });
});

describe('claude backend (Anthropic API pass-through)', () => {
  it('without a key: detect finds nothing and start says how to set one', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    expect(await claudeBackend.detect(ctx)).toBeUndefined();
    const error = await claudeBackend.start({}, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('ANTHROPIC_KEY_MISSING');
    expect((error as AnyclaudeError).fix).toMatch(/export ANTHROPIC_API_KEY=/);
  });

  it('with the key in the environment: a pass-through upstream that keeps each request model', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-test');
    expect(await claudeBackend.detect(ctx)).toEqual({ name: 'claude', url: 'https://api.anthropic.com', detail: expect.stringContaining('API key') });
    const running = await claudeBackend.start({}, ctx);
    expect(running.upstream).toMatchObject({ name: 'claude', url: 'https://api.anthropic.com', protocol: 'anthropic', flavor: 'claude', model: undefined, apiKey: 'sk-ant-test' });
    expect(running.info).toMatchObject({ name: 'claude', modelId: undefined, managed: false, capabilities: { preferred: 'anthropic', protocols: ['anthropic'] } });
    expect(running.status().state).toBe('external');
    await running.stop();
  });

  it('options.apiKey wins over the environment', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-env');
    const running = await claudeBackend.start({ apiKey: 'sk-ant-option' }, ctx);
    expect(running.upstream.apiKey).toBe('sk-ant-option');
  });
});
