/**
 * Writes that anyclaude makes on the side (traces, its log file, the run file) can fail when the
 * disk is full or the home folder is read-only. They must never take a request or a session down,
 * and they must not say so once per request either: a WriteFaultReporter says once that writing
 * stopped (with what to do), once that it works again, and nothing in between.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The errno codes a user can act on, in words. */
const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a folder',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
};

/** `ENOSPC (no space left on device)`, or the error's own message when it has no errno code. */
export function describeWriteError(error: unknown): string {
  const code = errnoCode(error);
  if (code !== undefined) return `${code} (${REASONS[code] ?? firstPart(error)})`;
  return error instanceof Error ? error.message : String(error);
}

export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** What to do about it: free space for a full disk, a writable folder otherwise. `alternative` ends the sentence ("or run without --trace"). */
export function writeFaultFix(error: unknown, alternative?: string): string {
  const code = errnoCode(error);
  const or = alternative === undefined ? '' : `, or ${alternative}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `free some space on that disk${or}`;
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return `make that folder writable or set ANYCLAUDE_HOME to a writable folder${or}`;
  return `check that folder${or}`;
}

/** "ENOSPC: no space left on device, write" → "no space left on device". */
function firstPart(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^E[A-Z]+:\s*/, '').replace(/,\s.*$/, '');
}

/**
 * `mkdir -p` that fails with the real reason. Node's recursive mkdir reports ENOENT when the
 * folder above is on a read-only file system; making the first missing folder alone says EROFS.
 */
export async function makeDir(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
  } catch (error) {
    throw await realMkdirError(dir, error);
  }
}

/** The error that making the first missing folder of `dir` alone gives, else `error` itself. */
export async function realMkdirError(dir: string, error: unknown): Promise<unknown> {
  if (errnoCode(error) !== 'ENOENT') return error;
  let first = dir;
  while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
  try {
    await mkdir(first);
    return error;
  } catch (real) {
    return errnoCode(real) === 'EEXIST' ? error : real;
  }
}

export interface WriteFaultWords {
  /** The line said when writing stops, e.g. "traces are not being written: /x/traces: ENOSPC (…); free some space …". */
  failed(error: unknown): string;
  /** The line said when writing works again; `lost` is how many writes failed meanwhile. */
  recovered(lost: number): string;
}

/** After a failure was said, another within this long stays quiet (a disk with a few bytes left fails and recovers by turns). */
export const QUIET_MS = 10 * 60_000;

/**
 * One line when a kind of write starts failing, one when it works again; silence in between. A
 * disk on the edge (small writes fit, large ones do not) would flip between the two on every
 * request, so after a failure was said the next one is said only QUIET_MS later, and a recovery
 * only when its failure was said.
 */
export class WriteFaultReporter {
  readonly #say: (line: string) => void;
  readonly #words: WriteFaultWords;
  readonly #now: () => number;
  #lost = 0;
  #failing = false;
  #said = false;
  #quietUntil = 0;

  constructor(words: WriteFaultWords, say: (line: string) => void, now: () => number = Date.now) {
    this.#words = words;
    this.#say = say;
    this.#now = now;
  }

  get failing(): boolean {
    return this.#failing;
  }

  failed(error: unknown): void {
    this.#lost += 1;
    if (this.#failing) return;
    this.#failing = true;
    if (this.#now() < this.#quietUntil) return;
    this.#said = true;
    this.#quietUntil = this.#now() + QUIET_MS;
    this.#say(this.#words.failed(error));
  }

  succeeded(): void {
    if (!this.#failing) return;
    const lost = this.#lost;
    this.#failing = false;
    if (!this.#said) return;
    this.#said = false;
    this.#lost = 0;
    this.#say(this.#words.recovered(lost));
  }
}
