/**
 * `npm run bench:supervisor`: the supervisor and the cache, against a real mlx_lm.server on CPU
 * with the SmolLM2-135M fixture model (prepared like CI does). Printed, never asserted.
 *  1. `anyclaude up` (the real CLI, warm venv) to proxy-ready, excluding model load (goal < 1.5 s);
 *     model load time; supervisor RSS while Claude Code runs (goal < 120 MB).
 *  2. A captured Claude Code session replayed turn by turn: cached share of the unchanged prefix on
 *     turns >= 2 (goal >= 95 %), and follow-up TTFT / first-turn TTFT.
 *  3. A new session's first turn after the prefix warm-up vs. on a cold backend, and the cached share
 *     of that first request (goal >= 85 %).
 * SmolLM2 has an 8K window, so the replayed session keeps Claude Code's real system prompt and
 * messages but not its 76 KB of tool schemas (they alone are ~19K tokens).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { request } from 'undici';
import { createParser } from 'eventsource-parser';
import { CoreEvents } from '../src/core/events.js';
import { mlxLmBackend } from '../src/backends/mlx-lm-backend.js';
import { startProxy, type Proxy } from '../src/proxy/server.js';
import { warmPrefix } from '../src/cache/warm-prefix.js';
import type { MessagesRequest } from '../src/anthropic/types.js';
import type { RunningBackend } from '../src/backends/backend.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../test/fixtures/claude-code-2.1.197/interactive/', import.meta.url));
const BIN = join(ROOT, 'bin/anyclaude.js');

async function prepare(): Promise<{ home: string; model: string }> {
  const home = process.env.ANYCLAUDE_HOME ?? join(ROOT, '.cache/anyclaude-home');
  const { stdout } = await execa('npx', ['tsx', join(ROOT, 'scripts/setup-fixtures.ts')], { env: { ANYCLAUDE_HOME: home } });
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  return { home, model: stdout.trim().split('\n').at(-1)! };
}

/** Phase timestamps from the real CLI's log file. */
async function startupPhases(fixture: { home: string; model: string }): Promise<{ proxyReadyMs: number; loadMs: number; rssMb: number }> {
  const user = await mkdtemp(join(tmpdir(), 'anyclaude-bench-'));
  const home = join(user, '.anyclaude');
  await mkdir(home, { recursive: true });
  await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
  const spawnedAt = Date.now();
  const child = execa('node', [BIN, 'up', '--backend', 'mlx-lm', '--model', fixture.model, '--no-tui', '--', '-p', 'Say hello', '--system-prompt', 'Answer in one short sentence.', '--tools', ''], {
    env: { HOME: user, ANYCLAUDE_HOME: home, PATH: process.env.PATH ?? '' },
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
  });
  let rssKb = 0;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      rssKb = Math.max(rssKb, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // exited
    }
  }, 50);
  await child;
  clearInterval(sampler);
  const log = await readFile(join(home, 'logs', 'anyclaude.log'), 'utf8');
  const at = (pattern: RegExp): number => {
    const line = log.split('\n').find((l) => pattern.test(l));
    if (line === undefined) throw new Error(`no log line ${pattern}:\n${log}`);
    return Date.parse(line.slice(0, 24));
  };
  const starting = at(/stopped → starting/);
  const ready = at(/starting → ready/);
  const proxyReady = at(/proxy: listening at/);
  const loadMs = ready - starting;
  return { proxyReadyMs: proxyReady - spawnedAt - loadMs, loadMs, rssMb: rssKb / 1024 };
}

interface Turn {
  ttftMs: number;
  prompt: number;
  cached: number;
}

/** One streamed request through the proxy; TTFT to the first content delta, usage from message_delta. */
async function send(proxy: Proxy, body: MessagesRequest, session: string): Promise<Turn> {
  const started = performance.now();
  const response = await request(`${proxy.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': proxy.key, 'x-claude-code-session-id': session },
    body: JSON.stringify({ ...body, stream: true, max_tokens: 8 }),
    headersTimeout: 900_000,
    bodyTimeout: 900_000,
  });
  let ttftMs = -1;
  let prompt = 0;
  let cached = 0;
  const parser = createParser({
    onEvent: (e) => {
      const event = JSON.parse(e.data) as { type: string; usage?: { input_tokens?: number; cache_read_input_tokens?: number } };
      if (event.type === 'content_block_delta' && ttftMs < 0) ttftMs = performance.now() - started;
      if (event.type === 'message_delta' && event.usage) {
        cached = event.usage.cache_read_input_tokens ?? 0;
        prompt = (event.usage.input_tokens ?? 0) + cached;
      }
    },
  });
  for await (const chunk of response.body) parser.feed(Buffer.from(chunk as Uint8Array).toString());
  if (ttftMs < 0) ttftMs = performance.now() - started;
  return { ttftMs, prompt, cached };
}

/** The captured interactive session, without tool schemas and the agents list (they need tools). */
function capturedTurns(): MessagesRequest[] {
  return [3, 4, 5, 6].map((seq) => {
    const body = (JSON.parse(readFileSync(join(FIXTURES, `00${seq}-POST-v1_messages.json`), 'utf8')) as { body: MessagesRequest }).body;
    const { tools: _t, tool_choice: _c, ...rest } = body;
    return { ...rest, messages: body.messages.filter((m) => m.role !== 'system') };
  });
}

function newSessionFirstTurn(turn: MessagesRequest): MessagesRequest {
  return { ...turn, messages: [{ role: 'user', content: 'A different question from a brand-new session: what does main.py do?' }] };
}

async function withBackend<T>(fixture: { home: string; model: string }, fn: (proxy: Proxy, backend: RunningBackend) => Promise<T>): Promise<T> {
  const events = new CoreEvents();
  const backend = await mlxLmBackend.start({ model: fixture.model }, { events, home: fixture.home });
  const proxy = await startProxy({ upstreams: [backend.upstream], events });
  try {
    return await fn(proxy, backend);
  } finally {
    await proxy.close();
    await backend.stop();
  }
}

const pct = (n: number): string => `${(n * 100).toFixed(1)} %`;

async function main(): Promise<void> {
  const fixture = await prepare();
  const startup = await startupPhases(fixture);
  const turns = capturedTurns();

  const session = await withBackend(fixture, async (proxy) => {
    const results: Turn[] = [];
    for (const turn of turns) results.push(await send(proxy, turn, 'bench-session'));
    return results;
  });
  const followUps = session.slice(1);
  // The unchanged prefix of turn N is turn N-1's whole prompt.
  const prefixShare = followUps.map((t, i) => t.cached / Math.max(1, session[i]!.prompt));
  const followTtft = followUps.reduce((n, t) => n + t.ttftMs, 0) / followUps.length;

  const cold = await withBackend(fixture, (proxy) => send(proxy, newSessionFirstTurn(turns[0]!), 'bench-cold'));
  const warm = await withBackend(fixture, async (proxy) => {
    const system = turns[0]!.system!;
    const warming = await warmPrefix(proxy, 'mlx-lm', { system, tools: [] });
    if (!warming.ok) throw new Error(`warm-up failed: ${warming.detail}`);
    return { turn: await send(proxy, newSessionFirstTurn(turns[0]!), 'bench-warm'), warmMs: warming.ms };
  });

  console.log(`anyclaude supervisor benchmark (node ${process.version}, mlx_lm.server on CPU, SmolLM2-135M fixture)`);
  console.log(`up → proxy ready, excluding model load      ${startup.proxyReadyMs} ms   (goal < 1500 ms)`);
  console.log(`model load (spawn → 1-token completion)     ${startup.loadMs} ms`);
  console.log(`supervisor RSS (max while Claude Code ran)  ${startup.rssMb.toFixed(0)} MB   (goal < 120 MB)`);
  console.log(`replayed session: prompts ${session.map((t) => t.prompt).join(' → ')} tokens; cached ${session.map((t) => t.cached).join(', ')}`);
  console.log(`cached share of the unchanged prefix, turns >= 2   ${prefixShare.map(pct).join(', ')}   (goal >= 95 %)`);
  console.log(`TTFT first turn ${session[0]!.ttftMs.toFixed(0)} ms, follow-ups avg ${followTtft.toFixed(0)} ms  → ratio ${(followTtft / session[0]!.ttftMs).toFixed(3)}`);
  console.log(`new session, cold backend: TTFT ${cold.ttftMs.toFixed(0)} ms, cached ${cold.cached}/${cold.prompt}`);
  console.log(`new session after warm-up (${warm.warmMs} ms): TTFT ${warm.turn.ttftMs.toFixed(0)} ms, cached ${warm.turn.cached}/${warm.turn.prompt} = ${pct(warm.turn.cached / Math.max(1, warm.turn.prompt))}   (goal >= 85 %)`);
}

await main();
