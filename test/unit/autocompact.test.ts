import { describe, expect, it } from 'vitest';
import { AUTOCOMPACT_ENV, autocompactEnv, claudeCompactThreshold, claudeEffectiveWindow, compactAtTokens } from '../../src/claude/autocompact.js';
import { claudeEnv, exportLines } from '../../src/claude/claude-code.js';

const base = { PATH: '/bin' };

describe('when Claude Code is told to compact', () => {
  it.each([4096, 8192, 16_384, 32_768, 65_536, 131_072])('a %i-token window compacts with room left for the compaction itself', (window) => {
    const at = claudeCompactThreshold({ ...base, ...autocompactEnv(window, base) });
    // Claude Code's summary instructions (~1,500 tokens) and a summary of 15 % of the window, at least 1K.
    const reserve = Math.min(33_000, 1600 + Math.max(1024, window * 0.15));
    expect(at).toBeLessThanOrEqual(window - reserve);
    // Claude Code's percentage has two decimals of a 180K window: at most 18 tokens lost to rounding.
    expect(at).toBeGreaterThan(window - reserve - 20);
  });

  it.each([1024, 2048, 3072])('a %i-token window, too small for that room, still keeps a third of it before compacting', (window) => {
    const at = claudeCompactThreshold({ ...base, ...autocompactEnv(window, base) });
    expect(at).toBeLessThanOrEqual(Math.round(window / 3));
    expect(at).toBeGreaterThan(Math.round(window / 3) - 20);
  });

  it("leaves Claude Code's own threshold alone where it is already low enough", () => {
    expect(autocompactEnv(262_144, base)).toEqual({});
    expect(autocompactEnv(undefined, base)).toEqual({});
    expect(claudeCompactThreshold(base)).toBe(167_000);
  });

  it("keeps the user's own percentage", () => {
    expect(autocompactEnv(32_768, { ...base, [AUTOCOMPACT_ENV]: '50' })).toEqual({});
  });

  it('names the window explicitly, at the value Claude Code assumes, or keeps the one the user set', () => {
    expect(autocompactEnv(32_768, base).CLAUDE_CODE_AUTO_COMPACT_WINDOW).toBe('200000');
    expect(autocompactEnv(32_768, { ...base, CLAUDE_CODE_AUTO_COMPACT_WINDOW: '120000' }).CLAUDE_CODE_AUTO_COMPACT_WINDOW).toBeUndefined();
  });

  it("follows what the user's environment does to Claude Code's effective window", () => {
    expect(claudeEffectiveWindow(base)).toBe(180_000);
    expect(claudeEffectiveWindow({ CLAUDE_CODE_MAX_OUTPUT_TOKENS: '8000' })).toBe(192_000);
    // Under 100K is raised to 100K by Claude Code.
    expect(claudeEffectiveWindow({ CLAUDE_CODE_AUTO_COMPACT_WINDOW: '50000' })).toBe(80_000);
    for (const env of [{ CLAUDE_CODE_MAX_OUTPUT_TOKENS: '8000' }, { CLAUDE_CODE_AUTO_COMPACT_WINDOW: '120000' }]) {
      const at = claudeCompactThreshold({ ...env, ...autocompactEnv(32_768, env) });
      expect(at).toBeLessThanOrEqual(compactAtTokens(32_768));
      expect(at).toBeGreaterThan(compactAtTokens(32_768) - 20);
    }
  });

  it('reaches the Claude Code anyclaude launches', () => {
    const env = claudeEnv({ proxyUrl: 'http://127.0.0.1:1', key: 'k', model: 'anyclaude', configDir: undefined, base, contextWindow: 32_768 });
    expect(claudeCompactThreshold(env)).toBeLessThanOrEqual(compactAtTokens(32_768));
    expect(claudeEnv({ proxyUrl: 'http://127.0.0.1:1', key: 'k', model: 'anyclaude', configDir: undefined, base })[AUTOCOMPACT_ENV]).toBeUndefined();
  });

  it('is in the export lines of `anyclaude proxy --context` and `up --proxy-only`, for a Claude Code the user starts', () => {
    const lines = exportLines({ url: 'http://127.0.0.1:1', key: 'k' }, 32_768, base);
    expect(lines).toContain(`export ${AUTOCOMPACT_ENV}=${autocompactEnv(32_768, base)[AUTOCOMPACT_ENV]}\n`);
    expect(lines).toContain('export CLAUDE_CODE_AUTO_COMPACT_WINDOW=200000\n');
    expect(exportLines({ url: 'http://127.0.0.1:1', key: 'k' }, undefined, base)).not.toContain(AUTOCOMPACT_ENV);
  });
});
