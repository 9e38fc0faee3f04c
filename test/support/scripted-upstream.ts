/**
 * A real HTTP server on 127.0.0.1 (random port) that imitates an OpenAI-compatible local backend
 * (mlx_lm.server, llama-server, LM Studio, Ollama) byte for byte where it matters to the proxy:
 * stream shapes, usage/timings, discovery endpoints, and injected faults.
 *
 * Replies are scripted per request: `enqueue()` queues replies for the next chat requests in
 * order; when the queue is empty the `setDefault()` reply (or function) answers; failing both,
 * a short text reply. Every HTTP request is recorded in `requests` (discovery included);
 * `chatRequests` holds only `POST /v1/chat/completions`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShapeContext } from './upstream-shapes.js';
import {
  completion,
  defaultToolCallId,
  errorBody,
  estimateTokens,
  textStream,
  toolStream,
} from './upstream-shapes.js';

export type UpstreamFlavor = 'mlx-lm' | 'llama-server' | 'lmstudio' | 'ollama';

export type Reply =
  | {
      kind: 'text';
      text: string;
      reasoning?: string;
      /** Characters per streamed piece (default 4). */
      chunkSize?: number;
      promptTokens?: number;
      cachedTokens?: number;
      finishReason?: 'stop' | 'length';
    }
  | {
      kind: 'tool';
      name: string;
      arguments: Record<string, unknown>;
      /** Text streamed before the call. */
      text?: string;
      id?: string;
      promptTokens?: number;
      cachedTokens?: number;
    }
  /** Exact bytes. Content-Type defaults to text/event-stream. */
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string }
  /** `data:` frames of these objects (a string is written verbatim after `data: `), then `data: [DONE]` unless done is false. */
  | { kind: 'chunks'; chunks: unknown[]; done?: boolean }
  /** HTTP error before any stream, with the flavor's error body. */
  | { kind: 'error'; status: number; message?: string }
  /**
   * Send the first `chunks` frames of `reply`, then destroy the socket. Frames are SSE frames
   * (`data:` lines, `[DONE]` included); a raw body is split at blank lines; a JSON body counts as
   * two halves.
   */
  | { kind: 'break-after'; chunks: number; reply: Reply }
  /**
   * Wait `ms` before replying. Silent, except that mlx-lm answering a streaming request sends the
   * 200 headers at once and `: keepalive n/total` comments every 100 ms, as it does during prefill.
   */
  | { kind: 'stall'; ms: number; reply: Reply }
  /**
   * Send the 200 headers and the first `chunks` frames of `reply` (frames as in break-after), then
   * nothing at all for `ms` (no keepalive, whatever the flavor), then the rest. A backend stuck
   * mid-reply; `chunks: 0` is one that answered headers and went silent.
   */
  | { kind: 'stall-after'; chunks: number; ms: number; reply: Reply };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  body: unknown;
  receivedAt: number;
  /** When the client closed the connection before the reply ended. */
  abortedAt?: number;
}

export interface ScriptedUpstream {
  /** http://127.0.0.1:PORT (no trailing slash, no /v1). */
  url: string;
  flavor: UpstreamFlavor;
  modelId: string;
  /** Every request, in arrival order (discovery endpoints included). */
  requests: RecordedRequest[];
  /** Only the POST /v1/chat/completions requests. */
  chatRequests: RecordedRequest[];
  /** Another model is now the loaded one (a user loading it in LM Studio's window, `ollama run`). */
  setModel(id: string, contextLength?: number): void;
  enqueue(...replies: Reply[]): void;
  setDefault(reply: Reply | ((req: RecordedRequest) => Reply)): void;
  /** llama-server's /health answers 503 "Loading model" while loading (default ready). */
  setLoading(loading: boolean): void;
  /**
   * Resolves with the next chat request the client aborted (each aborted request is returned
   * once, oldest first); rejects after `timeoutMs`.
   */
  waitForAbort(timeoutMs: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export interface ScriptedUpstreamOptions {
  flavor: UpstreamFlavor;
  /** The served model id (default depends on the flavor). */
  modelId?: string;
  /** The loaded context length: llama-server n_ctx, LM Studio loaded context, Ollama /api/ps (default 32768). */
  contextLength?: number;
  /** The trained context length: llama-server n_ctx_train, LM Studio max, Ollama /api/show (default max(131072, contextLength)). */
  trainedContextLength?: number;
  /** Delay between streamed frames in ms (default 0). */
  delayMsPerChunk?: number;
}

const DEFAULT_MODEL: Record<UpstreamFlavor, string> = {
  'mlx-lm': 'mlx-community/Qwen3-4B-4bit',
  'llama-server': 'qwen3-4b',
  lmstudio: 'qwen/qwen3-4b',
  ollama: 'qwen3:4b',
};

/** Interval between mlx-style keepalive comments while stalling, in ms. */
const KEEPALIVE_INTERVAL_MS = 100;

interface Script {
  status: number;
  headers: Record<string, string>;
  /** Written in order, `delayMsPerChunk` apart. */
  parts: string[];
  sse: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sseFrame(data: string): string {
  return `data: ${data}\n\n`;
}

function jsonScript(status: number, body: unknown): Script {
  return { status, headers: { 'content-type': 'application/json' }, parts: [JSON.stringify(body)], sse: false };
}

/** Split at SSE frame ends, keeping the separators with their frames. */
function splitFrames(body: string): string[] {
  const parts = body.split(/(?<=\n\n)/);
  return parts.filter((p) => p.length > 0);
}

export async function startScriptedUpstream(options: ScriptedUpstreamOptions): Promise<ScriptedUpstream> {
  const flavor = options.flavor;
  let modelId = options.modelId ?? DEFAULT_MODEL[flavor];
  let contextLength = options.contextLength ?? 32768;
  const trainedContextLength = options.trainedContextLength ?? Math.max(131072, contextLength);
  const delayMsPerChunk = options.delayMsPerChunk ?? 0;

  const requests: RecordedRequest[] = [];
  const chatRequests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  let defaultReply: Reply | ((req: RecordedRequest) => Reply) = { kind: 'text', text: 'Hello from the scripted upstream.' };
  let loading = false;
  let toolCallCount = 0;
  const aborted: RecordedRequest[] = [];
  let abortsReturned = 0;
  const abortWaiters = new Set<() => void>();

  function nextReply(rec: RecordedRequest): Reply {
    const queued = queue.shift();
    if (queued) return queued;
    return typeof defaultReply === 'function' ? defaultReply(rec) : defaultReply;
  }

  function render(reply: Reply, rec: RecordedRequest): Script {
    const body = isRecord(rec.body) ? rec.body : {};
    const stream = body.stream === true;
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    const requested = typeof body.model === 'string' && body.model !== '' ? body.model : modelId;
    const ctx: ShapeContext = {
      flavor,
      model: flavor === 'lmstudio' ? modelId : requested,
      id: flavor === 'ollama' ? `chatcmpl-${Math.floor(Math.random() * 1000)}` : `chatcmpl-${Math.random().toString(36).slice(2, 14)}`,
      created: Math.floor(Date.now() / 1000),
      includeUsage: streamOptions.include_usage === true,
      timingsPerToken: body.timings_per_token === true,
    };
    const defaultPrompt = Math.max(1, estimateTokens(rec.rawBody));
    const sseHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
    const sseOf = (chunks: unknown[], done: boolean): Script => ({
      status: 200,
      headers: sseHeaders,
      parts: [...chunks.map((c) => sseFrame(typeof c === 'string' ? c : JSON.stringify(c))), ...(done ? [sseFrame('[DONE]')] : [])],
      sse: true,
    });

    switch (reply.kind) {
      case 'text': {
        const spec = {
          text: reply.text,
          reasoning: reply.reasoning ?? '',
          chunkSize: reply.chunkSize ?? 4,
          finishReason: reply.finishReason ?? 'stop',
          promptTokens: reply.promptTokens ?? defaultPrompt,
          cachedTokens: reply.cachedTokens ?? 0,
        };
        if (stream) return sseOf(textStream(ctx, spec), true);
        const counts = {
          promptTokens: spec.promptTokens,
          cachedTokens: spec.cachedTokens,
          completionTokens: estimateTokens(spec.reasoning + spec.text) || 1,
        };
        return jsonScript(200, completion(ctx, { text: spec.text, reasoning: spec.reasoning }, spec.finishReason, counts));
      }
      case 'tool': {
        const spec = {
          name: reply.name,
          argumentsJson: JSON.stringify(reply.arguments),
          text: reply.text ?? '',
          id: reply.id ?? defaultToolCallId(flavor, toolCallCount++),
          promptTokens: reply.promptTokens ?? defaultPrompt,
          cachedTokens: reply.cachedTokens ?? 0,
        };
        if (stream) return sseOf(toolStream(ctx, spec), true);
        const counts = {
          promptTokens: spec.promptTokens,
          cachedTokens: spec.cachedTokens,
          completionTokens: estimateTokens(spec.text + spec.name + spec.argumentsJson),
        };
        const toolCall = { id: spec.id, name: spec.name, argumentsJson: spec.argumentsJson };
        return jsonScript(200, completion(ctx, { text: spec.text, reasoning: '', toolCall }, 'tool_calls', counts));
      }
      case 'raw':
        return {
          status: reply.status ?? 200,
          headers: { 'content-type': 'text/event-stream', ...lowerKeys(reply.headers ?? {}) },
          parts: splitFrames(reply.body),
          sse: true,
        };
      case 'chunks':
        if (stream) return sseOf(reply.chunks, reply.done !== false);
        return jsonScript(200, reply.chunks[0] ?? {});
      case 'error':
        return jsonScript(reply.status, errorBody(flavor, reply.status, reply.message ?? 'scripted upstream error'));
      case 'break-after':
      case 'stall':
      case 'stall-after':
        throw new Error('render() takes a base reply; wrappers are unwrapped by serveChat');
    }
  }

  async function serveChat(rec: RecordedRequest, res: ServerResponse): Promise<void> {
    let reply = nextReply(rec);
    let stallMs = 0;
    let breakAfter: number | undefined;
    let silence: { chunks: number; ms: number } | undefined;
    while (reply.kind === 'break-after' || reply.kind === 'stall' || reply.kind === 'stall-after') {
      if (reply.kind === 'stall') stallMs += reply.ms;
      else if (reply.kind === 'stall-after') silence = { chunks: reply.chunks, ms: reply.ms };
      else breakAfter = breakAfter === undefined ? reply.chunks : Math.min(breakAfter, reply.chunks);
      reply = reply.reply;
    }
    const script = render(reply, rec);
    if (breakAfter !== undefined && !script.sse) {
      // A JSON body: break it into two halves so break-after 1 sends half a document.
      const whole = script.parts.join('');
      const half = Math.floor(whole.length / 2);
      script.parts = [whole.slice(0, half), whole.slice(half)];
    }
    const isAborted = (): boolean => rec.abortedAt !== undefined || res.destroyed;

    const body = isRecord(rec.body) ? rec.body : {};
    const keepalive = flavor === 'mlx-lm' && body.stream === true && script.sse && script.status === 200;
    if (stallMs > 0) {
      const until = Date.now() + stallMs;
      if (keepalive) {
        writeHead(res, script, breakAfter !== undefined);
        const total = 512 * (Math.floor(stallMs / KEEPALIVE_INTERVAL_MS) + 1);
        let processed = 0;
        while (Date.now() < until && !isAborted()) {
          processed = Math.min(total, processed + 512);
          await write(res, `: keepalive ${processed}/${total}\n\n`);
          await sleep(Math.min(KEEPALIVE_INTERVAL_MS, Math.max(0, until - Date.now())));
        }
      } else {
        while (Date.now() < until && !isAborted()) await sleep(Math.min(25, until - Date.now()));
      }
      if (isAborted()) return;
    }
    if (!res.headersSent) writeHead(res, script, breakAfter !== undefined || silence !== undefined);

    for (let i = 0; i < script.parts.length; i++) {
      if (isAborted()) return;
      if (breakAfter !== undefined && i >= breakAfter) break;
      if (silence !== undefined && i === silence.chunks) {
        const until = Date.now() + silence.ms;
        while (Date.now() < until && !isAborted()) await sleep(Math.min(25, until - Date.now()));
        if (isAborted()) return;
      }
      if (i > 0 && delayMsPerChunk > 0) await sleep(delayMsPerChunk);
      if (isAborted()) return;
      await write(res, script.parts[i] ?? '');
    }
    if (isAborted()) return;
    if (breakAfter !== undefined) {
      // Let the written bytes reach the client before the reset.
      await sleep(20);
      destroyedByUs.add(res);
      res.socket?.destroy();
      res.destroy();
      return;
    }
    res.end();
  }

  const destroyedByUs = new WeakSet<ServerResponse>();

  function writeHead(res: ServerResponse, script: Script, chunked: boolean): void {
    const headers: Record<string, string> = { ...script.headers };
    if (!script.sse && !chunked) headers['content-length'] = String(Buffer.byteLength(script.parts.join('')));
    res.writeHead(script.status, headers);
    res.flushHeaders();
  }

  function serveDiscovery(rec: RecordedRequest, res: ServerResponse): void {
    const path = rec.url.split('?')[0] ?? '';
    const created = Math.floor(Date.now() / 1000);
    const json = (status: number, value: unknown): void => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    const notFound = (): void => {
      if (flavor === 'ollama') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found');
      } else if (flavor === 'mlx-lm') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('Not Found');
      } else json(404, errorBody(flavor, 404, `Unexpected endpoint or method. (${rec.method} ${path})`));
    };
    const get = rec.method === 'GET' || rec.method === 'HEAD';

    if (get && path === '/v1/models') {
      const entry: Record<string, unknown> = { id: modelId, object: 'model', created };
      if (flavor === 'llama-server') {
        entry.owned_by = 'llamacpp';
        entry.meta = { vocab_type: 2, n_vocab: 151936, n_ctx_train: trainedContextLength, n_embd: 2560, n_params: 4_022_468_096, size: 2_497_280_256 };
        return json(200, { models: [{ name: modelId, model: modelId, type: 'model', capabilities: ['completion'] }], object: 'list', data: [entry] });
      }
      if (flavor === 'lmstudio') entry.owned_by = 'organization_owner';
      if (flavor === 'ollama') entry.owned_by = 'library';
      return json(200, { object: 'list', data: [entry] });
    }
    switch (flavor) {
      case 'mlx-lm':
        if (get && path === '/health') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('{"status": "ok"}');
        }
        return notFound();
      case 'llama-server':
        if (get && path === '/health') {
          return loading ? json(503, errorBody(flavor, 503, 'Loading model')) : json(200, { status: 'ok' });
        }
        if (get && path === '/props') {
          if (loading) return json(503, errorBody(flavor, 503, 'Loading model'));
          return json(200, {
            default_generation_settings: { id: 0, n_ctx: contextLength, params: { n_predict: -1, temperature: 0.8 } },
            total_slots: 1,
            model_path: `/models/${modelId}.gguf`,
            modalities: { vision: false, audio: false },
            chat_template: '{{ messages }}',
            build_info: 'b6500-scripted',
          });
        }
        return notFound();
      case 'lmstudio': {
        const arch = 'qwen3';
        if (get && path === '/api/v0/models') {
          return json(200, {
            object: 'list',
            data: [
              {
                id: modelId,
                object: 'model',
                type: 'llm',
                publisher: modelId.split('/')[0] ?? 'local',
                arch,
                compatibility_type: 'gguf',
                quantization: 'Q4_K_M',
                state: 'loaded',
                max_context_length: trainedContextLength,
                loaded_context_length: contextLength,
                capabilities: ['tool_use'],
              },
            ],
          });
        }
        if (get && path === '/api/v1/models') {
          return json(200, {
            models: [
              {
                type: 'llm',
                publisher: modelId.split('/')[0] ?? 'local',
                key: modelId,
                display_name: modelId,
                architecture: arch,
                quantization: { name: 'Q4_K_M', bits_per_weight: 4 },
                size_bytes: 2_497_280_256,
                params_string: '4B',
                loaded_instances: [
                  { id: modelId, config: { context_length: contextLength, eval_batch_size: 512, flash_attention: false, offload_kv_cache_to_gpu: true } },
                ],
                max_context_length: trainedContextLength,
                format: 'gguf',
                capabilities: { vision: false, trained_for_tool_use: true },
                description: null,
              },
            ],
          });
        }
        return notFound();
      }
      case 'ollama': {
        const details = { parent_model: '', format: 'gguf', family: 'qwen3', families: ['qwen3'], parameter_size: '4.0B', quantization_level: 'Q4_K_M' };
        if (get && path === '/') {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '17' });
          return void res.end(rec.method === 'HEAD' ? undefined : 'Ollama is running');
        }
        if (get && path === '/api/version') return json(200, { version: '0.14.0' });
        if (get && path === '/api/tags') {
          return json(200, { models: [{ name: modelId, model: modelId, modified_at: new Date(0).toISOString(), size: 2_497_280_256, digest: 'sha256:0', details }] });
        }
        if (get && path === '/api/ps') {
          return json(200, {
            models: [
              {
                name: modelId,
                model: modelId,
                size: 3_000_000_000,
                digest: 'sha256:0',
                details,
                expires_at: new Date(Date.now() + 300_000).toISOString(),
                size_vram: 3_000_000_000,
                context_length: contextLength,
              },
            ],
          });
        }
        if (rec.method === 'POST' && path === '/api/show') {
          const b = isRecord(rec.body) ? rec.body : {};
          const asked = typeof b.model === 'string' ? b.model : typeof b.name === 'string' ? b.name : '';
          if (asked !== modelId && asked !== `${modelId}:latest`) return json(404, { error: `model '${asked}' not found` });
          return json(200, {
            modelfile: '',
            parameters: '',
            template: '{{ .Prompt }}',
            details,
            model_info: { 'general.architecture': 'qwen3', 'general.parameter_count': 4_022_468_096, 'qwen3.context_length': trainedContextLength },
            capabilities: ['completion', 'tools', 'thinking'],
            modified_at: new Date(0).toISOString(),
          });
        }
        return notFound();
      }
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = rawBody === '' ? undefined : JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const rec: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, rawBody, body, receivedAt };
      requests.push(rec);
      res.on('error', () => undefined);
      const path = rec.url.split('?')[0];
      if (rec.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
        chatRequests.push(rec);
        res.on('close', () => {
          if (res.writableEnded || destroyedByUs.has(res) || rec.abortedAt !== undefined) return;
          rec.abortedAt = Date.now();
          aborted.push(rec);
          for (const wake of [...abortWaiters]) wake();
        });
        serveChat(rec, res).catch((error: unknown) => {
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(error));
          } else res.destroy();
        });
        return;
      }
      serveDiscovery(rec, res);
    });
  }

  const server = createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    flavor,
    get modelId() {
      return modelId;
    },
    setModel(id: string, context?: number) {
      modelId = id;
      if (context !== undefined) contextLength = context;
    },
    requests,
    chatRequests,
    enqueue(...replies: Reply[]) {
      queue.push(...replies);
    },
    setDefault(reply) {
      defaultReply = reply;
    },
    setLoading(value: boolean) {
      loading = value;
    },
    waitForAbort(timeoutMs: number) {
      return new Promise<RecordedRequest>((resolve, reject) => {
        const take = (): boolean => {
          const next = aborted[abortsReturned];
          if (!next) return false;
          abortsReturned++;
          resolve(next);
          return true;
        };
        if (take()) return;
        const wake = (): void => {
          if (take()) {
            abortWaiters.delete(wake);
            clearTimeout(timer);
          }
        };
        const timer = setTimeout(() => {
          abortWaiters.delete(wake);
          reject(new Error(`scripted upstream (${flavor}): no client abort within ${timeoutMs} ms (${chatRequests.length} chat requests, none aborted since the last waitForAbort)`));
        }, timeoutMs);
        abortWaiters.add(wake);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function write(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  await new Promise<void>((resolve) => {
    res.write(text, () => resolve());
  });
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
