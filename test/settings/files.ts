/** Real config files in temp dirs: a home (ANYCLAUDE_HOME) and a project with a working directory inside it. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUpSettings, type LoadedSettings } from '../../src/settings/load-settings.js';
import type { UpFlags } from '../../src/settings/up-settings.js';

export interface ConfigSetup {
  home: string;
  project: string;
  /** A directory two levels inside the project, where commands run. */
  cwd: string;
  userFile: string;
  projectFile: string;
  load(flags?: UpFlags, env?: NodeJS.ProcessEnv): Promise<LoadedSettings>;
}

/** Writes the files given (as JSON, or as raw text when a string); leaves the others absent. */
export async function configSetup(files: { user?: object | string; project?: object | string } = {}): Promise<ConfigSetup> {
  const root = await mkdtemp(join(tmpdir(), 'anyclaude-settings-'));
  const home = join(root, 'home', '.anyclaude');
  const project = join(root, 'work', 'proj');
  const cwd = join(project, 'src', 'deep');
  await mkdir(home, { recursive: true });
  await mkdir(cwd, { recursive: true });
  const userFile = join(home, 'config.json');
  const projectFile = join(project, '.anyclaude.json');
  const text = (content: object | string): string => (typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  if (files.user !== undefined) await writeFile(userFile, text(files.user));
  if (files.project !== undefined) await writeFile(projectFile, text(files.project));
  return { home, project, cwd, userFile, projectFile, load: (flags = {}, env = {}) => loadUpSettings(flags, { env, home, cwd }) };
}
