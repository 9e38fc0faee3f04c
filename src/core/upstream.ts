/** A server the proxy forwards to (what backends hand the proxy), and the HTTP client both use to reach servers. */
import { Agent } from 'undici';
import type { UpstreamFlavor, UpstreamProfile } from '../translate/upstream-profile.js';

export type UpstreamProtocol = 'openai' | 'anthropic';

export interface Upstream {
  /** Also the alias a request's `model` may name to route here (Claude Code's `/model lmstudio`). */
  name: string;
  /** Base URL: `/v1/chat/completions` or `/v1/messages` is appended (mlx-omni: `http://…/anthropic`). */
  url: string;
  protocol: UpstreamProtocol;
  flavor: UpstreamFlavor | 'claude';
  /** The served model id; sent as `model` on every request. Undefined in pass-through `claude` mode. */
  model: string | undefined;
  /** Tokens; undefined when unknown (no context check then). */
  contextWindow: number | undefined;
  profile: UpstreamProfile;
  /** Sent as `Authorization: Bearer` (openai) or `x-api-key` (anthropic). */
  apiKey?: string;
  /** Why the backend cannot take requests now (starting, restarting), or undefined when it can. */
  unavailable?: () => string | undefined;
}

/**
 * The longest the proxy waits for a backend's next byte (headers or body) by default, in seconds
 * (`--backend-timeout`). Generous because a 20K-token prefill on a laptop CPU can send nothing
 * for minutes (llama-server is silent until its first token; mlx_lm.server writes a keepalive per
 * prefill step, so it is never silent that long while it works).
 */
export const DEFAULT_BACKEND_TIMEOUT_S = 600;

/**
 * A fallback for the other users of this agent (discovery, model loads). The proxy's own exchanges
 * turn these off per request and apply their backend timeout instead, so a limit raised past
 * 15 minutes is not cut short here.
 */
const UPSTREAM_TIMEOUT_MS = 15 * 60_000;

export const upstreamAgent = new Agent({
  headersTimeout: UPSTREAM_TIMEOUT_MS,
  bodyTimeout: UPSTREAM_TIMEOUT_MS,
  keepAliveTimeout: 30_000,
  connect: { timeout: 10_000 },
});

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
