/**
 * Found by fuzzing (test/fuzz/anthropic-to-openai.fuzz.test.ts): the request schema lets any
 * `{type}` object into a tool_result's content, so `{"type":"image"}` without a source or
 * `{"type":"text"}` without text reached the translator, which failed with a TypeError (HTTP 500).
 * They are refused by name with a 400 instead.
 */
import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../../src/anthropic/types.js';
import { parseMessagesRequest } from '../../src/anthropic/request-schema.js';
import { anthropicToOpenAI } from '../../src/translate/anthropic-to-openai.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import { ApiError } from '../../src/proxy/api-error.js';

function withResultContent(content: unknown[]): MessagesRequest {
  const body = {
    model: 'claude',
    max_tokens: 100,
    messages: [
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Shot', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content }] },
    ],
  };
  const parsed = parseMessagesRequest(body);
  if (!parsed.ok) throw new Error(`the schema no longer accepts this body (${parsed.error}); this test can go`);
  return parsed.value;
}

function refusal(request: MessagesRequest, flavor: keyof typeof UPSTREAM_PROFILES): ApiError {
  try {
    anthropicToOpenAI(request, { model: 'm', profile: UPSTREAM_PROFILES[flavor] });
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('translated without complaint');
}

describe('malformed blocks inside a tool_result (found by fuzzing)', () => {
  it.each([
    [{ type: 'image' }, /tool_result for "toolu_1": an image block needs a "source"/],
    [{ type: 'image', source: { type: 'base64' } }, /an image block needs a "source"/],
    [{ type: 'image', source: {} }, /an image block needs a "source"/],
    [{ type: 'text' }, /tool_result for "toolu_1": a text block needs a string "text"/],
    [{ type: 'text', text: 5 }, /a text block needs a string "text"/],
  ])('%j is a 400 naming the block, for a text-only and an image backend', (block, message) => {
    for (const flavor of ['mlx-lm', 'llama-cpp'] as const) {
      const error = refusal(withResultContent([{ type: 'text', text: 'ok' }, block]), flavor);
      expect(error.status).toBe(400);
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toMatch(message);
    }
  });

  it('well-formed text and image blocks still translate', () => {
    const request = withResultContent([
      { type: 'text', text: 'shot taken' },
      { type: 'image', source: { type: 'url', url: 'https://example.invalid/a.png' } },
    ]);
    const { request: chat } = anthropicToOpenAI(request, { model: 'm', profile: UPSTREAM_PROFILES['llama-cpp'] });
    expect(chat.messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'user']);
    expect(chat.messages[1]).toEqual({ role: 'tool', tool_call_id: 'toolu_1', content: 'shot taken' });
  });
});
