/**
 * The two config files and how they are found and read:
 * - the user file, `~/.anyclaude/config.json` (ANYCLAUDE_HOME moves it with the rest);
 * - a project file, `.anyclaude.json`, the nearest one from the working directory upward to the
 *   filesystem root. The home directory is not special: `~/.anyclaude.json` is the project file of
 *   every directory under home that has no nearer one (the user file lives in `~/.anyclaude/`).
 * The project file wins over the user file key by key (an alias as a whole); both sit below the
 * environment and flags (see up-settings.ts).
 * Example: { "backend": "mlx-lm", "model": "Qwen3-Coder-30B", "context": 65536 }
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AnyclaudeError, errorMessage } from '../core/errors.js';
import { validateConfig, type AnyclaudeConfig } from './config-schema.js';
import { jsonSyntaxProblem } from './json-syntax.js';

export { ALIAS_KEYS, CONFIG_KEYS, type AnyclaudeConfig, type BackendAlias } from './config-schema.js';

export const USER_CONFIG_NAME = 'config.json';
export const PROJECT_CONFIG_NAME = '.anyclaude.json';

export type ConfigScope = 'user' | 'project';

export interface ConfigFile {
  scope: ConfigScope;
  path: string;
  found: boolean;
  /** Empty when the file was not found. */
  config: AnyclaudeConfig;
}

export interface ConfigFiles {
  user: ConfigFile;
  /** undefined when no `.anyclaude.json` exists from cwd upward. */
  project: ConfigFile | undefined;
}

export interface ConfigLocation {
  /** `~/.anyclaude` or ANYCLAUDE_HOME. */
  home: string;
  /** Where the project file is looked for, upward. */
  cwd: string;
}

export function userConfigPath(home: string): string {
  return join(home, USER_CONFIG_NAME);
}

/** The nearest `.anyclaude.json` from `cwd` up to the filesystem root, or undefined. */
export async function findProjectFile(cwd: string): Promise<string | undefined> {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, PROJECT_CONFIG_NAME);
    if (await isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where the files are, without reading them (so a broken one can still be found). */
export async function locateConfigFiles({ home, cwd }: ConfigLocation): Promise<{ user: { path: string; found: boolean }; project: string | undefined }> {
  const user = userConfigPath(home);
  return { user: { path: user, found: await isFile(user) }, project: await findProjectFile(cwd) };
}

/** Both files, read and checked; throws CONFIG_INVALID for the first bad one (the user file first). */
export async function readConfigFiles({ home, cwd }: ConfigLocation): Promise<ConfigFiles> {
  const user = await readConfigFile(userConfigPath(home), 'user');
  const projectPath = await findProjectFile(cwd);
  return { user, project: projectPath === undefined ? undefined : await readConfigFile(projectPath, 'project') };
}

/** One file; a missing file is `found: false` with an empty config, anything wrong in it is CONFIG_INVALID. */
export async function readConfigFile(path: string, scope: ConfigScope): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { scope, path, found: false, config: {} };
    throw new AnyclaudeError('CONFIG_INVALID', `${path}: cannot be read: ${errorMessage(error)}`, { fix: `make ${path} readable, or remove it` });
  }
  return { scope, path, found: true, config: validateConfig(parseJson(text, path), path) };
}

/** The user file only: what commands read before project files existed. Prefer readConfigFiles. */
export async function readConfig(home: string): Promise<AnyclaudeConfig> {
  return (await readConfigFile(userConfigPath(home), 'user')).config;
}

export interface ConfigFileCheck {
  path: string;
  scope: ConfigScope;
  found: boolean;
  /** The same words `up` would stop with, e.g. `/p/.anyclaude.json: context: expected …`. */
  error?: string;
  /** What to do about `error`. */
  fix?: string;
}

/**
 * For `anyclaude doctor`: each file, found or not, and what is wrong with it, without throwing.
 * The user file comes first. When no project file exists, the project entry is `found: false`
 * with the path one would have in `cwd`.
 */
export async function checkConfigFiles({ home, cwd }: ConfigLocation): Promise<ConfigFileCheck[]> {
  const check = async (path: string, scope: ConfigScope): Promise<ConfigFileCheck> => {
    try {
      const file = await readConfigFile(path, scope);
      return { path, scope, found: file.found };
    } catch (error) {
      return { path, scope, found: true, error: errorMessage(error), ...(error instanceof AnyclaudeError && error.fix !== undefined ? { fix: error.fix } : {}) };
    }
  };
  const projectPath = await findProjectFile(cwd);
  return [
    await check(userConfigPath(home), 'user'),
    projectPath === undefined ? { path: join(resolve(cwd), PROJECT_CONFIG_NAME), scope: 'project', found: false } : await check(projectPath, 'project'),
  ];
}

function parseJson(text: string, path: string): unknown {
  // Editors on Windows may start the file with a byte-order mark, which JSON.parse rejects.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    const where = jsonSyntaxProblem(body);
    const message = where === undefined ? `${path}: not valid JSON: ${errorMessage(error)}` : `${path}: not valid JSON at line ${where.line}, column ${where.column}: ${where.problem}`;
    throw new AnyclaudeError('CONFIG_INVALID', message, { fix: `correct the JSON there, or remove ${path} to go without it` });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
