/**
 * How many prompt tokens the backend said it read, for calibrating an analysis.
 *
 * An OpenAI-style backend's `prompt_tokens` is what the proxy's metrics hold. A Messages API
 * backend splits the prompt in three — `input_tokens` (uncached), `cache_creation_input_tokens`
 * and `cache_read_input_tokens` — and the metrics of this version leave out cache creation, so a
 * turn that writes the cache would read as a few tokens. For those the reply itself is read.
 */
import type { Trace } from './trace-file.js';

interface Usage {
  input_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
  cache_read_input_tokens?: unknown;
}

export function reportedPromptTokens(trace: Trace, protocol: 'openai' | 'anthropic'): number | undefined {
  const fromMetrics = trace.metrics?.promptTokens ?? undefined;
  if (protocol !== 'anthropic' || trace.upstreamReply === undefined) return fromMetrics;
  return messagesUsage(trace.upstreamReply.body) ?? fromMetrics;
}

/**
 * The prompt total from a Messages reply: a JSON message's `usage`, or a stream's usage as its
 * last word says it — `message_start` carries it first, and a `message_delta` that repeats the
 * input counts corrects it (anyclaude's own stream and llama-server send an estimate first).
 */
export function messagesUsage(body: string): number | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return total([(JSON.parse(trimmed) as { usage?: Usage }).usage]);
    } catch {
      return undefined;
    }
  }
  const usages: Array<Usage | undefined> = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('data:')) continue;
    try {
      const event = JSON.parse(line.slice(5).trim()) as { type?: string; message?: { usage?: Usage }; usage?: Usage };
      if (event.type === 'message_start') usages.push(event.message?.usage);
      else if (event.type === 'message_delta') usages.push(event.usage);
    } catch {
      // [DONE], a comment, or a frame cut at the size cap.
    }
  }
  return total(usages);
}

/** Later reports override earlier ones field by field, as the proxy's own usage reader does. */
function total(usages: ReadonlyArray<Usage | undefined>): number | undefined {
  let input: number | undefined;
  let creation = 0;
  let read = 0;
  for (const usage of usages) {
    if (usage === undefined) continue;
    if (typeof usage.input_tokens === 'number') input = usage.input_tokens;
    if (typeof usage.cache_creation_input_tokens === 'number') creation = usage.cache_creation_input_tokens;
    if (typeof usage.cache_read_input_tokens === 'number') read = usage.cache_read_input_tokens;
  }
  return input === undefined ? undefined : input + creation + read;
}
