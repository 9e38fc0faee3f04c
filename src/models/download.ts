/**
 * Downloads a Hugging Face repository into the HF cache with huggingface_hub, in the venv of the
 * backend that will load it (python/hf-download.py), and turns its JSON lines into one progress
 * value (bytes, rate, ETA) that a front end shows. The child leads its own process group; an
 * abort, or anyclaude exiting, stops the group and leaves the partial blobs for the next run to
 * resume with HTTP Range requests.
 */
import { execa } from 'execa';
import { z } from 'zod';
import { AnyclaudeError } from '../core/errors.js';
import { packageFile } from '../core/package-root.js';
import { onExit } from '../supervisor/cleanup.js';
import { signalGroup } from '../supervisor/process-group.js';
import { formatBytes } from '../core/bytes.js';

const SCRIPT = packageFile('python/hf-download.py');

const planLine = z.object({
  type: z.literal('plan'),
  repo: z.string(),
  revision: z.string(),
  commit: z.string(),
  totalBytes: z.number(),
  presentBytes: z.number(),
  files: z.array(z.object({ name: z.string(), size: z.number(), present: z.number() })),
});
const hfLine = z.discriminatedUnion('type', [
  planLine,
  z.object({ type: z.literal('file'), name: z.string(), size: z.number(), resumeFrom: z.number() }),
  z.object({ type: z.literal('progress'), doneBytes: z.number(), totalBytes: z.number(), file: z.string(), fileDone: z.number(), fileSize: z.number() }),
  z.object({ type: z.literal('file-done'), name: z.string() }),
  z.object({ type: z.literal('done'), path: z.string(), commit: z.string(), downloadedBytes: z.number() }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
  z.object({ type: z.literal('cancelled') }),
]);

export type HfLine = z.infer<typeof hfLine>;
export type DownloadPlan = z.infer<typeof planLine>;

/** One line of hf-download.py's output; undefined for anything else (a warning on stdout, say). */
export function parseHfLine(text: string): HfLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = hfLine.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Where a download stands: plain data, for the terminal, the dashboard and `anyclaude status`. */
export interface DownloadProgress {
  repo: string;
  /** `planning`: asking the Hub what to fetch; `downloading`; then one of the three ends. */
  phase: 'planning' | 'downloading' | 'done' | 'failed' | 'cancelled';
  /** Bytes of the whole snapshot (undefined until the plan is known). */
  totalBytes: number | undefined;
  /** Bytes on disk, including what an earlier run left. */
  doneBytes: number;
  /** Bytes an earlier run had already fetched (not downloaded again). */
  resumedBytes: number;
  /** The file that moved last. */
  file: string | undefined;
  filesDone: number;
  filesTotal: number;
  /** Over the last few seconds; undefined until there is enough to measure. */
  bytesPerSecond: number | undefined;
  etaSeconds: number | undefined;
  startedAt: number;
  updatedAt: number;
  /** Why it failed. */
  message?: string;
}

/** Seconds of samples the rate is measured over. */
const RATE_WINDOW_MS = 5_000;

/** Folds hf-download.py's lines into a DownloadProgress, with the rate over the last few seconds. */
export class ProgressTracker {
  #state: DownloadProgress;
  #samples: { at: number; bytes: number }[] = [];

  constructor(repo: string, now: number = Date.now()) {
    this.#state = { repo, phase: 'planning', totalBytes: undefined, doneBytes: 0, resumedBytes: 0, file: undefined, filesDone: 0, filesTotal: 0, bytesPerSecond: undefined, etaSeconds: undefined, startedAt: now, updatedAt: now };
  }

  get state(): DownloadProgress {
    return this.#state;
  }

  apply(line: HfLine, now: number = Date.now()): DownloadProgress {
    const s = this.#state;
    switch (line.type) {
      case 'plan': {
        const complete = line.files.filter((f) => f.present >= f.size).length;
        this.#state = { ...s, phase: 'downloading', totalBytes: line.totalBytes, doneBytes: line.presentBytes, resumedBytes: line.presentBytes, filesTotal: line.files.length, filesDone: complete };
        this.#samples = [{ at: now, bytes: line.presentBytes }];
        break;
      }
      case 'file':
        this.#state = { ...s, file: line.name };
        break;
      case 'progress':
        this.#state = { ...s, doneBytes: line.doneBytes, totalBytes: line.totalBytes, file: line.file };
        this.#sample(now, line.doneBytes);
        break;
      case 'file-done':
        this.#state = { ...s, filesDone: Math.min(s.filesDone + 1, s.filesTotal) };
        break;
      case 'done':
        this.#state = { ...s, phase: 'done', doneBytes: s.totalBytes ?? s.doneBytes, filesDone: s.filesTotal, etaSeconds: 0 };
        break;
      case 'error':
        this.#state = { ...s, phase: 'failed', message: line.message };
        break;
      case 'cancelled':
        this.#state = { ...s, phase: 'cancelled' };
        break;
    }
    this.#state = { ...this.#state, updatedAt: now, ...this.#rate() };
    return this.#state;
  }

  /** Ends it from outside (an abort, or a child that died without a last line). */
  end(phase: 'failed' | 'cancelled', message: string | undefined, now: number = Date.now()): DownloadProgress {
    this.#state = { ...this.#state, phase, updatedAt: now, ...(message === undefined ? {} : { message }) };
    return this.#state;
  }

  #sample(at: number, bytes: number): void {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - (this.#samples[1]?.at ?? at) >= RATE_WINDOW_MS) this.#samples.shift();
  }

  #rate(): Pick<DownloadProgress, 'bytesPerSecond' | 'etaSeconds'> {
    const s = this.#state;
    if (s.phase !== 'downloading') return { bytesPerSecond: s.bytesPerSecond, etaSeconds: s.phase === 'done' ? 0 : s.etaSeconds };
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < 500) return { bytesPerSecond: undefined, etaSeconds: undefined };
    const rate = ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
    const left = (s.totalBytes ?? 0) - s.doneBytes;
    return { bytesPerSecond: rate, etaSeconds: rate > 0 ? left / rate : undefined };
  }
}

/** `Downloading Qwen3-Coder-30B  [#######-------]  52%  9.0/17.2 GB  85.3 MB/s  ETA 1m36s` */
export function formatProgress(p: DownloadProgress, label: string = p.repo, barWidth = 20): string {
  if (p.phase === 'planning') return `Downloading ${label}: asking the Hub for the file list`;
  const total = p.totalBytes ?? 0;
  const fraction = total > 0 ? Math.min(1, p.doneBytes / total) : 0;
  const filled = Math.round(fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const rate = p.bytesPerSecond === undefined ? '' : `  ${formatBytes(p.bytesPerSecond)}/s`;
  const eta = p.phase === 'downloading' && p.etaSeconds !== undefined ? `  ETA ${formatDuration(p.etaSeconds)}` : '';
  const resumed = p.resumedBytes > 0 && p.phase === 'downloading' ? `  (${formatBytes(p.resumedBytes)} kept from before)` : '';
  const end = p.phase === 'done' ? '  done' : p.phase === 'cancelled' ? '  stopped (run again to resume)' : p.phase === 'failed' ? '  failed' : '';
  return `Downloading ${label}  ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(p.doneBytes)}/${formatBytes(total)}${rate}${eta}${resumed}${end}`;
}

/** 95 → 1m35s, 4000 → 1h06m, 7 → 7s. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface DownloadOptions {
  /** `org/name` */
  repo: string;
  revision?: string;
  /** The venv interpreter with huggingface_hub (the mlx-lm venv's). */
  python: string;
  /** The environment the child gets (default process.env): HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Called with the Hub's file list before any byte is fetched; throw to refuse (e.g. it does not fit). */
  check?: (plan: DownloadPlan) => void | Promise<void>;
  /** Files fetched at once (default 4). */
  workers?: number;
}

export interface DownloadResult {
  /** The snapshot folder: `<hub>/models--org--name/snapshots/<commit>`. */
  path: string;
  commit: string;
  totalBytes: number;
  /** Bytes fetched by this run (the rest was already there). */
  downloadedBytes: number;
  resumedBytes: number;
  seconds: number;
}

const STDERR_LINES = 20;
const STOP_GRACE_MS = 3_000;

export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const started = Date.now();
  const tracker = new ProgressTracker(options.repo, started);
  const report = (p: DownloadProgress): void => options.onProgress?.(p);
  report(tracker.state);
  options.signal?.throwIfAborted();

  const args = [SCRIPT, 'download', options.repo, '--revision', options.revision ?? 'main', '--workers', String(options.workers ?? 4), '--confirm'];
  const child = execa(options.python, args, {
    env: { ...(options.env ?? process.env), PYTHONUNBUFFERED: '1', HF_HUB_DISABLE_PROGRESS_BARS: '1' },
    extendEnv: false,
    detached: true,
    buffer: false,
    reject: false,
    stdin: 'pipe',
  });
  // hf-download.py fetches nothing until told `go`, once the plan passed the check.
  const go = (): void => {
    child.stdin?.end('go\n');
  };
  const stderr: string[] = [];
  let refused: unknown;
  let stopping = false;
  const stop = (): void => {
    if (stopping || child.pid === undefined) return;
    stopping = true;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL'), STOP_GRACE_MS).unref();
  };
  const offExit = onExit(stop);
  const onAbort = (): void => stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let done: Extract<HfLine, { type: 'done' }> | undefined;
  let failure: Extract<HfLine, { type: 'error' }> | undefined;
  let checking = Promise.resolve();
  const lines = (stream: NodeJS.ReadableStream | null, each: (line: string) => void): Promise<void> =>
    new Promise((resolve) => {
      if (stream === null) return resolve();
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        parts.forEach(each);
      });
      stream.on('end', () => {
        if (partial !== '') each(partial);
        resolve();
      });
      stream.on('error', () => resolve());
    });

  const reading = lines(child.stdout, (text) => {
    const line = parseHfLine(text.trim());
    if (line === undefined) return;
    if (line.type === 'done') done = line;
    if (line.type === 'error') failure = line;
    if (line.type === 'plan') {
      const check = options.check;
      checking = Promise.resolve()
        .then(() => check?.(line))
        .then(go, (error: unknown) => {
          refused = error;
          child.stdin?.end();
        });
    }
    report(tracker.apply(line));
  });
  const readingErr = lines(child.stderr, (text) => {
    if (text.trim() === '') return;
    stderr.push(text);
    if (stderr.length > STDERR_LINES) stderr.shift();
  });

  try {
    const result = await child;
    await Promise.all([reading, readingErr, checking]);
    if (refused !== undefined) {
      report(tracker.end('cancelled', undefined));
      throw refused;
    }
    const state = tracker.state;
    const kept = state.doneBytes === 0 ? 'nothing was downloaded yet' : `${formatBytes(state.doneBytes)} of ${state.totalBytes === undefined ? '?' : formatBytes(state.totalBytes)} are kept`;
    if (options.signal?.aborted === true || (stopping && done === undefined)) {
      report(tracker.end('cancelled', undefined));
      throw new AnyclaudeError('MODEL_DOWNLOAD_STOPPED', `the download of ${options.repo} was stopped; ${kept}`, { fix: 'run the same command again to resume where it stopped' });
    }
    if (done !== undefined && result.exitCode === 0) {
      return { path: done.path, commit: done.commit, totalBytes: state.totalBytes ?? 0, downloadedBytes: done.downloadedBytes, resumedBytes: state.resumedBytes, seconds: (Date.now() - started) / 1000 };
    }
    const message = failure?.message ?? `hf-download.py exited with ${result.exitCode ?? result.signal ?? '?'}: ${stderr.slice(-5).join('\n    ') || '(no output)'}`;
    report(tracker.end('failed', message));
    throw new AnyclaudeError('MODEL_DOWNLOAD_FAILED', `downloading ${options.repo} failed: ${message}`, { fix: fixFor(failure?.code, kept) });
  } finally {
    offExit();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function fixFor(code: string | undefined, kept: string): string {
  switch (code) {
    case 'gated':
      return 'accept the model\'s terms on huggingface.co, then set HF_TOKEN (or run `hf auth login`)';
    case 'not-found':
      return 'check the name (org/name, as on huggingface.co), or set HF_TOKEN for a private repository';
    case 'disk':
      return `free disk space, or move the cache with HF_HOME; ${kept} and the next run resumes`;
    case 'network':
      return `check the network (and HF_ENDPOINT if set), then run again: ${kept === 'nothing was downloaded yet' ? 'it starts' : `${kept} and the download resumes`}`;
    default:
      return `run again to resume (${kept}); if it keeps failing, remove the model's folder in the HF cache`;
  }
}
