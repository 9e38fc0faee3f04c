/**
 * Base URLs as people write them. Every OpenAI-compatible server documents its base URL with
 * `/v1` (LM Studio `http://localhost:1234/v1`, Ollama, vLLM, the OpenAI SDK's `baseURL`), others
 * paste the full endpoint; the proxy wants the part before `/v1` and appends the path itself.
 */
import { AnyclaudeError } from './errors.js';

/** `/v1`, optionally followed by an endpoint a user may have pasted whole. */
const API_SUFFIX = /\/v1(?:\/(?:chat\/completions|completions|messages(?:\/count_tokens)?|models))?$/;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `http://host:port`, `…/v1`, `…/v1/`, `…/v1/chat/completions`, `…/v1/messages` and a bare
 * `host:port` all give `http://host:port`; a prefix such as mlx-omni's `/anthropic` is kept.
 * Throws URL_INVALID (naming `what`, e.g. the flag) for anything that is not http(s).
 */
export function normalizeBaseUrl(input: string, what = 'the URL'): string {
  const text = input.trim();
  const withScheme = HAS_SCHEME.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid(input, what);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw invalid(input, what);
  const path = url.pathname.replace(/\/+$/, '').replace(API_SUFFIX, '').replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

function invalid(input: string, what: string): AnyclaudeError {
  return new AnyclaudeError('URL_INVALID', `${what} "${input}" is not an http(s) URL`, {
    fix: 'write it as the server documents it, e.g. http://localhost:1234/v1 or http://127.0.0.1:8080',
  });
}
