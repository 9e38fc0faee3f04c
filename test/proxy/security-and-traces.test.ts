/** Loopback only, the run's key required, no browsers; traces private and redacted. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/proxy-harness.js';

function rawRequest(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/models', method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request head written byte for byte (e.g. without any Host) with `connection: close`, answered over a raw socket. */
function socketRequest(port: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const end = text.indexOf('\r\n\r\n');
      const raw = text.slice(end + 4);
      // A chunked body: size lines between the pieces.
      const body = /transfer-encoding: chunked/i.test(text.slice(0, end)) ? raw.split('\r\n').filter((_, i) => i % 2 === 1).join('') : raw;
      resolve({ status: Number(text.slice(9, 12)), body });
    });
  });
}

function expectAnthropicError(result: { status: number; body: string }, status: number, type: string): void {
  expect(result.status).toBe(status);
  expect(JSON.parse(result.body)).toMatchObject({ type: 'error', error: { type, message: expect.any(String) } });
}

describe('access control', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('listens on 127.0.0.1 only', () => {
    expect(h.proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('rejects a missing key with 401 authentication_error', async () => {
    const response = await fetch(`${h.proxy.url}/v1/messages`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('rejects a wrong key', async () => {
    const response = await h.post('/v1/messages', {}, { 'x-api-key': 'anyclaude-wrong' });
    expect(response.status).toBe(401);
  });

  it('accepts the key as Authorization: Bearer too', async () => {
    const response = await fetch(`${h.proxy.url}/v1/models`, { headers: { authorization: `Bearer ${h.proxy.key}` } });
    expect(response.status).toBe(200);
  });

  it('refuses a non-loopback Host header (DNS rebinding) with 403', async () => {
    const result = await rawRequest(h.proxy.port, { host: 'evil.example:80', 'x-api-key': h.proxy.key });
    expect(result.status).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({ error: { type: 'permission_error' } });
  });

  it('refuses any browser Origin with 403', async () => {
    const result = await rawRequest(h.proxy.port, { host: `127.0.0.1:${h.proxy.port}`, origin: 'https://example.com', 'x-api-key': h.proxy.key });
    expect(result.status).toBe(403);
  });

  it('refuses a wrong key of another length, and one differing only in its last character, with 401', async () => {
    const host = `127.0.0.1:${h.proxy.port}`;
    const last = h.proxy.key.at(-1) === 'A' ? 'B' : 'A';
    for (const key of ['short', `${h.proxy.key}-and-more`, `${h.proxy.key.slice(0, -1)}${last}`]) {
      expectAnthropicError(await rawRequest(h.proxy.port, { host, 'x-api-key': key }), 401, 'authentication_error');
      expectAnthropicError(await rawRequest(h.proxy.port, { host, authorization: `Bearer ${key}` }), 401, 'authentication_error');
    }
  });

  it('refuses a Host that only starts like loopback (127.0.0.1.evil.com) with 403', async () => {
    expectAnthropicError(await rawRequest(h.proxy.port, { host: '127.0.0.1.evil.com', 'x-api-key': h.proxy.key }), 403, 'permission_error');
    expectAnthropicError(await rawRequest(h.proxy.port, { host: `127.0.0.1.evil.com:${h.proxy.port}`, 'x-api-key': h.proxy.key }), 403, 'permission_error');
  });

  it('refuses a request with no Host header with 403, in Anthropic format', async () => {
    const result = await socketRequest(h.proxy.port, `GET /v1/models HTTP/1.1\r\nx-api-key: ${h.proxy.key}\r\nconnection: close\r\n\r\n`);
    expectAnthropicError(result, 403, 'permission_error');
  });

  it('accepts the IPv6 loopback Host [::1]', async () => {
    const result = await rawRequest(h.proxy.port, { host: `[::1]:${h.proxy.port}`, 'x-api-key': h.proxy.key });
    expect(result.status).toBe(200);
  });

  it('refuses Origin: null (sandboxed pages, file://) with 403', async () => {
    expectAnthropicError(await rawRequest(h.proxy.port, { host: `127.0.0.1:${h.proxy.port}`, origin: 'null', 'x-api-key': h.proxy.key }), 403, 'permission_error');
  });
});

describe('traces', () => {
  it('writes each exchange to a private, redacted file', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'anyclaude-trace-')), 'traces');
    const h = await startHarness({ proxy: { trace: root }, upstream: { apiKey: 'sk-upstream-secret-0123456789abcdef' } });
    try {
      const message = await h.client.messages.create({
        model: 'claude-opus-4-8',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'my key is sk-ant-api03-abcdefghijklmnop, keep it secret' }],
      });
      expect(message.content.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      const dir = join(root, 'mlx-lm');
      expect((await stat(root)).mode & 0o777).toBe(0o700);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const files = await readdir(dir);
      expect(files).toHaveLength(1);
      const file = join(dir, files[0]!);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const text = await readFile(file, 'utf8');
      const trace = JSON.parse(text) as { requestIn: { headers: Record<string, string>; body: string }; upstreamRequest: { body: string }; upstreamReply: { body: string }; replyOut: { body: string } };
      const headers = trace.requestIn.headers;
      expect(headers['x-api-key'] ?? headers.authorization).toBe('[REDACTED]');
      expect(text).not.toContain(h.proxy.key);
      expect(text).not.toContain('sk-ant-api03-abcdefghijklmnop');
      expect(text).not.toContain('sk-upstream-secret');
      expect(trace.upstreamRequest.body).toContain('"model":"served-model"');
      expect(trace.upstreamReply.body).toContain('data: [DONE]');
      expect(trace.replyOut.body).toContain('"type":"message"');
    } finally {
      await h.close();
    }
  });
});
