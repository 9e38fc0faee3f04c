/**
 * From what a person types (`--model Qwen3-Coder-30B`) to a model a server can load: a path taken
 * as-is, a local model found by a forgiving name match in the Hugging Face cache, LM Studio's models
 * folder or extra roots, a catalog name (src/models/catalog-data.ts) whose MLX repository is cached
 * or else is to be downloaded, or, failing those, a Hugging Face id to download.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AnyclaudeError } from '../core/errors.js';
import { CATALOG, findInCatalog, type CatalogEntry } from '../models/catalog.js';

/** `dir`: a model directory with config.json (MLX, transformers); `gguf`: one llama.cpp file. */
export type ModelFormat = 'dir' | 'gguf';

export interface LocalModel {
  kind: 'local';
  /** How it is listed: `org/name` (HF cache) or the path below its root (LM Studio, extra roots). */
  name: string;
  path: string;
  format: ModelFormat;
  /** The root it was found under, or `path` when the query was a path. */
  source: string;
}

export interface RemoteModel {
  kind: 'remote';
  /** A Hugging Face id (`org/name`) to download before the server starts. */
  id: string;
  /** The catalog entry the query named (its MLX repository is `id`). */
  entry?: CatalogEntry;
}

export type ResolvedModel = LocalModel | RemoteModel;

export interface ResolveOptions {
  /** Searched after the HF cache and LM Studio's folders. */
  searchRoots?: readonly string[];
  /** Read for HF_HUB_CACHE / HF_HOME (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where `~` and the default folders live (default os.homedir()). */
  homeDir?: string;
}

export interface SearchPlace {
  /** `hf`: `models--org--name/snapshots/<rev>/`; `tree`: `<publisher>/<name>/` or any nesting up to 3 levels. */
  layout: 'hf' | 'tree';
  dir: string;
}

/** How deep a `tree` root is searched: `publisher/name/file.gguf` is 3. */
const TREE_DEPTH = 3;

/** Case-insensitive and blind to `-`, `_`, space and `.`: "Qwen3 Coder 30b" equals "qwen3-coder-30B". */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_ .]/g, '');
}

/**
 * The items whose name matches `query` best, in tiers: the whole name, then its last segment
 * (with or without an Ollama `:tag`), then a prefix of the last segment, then any substring.
 * Empty when nothing matches; more than one item means the query is ambiguous.
 */
export function bestMatches<T>(query: string, items: readonly T[], nameOf: (item: T) => string): T[] {
  const q = normalizeName(query.replace(/\.gguf$/i, ''));
  if (q === '') return [];
  const tiers: T[][] = [[], [], [], []];
  for (const item of items) {
    const name = nameOf(item).replace(/\.gguf$/i, '');
    const whole = normalizeName(name);
    const last = normalizeName(name.split('/').at(-1) ?? name);
    const untagged = last.replace(/:[^:]*$/, '');
    const tier = whole === q ? 0 : last === q || untagged === q ? 1 : last.startsWith(q) ? 2 : whole.includes(q) ? 3 : -1;
    if (tier >= 0) tiers[tier]?.push(item);
  }
  return tiers.find((t) => t.length > 0) ?? [];
}

/** Where local models are looked for, in order. */
export function modelSearchPlaces(options: ResolveOptions = {}): SearchPlace[] {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? os.homedir();
  const hub = nonEmpty(env.HF_HUB_CACHE) ?? path.join(nonEmpty(env.HF_HOME) ?? path.join(home, '.cache', 'huggingface'), 'hub');
  return [
    { layout: 'hf', dir: hub },
    { layout: 'tree', dir: path.join(home, '.lmstudio', 'models') },
    { layout: 'tree', dir: path.join(home, '.cache', 'lm-studio', 'models') },
    ...(options.searchRoots ?? []).map((dir) => ({ layout: 'tree' as const, dir: expandHome(dir, home) })),
  ];
}

/** Every model found in the search places (a path found twice is listed once). */
export async function listLocalModels(options: ResolveOptions = {}): Promise<LocalModel[]> {
  const found = await Promise.all(modelSearchPlaces(options).map((place) => (place.layout === 'hf' ? scanHfHub(place.dir) : scanTree(place.dir))));
  const seen = new Set<string>();
  return found.flat().filter((m) => {
    if (seen.has(m.path)) return false;
    seen.add(m.path);
    return true;
  });
}

export async function resolveModel(query: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const home = options.homeDir ?? os.homedir();
  const trimmed = query.trim();
  const asPath = await fromPath(expandHome(trimmed, home));
  if (asPath !== undefined) return asPath;
  if (looksLikePath(trimmed)) {
    throw new AnyclaudeError('MODEL_NOT_FOUND', `no model at ${trimmed}: no such file or directory`, {
      fix: 'pass an existing model directory (with config.json) or .gguf file, or a Hugging Face id such as mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit',
    });
  }
  const local = await listLocalModels(options);
  const named = findInCatalog(trimmed);
  const [entry] = named;
  // A catalog name whose MLX repository is already here is that copy, whatever else matches.
  const cached = named.length === 1 ? local.find((m) => m.format === 'dir' && m.name.toLowerCase() === entry?.mlx.repo.toLowerCase()) : undefined;
  if (cached !== undefined) return cached;
  const matches = bestMatches(trimmed, local, (m) => m.name);
  const [only] = matches;
  if (matches.length === 1 && only !== undefined) return only;
  if (matches.length > 1) {
    throw new AnyclaudeError('MODEL_AMBIGUOUS', `"${trimmed}" matches ${matches.length} local models:\n${matches.map((m) => `  ${m.name}  (${m.path})`).join('\n')}`, {
      fix: 'pass more of the name, or the full path of the one you mean',
    });
  }
  if (named.length === 1 && entry !== undefined) return { kind: 'remote', id: entry.mlx.repo, entry };
  if (named.length > 1) {
    throw new AnyclaudeError('MODEL_AMBIGUOUS', `"${trimmed}" matches ${named.length} catalog models: ${named.map((e) => e.name).join(', ')}`, { fix: 'pass the full name of the one you mean' });
  }
  if (/^[\w.-]+\/[\w.-]+$/.test(trimmed)) return { kind: 'remote', id: trimmed };
  const places = modelSearchPlaces(options).map((p) => `  ${p.dir}`);
  throw new AnyclaudeError('MODEL_NOT_FOUND', `no local model matches "${trimmed}"; searched:\n${places.join('\n')}`, {
    fix: `pass a path to a model directory or .gguf file, a catalog name (${CATALOG.map((e) => e.name).join(', ')}), or a Hugging Face id (org/name, e.g. mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit) to download it`,
  });
}

/** The trained context from config.json (`max_position_embeddings`, or the text model's for multimodal ones); undefined if absent. */
export async function readContextWindow(modelDir: string): Promise<number | undefined> {
  let config: unknown;
  try {
    config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(config)) return undefined;
  const direct = positiveInt(config.max_position_embeddings);
  if (direct !== undefined) return direct;
  return isRecord(config.text_config) ? positiveInt(config.text_config.max_position_embeddings) : undefined;
}

async function fromPath(candidate: string): Promise<LocalModel | undefined> {
  const info = await stat(candidate).catch(() => undefined);
  if (info === undefined) return undefined;
  const full = path.resolve(candidate);
  if (info.isFile() && /\.gguf$/i.test(full)) return { kind: 'local', name: path.basename(full), path: full, format: 'gguf', source: full };
  if (!info.isDirectory()) return undefined;
  const inside = await modelsIn(full, path.basename(full), full);
  const dir = inside.find((m) => m.format === 'dir');
  if (dir !== undefined) return dir;
  const [gguf] = inside;
  if (inside.length === 1 && gguf !== undefined) return gguf;
  throw new AnyclaudeError('MODEL_NOT_USABLE', `${full} has no config.json and ${inside.length === 0 ? 'no' : inside.length} .gguf files`, {
    fix: inside.length === 0 ? 'point at a model directory with config.json and weights, or at a .gguf file' : `name one of them: ${inside.map((m) => m.path).join(', ')}`,
  });
}

/** `models--org--name/snapshots/<rev>/`, preferring the revision `refs/main` names. */
async function scanHfHub(hub: string): Promise<LocalModel[]> {
  const repos = (await entries(hub)).filter((e) => e.isDirectory() && e.name.startsWith('models--'));
  const found = await Promise.all(
    repos.map(async (repo) => {
      const [org, ...rest] = repo.name.slice('models--'.length).split('--');
      const snapshot = await pickSnapshot(path.join(hub, repo.name));
      return snapshot === undefined ? [] : modelsIn(snapshot, `${org ?? ''}/${rest.join('--')}`, hub);
    }),
  );
  return found.flat();
}

async function pickSnapshot(repoDir: string): Promise<string | undefined> {
  const snapshots = path.join(repoDir, 'snapshots');
  const main = (await readFile(path.join(repoDir, 'refs', 'main'), 'utf8').catch(() => '')).trim();
  if (main !== '' && (await isDir(path.join(snapshots, main)))) return path.join(snapshots, main);
  const revs = (await entries(snapshots)).filter((e) => e.isDirectory());
  const dated = await Promise.all(revs.map(async (e) => ({ dir: path.join(snapshots, e.name), at: (await stat(path.join(snapshots, e.name))).mtimeMs })));
  return dated.sort((a, b) => b.at - a.at)[0]?.dir;
}

async function scanTree(root: string, rel = '', depth = 0): Promise<LocalModel[]> {
  const dir = path.join(root, rel);
  const here = rel === '' ? [] : await modelsIn(dir, rel.split(path.sep).join('/'), root);
  if (here.some((m) => m.format === 'dir') || depth >= TREE_DEPTH) return here;
  const subdirs = (await entries(dir)).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  const below = await Promise.all(subdirs.map((e) => scanTree(root, path.join(rel, e.name), depth + 1)));
  return [...here, ...below.flat()];
}

/** The model a directory holds: itself when it has config.json, plus each usable .gguf file in it. */
async function modelsIn(dir: string, name: string, source: string): Promise<LocalModel[]> {
  const files = (await entries(dir)).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  const out: LocalModel[] = [];
  if (files.includes('config.json')) out.push({ kind: 'local', name, path: dir, format: 'dir', source });
  for (const file of files.filter(usableGguf)) out.push({ kind: 'local', name: `${name}/${file}`, path: path.join(dir, file), format: 'gguf', source });
  return out;
}

/** Vision projectors are not models, and a split model is loaded by its first part. */
function usableGguf(file: string): boolean {
  if (!/\.gguf$/i.test(file) || /mmproj/i.test(file)) return false;
  const part = /-(\d{5})-of-\d{5}\.gguf$/i.exec(file);
  return part === null || part[1] === '00001';
}

function looksLikePath(query: string): boolean {
  return /^(\/|\.{1,2}(\/|$)|~)/.test(query) || /\.gguf$/i.test(query);
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

async function entries(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() === true;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
