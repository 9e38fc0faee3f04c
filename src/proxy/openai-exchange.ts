/** One `/v1/messages` exchange against an OpenAI-compatible backend, streamed both ways. */
import { request as undiciRequest } from 'undici';
import type { StreamEvent } from '../anthropic/types.js';
import type { ChatCompletionChunk } from '../openai/types.js';
import { anthropicToOpenAI, upstreamBody } from '../translate/anthropic-to-openai.js';
import { StreamTranslator } from '../translate/openai-stream-to-anthropic.js';
import { accumulateMessage } from '../translate/message-accumulator.js';
import { fromUpstreamStatus, overloaded, upstreamErrorDetail } from './api-error.js';
import { createUpstreamSseReader } from './upstream-sse-reader.js';
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
import type { SseWriter } from './sse-writer.js';
import { joinUrl, upstreamAgent } from '../core/upstream.js';

type UpstreamResponse = Awaited<ReturnType<typeof undiciRequest>>;

const PROGRESS_EVERY_MS = 250;

export async function openaiExchange(exchange: Exchange, deps: ExchangeDeps): Promise<void> {
  const { request, upstream, res } = exchange;
  const model = upstream.model ?? request.model;
  const translated = anthropicToOpenAI(request, { model, profile: upstream.profile });
  const { clock, sse, estimate } = await beginExchange(exchange, deps, translated.segments);
  const translator = new StreamTranslator({
    messageId: `msg_${exchange.id}`,
    model: request.model,
    inputTokens: clock.estimatedPromptTokens,
    ...(request.tools === undefined ? {} : { tools: request.tools }),
    recoverTextToolCalls: upstream.profile.textToolCalls,
  });
  const collected: StreamEvent[] = [];
  const url = joinUrl(upstream.url, '/v1/chat/completions');
  let body = '';
  const upstreamText: string[] = [];

  try {
    const maxTokens = clampMaxTokens(request.max_tokens, clock.estimatedPromptTokens, upstream.contextWindow);
    checkAvailable(upstream);
    body = upstreamBody(translated, maxTokens);
    const controller = abortOnHangUp(res, clock);
    const silence = new BackendSilence(deps.backendTimeoutMs, controller, clock, deps);
    clock.upstreamSentAt = Date.now();
    const pending = silence.watch(send(url, body, upstream.apiKey, controller.signal));
    // Bookkeeping runs while the backend prefills, off the path to the first token.
    observePrefix(clock, deps, translated.segments);
    const response = await commitWhenSlow(pending, sse, translator, deps.headerGraceMs);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await silence.text(response.body).catch(() => '');
      upstreamText.push(text);
      throw fromUpstreamStatus(response.statusCode, upstreamErrorDetail(text), url);
    }
    const emit = async (events: StreamEvent[]): Promise<void> => {
      if (sse === undefined) collected.push(...events);
      else await sse.write(events);
    };
    if (sse === undefined || !sse.started) await emit(translator.start());
    sse?.startPinging();
    await pump(silence.chunks(response.body), translator, clock, exchange, deps, emit, deps.trace === undefined ? undefined : upstreamText);
    clock.stopReason = translator.stopReason;
    record(clock, translator);
    if (sse === undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(accumulateMessage(collected)));
    } else {
      sse.end();
    }
  } catch (error) {
    record(clock, translator);
    await failExchange(clock, sse, error);
  } finally {
    sse?.stopPinging();
    finishExchange(clock, deps, estimate, {
      upstreamRequest: { url, body },
      upstreamReply: { status: clock.status, body: upstreamText.join('') },
      replyOut: { status: clock.status, body: sse === undefined ? JSON.stringify(collected) : sse.written },
    });
  }
}

function send(url: string, body: string, apiKey: string | undefined, signal: AbortSignal): Promise<UpstreamResponse> {
  return undiciRequest(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    },
    body,
    signal,
    dispatcher: upstreamAgent,
    // The backend timeout (BackendSilence) decides how long a silent backend may take, not the agent.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

/**
 * Waits briefly for the backend's headers so an unreachable or failing backend becomes a 529
 * Claude Code retries; a backend that is merely slow to answer gets message_start and pings.
 */
async function commitWhenSlow(
  pending: Promise<UpstreamResponse>,
  sse: SseWriter | undefined,
  translator: StreamTranslator,
  graceMs: number,
): Promise<UpstreamResponse> {
  if (sse === undefined) return pending;
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), graceMs);
  });
  const first = await Promise.race([pending, grace]);
  clearTimeout(timer);
  if (first !== 'slow') return first;
  await sse.write(translator.start());
  sse.startPinging();
  return pending;
}

/** Reads the upstream SSE and feeds every chunk through the translator. */
async function pump(
  chunks: AsyncIterable<unknown>,
  translator: StreamTranslator,
  clock: ExchangeClock,
  exchange: Exchange,
  deps: ExchangeDeps,
  emit: (events: StreamEvent[]) => Promise<void>,
  traceText: string[] | undefined,
): Promise<void> {
  const data: string[] = [];
  const reader = createUpstreamSseReader((item) => data.push(item));
  let done = false;
  let cutShort = false;
  let deltas = 0;
  let lastProgress = 0;
  const translate = (items: readonly string[]): StreamEvent[] => {
    const batch: StreamEvent[] = [];
    for (const item of items) {
      if (item === '[DONE]') {
        done = true;
        continue;
      }
      batch.push(...translator.push(parseChunk(item)));
      if (clock.firstTokenAt === undefined && translator.firstTokenSeen) {
        clock.firstTokenAt = Date.now();
        deps.events.emit('request:first-token', { id: exchange.id, ttftMs: clock.firstTokenAt - exchange.startedAt });
      }
    }
    return batch;
  };
  for await (const bytes of chunks) {
    const text = reader.feed(bytes as Uint8Array);
    traceText?.push(text);
    // Everything one network read brought goes out in one write: per-chunk writes cost more than the translation.
    const batch = translate(data.splice(0));
    if (translator.loopingToolCall) {
      // Leaving the loop closes the response, which stops the backend decoding more of the same.
      deps.events.log('warn', exchange.upstream.name, 'the model repeated the same tool call 3 times in a row: its reply ends with that call, once, and the backend is stopped');
      cutShort = true;
      await emit(batch);
      break;
    }
    if (batch.length === 0) continue;
    await emit(batch);
    deltas += batch.length;
    const now = Date.now();
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      deps.events.emit('request:progress', { id: exchange.id, outputTokens: deltas, elapsedMs: now - exchange.startedAt });
    }
  }
  if (!cutShort) {
    reader.end();
    await emit(translate(data.splice(0)));
  }
  // A stream that ends without [DONE] or a finish_reason was cut off: never pass it off as complete.
  if (!done && !cutShort && !translator.finishReasonSeen) throw overloaded('backend closed the stream before it finished');
  await emit(translator.finish());
}

function parseChunk(data: string): ChatCompletionChunk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw overloaded(`backend sent a malformed stream chunk: ${data.slice(0, 120)}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw overloaded('backend sent a non-object stream chunk');
  if ('error' in parsed) throw overloaded(`backend error mid-stream: ${upstreamErrorDetail(data)}`);
  const chunk = parsed as Partial<ChatCompletionChunk>;
  return { ...chunk, choices: Array.isArray(chunk.choices) ? chunk.choices : [] };
}

function record(clock: ExchangeClock, translator: StreamTranslator): void {
  const usage = translator.usage;
  clock.promptTokens = usage.promptTokens;
  clock.cachedTokens = usage.cachedTokens;
  clock.outputTokens = usage.completionTokens;
}


