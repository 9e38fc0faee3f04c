/** Flags declared as data, and the backend flags `up`, `doctor` and `bench` share. */
import { Command, InvalidArgumentError } from 'commander';
import { BACKEND_NAMES } from '../backends/backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { CONTEXT_STRATEGIES, type ContextStrategy } from '../core/context-strategy.js';

/** [flags, help, parser?] */
export type FlagSpec = readonly [string, string, ((value: string) => unknown)?];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function url(value: string): string {
  try {
    return normalizeBaseUrl(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://localhost:1234/v1');
  }
}

/** How long the proxy waits for a silent backend: the same words in `up` and `proxy`. */
export const BACKEND_TIMEOUT_FLAG: FlagSpec = [
  '--backend-timeout <seconds>',
  "seconds to wait for the backend's next byte (headers or body) before the request is stopped and Claude Code retries (default 600; also ANYCLAUDE_BACKEND_TIMEOUT)",
  positiveInt,
];

/** What picks and reaches a backend: the same words in `up`, `doctor` and `bench`. */
export const BACKEND_FLAGS: readonly FlagSpec[] = [
  ['--backend <names>', `backend(s), comma-separated: ${BACKEND_NAMES.join(', ')} (default: auto-detect)`],
  ['--model <model>', 'model: a friendly name, a Hugging Face id or a path'],
  ['--backend-port <n>', 'port for a server anyclaude starts, or where to look for a running one', positiveInt],
  ['--url <url>', 'URL of a running server (http://host:port or …/v1); with mlx-lm: use it instead of starting one', url],
  ['--api-key <key>', 'key the backend server requires'],
  ['--context <tokens>', "the model's context window, when the server cannot say", positiveInt],
];

export function contextStrategy(value: string): ContextStrategy {
  const found = CONTEXT_STRATEGIES.find((s) => s === value);
  if (found === undefined) throw new InvalidArgumentError(`expected ${CONTEXT_STRATEGIES.join(' or ')}`);
  return found;
}

/** What happens to a prompt longer than the model's window: the same words in `up` and `proxy`. */
export const CONTEXT_STRATEGY_FLAG: FlagSpec = [
  '--context-strategy <strategy>',
  'a prompt past the context window: compact (Claude Code summarizes; the default) or window (the oldest turns are left out)',
  contextStrategy,
];

export function addFlags(command: Command, flags: readonly FlagSpec[]): Command {
  for (const [spec, help, parse] of flags) {
    if (parse === undefined) command.option(spec, help);
    else command.option(spec, help, parse);
  }
  return command;
}
