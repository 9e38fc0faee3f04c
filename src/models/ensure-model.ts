/**
 * From a resolved model to a folder a server can load: a local model as it is, a remote one (a
 * catalog name or an HF id not on disk, or a cached snapshot an interrupted download left
 * incomplete) downloaded first, after checking it fits.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CoreEvents } from '../core/events.js';
import { modelSearchPlaces, type LocalModel, type ResolvedModel } from '../backends/model-resolver.js';
import type { CatalogEntry } from './catalog.js';
import { downloadModel, formatProgress, type DownloadProgress } from './download.js';
import { refuseUnlessFits, thisMachine, type Machine } from './fit.js';
import { formatBytes } from '../core/bytes.js';

export interface EnsureModelOptions {
  /** An interpreter with huggingface_hub (the backend's venv). */
  python: string;
  env?: NodeJS.ProcessEnv;
  events?: CoreEvents;
  signal?: AbortSignal;
  /** Every progress change, as data. */
  onProgress?: (progress: DownloadProgress) => void;
  /** A progress line for a text display, at most every LINE_EVERY_MS (and at the end). */
  onLine?: (line: string) => void;
  /** The machine to fit (default: this one's free disk at the HF cache, and its memory). */
  machine?: Machine;
}

const LINE_EVERY_MS = 2_000;

export async function ensureModelOnDisk(model: ResolvedModel, options: EnsureModelOptions): Promise<LocalModel> {
  const env = options.env ?? process.env;
  const hub = modelSearchPlaces({ env })[0]?.dir ?? '';
  if (model.kind === 'local') {
    if (model.format !== 'dir' || model.source !== hub || (await snapshotComplete(model.path))) return model;
    options.events?.log('info', 'download', `${model.name} is only partly downloaded; resuming`);
    return download(model.name, undefined, hub, options);
  }
  return download(model.id, model.entry, hub, options);
}

async function download(repo: string, entry: CatalogEntry | undefined, hub: string, options: EnsureModelOptions): Promise<LocalModel> {
  const env = options.env ?? process.env;
  const label = entry?.name ?? repo;
  const machine = options.machine ?? (await thisMachine(hub));
  const ignoreMemory = env.ANYCLAUDE_IGNORE_FIT === '1';
  // The catalog knows the size without asking the Hub; memory does not depend on what is already here.
  if (entry !== undefined) refuseUnlessFits({ label, modelBytes: entry.mlx.sizeBytes, downloadBytes: 0, entry }, machine, { ignoreMemory });
  let lastLine = 0;
  const result = await downloadModel({
    repo,
    python: options.python,
    env,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    check: (plan) => {
      refuseUnlessFits({ label, modelBytes: plan.totalBytes, downloadBytes: plan.totalBytes - plan.presentBytes, entry }, machine, { ignoreMemory });
      const kept = plan.presentBytes > 0 ? `, ${formatBytes(plan.presentBytes)} already here` : '';
      options.events?.log('info', 'download', `downloading ${label}${label === repo ? '' : ` (${repo})`}: ${formatBytes(plan.totalBytes)} in ${plan.files.length} files${kept}`);
    },
    onProgress: (progress) => {
      options.onProgress?.(progress);
      const now = Date.now();
      const end = progress.phase !== 'downloading' && progress.phase !== 'planning';
      if (options.onLine !== undefined && (end || now - lastLine >= LINE_EVERY_MS)) {
        lastLine = now;
        options.onLine(formatProgress(progress, label));
      }
    },
  });
  const rate = result.seconds > 0 ? `, ${formatBytes(result.downloadedBytes / result.seconds)}/s` : '';
  options.events?.log('info', 'download', `${label}: ${formatBytes(result.downloadedBytes)} downloaded in ${result.seconds.toFixed(1)} s${rate}${result.resumedBytes > 0 ? ` (${formatBytes(result.resumedBytes)} kept from before)` : ''}`);
  return { kind: 'local', name: repo, path: result.path, format: 'dir', source: hub };
}

/**
 * Whether an HF-cache snapshot holds the whole model: its config, and every weight file its
 * safetensors index names (or, without an index, at least one weight file). A link whose blob is
 * missing counts as missing.
 */
export async function snapshotComplete(dir: string): Promise<boolean> {
  const exists = async (name: string): Promise<boolean> => (await stat(path.join(dir, name)).catch(() => undefined))?.isFile() === true;
  if (!(await exists('config.json'))) return false;
  const index = await readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8').catch(() => undefined);
  if (index !== undefined) {
    let shards: string[];
    try {
      shards = [...new Set(Object.values((JSON.parse(index) as { weight_map?: Record<string, string> }).weight_map ?? {}))];
    } catch {
      return false;
    }
    return (await Promise.all(shards.map(exists))).every(Boolean);
  }
  const files = await readdir(dir).catch(() => []);
  const weights = files.filter((f) => /\.(safetensors|npz)$/.test(f));
  return (await Promise.all(weights.map(exists))).some(Boolean);
}
