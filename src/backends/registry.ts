/** Every backend adapter by name, and auto-detection for `anyclaude up` without `--backend`. */
import { AnyclaudeError } from '../core/errors.js';
import type { BackendAdapter, BackendContext, BackendName, BackendStartOptions, Detection } from './backend.js';
import { claudeBackend } from './claude-backend.js';
import { LLAMA_SERVER_DEFAULT_PORT, llamaCppBackend } from './llama-cpp-backend.js';
import { LMSTUDIO_DEFAULT_PORT, lmStudioBackend } from './lmstudio-backend.js';
import { mlxLmBackend } from './mlx-lm-backend.js';
import { mlxOmniBackend } from './mlx-omni-backend.js';
import { OLLAMA_DEFAULT_PORT, ollamaBackend } from './ollama-backend.js';
import { openaiBackend } from './openai-backend.js';

export const ADAPTERS: Readonly<Record<BackendName, BackendAdapter>> = {
  'mlx-lm': mlxLmBackend,
  'mlx-omni': mlxOmniBackend,
  lmstudio: lmStudioBackend,
  'llama-cpp': llamaCppBackend,
  ollama: ollamaBackend,
  openai: openaiBackend,
  claude: claudeBackend,
};

/** Running servers, checked in parallel; when several run, the first in this order wins. */
export const DETECT_ORDER: readonly BackendName[] = ['lmstudio', 'ollama', 'llama-cpp'];

/** One detect gives up after this long (ms); `lms server status` alone can take a second or two. */
const DETECT_TIMEOUT_MS = 5_000;

const WHAT: Partial<Record<BackendName, { label: string; port: number }>> = {
  lmstudio: { label: 'LM Studio', port: LMSTUDIO_DEFAULT_PORT },
  ollama: { label: 'Ollama', port: OLLAMA_DEFAULT_PORT },
  'llama-cpp': { label: 'llama-server', port: LLAMA_SERVER_DEFAULT_PORT },
};

export interface AutoDetectOptions {
  /** Where each backend is looked for (port, url); defaults to each one's usual place. */
  options?: Partial<Record<BackendName, BackendStartOptions>>;
  /** Per-backend detect limit (ms). */
  timeoutMs?: number;
  /** Replaces adapters (tests). */
  adapters?: Partial<Record<BackendName, BackendAdapter>>;
  /** Default process.platform / process.arch: mlx-lm is offered on Apple Silicon only. */
  platform?: NodeJS.Platform;
  arch?: string;
}

export interface AutoDetected {
  adapter: BackendAdapter;
  detection: Detection;
}

/** The first running server (LM Studio, Ollama, llama-server), else a server named by URL, else mlx-lm on Apple Silicon; throws NO_BACKEND listing what to do. */
export async function autoDetect(ctx: BackendContext, o: AutoDetectOptions = {}): Promise<AutoDetected> {
  const adapters: Record<BackendName, BackendAdapter> = { ...ADAPTERS, ...o.adapters };
  const timeoutMs = o.timeoutMs ?? DETECT_TIMEOUT_MS;
  const found = await Promise.all(DETECT_ORDER.map((name) => detectWithin(adapters[name], ctx, o.options?.[name] ?? {}, timeoutMs)));
  for (const [i, name] of DETECT_ORDER.entries()) {
    const detection = found[i];
    if (detection !== undefined) return { adapter: adapters[name], detection };
  }
  // Then servers the user pointed at by URL (MLX_LM_URL, --url), and mlx-lm on Apple Silicon.
  const appleSilicon = (o.platform ?? process.platform) === 'darwin' && (o.arch ?? process.arch) === 'arm64';
  for (const name of ['mlx-lm', 'openai'] as const) {
    const options = o.options?.[name] ?? {};
    if (options.url === undefined && !(name === 'mlx-lm' && appleSilicon)) continue;
    const detection = await detectWithin(adapters[name], ctx, options, timeoutMs);
    if (detection !== undefined) return { adapter: adapters[name], detection };
  }
  const looked = DETECT_ORDER.map((name) => {
    const what = WHAT[name];
    const opts = o.options?.[name];
    return `${what?.label ?? name} (${opts?.url ?? `port ${opts?.port ?? what?.port ?? '?'}`})`;
  });
  throw new AnyclaudeError('NO_BACKEND', `no model server found: looked for ${looked.join(', ')}`, {
    fix: [
      'start one, or name it:',
      '    anyclaude up --backend mlx-lm --model mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit   (mlx_lm.server in a venv anyclaude manages)',
      '    LM Studio: load a model and start its server (`lms server start`, or Developer → Start Server)',
      '    Ollama: `ollama serve`, then `ollama pull qwen3-coder:30b`',
      '    anyclaude up --backend llama-cpp --model path/to/model.gguf   (needs llama-server on PATH)',
      '    anyclaude up --backend openai --url http://host:8000/v1   (vLLM, SGLang, any OpenAI-compatible server)',
    ].join('\n'),
  });
}

async function detectWithin(adapter: BackendAdapter, ctx: BackendContext, options: BackendStartOptions, timeoutMs: number): Promise<Detection | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([adapter.detect(ctx, options).catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
