/**
 * `anyclaude config [path] [--json] [backend flags]`: the settings `up` with the same flags would
 * use, each with where it came from (flag, environment, project file, user file, default), the
 * files read and the declared aliases. `config path` prints only where the files are.
 */
import { Command, InvalidArgumentError } from 'commander';
import { homeFromEnv } from '../run/run-file.js';
import { locateConfigFiles } from '../settings/config-file.js';
import { configView, describeSource, type BackendView, type ConfigView, type FilesView, type SettingView } from '../settings/config-view.js';
import { loadUpSettings } from '../settings/load-settings.js';
import type { UpFlags } from '../settings/up-settings.js';
import { addFlags, BACKEND_FLAGS } from './flag-specs.js';

export interface ConfigOptions extends UpFlags {
  json?: boolean;
}

export interface ConfigIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WritableStream;
}

export function registerConfigCommand(program: Command): void {
  const command = program
    .command('config')
    .description('print the settings `up` would use and where each came from (flag, environment, project file, user file, default)')
    .argument('[what]', '"path": print only where the config files are', (value: string) => {
      if (value !== 'path') throw new InvalidArgumentError('the only thing config prints on its own is "path"');
      return value;
    })
    .option('--json', 'print one JSON object (files, settings, backends, aliases) instead of text');
  addFlags(command, BACKEND_FLAGS);
  command.action(async (what: string | undefined, options: ConfigOptions) => {
    await runConfigCommand(what, options);
  });
}

export async function runConfigCommand(what: string | undefined, options: ConfigOptions, io: ConfigIo = { env: process.env, cwd: process.cwd(), stdout: process.stdout }): Promise<void> {
  const { json, ...flags } = options;
  const home = homeFromEnv(io.env);
  if (what === 'path') {
    // Where the files are, even when one of them is broken: that is when people look for them.
    const files = await locateFiles(home, io.cwd);
    io.stdout.write(json === true ? `${JSON.stringify(files, null, 2)}\n` : formatFiles(files).join('\n') + '\n');
    return;
  }
  const settings = await loadUpSettings(flags, { env: io.env, home, cwd: io.cwd });
  const view = configView(settings, { env: io.env, home, cwd: io.cwd });
  io.stdout.write(json === true ? `${JSON.stringify(view, null, 2)}\n` : formatConfig(view));
}

async function locateFiles(home: string, cwd: string): Promise<FilesView> {
  const { user, project } = await locateConfigFiles({ home, cwd });
  return { user, project: { path: project ?? null, found: project !== undefined, searchedFrom: cwd } };
}

/** The text form: files, settings, each backend's settings, aliases; a column of sources on the right. */
export function formatConfig(view: ConfigView): string {
  const rows: Array<[string, string, string]> = [];
  const setting = (name: string, s: SettingView, unset = '(not set)'): void => {
    rows.push([`  ${name}`, s.value === null ? unset : show(s.value), describeSource(s.source)]);
  };
  const out: string[] = ['Files', ...formatFiles(view.files), ''];
  const tables: Array<{ title: string; rows: Array<[string, string, string]> }> = [];

  for (const [name, s] of Object.entries(view.settings)) setting(name, s, name === 'backend' ? '(auto-detect)' : undefined);
  tables.push({ title: 'Settings (flag > environment > project file > user file > default)', rows: rows.splice(0) });
  const keys = ['model', 'url', 'apiKey', 'context'] as const;
  // Auto-detect lists every kind, mostly alike: kinds with the same settings share one table,
  // and kinds with nothing set are only named.
  const groups = new Map<string, { kinds: string[]; backend: BackendView }>();
  const untouched: string[] = [];
  for (const [kind, b] of Object.entries(view.backends)) {
    if (b.alias === null && keys.every((key) => b[key].source.kind === 'default')) untouched.push(kind);
    else {
      const same = JSON.stringify(b);
      groups.set(same, { kinds: [...(groups.get(same)?.kinds ?? []), kind], backend: b });
    }
  }
  for (const { kinds, backend } of groups.values()) {
    for (const key of keys) setting(key, backend[key]);
    tables.push({ title: `${kinds.join(', ')}${backend.alias === null ? '' : ` (alias ${backend.alias})`}`, rows: rows.splice(0) });
  }
  // One width for every table, so the sources line up down the page.
  const all = tables.flatMap((t) => t.rows);
  const nameWidth = Math.max(...all.map((r) => r[0].length));
  const valueWidth = Math.min(40, Math.max(...all.map((r) => r[1].length)));
  for (const table of tables) {
    out.push(table.title, ...table.rows.map(([n, v, s]) => `${n.padEnd(nameWidth)}  ${v.padEnd(valueWidth)}  ${s}`), '');
  }

  if (untouched.length > 0) out.push(`Nothing set for ${untouched.join(', ')}`, '');
  const aliases = Object.entries(view.aliases);
  out.push('Aliases (use with --backend, ANYCLAUDE_MODE or "backend")');
  if (aliases.length === 0) out.push('  (none declared: add "backends" to a config file)');
  for (const [name, a] of aliases) {
    const parts = [a.url === null ? undefined : `url ${a.url}`, a.model === null ? undefined : `model ${a.model}`, a.context === null ? undefined : `context ${a.context}`, a.apiKey === null ? undefined : `apiKey ${a.apiKey}`];
    out.push(`  ${name}: ${a.backend}${parts.filter((p) => p !== undefined).map((p) => `, ${p}`).join('')} (${a.scope} ${a.path})`);
  }
  return `${out.join('\n')}\n`;
}

function formatFiles(files: FilesView): string[] {
  return [
    `  user     ${files.user.path}${files.user.found ? '' : ' (not found)'}`,
    files.project.path === null ? `  project  none: no .anyclaude.json from ${files.project.searchedFrom} upward` : `  project  ${files.project.path}`,
  ];
}

function show(value: SettingView['value']): string {
  if (value === null) return '(not set)';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
