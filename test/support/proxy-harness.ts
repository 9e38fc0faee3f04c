/** A real proxy in front of a scripted upstream, both on loopback, for one test file. */
import Anthropic from '@anthropic-ai/sdk';
import { startProxy, type Proxy, type ProxyOptions } from '../../src/proxy/server.js';
import type { Upstream } from '../../src/core/upstream.js';
import { UPSTREAM_PROFILES, type UpstreamFlavor } from '../../src/translate/upstream-profile.js';
import { startScriptedUpstream, type ScriptedUpstream, type UpstreamFlavor as ScriptedFlavor } from './scripted-upstream.js';

const FLAVOR_MAP: Record<ScriptedFlavor, UpstreamFlavor> = {
  'mlx-lm': 'mlx-lm',
  'llama-server': 'llama-cpp',
  lmstudio: 'lmstudio',
  ollama: 'ollama',
};

export interface Harness {
  upstream: ScriptedUpstream;
  proxy: Proxy;
  client: Anthropic;
  /** fetch against the proxy with the run's key. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(options: {
  flavor?: ScriptedFlavor;
  contextWindow?: number;
  proxy?: Partial<ProxyOptions>;
  upstream?: Partial<Upstream>;
  delayMsPerChunk?: number;
} = {}): Promise<Harness> {
  const flavor = options.flavor ?? 'mlx-lm';
  const upstream = await startScriptedUpstream({ flavor, modelId: 'served-model', ...(options.delayMsPerChunk === undefined ? {} : { delayMsPerChunk: options.delayMsPerChunk }) });
  const proxy = await startProxy({
    upstreams: [
      {
        name: FLAVOR_MAP[flavor],
        url: upstream.url,
        protocol: 'openai',
        flavor: FLAVOR_MAP[flavor],
        model: 'served-model',
        contextWindow: options.contextWindow,
        profile: UPSTREAM_PROFILES[FLAVOR_MAP[flavor]],
        ...options.upstream,
      },
    ],
    ...options.proxy,
  });
  const client = new Anthropic({ baseURL: proxy.url, apiKey: proxy.key, maxRetries: 0 });
  return {
    upstream,
    proxy,
    client,
    post: (path, body, headers = {}) =>
      fetch(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': proxy.key, 'anthropic-version': '2023-06-01', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await proxy.close();
      await upstream.close();
    },
  };
}
