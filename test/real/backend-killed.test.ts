/**
 * The backend killed mid-stream, with everything real: `anyclaude up` runs mlx_lm.server (the
 * SmolLM2 fixture on CPU), the proxy and the Claude Code CLI; while Claude Code's turn is
 * streaming, the server's process group gets SIGKILL. The reply Claude Code was reading ends with
 * an SSE `overloaded_error` event, the supervisor starts a new server, and Claude Code's own retry
 * completes the turn.
 *
 * What Claude Code 2.1.197 does with that event (read from its bundle, seen here): an
 * `overloaded_error` after content was streamed makes it ask again WITHOUT streaming (its
 * "non-streaming fallback"; before any content it retries streaming up to 3 times); the 529s that
 * request gets while the server restarts are retried with its usual backoff. A stream that just
 * breaks off (no error event) would instead be kept as a partial answer, "Connection closed
 * mid-response", and never retried: the error event is what makes the retry happen.
 *
 * When to kill: the proxy's own state (`GET /_anyclaude/state`, found through the run file)
 * lists each request in flight with the output it has streamed so far. The readiness probe and
 * health checks never pass through the proxy, so an in-flight request with output is Claude
 * Code's turn, mid-stream: nothing in a log has to be guessed at.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import psList from 'ps-list';
import { mkdir, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../support/cli.js';
import { parseSse } from '../support/sse.js';
import { prepareMlxFixture, SMALL_CLAUDE_ARGS } from '../support/mlx-fixture.js';

interface InFlight {
  id: string;
  outputTokens: number;
}

interface Trace {
  id: string;
  startedAt: number;
  requestIn: { body: string };
  replyOut?: { status: number; body: string };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The running `up`'s proxy, from the run file it writes for `anyclaude status`. */
async function proxyOf(home: string): Promise<{ url: string; key: string } | undefined> {
  const name = (await readdir(join(home, 'run'))).find((n) => n.endsWith('.run'));
  if (name === undefined) return undefined;
  return JSON.parse(await readFile(join(home, 'run', name), 'utf8')) as { url: string; key: string };
}

async function inFlight(proxy: { url: string; key: string }): Promise<InFlight[]> {
  const response = await fetch(`${proxy.url}/_anyclaude/state`, { headers: { 'x-api-key': proxy.key } });
  return ((await response.json()) as { inFlight: InFlight[] }).inFlight;
}

async function serverPid(home: string): Promise<number | undefined> {
  const text = await readFile(join(home, 'run', 'mlx-lm.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as { pid: number }).pid;
}

async function serversUsing(home: string): Promise<number> {
  return (await psList()).filter((p) => (p.cmd ?? '').includes('mlx_lm.server') && (p.cmd ?? '').includes(home) && !(p.cmd ?? '').includes('<defunct>')).length;
}

async function traces(home: string): Promise<Trace[]> {
  const dir = join(home, 'traces', 'mlx-lm');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  const all = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as Trace));
  return all.sort((a, b) => a.startedAt - b.startedAt);
}

/** The text a traced non-streaming reply carried (its events as JSON). */
function textOf(trace: Trace): string {
  const events = JSON.parse(trace.replyOut?.body ?? '[]') as Array<{ type: string; delta?: { text?: string } }>;
  return events.map((e) => (e.type === 'content_block_delta' ? (e.delta?.text ?? '') : '')).join('');
}

/** The last event of a traced reply: SSE for a streaming request, the event list for a non-streaming one. */
function lastEventType(trace: Trace): string | undefined {
  const body = trace.replyOut?.body ?? '';
  if (body.startsWith('[')) return (JSON.parse(body) as Array<{ type: string }>).at(-1)?.type;
  return parseSse(body).at(-1)?.event;
}

describe('the backend killed mid-stream (real mlx_lm.server, real Claude Code)', () => {
  let model: string;
  let fixtureHome: string;
  beforeAll(async () => {
    ({ model, home: fixtureHome } = await prepareMlxFixture());
  }, 600_000);

  it("Claude Code gets an error event, the supervisor restarts the server, and Claude Code's retry completes the turn", async () => {
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-killed-'));
    const home = join(userHome, '.anyclaude');
    await mkdir(home, { recursive: true });
    await symlink(join(fixtureHome, 'venvs'), join(home, 'venvs'));
    await symlink(join(fixtureHome, 'models'), join(home, 'models'));
    const prompt = 'Write a numbered list of 60 different animals, one per line, with one sentence about each.';
    const child = execa('node', [BIN, 'up', '--backend', 'mlx-lm', '--model', model, '--no-tui', '--trace', '--', '-p', prompt, ...SMALL_CLAUDE_ARGS], {
      env: { HOME: userHome, ANYCLAUDE_HOME: home, PATH: process.env.PATH ?? '', CLAUDE_CODE_MAX_OUTPUT_TOKENS: '64' },
      extendEnv: false,
      cwd: userHome,
      stdin: 'ignore',
      reject: false,
      timeout: 280_000,
    });

    const proxy = await poll('the run file', 180_000, () => proxyOf(home));
    const streaming = await poll("Claude Code's turn streaming output", 180_000, async () => (await inFlight(proxy)).find((r) => r.outputTokens >= 5));
    const killed = await serverPid(home);
    expect(killed).toBeDefined();
    process.kill(-killed!, 'SIGKILL');
    const restarted = await poll('a new mlx_lm.server', 120_000, async () => {
      const pid = await serverPid(home);
      return pid !== undefined && pid !== killed ? pid : undefined;
    });

    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout).trim()).toMatch(/[A-Za-z]{3,}/);
    expect(restarted).not.toBe(killed);
    expect(await serversUsing(home)).toBe(0);

    const log = await readFile(join(home, 'logs', 'mlx-lm.log'), 'utf8');
    expect(log).toContain('--- mlx-lm exited (signal SIGKILL)');
    expect(log.match(/anyclaude starts mlx-lm/g)?.length).toBe(2);

    const all = await traces(home);
    const turns = all.filter((t) => t.requestIn.body.includes('60 different animals'));
    const cut = turns.find((t) => t.replyOut?.body.includes('event: error') === true);
    expect(cut, `traced turns: ${turns.map((t) => t.replyOut?.status).join(', ')}`).toBeDefined();
    // The request that ended with the error is the one that was streaming when the server died.
    expect(cut!.id).toBe(streaming.id);
    const cutFrames = parseSse(cut!.replyOut!.body);
    expect(cutFrames.some((f) => f.event === 'content_block_delta')).toBe(true);
    expect(cutFrames.at(-1)?.event).toBe('error');
    expect(JSON.parse(cutFrames.at(-1)!.data)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    // Claude Code's retry: it asks again without streaming (529s while the server restarts), then gets the whole answer.
    const later = turns.filter((t) => t.startedAt > cut!.startedAt);
    const completed = later.filter((t) => t.replyOut?.status === 200 && lastEventType(t) === 'message_stop');
    expect(completed, `later turns: ${later.map((t) => t.replyOut?.status).join(', ')}`).toHaveLength(1);
    expect(later.slice(0, -1).every((t) => t.replyOut?.status === 529)).toBe(true);
    expect(JSON.parse(completed[0]!.requestIn.body)).not.toHaveProperty('stream');
    // What Claude Code printed is that answer.
    const answer = textOf(completed[0]!).trim();
    expect(answer.length).toBeGreaterThan(0);
    expect(String(result.stdout)).toContain(answer.split('\n')[0]);
  }, 300_000);
});
