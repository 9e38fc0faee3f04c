/**
 * The traces folder: `<root>/<backend>/<iso-time>-<id>.json`. Files are found and ordered by
 * name alone (the writer puts the start time first), so listing the newest 20 of thousands of
 * traces reads 20 files, not thousands.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AnyclaudeError } from '../core/errors.js';
import { readTrace } from './trace-file.js';

export interface TraceFile {
  path: string;
  backend: string;
  /** The exchange id from the file name (the writer's safe form of it). */
  id: string;
  /** Start time from the file name, else the file's mtime. */
  startedAt: number;
}

/** `2026-12-02T09-22-50-123Z-<id>.json`: the ISO time with `:` and `.` made `-`. */
const NAME = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-(.+)\.json$/;

export function parseTraceName(name: string): { startedAt: number; id: string } | undefined {
  const match = NAME.exec(name);
  if (match === null) return undefined;
  const [, day, h, m, s, ms, id] = match;
  const startedAt = Date.parse(`${day}T${h}:${m}:${s}.${ms}Z`);
  return Number.isNaN(startedAt) || id === undefined ? undefined : { startedAt, id };
}

/** Every `.json` under the root's backend folders, newest first; a missing root is simply no traces. */
export async function listTraceFiles(root: string, options: { backend?: string } = {}): Promise<TraceFile[]> {
  const backends = options.backend === undefined ? await subfolders(root) : [options.backend];
  const files: TraceFile[] = [];
  for (const backend of backends) {
    const dir = join(root, backend);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const path = join(dir, name);
      const parsed = parseTraceName(name);
      if (parsed !== undefined) {
        files.push({ path, backend, ...parsed });
        continue;
      }
      const mtime = await stat(path).then((s) => s.mtimeMs, () => 0);
      files.push({ path, backend, id: name.slice(0, -'.json'.length), startedAt: mtime });
    }
  }
  // Ties (two exchanges in one millisecond) fall back to the name, so the order is stable.
  return files.sort((a, b) => b.startedAt - a.startedAt || basename(b.path).localeCompare(basename(a.path)));
}

async function subfolders(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/**
 * `<id|file>` as the user typed it: a path to a trace file, `latest` (the newest readable
 * trace), or an exchange id or a unique prefix of one.
 */
export async function resolveTrace(root: string, ref: string): Promise<string> {
  if (await isFile(ref)) return ref;
  if (ref.includes('/') || ref.endsWith('.json')) throw new AnyclaudeError('TRACE_NOT_FOUND', `no trace file ${ref}`, { fix: 'anyclaude traces list shows the files' });
  const files = await listTraceFiles(root);
  if (ref === 'latest' || ref === 'last') {
    // The newest file may be one the proxy is writing right now: the newest readable one is meant.
    for (const file of files) if ((await readTrace(file.path)).ok) return file.path;
    throw noTraces(root);
  }
  const matches = files.filter((f) => f.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!.path;
  if (matches.length === 0) {
    if (files.length === 0) throw noTraces(root);
    throw new AnyclaudeError('TRACE_NOT_FOUND', `no trace with id ${ref} under ${root}`, { fix: 'anyclaude traces list shows the ids' });
  }
  const shown = matches.slice(0, 5).map((f) => f.id).join(', ');
  throw new AnyclaudeError('TRACE_AMBIGUOUS', `${matches.length} traces start with ${ref} (${shown}${matches.length > 5 ? ', …' : ''})`, {
    fix: 'type more of the id',
  });
}

function noTraces(root: string): AnyclaudeError {
  return new AnyclaudeError('NO_TRACES', `no traces under ${root}`, { fix: 'run `anyclaude --trace` (or ANYCLAUDE_DEBUG=1) to write them' });
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
