/**
 * The `anthropic` upstream protocol: a second anyclaude proxy plays the native Messages
 * server (as llama-server or LM Studio >= 0.4.1 would be), so both sides are real.
 * Also: routing by model alias and switching the active backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startProxy, type Proxy } from '../../src/proxy/server.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { assertAnthropicStream } from '../support/anthropic-grammar.js';
import { parseSse } from '../support/sse.js';
import { capture, FIXTURES_DIR } from '../support/fixtures.js';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

describe('anthropic pass-through', () => {
  let native: Harness;
  let front: Proxy;
  let client: Anthropic;
  beforeAll(async () => {
    native = await startHarness({ flavor: 'llama-server' });
    front = await startProxy({
      upstreams: [
        {
          name: 'llama-cpp',
          url: native.proxy.url,
          protocol: 'anthropic',
          flavor: 'llama-cpp',
          model: 'native-model',
          contextWindow: 65536,
          profile: UPSTREAM_PROFILES['llama-cpp'],
          apiKey: native.proxy.key,
        },
      ],
      pingIntervalMs: 100,
    });
    client = new Anthropic({ baseURL: front.url, apiKey: front.key, maxRetries: 0 });
  });
  afterAll(async () => {
    await front.close();
    await native.close();
  });

  it('streams the native reply through unchanged and reads its usage', async () => {
    native.upstream.setDefault({ kind: 'tool', name: 'Bash', arguments: { command: 'ls' }, text: 'Listing.', promptTokens: 900, cachedTokens: 800 });
    const ended = new Promise<unknown>((resolve) => front.events.on('request:end', resolve));
    const message = await client.messages.stream(capture('print-tool-turn', 2).body as never).finalMessage();
    expect(message.content.at(-1)).toMatchObject({ type: 'tool_use', name: 'Bash', input: { command: 'ls' } });
    expect(message.usage.cache_read_input_tokens).toBe(800);
    expect(await ended).toMatchObject({ upstream: 'llama-cpp', promptTokens: 900, cachedTokens: 800, stopReason: 'tool_use' });
  });

  it('canonicalises what it forwards: served model, no billing block, clamped max_tokens', async () => {
    native.upstream.setDefault({ kind: 'text', text: 'fine' });
    const events = new Promise<{ model: string }>((resolve) => native.proxy.events.on('request:start', resolve as never));
    const response = await fetch(`${front.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': front.key },
      body: JSON.stringify(capture('print-tool-turn', 2).body),
    });
    assertAnthropicStream(parseSse(await response.text()));
    expect((await events).model).toBe('native-model');
    const upstreamBody = native.upstream.chatRequests.at(-1)!.rawBody;
    expect(upstreamBody).not.toContain('x-anthropic-billing-header');
    expect((native.upstream.chatRequests.at(-1)!.body as { max_tokens: number }).max_tokens).toBeLessThan(65536);
  });

  it('maps a failing native server to 529 before the stream', async () => {
    native.upstream.enqueue({ kind: 'error', status: 503, message: 'loading model' });
    const response = await fetch(`${front.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': front.key },
      body: JSON.stringify({ model: 'x', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(529);
  });

  it('answers a non-streaming request with the native JSON message', async () => {
    native.upstream.setDefault({ kind: 'text', text: 'plain json' });
    const message = await client.messages.create({ model: 'x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'plain json' });
  });
});

describe('several backends in one proxy', () => {
  let a: ScriptedUpstream;
  let b: ScriptedUpstream;
  let proxy: Proxy;
  let client: Anthropic;
  beforeAll(async () => {
    a = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'model-a' });
    b = await startScriptedUpstream({ flavor: 'lmstudio', modelId: 'model-b' });
    a.setDefault({ kind: 'text', text: 'from A' });
    b.setDefault({ kind: 'text', text: 'from B' });
    const common = { protocol: 'openai' as const, contextWindow: undefined };
    proxy = await startProxy({
      upstreams: [
        { ...common, name: 'mlx-lm', url: a.url, flavor: 'mlx-lm', model: 'model-a', profile: UPSTREAM_PROFILES['mlx-lm'] },
        { ...common, name: 'lmstudio', url: b.url, flavor: 'lmstudio', model: 'model-b', profile: UPSTREAM_PROFILES.lmstudio },
      ],
    });
    client = new Anthropic({ baseURL: proxy.url, apiKey: proxy.key, maxRetries: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  const ask = async (model: string): Promise<string> => {
    const message = await client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    return message.content[0]?.type === 'text' ? message.content[0].text : '';
  };

  it('routes to the active backend, or to the one the model names', async () => {
    expect(await ask('claude-opus-4-8')).toBe('from A');
    expect(await ask('lmstudio')).toBe('from B');
    expect(proxy.status().active).toBe('mlx-lm');
  });

  it('switches the active backend without a restart', async () => {
    const switched = new Promise((resolve) => proxy.events.on('upstream:switch', resolve));
    proxy.switchUpstream('lmstudio');
    expect(await switched).toEqual({ from: 'mlx-lm', to: 'lmstudio' });
    expect(await ask('claude-opus-4-8')).toBe('from B');
    expect(() => proxy.switchUpstream('nope')).toThrow(/unknown backend "nope"; known: mlx-lm, lmstudio/);
  });
});

describe("the real API's usage, as the proxy reads it", () => {
  /** Turn 1's recorded reply (input_tokens 18966), worded as the API words a turn that writes the prompt cache. */
  const writesCache = readFileSync(join(FIXTURES_DIR, 'print-tool-turn/002-POST-v1_messages.response.txt'), 'utf8')
    .replace(/^HTTP \d+\n\n/, '')
    .replace('"input_tokens":18966,"cache_creation_input_tokens":0', '"input_tokens":3,"cache_creation_input_tokens":18963');
  let api: Server;
  let front: Proxy;
  beforeAll(async () => {
    api = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(writesCache);
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const port = (api.address() as AddressInfo).port;
    front = await startProxy({
      upstreams: [{ name: 'claude', url: `http://127.0.0.1:${port}`, protocol: 'anthropic', flavor: 'claude', model: undefined, contextWindow: undefined, profile: UPSTREAM_PROFILES.openai, apiKey: 'sk-ant-placeholder' }],
    });
  });
  afterAll(async () => {
    await front.close();
    await new Promise((resolve) => api.close(resolve));
  });

  it('counts the prompt as input + cache creation + cache read', async () => {
    expect(writesCache).toContain('"cache_creation_input_tokens":18963');
    const ended = new Promise<{ promptTokens?: number }>((resolve) => front.events.on('request:end', resolve));
    const client = new Anthropic({ baseURL: front.url, apiKey: front.key, maxRetries: 0 });
    await client.messages.stream(capture('print-tool-turn', 2).body as never).finalMessage();
    expect((await ended).promptTokens).toBe(18_966);
  });
});
