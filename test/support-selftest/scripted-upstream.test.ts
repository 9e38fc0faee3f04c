import { afterEach, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { startScriptedUpstream } from '../support/scripted-upstream.js';
import type { ScriptedUpstream, ScriptedUpstreamOptions, UpstreamFlavor } from '../support/scripted-upstream.js';
import { parseSse, parseSseFull, readText } from '../support/sse.js';

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}
interface Chunk {
  object?: string;
  model?: string;
  choices: Array<{
    index: number;
    delta: { role?: string; content?: string | null; reasoning?: string; reasoning_content?: string; tool_calls?: ToolCallDelta[] };
    finish_reason: string | null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } };
  timings?: Record<string, number>;
}

const open: ScriptedUpstream[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close()));
});

async function start(options: ScriptedUpstreamOptions): Promise<ScriptedUpstream> {
  const up = await startScriptedUpstream(options);
  open.push(up);
  return up;
}

function post(up: ScriptedUpstream, body: Record<string, unknown>, signal?: AbortSignal) {
  return fetch(`${up.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: up.modelId, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, ...body }),
    signal,
  });
}

async function streamText(up: ScriptedUpstream, includeUsage = true, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await post(up, { stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}), ...extra });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const { text, error } = await readText(res.body);
  expect(error).toBeUndefined();
  return text;
}

function chunksOf(text: string): Chunk[] {
  const frames = parseSse(text);
  expect(frames.at(-1)?.data).toBe('[DONE]');
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  for (const f of frames) expect(f.event).toBeUndefined();
  return frames.filter((f) => f.data !== '[DONE]').map((f) => JSON.parse(f.data) as Chunk);
}

const toolDeltas = (chunks: Chunk[]): ToolCallDelta[] => chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
const contentOf = (chunks: Chunk[]): string => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const args = { command: 'ls -la', description: 'List files in the current directory' };
const argsJson = JSON.stringify(args);

describe('scripted upstream: mlx-lm', () => {
  it('streams reasoning in `reasoning`, role on every delta, usage chunk with empty choices and cached tokens, then [DONE]', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    up.enqueue({ kind: 'text', text: 'Hello world', reasoning: 'think', chunkSize: 4, promptTokens: 120, cachedTokens: 100 });
    const chunks = chunksOf(await streamText(up));
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.object).toBe('chat.completion');
    expect(usage?.usage).toMatchObject({ prompt_tokens: 120, prompt_tokens_details: { cached_tokens: 100 } });
    const body = chunks.slice(0, -1);
    for (const c of body) expect(c.choices[0]?.delta.role).toBe('assistant');
    expect(body.map((c) => c.choices[0]?.delta.reasoning ?? '').join('')).toBe('think');
    expect(contentOf(body)).toBe('Hello world');
    expect(body.filter((c) => c.choices[0]?.delta.content !== undefined).map((c) => c.choices[0]?.delta.content)).toEqual(['Hell', 'o wo', 'rld']);
    expect(body.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(body.at(-1)?.choices[0]?.delta).toEqual({ role: 'assistant' });
    expect(up.chatRequests[0]?.body).toMatchObject({ stream: true, max_tokens: 100 });
  });

  it('sends a tool call whole in one delta, in the chunk that carries finish_reason tool_calls', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    up.enqueue({ kind: 'tool', name: 'Bash', arguments: args, text: 'Sure.', id: 'call-1' });
    const chunks = chunksOf(await streamText(up));
    const deltas = toolDeltas(chunks);
    expect(deltas).toEqual([{ index: 0, id: 'call-1', type: 'function', function: { name: 'Bash', arguments: argsJson } }]);
    const withCall = chunks.find((c) => c.choices[0]?.delta.tool_calls);
    expect(withCall?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(contentOf(chunks)).toBe('Sure.');
    expect(chunks.at(-1)?.choices).toEqual([]);
  });

  it('sends no usage chunk without stream_options.include_usage', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    const chunks = chunksOf(await streamText(up, false));
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it('sends `: keepalive n/total` comments while stalling a streaming request', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    up.enqueue({ kind: 'stall', ms: 250, reply: { kind: 'text', text: 'ok' } });
    const text = await streamText(up);
    const { comments, events } = parseSseFull(text);
    expect(comments.length).toBeGreaterThanOrEqual(2);
    for (const c of comments) expect(c).toMatch(/^keepalive \d+\/\d+$/);
    expect(text.startsWith(': keepalive ')).toBe(true);
    expect(events.at(-1)?.data).toBe('[DONE]');
  });

  it('serves /health and /v1/models', async () => {
    const up = await start({ flavor: 'mlx-lm', modelId: 'my/model' });
    expect(await (await fetch(`${up.url}/health`)).text()).toBe('{"status": "ok"}');
    expect(await (await fetch(`${up.url}/v1/models`)).json()).toMatchObject({ object: 'list', data: [{ id: 'my/model' }] });
    expect((await fetch(`${up.url}/props`)).status).toBe(404);
  });

  it('answers errors as {"error": "text"}', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    up.enqueue({ kind: 'error', status: 404, message: 'no such model' });
    const res = await post(up, { stream: true });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no such model' });
  });
});

describe('scripted upstream: llama-server', () => {
  it('streams arguments in pieces (first piece carries id + name), reasoning_content, timings and usage', async () => {
    const up = await start({ flavor: 'llama-server' });
    up.enqueue({ kind: 'tool', name: 'Bash', arguments: args, id: 'abc', promptTokens: 50, cachedTokens: 30 });
    const chunks = chunksOf(await streamText(up));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: null });
    const deltas = toolDeltas(chunks);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas[0]).toMatchObject({ index: 0, id: 'abc', type: 'function', function: { name: 'Bash' } });
    for (const d of deltas.slice(1)) {
      expect(d.id).toBeUndefined();
      expect(d.function?.name).toBeUndefined();
    }
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe(argsJson);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 50, prompt_tokens_details: { cached_tokens: 30 } });
    expect(last?.timings).toMatchObject({ cache_n: 30, prompt_n: 20 });
    expect(last?.timings?.predicted_n).toBe(last?.usage?.completion_tokens);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('streams thinking as reasoning_content and timings on every chunk with timings_per_token', async () => {
    const up = await start({ flavor: 'llama-server' });
    up.enqueue({ kind: 'text', text: 'Answer', reasoning: 'Because' });
    const chunks = chunksOf(await streamText(up, false, { timings_per_token: true }));
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe('Because');
    expect(chunks.every((c) => c.choices[0]?.delta.reasoning === undefined)).toBe(true);
    expect(chunks.every((c) => c.timings?.prompt_ms !== undefined)).toBe(true);
  });

  it('serves /health (503 while loading), /props n_ctx and /v1/models n_ctx_train', async () => {
    const up = await start({ flavor: 'llama-server', contextLength: 8192, trainedContextLength: 40960 });
    up.setLoading(true);
    expect((await fetch(`${up.url}/health`)).status).toBe(503);
    up.setLoading(false);
    expect(await (await fetch(`${up.url}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${up.url}/props`)).json()).toMatchObject({ default_generation_settings: { n_ctx: 8192 } });
    expect(await (await fetch(`${up.url}/v1/models`)).json()).toMatchObject({ data: [{ id: 'qwen3-4b', meta: { n_ctx_train: 40960 } }] });
  });
});

describe('scripted upstream: LM Studio', () => {
  it('streams arguments after an id + name delta with empty arguments; usage without cached tokens', async () => {
    const up = await start({ flavor: 'lmstudio' });
    up.enqueue({ kind: 'tool', name: 'Read', arguments: { file_path: '/tmp/a' } });
    const chunks = chunksOf(await streamText(up));
    const deltas = toolDeltas(chunks);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'Read', arguments: '' } });
    expect(typeof deltas[0]?.id).toBe('string');
    expect(deltas.slice(1).map((d) => d.function?.arguments).join('')).toBe('{"file_path":"/tmp/a"}');
    const usage = chunks.at(-1)?.usage;
    expect(usage).toBeDefined();
    expect(usage?.prompt_tokens_details).toBeUndefined();
    expect(chunks.some((c) => c.timings !== undefined)).toBe(false);
  });

  it('streams reasoning_content', async () => {
    const up = await start({ flavor: 'lmstudio' });
    up.enqueue({ kind: 'text', text: 'x', reasoning: 'why' });
    const chunks = chunksOf(await streamText(up));
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe('why');
  });

  it('serves /api/v0/models and /api/v1/models with context lengths', async () => {
    const up = await start({ flavor: 'lmstudio', contextLength: 4096, trainedContextLength: 32768 });
    expect(await (await fetch(`${up.url}/api/v0/models`)).json()).toMatchObject({
      data: [{ id: 'qwen/qwen3-4b', state: 'loaded', max_context_length: 32768, loaded_context_length: 4096 }],
    });
    expect(await (await fetch(`${up.url}/api/v1/models`)).json()).toMatchObject({
      models: [{ key: 'qwen/qwen3-4b', max_context_length: 32768, loaded_instances: [{ config: { context_length: 4096 } }], capabilities: { trained_for_tool_use: true } }],
    });
    expect((await fetch(`${up.url}/health`)).status).toBe(404);
  });
});

describe('scripted upstream: Ollama', () => {
  it('sends a tool call in one delta and usage without cached tokens', async () => {
    const up = await start({ flavor: 'ollama' });
    up.enqueue({ kind: 'tool', name: 'Bash', arguments: args });
    const chunks = chunksOf(await streamText(up));
    const deltas = toolDeltas(chunks);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'Bash', arguments: argsJson } });
    expect(deltas[0]?.id).toMatch(/^call_/);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.prompt_tokens_details).toBeUndefined();
  });

  it('streams reasoning in `reasoning`', async () => {
    const up = await start({ flavor: 'ollama' });
    up.enqueue({ kind: 'text', text: 'x', reasoning: 'why' });
    const chunks = chunksOf(await streamText(up));
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning ?? '').join('')).toBe('why');
  });

  it('serves GET /, /api/ps and /api/show', async () => {
    const up = await start({ flavor: 'ollama', contextLength: 4096, trainedContextLength: 40960 });
    expect(await (await fetch(`${up.url}/`)).text()).toBe('Ollama is running');
    expect(await (await fetch(`${up.url}/api/ps`)).json()).toMatchObject({ models: [{ name: 'qwen3:4b', context_length: 4096 }] });
    const show = await fetch(`${up.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'qwen3:4b' }) });
    expect(await show.json()).toMatchObject({ model_info: { 'general.architecture': 'qwen3', 'qwen3.context_length': 40960 } });
    const missing = await fetch(`${up.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'nope' }) });
    expect(missing.status).toBe(404);
    await missing.text();
  });
});

describe('scripted upstream: every flavor', () => {
  const flavors: UpstreamFlavor[] = ['mlx-lm', 'llama-server', 'lmstudio', 'ollama'];
  for (const flavor of flavors) {
    it(`${flavor}: non-streaming replies are one ChatCompletion JSON with usage`, async () => {
      const up = await start({ flavor });
      up.enqueue({ kind: 'text', text: 'Hi there', finishReason: 'length' }, { kind: 'tool', name: 'Bash', arguments: args, id: 'id1' });
      const res = await post(up, {});
      expect(res.headers.get('content-type')).toBe('application/json');
      const json = (await res.json()) as { object: string; choices: Array<{ message: Record<string, unknown>; finish_reason: string }>; usage: Record<string, unknown> };
      expect(json.object).toBe('chat.completion');
      expect(json.choices[0]?.message.content).toBe('Hi there');
      expect(json.choices[0]?.finish_reason).toBe('length');
      expect(json.usage.prompt_tokens).toBeGreaterThan(0);
      const tool = (await (await post(up, {})).json()) as { choices: Array<{ message: { tool_calls: unknown[] }; finish_reason: string }> };
      expect(tool.choices[0]?.finish_reason).toBe('tool_calls');
      expect(tool.choices[0]?.message.tool_calls).toEqual([
        expect.objectContaining({ id: 'id1', type: 'function', function: { name: 'Bash', arguments: argsJson } }),
      ]);
    });

    it(`${flavor}: text streams concatenate to the scripted text and end with finish_reason + [DONE]`, async () => {
      const up = await start({ flavor, delayMsPerChunk: 1 });
      up.setDefault((req) => ({ kind: 'text', text: `echo ${req.rawBody.length}`, chunkSize: 3 }));
      const chunks = chunksOf(await streamText(up, false));
      expect(contentOf(chunks)).toBe(`echo ${up.chatRequests[0]?.rawBody.length}`);
      expect(chunks.filter((c) => c.choices[0]?.finish_reason !== null).map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
    });
  }
});

describe('scripted upstream: faults', () => {
  it('break-after sends N frames then destroys the socket', async () => {
    const up = await start({ flavor: 'llama-server' });
    up.enqueue({ kind: 'break-after', chunks: 2, reply: { kind: 'text', text: 'abcdefghijklmnop' } });
    const res = await post(up, { stream: true });
    expect(res.status).toBe(200);
    const { text, error } = await readText(res.body);
    expect(error).toBeDefined();
    expect(parseSse(text)).toHaveLength(2);
    expect(text).not.toContain('[DONE]');
    expect(up.chatRequests[0]?.abortedAt).toBeUndefined();
  });

  it('break-after on a non-streaming request sends half a JSON body', async () => {
    const up = await start({ flavor: 'ollama' });
    up.enqueue({ kind: 'break-after', chunks: 1, reply: { kind: 'text', text: 'hello' } });
    const res = await post(up, {});
    const { text, error } = await readText(res.body);
    expect(error).toBeDefined();
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it('error replies carry the status and the flavor error body', async () => {
    const up = await start({ flavor: 'llama-server' });
    up.enqueue({ kind: 'error', status: 500, message: 'boom' });
    const res = await post(up, { stream: true });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 500, message: 'boom', type: 'server_error' } });
  });

  it('records abortedAt when the client aborts mid-stream, and stops writing', async () => {
    const up = await start({ flavor: 'mlx-lm', delayMsPerChunk: 30 });
    up.enqueue({ kind: 'text', text: 'x'.repeat(400), chunkSize: 4 });
    const controller = new AbortController();
    const res = await post(up, { stream: true }, controller.signal);
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(first?.done).toBe(false);
    controller.abort();
    const rec = await up.waitForAbort(2000);
    expect(rec).toBe(up.chatRequests[0]);
    expect(rec.abortedAt).toBeGreaterThanOrEqual(rec.receivedAt);
    expect((rec.abortedAt ?? 0) - rec.receivedAt).toBeLessThan(2000);
    await expect(up.waitForAbort(50)).rejects.toThrow(/no client abort within 50 ms/);
  });

  it('records an abort during a stall', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    up.enqueue({ kind: 'stall', ms: 5000, reply: { kind: 'text', text: 'late' } });
    const controller = new AbortController();
    const res = await post(up, { stream: true }, controller.signal);
    expect(res.status).toBe(200);
    controller.abort();
    const rec = await up.waitForAbort(2000);
    expect((rec.abortedAt ?? 0) - rec.receivedAt).toBeLessThan(2000);
  });

  it('a silent stall delays the headers (llama-server)', async () => {
    const up = await start({ flavor: 'llama-server' });
    up.enqueue({ kind: 'stall', ms: 200, reply: { kind: 'text', text: 'ok' } });
    const t0 = Date.now();
    const res = await post(up, { stream: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    const text = (await readText(res.body)).text;
    expect(parseSseFull(text).comments).toEqual([]);
  });

  it('stall-after sends the headers and N frames, is silent for ms (mlx-lm too: no keepalive), then sends the rest', async () => {
    const up = await start({ flavor: 'mlx-lm' });
    up.enqueue({ kind: 'stall-after', chunks: 2, ms: 300, reply: { kind: 'text', text: 'abcdefghijkl' } });
    const t0 = Date.now();
    const res = await post(up, { stream: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (parseSse(text).length < 2) text += decoder.decode((await reader.read()).value);
    const beforeSilence = Date.now() - t0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(beforeSilence).toBeLessThan(250);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(parseSseFull(text).comments).toEqual([]);
    expect(chunksOf(text).map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('abcdefghijkl');
  });

  it('stall-after 0 answers the headers, then nothing until the client leaves', async () => {
    const up = await start({ flavor: 'llama-server' });
    up.enqueue({ kind: 'stall-after', chunks: 0, ms: 60_000, reply: { kind: 'text', text: 'never' } });
    const controller = new AbortController();
    const res = await post(up, { stream: true }, controller.signal);
    expect(res.status).toBe(200);
    controller.abort();
    const rec = await up.waitForAbort(2000);
    expect((rec.abortedAt ?? 0) - rec.receivedAt).toBeLessThan(2000);
  });

  it('raw replies are sent byte for byte', async () => {
    const up = await start({ flavor: 'lmstudio' });
    const body = 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: not json\n\n';
    up.enqueue({ kind: 'raw', status: 200, headers: { 'X-Test': '1' }, body });
    const res = await post(up, { stream: true });
    expect(res.headers.get('x-test')).toBe('1');
    expect((await readText(res.body)).text).toBe(body);
  });

  it('chunks replies write objects and strings as data frames, [DONE] optional', async () => {
    const up = await start({ flavor: 'ollama' });
    up.enqueue({ kind: 'chunks', chunks: [{ a: 1 }, '{broken'], done: false }, { kind: 'chunks', chunks: [] });
    expect((await readText((await post(up, { stream: true })).body)).text).toBe('data: {"a":1}\n\ndata: {broken\n\n');
    expect((await readText((await post(up, { stream: true })).body)).text).toBe('data: [DONE]\n\n');
  });

  it('records every request, and chat requests apart', async () => {
    const up = await start({ flavor: 'ollama' });
    await (await fetch(`${up.url}/api/ps`)).text();
    await (await post(up, { stream: false })).text();
    expect(up.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /api/ps', 'POST /v1/chat/completions']);
    expect(up.chatRequests).toHaveLength(1);
    expect(up.chatRequests[0]?.headers['content-type']).toBe('application/json');
  });
});
