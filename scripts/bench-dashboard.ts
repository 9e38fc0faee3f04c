/**
 * `npx tsx scripts/bench-dashboard.ts`: what the Ink dashboard costs on its own, without a
 * terminal or Claude Code. Dashboard is rendered with Ink's render() into a fake 120×40 TTY that
 * counts what it is sent, driven by the real StateStore and the real event folds (src/run) the
 * way a streaming reply drives them: request:start, the first token ~0.9 s later, output tokens
 * at ~80 tok/s, request:end into the last 50 requests, a log line every 3 s. Printed, never
 * asserted. Phases:
 *  - sim only: the simulated run without a dashboard (what the harness itself costs, ~1 %)
 *  - idle: the dashboard over a store that does not change (clocks, spinners)
 *  - stream: the dashboard while replies stream (10 store notifications a second)
 * CPU is process.cpuUsage() over the phase in % of one core, all threads (on Linux also split
 * into the main thread and the rest: V8's GC and compiler threads, which do a third of the work).
 * Options (environment): BENCH_SECONDS (stream phase, default 20), BENCH_IDLE_SECONDS (10),
 * BENCH_REQUESTS and BENCH_LOGS (50 and 200: a run after an hour; 3 and 10: one just started),
 * BENCH_UPTIME_S (3600; under an hour the header's uptime moves every second), BENCH_INCREMENTAL=1
 * (Ink's incrementalRendering, which ui/front-end.tsx does not use). `NODE_OPTIONS=--expose-gc`
 * separates garbage from growth. NODE_ENV=production selects React's production build, which
 * the product loads (bin/anyclaude.js sets NODE_ENV while React loads, since 97cbf5c); the
 * default here is the development build, as tests and `tsx` get. tsx itself costs a few % (its loader thread, source maps): for numbers closer to
 * the product, bundle it and run plain node:
 *   node_modules/.bin/esbuild scripts/bench-dashboard.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=/tmp/b/bench.mjs && ln -s $PWD/node_modules /tmp/b/ && node --expose-gc /tmp/b/bench.mjs
 *
 * Results on a 2-core VM with other work on it (so: medians, and ±2 points), stream phase,
 * before and after the changes that came with this script (memoized panels, one shared clock
 * and spinner, no horizontal clipping, progress drawn at most once a frame tick within a CPU
 * budget, React's development timings dropped):
 *
 *   npx tsx, 50 requests, 200 log lines, up 1 h     before          after
 *     CPU, React development build                  86 %            13 %
 *     CPU, React production build (the product)     47 %            10 %
 *     Ink renders per second                        8-10            1.4
 *     written to the terminal                       40-50 KB/s      6-7 KB/s (0.9 with incrementalRendering)
 *     RSS after 20 s, development build, after GC   336 MB          150 MB (heap 91 → 20 MB)
 *     idle CPU, development / production            23 % / 15 %     1.2 % / 1.0 %
 *   plain node (bundled), same state
 *     CPU, development / production build           84 % / 43 %     10 % / 8 %
 *     RSS after 20 s, development build, after GC   248-309 MB      117-121 MB
 *   plain node, 3 requests, 10 log lines, up 10 min
 *     CPU, development / production build           69 % / 33 %     8 % / 6 %
 *     idle CPU (uptime moves every second)          16 % / 9 %      6 % / 5 %
 *
 * What is left is Ink's own frame: every commit redraws the whole 120×39 grid (Intl.Segmenter
 * over every line, three Sets per cell in @alcalzone/ansi-tokenize, ~10 MB of garbage), 20-40 ms
 * here whatever changed, so the cost is about frames per second × terminal area.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type { RequestMetrics } from '../src/proxy/metrics.js';
import { onFirstToken, onLog, onProgress, onRequestEnd, onRequestStart } from '../src/run/fold-events.js';
import type { LogLine, RunState, RunStore } from '../src/run/run-state.js';
import { StateStore } from '../src/run/state-store.js';
import { OverlayStdin } from '../src/terminal/overlay-streams.js';
import { backend, readyState, request } from '../test/ui/states.js';

const STREAM_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const SIM_SECONDS = 5;
/** Finished requests and log lines at the start: a run after an hour (50, 200), or BENCH_REQUESTS=3 BENCH_LOGS=10 for one just started. */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50);
const LOGS = Number(process.env.BENCH_LOGS ?? 200);
/** How long the run has been up: past an hour the header's uptime moves once a minute, before it once a second. */
const UPTIME_S = Number(process.env.BENCH_UPTIME_S ?? 3_600);
const COLUMNS = 120;
const ROWS = 40;
const QWEN = 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit';
const SESSION = '7d3c2f4e-5b1a-4f7e-9c2d-1a2b3c4d5e6f';

const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------- a run as it looks after an hour

/** The metrics of finished request `n`, numbers as Qwen3-Coder-30B on mlx-lm gives them. */
function finished(n: number, startedAt: number, outputTokens: number, decodeMs: number): RequestMetrics {
  const prompt = 18_000 + n * 230;
  return request({
    id: `req_${n}`,
    sessionId: SESSION,
    startedAt,
    promptTokens: prompt,
    cachedTokens: Math.round(prompt * (0.96 + (n % 4) * 0.01)),
    estimatedPromptTokens: prompt - 150,
    outputTokens,
    decodeTokensPerSec: (outputTokens * 1000) / decodeMs,
    prefillTokensPerSec: 850 + ((n * 37) % 120),
    ttftMs: 900 + ((n * 13) % 300),
    totalMs: 900 + decodeMs,
    prefixStability: 0.97 + (n % 3) * 0.01,
    prefixPreserved: 1,
    stopReason: n % 5 === 4 ? 'end_turn' : 'tool_use',
    contextFillPct: ((prompt + outputTokens) / 65_536) * 100,
    contextWindow: 65_536,
  });
}

function logLine(at: number, i: number): LogLine {
  const messages = [
    'req_%n POST /v1/messages 21.3K tokens (98% of the prompt unchanged)',
    'held a request 120 ms until the mlx-lm warm-up finished',
    'claude-code sent max_tokens 32000: capped to 8192',
    'req_%n end_turn 1.0K tokens in 13.4s',
  ];
  return { at, level: i % 9 === 0 ? 'warn' : 'info', source: ['proxy', 'cache', 'mlx-lm', 'up'][i % 4]!, message: messages[i % messages.length]!.replace('%n', String(i)) };
}

function initialState(now: number): RunState {
  const ready = readyState();
  const requests = Array.from({ length: REQUESTS }, (_, i) => finished(i + 1, now - (REQUESTS - i) * 20_000, 200 + ((i * 97) % 900), 4_000 + ((i * 1_300) % 9_000)));
  return {
    ...ready,
    startedAt: now - UPTIME_S * 1000,
    backends: [
      { ...ready.backends[0]!, contextWindow: 65_536 },
      ...ready.backends.slice(1, 3),
      backend('claude', { kind: 'claude', protocol: 'anthropic', model: 'claude-sonnet-4-5', models: ['claude-sonnet-4-5'], contextWindow: 200_000 }),
    ],
    requests,
    sessions: requests.length === 0 ? [] : [{ sessionId: SESSION, last: requests.at(-1)!, requests: REQUESTS }],
    logs: Array.from({ length: LOGS }, (_, i) => logLine(now - (LOGS - i) * 15_000, i)),
    backendLog: Array.from({ length: 200 }, (_, i) => `127.0.0.1 - - [13/Jun/2025 10:${String(i % 60).padStart(2, '0')}:00] "POST /v1/chat/completions HTTP/1.1" 200 -`),
  };
}

/**
 * Replies one after another, as the proxy reports them: a start, a first token after the prefill,
 * output every 50 ms (~80 tok/s), an end after ~1,000 tokens, 0.5 s until the next (a tool call).
 * The StateStore folds them and notifies at most every 100 ms, as in `anyclaude up`.
 */
/** Where the simulated run is: kept across phases, so a reply paused between them resumes. */
const sim = { n: REQUESTS + 1, logs: LOGS, phase: 'gap' as 'gap' | 'prefill' | 'decode', phaseStart: 0, startedAt: 0, tokens: 0, lastLog: 0 };

function simulate(store: StateStore): () => void {
  if (sim.phaseStart === 0) sim.phaseStart = sim.lastLog = Date.now();
  const tick = (): void => {
    const now = Date.now();
    const id = `req_${sim.n}`;
    if (sim.phase === 'gap' && now - sim.phaseStart >= 500) {
      sim.startedAt = now;
      sim.tokens = 0;
      store.update((s) => onRequestStart(s, { id, sessionId: SESSION, upstream: 'mlx-lm', model: QWEN, stream: true, at: now }));
      sim.phase = 'prefill';
      sim.phaseStart = now;
    } else if (sim.phase === 'prefill' && now - sim.phaseStart >= 900) {
      store.update((s) => onFirstToken(s, { id, ttftMs: now - sim.startedAt }));
      sim.phase = 'decode';
      sim.phaseStart = now;
    } else if (sim.phase === 'decode') {
      sim.tokens += 4;
      const outputTokens = sim.tokens;
      store.update((s) => onProgress(s, { id, outputTokens, elapsedMs: now - sim.startedAt }));
      if (sim.tokens >= 1_000) {
        const metrics = { ...finished(sim.n, sim.startedAt, sim.tokens, now - sim.phaseStart), ttftMs: sim.phaseStart - sim.startedAt, totalMs: now - sim.startedAt };
        store.update((s) => onRequestEnd(s, metrics));
        sim.n++;
        sim.phase = 'gap';
        sim.phaseStart = now;
      }
    }
    if (now - sim.lastLog >= 3_000) {
      sim.lastLog = now;
      const line = logLine(now, sim.logs++);
      store.update((s) => onLog(s, line));
    }
  };
  const timer = setInterval(tick, 50);
  return () => clearInterval(timer);
}

/** Ends the reply under way, so that the idle phase has nothing streaming. */
function finishReply(store: StateStore): void {
  if (sim.phase === 'gap') return;
  const now = Date.now();
  const metrics = { ...finished(sim.n, sim.startedAt, Math.max(1, sim.tokens), Math.max(1, now - sim.phaseStart)), totalMs: now - sim.startedAt };
  store.update((s) => onRequestEnd(s, metrics));
  sim.n++;
  sim.phase = 'gap';
  sim.phaseStart = now;
}

// ---------------------------------------------------------------- measuring

/** A TTY as Ink sees one: 120×40, counting what it is sent. */
class FakeTty extends Writable {
  readonly isTTY = true;
  readonly columns = COLUMNS;
  readonly rows = ROWS;
  bytes = 0;
  writes = 0;
  last = '';

  constructor() {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    this.writes++;
    this.last = String(chunk);
    callback();
  }
}

interface Counters {
  notifications: number;
  /** ms from a store notification to React, Yoga and Ink having drawn it (all synchronous). */
  updateMs: number[];
  inkRenders: number;
  inkRenderMs: number[];
  yogaCreated: number;
  yogaFreed: number;
}

const counters: Counters = { notifications: 0, updateMs: [], inkRenders: 0, inkRenderMs: [], yogaCreated: 0, yogaFreed: 0 };

function resetCounters(): void {
  Object.assign(counters, { notifications: 0, updateMs: [], inkRenders: 0, inkRenderMs: [], yogaCreated: 0, yogaFreed: 0 });
}

/** The store the dashboard reads, each listener call timed. */
function timedStore(inner: StateStore): RunStore {
  return {
    getSnapshot: inner.getSnapshot,
    subscribe: (listener) =>
      inner.subscribe(() => {
        const start = performance.now();
        listener();
        counters.notifications++;
        // React renders in a microtask and Ink draws in its commit: all done before setImmediate.
        setImmediate(() => counters.updateMs.push(performance.now() - start));
      }),
    switchTo: async () => {},
  };
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Memory {
  rss: number;
  heap: number;
  external: number;
  rssAfterGc: number | undefined;
  heapAfterGc: number | undefined;
}

const MB = 1024 * 1024;

function memory(): Memory {
  const raw = process.memoryUsage();
  let rssAfterGc: number | undefined;
  let heapAfterGc: number | undefined;
  if (gc) {
    gc();
    gc();
    const after = process.memoryUsage();
    rssAfterGc = after.rss / MB;
    heapAfterGc = after.heapUsed / MB;
  }
  return { rss: raw.rss / MB, heap: raw.heapUsed / MB, external: raw.external / MB, rssAfterGc, heapAfterGc };
}

function formatMemory(m: Memory): string {
  const afterGc = m.rssAfterGc === undefined ? '(no --expose-gc)' : `after GC: RSS ${m.rssAfterGc.toFixed(0)} MB, heap ${m.heapAfterGc!.toFixed(1)} MB`;
  return `RSS ${m.rss.toFixed(0)} MB, heap ${m.heap.toFixed(1)} MB, external ${m.external.toFixed(1)} MB; ${afterGc}`;
}

/** CPU ticks (1/100 s) per thread kind, from /proc (Linux): the main thread against V8's GC and compiler threads. */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = tid === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\d-]+$/, '').trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(name, (ticks.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    }
  } catch {
    // Not Linux: no breakdown.
  }
  return ticks;
}

/** One line per phase at the end, for comparing runs. */
const summary: string[] = [];

async function phase(name: string, seconds: number, tty: FakeTty | undefined): Promise<void> {
  resetCounters();
  const bytes = tty?.bytes ?? 0;
  const writes = tty?.writes ?? 0;
  const cpu = process.cpuUsage();
  const threads = threadTicks();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuPct = ((used.user + used.system) / 1e6 / wall) * 100;
  const rate = (n: number): string => (n / wall).toFixed(1);
  console.log(`\n${name} (${wall.toFixed(1)} s)`);
  const byThread = [...threadTicks()].map(([kind, ticks]) => [kind, ticks - (threads.get(kind) ?? 0)] as const).filter(([, ticks]) => ticks > 0);
  console.log(`  CPU            ${cpuPct.toFixed(1)} % of one core (user ${((used.user / 1e6 / wall) * 100).toFixed(1)}, system ${((used.system / 1e6 / wall) * 100).toFixed(1)}; ${byThread.map(([kind, ticks]) => `${kind} ${(ticks / wall).toFixed(1)}`).join(', ')})`);
  if (tty) {
    console.log(`  store → frame  ${rate(counters.notifications)} notifications/s, ${rate(counters.inkRenders)} Ink renders/s, ${rate(tty.writes - writes)} writes/s, ${((tty.bytes - bytes) / wall / 1024).toFixed(1)} KB/s written`);
    console.log(`  per update     p50 ${percentile(counters.updateMs, 50).toFixed(2)} ms, p95 ${percentile(counters.updateMs, 95).toFixed(2)} ms (React render + commit + Yoga layout + Ink frame)`);
    console.log(`  Ink frame      p50 ${percentile(counters.inkRenderMs, 50).toFixed(2)} ms, p95 ${percentile(counters.inkRenderMs, 95).toFixed(2)} ms (Ink's renderTime)`);
    console.log(`  Yoga nodes     ${rate(counters.yogaCreated)} created/s, ${rate(counters.yogaFreed)} freed/s`);
  }
  const m = memory();
  console.log(`  memory         ${formatMemory(m)}`);
  summary.push(
    `${name.split(' ')[0]!.padEnd(6)} cpu ${cpuPct.toFixed(1).padStart(5)} %  renders/s ${rate(counters.inkRenders).padStart(5)}  KB/s ${((tty ? tty.bytes - bytes : 0) / wall / 1024).toFixed(1).padStart(5)}  update p50/p95 ${percentile(counters.updateMs, 50).toFixed(1)}/${percentile(counters.updateMs, 95).toFixed(1)} ms  RSS ${m.rss.toFixed(0)} (${m.rssAfterGc?.toFixed(0) ?? '?'} after GC) MB  heap ${m.heap.toFixed(0)} (${m.heapAfterGc?.toFixed(0) ?? '?'} after GC) MB`,
  );
  // React's development build records a performance.measure per component render, kept by Node.
  console.log(`  perf timeline  ${performance.getEntriesByType('measure').length} measures, ${performance.getEntriesByType('mark').length} marks held`);
}

// ---------------------------------------------------------------- the run

const before = memory();
console.log(`bench-dashboard: ${COLUMNS}×${ROWS}, ${REQUESTS} requests, ${LOGS} log lines, up ${UPTIME_S} s, React ${process.env.NODE_ENV === 'production' ? 'production' : 'development'} build, Ink ${process.env.BENCH_INCREMENTAL === '1' ? 'incremental' : 'standard'} rendering, Node ${process.version}`);
console.log(`before loading Ink and React: ${formatMemory(before)}`);

// Colours as in a terminal (chalk decides when it loads, from process.stdout, which may be a pipe here).
process.env.FORCE_COLOR ??= '2';
// Loaded after the first measurement, as `anyclaude up` loads them only when the dashboard is shown.
const Yoga = (await import('yoga-layout')).default;
const originalCreate = Yoga.Node.create.bind(Yoga.Node);
Yoga.Node.create = (...args: Parameters<typeof Yoga.Node.create>) => {
  counters.yogaCreated++;
  const node = originalCreate(...args);
  const free = node.free.bind(node);
  node.free = () => {
    counters.yogaFreed++;
    free();
  };
  const freeRecursive = node.freeRecursive.bind(node);
  node.freeRecursive = () => {
    // freeRecursive frees the children through C++, not through their `free`: count them here.
    let count = 0;
    const walk = (n: typeof node): void => {
      count++;
      for (let i = 0; i < n.getChildCount(); i++) walk(n.getChild(i));
    };
    walk(node);
    counters.yogaFreed += count;
    freeRecursive();
  };
  return node;
};
const { createElement } = await import('react');
const { render } = await import('ink');
const { Dashboard } = await import('../ui/dashboard.js');
console.log(`after loading them:           ${formatMemory(memory())}`);

const store = new StateStore(initialState(Date.now()));

// The harness alone: the simulated run, folded and notified, with nobody drawing it.
const unsubscribe = store.subscribe(() => undefined);
let stop = simulate(store);
await phase('sim only (no dashboard)', SIM_SECONDS, undefined);
stop();
finishReply(store);
unsubscribe();
await new Promise((resolve) => setTimeout(resolve, 300));

const tty = new FakeTty();
const stdin = new OverlayStdin();
const ink = render(createElement(Dashboard, { store: timedStore(store), columns: COLUMNS, rows: ROWS }), {
  stdout: tty as unknown as NodeJS.WriteStream,
  stdin: stdin as unknown as NodeJS.ReadStream,
  exitOnCtrlC: false,
  patchConsole: false,
  incrementalRendering: process.env.BENCH_INCREMENTAL === '1',
  onRender: ({ renderTime }) => {
    counters.inkRenders++;
    counters.inkRenderMs.push(renderTime);
  },
});
await new Promise((resolve) => setTimeout(resolve, 500));
console.log(`\nmounted: ${formatMemory(memory())}`);

await phase('idle (store unchanged)', IDLE_SECONDS, tty);

stop = simulate(store);
await phase('stream (a reply at ~80 tok/s, 10 notifications/s)', STREAM_SECONDS, tty);
stop();

ink.unmount();
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(`\nunmounted: ${formatMemory(memory())}`);
console.log(`\nsummary\n${summary.map((line) => `  ${line}`).join('\n')}`);
process.exit(0);
