/**
 * What a running `anyclaude up` looks like, as one plain serializable value: the dashboard, the
 * status line, `anyclaude status` and a dashboard attached from another terminal all read this.
 * Core owns it (src/run/run.ts); front ends only read it and call RunCommands.
 */
import type { BackendName } from '../backends/backend.js';
import type { UpstreamProtocol } from '../core/upstream.js';
import type { RequestMetrics } from '../proxy/metrics.js';

/**
 * `available`: anyclaude can use it but has not started it (a local model mlx-lm could serve,
 * a detected server not yet connected). `external`: a server anyclaude found running.
 */
export type BackendPhase = 'available' | 'starting' | 'warming' | 'ready' | 'degraded' | 'crashed' | 'stopped' | 'external';

export interface BackendView {
  /** What `switchTo` takes: the backend's name (`mlx-lm`, `lmstudio`, …). */
  id: string;
  kind: BackendName;
  phase: BackendPhase;
  /** Requests go here now. */
  active: boolean;
  /** The model requests are sent with (undefined: chosen per request, or not known yet). */
  model: string | undefined;
  /** Other models this backend can serve (switchTo(id, model) picks one). */
  models: string[];
  /** Tokens; undefined when the server cannot say. */
  contextWindow: number | undefined;
  protocol: UpstreamProtocol | undefined;
  url: string | undefined;
  /** anyclaude started (and will stop) the server. */
  managed: boolean;
  /** One line: why it is degraded or crashed, or how it was found. */
  detail: string | undefined;
  restarts: number;
  pid: number | undefined;
}

/** A request still streaming. */
export interface InFlightView {
  id: string;
  sessionId: string | undefined;
  upstream: string;
  model: string;
  startedAt: number;
  ttftMs: number | undefined;
  outputTokens: number;
}

/** Cache warm-up of one backend with the remembered prompt prefix. */
export interface WarmupView {
  backend: string;
  phase: 'warming' | 'done' | 'failed' | 'skipped';
  ms: number | undefined;
  detail: string | undefined;
}

/** A model download (a catalog name or HF id not on disk yet): a plain-data copy of src/models/download.ts's DownloadProgress. */
export interface DownloadView {
  /** What the user asked for (`Qwen3-Coder-30B`), or the repository. */
  label: string;
  repo: string;
  /** `planning`: asking the Hub for the file list; then `downloading`; then one of the three ends. */
  phase: 'planning' | 'downloading' | 'done' | 'failed' | 'cancelled';
  /** Bytes of the whole model; undefined until the Hub said. */
  totalBytes: number | undefined;
  /** Bytes on disk, including those an earlier, interrupted run left. */
  doneBytes: number;
  /** Bytes an earlier run had fetched (resumed, not downloaded again); 0 for a fresh download. */
  resumedBytes: number;
  /** Over the last few seconds; undefined until measured. */
  bytesPerSecond: number | undefined;
  etaSeconds: number | undefined;
  /** The file that moved last. */
  file: string | undefined;
  filesDone: number;
  filesTotal: number;
  startedAt: number;
}

/** Something that takes a while before a backend can serve: venv install, model download, server start, model load, a switch. */
export interface ProgressView {
  backend: string;
  /** `install`: creating the venv and pip install; `download`: fetching the model; `start`: server starting and loading the model; `warm`: prefilling the remembered prefix. */
  step: 'install' | 'download' | 'start' | 'warm';
  detail: string;
  startedAt: number;
  /** The last lines of output (pip, the server's log), newest last. */
  lines: string[];
  /** The model download, while it runs and (finished) while the server loads what it fetched. */
  download?: DownloadView;
}

/** The latest request of one Claude Code session: what its status line shows. */
export interface SessionView {
  sessionId: string;
  last: RequestMetrics;
  requests: number;
}

export interface LogLine {
  at: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  source: string;
  message: string;
}

export type RunPhase = 'preparing' | 'installing' | 'starting' | 'ready' | 'running' | 'stopping';

export interface ClaudeView {
  state: 'not-started' | 'running' | 'exited';
  pid: number | undefined;
  exitCode: number | undefined;
  /** Hosted in anyclaude's pseudo-terminal (the dashboard is one key away) or owning the terminal. */
  hosted: boolean;
}

export interface RunState {
  /** Increases on every change: a cheap "did anything change" for pollers. */
  revision: number;
  pid: number;
  startedAt: number;
  phase: RunPhase;
  phaseDetail: string;
  /** The proxy's URL once it listens. */
  proxyUrl: string | undefined;
  /** The backend requests go to (BackendView.id). */
  active: string | undefined;
  backends: BackendView[];
  /** Finished requests, oldest first, at most RECENT_REQUESTS. */
  requests: RequestMetrics[];
  inFlight: InFlightView[];
  sessions: SessionView[];
  warmups: WarmupView[];
  progress: ProgressView[];
  /** A switch under way (the target is starting or warming). */
  switching: { to: string; model: string | undefined; detail: string } | undefined;
  /** anyclaude's own log, newest last, at most LOG_LINES. */
  logs: LogLine[];
  /** The active backend's server log (managed backends), newest last. */
  backendLog: string[];
  claude: ClaudeView;
  /** How the hotkey is written for people, e.g. "Ctrl-]". */
  hotkey: string;
}

export const RECENT_REQUESTS = 50;
export const LOG_LINES = 200;

/** What a front end may ask of a run (locally, or over HTTP from another terminal). */
export interface RunCommands {
  /** From now on requests go to this backend (and model): started and warmed first when needed. Rejects with a readable message. */
  switchTo(backend: string, model?: string): Promise<void>;
}

/** The one thing a front end is given: a store it reads with useSyncExternalStore, and the commands. */
export interface RunStore extends RunCommands {
  getSnapshot(): RunState;
  /** Called at most ~10 times a second, however fast requests stream. */
  subscribe(listener: () => void): () => void;
}

export function emptyRunState(overrides: Partial<RunState> = {}): RunState {
  return {
    revision: 0,
    pid: process.pid,
    startedAt: Date.now(),
    phase: 'preparing',
    phaseDetail: '',
    proxyUrl: undefined,
    active: undefined,
    backends: [],
    requests: [],
    inFlight: [],
    sessions: [],
    warmups: [],
    progress: [],
    switching: undefined,
    logs: [],
    backendLog: [],
    claude: { state: 'not-started', pid: undefined, exitCode: undefined, hosted: false },
    hotkey: 'Ctrl-]',
    ...overrides,
  };
}
