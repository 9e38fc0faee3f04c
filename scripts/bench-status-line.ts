/**
 * `npx tsx scripts/bench-status-line.ts [runs]`: wall time of `node bin/anyclaude.js status --line`
 * as Claude Code runs it (its JSON on stdin, the proxy's URL and key in the environment) against a
 * local server speaking the running instance's contract. Goal: p95 < 150 ms, Node's start-up included.
 * Bare `node -e ''` is measured the same way, so the line's own cost is visible on any machine.
 * Also measured without NODE_EXTRA_CA_CERTS when it is set: Node reads the whole CA bundle at
 * start-up (~90 ms on a slow machine) before any of anyclaude's code runs.
 * Run `npm run build` first: it measures the built bin. Printed, never asserted; a run that printed
 * another line (a missed deadline) is counted and shown.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptyRunState } from '../src/run/run-state.js';
import { requestMetrics } from '../test/support/run-state-fixtures.js';

const BIN = fileURLToPath(new URL('../bin/anyclaude.js', import.meta.url));
const RUNS = Number(process.argv[2] ?? 30);
const KEY = 'anyclaude-bench-key';
const EXPECTED = '⚡ lmstudio · qwen3-coder-30b · 38 tok/s · cache 98% · ctx 31%';

const now = Date.now();
const last = requestMetrics({ sessionId: 'bench-session', startedAt: now, prefillTokensPerSec: 975, decodeTokensPerSec: 38.4, contextFillPct: 31, prefixStability: 1 });
// A full-size state: 50 recent requests and 200 log lines, as a long session has.
const state = emptyRunState({
  revision: 900,
  phase: 'running',
  proxyUrl: 'http://127.0.0.1:0',
  active: 'lmstudio',
  backends: [
    {
      id: 'lmstudio',
      kind: 'lmstudio',
      phase: 'ready',
      active: true,
      model: 'qwen/qwen3-coder-30b',
      models: ['qwen/qwen3-coder-30b'],
      contextWindow: 65_536,
      protocol: 'openai',
      url: 'http://localhost:1234/v1',
      managed: false,
      detail: undefined,
      restarts: 0,
      pid: undefined,
    },
  ],
  requests: Array.from({ length: 50 }, (_, i) => ({ ...last, id: `msg_${i}` })),
  sessions: [{ sessionId: 'bench-session', last, requests: 50 }],
  logs: Array.from({ length: 200 }, (_, i) => ({ at: now, level: 'info' as const, source: 'proxy', message: `request ${i} finished in 9.6 s, 316 tokens out` })),
});
const body = JSON.stringify(state);

const server = createServer((req, res) => {
  if (req.headers.authorization !== `Bearer ${KEY}`) return void res.writeHead(401).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const stdin = JSON.stringify({ session_id: 'bench-session', transcript_path: '/tmp/x.jsonl', cwd: '/tmp', model: { id: 'anyclaude', display_name: 'anyclaude' }, workspace: { current_dir: '/tmp', project_dir: '/tmp' } });

function once(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', () => resolve({ ms: performance.now() - started, stdout }));
    child.stdin.end(stdin);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function measure(label: string, args: string[], env: NodeJS.ProcessEnv, check?: string): Promise<number> {
  const times: number[] = [];
  const misses: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { ms, stdout } = await once(args, env);
    if (check !== undefined && stdout.trim() !== check) misses.push(stdout.trim());
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const p50 = percentile(times, 50);
  const missed = misses.length === 0 ? '' : `   ${misses.length} other lines, e.g. ${JSON.stringify(misses[0])}`;
  console.log(`${label.padEnd(52)} p50 ${p50.toFixed(0).padStart(4)} ms   p95 ${percentile(times, 95).toFixed(0).padStart(4)} ms   max ${(times.at(-1) ?? NaN).toFixed(0).padStart(4)} ms${missed}`);
  return p50;
}

// A fresh ANYCLAUDE_HOME without a run folder: no run files, no cached line to fall back on.
const home = await mkdtemp(join(tmpdir(), 'anyclaude-bench-'));
const base: NodeJS.ProcessEnv = { ...process.env, ANYCLAUDE_HOME: home, ANTHROPIC_BASE_URL: url, ANTHROPIC_AUTH_TOKEN: KEY, NO_COLOR: '1' };
delete base.ANYCLAUDE_USER_STATUSLINE;
const envs: Array<[string, NodeJS.ProcessEnv]> = [['', base]];
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  const without = { ...base };
  delete without.NODE_EXTRA_CA_CERTS;
  envs.push([' (no NODE_EXTRA_CA_CERTS)', without]);
}

console.log(`${RUNS} runs each, ${(body.length / 1024).toFixed(0)} KB of state, node ${process.version}`);
for (const [suffix, env] of envs) {
  const bare = await measure(`node -e ''${suffix}`, ['-e', ''], env);
  const line = await measure(`anyclaude status --line${suffix}`, [BIN, 'status', '--line'], env, EXPECTED);
  const chained = await measure(`  … chained with a user's status line${suffix}`, [BIN, 'status', '--line'], { ...env, ANYCLAUDE_USER_STATUSLINE: 'echo mine' }, `mine │ ${EXPECTED}`);
  console.log(`${''.padEnd(52)} the line's own cost: p50 ${(line - bare).toFixed(0)} ms over bare node (chained: ${(chained - bare).toFixed(0)} ms)`);
}
server.close();
