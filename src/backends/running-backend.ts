/**
 * The RunningBackend every adapter returns, built one way: an upstream from a spec, a server
 * found running (external), or a server anyclaude starts and supervises (managed).
 */
import { join } from 'node:path';
import { AnyclaudeError } from '../core/errors.js';
import type { Upstream, UpstreamProtocol } from '../core/upstream.js';
import type { HealthPolicy } from '../supervisor/health-check.js';
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
 * pidfile under `<home>/run/`, its liveness check tuned by the ANYCLAUDE_HEALTH_* variables, and
 * every state change published as a `backend:state` event.
 */
export function managedServer(
  ctx: BackendContext,
  backend: BackendName,
  options: Omit<ManagedProcessOptions, 'logFile' | 'pidDir' | 'events' | 'health'>,
  env: NodeJS.ProcessEnv = process.env,
): ManagedProcess {
  const health = healthFromEnv(env);
  const { liveness, ...rest } = options;
  const server = new ManagedProcess({
    ...rest,
    ...(liveness === undefined || health === 'off' ? {} : { liveness, health }),
    logFile: join(ctx.home, 'logs', `${options.name}.log`),
    pidDir: join(ctx.home, 'run'),
    events: ctx.events,
  });
  server.onState((change) => ctx.events.emit('backend:state', { backend, state: change.state, reason: change.reason }));
  return server;
}

/** The variables that tune every managed server's liveness check, and the policy field each sets. */
const HEALTH_ENV = {
  ANYCLAUDE_HEALTH_INTERVAL_MS: 'intervalMs',
  ANYCLAUDE_HEALTH_TIMEOUT_MS: 'timeoutMs',
  ANYCLAUDE_HEALTH_FAILURES: 'failuresBeforeDegraded',
  ANYCLAUDE_HEALTH_GRACE_MS: 'restartAfterMs',
} as const satisfies Record<string, keyof HealthPolicy>;

/**
 * The liveness policy the environment asks for: only the fields it sets (the rest keep their
 * defaults), or 'off' for ANYCLAUDE_HEALTH_INTERVAL_MS=0.
 */
export function healthFromEnv(env: NodeJS.ProcessEnv): Partial<HealthPolicy> | 'off' {
  if (env.ANYCLAUDE_HEALTH_INTERVAL_MS?.trim() === '0') return 'off';
  const policy: Partial<HealthPolicy> = {};
  for (const [name, field] of Object.entries(HEALTH_ENV)) {
    const text = env[name]?.trim();
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new AnyclaudeError('BAD_HEALTH_SETTING', `${name}=${text} is not a positive whole number`, {
        fix: `set ${name} to a whole number${name.endsWith('_MS') ? ' of milliseconds' : ''}, or unset it for the default${name === 'ANYCLAUDE_HEALTH_INTERVAL_MS' ? ' (0 turns the health check off)' : ''}`,
      });
    }
    policy[field] = value;
  }
  return policy;
}
