/**
 * `anyclaude --version`: anyclaude's own version and the Claude Code it will run, with where that
 * came from, so a bug report says which pair was in use.
 */
import { readFileSync } from 'node:fs';
import { resolveClaude, type ClaudeSource, type FindClaudeOptions } from '../claude/claude-code.js';
import { formatForTerminal } from '../core/errors.js';
import { packageFile } from '../core/package-root.js';

const SOURCE_LABEL: Record<ClaudeSource, string> = {
  flag: '--claude-bin',
  env: 'ANYCLAUDE_CLAUDE_BIN',
  bundled: 'bundled',
  path: 'PATH',
};

/** Read at run time, from the package.json shipped beside dist/, so it is the installed package's. */
export function anyclaudeVersion(): string {
  const manifest = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/**
 * "anyclaude 0.1.0\nClaude Code 2.1.197 (bundled: /…/claude)". Never throws: without a working
 * Claude Code the second line says so and what to install, and anyclaude's version still prints.
 */
export function describeVersions(options: FindClaudeOptions = {}): string {
  const notes: string[] = [];
  let claude: string;
  try {
    const found = resolveClaude({ ...options, warn: (message) => notes.push(message) });
    claude = `Claude Code ${found.version} (${SOURCE_LABEL[found.source]}: ${found.path})`;
  } catch (error) {
    claude = `Claude Code: ${formatForTerminal(error).replace(/^anyclaude: /, '')}`;
  }
  return [`anyclaude ${anyclaudeVersion()}`, claude, ...notes.map((n) => `  note: ${n}`)].join('\n');
}
