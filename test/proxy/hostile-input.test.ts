/**
 * The malformed-request corpus (test/fixtures/malformed/, format in its README) against the real
 * `anyclaude proxy` process in front of a scripted upstream, over real sockets: each case gets its
 * 4xx in Anthropic format naming the problem, in bounded time, nothing reaches the backend, and
 * the proxy serves the next requests, on the same kept-alive connection and on new ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startProxy } from '../../src/proxy/server.js';
import { startHarness } from '../support/proxy-harness.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';

const CORPUS = fileURLToPath(new URL('../fixtures/malformed/', import.meta.url));
const KEY = 'hostile-input-key';
/** A hang guard, not a performance figure. */
const BOUND_MS = 15_000;
/** Short limits through the proxy's environment knobs, so the slow cases end in about a second. */
const PROXY_ENV = { ANYCLAUDE_HEADERS_TIMEOUT_MS: '1000', ANYCLAUDE_REQUEST_TIMEOUT_MS: '4000' };

interface Generate {
  kind: 'nested-schema' | 'nested-input' | 'nested-array' | 'many-arrays' | 'big-text' | 'over-limit';
  depth?: number;
  count?: number;
  bytes?: number;
  chunked?: boolean;
}

interface Case {
  description: string;
  request: {
    path?: string;
    body?: unknown;
    bodyText?: string;
    bodyBase64?: string;
    generate?: Generate;
    rawBase64?: string;
    slow?: { part: 'headers' | 'body'; intervalMs: number };
  };
  expect: { status: number; type: string; messageContains: string[] };
}

interface Answer {
  status: number;
  body: string;
  ms: number;
}

const cases: Array<[string, Case]> = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(`${CORPUS}${f}`, 'utf8')) as Case]);

const hello = { model: 'claude-x', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] };

/** Built as text: JSON.stringify itself would recurse 10,000 levels. */
function generated(g: Generate): Buffer | Readable {
  const depth = g.depth ?? 0;
  switch (g.kind) {
    case 'nested-schema':
      return Buffer.from(
        `{"model":"claude-x","max_tokens":20,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"deep","input_schema":${'{"items":'.repeat(depth)}{}${'}'.repeat(depth)}}]}`,
      );
    case 'nested-input':
      return Buffer.from(
        '{"model":"claude-x","max_tokens":20,"messages":[{"role":"user","content":"go"},' +
          `{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"deep","input":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}]},` +
          '{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}',
      );
    case 'nested-array':
      return Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    case 'many-arrays':
      // Flat, not deep: a valid request whose metadata holds `count` empty arrays.
      return Buffer.from(`{"model":"claude-x","max_tokens":20,"messages":[{"role":"user","content":"hi"}],"metadata":{"x":[${'[],'.repeat(g.count ?? 0)}[]]}}`);
    case 'big-text':
      return Buffer.from(JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'word '.repeat(Math.ceil((g.bytes ?? 0) / 5)) }] }));
    case 'over-limit': {
      const bytes = g.bytes ?? 0;
      if (g.chunked !== true) return Buffer.alloc(bytes, 0x20);
      // No Content-Length: undici sends a stream chunked.
      const piece = Buffer.alloc(1024 * 1024, 0x20);
      return Readable.from(
        (function* () {
          for (let sent = 0; sent < bytes; sent += piece.length) yield piece;
        })(),
      );
    }
  }
}

function bodyOf(c: Case): Buffer | Readable {
  const r = c.request;
  if (r.generate !== undefined) return generated(r.generate);
  if (r.bodyBase64 !== undefined) return Buffer.from(r.bodyBase64, 'base64');
  if (r.bodyText !== undefined) return Buffer.from(r.bodyText);
  return Buffer.from(JSON.stringify(r.body));
}

async function viaUndici(base: string, agent: Agent, path: string, body: Buffer | Readable | string): Promise<Answer> {
  const started = Date.now();
  const response = await request(`${base}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body,
    headersTimeout: BOUND_MS,
    bodyTimeout: BOUND_MS,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text, ms: Date.now() - started };
}

/** Bytes over a raw socket: the answer is the last response that comes back before the server closes it. */
function viaSocket(port: number, write: (socket: ReturnType<typeof connect>) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const guard = setTimeout(() => socket.destroy(new Error(`no answer within ${BOUND_MS} ms`)), BOUND_MS);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(guard);
      const status = Number([...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].at(-1)?.[1] ?? 0);
      resolve({ status, body: received.slice(received.lastIndexOf('\r\n\r\n') + 4), ms: Date.now() - started });
    });
    socket.on('connect', () => write(socket));
  });
}

/** Dribbles a request a byte at a time until the server hangs up. */
function dribble(socket: ReturnType<typeof connect>, head: string, trickle: string, intervalMs: number): void {
  socket.write(head);
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    socket.write(trickle[at++ % trickle.length]!);
  }, intervalMs);
  socket.on('close', () => clearInterval(timer));
}

function send(c: Case, base: string, port: number, agent: Agent): Promise<Answer> {
  const r = c.request;
  const path = r.path ?? '/v1/messages';
  if (r.rawBase64 !== undefined) return viaSocket(port, (s) => s.write(Buffer.from(r.rawBase64!, 'base64')));
  if (r.slow !== undefined) {
    const { part, intervalMs } = r.slow;
    const line = `POST ${path} HTTP/1.1\r\n`;
    if (part === 'headers') return viaSocket(port, (s) => dribble(s, line, `Host: 127.0.0.1:${port}\r\nX-Padding: ${'a'.repeat(4096)}`, intervalMs));
    const head = `${line}Host: 127.0.0.1:${port}\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n`;
    return viaSocket(port, (s) => dribble(s, head, JSON.stringify(hello), intervalMs));
  }
  return viaUndici(base, agent, path, bodyOf(c));
}

describe('hostile input against anyclaude proxy (test/fixtures/malformed/)', () => {
  let upstream: ScriptedUpstream;
  let proxy: ProxyProcess;
  let base: string;
  let port: number;
  let keepAlive: Agent;
  let stderr = '';

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'served-model' });
    proxy = await startProxyProcess(['proxy', '--upstream', upstream.url, '--flavor', 'mlx-lm', '--model', 'served-model', '--context', '32768', '--key', KEY], PROXY_ENV);
    proxy.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    base = proxy.env.ANTHROPIC_BASE_URL;
    port = Number(new URL(base).port);
    // One connection, kept alive: every case and the requests after it share it where HTTP allows.
    keepAlive = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  });

  afterAll(async () => {
    await keepAlive?.close();
    proxy?.child.kill('SIGTERM');
    await proxy?.child;
    await upstream?.close();
  });

  it('has a corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('%s', async (_file, c) => {
    const before = upstream.chatRequests.length;
    const answer = await send(c, base, port, keepAlive);
    expect(answer.ms).toBeLessThan(BOUND_MS);
    expect(answer.status, answer.body.slice(0, 300)).toBe(c.expect.status);
    const body = JSON.parse(answer.body) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe(c.expect.type);
    for (const words of c.expect.messageContains) expect(body.error.message).toContain(words);
    expect(upstream.chatRequests.length).toBe(before);

    // The proxy keeps serving: twice on the kept-alive client (the old bug hung the second), once on a new connection.
    for (const agent of [keepAlive, keepAlive, new Agent()]) {
      const next = await viaUndici(base, agent, '/v1/messages', JSON.stringify(hello));
      expect(next.status, next.body.slice(0, 300)).toBe(200);
    }
    expect(upstream.chatRequests.length).toBe(before + 3);
  });

  it('logged no internal error for any of it (each case ran above)', () => {
    expect(stderr).toMatch(/^200 /m);
    expect(stderr).not.toMatch(/unhandled|internal proxy error|\[error\]/);
  });

  it('after a refused over-limit body, a Node keep-alive agent carries on on the same connection', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const post = (body: Buffer): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path: '/v1/messages', method: 'POST', agent, headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'content-length': body.length } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('socket', (socket) => sockets.add(socket));
        req.on('error', reject);
        req.end(body);
      });
    try {
      const refused = await post(Buffer.alloc(70_000_000, 0x20));
      expect(refused.status).toBe(413);
      for (let i = 0; i < 3; i++) expect((await post(Buffer.from(JSON.stringify(hello)))).status).toBe(200);
      // The refused body was drained, so the connection stayed in use.
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('an Anthropic-protocol upstream', () => {
  it('gets a block of an unknown type unchanged (the protocol allows it; the upstream decides), but no orphan tool_result', async () => {
    const received: string[] = [];
    const native = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'native', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } }),
        );
      });
    });
    await new Promise<void>((resolve) => native.listen(0, '127.0.0.1', resolve));
    const proxy = await startProxy({
      upstreams: [{ name: 'llama-cpp', url: `http://127.0.0.1:${(native.address() as AddressInfo).port}`, protocol: 'anthropic', flavor: 'llama-cpp', model: 'native', contextWindow: undefined, profile: UPSTREAM_PROFILES['llama-cpp'] }],
    });
    const post = (body: unknown): Promise<Response> =>
      fetch(`${proxy.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': proxy.key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      const hologram = { type: 'hologram', data: 'xyz' };
      const response = await post({ ...hello, messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, hologram] }] });
      expect(response.status, await response.clone().text()).toBe(200);
      expect((JSON.parse(received.at(-1)!) as { messages: Array<{ content: unknown[] }> }).messages[0]!.content[1]).toEqual(hologram);

      const orphan = await post({ ...hello, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_ghost', content: 'x' }] }] });
      expect(orphan.status).toBe(400);
      expect(((await orphan.json()) as { error: { message: string } }).error.message).toContain('toolu_ghost');
      expect(received).toHaveLength(1);
    } finally {
      await proxy.close();
      native.close();
    }
  });
});

describe('slow clients, in process (ProxyOptions headersTimeoutMs / requestTimeoutMs)', () => {
  it('cuts off dribbled headers and a dribbled body with a 408, and nothing else', async () => {
    const h = await startHarness({ proxy: { headersTimeoutMs: 500, requestTimeoutMs: 1_500, key: KEY } });
    try {
      const port = h.proxy.port;
      const slowHeaders = await viaSocket(port, (s) => dribble(s, 'POST /v1/messages HTTP/1.1\r\n', `Host: 127.0.0.1:${port}\r\nX-Padding: ${'a'.repeat(4096)}`, 50));
      expect(slowHeaders.status).toBe(408);
      expect(JSON.parse(slowHeaders.body)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('not received in time') } });
      const head = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n`;
      const slowBody = await viaSocket(port, (s) => dribble(s, head, JSON.stringify(hello), 50));
      expect(slowBody.status).toBe(408);
      // A slow second request on a kept-alive connection gets its 408 too.
      const second = await viaSocket(port, (s) => dribble(s, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nPOST /v1/messages HTTP/1.1\r\n`, 'Host: x\r\n', 50));
      expect(second.status).toBe(408);
      expect(h.upstream.chatRequests).toHaveLength(0);

      // Neither limit touches a kept-alive connection idle between requests, nor a reply slower than them.
      const agent = new Agent({ connections: 1 });
      let connects = 0;
      agent.on('connect', () => connects++);
      expect((await viaUndici(h.proxy.url, agent, '/v1/messages', JSON.stringify(hello))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2_000));
      h.upstream.enqueue({ kind: 'stall', ms: 2_000, reply: { kind: 'text', text: 'slow but fine' } });
      const slowReply = await viaUndici(h.proxy.url, agent, '/v1/messages', JSON.stringify(hello));
      expect(slowReply.status).toBe(200);
      expect(slowReply.body).toContain('slow but fine');
      expect(connects).toBe(1);
      await agent.close();
    } finally {
      await h.close();
    }
  });
});
