/**
 * The one way a command gets `up`'s settings: the config files read from disk (the user file and
 * the nearest project file), then flag > environment > project file > user file > default.
 * `up`, `doctor`, `config` and `bench` all call this, so doctor checks exactly the setup `up`
 * with the same flags would use.
 */
import { readConfigFiles, type ConfigFiles } from './config-file.js';
import { resolveUpSettings, type UpFlags, type UpSettings } from './up-settings.js';

export interface LoadSettingsOptions {
  env?: NodeJS.ProcessEnv;
  /** `~/.anyclaude` or ANYCLAUDE_HOME. */
  home: string;
  /** Where a project file (`.anyclaude.json`) is looked for, upward. Default: process.cwd(). */
  cwd?: string;
}

/** The settings, and the files they were read from (for `anyclaude config`). */
export interface LoadedSettings extends UpSettings {
  files: ConfigFiles;
}

export async function loadUpSettings(flags: UpFlags, options: LoadSettingsOptions): Promise<LoadedSettings> {
  const env = options.env ?? process.env;
  const files = await readConfigFiles({ home: options.home, cwd: options.cwd ?? process.cwd() });
  const settings = resolveUpSettings(flags, {
    env,
    config: files.user.config,
    configFile: files.user.path,
    project: files.project === undefined ? undefined : { config: files.project.config, file: files.project.path },
  });
  return { ...settings, files };
}
