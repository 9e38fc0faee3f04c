/**
 * Which Claude Code anyclaude runs: the pinned one installed with it, unless the user names
 * another; a broken or missing bundled one falls back to PATH with a note, else one line with
 * what to install. Candidates are real executables, run for real (`--version`).
 */
import { describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findClaudeBinary, pinnedClaudeCodeVersion, resolveClaude } from '../../src/claude/claude-code.js';
import { formatForTerminal } from '../../src/core/errors.js';
import { describeVersions } from '../../src/cli/version.js';
import { thrown } from '../support/expect-error.js';

const ownManifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const claudeManifest = createRequire(import.meta.url)('@anthropic-ai/claude-code/package.json') as { version: string };

/** A real executable in a fresh folder; `claude` unless named otherwise. */
async function script(body: string, name = 'claude'): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-claude-'));
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return { dir, path };
}
const fakeClaude = (version: string, name?: string): Promise<{ dir: string; path: string }> => script(`echo "${version} (Claude Code)"`, name);
/** What the real package leaves in bin/claude.exe when npm skipped its postinstall. */
const nativeBinaryStub = (): Promise<{ dir: string; path: string }> => script('echo "Error: claude native binary not installed." >&2\nexit 1', 'claude.exe');

describe('the Claude Code anyclaude depends on', () => {
  it('is a regular dependency pinned to one exact version, the one installed', () => {
    expect(ownManifest.dependencies['@anthropic-ai/claude-code']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(ownManifest.devDependencies['@anthropic-ai/claude-code']).toBeUndefined();
    expect(pinnedClaudeCodeVersion()).toBe(ownManifest.dependencies['@anthropic-ai/claude-code']);
    expect(claudeManifest.version).toBe(pinnedClaudeCodeVersion());
  });
});

describe('findClaudeBinary', () => {
  it('runs the bundled Claude Code by default, even with another claude on PATH', async () => {
    const other = await fakeClaude('9.9.9');
    const found = resolveClaude({ env: { PATH: other.dir } });
    expect(found.source).toBe('bundled');
    expect(found.path).toMatch(/node_modules\/@anthropic-ai\/claude-code\/bin\/claude\.exe$/);
    expect(found.version).toBe(claudeManifest.version);
    expect(findClaudeBinary({ env: { PATH: other.dir } })).toBe(found.path);
  });

  it('runs ANYCLAUDE_CLAUDE_BIN when set, and a --claude-bin path over that', async () => {
    const fromEnv = await fakeClaude('2.0.1');
    const fromFlag = await fakeClaude('2.0.2');
    expect(resolveClaude({ env: { ANYCLAUDE_CLAUDE_BIN: fromEnv.path } })).toEqual({ path: fromEnv.path, source: 'env', version: '2.0.1' });
    expect(resolveClaude({ bin: fromFlag.path, env: { ANYCLAUDE_CLAUDE_BIN: fromEnv.path } })).toEqual({ path: fromFlag.path, source: 'flag', version: '2.0.2' });
    // A bare name is looked up on PATH.
    const named = await fakeClaude('2.0.3', 'claude-next');
    expect(resolveClaude({ env: { ANYCLAUDE_CLAUDE_BIN: 'claude-next', PATH: named.dir } })).toEqual({ path: named.path, source: 'env', version: '2.0.3' });
  });

  it('refuses a named Claude Code that does not run, rather than silently running another', async () => {
    const broken = await script('exit 3');
    const error = thrown(() => resolveClaude({ bin: broken.path }));
    expect(error.code).toBe('CLAUDE_BIN_BROKEN');
    expect(error.message).toBe(`--claude-bin ${broken.path} is not a working Claude Code (\`${broken.path} --version\` failed)`);
    expect(error.fix).toContain('leave it unset to use the bundled Claude Code');
    expect(thrown(() => resolveClaude({ env: { ANYCLAUDE_CLAUDE_BIN: join(broken.dir, 'missing') } })).message).toBe(
      `ANYCLAUDE_CLAUDE_BIN ${join(broken.dir, 'missing')} does not exist`,
    );
    expect(thrown(() => resolveClaude({ env: { ANYCLAUDE_CLAUDE_BIN: 'no-such-claude', PATH: broken.dir } })).message).toBe(
      'ANYCLAUDE_CLAUDE_BIN no-such-claude is not on PATH',
    );
  });

  it('falls back to claude on PATH, with a note, when the bundled native binary was not installed', async () => {
    const stub = await nativeBinaryStub();
    const onPath = await fakeClaude('2.1.5');
    const notes: string[] = [];
    const found = resolveClaude({ bundled: () => stub.path, env: { PATH: `relative/dir:${onPath.dir}` }, warn: (m) => notes.push(m) });
    expect(found).toEqual({ path: onPath.path, source: 'path', version: '2.1.5' });
    expect(notes).toEqual([
      `the bundled Claude Code at ${stub.path} does not run (npm skipped its postinstall or its platform package); using Claude Code 2.1.5 from ${onPath.path}, which anyclaude is not tested with`,
    ]);
  });

  it('without a bundled or PATH Claude Code, says in one line exactly what to install', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'anyclaude-empty-'));
    const error = thrown(() => resolveClaude({ bundled: () => undefined, env: { PATH: empty } }));
    expect(error.code).toBe('CLAUDE_MISSING');
    expect(error.message).toBe('the bundled Claude Code (@anthropic-ai/claude-code) is not installed, and there is no `claude` on PATH');
    expect(error.fix).toBe(`npm install -g @anthropic-ai/claude-code@${ownManifest.dependencies['@anthropic-ai/claude-code']}`);
    expect(formatForTerminal(error).split('\n')).toHaveLength(2);
  });

  it('names both when the bundled one and the one on PATH are broken', async () => {
    const stub = await nativeBinaryStub();
    const brokenOnPath = await script('exit 1');
    const error = thrown(() => resolveClaude({ bundled: () => stub.path, env: { PATH: brokenOnPath.dir } }));
    expect(error.message).toBe(`the bundled Claude Code at ${stub.path} does not run (npm skipped its postinstall or its platform package), and ${brokenOnPath.path} does not run either`);
    expect(error.fix).toBe(`npm install -g @anthropic-ai/claude-code@${pinnedClaudeCodeVersion()}`);
  });
});

describe('describeVersions', () => {
  it("prints anyclaude's version and the Claude Code it will run, with where it comes from", () => {
    const [first, second, ...rest] = describeVersions({ env: { PATH: '' } }).split('\n');
    expect(first).toBe(`anyclaude ${ownManifest.version}`);
    expect(second).toMatch(new RegExp(`^Claude Code ${claudeManifest.version.replaceAll('.', '\\.')} \\(bundled: /.+/@anthropic-ai/claude-code/bin/claude\\.exe\\)$`));
    expect(rest).toEqual([]);
  });

  it('names a user-chosen Claude Code, and keeps the fallback note', async () => {
    const chosen = await fakeClaude('2.3.4');
    expect(describeVersions({ env: { ANYCLAUDE_CLAUDE_BIN: chosen.path } })).toBe(`anyclaude ${ownManifest.version}\nClaude Code 2.3.4 (ANYCLAUDE_CLAUDE_BIN: ${chosen.path})`);
    const stub = await nativeBinaryStub();
    const lines = describeVersions({ bundled: () => stub.path, env: { PATH: chosen.dir } }).split('\n');
    expect(lines[1]).toBe(`Claude Code 2.3.4 (PATH: ${chosen.path})`);
    expect(lines[2]).toMatch(/^ {2}note: the bundled Claude Code at .+ does not run/);
  });

  it("still prints anyclaude's version when no Claude Code is found, with the fix", () => {
    const text = describeVersions({ bundled: () => undefined, env: { PATH: '' } });
    expect(text).toBe(
      `anyclaude ${ownManifest.version}\nClaude Code: the bundled Claude Code (@anthropic-ai/claude-code) is not installed, and there is no \`claude\` on PATH\n  fix: npm install -g @anthropic-ai/claude-code@${pinnedClaudeCodeVersion()}`,
    );
  });
});
