/**
 * No shell ever sees user input, proven on the whole product: `anyclaude up --trace` with the real
 * mlx_lm.server, the real Claude Code CLI, a model folder, a project folder and an ANYCLAUDE_HOME
 * whose names carry spaces, both quotes, `$(…)`, backticks and `;`. It must answer, and none of
 * the commands in those names may have run: no `pwned*` file appears anywhere a shell could have
 * run them (the folders themselves, their parents, the homes, the test's cwd, /tmp, /).
 *
 * The model folder holds symlinks to the SmolLM2 fixture's files (540 MB not copied): mlx_lm
 * loads a folder of symlinks like the real files.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import psList from 'ps-list';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnyclaude } from '../support/cli.js';
import { prepareMlxFixture, SMALL_CLAUDE_ARGS } from '../support/mlx-fixture.js';

/** Each `touch` leaves a file named pwned… wherever a shell running it stood. */
const HOSTILE = `'q' "dq" $(touch pwned) ;touch pwned2; \`touch pwned3\` & $HOME`;

/** `pwned*` files in the places a shell started by anyclaude, mlx_lm or Claude Code would run in. */
async function pwnedFiles(places: readonly string[]): Promise<string[]> {
  const deep = await execa('find', [...places, '-maxdepth', '6', '-name', 'pwned*'], { reject: false });
  const shallow = await execa('find', ['/tmp', '/', '-maxdepth', '2', '-name', 'pwned*'], { reject: false });
  return [...new Set(`${String(deep.stdout)}\n${String(shallow.stdout)}`.split('\n').filter((l) => l !== ''))];
}

describe('hostile folder names reach no shell', () => {
  let fixture: { home: string; model: string };
  beforeAll(async () => {
    fixture = await prepareMlxFixture();
  }, 600_000);

  it('the names are really hostile: through a shell, they run all three commands (and the check finds them)', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'anyclaude-hostile-control-'));
    try {
      await execa('sh', ['-c', `echo ${HOSTILE} >/dev/null`], { cwd: scratch, reject: false });
      expect((await pwnedFiles([scratch])).filter((f) => f.startsWith(scratch)).map((f) => f.slice(scratch.length + 1)).sort()).toEqual(['pwned', 'pwned2', 'pwned3']);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('up --trace with a hostile model folder, project folder and ANYCLAUDE_HOME answers, and nothing in the names ran', async () => {
    const base = await mkdtemp(join(tmpdir(), 'anyclaude-hostile-'));
    const model = join(base, `model ${HOSTILE}`);
    const project = join(base, `project ${HOSTILE}`);
    const home = join(base, `home ${HOSTILE}`);
    const userHome = join(base, 'user');
    for (const dir of [model, project, home, userHome]) await mkdir(dir);
    for (const file of await readdir(fixture.model)) await symlink(join(fixture.model, file), join(model, file));
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    const places = [base, process.cwd(), fixture.home];
    // A file left by an earlier run would make the check below meaningless.
    expect(await pwnedFiles(places)).toEqual([]);

    const run = await runAnyclaude(['up', '--backend', 'mlx-lm', '--model', model, '--trace', '--no-tui', '--', '-p', 'Say hi', ...SMALL_CLAUDE_ARGS], {
      userHome,
      home,
      cwd: project,
      timeoutMs: 300_000,
    });

    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/[A-Za-z]{2,}/);
    expect(await pwnedFiles(places)).toEqual([]);
    // The names went through whole: mlx_lm.server was given the folder, and traces are under the home.
    expect(run.stderr).toContain(model);
    expect((await readdir(join(home, 'traces', 'mlx-lm'))).length).toBeGreaterThan(0);
    // Claude Code ran in the project folder: its per-project state is keyed by that path.
    expect(await readdir(join(home, 'claude-config', 'projects'))).toHaveLength(1);
    expect((await psList()).filter((p) => (p.cmd ?? '').includes(base) && !(p.cmd ?? '').includes('<defunct>'))).toEqual([]);
    // Kept when an assertion above failed, to look at.
    await rm(base, { recursive: true, force: true });
  }, 300_000);
});
