/**
 * One `/v1/messages` exchange against a server that speaks the Messages API natively
 * (llama-server, LM Studio, Ollama, mlx-omni, vLLM, or the real API in `claude` mode).
 * Bytes pass through untouched; the stream is parsed on the side for metrics only.
 */
import { request as undiciRequest } from 'undici';
import { createParser } from 'eventsource-parser';
import type { MessagesRequest } from '../anthropic/types.js';
import { withoutBillingBlock } from '../translate/anthropic-to-openai.js';
import { fromUpstreamStatus, overloaded, upstreamErrorDetail } from './api-error.js';
import {
  abortOnHangUp,
  BackendSilence,
  beginExchange,
  checkAvailable,
  clampMaxTokens,
  failExchange,
  finishExchange,
  observePrefix,
  type Exchange,
  type ExchangeClock,
  type ExchangeDeps,
} from './exchange.js';
import { joinUrl, upstreamAgent } from '../core/upstream.js';

/** Same canonicalisation as the OpenAI path: no billing block, the served model, a clamped max_tokens. */
export function canonicalAnthropicRequest(request: MessagesRequest, model: string | undefined, maxTokens: number, keepBilling: boolean): MessagesRequest {
  const out: MessagesRequest = { ...request, max_tokens: maxTokens };
  if (model !== undefined) out.model = model;
  if (!keepBilling && Array.isArray(request.system)) out.system = withoutBillingBlock(request.system);
  return out;
}

export function promptSegments(request: MessagesRequest): string[] {
  return [JSON.stringify(request.system ?? ''), JSON.stringify(request.tools ?? []), ...request.messages.map((m) => JSON.stringify(m))];
}

const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'];

export async function anthropicExchange(exchange: Exchange, deps: ExchangeDeps): Promise<void> {
  const { request, upstream, res, req } = exchange;
  const claudeMode = upstream.flavor === 'claude';
  const segments = promptSegments(request);
  const { clock, sse, estimate } = await beginExchange(exchange, deps, segments);
  const url = joinUrl(upstream.url, '/v1/messages');
  let body = '';
  const replyText: string[] = [];

  try {
    const maxTokens = clampMaxTokens(request.max_tokens, clock.estimatedPromptTokens, upstream.contextWindow);
    checkAvailable(upstream);
    body = JSON.stringify(canonicalAnthropicRequest(request, upstream.model, maxTokens, claudeMode));
    const controller = abortOnHangUp(res, clock);
    const silence = new BackendSilence(deps.backendTimeoutMs, controller, clock, deps);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    headers['anthropic-version'] ??= '2023-06-01';
    if (upstream.apiKey !== undefined) headers['x-api-key'] = upstream.apiKey;
    clock.upstreamSentAt = Date.now();
    // The backend timeout (BackendSilence) decides how long a silent backend may take, not the agent.
    const pending = undiciRequest(url, { method: 'POST', headers, body, signal: controller.signal, dispatcher: upstreamAgent, headersTimeout: 0, bodyTimeout: 0 });
    observePrefix(clock, deps, segments);
    const response = await silence.watch(pending);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await silence.text(response.body).catch(() => '');
      replyText.push(text);
      // The real API's errors are already in Anthropic format and carry retry hints: pass them on.
      if (claudeMode && response.statusCode !== 529 && response.statusCode < 500) {
        clock.status = response.statusCode;
        clock.error = upstreamErrorDetail(text);
        res.writeHead(response.statusCode, { 'content-type': 'application/json', ...retryAfter(response.headers) });
        res.end(text);
        return;
      }
      throw fromUpstreamStatus(response.statusCode, upstreamErrorDetail(text), url);
    }
    const usage = new UsageWatcher(clock, exchange, deps);
    if (sse === undefined) {
      const text = await silence.text(response.body);
      replyText.push(text);
      usage.fromMessage(text);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
      return;
    }
    sse.startPinging();
    const decoder = new TextDecoder();
    for await (const bytes of silence.chunks(response.body)) {
      const text = decoder.decode(bytes as Uint8Array, { stream: true });
      replyText.push(text);
      usage.feed(text);
      if (usage.firstTokenSeen) sse.stopPinging();
      await sse.writeRaw(text);
    }
    if (!usage.complete) throw overloaded('backend closed the stream before message_stop');
    sse.end();
  } catch (error) {
    await failExchange(clock, sse, error);
  } finally {
    sse?.stopPinging();
    finishExchange(clock, deps, estimate, {
      upstreamRequest: { url, body },
      upstreamReply: { status: clock.status, body: replyText.join('') },
      replyOut: { status: clock.status, body: replyText.join('') },
    });
  }
}

function retryAfter(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const value = headers['retry-after'];
  return typeof value === 'string' ? { 'retry-after': value } : {};
}

interface UsageShape {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

/** Reads usage, first token and completeness out of a native Anthropic stream or message. */
class UsageWatcher {
  firstTokenSeen = false;
  complete = false;
  readonly #parser;

  constructor(
    private readonly clock: ExchangeClock,
    private readonly exchange: Exchange,
    private readonly deps: ExchangeDeps,
  ) {
    this.#parser = createParser({ onEvent: (event) => this.#onEvent(event.data) });
  }

  feed(text: string): void {
    this.#parser.feed(text);
  }

  fromMessage(text: string): void {
    try {
      const message = JSON.parse(text) as { usage?: UsageShape; stop_reason?: string };
      this.#usage(message.usage);
      this.clock.stopReason = (message.stop_reason as ExchangeClock['stopReason']) ?? null;
    } catch {
      // A malformed body is forwarded as-is; Claude Code reports it.
    }
  }

  #onEvent(data: string): void {
    let event: { type?: string; message?: { usage?: UsageShape }; usage?: UsageShape; delta?: { stop_reason?: string } };
    try {
      event = JSON.parse(data) as typeof event;
    } catch {
      return;
    }
    if (event.type === 'message_start') this.#usage(event.message?.usage);
    else if (event.type === 'content_block_delta' && !this.firstTokenSeen) {
      this.firstTokenSeen = true;
      this.clock.firstTokenAt = Date.now();
      this.deps.events.emit('request:first-token', { id: this.exchange.id, ttftMs: this.clock.firstTokenAt - this.exchange.startedAt });
    } else if (event.type === 'message_delta') {
      this.#usage(event.usage);
      this.clock.stopReason = (event.delta?.stop_reason as ExchangeClock['stopReason']) ?? null;
    } else if (event.type === 'message_stop' || event.type === 'error') this.complete = true;
  }

  #usage(usage: UsageShape | undefined): void {
    if (usage === undefined) return;
    const cached = usage.cache_read_input_tokens ?? this.clock.cachedTokens ?? 0;
    // The real API counts a prompt in three parts; a turn that writes the cache has almost all of
    // it in cache_creation, and leaving that out showed a 20K-token prompt as ~3 tokens.
    const created = usage.cache_creation_input_tokens ?? 0;
    if (usage.input_tokens !== undefined) this.clock.promptTokens = usage.input_tokens + cached + created;
    if (usage.cache_read_input_tokens !== undefined) this.clock.cachedTokens = usage.cache_read_input_tokens;
    if (usage.output_tokens !== undefined) this.clock.outputTokens = usage.output_tokens;
  }
}
