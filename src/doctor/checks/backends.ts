/**
 * `backend:<name>` for the servers anyclaude finds or starts: is it there, which model is loaded,
 * and with what context window. Claude Code sends about 20K tokens (system prompt and tools)
 * before the first word, so under 24K it cannot start a session and under 32K it fills at once.
 */
import { stat } from 'node:fs/promises';
import { execa } from 'execa';
import type { BackendName } from '../../backends/backend.js';
import { findLlamaServer, LLAMA_SERVER_DEFAULT_PORT, probeLlamaServer } from '../../backends/llama-cpp-backend.js';
import { discoverLmStudio, isChatModel, LMSTUDIO_DEFAULT_PORT, type LmStudioModel } from '../../backends/lmstudio-backend.js';
import { bestMatches, readContextWindow, resolveModel } from '../../backends/model-resolver.js';
import { DETECT_ORDER } from '../../backends/registry.js';
import { loadedModels, ollamaUrl, OLLAMA_SMALL_CONTEXT } from '../../backends/ollama-backend.js';
import { isOk, listOpenAIModels, loopbackUrl, probe } from '../../backends/openai-backend.js';
import { normalizeBaseUrl } from '../../core/base-url.js';
import { joinUrl } from '../../core/upstream.js';
import { seconds } from '../runner.js';
import type { Check, CheckResult, DoctorContext } from '../types.js';

/** Under this the first request does not fit (tokens). */
export const CONTEXT_FAIL_BELOW = 24 * 1024;
/** Under this a session fills up after a turn or two (tokens); the same line the Ollama adapter warns at. */
export const CONTEXT_WARN_BELOW = OLLAMA_SMALL_CONTEXT;
/** What fixes recommend. */
const GOOD_CONTEXT = 65_536;
const BACKEND_TIMEOUT_MS = 2_500;

/** pass, warn or fail for a context window; `fix` says how to give the model more. */
export function contextVerdict(context: number | undefined, where: string, fix: string): CheckResult {
  if (context === undefined) return { status: 'warn', detail: `${where}; its context window is unknown`, fix: 'pass --context <tokens> so anyclaude can check prompts against it' };
  const detail = `${where}, ${context}-token context`;
  if (context < CONTEXT_FAIL_BELOW) return { status: 'fail', detail: `${detail}: too small for Claude Code's ~20K-token first request`, fix };
  if (context < CONTEXT_WARN_BELOW) return { status: 'warn', detail: `${detail}: Claude Code's ~20K-token prompt leaves little room`, fix };
  return { status: 'pass', detail };
}

function isNamed(ctx: DoctorContext, name: BackendName): boolean {
  return ctx.named?.includes(name) === true;
}

/** Not found: a failure when `up` is told to use it, else just not in use here. */
function absent(ctx: DoctorContext, name: BackendName, detail: string, fix: string): CheckResult {
  return isNamed(ctx, name) ? { status: 'fail', detail, fix } : { status: 'skip', detail };
}

function portOrDefault(ctx: DoctorContext, name: BackendName, port: number): string {
  const url = ctx.backend(name).url;
  return url !== undefined ? normalizeBaseUrl(url) : loopbackUrl(ctx.settings.backendPort ?? port);
}

/** One look per backend per run: `backend:<name>` and `backend` (what auto-detection picks) share it. */
const looked = new WeakMap<DoctorContext, Map<BackendName, Promise<CheckResult>>>();

function lookOnce(ctx: DoctorContext, name: BackendName, look: () => Promise<CheckResult>): Promise<CheckResult> {
  const mine = looked.get(ctx) ?? new Map<BackendName, Promise<CheckResult>>();
  looked.set(ctx, mine);
  const pending = mine.get(name) ?? look();
  mine.set(name, pending);
  return pending;
}

function backendCheck(name: BackendName, title: string, locate: (ctx: DoctorContext) => string, run: (ctx: DoctorContext, url: string) => Promise<CheckResult>): Check {
  return {
    id: `backend:${name}`,
    title,
    timeoutMs: BACKEND_TIMEOUT_MS,
    run: (ctx) => lookOnce(ctx, name, () => (ctx.named !== undefined && !ctx.named.includes(name) ? notNamed(ctx.named) : run(ctx, locate(ctx)))),
    onTimeout: (ctx, ms) => {
      const where = locate(ctx);
      const server = /^https?:\/\//.test(where);
      const detail = server ? `${where} accepted the connection but did not answer within ${seconds(ms)}` : `looking at ${where} did not finish within ${seconds(ms)}`;
      const fix = server ? `find what listens there (lsof -nP -iTCP:${portOf(where)} -sTCP:LISTEN) and restart or stop it` : 'run anyclaude doctor again when the machine is less busy';
      return isNamed(ctx, name) ? { status: 'fail', detail, fix } : { status: 'warn', detail, fix };
    },
  };
}

/** --url and --backend-port are meant for the backends named: another one is not looked for there. */
async function notNamed(named: readonly BackendName[]): Promise<CheckResult> {
  return { status: 'skip', detail: `not used: up uses ${named.join(', ')}` };
}

function portOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port || (u.protocol === 'https:' ? '443' : '80');
  } catch {
    return '<port>';
  }
}

export const lmStudioCheck = backendCheck('lmstudio', 'LM Studio', (ctx) => portOrDefault(ctx, 'lmstudio', LMSTUDIO_DEFAULT_PORT), async (ctx, given) => {
  const own = ctx.backend('lmstudio');
  const url = own.url === undefined && ctx.settings.backendPort === undefined ? ((await lmsServerUrl(ctx.env)) ?? given) : given;
  const server = await discoverLmStudio(url, own.apiKey);
  if (server === undefined) return absent(ctx, 'lmstudio', `no LM Studio server at ${url}`, 'start it: `lms server start` (or LM Studio → Developer → Start Server); pass --url if it listens elsewhere');
  const loaded = server.models.filter((m) => m.loaded && isChatModel(m));
  const picked = own.model === undefined ? loaded : bestMatches(own.model, loaded, (m) => m.key);
  const [model] = picked;
  const at = `LM Studio${server.api === 'v1' ? ' 0.4+' : ''} at ${url}`;
  if (model === undefined) {
    const what = own.model === undefined ? 'no model loaded' : `${own.model} is not loaded (up loads it with lms, at ${GOOD_CONTEXT} tokens)`;
    return { status: own.model === undefined ? 'warn' : 'pass', detail: `${at}, ${what}`, fix: `load one with its context set: lms load <model> --context-length ${GOOD_CONTEXT}` };
  }
  return withTools(contextVerdict(model.loadedContext ?? own.context, `${at}, ${model.id} loaded${picked.length > 1 ? ` (and ${picked.length - 1} more)` : ''}`, reloadLms(model)), model);
});

/** Where `lms server status` says LM Studio listens, as up asks when no URL or port is given; undefined without the CLI. */
async function lmsServerUrl(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const result = await execa('lms', ['server', 'status', '--json', '--quiet'], { reject: false, timeout: 2_000, stdin: 'ignore', env, extendEnv: false }).catch(() => undefined);
  if (result?.exitCode !== 0) return undefined;
  try {
    const status = JSON.parse(String(result.stdout).trim()) as { running?: unknown; port?: unknown };
    return status.running === true && typeof status.port === 'number' && Number.isInteger(status.port) ? loopbackUrl(status.port) : undefined;
  } catch {
    return undefined;
  }
}

function reloadLms(model: LmStudioModel): string {
  return `lms unload ${model.id} && lms load ${model.key} --context-length ${GOOD_CONTEXT}`;
}

function withTools(result: CheckResult, model: LmStudioModel): CheckResult {
  if (model.toolUse !== false || result.status === 'fail') return result;
  return { status: 'warn', detail: `${result.detail}; LM Studio says it is not trained for tool use: Claude Code will run without tools on this model`, fix: result.fix ?? 'load a model trained for tool use (LM Studio shows a hammer icon), e.g. qwen3-coder' };
}

export const ollamaCheck = backendCheck('ollama', 'Ollama', (ctx) => ollamaUrl({ ...optionalUrl(ctx, 'ollama'), ...(ctx.settings.backendPort === undefined ? {} : { port: ctx.settings.backendPort }) }, ctx.env), async (ctx, url) => {
  const root = await probe(joinUrl(url, '/'));
  if (!isOk(root) || !root.text.includes('Ollama is running')) return absent(ctx, 'ollama', `no Ollama at ${url}`, 'start it: `ollama serve` (or open the Ollama app); set OLLAMA_HOST or pass --url if it listens elsewhere');
  const own = ctx.backend('ollama');
  const loaded = await loadedModels(url);
  const picked = own.model === undefined ? loaded : bestMatches(own.model, loaded, (m) => m.name);
  const [model] = picked;
  const restart = `stop Ollama, start it with a larger default: OLLAMA_CONTEXT_LENGTH=${GOOD_CONTEXT} ollama serve (macOS app: launchctl setenv OLLAMA_CONTEXT_LENGTH ${GOOD_CONTEXT}, then restart the app), and load the model again`;
  if (model !== undefined) return contextVerdict(model.context, `Ollama at ${url}, ${model.name} loaded`, restart);
  const set = Number(ctx.env.OLLAMA_CONTEXT_LENGTH);
  const trap = Number.isInteger(set) && set >= CONTEXT_WARN_BELOW ? '' : `; OLLAMA_CONTEXT_LENGTH is ${ctx.env.OLLAMA_CONTEXT_LENGTH === undefined ? 'not set' : `${ctx.env.OLLAMA_CONTEXT_LENGTH}`} here, and unless it is ${CONTEXT_WARN_BELOW} or more where \`ollama serve\` runs, Ollama loads models with 4K–32K tokens`;
  const what = `Ollama at ${url}, ${own.model === undefined ? 'no model loaded' : `${own.model} not loaded yet`}${trap}`;
  return trap === '' ? { status: 'pass', detail: what } : { status: 'warn', detail: what, fix: restart };
});

function optionalUrl(ctx: DoctorContext, name: BackendName): { url?: string } {
  const url = ctx.backend(name).url;
  return url === undefined ? {} : { url };
}

function isGguf(model: string | undefined): model is string {
  return model !== undefined && /\.gguf$/i.test(model.trim());
}

function llamaUrl(ctx: DoctorContext): string {
  const envPort = Number(ctx.env.LLAMA_ARG_PORT);
  return portOrDefault(ctx, 'llama-cpp', Number.isInteger(envPort) && envPort > 0 ? envPort : LLAMA_SERVER_DEFAULT_PORT);
}

export const llamaCppCheck = backendCheck('llama-cpp', 'llama-server', llamaUrl, async (ctx, url) => {
  const own = ctx.backend('llama-cpp');
  if (isGguf(own.model) && own.url === undefined) return managedLlama(ctx, own.model, own.context);
  const found = await probeLlamaServer(url);
  if (found === undefined) return absent(ctx, 'llama-cpp', `no llama-server at ${url}`, `start one: llama-server -m model.gguf --port ${portOf(url)} -c ${GOOD_CONTEXT} --jinja, or pass --model path/to/model.gguf so anyclaude starts it`);
  if (found.state === 'loading') return { status: 'warn', detail: `llama-server at ${url} is still loading its model`, fix: 'wait for it to finish loading, then run anyclaude doctor again' };
  return contextVerdict(found.contextWindow ?? own.context, `llama-server at ${url}, serving ${found.modelId ?? 'a model'}`, `restart llama-server with -c ${GOOD_CONTEXT} (its --ctx-size)`);
});

async function managedLlama(ctx: DoctorContext, model: string, context: number | undefined): Promise<CheckResult> {
  const binary = await findLlamaServer(ctx.env);
  const file = await resolveModel(model, { env: ctx.env }).catch(() => undefined);
  const exists = file?.kind === 'local' && (await stat(file.path).catch(() => undefined))?.isFile() === true;
  if (binary === undefined) return absent(ctx, 'llama-cpp', `llama-server is not on PATH${ctx.env.ANYCLAUDE_LLAMA_SERVER ? ` (ANYCLAUDE_LLAMA_SERVER=${ctx.env.ANYCLAUDE_LLAMA_SERVER} is not executable)` : ''}`, 'install llama.cpp (brew install llama.cpp, or a release from github.com/ggml-org/llama.cpp/releases), or set ANYCLAUDE_LLAMA_SERVER=/path/to/llama-server');
  if (!exists) return absent(ctx, 'llama-cpp', `no model file at ${model}`, 'pass the path of an existing .gguf file');
  return contextVerdict(context ?? GOOD_CONTEXT, `up starts ${binary} with ${model}`, `pass --context ${GOOD_CONTEXT}`);
}

export const mlxLmCheck = backendCheck('mlx-lm', 'mlx_lm.server', (ctx) => ctx.backend('mlx-lm').url ?? 'a server anyclaude starts', async (ctx) => {
  const own = ctx.backend('mlx-lm');
  if (own.url !== undefined) return runningMlx(ctx, normalizeBaseUrl(own.url), own.model, own.context);
  const appleSilicon = ctx.platform === 'darwin' && ctx.arch === 'arm64';
  if (!isNamed(ctx, 'mlx-lm') && !appleSilicon) return { status: 'skip', detail: `not used: up starts mlx_lm.server by itself only on Apple Silicon (this is ${ctx.platform}-${ctx.arch}); --backend mlx-lm runs it here` };
  if (own.model === undefined) return absent(ctx, 'mlx-lm', 'no model given for mlx-lm', 'pass --model <name, Hugging Face id or path>, e.g. --model mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit');
  const resolved = await resolveModel(own.model, { env: ctx.env }).catch(() => undefined);
  if (resolved?.kind !== 'local') return { status: 'pass', detail: `up starts mlx_lm.server with ${own.model}${resolved === undefined ? '' : ' (downloaded on first start)'}; see the model check` };
  const context = own.context ?? (await readContextWindow(resolved.path));
  return contextVerdict(context, `up starts mlx_lm.server with ${resolved.path}`, `pass --context ${GOOD_CONTEXT} only if the model supports it, or choose a model with a longer context`);
});

async function runningMlx(ctx: DoctorContext, url: string, model: string | undefined, context: number | undefined): Promise<CheckResult> {
  const apiKey = ctx.backend('mlx-lm').apiKey;
  const models = await listOpenAIModels(url, apiKey === undefined ? {} : { apiKey });
  if (models === undefined) return absent(ctx, 'mlx-lm', `no mlx_lm.server answers ${url}/v1/models`, 'start it (mlx_lm.server --model <model> --port <port>), or fix MLX_LM_URL / --url; unset MLX_LM_URL to let anyclaude start one');
  const local = model === undefined ? undefined : await resolveModel(model, { env: ctx.env }).catch(() => undefined);
  const window = context ?? (local?.kind === 'local' ? await readContextWindow(local.path) : undefined);
  return contextVerdict(window, `mlx_lm.server at ${url}, serving ${model ?? 'its default model'}`, `pass --context <tokens>, or serve a model with a context of ${GOOD_CONTEXT} or more`);
}

const DETECTED: ReadonlyArray<[BackendName, Check]> = [
  ['lmstudio', lmStudioCheck],
  ['ollama', ollamaCheck],
  ['llama-cpp', llamaCppCheck],
];

/** What `up` would use: the backends named, or what auto-detection finds (the first running server, in DETECT_ORDER). */
export const chosenBackendCheck: Check = {
  id: 'backend',
  title: 'Backend',
  timeoutMs: BACKEND_TIMEOUT_MS + 500,
  run: async (ctx, signal) => {
    if (ctx.named !== undefined) return namedBackends(ctx, ctx.named);
    const [pointed, ...others] = ctx.settings.pointed;
    if (pointed !== undefined && others.length === 0) return { status: 'pass', detail: `up uses ${pointed}: its URL variable is set` };
    const order = DETECTED.filter(([name]) => DETECT_ORDER.includes(name));
    const seen = await Promise.all(order.map(async ([name, check]) => ({ name, result: await within(check.run(ctx, signal), BACKEND_TIMEOUT_MS) })));
    const found = seen.find((s) => s.result !== undefined && s.result.status !== 'skip');
    if (found?.result !== undefined) return { status: 'pass', detail: `up would auto-detect ${found.name}: ${found.result.detail}` };
    if (ctx.platform === 'darwin' && ctx.arch === 'arm64') return { status: 'pass', detail: 'no server running; up would start mlx_lm.server (Apple Silicon)' };
    const url = ctx.backend('openai').url;
    if (url !== undefined) return { status: 'pass', detail: `no LM Studio, Ollama or llama-server answers; up would try ${url} as an OpenAI-compatible server` };
    return {
      status: 'fail',
      detail: `no model server found (${seen.map((s) => s.result?.detail ?? `${s.name}: no answer`).join('; ')}): \`anyclaude up\` would stop here`,
      fix: 'start one (LM Studio: lms server start; Ollama: ollama serve; llama-server -m model.gguf -c 65536 --jinja), or name one: anyclaude up --backend mlx-lm --model <model>',
    };
  },
};

/** The named backends; the Anthropic pass-through has no server to look at, only a key to have. */
function namedBackends(ctx: DoctorContext, named: readonly BackendName[]): CheckResult {
  const detail = `up uses ${named.join(', ')} (${ctx.settings.sources.get('backend') ?? 'named'})`;
  const key = ctx.backend('claude').apiKey ?? ctx.env.ANTHROPIC_API_KEY;
  if (named.includes('claude') && (key === undefined || key === '')) {
    return { status: 'fail', detail: `${detail}, but the claude backend needs an Anthropic API key and ANTHROPIC_API_KEY is not set`, fix: 'export ANTHROPIC_API_KEY=sk-ant-… (create one at console.anthropic.com), or choose a local backend with --backend' };
  }
  return { status: 'pass', detail };
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

export const BACKEND_CHECKS: readonly Check[] = [chosenBackendCheck, lmStudioCheck, ollamaCheck, llamaCppCheck, mlxLmCheck];
