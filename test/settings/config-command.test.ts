/** `anyclaude config` through the real bin, with ANYCLAUDE_HOME and the working directory in temp dirs. */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { configSetup, type ConfigSetup } from './files.js';

const SECRET = 'sk-fast-0123456789-wxyz';

async function config(setup: ConfigSetup, args: string[], env: Record<string, string> = {}) {
  // Only the variables given: the runner's own LMSTUDIO_URL or ANYCLAUDE_MODE must not leak in.
  return execa('node', [BIN, 'config', ...args], { cwd: setup.cwd, env: { PATH: process.env.PATH ?? '', ANYCLAUDE_HOME: setup.home, ...env }, extendEnv: false, reject: false });
}

const DEFAULT = { kind: 'default' };

describe('anyclaude config --json', () => {
  it('gives every setting, its value and its source, the files read and the aliases, keys masked', async () => {
    const setup = await configSetup({
      user: { model: 'user-model', trace: true, backendTimeout: 1800, backends: { big: { backend: 'mlx', model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit' } } },
      project: { backend: 'fast', hotkey: 'ctrl-g', backends: { fast: { backend: 'lmstudio', url: 'http://localhost:1234/v1', context: 65536, apiKey: SECRET } } },
    });
    const result = await config(setup, ['--json', '--context', '32768'], { LMSTUDIO_MODEL: 'qwen/qwen3-coder-30b', ANYCLAUDE_CONTEXT_STRATEGY: 'window' });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain(SECRET);
    const project = (key: string) => ({ kind: 'project', path: setup.projectFile, key });
    expect(JSON.parse(result.stdout)).toEqual({
      files: { user: { path: setup.userFile, found: true }, project: { path: setup.projectFile, found: true, searchedFrom: setup.cwd } },
      settings: {
        backend: { value: ['fast'], source: project('backend') },
        protocol: { value: null, source: DEFAULT },
        python: { value: null, source: DEFAULT },
        trace: { value: true, source: { kind: 'user', path: setup.userFile, key: 'trace' } },
        debug: { value: 0, source: DEFAULT },
        proxyOnly: { value: false, source: DEFAULT },
        hotkey: { value: 'ctrl-g', source: project('hotkey') },
        contextStrategy: { value: 'window', source: { kind: 'env', name: 'ANYCLAUDE_CONTEXT_STRATEGY' } },
        backendTimeout: { value: 1800, source: { kind: 'user', path: setup.userFile, key: 'backendTimeout' } },
        backendPort: { value: null, source: DEFAULT },
        home: { value: setup.home, source: { kind: 'env', name: 'ANYCLAUDE_HOME' } },
      },
      backends: {
        lmstudio: {
          alias: 'fast',
          model: { value: 'qwen/qwen3-coder-30b', source: { kind: 'env', name: 'LMSTUDIO_MODEL' } },
          url: { value: 'http://localhost:1234', source: project('backends.fast.url') },
          apiKey: { value: '****wxyz', source: project('backends.fast.apiKey') },
          context: { value: 32768, source: { kind: 'flag', name: '--context' } },
        },
      },
      aliases: {
        big: { backend: 'mlx-lm', url: null, model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', context: null, apiKey: null, scope: 'user', path: setup.userFile },
        fast: { backend: 'lmstudio', url: 'http://localhost:1234/v1', model: null, context: 65536, apiKey: '****wxyz', scope: 'project', path: setup.projectFile },
      },
    });
  });

  it('with no files: the user file not found, no project file, every backend kind at its defaults', async () => {
    const setup = await configSetup();
    const result = await config(setup, ['--json']);
    expect(result.exitCode).toBe(0);
    const view = JSON.parse(result.stdout) as { files: unknown; settings: Record<string, unknown>; backends: Record<string, unknown>; aliases: unknown };
    expect(view.files).toEqual({ user: { path: setup.userFile, found: false }, project: { path: null, found: false, searchedFrom: setup.cwd } });
    expect(view.settings.backend).toEqual({ value: null, source: DEFAULT });
    expect(view.settings.hotkey).toEqual({ value: 'ctrl-]', source: DEFAULT });
    expect(view.settings.contextStrategy).toEqual({ value: 'compact', source: DEFAULT });
    expect(view.settings.backendTimeout).toEqual({ value: 600, source: DEFAULT });
    expect(Object.keys(view.backends)).toEqual(['mlx-lm', 'mlx-omni', 'lmstudio', 'llama-cpp', 'ollama', 'openai', 'claude']);
    expect(view.backends.ollama).toEqual({ alias: null, model: { value: null, source: DEFAULT }, url: { value: null, source: DEFAULT }, apiKey: { value: null, source: DEFAULT }, context: { value: null, source: DEFAULT } });
    expect(view.aliases).toEqual({});
  });
});

describe('anyclaude config', () => {
  it('prints the same as text, one setting a line with its source', async () => {
    const setup = await configSetup({ project: { backend: 'fast', backends: { fast: { backend: 'lmstudio', url: 'http://localhost:1234/v1', apiKey: SECRET } } } });
    const result = await config(setup, ['--model', 'flag-model']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain(SECRET);
    // Columns are padded to the longest value; compare with the padding squeezed.
    const lines = result.stdout.split('\n').map((line) => line.replace(/ {2,}/g, '  ').trimEnd());
    for (const line of [
      'Files',
      `  user  ${setup.userFile} (not found)`,
      `  project  ${setup.projectFile}`,
      'Settings (flag > environment > project file > user file > default)',
      `  backend  fast  project ${setup.projectFile}`,
      '  hotkey  ctrl-]  default',
      '  backendTimeout  600  default',
      'lmstudio (alias fast)',
      '  model  flag-model  flag --model',
      `  url  http://localhost:1234  project ${setup.projectFile} backends.fast.url`,
      `  apiKey  ****wxyz  project ${setup.projectFile} backends.fast.apiKey`,
      '  context  (not set)  default',
      'Aliases (use with --backend, ANYCLAUDE_MODE or "backend")',
      `  fast: lmstudio, url http://localhost:1234/v1, apiKey ****wxyz (project ${setup.projectFile})`,
    ]) {
      expect(lines).toContain(line);
    }
  });

  it('auto-detect: kinds with the same settings share a table, kinds with nothing set are only named', async () => {
    const setup = await configSetup({ user: { context: 8192 } });
    const result = await config(setup, [], { MLX_LM_MODEL: 'mlx-community/Qwen3-4B-4bit' });
    const lines = result.stdout.split('\n').map((line) => line.replace(/ {2,}/g, '  ').trimEnd());
    expect(lines).toContain('  backend  (auto-detect)  default');
    expect(lines).toContain('mlx-omni, lmstudio, llama-cpp, ollama, openai, claude');
    expect(lines).toContain('mlx-lm');
    expect(lines).toContain('  model  mlx-community/Qwen3-4B-4bit  env MLX_LM_MODEL');
    expect(lines.filter((line) => line === `  context  8192  user ${setup.userFile}`)).toHaveLength(2);
    const empty = await config(await configSetup(), []);
    expect(empty.stdout).toContain('\nNothing set for mlx-lm, mlx-omni, lmstudio, llama-cpp, ollama, openai, claude\n');
    expect(empty.stdout).toContain('  (none declared: add "backends" to a config file)');
  });

  it('a bad file: the message names the file, the key and what was expected, and the exit code is 1', async () => {
    const setup = await configSetup({ user: '{"context": "big"}' });
    const result = await config(setup, ['--json']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`anyclaude: ${setup.userFile}: context: expected a positive whole number of tokens, got "big"\n  fix: write it like "context": 65536`);
  });

  it('config path: where the files are, even when one is broken', async () => {
    const setup = await configSetup({ project: '{"model": ' });
    const text = await config(setup, ['path']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toBe(`  user     ${setup.userFile} (not found)\n  project  ${setup.projectFile}`);
    const json = await config(setup, ['path', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ user: { path: setup.userFile, found: false }, project: { path: setup.projectFile, found: true, searchedFrom: setup.cwd } });
  });
});
