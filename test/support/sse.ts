/**
 * Server-sent-events helpers for tests, built on eventsource-parser (the same parsing rules a
 * real client applies). A frame that is not terminated by a blank line is NOT dispatched, just
 * as a real client drops it when the connection closes mid-frame.
 */
import { createParser } from 'eventsource-parser';

export interface SseFrame {
  /** The `event:` field; undefined when the frame has none. */
  event?: string;
  data: string;
}

export interface ParsedSse {
  events: SseFrame[];
  /** Comment lines (`: keepalive 1/2` → `keepalive 1/2`, leading space trimmed). */
  comments: string[];
}

/** Parse a whole SSE text into its events and comment lines. */
export function parseSseFull(text: string): ParsedSse {
  const events: SseFrame[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent(message) {
      const frame: SseFrame = { data: message.data };
      if (message.event !== undefined) frame.event = message.event;
      events.push(frame);
    },
    onComment(comment) {
      comments.push(comment.replace(/^ /, ''));
    },
  });
  parser.feed(text);
  return { events, comments };
}

/** Parse a whole SSE text into `{ event?, data }` frames (comments dropped). */
export function parseSse(text: string): SseFrame[] {
  return parseSseFull(text).events;
}

/** Anything a fetch body can be read from: a web ReadableStream or a Node async iterable of bytes. */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

export interface ReadSseResult extends ParsedSse {
  /** The exact text received, for byte-level assertions. */
  text: string;
  /** The error that ended the read early (socket reset, abort), or undefined on a clean end. */
  error?: unknown;
}

/**
 * Read a response body to its end (or until it fails) and parse it as SSE. Never throws on a
 * broken connection: the failure is returned in `error`, alongside everything received before it.
 */
export async function readSse(body: ByteSource | null | undefined): Promise<ReadSseResult> {
  const text = await readText(body);
  return { ...parseSseFull(text.text), ...text };
}

/** Read a body to its end as UTF-8 text, capturing (not throwing) a mid-stream failure. */
export async function readText(body: ByteSource | null | undefined): Promise<{ text: string; error?: unknown }> {
  if (body == null) return { text: '' };
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of iterate(body)) {
      text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    }
    text += decoder.decode();
    return { text };
  } catch (error) {
    text += decoder.decode();
    return { text, error };
  }
}

async function* iterate(body: ByteSource): AsyncGenerator<Uint8Array | string> {
  if (Symbol.asyncIterator in body) {
    yield* body as AsyncIterable<Uint8Array | string>;
    return;
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
