/**
 * What every backend adapter gives the rest of anyclaude: a way to find or start the server,
 * and, once running, the upstream the proxy forwards to plus status a dashboard or doctor reads.
 */
import type { CoreEvents } from '../core/events.js';
import type { ServerState } from '../supervisor/managed-process.js';
import type { Upstream, UpstreamProtocol } from '../core/upstream.js';
import type { DownloadProgress } from '../models/download.js';

export type BackendName = 'mlx-lm' | 'mlx-omni' | 'lmstudio' | 'llama-cpp' | 'ollama' | 'openai' | 'claude';

export const BACKEND_NAMES: readonly BackendName[] = ['mlx-lm', 'mlx-omni', 'lmstudio', 'llama-cpp', 'ollama', 'openai', 'claude'];

export interface BackendCapabilities {
  /** How tool calls come back: parsed by the server, written as text (recovered by the proxy), or unknown. */
  toolCalls: 'native' | 'text' | 'unknown';
  /** The server reports cached prompt tokens, so cache reuse can be measured. */
  cachedTokens: boolean;
  protocols: readonly UpstreamProtocol[];
  /** The protocol that works best with this server (overridden by `--protocol`). */
  preferred: UpstreamProtocol;
}

export interface BackendInfo {
  name: BackendName;
  url: string;
  modelId: string | undefined;
  contextWindow: number | undefined;
  capabilities: BackendCapabilities;
  /** anyclaude started the process (and stops it) rather than finding it running. */
  managed: boolean;
}

export interface BackendStatus {
  /** 'external': a server anyclaude did not start; its health is whatever its last check said. */
  state: ServerState | 'external';
  reason: string | undefined;
  restarts: number;
  pid: number | undefined;
  logTail: readonly string[];
}

export interface RunningBackend {
  info: BackendInfo;
  upstream: Upstream;
  status(): BackendStatus;
  stop(): Promise<void>;
}

export interface BackendStartOptions {
  /** Friendly name, HF id or path (resolved by the adapter). */
  model?: string;
  /** Port to start on (managed backends) or to look at (detected ones). */
  port?: number;
  /** Base URL of a server that is already running. */
  url?: string;
  /** Context window, when the server cannot say. */
  context?: number;
  protocol?: UpstreamProtocol;
  /** Python for managed venvs (default `python3`). */
  python?: string;
  /** Reinstall a managed venv even when it is healthy. */
  upgradeVenv?: boolean;
  /** Each line of a venv install, for a progress display. */
  onInstallProgress?: (line: string) => void;
  /** Every change of a model download (a catalog name or HF id not on disk yet), as data. */
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /** How long a managed server may take to load its model. */
  readyTimeoutMs?: number;
  apiKey?: string;
}

export interface BackendContext {
  events: CoreEvents;
  /** `~/.anyclaude` (or ANYCLAUDE_HOME): venvs, run/ (pidfiles), logs/. */
  home: string;
}

/** What auto-detection found: enough to tell the user and to pick. */
export interface Detection {
  name: BackendName;
  url: string;
  detail: string;
}

export interface BackendAdapter {
  name: BackendName;
  /** Is this backend running (detected kinds) or startable (managed kinds) here? Never throws. */
  detect(ctx: BackendContext, options?: BackendStartOptions): Promise<Detection | undefined>;
  start(options: BackendStartOptions, ctx: BackendContext): Promise<RunningBackend>;
}
