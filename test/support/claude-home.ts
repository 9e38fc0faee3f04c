/**
 * A throwaway Claude Code configuration, so tests (and a first run offline) never wait on
 * onboarding or Anthropic's servers and never touch the user's own ~/.claude.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function makeClaudeConfigDir(projectDir: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-claude-config-'));
  const config = {
    hasCompletedOnboarding: true,
    projects: { [projectDir]: { hasTrustDialogAccepted: true } },
  };
  await writeFile(join(dir, '.claude.json'), JSON.stringify(config), { mode: 0o600 });
  return dir;
}

export function claudeEnv(base: { ANTHROPIC_BASE_URL: string; ANTHROPIC_API_KEY: string }, configDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: configDir,
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: base.ANTHROPIC_BASE_URL,
    ANTHROPIC_AUTH_TOKEN: base.ANTHROPIC_API_KEY,
    CLAUDE_CODE_ATTRIBUTION_HEADER: '0',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
  };
}
