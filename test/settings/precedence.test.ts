/** flag > environment > project file > user file > default, for every setting the files can hold, through real files. */
import { describe, expect, it } from 'vitest';
import type { UpFlags, UpSettings } from '../../src/settings/up-settings.js';
import { configSetup } from './files.js';

interface Level<T> {
  /** What is written at this level. */
  set: T;
  /** The value that results when this level wins. */
  is?: unknown;
}

interface SettingCase {
  setting: string;
  flag: Level<UpFlags>;
  /** The flag as typed, when it is not the key's name (`--backend-timeout` for backendTimeout). */
  flagName?: string;
  env?: Level<NodeJS.ProcessEnv> & { name: string };
  project: Level<object>;
  user: Level<object>;
  default: unknown;
  read(s: UpSettings): unknown;
}

const CASES: SettingCase[] = [
  {
    setting: 'lmstudio.model',
    flag: { set: { model: 'flag-model' } },
    env: { name: 'LMSTUDIO_MODEL', set: { LMSTUDIO_MODEL: 'env-model' } },
    project: { set: { model: 'project-model' } },
    user: { set: { model: 'user-model' } },
    default: undefined,
    read: (s) => s.forBackend('lmstudio').model,
  },
  {
    setting: 'lmstudio.url',
    flag: { set: { url: 'http://flag:1' } },
    env: { name: 'LMSTUDIO_URL', set: { LMSTUDIO_URL: 'http://env:2/v1' }, is: 'http://env:2' },
    project: { set: { url: 'http://project:3/v1' }, is: 'http://project:3' },
    user: { set: { url: 'http://user:4' } },
    default: undefined,
    read: (s) => s.forBackend('lmstudio').url,
  },
  {
    setting: 'lmstudio.context',
    flag: { set: { context: 1000 } },
    env: { name: 'LMSTUDIO_CONTEXT_LENGTH', set: { LMSTUDIO_CONTEXT_LENGTH: '2000' }, is: 2000 },
    project: { set: { context: 3000 } },
    user: { set: { context: 4000 } },
    default: undefined,
    read: (s) => s.forBackend('lmstudio').context,
  },
  {
    setting: 'backend',
    flag: { set: { backend: 'ollama' }, is: ['ollama'] },
    env: { name: 'ANYCLAUDE_MODE', set: { ANYCLAUDE_MODE: 'claude' }, is: ['claude'] },
    project: { set: { backend: 'lmstudio' }, is: ['lmstudio'] },
    user: { set: { backend: 'mlx' }, is: ['mlx-lm'] },
    default: undefined,
    read: (s) => s.backends,
  },
  {
    setting: 'hotkey',
    flag: { set: { hotkey: 'ctrl-a' } },
    env: { name: 'ANYCLAUDE_HOTKEY', set: { ANYCLAUDE_HOTKEY: 'ctrl-b' } },
    project: { set: { hotkey: 'ctrl-c' } },
    user: { set: { hotkey: 'ctrl-d' } },
    default: 'ctrl-]',
    read: (s) => s.hotkey,
  },
  {
    setting: 'backendTimeout',
    flag: { set: { backendTimeout: 100 } },
    flagName: 'backend-timeout',
    env: { name: 'ANYCLAUDE_BACKEND_TIMEOUT', set: { ANYCLAUDE_BACKEND_TIMEOUT: '200' }, is: 200 },
    project: { set: { backendTimeout: 300 } },
    user: { set: { backendTimeout: 400 } },
    default: 600,
    read: (s) => s.backendTimeout,
  },
  {
    setting: 'trace',
    flag: { set: { trace: true } },
    env: { name: 'ANYCLAUDE_DEBUG', set: { ANYCLAUDE_DEBUG: '1' }, is: true },
    project: { set: { trace: true } },
    user: { set: { trace: true } },
    default: false,
    read: (s) => s.trace,
  },
  {
    setting: 'protocol',
    flag: { set: { protocol: 'anthropic' } },
    project: { set: { protocol: 'openai' } },
    user: { set: { protocol: 'anthropic' } },
    default: undefined,
    read: (s) => s.protocol,
  },
  {
    setting: 'python',
    flag: { set: { python: '/flag/python' } },
    project: { set: { python: '/project/python' } },
    user: { set: { python: '/user/python' } },
    default: undefined,
    read: (s) => s.python,
  },
];

type LevelName = 'flag' | 'env' | 'project' | 'user' | 'default';

/** One row per level: everything from that level down is set, so that level must win. */
const ROWS = CASES.flatMap((c) => (['flag', 'env', 'project', 'user', 'default'] as const).filter((level) => level !== 'env' || c.env !== undefined).map((level): [string, LevelName, SettingCase] => [c.setting, level, c]));

const ORDER: LevelName[] = ['flag', 'env', 'project', 'user', 'default'];

function valueOf(level: Level<object>): unknown {
  return level.is ?? Object.values(level.set)[0];
}

describe('precedence', () => {
  it.each(ROWS)('%s: %s wins over everything below it', async (_setting, winner, c) => {
    const from = (level: LevelName): boolean => ORDER.indexOf(level) >= ORDER.indexOf(winner);
    const setup = await configSetup({ ...(from('project') ? { project: c.project.set } : {}), ...(from('user') ? { user: c.user.set } : {}) });
    const settings = await setup.load(from('flag') ? c.flag.set : {}, from('env') && c.env !== undefined ? c.env.set : {});
    const expected = { flag: () => valueOf(c.flag), env: () => (c.env === undefined ? undefined : valueOf(c.env)), project: () => valueOf(c.project), user: () => valueOf(c.user), default: () => c.default }[winner]();
    const label = {
      flag: `flag --${c.flagName ?? Object.keys(c.flag.set)[0]}`,
      env: `env ${c.env?.name ?? ''}`,
      project: `config ${setup.projectFile}`,
      user: `config ${setup.userFile}`,
      default: undefined,
    }[winner];
    expect(c.read(settings)).toEqual(expected);
    expect(settings.sources.get(c.setting)).toBe(label);
  });

  it('the project file wins key by key: the user file still gives what the project file does not say', async () => {
    const setup = await configSetup({ project: { model: 'project-model' }, user: { model: 'user-model', context: 4096, hotkey: 'ctrl-g' } });
    const settings = await setup.load();
    expect(settings.forBackend('ollama')).toEqual({ model: 'project-model', context: 4096 });
    expect(settings.hotkey).toBe('ctrl-g');
    expect(settings.sources.get('ollama.model')).toBe(`config ${setup.projectFile}`);
    expect(settings.sources.get('ollama.context')).toBe(`config ${setup.userFile}`);
  });

  it('says which files it read', async () => {
    const setup = await configSetup({ project: {} });
    const { files } = await setup.load();
    expect(files.user).toEqual({ scope: 'user', path: setup.userFile, found: false, config: {} });
    expect(files.project).toEqual({ scope: 'project', path: setup.projectFile, found: true, config: {} });
  });

  it('a bad project file stops loading with its message', async () => {
    const setup = await configSetup({ project: { context: 'big' } });
    await expect(setup.load()).rejects.toThrow(`${setup.projectFile}: context: expected a positive whole number of tokens, got "big"`);
  });
});
