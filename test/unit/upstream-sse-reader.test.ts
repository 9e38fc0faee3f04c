/** The proxy's upstream SSE reader: its two guards on top of eventsource-parser (the cut-independence is fuzzed in test/fuzz/sse.fuzz.test.ts). */
import { describe, expect, it } from 'vitest';
import { createUpstreamSseReader } from '../../src/proxy/upstream-sse-reader.js';
import { ApiError } from '../../src/proxy/api-error.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('createUpstreamSseReader', () => {
  it('gives an event whose blank line ends a read with a bare "\\r" at once, and the last one at the end', () => {
    const data: string[] = [];
    const reader = createUpstreamSseReader((d) => data.push(d));
    reader.feed(bytes('data: 1\r\r'));
    reader.feed(bytes('data: 2\r'));
    expect(data).toEqual(['1']);
    reader.feed(bytes('\r'));
    reader.end();
    expect(data).toEqual(['1', '2']);
  });

  it('returns each read decoded, a character cut between reads included', () => {
    const reader = createUpstreamSseReader(() => undefined);
    const euro = bytes('data: €\n\n');
    expect(reader.feed(euro.subarray(0, 7))).toBe('data: ');
    expect(reader.feed(euro.subarray(7))).toBe('€\n\n');
  });

  it('refuses a backend that never ends an event, with an overloaded error, instead of buffering without bound', () => {
    const reader = createUpstreamSseReader(() => undefined, { maxPendingChars: 1024 });
    reader.feed(bytes('data: '));
    let thrown: unknown;
    try {
      for (let i = 0; i < 10; i++) reader.feed(bytes('x'.repeat(200)));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(529);
    expect((thrown as ApiError).message).toMatch(/without ending a stream event/);
  });

  it('counts from the last event or comment, so a long stream of small events never trips the limit', () => {
    const data: string[] = [];
    const reader = createUpstreamSseReader((d) => data.push(d), { maxPendingChars: 1024 });
    for (let i = 0; i < 100; i++) reader.feed(bytes(`: keepalive\n\ndata: ${'y'.repeat(100)}\n\n`));
    expect(data).toHaveLength(100);
  });
});
