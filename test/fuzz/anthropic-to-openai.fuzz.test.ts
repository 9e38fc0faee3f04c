/**
 * Fuzzing Anthropic → OpenAI request translation with requests the proxy's schema accepts,
 * for every upstream profile: it fails only with an ApiError, produces a well-formed chat request
 * whose bytes are deterministic, and never changes the bytes of earlier turns when a turn is added
 * (the KV-cache property the product stands on).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContentBlock, MessageParam, MessagesRequest } from '../../src/anthropic/types.js';
import type { ChatCompletionRequest, ChatMessage } from '../../src/openai/types.js';
import { parseMessagesRequest } from '../../src/anthropic/request-schema.js';
import { anthropicToOpenAI, upstreamBody, type TranslatedRequest } from '../../src/translate/anthropic-to-openai.js';
import { UPSTREAM_PROFILES, type UpstreamFlavor, type UpstreamProfile } from '../../src/translate/upstream-profile.js';
import { ApiError } from '../../src/proxy/api-error.js';
import { buildRequest, conversationSteps, fuzzText, requestOptionsArb, stepsToMessages } from '../support/arbitraries.js';
import { checkProperty, FUZZ_TIMEOUT_MS } from './fuzz-run.js';

const FILE = 'test/fuzz/anthropic-to-openai.fuzz.test.ts';
const FLAVORS = Object.keys(UPSTREAM_PROFILES) as UpstreamFlavor[];
const MAX_TOKENS = 4096;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What the proxy does with a body: JSON over the wire, then the schema. The arbitrary must only make accepted requests. */
function accepted(request: MessagesRequest): MessagesRequest {
  const parsed = parseMessagesRequest(JSON.parse(JSON.stringify(request)));
  if (!parsed.ok) throw new Error(`arbitrary made a request the schema rejects (${parsed.error}): fix test/support/arbitraries.ts`);
  return parsed.value;
}

/** The translation, or undefined when it refused with the project's ApiError; anything else thrown fails. */
function translate(request: MessagesRequest, profile: UpstreamProfile): TranslatedRequest | undefined {
  try {
    return anthropicToOpenAI(request, { model: 'local-model', profile });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // A refusal is the client's fault and says what is wrong.
    expect(error.status).toBe(400);
    expect(error.message).not.toBe('');
    return undefined;
  }
}

/** Throws unless `messages` is a chat a strict OpenAI server takes: roles, content types, tool pairing. */
function assertChatMessages(messages: readonly ChatMessage[]): void {
  let callIds: Set<string> | undefined;
  messages.forEach((m, i) => {
    const where = `messages[${i}] (${m.role})`;
    switch (m.role) {
      case 'system':
        expect(typeof m.content, where).toBe('string');
        break;
      case 'user':
        if (typeof m.content !== 'string') {
          expect(m.content.length, `${where}: empty parts array`).toBeGreaterThan(0);
          for (const part of m.content) {
            if (part.type === 'text') expect(typeof part.text, where).toBe('string');
            else expect(typeof part.image_url.url, where).toBe('string');
          }
        }
        break;
      case 'assistant':
        if (m.content === null) expect(m.tool_calls?.length, `${where}: null content needs tool calls`).toBeGreaterThan(0);
        else expect(typeof m.content, where).toBe('string');
        if (m.tool_calls !== undefined) {
          expect(m.tool_calls.length, `${where}: empty tool_calls`).toBeGreaterThan(0);
          for (const call of m.tool_calls) {
            expect(call.type).toBe('function');
            expect(typeof call.id).toBe('string');
            expect(typeof call.function.name).toBe('string');
            expect(() => JSON.parse(call.function.arguments), `${where}: arguments are not JSON`).not.toThrow();
          }
        }
        break;
      case 'tool':
        // A tool message belongs to the run of tool messages right after the assistant that called it.
        expect(callIds?.has(m.tool_call_id), `${where}: tool_call_id ${JSON.stringify(m.tool_call_id)} answers no call of the assistant message before it`).toBe(true);
        expect(typeof m.content, where).toBe('string');
        break;
      default:
        throw new Error(`${where}: unknown role`);
    }
    if (m.role === 'assistant') callIds = new Set(m.tool_calls?.map((c) => c.id) ?? []);
    else if (m.role !== 'tool') callIds = undefined;
  });
}

/** Names and inputs survive: tools, tool_calls and tool_choice carry exactly what the request said. */
function assertNamesPreserved(request: MessagesRequest, chat: Omit<ChatCompletionRequest, 'max_tokens'>): void {
  const functions = (request.tools ?? []).filter((t) => t.input_schema !== undefined);
  expect(chat.tools?.map((t) => t.function.name) ?? []).toEqual(functions.map((t) => t.name));
  const uses = request.messages.flatMap((m) =>
    m.role === 'assistant' && typeof m.content !== 'string' ? m.content.filter((b) => b.type === 'tool_use') : [],
  );
  const calls = chat.messages.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []) : []));
  expect(calls.map((c) => [c.id, c.function.name])).toEqual(uses.map((u) => [u.id, u.name]));
  calls.forEach((call, i) => {
    const input = uses[i]?.input ?? {};
    const args: unknown = JSON.parse(call.function.arguments);
    expect(args).toEqual(input);
    // An object input stays an object. (The schema also lets a string or number input through today and it is
    // forwarded as that JSON value; rejecting it is the schema's job, see the fuzzing report.)
    if (isObject(input)) expect(isObject(args), `arguments ${call.function.arguments} is no JSON object`).toBe(true);
  });
  // Every call the request answered right after it is answered, once, by a tool message in the chat.
  const answered = request.messages.flatMap((m) =>
    m.role === 'user' && typeof m.content !== 'string' ? m.content.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id) : [],
  );
  expect(chat.messages.flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : []))).toEqual(answered);
  const choice = chat.tool_choice;
  if (typeof choice === 'object' && request.tool_choice?.type === 'tool') expect(choice.function.name).toBe(request.tool_choice.name);
}

/** Two profiles per case keeps 10,000 cases quick; every profile gets thousands. */
const flavorsArb = fc.shuffledSubarray(FLAVORS, { minLength: 1, maxLength: 2 });

const requestArb = fc
  .tuple(requestOptionsArb, conversationSteps(5))
  .map(([options, steps]) => buildRequest(options, stepsToMessages(steps)));

describe('fuzz: Anthropic → OpenAI request translation', () => {
  it(
    'every accepted request: only ApiError, a valid chat request, deterministic bytes, a body that round-trips',
    () => {
      checkProperty(FILE, 'every accepted request', fc.property(requestArb, flavorsArb, (generated, flavors) => {
        const request = accepted(generated);
        const before = JSON.stringify(request);
        for (const flavor of flavors) {
          const profile = UPSTREAM_PROFILES[flavor];
          const translated = translate(request, profile);
          if (translated === undefined) continue;
          const { request: chat } = translated;
          assertChatMessages(chat.messages);
          assertNamesPreserved(request, chat);
          const body = upstreamBody(translated, MAX_TOKENS);
          // The body is the request, byte-faithfully: JSON that parses back to it, and valid UTF-16 (no lone surrogate reaches the wire).
          const { messages, tools, ...rest } = chat;
          const expected = JSON.stringify({ messages, ...(tools === undefined ? {} : { tools }), max_tokens: MAX_TOKENS, ...rest });
          expect(JSON.stringify(JSON.parse(body)) === expected, 'the body does not parse back to the request').toBe(true);
          expect(LONE_SURROGATE.test(body), 'the body holds a lone surrogate').toBe(false);
          expect(body).not.toContain('cache_control');
          expect(body).not.toContain('x-anthropic-billing-header');
          // Deterministic: a fresh copy of the same request gives the same bytes.
          const again = translate(JSON.parse(before) as MessagesRequest, profile);
          expect((again && upstreamBody(again, MAX_TOKENS)) === body, 'a second translation gave other bytes').toBe(true);
        }
        // Translation never writes into the request it was given.
        expect(JSON.stringify(request)).toBe(before);
      }));
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'appending turns never changes the bytes earlier turns translated to, however Claude Code re-dresses them',
    () => {
      checkProperty(FILE, 'appending turns', fc.property(prefixCaseArb, ({ options, later, base, more, dress, billing, flavor }) => {
        const profile = UPSTREAM_PROFILES[flavor];
        const history = stepsToMessages(base);
        const longer = stepsToMessages([...base, ...more]);
        const turn1 = accepted(buildRequest(options, history));
        const redressed = longer.map((m, i) => (i < history.length ? redress(m, dress[i % dress.length] ?? 0) : m));
        // Sampling, tool_choice, thinking and max_tokens may change between turns; the system prompt and tools do not.
        const turn2 = accepted(
          buildRequest({ ...later, system: rebill(options['system'], billing), tools: options['tools'] }, markNewest(redressed), 2048),
        );
        const t1 = translate(turn1, profile);
        const t2 = translate(turn2, profile);
        if (t1 === undefined || t2 === undefined) return;
        const [tools1, ...messages1] = t1.segments;
        const [tools2, ...messages2] = t2.segments;
        expect(tools2).toBe(tools1);
        expect(messages2.slice(0, messages1.length)).toEqual(messages1);
        // On the wire: turn 2's body starts with turn 1's body up to the end of turn 1's last message.
        const cut = `{"messages":[${messages1.join(',')}`.length;
        const body1 = upstreamBody(t1, MAX_TOKENS);
        const body2 = upstreamBody(t2, MAX_TOKENS);
        expect(body2.slice(0, cut)).toBe(body1.slice(0, cut));
      }));
    },
    FUZZ_TIMEOUT_MS,
  );
});

// --- how Claude Code re-sends an unchanged history ---------------------------------------------------

const prefixCaseArb = fc.record({
  options: requestOptionsArb,
  later: requestOptionsArb,
  base: conversationSteps(4),
  more: conversationSteps(3),
  /** Per message, a bit set of re-dressings (see redress). */
  dress: fc.array(fc.nat(15), { minLength: 1, maxLength: 6 }),
  billing: fuzzText({ maxLength: 6, surrogates: false }),
  flavor: fc.constantFrom(...FLAVORS),
});

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRecordBlock = (b: unknown): b is Record<string, unknown> => typeof b === 'object' && b !== null;

function withoutCacheControl(block: ContentBlock): ContentBlock {
  const { cache_control: _dropped, ...rest } = block as ContentBlock & { cache_control?: unknown };
  if (rest.type === 'tool_result' && Array.isArray(rest.content)) {
    return { ...rest, content: rest.content.map((b) => withoutCacheControl(b) as typeof b) };
  }
  return rest as ContentBlock;
}

/**
 * The same message as Claude Code sends it again on a later turn. Bits: 1 drops every
 * cache_control, 2 flips a plain string and a one-text-block array, 4 drops thinking blocks
 * from an assistant turn, 8 adds one (history thinking is not replayed to the model).
 */
function redress(message: MessageParam, bits: number): MessageParam {
  let content = message.content;
  if (bits & 1 && typeof content !== 'string') content = content.map(withoutCacheControl);
  if (bits & 2) {
    if (typeof content === 'string') content = [{ type: 'text', text: content }];
    else if (content.length === 1 && content[0]?.type === 'text') content = content[0].text;
  }
  if (message.role === 'assistant' && typeof content !== 'string') {
    if (bits & 4) content = content.filter((b) => b.type !== 'thinking' && b.type !== 'redacted_thinking');
    if (bits & 8) content = [{ type: 'thinking', thinking: 'again', signature: 'sig' }, ...content];
  }
  return { ...message, content };
}

/** Claude Code marks the newest block for caching. */
function markNewest(messages: MessageParam[]): MessageParam[] {
  const last = messages.at(-1);
  if (last === undefined || typeof last.content === 'string' || last.content.length === 0) return messages;
  const blocks = [...last.content];
  const newest = blocks.at(-1);
  if (isRecordBlock(newest)) blocks[blocks.length - 1] = { ...newest, cache_control: { type: 'ephemeral' } } as ContentBlock;
  return [...messages.slice(0, -1), { ...last, content: blocks }];
}

/** The billing block's suffix changes on every request. */
function rebill(system: unknown, suffix: string): unknown {
  if (!Array.isArray(system)) return system;
  const [first, ...rest] = system as Array<{ type: 'text'; text: string }>;
  if (first === undefined || !first.text.startsWith('x-anthropic-billing-header:')) return system;
  return [{ ...first, text: `x-anthropic-billing-header: cc_version=2.1.198; cch=${suffix};` }, ...rest];
}
