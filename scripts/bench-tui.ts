/**
 * `npm run bench:tui`: what hosting Claude Code in anyclaude's terminal and drawing the dashboard
 * costs, with the real Claude Code in a real terminal (tmux) and a scripted backend streaming a
 * long reply at a steady pace. Printed, never asserted.
 *  - stream throughput through the proxy, hosted with the dashboard shown vs `--no-tui` (goal ≥ 0.97)
 *  - anyclaude's CPU while a reply streams, in % of one core (goal < 10 %)
 *  - anyclaude's RSS (goal < 150 MB)
 * The pty host's added keystroke latency is `npx tsx scripts/bench-pty.ts`.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { request } from 'undici';
import { findRunningInstances, type RunFileRecord } from '../src/run/run-file.js';
import type { RunState } from '../src/run/run-state.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../test/support/scripted-upstream.js';
import { startTmux, type Tmux } from '../test/support/tmux.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/anyclaude.js');
const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 3);
/**
 * Each reply ~1,000 tokens, one token (4 characters) a piece, BENCH_PACE_MS apart: 12 ms is
 * ~80 tok/s, a 30B model on a fast Mac; BENCH_PACE_MS=1 streams as fast as the proxy can.
 */
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 12);
const REPLY = 'The quick brown fox jumps over the lazy dog, and keeps running. '.repeat(Number(process.env.BENCH_REPLY_REPEAT ?? 64));

type Mode = 'no-tui' | 'hosted' | 'hosted+dashboard';

interface Sample {
  decodeTokPerSec: number;
  cpuPct: number;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(/\d+/.exec(line)![0]) / 1024;
}

async function state(instance: RunFileRecord): Promise<RunState> {
  const response = await request(`${instance.url}/_anyclaude/state`, { headers: { authorization: `Bearer ${instance.key}` } });
  return (await response.body.json()) as RunState;
}

async function measure(mode: Mode, upstream: ScriptedUpstream): Promise<{ samples: Sample[]; rss: number }> {
  const work = await mkdtemp(join(tmpdir(), 'anyclaude-bench-tui-'));
  await Promise.all(['home', 'project'].map((d) => mkdir(join(work, d))));
  const env = `HOME=${join(work, 'home')} ANYCLAUDE_HOME=${join(work, 'anyclaude')} LMSTUDIO_URL=${upstream.url} TERM=xterm-256color`;
  const flags = mode === 'no-tui' ? '--no-tui' : '';
  const term: Tmux = await startTmux({ command: `env ${env} ${process.execPath} ${BIN} up --backend lmstudio --protocol openai ${flags}; sleep 30`, cwd: join(work, 'project'), columns: 120, rows: 40 });
  try {
    await term.waitFor('the trust screen', (s) => s.includes('trust this folder'), 60_000);
    await term.keys('Enter');
    await term.waitFor('the prompt', (s) => s.includes('Claude Code v') && s.includes('❯') && !s.includes('trust this folder'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [instance] = await findRunningInstances(join(work, 'anyclaude'));
    if (instance === undefined) throw new Error('no run file');
    const samples: Sample[] = [];
    for (let i = 0; i < PROMPTS; i++) {
      const before = (await state(instance)).requests.length;
      const ticks = cpuTicks(instance.pid);
      const started = Date.now();
      await term.keys(`prompt ${i}`, { literal: true });
      await term.keys('Enter');
      if (mode === 'hosted+dashboard') {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await term.keys('C-]');
      }
      let done: RunState | undefined;
      while (done === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const now = await state(instance);
        if (now.requests.length > before && now.inFlight.length === 0) done = now;
      }
      const cpuPct = ((cpuTicks(instance.pid) - ticks) / 100 / ((Date.now() - started) / 1000)) * 100;
      for (const r of done.requests.slice(before)) if (r.decodeTokensPerSec !== undefined) samples.push({ decodeTokPerSec: r.decodeTokensPerSec, cpuPct });
      if (mode === 'hosted+dashboard') await term.keys('C-]');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const rss = rssMb(instance.pid);
    await term.keys('/exit', { literal: true });
    await term.keys('Enter');
    return { samples, rss };
  } finally {
    await term.kill();
    await rm(work, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
const upstream = await startScriptedUpstream({ flavor: 'lmstudio', contextLength: 32_768, delayMsPerChunk: PACE_MS });
upstream.setDefault({ kind: 'text', text: REPLY, promptTokens: 21_000, chunkSize: 4 });
const results = new Map<Mode, { samples: Sample[]; rss: number }>();
const modes = (process.env.BENCH_MODES?.split(',') ?? ['no-tui', 'hosted', 'hosted+dashboard']) as Mode[];
for (const mode of modes) {
  process.stderr.write(`measuring ${mode}…\n`);
  results.set(mode, await measure(mode, upstream));
}
await upstream.close();

const plain = results.get('no-tui');
const hosted = results.get('hosted+dashboard');
const rate = (r: { samples: Sample[] }) => median(r.samples.map((s) => s.decodeTokPerSec));
const cpu = (r: { samples: Sample[] }) => median(r.samples.map((s) => s.cpuPct));
console.log(`\nanyclaude up with the real Claude Code in tmux, ${PROMPTS} prompts per mode, each reply ~${Math.round(REPLY.length / 4)} tokens, one every ${PACE_MS} ms`);
console.log('| mode | decode tok/s through the proxy (median) | anyclaude CPU while streaming | anyclaude RSS |');
console.log('| --- | --- | --- | --- |');
for (const [mode, r] of results) console.log(`| ${mode} | ${rate(r).toFixed(0)} | ${cpu(r).toFixed(1)} % of a core | ${r.rss.toFixed(0)} MB |`);
if (plain !== undefined && hosted !== undefined) {
  console.log(`\nthroughput ratio hosted+dashboard / --no-tui: ${(rate(hosted) / rate(plain)).toFixed(3)} (goal ≥ 0.97)`);
  console.log(`CPU while streaming, hosted with the dashboard shown: ${cpu(hosted).toFixed(1)} % (goal < 10 %)`);
  console.log(`RSS hosted: ${hosted.rss.toFixed(0)} MB (goal < 150 MB)`);
}
