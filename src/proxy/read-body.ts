/**
 * Reading a request body without trusting it: an over-limit body is refused before it is read
 * whole (at once from Content-Length, else as soon as a chunked body passes the limit), and the
 * bytes must be valid UTF-8, as the Anthropic API requires.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from './api-error.js';

/**
 * The Anthropic API's own limit for a Messages request (32 MB), so nothing it takes is refused.
 * Also the bound on what a hostile body costs to parse: 63 MB of `[],` took JSON.parse 9 s and
 * 1.3 GB; half that at this limit.
 */
export const BODY_LIMIT = 32 * 1024 * 1024;

export function bodyTooLarge(limit: number): ApiError {
  return new ApiError(413, 'request_too_large', `request body over the ${formatLimit(limit)} limit of anyclaude`);
}

export function readBody(req: IncomingMessage, limit = BODY_LIMIT): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(refuse(req, limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      reject(refuse(req, limit));
    };
    const onEnd = (): void => {
      stop();
      try {
        resolve(decodeUtf8(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    };
    // The client hung up or was cut off (slow body): nobody is left to answer, and it is no proxy fault to log.
    const onError = (error: Error & { code?: string }): void => {
      stop();
      reject(badRequest(`request body not received: the client closed the connection (${error.code ?? error.message})`));
    };
    // Events, not `for await`: leaving that loop early destroys the socket before the 413 is written.
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The 413 goes out at once; the rest of the refused body is read and thrown away (never held),
 * so the client finishes sending, reads the answer, and its kept-alive connection carries the
 * next request cleanly. Closing instead would reset a client still uploading (EPIPE before it
 * sees the 413), and a connection left with unread body bytes would hang the request after next.
 * A client that is still sending after DRAIN_MS is cut off.
 */
function refuse(req: IncomingMessage, limit: number): ApiError {
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
  timer.unref();
  const done = (): void => clearTimeout(timer);
  req.on('data', () => undefined);
  req.on('error', done);
  req.once('end', done);
  socket.once('close', done);
  return bodyTooLarge(limit);
}

const DRAIN_MS = 5_000;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Buffer): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw badRequest(`request body is not valid UTF-8 (first bad byte at offset ${firstBadByte(bytes)})`);
  }
}

/** Offset of the first byte that does not begin or continue a well-formed UTF-8 sequence. */
export function firstBadByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}

/** Length of the well-formed sequence at `i` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF), 0 if none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const first = b[i]!;
  if (first < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (first >= 0xc2 && first <= 0xdf) length = 2;
  else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    if (first === 0xe0) low = 0xa0;
    if (first === 0xed) high = 0x9f;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    if (first === 0xf0) low = 0x90;
    if (first === 0xf4) high = 0x8f;
  } else return 0;
  for (let k = 1; k < length; k++) {
    const byte = b[i + k];
    if (byte === undefined) return 0;
    const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
    if (byte < min || byte > max) return 0;
  }
  return length;
}

function formatLimit(limit: number): string {
  return limit % (1024 * 1024) === 0 ? `${limit / 1024 / 1024} MiB` : `${limit} bytes`;
}
