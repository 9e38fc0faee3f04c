/** The replay loader on both input kinds: a capture folder and a trace folder as the proxy writes it. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadReplay } from '../../src/bench/replay-input.js';
import { TraceWriter } from '../../src/proxy/trace-writer.js';
import { WARMUP_HEADER } from '../../src/proxy/warmup-gate.js';
import { FIXTURES_DIR } from '../support/fixtures.js';

const SHORT_CHAT = fileURLToPath(new URL('../fixtures/bench-short-chat/', import.meta.url));

interface CaptureFile {
  seq: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: { messages: unknown[] } | null;
}

async function captures(dir: string): Promise<CaptureFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as CaptureFile));
}

describe('loadReplay on a capture folder', () => {
  it('reads every Messages request in sent order, with the session header and body as captured', async () => {
    const expected = await captures(SHORT_CHAT);
    const input = await loadReplay(SHORT_CHAT);
    expect(input.kind).toBe('capture');
    expect(input.requests.map((r) => r.file)).toEqual(expected.map((c) => `${String(c.seq).padStart(3, '0')}-POST-v1_messages.json`));
    expect(input.requests.map((r) => r.body)).toEqual(expected.map((c) => c.body));
    expect(input.requests.map((r) => r.sessionId)).toEqual(expected.map((c) => c.headers['x-claude-code-session-id']));
    expect(input.requests.every((r) => r.url === expected[0]!.url)).toBe(true);
    // Credentials are never replayed: the proxy's own key is sent instead.
    expect(input.requests.every((r) => r.headers.authorization === undefined && r.headers['x-api-key'] === undefined)).toBe(true);
  });

  it('leaves out HEAD probes and names why', async () => {
    const dir = join(FIXTURES_DIR, 'interactive');
    const all = await captures(dir);
    const input = await loadReplay(dir);
    const posts = all.filter((c) => c.method === 'POST' && c.url.startsWith('/v1/messages?') );
    expect(input.requests).toHaveLength(posts.length);
    expect(input.skipped.map((s) => s.file)).toContain('001-HEAD-root.json');
    expect(input.skipped.find((s) => s.file === '001-HEAD-root.json')?.reason).toMatch(/HEAD/);
  });

  it('refuses a folder of count_tokens requests: nothing there is a turn', async () => {
    await expect(loadReplay(join(FIXTURES_DIR, 'count-tokens'))).rejects.toMatchObject({ code: 'BENCH_INPUT' });
  });
});

describe('loadReplay on a trace folder', () => {
  it('reads <root>/<backend>/*.json as the proxy writes them, by start time, without warm-ups, count_tokens or cut bodies', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bench-traces-'));
    const writer = new TraceWriter({ root, onError: (m) => expect.fail(m) });
    const chat = await captures(SHORT_CHAT);
    const base = Date.parse('2026-12-02T10:00:00Z');
    const exchange = (i: number, backend: string, extra: { url?: string; headers?: Record<string, string>; body?: string } = {}) => ({
      id: `id${i}`,
      backend,
      // Written out of order, on two backends: the loader orders by start time.
      startedAt: base + i * 1000,
      requestIn: { method: 'POST', url: extra.url ?? chat[0]!.url, headers: { ...chat[i % chat.length]!.headers, ...extra.headers }, body: extra.body ?? JSON.stringify(chat[i % chat.length]!.body) },
    });
    await writer.write(exchange(2, 'lmstudio'));
    await writer.write(exchange(0, 'mlx-lm'));
    await writer.write(exchange(1, 'mlx-lm'));
    await writer.write(exchange(3, 'mlx-lm', { headers: { [WARMUP_HEADER]: '1' } }));
    await writer.write(exchange(4, 'mlx-lm', { url: '/v1/messages/count_tokens?beta=true' }));
    await writer.write(exchange(5, 'mlx-lm', { body: `{"messages": [${'x'.repeat(64)}…[truncated 99 chars]` }));
    const input = await loadReplay(root);
    expect(input.kind).toBe('trace');
    expect(input.requests.map((r) => r.body)).toEqual([chat[0]!.body, chat[1]!.body, chat[2]!.body]);
    expect(input.requests.map((r) => r.sentAt)).toEqual([base, base + 1000, base + 2000]);
    expect(input.skipped.map((s) => s.reason).sort()).toEqual(["anyclaude's own cache warm-up", 'POST /v1/messages/count_tokens is not a turn', 'body was cut short in the trace'].sort());
    // The trace writer redacts credentials; they are not replayed either way.
    expect(input.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    // One backend's folder is an input too.
    expect((await loadReplay(join(root, 'lmstudio'))).requests.map((r) => r.body)).toEqual([chat[2]!.body]);
  });
});
