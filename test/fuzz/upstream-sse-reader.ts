/**
 * The upstream SSE reader `pump` in src/proxy/openai-exchange.ts should use (proposed, not yet
 * wired in: that file belongs to another change). It is the pump's feeding logic made a small
 * pure object, plus one fix found by fuzzing:
 *
 * eventsource-parser 3.1.1 keeps a line that ends in "\r" at the end of a fed chunk pending until a
 * later chunk brings another line break (it cannot tell yet whether "\n" follows). With "\r"-only
 * line ends, an event whose blank line ends a network read is therefore late, and lost if the
 * stream ends there; the same bytes in one read dispatch it. Holding a trailing "\r" back until
 * the next read (or the end) makes the result independent of how the bytes were cut.
 */
import { createParser } from 'eventsource-parser';

export interface UpstreamSseReader {
  /** One network read. */
  feed(bytes: Uint8Array): void;
  /** The stream ended: a held "\r" still ends its line. An event without its blank line is dropped, per the SSE spec. */
  end(): void;
}

export function createUpstreamSseReader(onData: (data: string) => void): UpstreamSseReader {
  const parser = createParser({ onEvent: (event) => onData(event.data) });
  const decoder = new TextDecoder();
  let heldCr = false;
  return {
    feed(bytes) {
      let text = (heldCr ? '\r' : '') + decoder.decode(bytes, { stream: true });
      heldCr = text.endsWith('\r');
      if (heldCr) text = text.slice(0, -1);
      if (text !== '') parser.feed(text);
    },
    end() {
      // "\r\n" is one line break, the one the held "\r" was: the parser need not wait for more.
      if (heldCr) parser.feed('\r\n');
      heldCr = false;
    },
  };
}
