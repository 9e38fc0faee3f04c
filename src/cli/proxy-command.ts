/** `anyclaude proxy`: the translation proxy alone, in front of a server the user runs. */
import { request } from 'undici';
import { exportLines } from '../claude/claude-code.js';
import { AnyclaudeError } from '../core/errors.js';
import { CoreEvents } from '../core/events.js';
import { startProxy, type Proxy } from '../proxy/server.js';
import type { ContextStrategy } from '../core/context-strategy.js';
import { joinUrl, upstreamAgent, type Upstream, type UpstreamProtocol } from '../core/upstream.js';
import { UPSTREAM_PROFILES, type UpstreamFlavor } from '../translate/upstream-profile.js';
import { formatRequestLine } from './request-line.js';
import { debugLevel } from '../settings/up-settings.js';

export interface ProxyCommandOptions {
  upstream: string;
  protocol: UpstreamProtocol;
  flavor: UpstreamFlavor;
  model?: string;
  port?: number;
  key?: string;
  context?: number;
  trace?: boolean;
  apiKey?: string;
  contextStrategy?: ContextStrategy;
  /** Seconds to wait for the backend's next byte (--backend-timeout, ANYCLAUDE_BACKEND_TIMEOUT). */
  backendTimeout?: number;
}

export async function runProxyCommand(options: ProxyCommandOptions): Promise<void> {
  const events = new CoreEvents();
  const debug = debugLevel(process.env.ANYCLAUDE_DEBUG);
  const model = options.model ?? (options.protocol === 'openai' ? await discoverModel(options.upstream) : undefined);
  const upstream: Upstream = {
    name: options.flavor,
    url: options.upstream,
    protocol: options.protocol,
    flavor: options.flavor,
    model,
    contextWindow: options.context,
    profile: UPSTREAM_PROFILES[options.flavor],
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
  };
  const proxy = await startProxy({
    upstreams: [upstream],
    events,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.trace === true || debug >= 1 ? { trace: true } : {}),
    logBodies: debug >= 2,
    ...(options.contextStrategy === undefined ? {} : { contextStrategy: options.contextStrategy }),
    ...(options.backendTimeout === undefined ? {} : { backendTimeoutMs: options.backendTimeout * 1000 }),
  });
  const stopped = waitForSignal(proxy);
  events.on('request:end', (m) => process.stderr.write(`${formatRequestLine(m)}\n`));
  events.on('log', (e) => {
    if (e.level !== 'debug' || debug >= 2) process.stderr.write(`[${e.level}] ${e.source}: ${e.message}\n`);
  });
  // stdout carries only export lines so `eval "$(anyclaude proxy …)"` works; the rest goes to stderr.
  process.stdout.write(exportLines(proxy, options.context));
  await stopped;
}

/** Handlers are in place before the ready lines are printed, so a signal right after them is never lost. */
function waitForSignal(proxy: Proxy): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void proxy.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The served model id, so requests never name another model (mlx_lm.server would try to load it). */
async function discoverModel(base: string): Promise<string> {
  const url = joinUrl(base, '/v1/models');
  try {
    const response = await request(url, { dispatcher: upstreamAgent, headersTimeout: 5_000, bodyTimeout: 5_000 });
    const body = (await response.body.json()) as { data?: Array<{ id?: unknown }> };
    const id = body.data?.[0]?.id;
    if (response.statusCode === 200 && typeof id === 'string') return id;
    throw new Error(`HTTP ${response.statusCode}, no model listed`);
  } catch (error) {
    throw new AnyclaudeError('UPSTREAM_MODEL_UNKNOWN', `could not learn the served model from ${url}: ${error instanceof Error ? error.message : String(error)}`, {
      fix: 'start the backend first, or pass --model <served model id>',
    });
  }
}
