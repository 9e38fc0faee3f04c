/**
 * How the proxy reads an OpenAI-compatible backend's SSE: network reads decoded as UTF-8 (a
 * character may be cut between reads) and fed to eventsource-parser, with two guards.
 *
 * - eventsource-parser 3.1.1 keeps a line that ends in "\r" at the end of a fed chunk pending until
 *   a later chunk brings another line break (it cannot tell yet whether "\n" follows). With
 *   "\r"-only line ends, an event whose blank line ends a network read would be late, and lost if
 *   the stream ended there. A trailing "\r" is held back until the next read (or the end), so the
 *   events do not depend on how the bytes were cut (found by fuzzing: test/fuzz/sse.fuzz.test.ts).
 * - A backend that never ends an event (no blank line) would grow the parser's buffer without
 *   bound: past MAX_PENDING_CHARS the read fails with an overloaded error.
 */
import { createParser } from 'eventsource-parser';
import { overloaded } from './api-error.js';

/** Far above any real event (a whole tool call's arguments come in many small ones). */
export const MAX_PENDING_CHARS = 16 * 1024 * 1024;

export interface UpstreamSseReader {
  /** One network read; returns it decoded (for the trace). Events found are passed to `onData`. */
  feed(bytes: Uint8Array): string;
  /** The stream ended: a held "\r" still ends its line. An event without its blank line is dropped, per the SSE spec. */
  end(): void;
}

export function createUpstreamSseReader(onData: (data: string) => void, options: { maxPendingChars?: number } = {}): UpstreamSseReader {
  const maxPending = options.maxPendingChars ?? MAX_PENDING_CHARS;
  let pending = 0;
  const parser = createParser({
    onEvent: (event) => {
      pending = 0;
      onData(event.data);
    },
    onComment: () => (pending = 0),
  });
  const decoder = new TextDecoder();
  let heldCr = false;
  return {
    feed(bytes) {
      const decoded = decoder.decode(bytes, { stream: true });
      let text = (heldCr ? '\r' : '') + decoded;
      heldCr = text.endsWith('\r');
      if (heldCr) text = text.slice(0, -1);
      pending += text.length;
      if (text !== '') parser.feed(text);
      if (pending > maxPending) throw overloaded(`backend sent ${Math.round(pending / 1024 / 1024)} MiB without ending a stream event; anyclaude stopped reading it`);
      return decoded;
    },
    end() {
      // "\r\n" is one line break, the one the held "\r" was: the parser need not wait for more.
      if (heldCr) parser.feed('\r\n');
      heldCr = false;
    },
  };
}
