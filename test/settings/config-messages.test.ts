/** Every way a config file can be wrong, and the exact words a person reads about it. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/settings/config-file.js';
import { expectError } from '../support/expect-error.js';

async function fileWith(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-messages-'));
  const path = join(dir, '.anyclaude.json');
  await writeFile(path, text);
  return path;
}

/** [what is wrong, file text, message after "<path>: ", fix] */
const CASES: Array<[string, string, string, string]> = [
  ['a missing brace', '{"backend": "lmstudio"', 'not valid JSON at line 1, column 23: expected "}" to close the object, found the end of the file', 'correct the JSON there, or remove <path> to go without it'],
  ['a trailing comma', '{\n  "model": "m",\n}\n', 'not valid JSON at line 3, column 1: a comma before "}" (JSON allows no trailing comma)', 'correct the JSON there, or remove <path> to go without it'],
  ['single quotes', "{\n  'model': 'm'\n}", 'not valid JSON at line 2, column 3: strings and keys need double quotes ("), found "\'model\'"', 'correct the JSON there, or remove <path> to go without it'],
  ['a bare word', '{"model": qwen}', 'not valid JSON at line 1, column 11: expected a value, found "qwen" (strings need double quotes; true, false and null are lower case)', 'correct the JSON there, or remove <path> to go without it'],
  ['an empty file', '', 'not valid JSON at line 1, column 1: expected a value, found the end of the file', 'correct the JSON there, or remove <path> to go without it'],
  ['two objects', '{}\n{}', 'not valid JSON at line 2, column 1: the file goes on after its value: "{"', 'correct the JSON there, or remove <path> to go without it'],
  ['a list', '["lmstudio"]', 'expected a JSON object, got a list', 'write it like { "backend": "lmstudio" }'],
  ['an unknown key', '{"modle": "x"}', 'modle: unknown key; allowed: backend, model, context, protocol, url, python, trace, hotkey, contextStrategy, backendTimeout, backends', 'rename "modle" to "model"'],
  ['an unknown key far from any', '{"temperature": 0.2}', 'temperature: unknown key; allowed: backend, model, context, protocol, url, python, trace, hotkey, contextStrategy, backendTimeout, backends', 'remove "temperature" or use one of the allowed keys'],
  ['context as text', '{"context": "64k"}', 'context: expected a positive whole number of tokens, got "64k"', 'write it like "context": 65536'],
  ['context below one', '{"context": 0}', 'context: expected a positive whole number of tokens, got 0', 'write it like "context": 65536'],
  ['context with a fraction', '{"context": 1.5}', 'context: expected a positive whole number of tokens, got 1.5', 'write it like "context": 65536'],
  ['a protocol nobody speaks', '{"protocol": "grpc"}', 'protocol: expected "openai" or "anthropic", got "grpc"', 'write it like "protocol": "openai"'],
  ['a URL of another scheme', '{"url": "ftp://models.local"}', 'url: expected an http(s) URL, got "ftp://models.local"', 'write it like "url": "http://localhost:1234/v1"'],
  ['trace as text', '{"trace": "yes"}', 'trace: expected true or false, got "yes"', 'write it like "trace": true'],
  ['an empty model', '{"model": "  "}', 'model: expected a model name, got "  "', 'write it like "model": "qwen3-coder-30b"'],
  ['a backend timeout as text', '{"backendTimeout": "10m"}', 'backendTimeout: expected a positive whole number of seconds, got "10m"', 'write it like "backendTimeout": 1800'],
  ['a hotkey as a number', '{"hotkey": 29}', 'hotkey: expected a key such as "ctrl-]", got 29', 'write it like "hotkey": "ctrl-]"'],
  ['backend as null', '{"backend": null}', 'backend: expected backend names or aliases, comma-separated, got null', 'write it like "backend": "lmstudio"'],
  ['backends as a list', '{"backends": ["fast"]}', 'backends: expected an object of aliases, got a list', 'write it like "backends": { "fast": { "backend": "lmstudio", "url": "http://localhost:1234/v1" } }'],
  ['an alias as text', '{"backends": {"fast": "lmstudio"}}', 'backends.fast: expected an object, got "lmstudio"', 'write it like "fast": { "backend": "lmstudio", "model": "qwen3-coder-30b" }'],
  ['an alias without its backend', '{"backends": {"fast": {"model": "m"}}}', 'backends.fast.backend: missing; expected one of mlx-lm, mlx-omni, lmstudio, llama-cpp, ollama, openai, claude', 'write it like "backend": "lmstudio"'],
  ['an alias of an unknown kind', '{"backends": {"fast": {"backend": "lmstudo"}}}', 'backends.fast.backend: expected one of mlx-lm, mlx-omni, lmstudio, llama-cpp, ollama, openai, claude, got "lmstudo"', 'write it like "backend": "lmstudio"'],
  ['an alias URL without a host', '{"backends": {"fast": {"backend": "lmstudio", "url": "http://"}}}', 'backends.fast.url: expected an http(s) URL, got "http://"', 'write it like "url": "http://localhost:1234/v1"'],
  ['an alias with a bad context', '{"backends": {"fast": {"backend": "lmstudio", "context": -1}}}', 'backends.fast.context: expected a positive whole number of tokens, got -1', 'write it like "context": 65536'],
  ['an alias with an unknown key', '{"backends": {"fast": {"backend": "lmstudio", "api_key": "k"}}}', 'backends.fast.api_key: unknown key; allowed: backend, url, model, context, apiKey', 'rename "api_key" to "apiKey"'],
  ['an alias key naming a bad variable', '{"backends": {"fast": {"backend": "lmstudio", "apiKey": "env:1KEY"}}}', 'backends.fast.apiKey: expected a key, or "env:" and the name of a variable that holds it, got "env:1KEY"', 'write it like "apiKey": "env:OPENROUTER_API_KEY"'],
  ['an alias named after a backend', '{"backends": {"lmstudio": {"backend": "lmstudio"}}}', 'backends.lmstudio: "lmstudio" is a built-in backend name, so it cannot be an alias', 'rename the alias, e.g. "my-lmstudio"; "lmstudio" itself needs no alias'],
  ['an alias named after a spelling', '{"backends": {"mlx": {"backend": "ollama"}}}', 'backends.mlx: "mlx" is a built-in backend name (for mlx-lm), so it cannot be an alias', 'rename the alias, e.g. "my-mlx-lm"; "mlx-lm" itself needs no alias'],
  ['an alias name --backend cannot carry', '{"backends": {"Fast Box": {"backend": "lmstudio"}}}', 'backends.Fast Box: expected an alias name of lowercase letters, digits, ".", "_" or "-", got "Fast Box"', 'rename the alias so it can be written after --backend, e.g. "fast"'],
];

describe('config file messages', () => {
  it.each(CASES)('%s', async (_what, text, message, fix) => {
    const path = await fileWith(text);
    const error = await expectError(readConfigFile(path, 'project'), 'CONFIG_INVALID');
    expect(error.message).toBe(`${path}: ${message}`);
    expect(error.fix).toBe(fix.replace('<path>', path));
  });

  it('a file that cannot be read says so and how to fix it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anyclaude-messages-'));
    const error = await expectError(readConfigFile(dir, 'user'), 'CONFIG_INVALID');
    expect(error.message).toMatch(new RegExp(`^${dir}: cannot be read: EISDIR`));
    expect(error.fix).toBe(`make ${dir} readable, or remove it`);
  });

  it('a byte-order mark is not an error', async () => {
    const file = await readConfigFile(await fileWith('\uFEFF{"model": "m"}'), 'user');
    expect(file.config).toEqual({ model: 'm' });
  });

  it('a good file reads with alias kinds spelled the way --backend takes them', async () => {
    const text = JSON.stringify({ backend: 'fast', context: 8192, backends: { fast: { backend: 'LM-Studio', url: 'localhost:1234', apiKey: 'env:LM_KEY' } } });
    const file = await readConfigFile(await fileWith(text), 'project');
    expect(file).toMatchObject({ scope: 'project', found: true, config: { backend: 'fast', context: 8192, backends: { fast: { backend: 'lmstudio', url: 'localhost:1234', apiKey: 'env:LM_KEY' } } } });
  });
});
