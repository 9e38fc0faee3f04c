/**
 * `npx tsx scripts/bench-health-probe.ts`: how fast a real mlx_lm.server (CPU, SmolLM2 fixture)
 * answers the cheap requests a liveness check could use — GET /health and GET /v1/models — while
 * it is idle and while it is busy prefilling a long prompt. The health check must not call a busy
 * server dead, so its timeout comes from these numbers. Printed, never asserted.
 * Env: PROMPT_TOKENS (default ~3000), DECODE_TOKENS (default 400), PROBE_EVERY_MS (default 250).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { CoreEvents } from '../src/core/events.js';
import { mlxLmBackend } from '../src/backends/mlx-lm-backend.js';
import { cpuShare } from '../src/supervisor/cpu-time.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOME = process.env.ANYCLAUDE_HOME ?? join(ROOT, '.cache/anyclaude-home');
const MODEL = join(HOME, 'models', 'smollm2-135m-instruct');
const PROMPT_TOKENS = Number(process.env.PROMPT_TOKENS ?? 3000);
const PROBE_EVERY_MS = Number(process.env.PROBE_EVERY_MS ?? 250);
const DECODE_TOKENS = Number(process.env.DECODE_TOKENS ?? 400);

interface Sample {
  path: string;
  ms: number;
  status: number | string;
}

async function probe(url: string, path: string): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await request(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
    await response.body.dump();
    return { path, ms: performance.now() - started, status: response.statusCode };
  } catch (error) {
    return { path, ms: performance.now() - started, status: (error as Error).name };
  }
}

async function probeWhile(url: string, busy: Promise<unknown>): Promise<Sample[]> {
  const samples: Sample[] = [];
  let done = false;
  void busy.finally(() => (done = true));
  while (!done) {
    // One at a time, like the health check: never overlapping.
    samples.push(await probe(url, '/health'));
    samples.push(await probe(url, '/v1/models'));
    await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
  }
  return samples;
}

/** A long prompt: ~1 token per word for SmolLM2's tokenizer on this text. */
function longPrompt(tokens: number): string {
  const words = 'the quick brown fox jumps over the lazy dog while anyclaude measures probes'.split(' ');
  return Array.from({ length: tokens }, (_, i) => words[i % words.length]).join(' ');
}

async function longRequest(url: string, promptTokens: number, maxTokens: number, ask: string): Promise<{ totalMs: number; firstByteMs: number; promptTokens: number | undefined; outputTokens: number | undefined }> {
  const started = performance.now();
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: `${longPrompt(promptTokens)}\n${ask}` }],
      max_tokens: maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    }),
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  let firstByteMs = -1;
  let text = '';
  for await (const chunk of response.body) {
    if (firstByteMs < 0) firstByteMs = performance.now() - started;
    text += String(chunk);
  }
  const prompt = /"prompt_tokens":\s*(\d+)/.exec(text);
  const output = /"completion_tokens":\s*(\d+)/.exec(text);
  return { totalMs: performance.now() - started, firstByteMs, promptTokens: prompt === null ? undefined : Number(prompt[1]), outputTokens: output === null ? undefined : Number(output[1]) };
}

/** The server's share of a core, second by second, until `busy` settles: what the health check's busy test sees. */
async function cpuWhile(pid: number, busy: Promise<unknown>): Promise<number[]> {
  const shares: number[] = [];
  let done = false;
  void busy.finally(() => (done = true));
  while (!done) shares.push((await cpuShare(pid, 1_000, new AbortController().signal)) ?? NaN);
  return shares.sort((a, b) => a - b);
}

function summary(samples: Sample[], path: string): string {
  const mine = samples.filter((s) => s.path === path);
  const ms = mine.map((s) => s.ms).sort((a, b) => a - b);
  const pct = (p: number): string => (ms.length === 0 ? '-' : `${Math.round(ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!)}`);
  const failures = mine.filter((s) => s.status !== 200).map((s) => s.status);
  return `${path.padEnd(11)} n=${mine.length} p50=${pct(50)} ms p95=${pct(95)} ms max=${pct(100)} ms${failures.length === 0 ? '' : ` failures: ${failures.join(', ')}`}`;
}

async function main(): Promise<void> {
  const events = new CoreEvents();
  const backend = await mlxLmBackend.start({ model: MODEL }, { home: HOME, events });
  try {
    const url = backend.info.url;
    const idleFor = new Promise((resolve) => setTimeout(resolve, 3_000));
    const [idle, idleCpu] = await Promise.all([probeWhile(url, idleFor), cpuWhile(backend.status().pid ?? 0, idleFor)]);
    console.log(`idle: CPU of the server, per second: max ${Math.round((idleCpu.at(-1) ?? NaN) * 100)}% of a core`);
    console.log(`  ${summary(idle, '/health')}`);
    console.log(`  ${summary(idle, '/v1/models')}`);
    for (const [label, prompt, output, ask] of [
      ['prefilling', PROMPT_TOKENS, 4, 'Say ok.'],
      ['decoding', 0, DECODE_TOKENS, 'Write a long story about a cat who travels around the world, in many chapters.'],
    ] as const) {
      const busy = longRequest(url, prompt, output, ask);
      const [during, cpu] = await Promise.all([probeWhile(url, busy), cpuWhile(backend.status().pid ?? 0, busy)]);
      const result = await busy;
      console.log(`${label}: ${result.promptTokens ?? '?'} tokens in, ${result.outputTokens ?? '?'} out, done after ${Math.round(result.totalMs)} ms`);
      console.log(`  ${summary(during, '/health')}`);
      console.log(`  ${summary(during, '/v1/models')}`);
      const pct = (q: number): string => `${Math.round((cpu[Math.floor(q * (cpu.length - 1))] ?? NaN) * 100)}%`;
      console.log(`  CPU of the server, per second: min ${pct(0)}, median ${pct(0.5)} of a core (busy means >= 10%)`);
    }
  } finally {
    await backend.stop();
  }
}

await main();
