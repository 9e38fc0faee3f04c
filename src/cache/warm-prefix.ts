/**
 * Replays the remembered prefix through the proxy with `max_tokens: 1`, so the backend has
 * the system prompt and tools in its KV cache before the user's first prompt arrives. It goes
 * through the proxy's own translation, so the bytes are exactly those of a real request.
 */
import { request } from 'undici';
import type { StablePrefix } from './prefix-store.js';

export interface WarmResult {
  ok: boolean;
  ms: number;
  detail: string;
}

export async function warmPrefix(proxy: { url: string; key: string }, backend: string, prefix: StablePrefix): Promise<WarmResult> {
  const started = Date.now();
  const body = {
    model: backend,
    max_tokens: 1,
    system: prefix.system,
    tools: prefix.tools,
    messages: [{ role: 'user', content: 'Reply with OK.' }],
  };
  try {
    const response = await request(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': proxy.key, 'x-anyclaude-warmup': '1' },
      body: JSON.stringify(body),
      headersTimeout: 30 * 60_000,
      bodyTimeout: 30 * 60_000,
    });
    const text = await response.body.text();
    const ms = Date.now() - started;
    return response.statusCode === 200 ? { ok: true, ms, detail: 'cached' } : { ok: false, ms, detail: `HTTP ${response.statusCode}: ${text.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, ms: Date.now() - started, detail: error instanceof Error ? error.message : String(error) };
  }
}
