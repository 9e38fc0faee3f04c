/**
 * `npm run bench:reliability`: the real `anyclaude proxy` process under load and over a long
 * mixed run, measured from outside (/proc/<pid>) and inside (`GET /_anyclaude/status`).
 *  - Load: 32 concurrent streams shaped like several Claude Code sessions at once (main loop,
 *    subagents, title requests), each reply checked byte for byte against its own request;
 *    added latency (proxy minus the same request straight to the backend) at 32 streams and
 *    one at a time.
 *  - Soak: 2,000 requests of mixed kinds (streams, JSON, tool calls, count_tokens, backend
 *    500/400, malformed bodies, clients leaving mid-stream) after a warm-up; RSS, open fds and
 *    live handles/timers compared with the baseline taken after the warm-up.
 * Prints a table, writes .cache/bench/reliability.json, and with `--write` RELIABILITY.md.
 * Exits non-zero when a verdict fails. The backend is scripted (reliability-upstream.ts), in
 * its own process, so only the proxy's work is measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { request, type Dispatcher } from 'undici';
import { createParser } from 'eventsource-parser';
import { machineInfo } from '../src/bench/machine.js';
import { parseMessagesRequest } from '../src/anthropic/request-schema.js';
import { anthropicToOpenAI, upstreamBody } from '../src/translate/anthropic-to-openai.js';
import { UPSTREAM_PROFILES } from '../src/translate/upstream-profile.js';
import { startProxyProcess } from '../test/support/cli.js';
import { connectInspector, cpuMs, outside, settle, type Inspector } from './proxy-probe.js';
import { clientPool, expectedText, mixed, newNonce, pool, send, shapeBodies, withDirective, KINDS, type Body, type Directive, type Kind, type Outcome, type Target } from './reliability-workload.js';
import { reliabilityMarkdown, renderReliability, RESULTS_FILE, REPORT_FILE, type Figures, type LatencyFigures, type ReliabilityResults, type Verdict } from './reliability-report.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const LOAD_STREAMS = 32;
const LOAD_ROUNDS = env('BENCH_LOAD_ROUNDS', 5);
const SINGLE_PASSES = env('BENCH_SINGLE_PASSES', 2);
const LOAD_PIECES = 40;
const SOAK_REQUESTS = env('BENCH_SOAK_REQUESTS', 2000);
const WARMUP_REQUESTS = env('BENCH_WARMUP_REQUESTS', 200);
const SOAK_CONCURRENCY = 8;
const SOAK_PIECES = 12;
const SESSIONS = 8;
/** Between backend chunks: ~4 characters every 2 ms, a fast local model. */
const CHUNK_DELAY_MS = 2;
const RSS_GROWTH_LIMIT = 20 * 1024 * 1024;

// ---------------------------------------------------------------- processes

function lines(child: ResultPromise): AsyncGenerator<string> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const parts = text.split('\n');
    text = parts.pop() ?? '';
    queue.push(...parts);
    wake?.();
  });
  return (async function* () {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  })();
}

interface Backend {
  url: string;
  stats(): Promise<{ served: number; aborted: number }>;
  close(): Promise<void>;
}

async function startBackend(): Promise<Backend> {
  const script = fileURLToPath(new URL('./reliability-upstream.ts', import.meta.url));
  const child = execa('npx', ['tsx', script, String(CHUNK_DELAY_MS)], { stdin: 'pipe', reject: false });
  const out = lines(child);
  const url = (await out.next()).value as string;
  return {
    url,
    stats: async () => {
      child.stdin?.write('stats\n');
      return JSON.parse((await out.next()).value as string) as { served: number; aborted: number };
    },
    close: async () => {
      child.stdin?.end();
      await child;
    },
  };
}

// ---------------------------------------------------------------- load

interface Timing {
  ok: boolean;
  ttftMs: number;
  totalMs: number;
  detail: string;
}

const profile = UPSTREAM_PROFILES['mlx-lm'];

/** The same request straight to the backend, as the proxy would send it. */
async function sendDirect(backendUrl: string, dispatcher: Dispatcher, body: Body): Promise<Timing> {
  const d: Directive = { nonce: newNonce(), reply: 'text', n: LOAD_PIECES };
  const parsed = parseMessagesRequest(withDirective(body, d, true));
  if (!parsed.ok) throw new Error(`fixture does not parse: ${parsed.error}`);
  const payload = upstreamBody(anthropicToOpenAI(parsed.value, { model: 'bench-model', profile }), 32_000);
  const started = performance.now();
  const response = await request(`${backendUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload, dispatcher });
  let ttftMs = -1;
  let text = '';
  const parser = createParser({
    onEvent: (e) => {
      if (e.data === '[DONE]') return;
      const content = (JSON.parse(e.data) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
      if (typeof content !== 'string' || content === '') return;
      if (ttftMs < 0) ttftMs = performance.now() - started;
      text += content;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  const ok = response.statusCode === 200 && text === expectedText(d);
  return { ok, ttftMs, totalMs: performance.now() - started, detail: ok ? 'exact' : `HTTP ${response.statusCode}, text differs` };
}

/** Several Claude Code sessions at once: per session a main-loop turn, two subagents and a title request. */
function loadSlots(): Array<{ shape: string; body: Body; sessionId: string }> {
  const bodies = shapeBodies();
  return Array.from({ length: LOAD_STREAMS }, (_, i) => {
    const session = Math.floor(i / 4);
    const shape = (['main', 'subagent', 'subagent', 'title'] as const)[i % 4]!;
    const list = bodies[shape];
    return { shape, body: list[(session + i) % list.length]!, sessionId: `load-${session}` };
  });
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function latencyFigures(direct: Timing[], proxied: Timing[]): LatencyFigures {
  const added = (pick: (t: Timing) => number): number[] => proxied.map((p, i) => pick(p) - pick(direct[i]!));
  const ttft = added((t) => t.ttftMs);
  const total = added((t) => t.totalMs);
  return {
    pairs: proxied.length,
    directTtftP50: percentile(direct.map((t) => t.ttftMs), 50),
    directTotalP50: percentile(direct.map((t) => t.totalMs), 50),
    addedTtftP50: percentile(ttft, 50),
    addedTtftP95: percentile(ttft, 95),
    addedTotalP50: percentile(total, 50),
    addedTotalP95: percentile(total, 95),
  };
}

async function loadPhase(target: Target, backendUrl: string, pid: number): Promise<Figures['load']> {
  const slots = loadSlots();
  const proxyPool = clientPool(LOAD_STREAMS);
  const directPool = clientPool(LOAD_STREAMS);
  const proxyTarget = { ...target, dispatcher: proxyPool };
  const viaProxy = async (slot: (typeof slots)[number]): Promise<Outcome> => send(proxyTarget, 'stream', slot.body, slot.sessionId, LOAD_PIECES);
  const asTiming = (o: Outcome): Timing => ({ ok: o.ok, ttftMs: o.ttftMs, totalMs: o.totalMs, detail: o.detail });
  // One round unmeasured: the tokenizer, the JIT and both pools warm up.
  await Promise.all(slots.map(viaProxy));
  await Promise.all(slots.map((s) => sendDirect(backendUrl, directPool, s.body)));

  const outcomes: Outcome[] = [];
  const direct: Timing[] = [];
  const proxied: Timing[] = [];
  const cpuBefore = cpuMs(pid);
  for (let round = 0; round < LOAD_ROUNDS; round++) {
    direct.push(...(await Promise.all(slots.map((s) => sendDirect(backendUrl, directPool, s.body)))));
    const got = await Promise.all(slots.map(viaProxy));
    outcomes.push(...got);
    proxied.push(...got.map(asTiming));
  }
  const cpuPerStream = (cpuMs(pid) - cpuBefore) / proxied.length;
  const singleDirect: Timing[] = [];
  const singleProxied: Timing[] = [];
  for (let pass = 0; pass < SINGLE_PASSES; pass++) {
    for (const slot of slots) {
      singleDirect.push(await sendDirect(backendUrl, directPool, slot.body));
      const got = await viaProxy(slot);
      outcomes.push(got);
      singleProxied.push(asTiming(got));
    }
  }
  await Promise.all([proxyPool.close(), directPool.close()]);
  const failures = outcomes.filter((o) => !o.ok);
  const directFailures = [...direct, ...singleDirect].filter((t) => !t.ok).length;
  return {
    streams: LOAD_STREAMS,
    rounds: LOAD_ROUNDS,
    pieces: LOAD_PIECES,
    shapes: Object.fromEntries(['main', 'subagent', 'title'].map((s) => [s, slots.filter((x) => x.shape === s).length])),
    requests: outcomes.length,
    errors: failures.length,
    crossTalk: outcomes.filter((o) => o.crossTalk).length,
    directErrors: directFailures,
    cpuMsPerStream: cpuPerStream,
    failures: failures.slice(0, 5).map((o) => o.detail),
    concurrent: latencyFigures(direct, proxied),
    single: latencyFigures(singleDirect, singleProxied),
  };
}

// ---------------------------------------------------------------- soak

async function runMixed(target: Target, from: number, count: number, onDone: (done: number) => void): Promise<Outcome[]> {
  const dispatcher = clientPool(SOAK_CONCURRENCY);
  let done = 0;
  const outcomes = await pool(count, SOAK_CONCURRENCY, async (i) => {
    const job = mixed(from + i, SESSIONS);
    const outcome = await send({ ...target, dispatcher }, job.kind, job.body, job.sessionId, SOAK_PIECES);
    onDone(++done);
    return outcome;
  });
  await dispatcher.close();
  return outcomes;
}

async function soakPhase(target: Target, pid: number, backend: Backend, startedRssBytes: number, inspector: Inspector): Promise<Figures['soak']> {
  const start = outside(pid);
  const warmup = await runMixed(target, 0, WARMUP_REQUESTS, () => undefined);
  const baseline = await settle(pid, target.url, target.key, { collectGarbage: inspector.collectGarbage });
  const before = await backend.stats();
  const samples: Figures['soak']['samples'] = [];
  let peakRss = baseline.rssBytes;
  const cpuBefore = cpuMs(pid);
  const outcomes = await runMixed(target, WARMUP_REQUESTS, SOAK_REQUESTS, (done) => {
    const now = outside(pid);
    peakRss = Math.max(peakRss, now.rssBytes);
    if (done % 100 === 0) samples.push({ done, ...now });
  });
  const cpuPerRequest = (cpuMs(pid) - cpuBefore) / SOAK_REQUESTS;
  const after = await settle(pid, target.url, target.key, { collectGarbage: inspector.collectGarbage });
  const upstream = await backend.stats();
  const byKind = Object.fromEntries(KINDS.map((k) => [k, { sent: outcomes.filter((o) => o.kind === k).length, ok: outcomes.filter((o) => o.kind === k && o.ok).length }])) as Record<Kind, { sent: number; ok: number }>;
  const failures = outcomes.filter((o) => !o.ok);
  return {
    requests: outcomes.length,
    warmupRequests: warmup.length,
    warmupErrors: warmup.filter((o) => !o.ok).length,
    concurrency: SOAK_CONCURRENCY,
    sessions: SESSIONS,
    byKind,
    unexpected: failures.length,
    crossTalk: outcomes.filter((o) => o.crossTalk).length,
    failures: failures.slice(0, 5).map((o) => `${o.kind}: ${o.detail}`),
    cpuMsPerRequest: cpuPerRequest,
    backendServed: upstream.served - before.served,
    backendAborted: upstream.aborted - before.aborted,
    startedRssBytes,
    beforeSoakRssBytes: start.rssBytes,
    peakRssBytes: peakRss,
    baseline,
    after,
    samples,
  };
}

// ---------------------------------------------------------------- verdicts and output

function verdicts(f: Figures): Verdict[] {
  const { load, soak } = f;
  const growth = soak.after.rssBytes - soak.baseline.rssBytes;
  const grown = Object.entries(soak.after.inside.activeResources).filter(([k, n]) => n > (soak.baseline.inside.activeResources[k] ?? 0));
  const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
  return [
    { name: 'load: every stream answered exactly, no error', threshold: '0 errors', value: `${load.errors} of ${load.requests}`, pass: load.errors === 0 },
    { name: 'load: no cross-talk between streams', threshold: '0 replies with foreign bytes', value: String(load.crossTalk), pass: load.crossTalk === 0 },
    { name: 'soak: every request got what its kind should', threshold: '0 unexpected', value: `${soak.unexpected} of ${soak.requests}`, pass: soak.unexpected === 0 && soak.crossTalk === 0 },
    { name: 'soak: RSS growth after warm-up', threshold: `< ${mb(RSS_GROWTH_LIMIT)}`, value: mb(growth), pass: growth < RSS_GROWTH_LIMIT },
    { name: 'soak: no request left in flight', threshold: '0', value: String(soak.after.inFlight), pass: soak.after.inFlight === 0 },
    { name: 'soak: open fds back to baseline', threshold: `<= ${soak.baseline.fds}`, value: String(soak.after.fds), pass: soak.after.fds <= soak.baseline.fds },
    { name: 'soak: no handle or timer growth', threshold: 'each kind <= baseline', value: grown.length === 0 ? 'none grew' : grown.map(([k, n]) => `${k} ${soak.baseline.inside.activeResources[k] ?? 0}→${n}`).join(', '), pass: grown.length === 0 },
    { name: 'soak: a client leaving closes its backend request', threshold: `${soak.byKind['client-abort'].sent} closed`, value: String(soak.backendAborted), pass: soak.backendAborted === soak.byKind['client-abort'].sent },
  ];
}

async function commit(): Promise<string> {
  const result = await execa('git', ['rev-parse', '--short', 'HEAD'], { reject: false });
  return result.exitCode === 0 ? String(result.stdout).trim() : 'unknown';
}

async function main(): Promise<void> {
  const write = process.argv.includes('--write');
  if (process.env.BENCH_NO_BUILD !== '1') await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const loadAtStart = loadavg();
  const backend = await startBackend();
  const inspectPort = await getPort();
  // The inspector is how the bench forces a GC in the proxy before it reads memory (see connectInspector).
  const proxy = await startProxyProcess(['proxy', '--upstream', backend.url, '--flavor', 'mlx-lm', '--model', 'bench-model', '--context', '262144'], { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` });
  const inspector = await connectInspector(inspectPort);
  const pid = proxy.child.pid!;
  const startedRssBytes = outside(pid).rssBytes;
  const target: Target = { url: proxy.env.ANTHROPIC_BASE_URL, key: proxy.env.ANTHROPIC_API_KEY, dispatcher: clientPool(1) };
  try {
    console.error(`load: ${LOAD_STREAMS} concurrent streams × ${LOAD_ROUNDS} rounds, then one at a time …`);
    const load = await loadPhase(target, backend.url, pid);
    console.error(`soak: ${WARMUP_REQUESTS} warm-up + ${SOAK_REQUESTS} mixed requests, ${SOAK_CONCURRENCY} at a time …`);
    const soak = await soakPhase(target, pid, backend, startedRssBytes, inspector);
    const figures: Figures = { load, soak };
    const results: ReliabilityResults = {
      schema: 'anyclaude-reliability/1',
      date: new Date().toISOString(),
      commit: await commit(),
      machine: machineInfo(),
      loadAverage: loadAtStart,
      backendChunkDelayMs: CHUNK_DELAY_MS,
      figures,
      verdicts: verdicts(figures),
    };
    mkdirSync(fileURLToPath(new URL('../.cache/bench/', import.meta.url)), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    console.log(renderReliability(results, 'table'));
    console.log(`\nresults: ${RESULTS_FILE}`);
    if (write) {
      writeFileSync(REPORT_FILE, reliabilityMarkdown(results));
      console.log(`report:  ${REPORT_FILE}`);
    }
    if (results.verdicts.some((v) => !v.pass)) process.exitCode = 1;
  } finally {
    inspector.close();
    proxy.child.kill('SIGTERM');
    await proxy.child;
    await backend.close();
  }
}

await main();
