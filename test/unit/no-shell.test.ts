/**
 * No shell ever sees user input: every process anyclaude starts is started from an argv (a model
 * path, a project folder, a URL are one argument each, whatever they contain). This reads the
 * product's sources for the ways a command string reaches a shell, allows only the places listed
 * below with the reason, and proves the one string anyclaude itself hands to a shell (the status
 * line command Claude Code runs) keeps hostile paths literal.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellQuote, statusLineArgs } from '../../src/claude/status-line-settings.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = ['src', 'ui', 'bin'];

/** Each way a command string goes through a shell in Node, with a line that must be caught. */
const SHELL_FORMS: ReadonlyArray<{ name: string; pattern: RegExp; caught: string; notCaught: string }> = [
  { name: 'shell option', pattern: /\bshell\s*:\s*(?!false\b)[^\s,}]/, caught: "spawn(bin, args, { shell: true })", notCaught: 'spawn(bin, args, { shell: false })' },
  { name: 'execSync / exec', pattern: /(?<![.\w$])exec(?:Sync)?\s*\(/, caught: "execSync(`mlx_lm.server --model ${model}`)", notCaught: 'const m = /x/.exec(text);' },
  { name: 'execa command string', pattern: /\bexeca(?:Command(?:Sync)?|\.command|Sync\.command)\b|\bexecaCommand\b/, caught: 'await execaCommand(`lms load ${model}`)', notCaught: "await execa('lms', ['load', model])" },
  { name: "execa's $ template", pattern: /(?<![\w$.])\$(?:\.sync|\.s)?(?:\([^)]*\))?\s*`/, caught: 'await $`pip install -r ${file}`', notCaught: 'const text = `${a} costs $5`;' },
  { name: 'sh -c / cmd /c', pattern: /['"](?:\/bin\/)?(?:ba|z|da)?sh['"]\s*,\s*\[\s*['"]-c['"]|['"]cmd(?:\.exe)?['"]\s*,\s*\[\s*['"]\/[cC]['"]/, caught: "spawn('sh', ['-c', command])", notCaught: "spawn('ssh', ['host'])" },
];

/** The places allowed to hand a string to a shell, and why each is not user input reaching one. */
const ALLOWED: ReadonlyArray<{ file: string; form: string; reason: string }> = [
  {
    file: 'src/cli/status-line-main.ts',
    form: 'sh -c / cmd /c',
    reason:
      "runs the user's own statusLine command from their Claude Code settings, a shell command by definition that Claude Code itself runs through a shell; nothing anyclaude got as input is put into it",
  },
];

function sourceFiles(): string[] {
  return SOURCE_DIRS.flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(?:[cm]?[jt]sx?)$/.test(e.name))
      .map((e) => relative(ROOT, join(e.parentPath, e.name))),
  );
}

/** Comments say "shell" and "exec(" freely; only code counts. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('no shell sees user input', () => {
  it.each(SHELL_FORMS)('the check for $name catches it and nothing else', ({ pattern, caught, notCaught }) => {
    expect(pattern.test(caught)).toBe(true);
    expect(pattern.test(notCaught)).toBe(false);
  });

  it('no source file starts a process through a shell, except the allowed places', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((file) => {
      const text = code(readFileSync(join(ROOT, file), 'utf8'));
      return SHELL_FORMS.filter((f) => f.pattern.test(text)).map((f) => ({ file, form: f.name }));
    });
    expect(found).toEqual(ALLOWED.map(({ file, form }) => ({ file, form })));
  });

  it("the status line command Claude Code runs through sh keeps a hostile install path literal, and runs nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anyclaude-quote-'));
    try {
      const hostile = `/opt/any 'q' "dq" $(touch pwned) ;touch pwned2; \`touch pwned3\` \\ $HOME\nline/bin/anyclaude.js`;
      const { args } = statusLineArgs(['printf', '%s|', hostile, 'status', '--line'], undefined);
      const command = (JSON.parse(args[1] ?? '{}') as { statusLine: { command: string } }).statusLine.command;
      const result = await execa('sh', ['-c', command], { cwd: dir });
      expect(result.stdout).toBe(`${hostile}|status|--line|`);
      expect(await readdir(dir)).toEqual([]);
      expect(shellQuote('plain-word')).toBe('plain-word');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
