/** Where each `up` setting comes from: flag > environment > config file > default, and the predecessor's variables. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { AnyclaudeConfig } from '../../src/settings/config-file.js';
import { debugLevel, environmentHelp, resolveUpSettings, UP_ENV, type UpFlags } from '../../src/settings/up-settings.js';
import { thrown } from '../support/expect-error.js';

const CONFIG_FILE = '/home/u/.anyclaude/config.json';

function resolve(flags: UpFlags = {}, env: NodeJS.ProcessEnv = {}, config: AnyclaudeConfig = {}) {
  return resolveUpSettings(flags, { env, config, configFile: CONFIG_FILE });
}

describe('up settings precedence', () => {
  it('defaults: auto-detect, dashboard on, no trace, nothing per backend', () => {
    const s = resolve();
    expect(s.backends).toBeUndefined();
    expect(s.pointed).toEqual([]);
    expect({ tui: s.tui, trace: s.trace, debug: s.debug, proxyOnly: s.proxyOnly, demo: s.demo }).toEqual({ tui: true, trace: false, debug: 0, proxyOnly: false, demo: false });
    expect(s.forBackend('lmstudio')).toEqual({});
    expect(s.sources.size).toBe(0);
  });

  it('backend: flag > ANYCLAUDE_MODE > config', () => {
    const env = { ANYCLAUDE_MODE: 'lmstudio' };
    const config = { backend: 'ollama' };
    expect(resolve({ backend: 'mlx-lm' }, env, config).backends).toEqual(['mlx-lm']);
    expect(resolve({}, env, config).backends).toEqual(['lmstudio']);
    expect(resolve({}, {}, config).backends).toEqual(['ollama']);
    expect(resolve({}, env, config).sources.get('backend')).toBe('env ANYCLAUDE_MODE');
    expect(resolve({}, {}, config).sources.get('backend')).toBe(`config ${CONFIG_FILE}`);
  });

  it('--mode is --backend by its old name, below --backend itself', () => {
    expect(resolve({ mode: 'claude' }, { ANYCLAUDE_MODE: 'lmstudio' }).backends).toEqual(['claude']);
    expect(resolve({ backend: 'ollama', mode: 'claude' }).backends).toEqual(['ollama']);
  });

  it.each([
    ['lmstudio', ['lmstudio']],
    ['mlx-lm', ['mlx-lm']],
    ['claude', ['claude']],
    ['MLX', ['mlx-lm']],
    ['lm-studio', ['lmstudio']],
    ['llama.cpp,ollama', ['llama-cpp', 'ollama']],
  ])('ANYCLAUDE_MODE=%s names %j', (mode, expected) => {
    expect(resolve({}, { ANYCLAUDE_MODE: mode }).backends).toEqual(expected);
  });

  it('an unknown backend names where it came from', () => {
    const error = thrown(() => resolve({}, { ANYCLAUDE_MODE: 'gpt5' }));
    expect(error.code).toBe('BACKEND_UNKNOWN');
    expect(error.message).toContain('env ANYCLAUDE_MODE');
    expect(error.fix).toContain('lmstudio');
  });

  it('LM Studio variables feed the lmstudio backend only, below flags and above the config file', () => {
    const env = { LMSTUDIO_URL: 'http://localhost:1234/v1', LMSTUDIO_MODEL: 'qwen/qwen3-coder-30b', LMSTUDIO_API_KEY: 'lm-key', LMSTUDIO_CONTEXT_LENGTH: '65536' };
    const config = { model: 'from-config', url: 'http://config-host:1/v1', context: 4096 };
    const s = resolve({}, env, config);
    expect(s.forBackend('lmstudio')).toEqual({ url: 'http://localhost:1234', model: 'qwen/qwen3-coder-30b', apiKey: 'lm-key', context: 65536 });
    expect(s.forBackend('mlx-lm')).toEqual({ url: 'http://config-host:1', model: 'from-config', context: 4096 });
    expect(s.sources.get('lmstudio.url')).toBe('env LMSTUDIO_URL');
    expect(s.pointed).toEqual(['lmstudio']);
    const flagged = resolve({ model: 'flag-model', url: 'http://flag-host:2', context: 1000, apiKey: 'flag-key' }, env, config);
    expect(flagged.forBackend('lmstudio')).toEqual({ url: 'http://flag-host:2', model: 'flag-model', apiKey: 'flag-key', context: 1000 });
    expect(flagged.sources.get('lmstudio.model')).toBe('flag --model');
  });

  it('mlx-lm variables: MLX_LM_URL, MLX_LM_MODEL before MLX_MODEL, MLX_LM_API_KEY', () => {
    const s = resolve({}, { MLX_LM_URL: 'http://127.0.0.1:8080/v1/', MLX_MODEL: 'second', MLX_LM_MODEL: 'first', MLX_LM_API_KEY: 'k' });
    expect(s.forBackend('mlx-lm')).toEqual({ url: 'http://127.0.0.1:8080', model: 'first', apiKey: 'k' });
    expect(s.pointed).toEqual(['mlx-lm']);
    expect(resolve({}, { MLX_MODEL: 'only' }).forBackend('mlx-lm').model).toBe('only');
    expect(resolve({}, { MLX_MODEL: 'only' }).forBackend('lmstudio').model).toBeUndefined();
  });

  it('empty variables count as unset', () => {
    const s = resolve({}, { ANYCLAUDE_MODE: '', LMSTUDIO_URL: '  ', MLX_LM_MODEL: '' }, { backend: 'ollama' });
    expect(s.backends).toEqual(['ollama']);
    expect(s.forBackend('lmstudio')).toEqual({});
    expect(s.pointed).toEqual([]);
  });

  it('bad values name the variable and say how to fix them', () => {
    const context = thrown(() => resolve({}, { LMSTUDIO_CONTEXT_LENGTH: 'big' }).forBackend('lmstudio'));
    expect(context.message).toContain('LMSTUDIO_CONTEXT_LENGTH="big"');
    expect(context.fix).toBeTruthy();
    const url = thrown(() => resolve({}, { MLX_LM_URL: 'ftp://x' }).forBackend('mlx-lm'));
    expect(url.code).toBe('URL_INVALID');
    expect(url.message).toContain('MLX_LM_URL');
  });

  it.each([
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['false', 0],
    ['no', 0],
    ['1', 1],
    ['true', 1],
    ['2', 2],
    ['3', 2],
  ] as const)('ANYCLAUDE_DEBUG=%j is level %i', (value, level) => {
    expect(debugLevel(value)).toBe(level);
    const s = resolve({}, value === undefined ? {} : { ANYCLAUDE_DEBUG: value });
    expect(s.debug).toBe(level);
    expect(s.trace).toBe(level >= 1);
  });

  it('trace: flag, then ANYCLAUDE_DEBUG, then the config file', () => {
    expect(resolve({}, {}, { trace: true }).trace).toBe(true);
    expect(resolve({}, { ANYCLAUDE_DEBUG: '0' }, { trace: true }).trace).toBe(true);
    expect(resolve({ trace: true }).sources.get('trace')).toBe('flag --trace');
  });

  it('PROXY_ONLY=true is --proxy-only', () => {
    expect(resolve({}, { PROXY_ONLY: 'true' }).proxyOnly).toBe(true);
    expect(resolve({}, { PROXY_ONLY: 'false' }).proxyOnly).toBe(false);
    expect(resolve({ proxyOnly: true }).proxyOnly).toBe(true);
  });

  it('protocol and python: flag > config', () => {
    expect(resolve({}, {}, { protocol: 'anthropic', python: '/usr/bin/python3.12' })).toMatchObject({ protocol: 'anthropic', python: '/usr/bin/python3.12' });
    expect(resolve({ protocol: 'openai' }, {}, { protocol: 'anthropic' }).protocol).toBe('openai');
  });

  it('up --help lists every variable', () => {
    const help = environmentHelp();
    for (const variable of UP_ENV) expect(help).toContain(variable.name);
    for (const name of ['ANYCLAUDE_MODE', 'LMSTUDIO_URL', 'LMSTUDIO_MODEL', 'LMSTUDIO_API_KEY', 'LMSTUDIO_CONTEXT_LENGTH', 'MLX_LM_URL', 'MLX_LM_MODEL', 'MLX_MODEL', 'MLX_LM_API_KEY', 'ANYCLAUDE_DEBUG', 'PROXY_ONLY']) {
      expect(help).toContain(name);
    }
  });
});

describe('README', () => {
  it('lists every variable up reads', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const variable of UP_ENV) expect(readme).toContain(`\`${variable.name}\``);
  });
});
