/**
 * Keeps a cache warm-up from competing with real requests for the same backend.
 *
 * A local server prefills concurrent prompts side by side, so a 20K-token warm-up running beside
 * the user's first turn slows that turn down instead of speeding it up. When a real request
 * arrives while a warm-up is in flight:
 *  - if its prompt starts with the warm-up's prefix (same rendered system prompt and tools), it
 *    waits for the warm-up to end, then finds that prefix in the backend's KV cache rather than
 *    computing it a second time beside the first;
 *  - otherwise the warm-up is aborted: its upstream connection closes. mlx_lm.server writes a
 *    keepalive after every prefill step; the second write after the hang-up fails, and the request
 *    is dropped one step later (so a smaller --prefill-step-size stops it sooner). Claude Code
 *    sends its title request a few milliseconds before turn 1, so a request that does not match
 *    waits a short grace for one that does; while a matching request waits on the warm-up, the
 *    warm-up is that request's own prefill, and other requests wait for it too.
 * A warm-up that arrives while a real request already uses the backend is not started at all.
 */
import type { MessagesRequest } from '../anthropic/types.js';
import type { CoreEvents } from '../core/events.js';
import { systemPrompt, translateTools } from '../translate/anthropic-to-openai.js';
import type { Upstream } from '../core/upstream.js';

/** The request header that marks a warm-up (sent by src/cache/warm-prefix.ts). */
export const WARMUP_HEADER = 'x-anyclaude-warmup';
/** Its value on the answer to a warm-up the gate would not start. */
export const WARMUP_SKIPPED = 'skipped';

/** How long a request that does not match waits for one that does before the warm-up is aborted. */
export const DEFAULT_WARMUP_GRACE_MS = 500;

export interface WarmupHandle {
  /** Ends the warm-up's exchange, and with it the upstream request. */
  abort(): void;
  /** Settles when the warm-up's exchange is over, however it ended. */
  ended: Promise<void>;
}

export interface Admission {
  heldMs: number;
  /** Call when the request has ended: until then, no warm-up starts on its backend. */
  release(): void;
}

interface Warmup {
  upstream: string;
  prefix: string;
  startedAt: number;
  handle: WarmupHandle;
  over: boolean;
  /** Real requests holding for it. */
  waiting: number;
  /** Settles when the first matching request starts waiting for it. */
  matched: Promise<void>;
  onMatch: () => void;
}

export class WarmupGate {
  readonly #events: CoreEvents;
  readonly #graceMs: number;
  readonly #warmups = new Set<Warmup>();
  readonly #busy = new Map<string, number>();

  constructor(events: CoreEvents, graceMs: number = DEFAULT_WARMUP_GRACE_MS) {
    this.#events = events;
    this.#graceMs = graceMs;
  }

  /** A warm-up about to be forwarded: undefined to go ahead, or why it is not started. */
  admitWarmup(upstream: string, prefix: string, handle: WarmupHandle): string | undefined {
    if ((this.#busy.get(upstream) ?? 0) > 0) {
      const reason = `a request is already using ${upstream}`;
      this.#events.log('info', 'cache', `did not start the ${upstream} warm-up: ${reason}`);
      return reason;
    }
    let onMatch = (): void => undefined;
    const matched = new Promise<void>((resolve) => (onMatch = resolve));
    const warmup: Warmup = { upstream, prefix, startedAt: Date.now(), handle, over: false, waiting: 0, matched, onMatch };
    this.#warmups.add(warmup);
    void handle.ended.finally(() => {
      warmup.over = true;
      this.#warmups.delete(warmup);
    });
    return undefined;
  }

  /** A real request about to be forwarded: returns once no warm-up on its backend competes with it. */
  async admit(upstream: string, prefixOf: () => string): Promise<Admission> {
    const arrived = Date.now();
    this.#busy.set(upstream, (this.#busy.get(upstream) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#busy.set(upstream, (this.#busy.get(upstream) ?? 1) - 1);
    };
    const inFlight = [...this.#warmups].filter((w) => w.upstream === upstream && !w.over);
    if (inFlight.length === 0) return { heldMs: 0, release };
    const prefix = prefixOf();
    const outcomes = await Promise.all(inFlight.map((w) => this.#settle(w, prefix)));
    const heldMs = Date.now() - arrived;
    const held = outcomes.includes('same prefix') ? 'its prefix' : outcomes.includes('serving another') ? 'a prefix another request waits for' : undefined;
    if (held !== undefined) this.#events.log('info', 'cache', `held a request ${heldMs} ms until the ${upstream} warm-up of ${held} finished`);
    return { heldMs, release };
  }

  /** Waits for the warm-up when it serves this request or one already waiting on it; else aborts it. */
  async #settle(warmup: Warmup, prefix: string): Promise<'same prefix' | 'serving another' | 'not held'> {
    if (warmup.prefix === prefix) {
      warmup.waiting++;
      warmup.onMatch();
      await warmup.handle.ended;
      return 'same prefix';
    }
    if (warmup.waiting === 0) await Promise.race([warmup.matched, warmup.handle.ended, delay(this.#graceMs)]);
    if (warmup.over) return 'not held';
    if (warmup.waiting === 0) {
      this.#abort(warmup);
      return 'not held';
    }
    await warmup.handle.ended;
    return 'serving another';
  }

  #abort(warmup: Warmup): void {
    warmup.over = true;
    this.#warmups.delete(warmup);
    this.#events.log('info', 'cache', `aborted the ${warmup.upstream} warm-up after ${Date.now() - warmup.startedAt} ms: a request with a different prompt needs the backend`);
    warmup.handle.abort();
  }
}

/**
 * What a prompt starts with, as the backend sees it: the system prompt and the tools, rendered the
 * way this upstream's request renders them (cache_control and the billing block never count).
 */
export function promptPrefixKey(request: MessagesRequest, upstream: Upstream): string {
  const system = systemPrompt(request.system) ?? '';
  const tools = upstream.protocol === 'openai' ? (translateTools(request.tools, upstream.profile) ?? []) : (request.tools ?? []).map(({ cache_control: _c, ...tool }) => tool);
  return JSON.stringify([system, tools]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
