/**
 * Will a model fit this machine, before gigabytes are downloaded: the bytes still to fetch against
 * the free disk where the HF cache lives, and the weights against memory (mlx loads every weight
 * into RAM, and Metal's default limit for GPU memory is about 75% of it; the rest is for the
 * KV cache and the system).
 */
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AnyclaudeError } from '../core/errors.js';
import { CATALOG, smallerSiblings, type CatalogEntry } from './catalog.js';
import { formatBytes } from '../core/bytes.js';

/** Share of memory the weights may take. */
export const MEMORY_SHARE = 0.75;
/** Free disk left over after a download (bytes). */
export const DISK_MARGIN = 1024 ** 3;

export interface Machine {
  freeDiskBytes: number;
  totalMemoryBytes: number;
}

export interface FitNeed {
  /** What people call it (`Qwen3-Coder-30B`, or the HF id). */
  label: string;
  /** All the weights (what memory must hold). */
  modelBytes: number;
  /** What is still to download (`modelBytes` less what a previous run left). */
  downloadBytes: number;
  entry?: CatalogEntry | undefined;
}

export interface FitVerdict {
  disk: boolean;
  memory: boolean;
}

export function judgeFit(need: FitNeed, machine: Machine, options: { ignoreMemory?: boolean } = {}): FitVerdict {
  return {
    disk: need.downloadBytes + DISK_MARGIN <= machine.freeDiskBytes,
    memory: options.ignoreMemory === true || need.modelBytes <= machine.totalMemoryBytes * MEMORY_SHARE,
  };
}

/** Throws MODEL_TOO_BIG, naming what is short and a smaller catalog model that fits, unless `need` fits. */
export function refuseUnlessFits(need: FitNeed, machine: Machine, options: { ignoreMemory?: boolean; catalog?: readonly CatalogEntry[] } = {}): void {
  const verdict = judgeFit(need, machine, options);
  if (verdict.disk && verdict.memory) return;
  const short: string[] = [];
  if (!verdict.memory) short.push(`its ${formatBytes(need.modelBytes)} of weights need ${formatBytes(need.modelBytes / MEMORY_SHARE)} of memory and this machine has ${formatBytes(machine.totalMemoryBytes)}`);
  if (!verdict.disk) short.push(`downloading ${formatBytes(need.downloadBytes)} needs ${formatBytes(need.downloadBytes + DISK_MARGIN)} free and the disk has ${formatBytes(machine.freeDiskBytes)}`);
  const sibling = suggestSmaller(need, machine, options);
  const tryInstead = sibling === undefined ? 'pick a smaller model' : `try --model ${sibling.name} (${formatBytes(sibling.mlx.sizeBytes)})`;
  const fix = [tryInstead, verdict.disk ? undefined : 'or free disk space (or move the cache with HF_HOME)', verdict.memory ? undefined : 'or set ANYCLAUDE_IGNORE_FIT=1 to try anyway'].filter((s) => s !== undefined).join(', ');
  throw new AnyclaudeError('MODEL_TOO_BIG', `${need.label} does not fit this machine: ${short.join('; ')}`, { fix });
}

/** The nearest smaller sibling that fits; for a model outside the catalog, the largest catalog model that fits. */
export function suggestSmaller(need: FitNeed, machine: Machine, options: { ignoreMemory?: boolean; catalog?: readonly CatalogEntry[] } = {}): CatalogEntry | undefined {
  const catalog = options.catalog ?? CATALOG;
  const fits = (e: CatalogEntry): boolean => {
    const v = judgeFit({ label: e.name, modelBytes: e.mlx.sizeBytes, downloadBytes: e.mlx.sizeBytes }, machine, options);
    return v.disk && v.memory;
  };
  if (need.entry !== undefined) return smallerSiblings(need.entry, catalog).find(fits);
  return [...catalog].filter((e) => e.mlx.sizeBytes < need.modelBytes && fits(e)).sort((a, b) => b.mlx.sizeBytes - a.mlx.sizeBytes)[0];
}

/** Free bytes for this user on the file system holding `dir` (or its nearest existing parent). */
export async function freeDiskBytes(dir: string): Promise<number> {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const s = await statfs(at).catch(() => undefined);
    if (s !== undefined) return s.bavail * s.bsize;
    if (path.dirname(at) === at) return Number.POSITIVE_INFINITY;
  }
}

export async function thisMachine(hubCache: string): Promise<Machine> {
  return { freeDiskBytes: await freeDiskBytes(hubCache), totalMemoryBytes: os.totalmem() };
}

