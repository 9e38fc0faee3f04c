/**
 * Who may talk to the proxy: only local processes holding the run's key. A browser page
 * could reach 127.0.0.1 too, so any `Origin` is refused, and a non-loopback `Host`
 * (DNS rebinding) likewise.
 */
import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from './api-error.js';

export function generateKey(): string {
  return `anyclaude-${randomBytes(24).toString('base64url')}`;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function checkOrigin(req: IncomingMessage): void {
  const host = req.headers.host;
  const hostname = host === undefined ? undefined : host.replace(/:\d+$/, '').toLowerCase();
  if (hostname === undefined || !LOOPBACK_HOSTS.has(hostname)) {
    throw new ApiError(403, 'permission_error', `Host "${host ?? ''}" refused: anyclaude answers loopback requests only`);
  }
  if (req.headers.origin !== undefined) {
    throw new ApiError(403, 'permission_error', 'browser requests (Origin header) are refused by anyclaude');
  }
}

export function presentedKey(req: IncomingMessage): string | undefined {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '');
  return undefined;
}

export function checkKey(req: IncomingMessage, key: string): void {
  const given = presentedKey(req);
  if (given === undefined) {
    throw new ApiError(401, 'authentication_error', 'missing API key: send the key anyclaude printed as x-api-key or Authorization: Bearer');
  }
  if (!sameKey(given, key)) {
    throw new ApiError(401, 'authentication_error', 'invalid API key: use the key anyclaude printed for this run');
  }
}

/** Constant time whatever the lengths: digests of equal size are compared, so a wrong key's length leaks nothing either. */
export function sameKey(given: string, key: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(key));
}
