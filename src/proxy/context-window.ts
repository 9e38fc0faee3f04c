/**
 * `--context-strategy window`: a prompt too long for the model's real window loses its oldest
 * turns instead of being refused. Opt-in, because the default (Claude Code compacts in time, and
 * the proxy's "prompt is too long" makes it compact when it did not) keeps what was said as a
 * summary, while this forgets it.
 *
 * What is kept: the system prompt and tools (they are not messages), the first user message
 * (Claude Code puts CLAUDE.md and its reminders there) when it fits, a one-line note saying what
 * was dropped, and the most recent turns. A cut only falls before a user message that starts a
 * turn, never before a `tool_result`, so no `tool_use` is separated from its result.
 *
 * The cut is sticky per session and leaves room to grow: the backend's cached prefix survives
 * turn after turn until the window fills again, rather than shifting (and recomputing) on every
 * request.
 */
import type { ContentBlock, MessageParam, MessagesRequest } from '../anthropic/types.js';
import type { TokenCounter } from './token-counter.js';
import { TEMPLATE_MARGIN } from './exchange.js';
import { earlierMessages } from '../core/context-strategy.js';


export interface Trimmed {
  /** Messages of the original request that were left out. */
  messages: number;
  /** Estimated prompt tokens they took. */
  tokens: number;
}

export interface FitResult {
  request: MessagesRequest;
  trimmed: Trimmed | undefined;
  /** True when this cut differs from the session's previous one (worth a log line). */
  newCut: boolean;
}

export interface FitInput {
  request: MessagesRequest;
  sessionId: string | undefined;
  model: string;
  contextWindow: number;
  /** The prompt as the estimator sees it (the same segments the exchange estimates). */
  segmentsOf: (request: MessagesRequest) => readonly string[];
}

/** Room left for the reply: the request's max_tokens, at most a tenth of the window (1K at least). */
const OUTPUT_SHARE = 0.1;
const MIN_OUTPUT = 1024;
/** After a new cut the prompt fills at most this share of the budget, so the next turns fit behind it. */
const REFILL_SHARE = 0.6;
const SESSION_LIMIT = 64;

interface Cut {
  /** Index in the original messages of the first kept turn. */
  at: number;
  /** That message's JSON: the cut is reused only while the conversation still holds it there. */
  anchor: string;
  pinned: boolean;
}

export class ContextWindowTrimmer {
  readonly #counter: TokenCounter;
  readonly #cuts = new Map<string, Cut>();

  constructor(counter: TokenCounter) {
    this.#counter = counter;
  }

  async fit(input: FitInput): Promise<FitResult> {
    const { request, contextWindow } = input;
    const budget = contextWindow - TEMPLATE_MARGIN - Math.min(request.max_tokens, Math.max(MIN_OUTPUT, Math.round(contextWindow * OUTPUT_SHARE)));
    const whole = await this.#estimate(input, request);
    if (whole <= budget) return { request, trimmed: undefined, newCut: false };

    const full = await this.#exact(input, request);
    const key = input.sessionId ?? '';
    const previous = this.#cuts.get(key);
    if (previous !== undefined && JSON.stringify(request.messages[previous.at]) === previous.anchor) {
      const again = build(request, previous.at, previous.pinned);
      const tokens = await this.#exact(input, again);
      if (tokens <= budget) return { request: again, trimmed: { messages: dropped(previous), tokens: Math.max(0, full - tokens) }, newCut: false };
    }

    const cut = await this.#chooseCut(input, budget);
    if (cut === undefined) return { request, trimmed: undefined, newCut: false };
    this.#remember(key, cut.cut);
    return { request: cut.request, trimmed: { messages: dropped(cut.cut), tokens: Math.max(0, full - cut.tokens) }, newCut: true };
  }

  /**
   * The earliest cut that refills to REFILL_SHARE of the budget, else the earliest that fits at
   * all; first keeping the first message (Claude Code's CLAUDE.md and reminders), then without it.
   */
  async #chooseCut(input: FitInput, budget: number): Promise<{ cut: Cut; request: MessagesRequest; tokens: number } | undefined> {
    const { request } = input;
    const starts = turnStarts(request.messages);
    for (const pinned of [true, false]) {
      let fallback: { cut: Cut; request: MessagesRequest; tokens: number } | undefined;
      for (const at of starts) {
        if (pinned && at <= 1) continue;
        const candidate = build(request, at, pinned);
        const tokens = await this.#exact(input, candidate);
        if (tokens > budget) continue;
        const found = { cut: { at, anchor: JSON.stringify(request.messages[at]), pinned }, request: candidate, tokens };
        if (tokens <= budget * REFILL_SHARE) return found;
        fallback ??= found;
      }
      if (fallback !== undefined) return fallback;
    }
    return undefined;
  }

  /** What the exchange will decide by: cheap far from the window, exact near it. */
  async #estimate(input: FitInput, request: MessagesRequest): Promise<number> {
    return (await this.#counter.estimate(input.model, input.segmentsOf(request), input.contextWindow)).tokens;
  }

  /** A cut must hold whatever the backend counts: always the exact estimator (memoised per segment, so cheap). */
  async #exact(input: FitInput, request: MessagesRequest): Promise<number> {
    return (await this.#counter.exact(input.model, input.segmentsOf(request))).tokens;
  }

  #remember(key: string, cut: Cut): void {
    this.#cuts.delete(key);
    this.#cuts.set(key, cut);
    if (this.#cuts.size > SESSION_LIMIT) this.#cuts.delete(this.#cuts.keys().next().value as string);
  }
}

/** Indices (after the first message) of user messages that start a turn: not answers to tool calls. */
export function turnStarts(messages: readonly MessageParam[]): number[] {
  const starts: number[] = [];
  for (let i = 1; i < messages.length; i++) {
    const message = messages[i];
    if (message?.role === 'user' && !answersToolCalls(message)) starts.push(i);
  }
  return starts;
}

function answersToolCalls(message: MessageParam): boolean {
  return typeof message.content !== 'string' && message.content.some((block: ContentBlock) => block.type === 'tool_result');
}

/** The request from `at` on, after the first message and a note when `pinned`. */
function build(request: MessagesRequest, at: number, pinned: boolean): MessagesRequest {
  const [first] = request.messages;
  const kept = request.messages.slice(at);
  if (!pinned || first === undefined) return { ...request, messages: kept };
  const note: MessageParam = {
    role: 'assistant',
    content: `[anyclaude: ${earlierMessages(at - 1)} ${at - 1 === 1 ? 'was' : 'were'} left out here to fit the model's context window.]`,
  };
  return { ...request, messages: [first, note, ...kept] };
}

function dropped(cut: Cut): number {
  return cut.pinned ? cut.at - 1 : cut.at;
}
