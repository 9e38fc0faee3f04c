/**
 * `anyclaude traces list | show <id|file> | analyze <id|file>`: reading the traces the proxy
 * writes with `--trace` (or ANYCLAUDE_DEBUG=1) under ANYCLAUDE_HOME/traces (default ~/.anyclaude/traces).
 */
import type { Command } from 'commander';
import { AnyclaudeError } from '../core/errors.js';
import { defaultTraceRoot } from '../proxy/trace-writer.js';
import { analyzeTrace } from '../traces/analyze.js';
import { renderAnalysis } from '../traces/analyze-view.js';
import { listTraces, renderList, renderProblems } from '../traces/list.js';
import { renderShow } from '../traces/show.js';
import { readTrace, type Trace } from '../traces/trace-file.js';
import { resolveTrace } from '../traces/trace-store.js';
import { positiveInt } from './flag-specs.js';

interface CommonOptions {
  dir?: string;
  json?: boolean;
}

interface ListOptions extends CommonOptions {
  limit: number;
  backend?: string;
}

interface AnalyzeOptions extends CommonOptions {
  verbose?: boolean;
}

const DIR_HELP = 'traces folder (default: $ANYCLAUDE_HOME/traces, else ~/.anyclaude/traces)';
const REF_HELP = 'an exchange id or a unique prefix of one (see `traces list`), `latest`, or a trace file';

export function registerTracesCommand(program: Command): void {
  const traces = program
    .command('traces')
    .description('list, show and analyze the exchanges traced with --trace (or ANYCLAUDE_DEBUG=1)');

  traces
    .command('list', { isDefault: true })
    .description('the newest traces: time, id, backend, model, tokens, duration, status')
    .option('-n, --limit <n>', 'how many (newest first)', positiveInt, 20)
    .option('--backend <name>', 'only this backend')
    .option('--json', 'machine-readable')
    .option('--dir <path>', DIR_HELP)
    .action(async (options: ListOptions) => {
      const listing = await listTraces(options.dir ?? defaultTraceRoot(), {
        limit: options.limit,
        ...(options.backend === undefined ? {} : { backend: options.backend }),
      });
      if (options.json === true) process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
      else process.stdout.write(`${renderList(listing)}\n`);
      // An unreadable file is told, never fatal: the others are still listed.
      if (listing.problems.length > 0 && options.json !== true) process.stderr.write(`${renderProblems(listing.problems)}\n`);
    });

  traces
    .command('show')
    .description('one exchange: summary, request, upstream request and reply, reply out')
    .argument('<id|file>', REF_HELP)
    .option('--json', 'print the trace file itself')
    .option('--dir <path>', DIR_HELP)
    .action(async (ref: string, options: CommonOptions) => {
      const { path, trace, raw } = await load(options.dir ?? defaultTraceRoot(), ref);
      const text = options.json === true ? raw.trimEnd() : renderShow(trace, path);
      process.stdout.write(`${text}\n`);
    });

  traces
    .command('analyze')
    .description("a request's prompt tokens by part: system prompt, each tool schema, messages (calibrated by the backend's own count)")
    .argument('<id|file>', REF_HELP)
    .option('-v, --verbose', 'every tool and every message, not just the totals and the top tools')
    .option('--json', 'machine-readable')
    .option('--dir <path>', DIR_HELP)
    .action(async (ref: string, options: AnalyzeOptions) => {
      const { trace } = await load(options.dir ?? defaultTraceRoot(), ref);
      const breakdown = await analyzeTrace(trace);
      process.stdout.write(options.json === true ? `${JSON.stringify(breakdown, null, 2)}\n` : `${renderAnalysis(breakdown, { verbose: options.verbose === true })}\n`);
    });
}

async function load(root: string, ref: string): Promise<{ path: string; trace: Trace; raw: string }> {
  const path = await resolveTrace(root, ref);
  const read = await readTrace(path);
  if (!read.ok) throw new AnyclaudeError('TRACE_UNREADABLE', `${path}: ${read.problem}`);
  return read;
}
