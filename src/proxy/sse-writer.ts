/**
 * Writes Anthropic SSE to the client: commits headers once, respects backpressure, and
 * sends `ping` while the backend is still prefilling, so a long prompt never looks dead.
 */
import type { ServerResponse } from 'node:http';
import type { StreamEvent } from '../anthropic/types.js';

export function sseFrame(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class SseWriter {
  readonly #res: ServerResponse;
  readonly #pingMs: number;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #pinging = false;
  /** Everything written, for traces; only kept when asked. */
  readonly #record: string[] | undefined;

  constructor(res: ServerResponse, options: { pingIntervalMs: number; record: boolean }) {
    this.#res = res;
    this.#pingMs = options.pingIntervalMs;
    this.#record = options.record ? [] : undefined;
  }

  get started(): boolean {
    return this.#started;
  }

  get written(): string {
    return this.#record?.join('') ?? '';
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Some reverse proxies buffer SSE unless told not to.
      'x-accel-buffering': 'no',
    });
    this.#res.flushHeaders();
  }

  /** Pings every interval of silence until `stopPinging` (first token) or the end. */
  startPinging(): void {
    this.#pinging = true;
    this.#arm();
  }

  stopPinging(): void {
    this.#pinging = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async write(events: readonly StreamEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.writeRaw(events.map(sseFrame).join(''));
  }

  async writeRaw(text: string): Promise<void> {
    this.start();
    if (this.#res.destroyed || this.#res.writableEnded) return;
    this.#record?.push(text);
    this.#arm();
    if (!this.#res.write(text)) await drained(this.#res);
  }

  end(): void {
    this.stopPinging();
    if (!this.#res.writableEnded) this.#res.end();
  }

  #arm(): void {
    if (!this.#pinging) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.writeRaw(sseFrame({ type: 'ping' }));
    }, this.#pingMs);
    this.#timer.unref();
  }
}

/** Resolves on 'drain' or 'close', whichever comes first, and leaves no listener behind. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
