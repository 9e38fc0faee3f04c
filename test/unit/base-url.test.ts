import { describe, expect, it } from 'vitest';
import { normalizeBaseUrl } from '../../src/core/base-url.js';
import { AnyclaudeError } from '../../src/core/errors.js';

describe('normalizeBaseUrl', () => {
  it.each([
    ['http://localhost:1234', 'http://localhost:1234'],
    ['http://localhost:1234/', 'http://localhost:1234'],
    ['http://localhost:1234/v1', 'http://localhost:1234'],
    ['http://localhost:1234/v1/', 'http://localhost:1234'],
    ['http://localhost:1234/v1/chat/completions', 'http://localhost:1234'],
    ['http://localhost:1234/v1/chat/completions/', 'http://localhost:1234'],
    ['http://localhost:1234/v1/messages', 'http://localhost:1234'],
    ['http://localhost:1234/v1/messages/count_tokens', 'http://localhost:1234'],
    ['http://localhost:1234/v1/completions', 'http://localhost:1234'],
    ['http://localhost:1234/v1/models', 'http://localhost:1234'],
    ['  http://127.0.0.1:8080/v1  ', 'http://127.0.0.1:8080'],
    ['localhost:11434/v1', 'http://localhost:11434'],
    ['127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['https://gpu-box.lan/v1', 'https://gpu-box.lan'],
    ['http://[::1]:8080/v1', 'http://[::1]:8080'],
    // A prefix before /v1 is part of the server's address (mlx-omni, gateways).
    ['http://127.0.0.1:10240/anthropic', 'http://127.0.0.1:10240/anthropic'],
    ['http://127.0.0.1:10240/anthropic/v1/messages', 'http://127.0.0.1:10240/anthropic'],
    ['https://gateway.example/openai/v1/', 'https://gateway.example/openai'],
    ['http://h:1/v1?x=1#frag', 'http://h:1'],
    // Only an API suffix is removed: a path that merely ends in "v1" stays.
    ['http://h:1/apiv1', 'http://h:1/apiv1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeBaseUrl(input)).toBe(expected);
  });

  it.each(['', 'ftp://h/v1', 'http://', 'not a url at all'])('rejects %j naming the source and how to write it', (input) => {
    const error = (() => {
      try {
        normalizeBaseUrl(input, 'LMSTUDIO_URL');
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('URL_INVALID');
    expect((error as AnyclaudeError).message).toContain('LMSTUDIO_URL');
    expect((error as AnyclaudeError).fix).toMatch(/http:\/\/localhost:1234\/v1/);
  });
});
