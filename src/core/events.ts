/**
 * The typed event bus between core and anything that shows state (dashboard, logs, tests).
 * Core emits facts; it never knows who listens.
 */
import { EventEmitter } from 'node:events';
import type { RequestMetrics } from '../proxy/metrics.js';

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
