/**
 * `anyclaude bench <folder>`: replays a captured conversation against one or more backends and
 * reports TTFT, prefill and decode speed, cache reuse and prefix stability per turn (src/bench/).
 * `anyclaude bench compare <dir>`: saved runs side by side.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadRuns, renderComparison } from '../bench/compare.js';
import { ProgressBar } from '../bench/progress.js';
import { renderJson, renderMarkdown, renderTable } from '../bench/report.js';
import { loadReplay } from '../bench/replay-input.js';
import { runBench } from '../bench/replayer.js';
import type { BenchRun } from '../bench/results.js';
import { homeFromEnv } from '../run/run-file.js';
import { loadUpSettings } from '../settings/load-settings.js';
import type { UpFlags } from '../settings/up-settings.js';
import { runCleanups } from '../supervisor/cleanup.js';
import { addFlags, BACKEND_FLAGS, positiveInt, type FlagSpec } from './flag-specs.js';
import { anyclaudeVersion } from './version.js';
import { onExit } from '../supervisor/cleanup.js';

export interface BenchFlags extends Pick<UpFlags, 'backend' | 'model' | 'backendPort' | 'url' | 'apiKey' | 'context'> {
  maxTokens?: number;
  stripTools?: boolean;
  turns?: number;
  json?: boolean;
  markdown?: boolean;
  chart?: string;
  save?: string;
  machine?: string;
  python?: string;
}

export const BENCH_FLAGS: readonly FlagSpec[] = [
  ['--max-tokens <n>', 'cap max_tokens of every replayed request (small models ramble to the cap)', positiveInt],
  ['--strip-tools', "drop tools and tool_choice from every request (a small model's window cannot hold them)"],
  ['--turns <n>', 'replay only the first n requests', positiveInt],
  ['--json', 'print the run as JSON (schema anyclaude-bench/1; described in docs/bench.md)'],
  ['--markdown', 'print the run as markdown tables'],
  ['--chart <file.svg>', 'also draw the run as an SVG chart'],
  ['--save <dir>', 'also save the run as JSON in <dir>, for `anyclaude bench compare <dir>`'],
  ['--machine <label>', 'how reports name this machine (default: CPU, cores, memory, OS)'],
  ['--python <path>', 'Python for the managed venvs'],
];

export interface BenchIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

const defaultIo = (): BenchIo => ({ env: process.env, stdout: process.stdout, stderr: process.stderr });

export async function runBenchCommand(folder: string, flags: BenchFlags, io: BenchIo = defaultIo()): Promise<BenchRun> {
  const home = homeFromEnv(io.env);
  const settings = await loadUpSettings(flags, { env: io.env, home });
  // As given (a relative path stays relative): reports name it, and a README should not show one machine's folders.
  const input = await loadReplay(folder);
  const bar = new ProgressBar(io.stderr);
  // Ctrl-C exits through the cleanups (which stop the servers), not through `finally`: the bar goes first.
  const dropBar = onExit(() => bar.done());
  let run: BenchRun;
  try {
    run = await runBench({
      input,
      settings,
      home,
      maxTokens: flags.maxTokens,
      stripTools: flags.stripTools,
      turns: flags.turns,
      machineLabel: flags.machine,
      anyclaudeVersion: anyclaudeVersion(),
      onProgress: (p) => bar.update(p),
      onLog: (source, message) => bar.log(`anyclaude: ${source}: ${message}`),
    });
  } finally {
    dropBar();
    bar.done();
  }
  io.stdout.write(flags.json === true ? renderJson(run) : flags.markdown === true ? renderMarkdown(run) : renderTable(run));
  if (flags.chart !== undefined) {
    const { renderChart } = await import('../bench/chart.js');
    await writeFile(flags.chart, await renderChart(run));
    io.stderr.write(`bench: chart written to ${flags.chart}\n`);
  }
  if (flags.save !== undefined) {
    await mkdir(flags.save, { recursive: true });
    const file = join(flags.save, `${run.createdAt.replace(/[:.]/g, '-')}-${run.backends.map((b) => b.backend).join('+')}.json`);
    await writeFile(file, renderJson(run));
    io.stderr.write(`bench: run saved as ${file}\n`);
  }
  return run;
}

export async function runCompareCommand(dir: string, flags: { markdown?: boolean }, io: BenchIo = defaultIo()): Promise<void> {
  const { runs, skipped } = await loadRuns(dir);
  if (skipped.length > 0) io.stderr.write(`bench compare: not bench runs, skipped: ${skipped.join(', ')}\n`);
  io.stdout.write(renderComparison(runs, flags.markdown === true ? 'markdown' : 'table'));
}

export function registerBenchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description('replay a captured conversation (a trace folder or captured requests) against backends and measure TTFT, speed and cache reuse')
    .argument('<folder>', 'captured requests (like test/fixtures/bench-short-chat) or a trace folder (~/.anyclaude/traces)');
  addFlags(bench, BACKEND_FLAGS);
  addFlags(bench, BENCH_FLAGS);
  bench.action(async (folder: string, flags: BenchFlags) => {
    try {
      const run = await runBenchCommand(folder, flags);
      process.exitCode = run.backends.some((b) => b.error !== null || b.summary.errors > 0) ? 1 : 0;
    } finally {
      await runCleanups();
    }
  });
  bench
    .command('compare')
    .description('compare saved bench runs (JSON files in <dir>) side by side')
    .argument('<dir>', 'folder of runs saved with --save or --json')
    .option('--markdown', 'print a markdown table')
    // `bench` has a --markdown of its own, which commander would take for itself: read both.
    .action(async (dir: string, _flags: unknown, command: Command) => runCompareCommand(dir, command.optsWithGlobals<{ markdown?: boolean }>()));
}
