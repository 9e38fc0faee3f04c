/**
 * What `~/.anyclaude/config.json` and `.anyclaude.json` may say, and how a mistake in them is
 * told: the file, the key path, what was expected and what was found, in our own stable words
 * (zod decides what is valid; the wording table below decides what a person reads).
 */
import { z } from 'zod';
import { BACKEND_NAMES } from '../backends/backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';
import { AnyclaudeError } from '../core/errors.js';
import { backendKind } from './backend-kinds.js';
import { CONTEXT_STRATEGIES } from '../core/context-strategy.js';

/** `"apiKey": "env:OPENROUTER_API_KEY"` reads the key from that variable, so the file holds no secret. */
export const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;
/** Alias names go where --backend's comma-separated names go, so: no commas, spaces or capitals. */
const ALIAS_NAME = /^[a-z0-9][a-z0-9._-]*$/;

const text = z.string().trim().min(1);
const httpUrl = z.string().refine(isHttpUrl);
const tokens = z.number().int().positive();

const aliasSchema = z.strictObject({
  backend: z.string().transform((name, ctx) => {
    const kind = backendKind(name);
    if (kind !== undefined) return kind;
    ctx.addIssue({ code: 'custom', message: 'not a backend kind' });
    return z.NEVER;
  }),
  url: httpUrl.optional(),
  model: text.optional(),
  context: tokens.optional(),
  apiKey: text.refine((key) => !key.startsWith('env:') || ENV_REFERENCE.test(key)).optional(),
});

const configSchema = z.strictObject({
  backend: text.optional(),
  model: text.optional(),
  context: tokens.optional(),
  protocol: z.enum(['openai', 'anthropic']).optional(),
  url: httpUrl.optional(),
  python: text.optional(),
  trace: z.boolean().optional(),
  /** The key that flips between Claude Code and the dashboard, e.g. "ctrl-]". */
  hotkey: text.optional(),
  /** What happens to a prompt past the model's window: "compact" (default) or "window". */
  contextStrategy: z.enum(CONTEXT_STRATEGIES).optional(),
  /** Seconds the proxy waits for the backend's next byte before it stops a request. */
  backendTimeout: z.number().int().positive().optional(),
  /** Aliases: a name for a backend kind with its own URL, model, context and key. */
  backends: z.record(z.string(), aliasSchema).optional(),
});

export type AnyclaudeConfig = z.output<typeof configSchema>;
/** One declared alias, its `backend` already the built-in kind it runs on. */
export type BackendAlias = z.output<typeof aliasSchema>;

interface Wording {
  expected: string;
  /** How the key is written right, for the fix. */
  example: string;
}

const TOP_WORDING: Record<keyof typeof configSchema.shape, Wording> = {
  backend: { expected: 'backend names or aliases, comma-separated', example: '"backend": "lmstudio"' },
  model: { expected: 'a model name', example: '"model": "qwen3-coder-30b"' },
  context: { expected: 'a positive whole number of tokens', example: '"context": 65536' },
  protocol: { expected: '"openai" or "anthropic"', example: '"protocol": "openai"' },
  url: { expected: 'an http(s) URL', example: '"url": "http://localhost:1234/v1"' },
  python: { expected: 'the path of a Python executable', example: '"python": "/usr/bin/python3.12"' },
  trace: { expected: 'true or false', example: '"trace": true' },
  hotkey: { expected: 'a key such as "ctrl-]"', example: '"hotkey": "ctrl-]"' },
  contextStrategy: { expected: '"compact" or "window"', example: '"contextStrategy": "window"' },
  backendTimeout: { expected: 'a positive whole number of seconds', example: '"backendTimeout": 1800' },
  backends: { expected: 'an object of aliases', example: '"backends": { "fast": { "backend": "lmstudio", "url": "http://localhost:1234/v1" } }' },
};

const ALIAS_WORDING: Record<keyof typeof aliasSchema.shape, Wording> = {
  backend: { expected: `one of ${BACKEND_NAMES.join(', ')}`, example: '"backend": "lmstudio"' },
  url: TOP_WORDING.url,
  model: TOP_WORDING.model,
  context: TOP_WORDING.context,
  apiKey: { expected: 'a key, or "env:" and the name of a variable that holds it', example: '"apiKey": "env:OPENROUTER_API_KEY"' },
};

const ROOT_WORDING: Wording = { expected: 'a JSON object', example: '{ "backend": "lmstudio" }' };
const ENTRY_WORDING: Wording = { expected: 'an object', example: '"fast": { "backend": "lmstudio", "model": "qwen3-coder-30b" }' };

/** The file's content, checked; throws CONFIG_INVALID naming `file`, the key and what was expected. */
export function validateConfig(value: unknown, file: string): AnyclaudeConfig {
  const result = configSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw issue === undefined ? invalid(file, [], ROOT_WORDING, value) : describeIssue(file, issue, value);
  }
  for (const name of Object.keys(result.data.backends ?? {})) {
    const kind = backendKind(name);
    if (kind !== undefined) {
      throw new AnyclaudeError('CONFIG_INVALID', `${file}: backends.${name}: "${name}" is a built-in backend name${kind === name ? '' : ` (for ${kind})`}, so it cannot be an alias`, {
        fix: `rename the alias, e.g. "my-${kind}"; "${kind}" itself needs no alias`,
      });
    }
    if (!ALIAS_NAME.test(name)) {
      throw new AnyclaudeError('CONFIG_INVALID', `${file}: backends.${name}: expected an alias name of lowercase letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}`, {
        fix: 'rename the alias so it can be written after --backend, e.g. "fast"',
      });
    }
  }
  return result.data;
}

/** The keys a file may hold at the top and in an alias (for help and messages). */
export const CONFIG_KEYS: readonly string[] = Object.keys(configSchema.shape);
export const ALIAS_KEYS: readonly string[] = Object.keys(aliasSchema.shape);

function describeIssue(file: string, issue: z.core.$ZodIssue, value: unknown): AnyclaudeError {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const allowed = path.length === 0 ? CONFIG_KEYS : ALIAS_KEYS;
    const key = issue.keys[0] ?? '';
    const near = allowed.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
    return new AnyclaudeError('CONFIG_INVALID', `${file}: ${[...path, key].join('.')}: unknown key; allowed: ${allowed.join(', ')}`, {
      fix: near === undefined ? `remove "${key}" or use one of the allowed keys` : `rename "${key}" to "${near}"`,
    });
  }
  return invalid(file, path, wordingAt(path), valueAt(value, path));
}

function invalid(file: string, path: readonly string[], wording: Wording, found: unknown): AnyclaudeError {
  const where = path.length === 0 ? file : `${file}: ${path.join('.')}`;
  const message = found === undefined ? `${where}: missing; expected ${wording.expected}` : `${where}: expected ${wording.expected}, got ${describe(found)}`;
  return new AnyclaudeError('CONFIG_INVALID', message, { fix: `write it like ${wording.example}` });
}

function wordingAt(path: readonly string[]): Wording {
  const [first, , key] = path;
  if (first === undefined) return ROOT_WORDING;
  if (first === 'backends') {
    if (path.length === 1) return TOP_WORDING.backends;
    if (path.length === 2) return ENTRY_WORDING;
    return ALIAS_WORDING[key as keyof typeof ALIAS_WORDING] ?? ENTRY_WORDING;
  }
  return TOP_WORDING[first as keyof typeof TOP_WORDING] ?? ROOT_WORDING;
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let here = value;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/** A value as the person wrote it: strings quoted, containers by kind (their content could be long). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

function isHttpUrl(value: string): boolean {
  try {
    normalizeBaseUrl(value);
    return true;
  } catch {
    return false;
  }
}

/** Levenshtein distance, for "did you mean" on short key names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
