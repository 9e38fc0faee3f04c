/**
 * `anyclaude status --line`: Claude Code's status line command. Claude Code runs it after every
 * change with a JSON description of the session on stdin and shows its first line of stdout.
 *
 * It must answer in well under 150 ms including Node's own start-up and must never fail, so
 * bin/anyclaude.js imports this module directly (no commander, zod, undici or proxy code: undici
 * alone takes ~170 ms to import, the global fetch's first call ~70 ms, node:http ~8 ms), every
 * wait has a hard limit, and it always exits 0 with one line.
 */
import { spawn } from 'node:child_process';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { USER_STATUSLINE_ENV } from '../claude/status-line-settings.js';
import { chooseInstance, findRunningInstances, homeFromEnv, runDir } from '../run/run-file.js';
import type { RunState } from '../run/run-state.js';
import { formatStatusLine, formatStatusLineError, looksLikeRunState } from '../run/status-line.js';

/** How long the running instance has to answer. */
export const STATE_TIMEOUT_MS = 100;
/** How long the user's own status line command has; a slower one is left out (ours is shown alone). */
export const USER_STATUSLINE_TIMEOUT_MS = 120;
/** Claude Code writes the JSON and closes stdin at once; a stdin that stays open is not waited for longer. */
const STDIN_TIMEOUT_MS = 50;
/**
 * A proxy whose event loop is busy (a long prompt being counted) can miss the 100 ms: then the
 * line it gave last, if this recent, is shown again rather than "not answering".
 */
export const STALE_LINE_MS = 60_000;
/** In the run folder; holds only printed lines, for the last few sessions. */
const LINE_CACHE_FILE = 'status-line.cache';
const LINE_CACHE_ENTRIES = 32;
/** Between the user's line and ours. */
export const CHAIN_SEPARATOR = ' │ ';

/** Where a running anyclaude answers, and the key it wants. */
export interface StateTarget {
  url: string;
  key: string;
}

export type StateProblem = 'refused' | 'timeout' | 'unauthorized' | 'http' | 'invalid';

export type StateResult = { ok: true; state: RunState } | { ok: false; problem: StateProblem; message: string };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The proxy listens on loopback over plain HTTP only: any other URL is not an anyclaude, and its key is not sent there. */
export function isAnyclaudeUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** The proxy Claude Code talks to, from the environment anyclaude gave it. */
export function targetFromEnv(env: NodeJS.ProcessEnv): StateTarget | undefined {
  const url = env.ANTHROPIC_BASE_URL;
  const key = nonEmpty(env.ANTHROPIC_AUTH_TOKEN) ?? nonEmpty(env.ANTHROPIC_API_KEY);
  if (url === undefined || key === undefined || !isAnyclaudeUrl(url)) return undefined;
  return { url, key };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The environment's proxy when it names one, else the run file of the instance to use. */
export async function findTarget(env: NodeJS.ProcessEnv): Promise<StateTarget | undefined> {
  const fromEnv = targetFromEnv(env);
  if (fromEnv !== undefined) return fromEnv;
  const chosen = chooseInstance(await findRunningInstances(homeFromEnv(env)), env);
  return chosen === undefined ? undefined : { url: chosen.url, key: chosen.key };
}

function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** The Anthropic-format error's message (`{"type":"error","error":{"message":…}}`), if the body is one. */
export function errorMessageIn(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    return typeof parsed.error?.message === 'string' ? parsed.error.message : undefined;
  } catch {
    return undefined;
  }
}

/** GET /_anyclaude/state with node:http (cheap to load), never longer than `timeoutMs`; never throws. */
export function getState(target: StateTarget, timeoutMs: number): Promise<StateResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: StateResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request(endpoint(target.url, '/_anyclaude/state'), {
        method: 'GET',
        agent: false,
        headers: { authorization: `Bearer ${target.key}`, accept: 'application/json' },
      });
    } catch (error) {
      resolve({ ok: false, problem: 'invalid', message: `bad URL ${target.url}: ${(error as Error).message}` });
      return;
    }
    const timer = setTimeout(() => finish({ ok: false, problem: 'timeout', message: `no answer from ${target.url} within ${timeoutMs} ms` }), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNREFUSED';
      finish({ ok: false, problem: refused ? 'refused' : 'invalid', message: `${target.url}: ${error.code ?? error.message}` });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => finish({ ok: false, problem: 'invalid', message: `${target.url} broke off its answer` }));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403) {
          finish({ ok: false, problem: 'unauthorized', message: errorMessageIn(body) ?? `HTTP ${status}` });
          return;
        }
        if (status !== 200) {
          finish({ ok: false, problem: 'http', message: `HTTP ${status}${errorMessageIn(body) === undefined ? '' : `: ${errorMessageIn(body)}`}` });
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          finish({ ok: false, problem: 'invalid', message: `${target.url} answered something that is not JSON` });
          return;
        }
        if (looksLikeRunState(parsed)) finish({ ok: true, state: parsed });
        else finish({ ok: false, problem: 'invalid', message: `${target.url} answered JSON that is not anyclaude's state` });
      });
    });
    req.end();
  });
}

/** The few words a status line has room for. */
export function shortReason(problem: StateProblem | 'none'): string {
  switch (problem) {
    case 'none':
      return 'not running';
    case 'refused':
      return 'proxy not running';
    case 'timeout':
      return 'not answering';
    case 'unauthorized':
      return 'key refused';
    case 'http':
      return 'error answer';
    case 'invalid':
      return 'unreadable answer';
  }
}

/** All of stdin, or what came within `timeoutMs` (nothing from a terminal). */
function readStdin(stdin: NodeJS.ReadStream, timeoutMs: number): Promise<string> {
  if (stdin.isTTY === true) return Promise.resolve('');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      stdin.removeAllListeners('data');
      stdin.pause();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(done, timeoutMs);
    stdin.on('data', (chunk: Buffer | string) => chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stdin.once('end', done);
    stdin.once('error', done);
  });
}

/** `session_id` from what Claude Code piped in; anything else (empty, not JSON, no id) gives undefined. */
export function sessionIdFrom(input: string): string | undefined {
  try {
    const parsed = JSON.parse(input) as { session_id?: unknown };
    return typeof parsed.session_id === 'string' && parsed.session_id !== '' ? parsed.session_id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first line the user's own status line command prints, given the same stdin; undefined
 * when it prints nothing or takes longer than `timeoutMs` (then its whole process group is killed).
 */
export function runUserStatusLine(command: string, input: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const childEnv = { ...env };
    // Were it anyclaude's own status line again, it would chain itself forever.
    delete childEnv[USER_STATUSLINE_ENV];
    let out = '';
    let settled = false;
    const firstLine = (): string | undefined => {
      const line = out.split('\n')[0]?.replace(/\s+$/, '');
      return line === undefined || line === '' ? undefined : line;
    };
    const finish = (line: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(line);
    };
    const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'ignore'], env: childEnv, detached: true });
    const timer = setTimeout(() => {
      // Too slow: a line it printed completely still counts; the rest of it is not waited for.
      finish(out.includes('\n') ? firstLine() : undefined);
      kill(child.pid);
    }, timeoutMs);
    child.on('error', () => finish(undefined));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (out.length < 64 * 1024) out += chunk;
    });
    child.on('close', () => finish(firstLine()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export interface StatusLineIo {
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

type LineCache = Record<string, { line: string; at: number }>;

async function readLineCache(file: string): Promise<LineCache> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as LineCache) : {};
  } catch {
    return {};
  }
}

/** Best effort, atomic (status lines of several sessions run at once); never creates the run folder. */
async function writeLineCache(file: string, cache: LineCache, key: string, line: string): Promise<void> {
  const entries = Object.entries({ ...cache, [key]: { line, at: Date.now() } })
    .filter(([, v]) => typeof v === 'object' && v !== null && typeof v.at === 'number')
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, LINE_CACHE_ENTRIES);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(Object.fromEntries(entries)), { mode: 0o600 });
    await rename(temp, file);
  } catch {
    // No run folder (an instance found through the environment only), or read-only: no fallback then.
    // A full disk may have left the temp file half written; each call has a new pid, so remove it.
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** The status line: the user's own (if any) and ours, as one line, never throwing. */
export async function statusLine(io: StatusLineIo): Promise<string> {
  const color = io.env.NO_COLOR === undefined || io.env.NO_COLOR === '';
  // The state is asked for at once; stdin is read meanwhile.
  const targetP = findTarget(io.env).catch(() => undefined);
  const stateP: Promise<StateResult | undefined> = targetP
    .then((target) => (target === undefined ? undefined : getState(target, STATE_TIMEOUT_MS)))
    .catch((error: unknown) => ({ ok: false as const, problem: 'invalid' as const, message: String(error) }));
  const cacheFile = join(runDir(homeFromEnv(io.env)), LINE_CACHE_FILE);
  const cacheP = readLineCache(cacheFile);
  const input = await readStdin(io.stdin, STDIN_TIMEOUT_MS);
  const userCommand = nonEmpty(io.env[USER_STATUSLINE_ENV]);
  const theirsP = userCommand === undefined ? Promise.resolve(undefined) : runUserStatusLine(userCommand, input, io.env, USER_STATUSLINE_TIMEOUT_MS);
  const [target, result, theirs, cache] = await Promise.all([targetP, stateP, theirsP, cacheP]);
  const sessionId = sessionIdFrom(input);
  const key = `${target?.url ?? ''}|${sessionId ?? ''}|${color ? 'color' : 'plain'}`;
  let ours: string;
  try {
    if (result === undefined) ours = formatStatusLineError(shortReason('none'), { color });
    else if (result.ok) ours = formatStatusLine(result.state, sessionId, { color });
    else {
      const cached = cache[key];
      const fresh = result.problem === 'timeout' && cached !== undefined && typeof cached.line === 'string' && Date.now() - cached.at < STALE_LINE_MS;
      ours = fresh ? cached.line : formatStatusLineError(shortReason(result.problem), { color });
    }
  } catch {
    ours = formatStatusLineError(shortReason('invalid'), { color });
  }
  const known = cache[key];
  if (result?.ok === true && (known?.line !== ours || Date.now() - known.at > STALE_LINE_MS / 6)) await writeLineCache(cacheFile, cache, key, ours);
  return theirs === undefined ? ours : `${theirs}${CHAIN_SEPARATOR}${ours}`;
}

/** Whatever hangs (a home folder on a stalled network drive), the line is printed and the process ends by then. */
const FAILSAFE_MS = 1_000;

/** What bin/anyclaude.js runs for `status --line`: prints one line and exits 0, whatever happens. */
export async function runStatusLine(): Promise<void> {
  const exit = (): never => process.exit(0);
  // Claude Code may close the pipe before reading (a newer update replaced this one): not an error.
  process.stdout.on('error', exit);
  setTimeout(() => process.stdout.write(`${formatStatusLineError(shortReason('timeout'), { color: false })}\n`, exit), FAILSAFE_MS).unref();
  let line: string;
  try {
    line = await statusLine({ stdin: process.stdin, env: process.env });
  } catch {
    line = formatStatusLineError('status line failed', { color: false });
  }
  process.stdout.write(`${line}\n`, exit);
}
