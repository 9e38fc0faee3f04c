/**
 * `model` and `memory`: the model `up` would serve, read from disk. A folder needs config,
 * tokenizer, weights and a chat template; a template that never mentions tools means Claude Code
 * runs with no tools at all. Memory compares its size on disk (roughly what loading it takes).
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { resolveModel, type LocalModel, type ResolvedModel } from '../../backends/model-resolver.js';
import { AnyclaudeError, errorMessage } from '../../core/errors.js';
import type { BackendName } from '../../backends/backend.js';
import type { Check, CheckResult, DoctorContext } from '../types.js';
import { gib } from './system.js';

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
  run: async (ctx) => judgeModel(await findModel(ctx)),
};

function judgeModel(f: Found): CheckResult {
  if (f.kind === 'none') return { status: 'skip', detail: f.why };
  if (f.kind === 'error') return { status: 'fail', detail: errorMessage(f.error), fix: f.error instanceof AnyclaudeError && f.error.fix !== undefined ? f.error.fix : 'pass --model with a model folder, a .gguf file or a Hugging Face id' };
  const { model, files } = f;
  if (model.kind === 'remote' || files === undefined) {
    const id = model.kind === 'remote' ? model.id : model.path;
    return { status: 'warn', detail: `${id} is not on this machine: up downloads it from Hugging Face on first start, so its files and chat template are unchecked`, fix: `download it first: hf download ${id} (pip install huggingface_hub), then run anyclaude doctor again` };
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
  if (f.kind !== 'resolved' || f.files === undefined) return { status: 'skip', detail: `${machine}; no model on disk to compare with` };
  const need = f.files.bytes;
  const detail = `the model takes ${gib(need)} on disk (about what loading it takes, plus the KV cache); ${machine}`;
  if (need > total * 0.9) return { status: 'fail', detail, fix: 'choose a smaller model or a stronger quantisation (e.g. 4-bit), at most ~70% of memory' };
  // Metal lets the GPU use about 75% of unified memory by default.
  if (need > total * 0.75 || need > free) return { status: 'warn', detail, fix: 'close other apps before starting (or choose a smaller quantisation): the model and its KV cache may not fit' };
  return { status: 'pass', detail };
}
