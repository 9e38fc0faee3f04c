/** A client that hangs up is noticed whenever it happens, also before the exchange starts listening for it. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { abortOnHangUp, ExchangeClock } from '../../src/proxy/exchange.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';

function clockFor(req: IncomingMessage, res: ServerResponse): ExchangeClock {
  return new ExchangeClock({
    id: 'x',
    req,
    res,
    rawBody: '',
    request: { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] },
    upstream: { name: 'u', url: 'http://127.0.0.1:9', protocol: 'openai', flavor: 'openai', model: 'm', contextWindow: undefined, profile: UPSTREAM_PROFILES.openai },
    sessionId: undefined,
    startedAt: Date.now(),
  });
}

/** Serves one request with `handle`, whose client hangs up `hangUpAfterMs` after sending it. */
async function withClientThatLeaves(handle: (req: IncomingMessage, res: ServerResponse) => Promise<AbortSignal>): Promise<{ signal: AbortSignal; clock: ExchangeClock }> {
  let result: Promise<{ signal: AbortSignal; clock: ExchangeClock }> | undefined;
  const server = createServer((req, res) => {
    result = (async () => {
      const clock = clockFor(req, res);
      const signal = await handle(req, res);
      return { signal, clock };
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const controller = new AbortController();
  const pending = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: controller.signal }).catch(() => undefined);
  while (result === undefined) await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await pending;
  const out = await result;
  server.close();
  return out;
}

describe('abortOnHangUp', () => {
  it('aborts when the client leaves while the exchange is under way', async () => {
    const { signal } = await withClientThatLeaves(async (_req, res) => {
      const controller = abortOnHangUp(res, clockFor(_req, res));
      await once(res, 'close');
      return controller.signal;
    });
    expect(signal.aborted).toBe(true);
  });

  it('aborts at once when the client had already left before it was called', async () => {
    let clock: ExchangeClock | undefined;
    const { signal } = await withClientThatLeaves(async (req, res) => {
      await once(res, 'close');
      clock = clockFor(req, res);
      return abortOnHangUp(res, clock).signal;
    });
    expect(signal.aborted).toBe(true);
    expect(clock?.clientAborted).toBe(true);
  });
});
