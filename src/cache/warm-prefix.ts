/**
 * Replays the remembered prefix through the proxy with `max_tokens: 1`, so the backend has
 * the system prompt and tools in its KV cache before the user's first prompt arrives. It goes
 * through the proxy's own translation, so the bytes are exactly those of a real request. The
 * header marks it for the proxy's warm-up gate, which never lets it compete with a real request.
 */
import { request } from 'undici';
import { WARMUP_HEADER, WARMUP_SKIPPED } from '../proxy/warmup-gate.js';
import type { StablePrefix } from './prefix-store.js';

export interface WarmResult {
  ok: boolean;
  /** 'skipped': the proxy did not start it, as a real request was already using the backend. */
  phase: 'done' | 'failed' | 'skipped';
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
      headers: { 'content-type': 'application/json', 'x-api-key': proxy.key, [WARMUP_HEADER]: '1' },
      body: JSON.stringify(body),
      headersTimeout: 30 * 60_000,
      bodyTimeout: 30 * 60_000,
    });
    const text = await response.body.text();
    const ms = Date.now() - started;
    if (response.statusCode === 200) return { ok: true, phase: 'done', ms, detail: 'cached' };
    if (response.headers[WARMUP_HEADER] === WARMUP_SKIPPED) return { ok: false, phase: 'skipped', ms, detail: 'a request was already using the backend' };
    return { ok: false, phase: 'failed', ms, detail: `HTTP ${response.statusCode}: ${text.slice(0, 200)}` };
  } catch (error) {
    // The proxy hangs up on a warm-up when a request with another prompt needs the backend (its log says so).
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, phase: 'failed', ms: Date.now() - started, detail: `ended before it finished: ${detail}` };
  }
}
