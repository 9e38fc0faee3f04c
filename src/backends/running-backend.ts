/**
 * The RunningBackend every adapter returns, built one way: an upstream from a spec, a server
 * found running (external), or a server anyclaude starts and supervises (managed).
 */
import { join } from 'node:path';
import type { Upstream, UpstreamProtocol } from '../core/upstream.js';
import { ManagedProcess, type ManagedProcessOptions } from '../supervisor/managed-process.js';
import { UPSTREAM_PROFILES, type UpstreamFlavor } from '../translate/upstream-profile.js';
import type { BackendContext, BackendInfo, BackendName, RunningBackend } from './backend.js';

/** Log lines a status() reports. */
const STATUS_LOG_LINES = 50;

export interface UpstreamSpec {
  name: BackendName;
  url: string;
  protocol: UpstreamProtocol;
  flavor: UpstreamFlavor;
  model: string | undefined;
  contextWindow: number | undefined;
  apiKey?: string | undefined;
  unavailable?: () => string | undefined;
}

export function makeUpstream(spec: UpstreamSpec): Upstream {
  return {
    name: spec.name,
    url: spec.url,
    protocol: spec.protocol,
    flavor: spec.flavor,
    model: spec.model,
    contextWindow: spec.contextWindow,
    profile: UPSTREAM_PROFILES[spec.flavor],
    ...(spec.apiKey === undefined ? {} : { apiKey: spec.apiKey }),
    ...(spec.unavailable === undefined ? {} : { unavailable: spec.unavailable }),
  };
}

/** A server anyclaude found running: it does not stop it, and reports it as 'external'. */
export function externalBackend(info: BackendInfo, upstream: Upstream): RunningBackend {
  return {
    info,
    upstream,
    status: () => ({ state: 'external', reason: undefined, restarts: 0, pid: undefined, logTail: [] }),
    stop: async () => undefined,
  };
}

/** A server anyclaude started: status from its state machine, stop() stops the process group. */
export function managedBackend(info: BackendInfo, upstream: Upstream, server: ManagedProcess): RunningBackend {
  return {
    info,
    upstream,
    status: () => ({ state: server.state, reason: server.unavailableReason(), restarts: server.restarts, pid: server.pid, logTail: server.logs.tail(STATUS_LOG_LINES) }),
    stop: () => server.stop(),
  };
}

/**
 * A supervised server with anyclaude's conventions: its log under `<home>/logs/<name>.log`, its
 * pidfile under `<home>/run/`, and every state change published as a `backend:state` event.
 */
export function managedServer(
  ctx: BackendContext,
  backend: BackendName,
  options: Omit<ManagedProcessOptions, 'logFile' | 'pidDir' | 'events'>,
): ManagedProcess {
  const server = new ManagedProcess({
    ...options,
    logFile: join(ctx.home, 'logs', `${options.name}.log`),
    pidDir: join(ctx.home, 'run'),
    events: ctx.events,
  });
  server.onState((change) => ctx.events.emit('backend:state', { backend, state: change.state, reason: change.reason }));
  return server;
}
