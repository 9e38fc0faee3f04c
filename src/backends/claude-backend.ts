/**
 * The real Anthropic API, passed through: useful to compare a local model with Claude, or to switch
 * to it mid-session (`/model claude`). Requests keep their own model; nothing is translated.
 * Neither detect nor start touches the network.
 */
import { AnyclaudeError } from '../core/errors.js';
import { UPSTREAM_PROFILES } from '../translate/upstream-profile.js';
import type { BackendAdapter, BackendContext, BackendInfo, BackendStartOptions, Detection, RunningBackend } from './backend.js';
import { externalBackend } from './running-backend.js';
import { normalizeBaseUrl } from '../core/base-url.js';

export const ANTHROPIC_API_URL = 'https://api.anthropic.com';

function apiKeyOf(options: BackendStartOptions): string | undefined {
  const key = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
  return key === undefined || key.trim() === '' ? undefined : key.trim();
}

async function detect(_ctx: BackendContext, options: BackendStartOptions = {}): Promise<Detection | undefined> {
  if (apiKeyOf(options) === undefined) return undefined;
  const url = options.url === undefined ? ANTHROPIC_API_URL : normalizeBaseUrl(options.url);
  return { name: 'claude', url, detail: `Anthropic API at ${url} (API key set)` };
}

async function start(options: BackendStartOptions, _ctx: BackendContext): Promise<RunningBackend> {
  const apiKey = apiKeyOf(options);
  if (apiKey === undefined) {
    throw new AnyclaudeError('ANTHROPIC_KEY_MISSING', 'the claude backend needs an Anthropic API key, and ANTHROPIC_API_KEY is not set', {
      fix: 'export ANTHROPIC_API_KEY=sk-ant-… (create one at console.anthropic.com), or choose a local backend with --backend',
    });
  }
  const url = options.url === undefined ? ANTHROPIC_API_URL : normalizeBaseUrl(options.url);
  const info: BackendInfo = {
    name: 'claude',
    url,
    modelId: undefined,
    contextWindow: undefined,
    capabilities: { toolCalls: 'native', cachedTokens: true, protocols: ['anthropic'], preferred: 'anthropic' },
    managed: false,
  };
  return externalBackend(info, {
    name: 'claude',
    url,
    protocol: 'anthropic',
    flavor: 'claude',
    model: undefined,
    // Claude's window depends on the model each request names; the API itself rejects what is too long.
    contextWindow: undefined,
    // Never read for pass-through (nothing is translated); the Upstream type requires one.
    profile: UPSTREAM_PROFILES.openai,
    apiKey,
  });
}

export const claudeBackend: BackendAdapter = { name: 'claude', detect, start };
