import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeArgs, claudeConfigDir, claudeEnv } from '../../src/claude/claude-code.js';

describe('launching Claude Code', () => {
  it('keeps the prompt cacheable across sessions unless the user replaces the system prompt', () => {
    expect(claudeArgs(['-p', 'hi'])).toEqual(['--exclude-dynamic-system-prompt-sections', '-p', 'hi']);
    expect(claudeArgs(['--system-prompt', 'x'])).toEqual(['--system-prompt', 'x']);
  });

  it('points Claude Code at the proxy with a bearer token and never passes a real key on', () => {
    const env = claudeEnv({ proxyUrl: 'http://127.0.0.1:1', key: 'k', model: 'anyclaude', configDir: '/c', base: { ANTHROPIC_API_KEY: 'sk-ant-real', PATH: '/bin' } });
    expect(env).toMatchObject({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:1',
      ANTHROPIC_AUTH_TOKEN: 'k',
      ANTHROPIC_MODEL: 'anyclaude',
      CLAUDE_CODE_ATTRIBUTION_HEADER: '0',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_CONFIG_DIR: '/c',
      PATH: '/bin',
    });
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(Number(env.API_TIMEOUT_MS)).toBeGreaterThanOrEqual(600_000);
  });

  it("keeps an onboarded user's own config untouched, and gives a new user an offline-ready one", async () => {
    const user = await mkdtemp(join(tmpdir(), 'anyclaude-user-'));
    const home = join(user, '.anyclaude');
    const fresh = await claudeConfigDir(home, { CLAUDE_CONFIG_DIR: user });
    expect(fresh).toBe(join(home, 'claude-config'));
    expect(JSON.parse(await readFile(join(fresh!, '.claude.json'), 'utf8'))).toEqual({ hasCompletedOnboarding: true });
    const own = JSON.stringify({ hasCompletedOnboarding: true, theme: 'dark', projects: {} });
    await writeFile(join(user, '.claude.json'), own);
    expect(await claudeConfigDir(home, { CLAUDE_CONFIG_DIR: user })).toBe(user);
    expect(await readFile(join(user, '.claude.json'), 'utf8')).toBe(own);
  });
});
