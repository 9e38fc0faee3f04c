/**
 * The one way a command gets `up`'s settings: the config files read from disk, then
 * flag > environment > config > default. `up`, `doctor`, `config` and `bench` all call this, so
 * doctor checks exactly the setup `up` with the same flags would use.
 */
import { join } from 'node:path';
import { readConfig } from './config-file.js';
import { resolveUpSettings, type UpFlags, type UpSettings } from './up-settings.js';

export interface LoadSettingsOptions {
  env?: NodeJS.ProcessEnv;
  /** `~/.anyclaude` or ANYCLAUDE_HOME. */
  home: string;
  /** Where a project file (`.anyclaude.json`) is looked for, upward. Default: process.cwd(). */
  cwd?: string;
}

export async function loadUpSettings(flags: UpFlags, options: LoadSettingsOptions): Promise<UpSettings> {
  const env = options.env ?? process.env;
  return resolveUpSettings(flags, { env, config: await readConfig(options.home), configFile: join(options.home, 'config.json') });
}
