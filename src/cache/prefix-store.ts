/**
 * The part of Claude Code's prompt that is the same in every session (system prompt and tools,
 * once the billing block and dynamic sections are gone), remembered per Claude Code version
 * and backend, so a new session's first turn can find it already in the backend's KV cache.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessagesRequest, TextBlock, ToolDefinition } from '../anthropic/types.js';

export interface StablePrefix {
  system: string | TextBlock[];
  tools: ToolDefinition[];
}

const VERSION = /claude-cli\/(\d+\.\d+\.\d+)/;

export function claudeCodeVersionOf(userAgent: string | undefined): string | undefined {
  return userAgent === undefined ? undefined : VERSION.exec(userAgent)?.[1];
}

export class PrefixStore {
  readonly #dir: string;
  readonly #lastSaved = new Map<string, string>();
  readonly #onError: (message: string) => void;

  constructor(home: string, onError: (message: string) => void) {
    this.#dir = join(home, 'prefix');
    this.#onError = onError;
  }

  /** Remembers the prefix of a main-agent request (one with a system prompt and tools). */
  record(request: MessagesRequest, userAgent: string | undefined, backend: string): void {
    const version = claudeCodeVersionOf(userAgent);
    if (version === undefined || request.system === undefined || request.tools === undefined || request.tools.length === 0) return;
    const prefix: StablePrefix = { system: withoutCacheControl(request.system), tools: request.tools.map(({ cache_control: _c, ...tool }) => tool) };
    const text = JSON.stringify(prefix);
    const file = this.#file(version, backend);
    if (this.#lastSaved.get(file) === text) return;
    this.#lastSaved.set(file, text);
    void mkdir(join(this.#dir, version), { recursive: true, mode: 0o700 })
      .then(() => writeFile(file, text, { mode: 0o600 }))
      .catch((error: unknown) => this.#onError(`could not save the prompt prefix: ${error instanceof Error ? error.message : String(error)}`));
  }

  async load(version: string, backend: string): Promise<StablePrefix | undefined> {
    try {
      return JSON.parse(await readFile(this.#file(version, backend), 'utf8')) as StablePrefix;
    } catch {
      return undefined;
    }
  }

  #file(version: string, backend: string): string {
    return join(this.#dir, version, `${backend.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  }
}

function withoutCacheControl(system: string | TextBlock[]): string | TextBlock[] {
  return typeof system === 'string' ? system : system.map(({ cache_control: _c, ...block }) => block);
}
