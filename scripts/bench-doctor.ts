/**
 * `npx tsx scripts/bench-doctor.ts [runs]`: wall time of `node bin/anyclaude.js doctor --json`, Node's
 * start-up included, on setups with nothing for --fix to do. Goal: < 3 s for a full run.
 *   - empty: a fresh ANYCLAUDE_HOME (no venv, no model); no server runs, so off Apple Silicon the
 *     `backend` check fails (as `up` would), after three probes of closed ports.
 *   - mlx-lm: the test fixture's home (a real mlx-lm venv, inspected with its Python) and the
 *     SmolLM2 model folder, with --backend mlx-lm --model <it>; only when the fixture exists.
 *     (SmolLM2's 8K context fails backend:mlx-lm: a finding, not something --fix repairs.)
 *   - ollama: a healthy setup: the empty home plus a local HTTP server speaking Ollama's API with
 *     a 64K-context model loaded, --backend ollama --url <it>: nothing fails.
 * Runs one after another; the load average is printed, since on a shared machine it moves the numbers.
 * Run `npm run build` first: it measures the built bin. Printed, never asserted.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/anyclaude.js', import.meta.url));
const FIXTURE_HOME = fileURLToPath(new URL('../.cache/anyclaude-home', import.meta.url));
const FIXTURE_MODEL = join(FIXTURE_HOME, 'models', 'smollm2-135m-instruct');
const RUNS = Number(process.argv[2] ?? 10);

interface Mode {
  name: string;
  args: string[];
  env: Record<string, string>;
}

function once(mode: Mode): Promise<{ ms: number; failed: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile('node', [BIN, 'doctor', '--json', ...mode.args], { env: { ...process.env, ...mode.env }, timeout: 60_000 }, (error, stdout) => {
      const ms = performance.now() - started;
      try {
        const json = JSON.parse(stdout) as { summary: { fail: number } };
        resolve({ ms, failed: json.summary.fail });
      } catch {
        reject(new Error(`doctor printed no JSON: ${error?.message ?? stdout}`));
      }
    });
  });
}

async function ollamaServer(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    if (req.url === '/') return void res.end('Ollama is running');
    if (req.url === '/api/ps') return void res.end(JSON.stringify({ models: [{ name: 'qwen3-coder:30b', context_length: 65_536 }] }));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `median ${median.toFixed(0)} ms, min ${(sorted[0] ?? 0).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const empty = await mkdtemp(join(tmpdir(), 'anyclaude-bench-doctor-'));
  const ollama = await ollamaServer();
  const modes: Mode[] = [
    { name: 'empty', args: [], env: { ANYCLAUDE_HOME: empty } },
    ...(existsSync(FIXTURE_MODEL) ? [{ name: 'mlx-lm', args: ['--backend', 'mlx-lm', '--model', FIXTURE_MODEL], env: { ANYCLAUDE_HOME: FIXTURE_HOME } }] : []),
    { name: 'ollama', args: ['--backend', 'ollama', '--url', ollama.url], env: { ANYCLAUDE_HOME: empty } },
  ];
  console.log(`${RUNS} runs per mode; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const mode of modes) {
    await once(mode); // warm the disk cache, as a second run in a shell would be
    const samples: number[] = [];
    let failed = 0;
    for (let i = 0; i < RUNS; i++) {
      const run = await once(mode);
      samples.push(run.ms);
      failed = run.failed;
    }
    console.log(`${mode.name.padEnd(7)} ${stats(samples)}  (${failed} check${failed === 1 ? '' : 's'} failing)`);
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  ollama.close();
}

await main();
