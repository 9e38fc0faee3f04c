/**
 * Claude Code 2.1.197 has three clocks that can abandon a slow first turn, and anyclaude sets all
 * three for the child it launches (test/e2e/slow-first-turn.test.ts proves it end to end).
 */
import { describe, expect, it } from 'vitest';
import { claudeEnv } from '../../src/claude/claude-code.js';

/** Claude Code's stream watchdog is max(CLAUDE_STREAM_IDLE_TIMEOUT_MS, this); pings do not reset it. */
const STREAM_IDLE_FLOOR_MS = 300_000;
/** Bun caps BUN_CONFIG_HTTP_IDLE_TIMEOUT (seconds) at 238 minutes. */
const BUN_IDLE_MAX_S = 238 * 60;

describe('the timeouts Claude Code is launched with', () => {
  const env = claudeEnv({ proxyUrl: 'http://127.0.0.1:1', key: 'k', model: 'anyclaude', configDir: undefined, base: { PATH: '/bin', CLAUDE_STREAM_IDLE_TIMEOUT_MS: '1000' } });
  const apiTimeoutMs = Number(env.API_TIMEOUT_MS);

  it('let a stream stay without content as long as a request may take', () => {
    expect(apiTimeoutMs).toBeGreaterThan(STREAM_IDLE_FLOOR_MS);
    expect(Number(env.CLAUDE_STREAM_IDLE_TIMEOUT_MS)).toBe(apiTimeoutMs);
  });

  it("keep Bun's HTTP client from dropping a socket that is silent for 300 s", () => {
    const seconds = Number(env.BUN_CONFIG_HTTP_IDLE_TIMEOUT);
    expect(Number.isInteger(seconds)).toBe(true);
    expect(seconds * 1000).toBeGreaterThanOrEqual(apiTimeoutMs);
    expect(seconds).toBeLessThanOrEqual(BUN_IDLE_MAX_S);
  });
});
