/**
 * The requests of the reliability bench and the soak-leak test, and the upstream's answers to
 * them. Every request carries a directive (a nonce and the reply it wants) in its last user
 * message; the upstream answers with text or a tool call built from that nonce only, so a reply
 * is checked byte for byte against its own request and one stream's bytes in another's reply
 * (cross-talk) cannot pass unnoticed.
 *
 * Shapes are Claude Code 2.1.197's own requests (test/fixtures/claude-code-2.1.197): the main
 * loop (~90 KB, 27 tools), a subagent (the SDK turn with five tools and a short system prompt),
 * and the session-title request (no tools).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request, type Dispatcher } from 'undici';
import { createParser } from 'eventsource-parser';
import type { Reply } from '../test/support/scripted-upstream.js';

type Json = Record<string, unknown>;
type Message = { role: string; content: string | Json[] };
export type Body = Json & { messages: Message[]; system?: unknown; tools?: Json[] };

export type Shape = 'main' | 'subagent' | 'title';
/** What the upstream is asked to do. */
export type ReplyKind = 'text' | 'tool' | 'e500' | 'e400' | 'slow';
/** What the client does: the soak's mix of kinds. */
export type Kind = 'stream' | 'json' | 'stream-tool' | 'json-tool' | 'count-tokens' | 'upstream-500' | 'upstream-400' | 'malformed' | 'client-abort';
export const KINDS: readonly Kind[] = ['stream', 'json', 'stream-tool', 'json-tool', 'count-tokens', 'upstream-500', 'upstream-400', 'malformed', 'client-abort'];

const FIXTURES = fileURLToPath(new URL('../test/fixtures/claude-code-2.1.197/', import.meta.url));
const load = (file: string): Body => (JSON.parse(readFileSync(`${FIXTURES}${file}`, 'utf8')) as { body: Body }).body;
const SUBAGENT_TOOLS = new Set(['Bash', 'Read', 'Edit', 'Write', 'WebFetch']);

function subagentOf(body: Body): Body {
  const system = [{ type: 'text', text: 'You are an agent for Claude Code. Given the task, use the tools available to complete it, then report back concisely.' }];
  return { ...body, system, tools: (body.tools ?? []).filter((t) => SUBAGENT_TOOLS.has(String(t.name))) };
}

let shapes: Record<Shape, Body[]> | undefined;
/** The captured requests, loaded once. */
export function shapeBodies(): Record<Shape, Body[]> {
  shapes ??= {
    main: ['interactive/003', 'interactive/004', 'interactive/005', 'interactive/006'].map((f) => load(`${f}-POST-v1_messages.json`)),
    subagent: ['print-tool-turn/002', 'print-tool-turn/003'].map((f) => subagentOf(load(`${f}-POST-v1_messages.json`))),
    title: [load('interactive/002-POST-v1_messages.json')],
  };
  return shapes;
}

export interface Directive {
  nonce: string;
  reply: ReplyKind;
  /** Pieces of text in the reply. */
  n: number;
}

const DIRECTIVE = /⟦reliability nonce=([0-9a-f]+) reply=(\w+) n=(\d+)⟧/g;

export const newNonce = (): string => randomBytes(6).toString('hex');

/** A copy of `body` whose last user message ends with the directive. */
export function withDirective(body: Body, d: Directive, stream: boolean): Body {
  const text = `⟦reliability nonce=${d.nonce} reply=${d.reply} n=${d.n}⟧`;
  const messages = [...body.messages];
  const last = messages.at(-1);
  if (last?.role === 'user') {
    const content = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : last.content;
    messages[messages.length - 1] = { role: 'user', content: [...content, { type: 'text', text }] };
  } else messages.push({ role: 'user', content: [{ type: 'text', text }] });
  return { ...body, messages, stream };
}

/** The last directive in a request body (earlier turns may quote others). */
export function directiveIn(raw: string): Directive | undefined {
  const last = [...raw.matchAll(DIRECTIVE)].at(-1);
  if (last === undefined) return undefined;
  return { nonce: last[1]!, reply: last[2] as ReplyKind, n: Number(last[3]) };
}

/** The reply text for a nonce: nothing in it comes from any other request. */
export const expectedText = (d: Directive): string => Array.from({ length: d.n }, (_, i) => `${d.nonce}.${i} `).join('');
export const expectedToolInput = (d: Directive): Json => ({ command: `echo ${d.nonce}` });

/** The scripted upstream's answer to a chat request (set with `setDefault`). */
export function upstreamReply(raw: string): Reply {
  const d = directiveIn(raw);
  if (d === undefined) return { kind: 'error', status: 400, message: 'no reliability directive in the request' };
  switch (d.reply) {
    case 'text':
      return { kind: 'text', text: expectedText(d) };
    case 'tool':
      return { kind: 'tool', name: 'Bash', arguments: expectedToolInput(d), text: expectedText(d) };
    case 'e500':
      return { kind: 'error', status: 500, message: `scripted failure ${d.nonce}` };
    case 'e400':
      return { kind: 'error', status: 400, message: `scripted refusal ${d.nonce}` };
    case 'slow':
      return { kind: 'stall', ms: 10_000, reply: { kind: 'text', text: expectedText(d) } };
  }
}

export interface Target {
  url: string;
  key: string;
  dispatcher: Dispatcher;
}

export interface Outcome {
  kind: Kind;
  /** The reply was what this kind should get (an exact echo, or the expected error). */
  ok: boolean;
  /** Another request's nonce appeared in this reply. */
  crossTalk: boolean;
  detail: string;
  /** ms to the first text byte (streams), else to the whole reply. */
  ttftMs: number;
  totalMs: number;
}

interface Collected {
  status: number;
  text: string;
  toolInput: string;
  events: string[];
  errorType: string | undefined;
  ttftMs: number;
}

/** A streamed Messages reply, taken apart into its text, tool input and event names. */
async function readStream(body: Dispatcher.ResponseData['body'], started: number, status: number, stopAfterFirstChunk: (() => void) | undefined): Promise<Collected> {
  const out: Collected = { status, text: '', toolInput: '', events: [], errorType: undefined, ttftMs: -1 };
  const parser = createParser({
    onEvent: (e) => {
      out.events.push(e.event ?? 'message');
      const data = JSON.parse(e.data) as Json & { delta?: Json; error?: Json };
      if (data.type === 'content_block_delta' && data.delta?.type === 'text_delta') {
        if (out.ttftMs < 0) out.ttftMs = performance.now() - started;
        out.text += String(data.delta.text);
      }
      if (data.type === 'content_block_delta' && data.delta?.type === 'input_json_delta') out.toolInput += String(data.delta.partial_json);
      if (data.type === 'error') out.errorType = String(data.error?.type);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    stopAfterFirstChunk?.();
  }
  return out;
}

function readJson(text: string, started: number, status: number): Collected {
  const out: Collected = { status, text: '', toolInput: '', events: [], errorType: undefined, ttftMs: performance.now() - started };
  const value = JSON.parse(text) as Json & { content?: Json[]; error?: Json };
  if (value.type === 'error') out.errorType = String(value.error?.type);
  for (const block of value.content ?? []) {
    if (block.type === 'text') out.text += String(block.text);
    if (block.type === 'tool_use') out.toolInput += JSON.stringify(block.input);
  }
  return out;
}

const REPLY_OF: Record<Kind, ReplyKind> = {
  stream: 'text',
  json: 'text',
  'stream-tool': 'tool',
  'json-tool': 'tool',
  'count-tokens': 'text',
  'upstream-500': 'e500',
  'upstream-400': 'e400',
  malformed: 'text',
  'client-abort': 'slow',
};

/** Sends one request of `kind` built on `body` and checks what came back. */
export async function send(target: Target, kind: Kind, body: Body, sessionId: string, pieces: number): Promise<Outcome> {
  const d: Directive = { nonce: newNonce(), reply: REPLY_OF[kind], n: pieces };
  const stream = kind === 'stream' || kind === 'stream-tool' || kind === 'client-abort' || kind === 'upstream-500';
  const path = kind === 'count-tokens' ? '/v1/messages/count_tokens' : '/v1/messages';
  let payload = JSON.stringify(withDirective(body, d, stream));
  if (kind === 'count-tokens') payload = JSON.stringify({ model: body.model, messages: withDirective(body, d, false).messages, system: body.system, tools: body.tools });
  if (kind === 'malformed') payload = payload.slice(0, Math.floor(payload.length / 2));
  const abort = new AbortController();
  const started = performance.now();
  const headers = { 'content-type': 'application/json', 'x-api-key': target.key, 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': sessionId };
  try {
    const response = await request(`${target.url}${path}`, { method: 'POST', headers, body: payload, dispatcher: target.dispatcher, signal: abort.signal });
    const isSse = String(response.headers['content-type']).startsWith('text/event-stream');
    const stopper = kind === 'client-abort' ? () => abort.abort() : undefined;
    const got = isSse ? await readStream(response.body, started, response.statusCode, stopper) : readJson(await response.body.text(), started, response.statusCode);
    return judge(kind, d, got, performance.now() - started);
  } catch (error) {
    const totalMs = performance.now() - started;
    if (kind === 'client-abort' && abort.signal.aborted) return { kind, ok: true, crossTalk: false, detail: 'left mid-stream', ttftMs: totalMs, totalMs };
    return { kind, ok: false, crossTalk: false, detail: `client error: ${error instanceof Error ? error.message : String(error)}`, ttftMs: totalMs, totalMs };
  }
}

function judge(kind: Kind, d: Directive, got: Collected, totalMs: number): Outcome {
  const foreign = [...`${got.text}${got.toolInput}`.matchAll(/([0-9a-f]{12})\.\d+ /g)].some((m) => m[1] !== d.nonce) || (got.toolInput !== '' && !got.toolInput.includes(d.nonce));
  const verdict = (ok: boolean, detail: string): Outcome => ({ kind, ok: ok && !foreign, crossTalk: foreign, detail: foreign ? 'another request’s bytes in this reply' : detail, ttftMs: got.ttftMs < 0 ? totalMs : got.ttftMs, totalMs });
  const streamDone = got.events.length === 0 || (got.events.includes('message_start') && got.events.filter((e) => e === 'message_stop').length === 1);
  const sameText = got.text === expectedText(d);
  const sameTool = JSON.stringify(JSON.parse(got.toolInput || 'null')) === JSON.stringify(expectedToolInput(d));
  switch (kind) {
    case 'stream':
    case 'json':
      return verdict(got.status === 200 && sameText && streamDone && got.errorType === undefined, `HTTP ${got.status}, text ${sameText ? 'exact' : 'differs'}`);
    case 'stream-tool':
    case 'json-tool':
      return verdict(got.status === 200 && sameText && sameTool && streamDone, `HTTP ${got.status}, text ${sameText ? 'exact' : 'differs'}, tool input ${sameTool ? 'exact' : got.toolInput}`);
    case 'count-tokens':
      return verdict(got.status === 200, `HTTP ${got.status}`);
    case 'upstream-500':
    case 'upstream-400':
    case 'malformed':
      return verdict(got.status >= 400 || got.errorType !== undefined, `HTTP ${got.status}, ${got.errorType ?? 'no error type'}`);
    case 'client-abort':
      return verdict(false, `the stream ended before the client left (HTTP ${got.status})`);
  }
}

/** A keep-alive client pool for one target; `close()` drops its connections so the server's fds can settle. */
export const clientPool = (connections: number): Agent => new Agent({ connections, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });

export interface Mix {
  kind: Kind;
  weight: number;
}

/** The soak's mix: mostly streams, as Claude Code sends, with every failure kind in it. */
export const SOAK_MIX: readonly Mix[] = [
  { kind: 'stream', weight: 40 },
  { kind: 'json', weight: 10 },
  { kind: 'stream-tool', weight: 15 },
  { kind: 'json-tool', weight: 5 },
  { kind: 'count-tokens', weight: 8 },
  { kind: 'upstream-500', weight: 5 },
  { kind: 'upstream-400', weight: 5 },
  { kind: 'malformed', weight: 4 },
  { kind: 'client-abort', weight: 8 },
];

/** Request `i` of a deterministic mixed sequence: the kind by weight, the shape and session in turn. */
export function mixed(i: number, sessions: number): { kind: Kind; body: Body; sessionId: string } {
  const total = SOAK_MIX.reduce((n, m) => n + m.weight, 0);
  let slot = (i * 37) % total; // 37 is prime to 100: every kind recurs evenly and interleaved
  const kind = SOAK_MIX.find((m) => (slot -= m.weight) < 0)!.kind;
  const all = shapeBodies();
  const shape: Shape = i % 4 === 3 ? 'title' : i % 4 === 2 ? 'subagent' : 'main';
  const list = all[shape];
  const usable = kind.includes('tool') && shape === 'title' ? all.main : list;
  return { kind, body: usable[Math.floor(i / 4) % usable.length]!, sessionId: `session-${i % sessions}` };
}

/** Runs `count` jobs, at most `concurrency` at a time. */
export async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
