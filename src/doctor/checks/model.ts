/**
 * `model` and `memory`: the model `up` would serve, read from disk. A folder needs config,
 * tokenizer, weights and a chat template; a template that never mentions tools means Claude Code
 * runs with no tools at all. Memory compares its size on disk (roughly what loading it takes).
 * A catalog name or HF id not on disk yet is one `up` downloads: its size (the catalog's, or the
 * Hub's file list) is judged against free disk and memory before a byte is fetched.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { modelSearchPlaces, resolveModel, type LocalModel, type RemoteModel, type ResolvedModel } from '../../backends/model-resolver.js';
import { AnyclaudeError, errorMessage } from '../../core/errors.js';
import type { BackendName } from '../../backends/backend.js';
import type { Check, CheckResult, DoctorContext } from '../types.js';
import { gib } from './system.js';
import { DISK_MARGIN, judgeFit, MEMORY_SHARE, refuseUnlessFits, thisMachine, type Machine } from '../../models/fit.js';
import { formatBytes } from '../../core/bytes.js';

/** Backends that serve models by their own names: their model is checked by `backend:<name>`. */
const SERVER_NAMED: readonly BackendName[] = ['lmstudio', 'ollama', 'openai', 'claude'];

interface ModelFiles {
  config: boolean;
  tokenizer: boolean;
  weights: string[];
  bytes: number;
  /** The chat template text, '' when there is none. */
  template: string;
}

type Found = { kind: 'none'; why: string } | { kind: 'error'; error: unknown } | { kind: 'resolved'; model: ResolvedModel; files?: ModelFiles };

const found = new WeakMap<DoctorContext, Promise<Found>>();

/** Resolved once per run: `model` and `memory` both read it. */
function findModel(ctx: DoctorContext): Promise<Found> {
  let pending = found.get(ctx);
  if (pending === undefined) {
    pending = locate(ctx);
    found.set(ctx, pending);
  }
  return pending;
}

async function locate(ctx: DoctorContext): Promise<Found> {
  const chosen = ctx.model;
  if (chosen === undefined) return { kind: 'none', why: 'no model given or configured (--model, MLX_LM_MODEL, LMSTUDIO_MODEL, or "model" in a config file)' };
  if (chosen.backend !== undefined && SERVER_NAMED.includes(chosen.backend)) return { kind: 'none', why: `${chosen.query} is a ${chosen.backend} model name: see backend:${chosen.backend}` };
  try {
    const model = await resolveModel(chosen.query, { env: ctx.env });
    return model.kind === 'local' ? { kind: 'resolved', model, files: await readModelFiles(model) } : { kind: 'resolved', model };
  } catch (error) {
    // Without --backend, a name that is no local model may be what the detected server calls it (qwen3-coder:30b).
    if (chosen.backend === undefined && !looksLikePath(chosen.query)) return { kind: 'none', why: `${chosen.query} is no model on this machine; the server up detects may serve it by that name (see backend)` };
    return { kind: 'error', error };
  }
}

/** As the resolver reads a query: a path (or a .gguf file) must exist; a name may belong to a server. */
function looksLikePath(query: string): boolean {
  return /^(\/|\.{1,2}(\/|$)|~)/.test(query.trim()) || /\.gguf$/i.test(query.trim());
}

async function readModelFiles(model: LocalModel): Promise<ModelFiles> {
  if (model.format === 'gguf') {
    const size = (await stat(model.path)).size;
    return { config: true, tokenizer: true, weights: [model.path], bytes: size, template: await ggufChatTemplate(model.path) };
  }
  const names = await readdir(model.path);
  const weights = names.filter((n) => /\.(safetensors|npz)$/.test(n) || /^pytorch_model.*\.bin$/.test(n));
  const sizes = await Promise.all(weights.map(async (n) => (await stat(join(model.path, n))).size));
  return {
    config: await isJson(join(model.path, 'config.json')),
    tokenizer: names.some((n) => n === 'tokenizer.json' || n === 'tokenizer.model' || n.endsWith('.tiktoken')),
    weights,
    bytes: sizes.reduce((a, b) => a + b, 0),
    template: await folderChatTemplate(model.path, names),
  };
}

async function isJson(file: string): Promise<boolean> {
  try {
    JSON.parse(await readFile(file, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/** chat_template.jinja, chat_template.json, or tokenizer_config.json's chat_template (a string or named list). */
async function folderChatTemplate(dir: string, names: readonly string[]): Promise<string> {
  if (names.includes('chat_template.jinja')) return readFile(join(dir, 'chat_template.jinja'), 'utf8');
  for (const file of ['chat_template.json', 'tokenizer_config.json']) {
    if (!names.includes(file)) continue;
    const value = (JSON.parse(await readFile(join(dir, file), 'utf8').catch(() => '{}')) as { chat_template?: unknown }).chat_template;
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.map((t) => (typeof t === 'object' && t !== null && 'template' in t ? String(t.template) : '')).join('\n');
  }
  return '';
}

/** GGUF keeps the template as metadata `tokenizer.chat_template` (type 8, string) after the vocabulary: scanned for, within the first 64 MiB. */
async function ggufChatTemplate(file: string): Promise<string> {
  const key = Buffer.from('tokenizer.chat_template');
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(64 * 1024 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const at = buffer.subarray(0, bytesRead).indexOf(key);
    if (at < 0) return '';
    const typeAt = at + key.length;
    if (buffer.readUInt32LE(typeAt) !== 8) return '';
    const length = Number(buffer.readBigUInt64LE(typeAt + 4));
    return buffer.subarray(typeAt + 12, Math.min(bytesRead, typeAt + 12 + length)).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Tool-aware templates branch on a `tools` variable (Qwen, Llama 3.1+, Mistral, GLM, gpt-oss…). */
export function templateSupportsTools(template: string): boolean {
  return /\btools\b/.test(template);
}

export const modelCheck: Check = {
  id: 'model',
  title: 'Model',
  timeoutMs: 3_000,
  run: async (ctx, signal) => {
    const f = await findModel(ctx);
    if (f.kind !== 'resolved' || f.model.kind !== 'remote') return judgeModel(f);
    if (ctx.model?.backend !== undefined && !DOWNLOADING.includes(ctx.model.backend)) return noDownload(f.model, ctx.model.backend);
    const hub = modelSearchPlaces({ env: ctx.env })[0]?.dir ?? '';
    const [size, machine] = await Promise.all([remoteSize(f.model, ctx.env, signal), thisMachine(hub)]);
    return judgeDownload(f.model, size, machine, { ignoreMemory: ctx.env.ANYCLAUDE_IGNORE_FIT === '1', backend: ctx.model?.backend });
  },
};

/** What a download would fetch: the catalog's (approximate) size, the Hub's file list, or why it is not known. */
export type DownloadSize = { bytes: number; source: 'catalog' | 'hub' } | { bytes: undefined; why: string; missing?: boolean };

/** Backends whose start downloads a catalog name or HF id that is not on disk. */
const DOWNLOADING: readonly BackendName[] = ['mlx-lm', 'mlx-omni'];

/** llama-cpp starts a .gguf file; it downloads nothing. */
function noDownload(model: RemoteModel, backend: BackendName): CheckResult {
  const gguf = model.entry?.gguf;
  return {
    status: 'fail',
    detail: `${model.entry?.name ?? model.id} is not on this machine, and ${backend} downloads no model (it starts a .gguf file)`,
    fix: gguf === undefined ? 'download a .gguf build of it and pass --model path/to/model.gguf, or use --backend mlx-lm' : `hf download ${gguf.repo} ${gguf.file}, then pass --model with that file; or use --backend mlx-lm, which downloads ${model.id}`,
  };
}

/** How long the Hub may take to list a repository's files (ms), inside the check's 3 s. */
const HUB_TIMEOUT_MS = 2_000;

/** The catalog's size, or the sum of the files the Hub lists for `main` (HF_ENDPOINT and HF_TOKEN as huggingface_hub reads them). */
export async function remoteSize(model: RemoteModel, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<DownloadSize> {
  if (model.entry !== undefined) return { bytes: model.entry.mlx.sizeBytes, source: 'catalog' };
  const endpoint = (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  const timeout = AbortSignal.timeout(HUB_TIMEOUT_MS);
  try {
    const response = await fetch(`${endpoint}/api/models/${model.id}/revision/main?blobs=true`, {
      headers: token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` },
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    if (response.status === 404) return { bytes: undefined, why: `the Hub (${endpoint}) has no repository ${model.id}`, missing: true };
    if (response.status === 401 || response.status === 403) return { bytes: undefined, why: `the Hub (${endpoint}) answered ${response.status} for ${model.id} (private or gated)` };
    if (!response.ok) return { bytes: undefined, why: `the Hub (${endpoint}) answered ${response.status}` };
    const body = (await response.json()) as { siblings?: { size?: unknown; lfs?: { size?: unknown } }[] };
    const sizes = (body.siblings ?? []).map((f) => (typeof f.lfs?.size === 'number' ? f.lfs.size : typeof f.size === 'number' ? f.size : undefined));
    if (sizes.length === 0 || sizes.some((n) => n === undefined)) return { bytes: undefined, why: `the Hub (${endpoint}) did not list the file sizes` };
    return { bytes: sizes.reduce<number>((a, b) => a + (b ?? 0), 0), source: 'hub' };
  } catch (error) {
    return { bytes: undefined, why: `the Hub (${endpoint}) did not answer: ${timeout.aborted ? `no reply in ${HUB_TIMEOUT_MS / 1000} s` : errorMessage(error)}` };
  }
}

/**
 * A model up downloads before the server starts: its size and whether it fits the free disk
 * (where the HF cache lives) and memory; when it does not, the fix names a smaller catalog model.
 */
export function judgeDownload(model: RemoteModel, size: DownloadSize, machine: Machine, options: { ignoreMemory?: boolean; backend?: BackendName | undefined } = {}): CheckResult {
  const label = model.entry === undefined ? model.id : `${model.entry.name} (${model.id})`;
  const notHere = `${label} is not on this machine`;
  if (size.bytes === undefined) {
    if (size.missing === true) return { status: 'fail', detail: `${notHere}, and ${size.why}`, fix: 'check the name (org/name, as on huggingface.co), or set HF_TOKEN for a private repository' };
    return {
      status: 'warn',
      detail: `${notHere}: up downloads it on first start, but its size is unknown (${size.why}), so whether it fits is unchecked`,
      fix: 'check the network (and HF_ENDPOINT, or HF_TOKEN for a private or gated model), then run anyclaude doctor again',
    };
  }
  const about = size.source === 'catalog' ? `about ${formatBytes(size.bytes)}` : formatBytes(size.bytes);
  const need = { label: model.entry?.name ?? model.id, modelBytes: size.bytes, downloadBytes: size.bytes, entry: model.entry };
  try {
    refuseUnlessFits(need, machine, options);
  } catch (error) {
    const fix = error instanceof AnyclaudeError ? error.fix : undefined;
    return { status: 'fail', detail: `${notHere}; up would download ${about}, but ${errorMessage(error)}`, fix: fix ?? 'pick a smaller model' };
  }
  const verdict = judgeFit(need, machine, options);
  const memory = options.ignoreMemory === true ? 'memory not checked (ANYCLAUDE_IGNORE_FIT=1)' : `${formatBytes(size.bytes / MEMORY_SHARE)} of ${formatBytes(machine.totalMemoryBytes)} memory`;
  const fits = verdict.disk && verdict.memory ? `it fits: ${formatBytes(size.bytes + DISK_MARGIN)} of ${formatBytes(machine.freeDiskBytes)} free disk, ${memory}` : '';
  const who = options.backend === undefined ? 'up downloads it first when it starts mlx-lm or mlx-omni' : `up downloads it before ${options.backend} starts`;
  const downloads = `${notHere}: ${who} (${about}, resumable)`;
  if (model.entry !== undefined && !model.entry.tools) return { status: 'warn', detail: `${downloads}; ${fits}; it has no tool calling: Claude Code will run without tools on this model`, fix: 'pick a model trained for tool calling (Qwen3-Coder, GLM-4.5-Air, gpt-oss, Devstral)' };
  const unchecked = model.entry === undefined ? '; its files and chat template are checked once it is here' : '';
  return { status: 'pass', detail: `${downloads}; ${fits}${unchecked}` };
}

function judgeModel(f: Found): CheckResult {
  if (f.kind === 'none') return { status: 'skip', detail: f.why };
  if (f.kind === 'error') return { status: 'fail', detail: errorMessage(f.error), fix: f.error instanceof AnyclaudeError && f.error.fix !== undefined ? f.error.fix : 'pass --model with a model folder, a .gguf file or a Hugging Face id' };
  const { model, files } = f;
  if (model.kind === 'remote' || files === undefined) {
    const id = model.kind === 'remote' ? model.id : model.path;
    return { status: 'warn', detail: `${id} could not be read: its files and chat template are unchecked`, fix: 'pass --model with a model folder, a .gguf file or a Hugging Face id' };
  }
  const lacking = [files.config ? '' : 'a valid config.json', files.tokenizer ? '' : 'a tokenizer (tokenizer.json or tokenizer.model)', files.weights.length > 0 ? '' : 'weights (*.safetensors)'].filter((x) => x !== '');
  const where = `${model.path} (${model.format === 'gguf' ? 'GGUF' : 'folder'}, ${gib(files.bytes)})`;
  if (lacking.length > 0) return { status: 'fail', detail: `${where} lacks ${lacking.join(', ')}`, fix: `download the whole model again (hf download <org/name> --local-dir ${model.path}), or pass --model with a complete one` };
  if (files.template === '') return { status: 'warn', detail: `${where} has no chat template: the server falls back to a plain format the model was not trained on`, fix: 'use a build of this model that ships its chat template (chat_template.jinja or in tokenizer_config.json)' };
  if (!templateSupportsTools(files.template)) return { status: 'warn', detail: `${where}: its chat template has no tools: Claude Code will run without tools on this model`, fix: 'pick a model trained for tool calling (Qwen3-Coder, GLM-4.5-Air, gpt-oss, Devstral)' };
  return { status: 'pass', detail: `${where}: config, tokenizer, ${files.weights.length} weight file${files.weights.length === 1 ? '' : 's'}, a chat template with tools` };
}

export const memoryCheck: Check = {
  id: 'memory',
  title: 'Memory',
  timeoutMs: 3_000,
  run: async (ctx) => judgeMemory(await findModel(ctx), os.totalmem(), os.freemem()),
};

export function judgeMemory(f: Found, total: number, free: number): CheckResult {
  const machine = `${gib(total)} total, ${gib(free)} free`;
  if (f.kind === 'resolved' && f.model.kind === 'remote') return { status: 'skip', detail: `${machine}; the model is not downloaded yet: the model check judges whether it fits` };
  if (f.kind !== 'resolved' || f.files === undefined) return { status: 'skip', detail: `${machine}; no model on disk to compare with` };
  const need = f.files.bytes;
  const detail = `the model takes ${gib(need)} on disk (about what loading it takes, plus the KV cache); ${machine}`;
  if (need > total * 0.9) return { status: 'fail', detail, fix: 'choose a smaller model or a stronger quantisation (e.g. 4-bit), at most ~70% of memory' };
  // Metal lets the GPU use about 75% of unified memory by default.
  if (need > total * 0.75 || need > free) return { status: 'warn', detail, fix: 'close other apps before starting (or choose a smaller quantisation): the model and its KV cache may not fit' };
  return { status: 'pass', detail };
}
