/**
 * Fuzzing the SSE paths: how the proxy reads the upstream (src/proxy/upstream-sse-reader.ts:
 * eventsource-parser fed through a streaming TextDecoder, as `pump` in openai-exchange.ts uses it), how it writes to the
 * client (src/proxy/sse-writer.ts), and how the tests read that back (test/support/sse.ts).
 * Network reads cut a stream anywhere: inside a UTF-8 sequence, between `\r` and `\n`, mid-field.
 */
import type { ServerResponse } from 'node:http';
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/anthropic/types.js';
import { SseWriter, sseFrame } from '../../src/proxy/sse-writer.js';
import { parseSseFull, readText, type SseFrame } from '../support/sse.js';
import { cutPoints, fuzzName, fuzzText, splitBytes } from '../support/arbitraries.js';
import { checkAsyncProperty, checkProperty, FUZZ_TIMEOUT_MS } from './fuzz-run.js';
import { createUpstreamSseReader } from '../../src/proxy/upstream-sse-reader.js';

const FILE = 'test/fuzz/sse.fuzz.test.ts';
const utf8 = new TextEncoder();

/** eventsource-parser alone, each network read decoded with `stream: true`: what the proxy's reader adds to it is tested against this. */
function pumpData(reads: readonly Uint8Array[]): string[] {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  const decoder = new TextDecoder();
  for (const bytes of reads) parser.feed(decoder.decode(bytes, { stream: true }));
  return data;
}

/** The proxy's upstream reader (src/proxy/upstream-sse-reader.ts, what `pump` uses), read to the end. */
function readerData(reads: readonly Uint8Array[]): string[] {
  const data: string[] = [];
  const reader = createUpstreamSseReader((d) => data.push(d));
  for (const bytes of reads) reader.feed(bytes);
  reader.end();
  return data;
}

/** Everything eventsource-parser reports, for comparing a cut stream with the whole one. */
function parseAll(reads: readonly Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  const parser = createParser({
    onEvent: (e) => out.push(['event', e.event, e.id, e.data]),
    onComment: (c) => out.push(['comment', c]),
    onRetry: (r) => out.push(['retry', r]),
    onError: (e) => out.push(['error', e.type, e.field, e.value]),
  });
  const decoder = new TextDecoder();
  for (const bytes of reads) parser.feed(decoder.decode(bytes, { stream: true }));
  return out;
}

// --- an SSE stream as an upstream writes it ------------------------------------------------------

const LINE_ENDS = ['\n', '\r\n', '\r'] as const;
type LineEnd = (typeof LINE_ENDS)[number];

/** A field value: any text but a line break (which would end the line). */
const value = fuzzText({ maxLength: 10, surrogates: false }).map((s) => s.replace(/[\r\n]/g, '_'));

interface EventSpec {
  comments: string[];
  event: string | undefined;
  id: string | undefined;
  data: string[];
  /** `data:value` instead of `data: value` (the parser strips one space after the colon). */
  tight: boolean;
  ends: LineEnd[];
}

const eventSpec: fc.Arbitrary<EventSpec> = fc.record({
  comments: fc.array(fc.oneof(value, fc.constantFrom(' ping', ' keepalive 1/2', '')), { maxLength: 2 }),
  event: fc.option(fc.constantFrom('message', 'ping', 'content_block_delta', 'ünïcode', 'error'), { nil: undefined }),
  id: fc.option(value.map((s) => s.replace(/\0/g, '')), { nil: undefined }),
  data: fc.array(fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: fc.constantFrom('[DONE]', '{"choices":[]}', '') }), {
    minLength: 1,
    maxLength: 3,
  }),
  tight: fc.boolean(),
  ends: fc.array(fc.constantFrom(...LINE_ENDS), { minLength: 8, maxLength: 8 }),
});

/** The text of one event, its lines ended as `spec.ends` says, and a blank line after it. */
function writeEvent(spec: EventSpec): string {
  const lines = [
    ...spec.comments.map((c) => `:${c}`),
    ...(spec.event === undefined ? [] : [`event: ${spec.event}`]),
    ...(spec.id === undefined ? [] : [`id: ${spec.id}`]),
    ...spec.data.map((d) => (spec.tight && !d.startsWith(' ') ? `data:${d}` : `data: ${d}`)),
    '',
  ];
  let out = '';
  lines.forEach((line, i) => {
    let end: LineEnd = spec.ends[i % spec.ends.length] ?? '\n';
    // A blank line ended by "\n" right after a line ended by "\r" would read as one "\r\n".
    if (line === '' && out.endsWith('\r') && end === '\n') end = '\r';
    out += line + end;
  });
  return out;
}

const streamArb = fc.record({ events: fc.array(eventSpec, { maxLength: 5 }), cuts: cutPoints(8), unterminated: fc.boolean() });

/** Upstreams end lines with "\n" or "\r\n"; "\r" alone is legal SSE but no server here uses it. */
const withoutBareCr = (spec: EventSpec): EventSpec => ({ ...spec, ends: spec.ends.map((e) => (e === '\r' ? '\r\n' : e)) });

function streamBytes(events: readonly EventSpec[], unterminated: boolean): Uint8Array {
  // A stream may also end mid-event: that event is not dispatched.
  return utf8.encode(events.map(writeEvent).join('') + (unterminated ? 'data: cut off' : ''));
}

// --- what the proxy writes -----------------------------------------------------------------------

const textArb = fuzzText({ maxLength: 16 });
const streamEventArb: fc.Arbitrary<StreamEvent> = fc.oneof(
  fc.record({ id: fuzzName(), model: textArb, input: fc.nat(1_000_000) }).map(({ id, model, input }) => ({
    type: 'message_start' as const,
    message: {
      id,
      type: 'message' as const,
      role: 'assistant' as const,
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  })),
  fc.record({ index: fc.nat(50), id: fuzzName(), name: fuzzName() }).map(({ index, id, name }) => ({
    type: 'content_block_start' as const,
    index,
    content_block: { type: 'tool_use' as const, id, name, input: {} },
  })),
  fc.record({ index: fc.nat(50), text: textArb }).map(({ index, text }) => ({ type: 'content_block_delta' as const, index, delta: { type: 'text_delta' as const, text } })),
  fc.record({ index: fc.nat(50), text: textArb }).map(({ index, text }) => ({ type: 'content_block_delta' as const, index, delta: { type: 'thinking_delta' as const, thinking: text } })),
  fc.record({ index: fc.nat(50), text: textArb }).map(({ index, text }) => ({ type: 'content_block_delta' as const, index, delta: { type: 'input_json_delta' as const, partial_json: text } })),
  fc.nat(50).map((index) => ({ type: 'content_block_stop' as const, index })),
  fc.nat(100_000).map((out) => ({ type: 'message_delta' as const, delta: { stop_reason: 'end_turn' as const, stop_sequence: null }, usage: { output_tokens: out } })),
  fc.constant({ type: 'message_stop' as const }),
  fc.constant({ type: 'ping' as const }),
  textArb.map((message) => ({ type: 'error' as const, error: { type: 'overloaded_error' as const, message } })),
);

/** A ServerResponse stand-in that keeps what is written and never applies backpressure. */
function recordingResponse(): { res: ServerResponse; written: string[] } {
  const written: string[] = [];
  const res = {
    destroyed: false,
    writableEnded: false,
    writeHead: () => res,
    flushHeaders: () => undefined,
    write: (text: string) => {
      written.push(text);
      return true;
    },
    end: () => {
      res.writableEnded = true;
    },
    on: () => res,
    off: () => res,
  };
  return { res: res as unknown as ServerResponse, written };
}

async function* chunksOf(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

// --- properties ------------------------------------------------------------------------------------

describe('fuzz: SSE parsing and writing', () => {
  it(
    'an upstream stream ("\\n" or "\\r\\n" line ends) cut into arbitrary reads yields exactly its events, read as the proxy reads it',
    () => {
      checkProperty(FILE, 'an upstream stream cut into arbitrary reads', fc.property(streamArb, ({ events: specs, cuts, unterminated }) => {
        const events = specs.map(withoutBareCr);
        const bytes = streamBytes(events, unterminated);
        const expected = events.map((e) => e.data.join('\n'));
        expect(pumpData([bytes])).toEqual(expected);
        expect(pumpData(splitBytes(bytes, cuts))).toEqual(expected);
        expect(readerData(splitBytes(bytes, cuts))).toEqual(expected);
        expect(parseAll(splitBytes(bytes, cuts))).toEqual(parseAll([bytes]));
        // The test-side parser agrees, names and comments included.
        const parsed = parseSseFull(new TextDecoder().decode(bytes));
        expect(parsed.events).toEqual(events.map((e) => ({ data: e.data.join('\n'), ...(e.event === undefined ? {} : { event: e.event }) })));
        // eventsource-parser drops the space after ':', and test/support/sse.ts drops one more.
        expect(parsed.comments).toEqual(events.flatMap((e) => e.comments.map((c) => c.replace(/^ /, '').replace(/^ /, ''))));
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'the proxy\'s reader gives every stream, "\\r" line ends included, exactly its events however it is cut',
    () => {
      checkProperty(FILE, 'the proxy reader gives every stream', fc.property(streamArb, ({ events, cuts, unterminated }) => {
        const bytes = streamBytes(events, unterminated);
        const expected = events.map((e) => e.data.join('\n'));
        expect(readerData([bytes])).toEqual(expected);
        expect(readerData(splitBytes(bytes, cuts))).toEqual(expected);
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it('why the proxy\'s reader holds a trailing "\\r" back: eventsource-parser waits on it (remove the hold when this fails)', () => {
    const bytes = utf8.encode('data: 1\r\rdata: {"a"');
    const cut = bytes.indexOf(0x64, 1); // the second "d": the read ends right after the blank line's "\r"
    expect(pumpData([bytes])).toEqual(['1']);
    expect(pumpData([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([]);
    expect(readerData([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['1']);
  });

  it(
    'garbage bytes never throw out of the reader, and how they are cut changes nothing',
    () => {
      const piece = fc.oneof(
        fc.uint8Array({ maxLength: 12 }),
        fc.constantFrom('data:', 'data: ', 'event:', 'id:', 'retry:', 'retry: 1000', ':', '\r', '\n', '\r\n', ' ', '[DONE]', 'é', '😀', '\u0000').map((s) => utf8.encode(s)),
        fc.constantFrom([0xc3], [0xf0, 0x9f], [0xed, 0xa0, 0x80], [0xff], [0xef, 0xbb, 0xbf]).map((b) => Uint8Array.from(b)),
      );
      const arb = fc.record({ pieces: fc.array(piece, { maxLength: 24 }), cuts: cutPoints(8) });
      checkProperty(FILE, 'garbage bytes never throw', fc.property(arb, ({ pieces, cuts }) => {
        const bytes = Uint8Array.from(pieces.flatMap((p) => [...p]));
        const reads = splitBytes(bytes, cuts);
        // Never throws, whatever arrives.
        expect(() => pumpData(reads)).not.toThrow();
        expect(() => readerData(reads)).not.toThrow();
        expect(() => parseAll(reads)).not.toThrow();
        expect(() => parseSseFull(new TextDecoder().decode(bytes))).not.toThrow();
        // The proxy's reader: the cut changes nothing, even for garbage.
        expect(readerData(reads)).toEqual(readerData([bytes]));
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'what SseWriter writes reads back as the same events, however the client receives it',
    async () => {
      const arb = fc.record({ events: fc.array(streamEventArb, { maxLength: 8 }), pings: fc.array(fc.nat(8), { maxLength: 2 }), cuts: cutPoints(8) });
      // The writer is async (backpressure), so this property runs as an async one, at the same size.
      await checkAsyncProperty(FILE, 'what SseWriter writes reads back', fc.asyncProperty(arb, async ({ events, pings, cuts }) => {
        const { res, written } = recordingResponse();
        const writer = new SseWriter(res, { pingIntervalMs: 60_000, record: true });
        const expected: StreamEvent[] = [];
        for (const [i, event] of events.entries()) {
          if (pings.includes(i)) {
            await writer.writeRaw(sseFrame({ type: 'ping' }));
            expected.push({ type: 'ping' });
          }
          await writer.write([event]);
          expected.push(event);
        }
        writer.end();
        const text = written.join('');
        expect(writer.written).toBe(text);
        const bytes = Buffer.from(text, 'utf8');
        const received = await readText(chunksOf(splitBytes(bytes, cuts)));
        expect(received.text).toBe(text);
        const frames: SseFrame[] = parseSseFull(received.text).events;
        expect(frames.map((f) => f.event)).toEqual(expected.map((e) => e.type));
        // Byte-exact: lone surrogates and U+2028 included, every event parses back to itself.
        frames.forEach((f, i) => expect(JSON.parse(f.data)).toEqual(expected[i]));
        // And the proxy's own reader sees the same data.
        expect(readerData(splitBytes(bytes, cuts))).toEqual(frames.map((f) => f.data));
      }));
    },
    FUZZ_TIMEOUT_MS,
  );
});

