/**
 * What `anyclaude bench` replays: the Messages requests of a captured conversation, in the order
 * Claude Code sent them. Two folder shapes are read:
 *  - a capture folder (test/fixtures/…): `NNN-METHOD-path.json` files, `{seq, time, method, url, headers, body}`;
 *  - a trace folder (`~/.anyclaude/traces`, or one backend's folder in it), read with the traces' own schema (src/traces/trace-file.ts).
 * Everything that is not `POST /v1/messages` (HEAD probes, count_tokens) and anyclaude's own
 * cache warm-ups are left out: they are not turns.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { AnyclaudeError } from '../core/errors.js';
import { WARMUP_HEADER } from '../proxy/warmup-gate.js';
import { asTrace } from '../traces/trace-file.js';

/** Headers replayed as Claude Code sent them: what the proxy reads (session id, client version). */
const REPLAYED_HEADERS = ['user-agent', 'anthropic-version', 'anthropic-beta', 'x-app', 'x-claude-code-session-id'] as const;

export interface ReplayRequest {
  /** The file it came from, relative to the input folder. */
  file: string;
  /** When Claude Code sent it (ms since the epoch), for ordering. */
  sentAt: number;
  /** Path and query as sent, e.g. `/v1/messages?beta=true`. */
  url: string;
  headers: Record<string, string>;
  sessionId: string | undefined;
  body: MessagesBody;
}

/** The request body: kept as sent, apart from what the replay options change. */
export type MessagesBody = Record<string, unknown> & { messages: unknown[] };

export interface ReplayInput {
  path: string;
  kind: 'capture' | 'trace';
  requests: ReplayRequest[];
  /** Files that are not turns, and why (shown with --verbose-like detail by callers that care). */
  skipped: Array<{ file: string; reason: string }>;
}

const headersSchema = z.record(z.string(), z.unknown());
const captureSchema = z.object({ seq: z.number(), time: z.string().optional(), method: z.string(), url: z.string(), headers: headersSchema, body: z.unknown() });

/** How deep a trace root is walked: `<root>/<backend>/<file>.json`. */
const MAX_DEPTH = 2;

export async function loadReplay(path: string): Promise<ReplayInput> {
  const files = await jsonFiles(path, MAX_DEPTH).catch((error: unknown) => {
    throw new AnyclaudeError('BENCH_INPUT', `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      fix: 'pass a folder of captured requests (like test/fixtures/bench-short-chat) or a trace folder (~/.anyclaude/traces)',
    });
  });
  const requests: Array<ReplayRequest & { order: number }> = [];
  const skipped: ReplayInput['skipped'] = [];
  const kinds = new Set<ReplayInput['kind']>();
  for (const file of files) {
    const name = relative(path, file);
    const read = await readRequest(file);
    if (typeof read === 'string') {
      skipped.push({ file: name, reason: read });
      continue;
    }
    kinds.add(read.kind);
    const why = notATurn(read);
    if (why !== undefined) {
      skipped.push({ file: name, reason: why });
      continue;
    }
    const body = parseBody(read.body);
    if (typeof body === 'string') {
      skipped.push({ file: name, reason: body });
      continue;
    }
    const headers = replayedHeaders(read.headers);
    requests.push({ file: name, sentAt: read.sentAt, url: read.url, headers, sessionId: headers['x-claude-code-session-id'], body, order: read.order });
  }
  if (requests.length === 0) {
    throw new AnyclaudeError('BENCH_INPUT', `${path} holds no POST /v1/messages requests to replay`, {
      fix: 'record some with `anyclaude up --trace` (they land in ~/.anyclaude/traces), or pass a capture folder like test/fixtures/bench-short-chat',
    });
  }
  // Sent order: the capture's time (or sequence number), the trace's start time.
  requests.sort((a, b) => a.sentAt - b.sentAt || a.order - b.order);
  return { path, kind: kinds.has('trace') && !kinds.has('capture') ? 'trace' : 'capture', requests: requests.map(({ order: _o, ...r }) => r), skipped };
}

interface RawRequest {
  kind: ReplayInput['kind'];
  method: string;
  url: string;
  headers: z.infer<typeof headersSchema>;
  body: unknown;
  sentAt: number;
  order: number;
}

async function readRequest(file: string): Promise<RawRequest | string> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return 'not JSON';
  }
  const trace = asTrace(value);
  if (trace !== undefined) {
    const { requestIn, startedAt } = trace;
    return { kind: 'trace', method: requestIn.method, url: requestIn.url, headers: requestIn.headers, body: requestIn.body, sentAt: startedAt, order: startedAt };
  }
  const capture = captureSchema.safeParse(value);
  if (capture.success) {
    const { seq, time, method, url, headers, body } = capture.data;
    const at = time === undefined ? Number.NaN : Date.parse(time);
    return { kind: 'capture', method, url, headers, body, sentAt: Number.isNaN(at) ? seq : at, order: seq };
  }
  return 'neither a captured request nor an anyclaude trace';
}

function notATurn(request: RawRequest): string | undefined {
  const path = request.url.split('?')[0];
  if (request.method !== 'POST' || path !== '/v1/messages') return `${request.method} ${path} is not a turn`;
  if (request.headers[WARMUP_HEADER] !== undefined) return "anyclaude's own cache warm-up";
  return undefined;
}

/** Trace bodies are the text the client sent (cut at 8 MiB); capture bodies are parsed already. */
function parseBody(body: unknown): MessagesBody | string {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.includes('…[truncated') ? 'body was cut short in the trace' : 'body is not JSON';
    }
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { messages?: unknown }).messages)) return 'body has no messages';
  return value as MessagesBody;
}

function replayedHeaders(headers: z.infer<typeof headersSchema>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

async function jsonFiles(dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.json')) out.push(full);
    else if (entry.isDirectory() && depth > 0) out.push(...(await jsonFiles(full, depth - 1)));
  }
  return out;
}
