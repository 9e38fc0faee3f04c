/**
 * The typed event bus between core and anything that shows state (dashboard, logs, tests).
 * Core emits facts; it never knows who listens.
 */
import { EventEmitter } from 'node:events';
import type { RequestMetrics } from '../proxy/metrics.js';
import type { DownloadProgress } from '../models/download.js';

export interface LogEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  source: string;
  message: string;
  at: number;
}

export interface CoreEventMap {
  'request:start': { id: string; sessionId: string | undefined; upstream: string; model: string; stream: boolean; at: number };
  'request:first-token': { id: string; ttftMs: number };
  'request:progress': { id: string; outputTokens: number; elapsedMs: number };
  'request:end': RequestMetrics;
  'upstream:switch': { from: string; to: string };
  /** A backend's server changed state (managed ones), or was found (detected ones). */
  'backend:state': { backend: string; state: string; reason: string | undefined };
  /** Replaying the remembered prompt prefix so the first turn finds it cached. */
  'cache:warm': { backend: string; phase: 'warming' | 'done' | 'failed' | 'skipped'; ms?: number; detail?: string };
  /** A backend downloading its model (`label`: what the user asked for); every change, as data. */
  'model:download': { backend: string; label: string; progress: DownloadProgress };
  /** The phase `anyclaude up` is in, for a status line. */
  'up:phase': { phase: 'preparing' | 'installing' | 'starting' | 'ready' | 'running' | 'stopping'; detail: string };
  log: LogEvent;
}

export type CoreEventName = keyof CoreEventMap;

export class CoreEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Many dashboard widgets may listen; the default limit of 10 would print a false leak warning.
    this.#emitter.setMaxListeners(100);
  }

  emit<K extends CoreEventName>(name: K, payload: CoreEventMap[K]): void {
    this.#emitter.emit(name, payload);
  }

  on<K extends CoreEventName>(name: K, listener: (payload: CoreEventMap[K]) => void): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }

  log(level: LogEvent['level'], source: string, message: string): void {
    this.emit('log', { level, source, message, at: Date.now() });
  }
}
