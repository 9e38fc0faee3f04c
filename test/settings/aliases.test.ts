/** Backend aliases: declared in either file, chosen like a backend, their settings between the environment and the files' top-level keys. */
import { describe, expect, it } from 'vitest';
import { startOptions } from '../../src/run/start-options.js';
import { expectError } from '../support/expect-error.js';
import { configSetup } from './files.js';

const FAST = { backend: 'lmstudio', url: 'http://fast:1234/v1', model: 'qwen3-coder-30b', context: 65536, apiKey: 'fast-key' };

describe('choosing an alias', () => {
  it.each([
    ['--backend fast', { backend: 'fast' }, {}, {}],
    ['--mode fast', { mode: 'fast' }, {}, {}],
    ['ANYCLAUDE_MODE=fast', {}, { ANYCLAUDE_MODE: 'fast' }, {}],
    ['"backend": "fast" in the project file', {}, {}, { backend: 'fast' }],
    ['FAST in any case', { backend: 'FAST' }, {}, {}],
  ])('%s runs lmstudio with the alias settings', async (_how, flags, env, top) => {
    const setup = await configSetup({ project: { ...top, backends: { fast: FAST } } });
    const s = await setup.load(flags, env);
    expect(s.backends).toEqual(['lmstudio']);
    expect(s.chosen).toEqual([{ kind: 'lmstudio', alias: 'fast' }]);
    expect(s.forBackend('lmstudio')).toEqual({ url: 'http://fast:1234', model: 'qwen3-coder-30b', context: 65536, apiKey: 'fast-key' });
    expect(s.sources.get('lmstudio.url')).toBe(`config ${setup.projectFile} backends.fast.url`);
    expect(s.origins.get('lmstudio.model')).toEqual({ kind: 'project', path: setup.projectFile, key: 'backends.fast.model' });
  });

  it("reaches up's start options (what the backend is started with)", async () => {
    const setup = await configSetup({ user: { backends: { fast: FAST } } });
    const s = await setup.load({ backend: 'fast' });
    expect(startOptions(s, 'lmstudio', undefined)).toMatchObject({ url: 'http://fast:1234', model: 'qwen3-coder-30b', context: 65536, apiKey: 'fast-key' });
  });
});

/** [rule, flags, env, files, expected lmstudio settings, expected sources (setting → label, <project>/<user> replaced)] */
const RULES: Array<[string, object, NodeJS.ProcessEnv, { user?: object; project?: object }, object, Record<string, string | undefined>]> = [
  [
    'flags win over the alias',
    { backend: 'fast', model: 'flag-model', url: 'http://flag:9', context: 1000, apiKey: 'flag-key' },
    {},
    { project: { backends: { fast: FAST } } },
    { model: 'flag-model', url: 'http://flag:9', context: 1000, apiKey: 'flag-key' },
    { 'lmstudio.model': 'flag --model', 'lmstudio.apiKey': 'flag --api-key' },
  ],
  [
    'environment variables win over the alias',
    { backend: 'fast' },
    { LMSTUDIO_URL: 'http://env:8/v1', LMSTUDIO_MODEL: 'env-model', LMSTUDIO_CONTEXT_LENGTH: '2000', LMSTUDIO_API_KEY: 'env-key' },
    { project: { backends: { fast: FAST } } },
    { model: 'env-model', url: 'http://env:8', context: 2000, apiKey: 'env-key' },
    { 'lmstudio.url': 'env LMSTUDIO_URL', 'lmstudio.apiKey': 'env LMSTUDIO_API_KEY' },
  ],
  [
    "the alias wins over both files' top-level keys",
    { backend: 'fast' },
    {},
    { project: { model: 'project-model', context: 1, backends: { fast: FAST } }, user: { model: 'user-model', url: 'http://user:7' } },
    { model: 'qwen3-coder-30b', url: 'http://fast:1234', context: 65536, apiKey: 'fast-key' },
    { 'lmstudio.model': '<project> backends.fast.model' },
  ],
  [
    'what the alias does not say comes from the top-level keys',
    { backend: 'fast' },
    {},
    { project: { context: 8192, backends: { fast: { backend: 'lmstudio' } } }, user: { model: 'user-model' } },
    { model: 'user-model', context: 8192 },
    { 'lmstudio.model': '<user>', 'lmstudio.context': '<project>' },
  ],
  [
    "the project file's alias replaces the user file's as a whole",
    { backend: 'fast' },
    {},
    { project: { backends: { fast: { backend: 'lmstudio', model: 'project-fast' } } }, user: { backends: { fast: FAST } } },
    { model: 'project-fast' },
    { 'lmstudio.model': '<project> backends.fast.model', 'lmstudio.url': undefined },
  ],
  [
    "the project file may choose the user file's alias",
    {},
    {},
    { project: { backend: 'fast' }, user: { backends: { fast: FAST } } },
    { model: 'qwen3-coder-30b', url: 'http://fast:1234', context: 65536, apiKey: 'fast-key' },
    { backend: '<project>', 'lmstudio.model': '<user> backends.fast.model' },
  ],
  [
    'a declared alias that is not chosen changes nothing',
    { backend: 'lmstudio' },
    {},
    { project: { model: 'project-model', backends: { fast: FAST } } },
    { model: 'project-model' },
    { 'lmstudio.model': '<project>' },
  ],
];

describe('alias rules', () => {
  it.each(RULES)('%s', async (_rule, flags, env, files, expected, sources) => {
    const setup = await configSetup(files);
    const s = await setup.load(flags, env);
    expect(s.forBackend('lmstudio')).toEqual(expected);
    for (const [setting, label] of Object.entries(sources)) {
      expect(s.sources.get(setting)).toBe(label?.replace('<project>', `config ${setup.projectFile}`).replace('<user>', `config ${setup.userFile}`));
    }
  });

  it('another backend chosen beside an alias does not get its settings', async () => {
    const setup = await configSetup({ project: { backends: { fast: FAST } } });
    const s = await setup.load({ backend: 'fast,claude' });
    expect(s.backends).toEqual(['lmstudio', 'claude']);
    expect(s.forBackend('claude')).toEqual({});
  });

  it('lists every declared alias, with the file that declares it', async () => {
    const setup = await configSetup({ project: { backends: { fast: FAST } }, user: { backends: { fast: { backend: 'ollama' }, big: { backend: 'mlx', model: 'm' } } } });
    const s = await setup.load();
    expect(s.chosen).toBeUndefined();
    expect(Object.fromEntries(s.aliases)).toEqual({
      fast: { ...FAST, name: 'fast', scope: 'project', path: setup.projectFile },
      big: { backend: 'mlx-lm', model: 'm', name: 'big', scope: 'user', path: setup.userFile },
    });
  });
});

describe('alias keys from the environment ("env:VAR")', () => {
  const REMOTE = { backend: 'openai', url: 'https://openrouter.ai/api/v1', apiKey: 'env:OPENROUTER_API_KEY' };

  it('reads the key from the variable, and says so', async () => {
    const setup = await configSetup({ user: { backends: { remote: REMOTE } } });
    const s = await setup.load({ backend: 'remote' }, { OPENROUTER_API_KEY: 'sk-or-123' });
    expect(s.forBackend('openai').apiKey).toBe('sk-or-123');
    expect(s.sources.get('openai.apiKey')).toBe(`config ${setup.userFile} backends.remote.apiKey (env OPENROUTER_API_KEY)`);
  });

  it('an unset variable is an error naming the file, the key and the variable', async () => {
    const setup = await configSetup({ user: { backends: { remote: REMOTE } } });
    const s = await setup.load({ backend: 'remote' });
    const error = await expectError(Promise.resolve().then(() => s.forBackend('openai')), 'CONFIG_KEY_UNSET');
    expect(error.message).toBe(`${setup.userFile}: backends.remote.apiKey: says "env:OPENROUTER_API_KEY", but OPENROUTER_API_KEY is not set`);
    expect(error.fix).toBe('export OPENROUTER_API_KEY=<the key> before running anyclaude, or pass --api-key');
  });

  it('an unset variable does not matter when --api-key gives the key, or the alias is not chosen', async () => {
    const setup = await configSetup({ user: { backends: { remote: REMOTE } } });
    expect((await setup.load({ backend: 'remote', apiKey: 'flag-key' })).forBackend('openai').apiKey).toBe('flag-key');
    expect((await setup.load({ backend: 'openai' })).forBackend('openai').apiKey).toBeUndefined();
  });
});

describe('alias mistakes', () => {
  it('two aliases of one kind in one run', async () => {
    const setup = await configSetup({ project: { backends: { fast: FAST, slow: { backend: 'lm-studio', model: 'big' } } } });
    const error = await expectError(setup.load({ backend: 'fast,slow' }), 'BACKEND_TWICE');
    expect(error.message).toBe('"fast" and "slow" (from flag --backend) are both lmstudio, and one run starts each kind of backend once');
    expect(error.fix).toBe('name one of them; run a second anyclaude for the other');
  });

  it('an alias and its own kind in one run', async () => {
    const setup = await configSetup({ project: { backend: 'lmstudio,fast', backends: { fast: FAST } } });
    const error = await expectError(setup.load(), 'BACKEND_TWICE');
    expect(error.message).toBe(`"lmstudio" and "fast" (from config ${setup.projectFile}) are both lmstudio, and one run starts each kind of backend once`);
  });

  it('an unknown name lists the kinds and the declared aliases', async () => {
    const setup = await configSetup({ user: { backends: { fast: FAST, big: { backend: 'mlx-lm' } } } });
    const error = await expectError(setup.load({}, { ANYCLAUDE_MODE: 'fsat' }), 'BACKEND_UNKNOWN');
    expect(error.message).toBe('unknown backend "fsat" (from env ANYCLAUDE_MODE)');
    expect(error.fix).toBe('choose from mlx-lm, mlx-omni, lmstudio, llama-cpp, ollama, openai, claude, or an alias: fast, big');
  });

  it('an unknown name with no aliases says where aliases go', async () => {
    const setup = await configSetup();
    const error = await expectError(setup.load({ backend: 'fast' }), 'BACKEND_UNKNOWN');
    expect(error.fix).toBe('choose from mlx-lm, mlx-omni, lmstudio, llama-cpp, ollama, openai, claude, or declare it under "backends" in a config file');
  });
});
