/**
 * Debug traces: one JSON file per exchange (request in, upstream request, upstream reply,
 * reply out) under `<root>/<backend>/`. Private (dir 0700, files 0600) and redacted. A failing
 * write (full disk, read-only home) is never thrown, since tracing must not break a request, and
 * it is reported once per outage, not once per request: one line when traces stop being
 * written, one when they are written again (each write tries, so space freed is used at once).
 */
import { writeFile, chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { describeWriteError, makeDir, writeFaultFix, WriteFaultReporter } from '../core/write-fault.js';

export interface TraceExchange {
  id: string;
  backend: string;
  startedAt: number;
  requestIn: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string };
  upstreamRequest?: { url: string; body: string };
  upstreamReply?: { status: number; body: string };
  replyOut?: { status: number; body: string };
  metrics?: unknown;
}

/** `<ANYCLAUDE_HOME or ~/.anyclaude>/traces`: where `up` writes, so `proxy --trace` and `anyclaude traces` agree with it. */
export const defaultTraceRoot = (env: NodeJS.ProcessEnv = process.env): string => join(env.ANYCLAUDE_HOME ?? join(homedir(), '.anyclaude'), 'traces');

const SECRET_HEADERS = new Set(['x-api-key', 'authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
/** Anthropic, OpenAI and Hugging Face key shapes, wherever they appear in a body. */
const SECRET_PATTERN = /\b(sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{20,})/g;
/** Traces of a 1M-token session must not fill the disk: each part is capped. */
const PART_LIMIT = 8 * 1024 * 1024;

export function redactHeaders(headers: TraceExchange['requestIn']['headers']): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? '[REDACTED]' : value;
  }
  return out;
}

export function redactText(text: string, extraSecrets: readonly string[] = []): string {
  let out = text.replace(SECRET_PATTERN, '[REDACTED]');
  for (const secret of extraSecrets) if (secret.length >= 8) out = out.split(secret).join('[REDACTED]');
  return out.length > PART_LIMIT ? `${out.slice(0, PART_LIMIT)}…[truncated ${out.length - PART_LIMIT} chars]` : out;
}

export class TraceWriter {
  readonly root: string;
  readonly #secrets: readonly string[];
  readonly #faults: WriteFaultReporter;
  readonly #madeDirs = new Set<string>();

  readonly #echo: ((text: string) => void) | undefined;

  /**
   * `onError` hears one line when traces stop being written and one when they are written again.
   * `echo` also gets each redacted trace (ANYCLAUDE_DEBUG=2: full bodies in the log).
   */
  constructor(options: { root?: string; secrets?: readonly string[]; onError: (message: string) => void; echo?: (text: string) => void }) {
    const root = options.root ?? defaultTraceRoot();
    this.root = root;
    this.#secrets = options.secrets ?? [];
    this.#faults = new WriteFaultReporter(
      {
        failed: (error) => `traces are not being written: ${root}: ${describeWriteError(error)}; ${writeFaultFix(error, 'run without --trace (and ANYCLAUDE_DEBUG)')}`,
        recovered: (lost) => `traces are being written again to ${root} (${lost} exchange${lost === 1 ? '' : 's'} not traced meanwhile)`,
      },
      options.onError,
    );
    this.#echo = options.echo;
  }

  /** Resolves with the file path, or undefined when the write failed (already reported). */
  async write(exchange: TraceExchange): Promise<string | undefined> {
    const dir = join(this.root, safeName(exchange.backend));
    const file = join(dir, `${new Date(exchange.startedAt).toISOString().replace(/[:.]/g, '-')}-${safeName(exchange.id)}.json`);
    const text = this.#serialise(exchange);
    this.#echo?.(text);
    try {
      await this.#ensureDir(dir);
      await writeFile(file, text, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // A full disk leaves a truncated file that `anyclaude traces` could not read; it goes.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(file, { force: true }).catch(() => undefined);
      this.#faults.failed(error);
      return undefined;
    }
    this.#faults.succeeded();
    return file;
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#madeDirs.has(dir)) return;
    await makeDir(dir, 0o700);
    // mkdir's mode is filtered by umask and ignored for existing folders.
    await chmod(this.root, 0o700);
    await chmod(dir, 0o700);
    this.#madeDirs.add(dir);
  }

  #serialise(exchange: TraceExchange): string {
    const redacted: TraceExchange = {
      ...exchange,
      requestIn: { ...exchange.requestIn, headers: redactHeaders(exchange.requestIn.headers), body: redactText(exchange.requestIn.body, this.#secrets) },
      ...(exchange.upstreamRequest && { upstreamRequest: { ...exchange.upstreamRequest, body: redactText(exchange.upstreamRequest.body, this.#secrets) } }),
      ...(exchange.upstreamReply && { upstreamReply: { ...exchange.upstreamReply, body: redactText(exchange.upstreamReply.body, this.#secrets) } }),
      ...(exchange.replyOut && { replyOut: { ...exchange.replyOut, body: redactText(exchange.replyOut.body, this.#secrets) } }),
    };
    return `${JSON.stringify(redacted, null, 2)}\n`;
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'unnamed';
}
