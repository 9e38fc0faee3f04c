/**
 * `npx tsx scripts/bench-pty.ts`: what the terminal host adds between the keyboard and Claude Code.
 * Printed, never asserted.
 *  1. Keystroke latency: one byte into the host's stdin until the echoing child's reply comes out
 *     of the host's stdout, p50/p95 over 500 keystrokes (a few ms apart, like fast typing),
 *     against the same echo child driven through node-pty directly. Goal: host p95 - direct p95 < 5 ms.
 *     Also this process's CPU time per keystroke (the host's scan, pty write, passthrough and mirror).
 *  2. Output throughput: a child printing ~8 MB of coloured lines, through the host (passthrough
 *     plus the headless mirror parsing all of it) and directly; wall time and CPU.
 * The host gets stream doubles on our side: keys are emitted on its stdin synchronously and its
 * stdout is a Writable that notes arrivals, so the numbers are the host's, not a TTY's.
 */
import { PassThrough, Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { spawn, type IPty } from '@lydell/node-pty';
import { TerminalHost } from '../src/terminal/terminal-host.js';

const KEYSTROKES = 500;
const WARMUP_KEYSTROKES = 50;
const GAP_MS = 3;
const ROUNDS = 5; // host and direct alternate in rounds, so drift in the machine's load hits both

const ECHO_CHILD = `
  process.stdin.setRawMode(true);
  process.stdin.on('data', (d) => process.stdout.write(d));
  process.stdout.write('R');
`;

const FLOOD_CHILD = `
  process.stdin.setRawMode(true);
  process.stdin.resume();
  const line = '\\x1b[32m✓\\x1b[0m ' + 'streamed tokens of a long answer, '.repeat(2) + '\\x1b[2mdim\\x1b[0m\\r\\n';
  const chunk = line.repeat(400);
  let left = Math.ceil(${8 * 1024 * 1024} / Buffer.byteLength(chunk));
  const go = () => {
    while (left-- > 0) if (!process.stdout.write(chunk)) return void process.stdout.once('drain', go);
    process.stdout.write('<<DONE>>');
  };
  go();
`;

interface Endpoint {
  /** Deliver one key. */
  send(bytes: Buffer): void;
  /** Every chunk of child output as it reaches our side. */
  onOutput(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

function direct(child: string): Endpoint {
  const pty: IPty = spawn(process.execPath, ['-e', child], { name: 'xterm-256color', cols: 120, rows: 40, env: process.env, encoding: null });
  return {
    send: (bytes) => (pty as unknown as { write(data: Buffer): void }).write(bytes),
    onOutput: (listener) => void pty.onData((data: Buffer | string) => listener(Buffer.isBuffer(data) ? data : Buffer.from(data))),
    close: () =>
      new Promise((resolve) => {
        pty.onExit(() => resolve());
        pty.kill();
      }),
  };
}

function hosted(child: string): Endpoint {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const listeners: ((chunk: Buffer) => void)[] = [];
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const listener of listeners) listener(chunk);
        callback();
      },
    }),
    { columns: 120, rows: 40 },
  );
  const host = TerminalHost.start({ file: process.execPath, args: ['-e', child], env: process.env, stdin, stdout });
  return {
    // Straight to the host's 'data' listener, as a TTY read would arrive.
    send: (bytes) => void stdin.emit('data', bytes),
    onOutput: (listener) => void listeners.push(listener),
    close: async () => {
      host.dispose();
      await host.exited;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when a chunk passes `test`. */
function nextOutput(endpoint: Endpoint): (test: (chunk: Buffer) => boolean) => Promise<void> {
  let waiting: { test: (chunk: Buffer) => boolean; resolve: () => void } | undefined;
  endpoint.onOutput((chunk) => {
    if (waiting !== undefined && waiting.test(chunk)) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve();
    }
  });
  return (test) => new Promise((resolve) => (waiting = { test, resolve }));
}

interface Typing {
  latencies: number[];
  cpuMicros: number;
}

async function type(endpoint: Endpoint, wait: ReturnType<typeof nextOutput>, count: number): Promise<Typing> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const byte = 0x61 + (i % 26);
    const replied = wait((chunk) => chunk.includes(byte));
    const sent = performance.now();
    endpoint.send(Buffer.from([byte]));
    await replied;
    latencies.push(performance.now() - sent);
    await sleep(GAP_MS);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { latencies, cpuMicros: cpu.user + cpu.system };
}

async function keystrokes(): Promise<void> {
  const sides = { direct: direct(ECHO_CHILD), host: hosted(ECHO_CHILD) };
  const results = { direct: { latencies: [] as number[], cpuMicros: 0 }, host: { latencies: [] as number[], cpuMicros: 0 } };
  const waits = { direct: nextOutput(sides.direct), host: nextOutput(sides.host) };
  await Promise.all([waits.direct((c) => c.includes(0x52)), waits.host((c) => c.includes(0x52))]);
  for (const side of ['direct', 'host'] as const) await type(sides[side], waits[side], WARMUP_KEYSTROKES);

  const perRound = Math.ceil(KEYSTROKES / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (['host', 'direct'] as const) : (['direct', 'host'] as const)) {
      const typing = await type(sides[side], waits[side], perRound);
      results[side].latencies.push(...typing.latencies);
      results[side].cpuMicros += typing.cpuMicros;
    }
  }
  await Promise.all([sides.direct.close(), sides.host.close()]);

  const direct50 = percentile(results.direct.latencies, 50);
  const direct95 = percentile(results.direct.latencies, 95);
  const host50 = percentile(results.host.latencies, 50);
  const host95 = percentile(results.host.latencies, 95);
  const cpuDirect = results.direct.cpuMicros / results.direct.latencies.length;
  const cpuHost = results.host.cpuMicros / results.host.latencies.length;
  console.log(`Keystroke latency, ${results.host.latencies.length} keystrokes each, ${GAP_MS} ms apart (echo child, node-pty):`);
  console.log(`  direct node-pty   p50 ${ms(direct50)}   p95 ${ms(direct95)}   CPU/keystroke ${us(cpuDirect)}`);
  console.log(`  terminal host     p50 ${ms(host50)}   p95 ${ms(host95)}   CPU/keystroke ${us(cpuHost)}`);
  console.log(`  added by the host p50 ${ms(host50 - direct50)}   p95 ${ms(host95 - direct95)}   CPU/keystroke ${us(cpuHost - cpuDirect)}`);
  console.log(`  goal: added p95 < 5 ms -> ${host95 - direct95 < 5 ? 'met' : 'NOT met'}`);
}

async function flood(make: (child: string) => Endpoint): Promise<{ seconds: number; megabytes: number; cpuSeconds: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const endpoint = make(FLOOD_CHILD);
  let bytes = 0;
  let tail = '';
  const done = new Promise<void>((resolve) =>
    endpoint.onOutput((chunk) => {
      bytes += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-16);
      if (tail.includes('<<DONE>>')) resolve();
    }),
  );
  await done;
  const seconds = (performance.now() - started) / 1000;
  // Let the mirror finish parsing what it was given before counting CPU.
  await sleep(500);
  await endpoint.close();
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, megabytes: bytes / 1024 / 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function throughput(): Promise<void> {
  const baseline = await flood(direct);
  const host = await flood(hosted);
  console.log(`Output throughput (child printing ~8 MB of coloured lines, incl. child start):`);
  for (const [name, r] of [['direct node-pty', baseline], ['terminal host  ', host]] as const) {
    console.log(`  ${name}   ${r.megabytes.toFixed(1)} MB in ${r.seconds.toFixed(2)} s (${(r.megabytes / r.seconds).toFixed(1)} MB/s)   our CPU ${r.cpuSeconds.toFixed(2)} s`);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const ms = (value: number): string => `${value.toFixed(3).padStart(7)} ms`;
const us = (value: number): string => `${value.toFixed(0).padStart(5)} µs`;

await keystrokes();
await throughput();
