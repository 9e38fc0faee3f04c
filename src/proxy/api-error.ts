/** Errors on the wire, in the Anthropic error format Claude Code understands. */
import type { ErrorType } from '../anthropic/types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly headers: Record<string, string>;

  constructor(status: number, type: ErrorType, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.headers = headers;
  }

  body(): { type: 'error'; error: { type: ErrorType; message: string } } {
    return { type: 'error', error: { type: this.type, message: this.message } };
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'invalid_request_error', message);

/** Claude Code retries 529 with backoff (and SSE `overloaded_error` at once), so every transient backend failure maps here. */
export const overloaded = (message: string): ApiError => new ApiError(529, 'overloaded_error', message);

export function promptTooLong(tokens: number, maximum: number): ApiError {
  // Claude Code matches this wording to trigger its own compaction.
  return badRequest(`prompt is too long: ${tokens} tokens > ${maximum} maximum`);
}

/** Maps an upstream HTTP status (for a POST to `url`) to what Claude Code should see. */
export function fromUpstreamStatus(status: number, detail: string, url: string): ApiError {
  const message = `backend answered HTTP ${status}${detail === '' ? '' : `: ${detail}`}`;
  if (status === 400 || status === 422) return badRequest(message);
  if (status === 401 || status === 403) return new ApiError(status, status === 401 ? 'authentication_error' : 'permission_error', message);
  if (status === 404) return notFound(url, detail);
  if (status === 413) return new ApiError(413, 'request_too_large', message);
  if (status === 429) return new ApiError(429, 'rate_limit_error', message);
  return overloaded(message);
}

/** A 404 for the chat path is most often a base URL written another way than the proxy expects. */
function notFound(url: string, detail: string): ApiError {
  return new ApiError(
    404,
    'not_found_error',
    `backend answered HTTP 404 for POST ${url}${detail === '' ? '' : ` (${detail})`}. If that URL is wrong, fix the backend URL ` +
      '(--upstream / --url / LMSTUDIO_URL / MLX_LM_URL): give it as the server documents it, e.g. http://127.0.0.1:1234/v1 or http://127.0.0.1:1234',
  );
}

/** The readable part of an upstream error body (OpenAI `{error:{message}}`, plain text, or HTML). */
export function upstreamErrorDetail(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const error = (parsed as { error: unknown }).error;
      if (typeof error === 'string') return error.slice(0, 300);
      if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message).slice(0, 300);
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
