/**
 * anyclaude installed the way users install it: `npm pack`, then `npm install -g` of the tarball
 * into a fresh prefix, run with a PATH that has no `claude` on it. Proves the tarball carries
 * what `up --demo` needs, and that the Claude Code anyclaude depends on is found and run from
 * wherever npm put it (nested in a global install, hoisted in a project).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import psList from 'ps-list';
import { prepareMlxFixture } from '../support/mlx-fixture.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const CLAUDE_VERSION = manifest.dependencies['@anthropic-ai/claude-code'] ?? 'missing from dependencies';

/** npm run inside `npm test` inherits npm_* settings meant for the outer npm; the inner npm gets none of them. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

async function npm(args: string[], cwd: string): Promise<{ ms: number; stdout: string }> {
  const started = Date.now();
  const result = await execa('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, env: npmEnv(), extendEnv: false, reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.exitCode}):\n${String(result.all)}`);
  return { ms: Date.now() - started, stdout: String(result.stdout) };
}

/** Every file a source module reaches with `packageFile('…')`, relative to the package root. */
async function runtimeFiles(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(REPO, 'src'), { recursive: true })) {
    if (!entry.endsWith('.ts')) continue;
    const file = join(REPO, 'src', entry);
    for (const match of (await readFile(file, 'utf8')).matchAll(/packageFile\('([^']+)'\)/g)) found.push(match[1]!);
  }
  return found;
}

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

describe('anyclaude from its npm tarball, on a machine without Claude Code', () => {
  let work: string;
  let prefix: string;
  let tarball: string;
  let packed: Packed;
  let fixtureHome: string;
  /** Only the install's bin and node's own folder. */
  let userPath: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    fixtureHome = (await prepareMlxFixture()).home;
    work = await mkdtemp(join(tmpdir(), 'anyclaude-pack-'));
    // Packed from a copy of the working tree, as a fresh clone would be: `npm pack` runs `prepare`,
    // which rebuilds dist/, and rebuilding this checkout's dist/ would pull it from under other tests.
    const source = join(work, 'source');
    const listed = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO });
    for (const file of String(listed.stdout).split('\0').filter((f) => f !== '' && existsSync(join(REPO, f)))) {
      await mkdir(dirname(join(source, file)), { recursive: true });
      await cp(join(REPO, file), join(source, file));
    }
    await symlink(join(REPO, 'node_modules'), join(source, 'node_modules'));
    const pack = await npm(['pack', '--json', '--pack-destination', work], source);
    timings.pack = pack.ms;
    packed = (JSON.parse(pack.stdout) as Packed[])[0]!;
    tarball = join(work, packed.filename);
    prefix = join(work, 'prefix');
    // --prefer-offline: after `npm ci` (or a user's `npm install`) the cache holds every dependency.
    timings.installGlobal = (await npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], work)).ms;
    userPath = [join(prefix, 'bin'), dirname(process.execPath)].join(delimiter);
    console.log(`packaged install: npm pack ${timings.pack} ms, npm install -g ${timings.installGlobal} ms`);
  }, 900_000);

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('the tarball holds every file the code reads at run time, and no tests, sources or caches', async () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('bin/anyclaude.js');
    expect(paths).toContain('dist/src/cli/main.js');
    expect(paths).toContain('dist/ui/front-end.js');
    const needed = await runtimeFiles();
    expect(needed).toContain('scripts/build-fixture-model.py');
    for (const file of needed) {
      expect(paths.some((p) => p === file || p.startsWith(file.endsWith('/') ? file : `${file}/`)), `${file} is read at run time but not packed`).toBe(true);
    }
    expect(paths.filter((p) => /^(test|src|ui|\.cache|node_modules|\.ci)\//.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')))).toEqual([]);
  });

  it('nothing on the test PATH is a `claude`', () => {
    expect(userPath.split(delimiter).filter((dir) => existsSync(join(dir, 'claude')))).toEqual([]);
  });

  it('the installed package finds the Claude Code nested under it', async () => {
    const version = join(prefix, 'lib', 'node_modules', 'anyclaude', 'dist', 'src', 'cli', 'version.js');
    const result = await execa('node', ['--input-type=module', '-e', `console.log((await import(${JSON.stringify(version)})).describeVersions())`], {
      env: { PATH: userPath, HOME: work },
      extendEnv: false,
    });
    const nested = join(prefix, 'lib', 'node_modules', 'anyclaude', 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
    expect(result.stdout).toBe(`anyclaude ${manifest.version}\nClaude Code ${CLAUDE_VERSION} (bundled: ${nested})`);
    // npm's postinstall put the native binary in place of the package's shell stub.
    expect(statSync(nested).size).toBeGreaterThan(1_000_000);
  });

  it('anyclaude --version prints its version and the Claude Code it will run', async () => {
    const result = await execa(join(prefix, 'bin', 'anyclaude'), ['--version'], { env: { PATH: userPath, HOME: work }, extendEnv: false, reject: false });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^anyclaude ${manifest.version.replaceAll('.', '\\.')}\\nClaude Code ${CLAUDE_VERSION.replaceAll('.', '\\.')} \\(bundled: ${prefix}/.+/claude\\.exe\\)$`));
  });

  it('up --demo -- -p "Say hello" answers, exits 0 and leaves nothing running', async () => {
    const userHome = await mkdtemp(join(work, 'user-'));
    const home = join(userHome, '.anyclaude');
    await mkdir(home);
    // The prepared venvs and demo model, so this run installs nothing from PyPI.
    await symlink(join(fixtureHome, 'venvs'), join(home, 'venvs'));
    await symlink(join(fixtureHome, 'models'), join(home, 'models'));
    const result = await execa(join(prefix, 'bin', 'anyclaude'), ['up', '--demo', '--', '-p', 'Say hello'], {
      env: { HOME: userHome, ANYCLAUDE_HOME: home, PATH: userPath },
      extendEnv: false,
      cwd: userHome,
      stdin: 'ignore',
      reject: false,
      timeout: 300_000,
    });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toMatch(/[A-Za-z]{2,}/);
    expect(String(result.stderr)).toContain(`anyclaude: Claude Code ${CLAUDE_VERSION} →`);
    const left = (await psList()).filter((p) => {
      const cmd = p.cmd ?? '';
      return !cmd.includes('<defunct>') && (cmd.includes(home) || cmd.includes(prefix));
    });
    expect(left.map((p) => p.cmd)).toEqual([]);
  }, 300_000);
});

/** This checkout packed as is: its dist/ is fresh (global setup), and skipping `prepare` keeps these cases quick. */
async function packAsIs(work: string): Promise<string> {
  const pack = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, REPO], { cwd: work, env: npmEnv(), extendEnv: false });
  return join(work, (JSON.parse(String(pack.stdout)) as Packed[])[0]!.filename);
}

describe('anyclaude installed without install scripts (the bundled Claude Code is only a stub)', () => {
  it('up fails at once, in one line that says what to install; --version says the same', async () => {
    const work = await mkdtemp(join(tmpdir(), 'anyclaude-noscripts-'));
    try {
      const prefix = join(work, 'prefix');
      await npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', await packAsIs(work)], work);
      const env = { PATH: [join(prefix, 'bin'), dirname(process.execPath)].join(delimiter), HOME: work, ANYCLAUDE_HOME: join(work, 'home') };
      const up = await execa(join(prefix, 'bin', 'anyclaude'), ['up', '--demo', '--', '-p', 'Say hello'], { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 });
      expect(up.exitCode).toBe(1);
      const stub = join(prefix, 'lib', 'node_modules', 'anyclaude', 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
      const problem = `the bundled Claude Code at ${stub} does not run (npm skipped its postinstall or its platform package), and there is no \`claude\` on PATH`;
      const fix = `  fix: npm install -g @anthropic-ai/claude-code@${CLAUDE_VERSION}`;
      expect(String(up.stderr).split('\n').slice(-2)).toEqual([`anyclaude: ${problem}`, fix]);
      // Found before anything slow: no venv or demo model was started on.
      expect(existsSync(join(work, 'home', 'venvs'))).toBe(false);
      const version = await execa(join(prefix, 'bin', 'anyclaude'), ['--version'], { env, extendEnv: false });
      expect(version.stdout).toBe(`anyclaude ${manifest.version}\nClaude Code: ${problem}\n${fix}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('anyclaude as a dependency of a project', () => {
  it('finds the Claude Code npm hoisted beside it', async () => {
    const work = await mkdtemp(join(tmpdir(), 'anyclaude-project-'));
    try {
      const tarball = await packAsIs(work);
      const project = join(work, 'project');
      await mkdir(project);
      const installed = await npm(['install', '--prefer-offline', tarball], project);
      console.log(`packaged install: npm install (project dependency) ${installed.ms} ms`);
      const hoisted = join(project, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
      expect(existsSync(join(project, 'node_modules', 'anyclaude', 'node_modules', '@anthropic-ai', 'claude-code'))).toBe(false);
      const result = await execa('node', ['--input-type=module', '-e', "console.log((await import('anyclaude/dist/src/cli/version.js')).describeVersions())"], {
        cwd: project,
        env: { PATH: dirname(process.execPath), HOME: work },
        extendEnv: false,
      });
      expect(result.stdout).toBe(`anyclaude ${manifest.version}\nClaude Code ${CLAUDE_VERSION} (bundled: ${hoisted})`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 300_000);
});
