/**
 * The part of Claude Code's prompt that is the same in every session (system prompt and tools,
 * once the billing block and dynamic sections are gone), remembered per Claude Code version and
 * per backend, model and (for a server anyclaude did not start) server, so a new session's first
 * turn can find it already in the backend's KV cache. A prefix from another model or server would
 * be worse than none: replaying it costs a full prefill that helps nothing.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeWriteError, writeFaultFix, WriteFaultReporter } from '../core/write-fault.js';
import type { MessagesRequest, TextBlock, ToolDefinition } from '../anthropic/types.js';
import type { BackendInfo } from '../backends/backend.js';

export interface StablePrefix {
  system: string | TextBlock[];
  tools: ToolDefinition[];
}

/** Whose KV cache a prefix is for. */
export interface PrefixScope {
  backend: string;
  /** The served model id; undefined when each request names its own. */
  model: string | undefined;
  /** Only for servers anyclaude found running: a managed server gets a new port every run. */
  url: string | undefined;
}

/** The backend a prefix is remembered for, as `RunningBackend.info` describes it. */
export type PrefixOwner = Pick<BackendInfo, 'name' | 'modelId' | 'url' | 'managed'>;

export function prefixScope(info: PrefixOwner): PrefixScope {
  return { backend: info.name, model: info.modelId, url: info.managed ? undefined : info.url };
}

/** The scope as stored: fixed key order and explicit nulls, so equal scopes are equal bytes. */
interface StoredScope {
  backend: string;
  model: string | null;
  url: string | null;
}

interface StoredPrefix {
  scope: StoredScope;
  prefix: StablePrefix;
}

const MAX_SESSIONS = 1_000;

const VERSION = /claude-cli\/(\d+\.\d+\.\d+)/;

export function claudeCodeVersionOf(userAgent: string | undefined): string | undefined {
  return userAgent === undefined ? undefined : VERSION.exec(userAgent)?.[1];
}

export class PrefixStore {
  readonly #dir: string;
  readonly #lastSaved = new Map<string, string>();
  /** A full disk or read-only home is said once, not once per new session. */
  readonly #faults: WriteFaultReporter;
  /** Sessions whose prefix is already recorded (bounded: oldest forgotten first). */
  readonly #sessions = new Set<string>();

  constructor(home: string, onError: (message: string) => void) {
    this.#dir = join(home, 'prefix');
    this.#faults = new WriteFaultReporter(
      {
        failed: (error) => `the prompt prefix is not being saved: ${this.#dir}: ${describeWriteError(error)}; ${writeFaultFix(error)} (until then a new session's first turn is not pre-warmed)`,
        recovered: () => `the prompt prefix is being saved again to ${this.#dir}`,
      },
      onError,
    );
  }

  /**
   * Remembers the prefix of a session's main agent: its first request with a system prompt and
   * tools (the title request has no tools; subagents, which share the session id, come later and
   * have prompts of their own that a new session's first turn would not start with).
   */
  record(request: MessagesRequest, client: { userAgent: string | undefined; sessionId: string | undefined }, owner: PrefixOwner): void {
    const scope = prefixScope(owner);
    const version = claudeCodeVersionOf(client.userAgent);
    if (version === undefined || request.system === undefined || request.tools === undefined || request.tools.length === 0) return;
    if (client.sessionId !== undefined) {
      if (this.#sessions.has(client.sessionId)) return;
      this.#sessions.add(client.sessionId);
      if (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.values().next().value ?? '');
    }
    const prefix: StablePrefix = { system: withoutCacheControl(request.system), tools: request.tools.map(({ cache_control: _c, ...tool }) => tool) };
    const stored: StoredPrefix = { scope: canonical(scope), prefix };
    const text = JSON.stringify(stored);
    const file = this.#file(version, scope);
    if (this.#lastSaved.get(file) === text) return;
    this.#lastSaved.set(file, text);
    void mkdir(join(this.#dir, version), { recursive: true, mode: 0o700 })
      .then(() => writeFile(file, text, { mode: 0o600 }))
      .then(
        () => this.#faults.succeeded(),
        (error: unknown) => {
          // Tried again with the next session rather than never.
          this.#lastSaved.delete(file);
          this.#faults.failed(error);
        },
      );
  }

  /** The prefix remembered for exactly this backend, model and server, or undefined. */
  async load(version: string, owner: PrefixOwner): Promise<StablePrefix | undefined> {
    const scope = prefixScope(owner);
    let stored: Partial<StoredPrefix>;
    try {
      stored = JSON.parse(await readFile(this.#file(version, scope), 'utf8')) as Partial<StoredPrefix>;
    } catch {
      return undefined;
    }
    // The file name is a hash: the scope inside is what proves whose prefix it is.
    if (JSON.stringify(stored.scope) !== JSON.stringify(canonical(scope)) || stored.prefix === undefined) return undefined;
    return stored.prefix;
  }

  #file(version: string, scope: PrefixScope): string {
    const hash = createHash('sha256').update(JSON.stringify(canonical(scope))).digest('hex').slice(0, 16);
    return join(this.#dir, version, `${scope.backend.replace(/[^A-Za-z0-9._-]/g, '_')}-${hash}.json`);
  }
}

function canonical(scope: PrefixScope): StoredScope {
  return { backend: scope.backend, model: scope.model ?? null, url: scope.url ?? null };
}

function withoutCacheControl(system: string | TextBlock[]): string | TextBlock[] {
  return typeof system === 'string' ? system : system.map(({ cache_control: _c, ...block }) => block);
}
