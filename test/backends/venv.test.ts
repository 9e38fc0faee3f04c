/** Managed venvs with a real `python3 -m venv` and real pip (offline: `--no-index`, so nothing is downloaded). */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureVenv } from '../../src/backends/venv.js';
import { CoreEvents } from '../../src/core/events.js';

async function requirementsFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-req-'));
  const file = join(dir, 'requirements.txt');
  await writeFile(file, text);
  return file;
}

describe('managed venvs', () => {
  it('creates a venv once, reuses it while healthy, and rebuilds it when broken or when requirements change', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-home-'));
    const requirements = await requirementsFile('--no-index\n# nothing to install\n');
    const spec = { name: 'probe', requirements, importCheck: 'import json' };
    const events = new CoreEvents();
    const logs: string[] = [];
    events.on('log', (e) => logs.push(e.message));

    const first = await ensureVenv(spec, { home, events });
    expect(first.installed).toBe(true);
    expect(first.dir).toBe(join(home, 'venvs', 'probe'));
    expect((await ensureVenv(spec, { home })).installed).toBe(false);

    await rm(first.python);
    expect((await ensureVenv(spec, { home, events })).installed).toBe(true);
    expect(logs.some((l) => l.startsWith('rebuilding'))).toBe(true);

    await writeFile(requirements, '--no-index\n# changed\n');
    expect((await ensureVenv(spec, { home })).installed).toBe(true);
    expect((await ensureVenv(spec, { home, upgrade: true })).installed).toBe(true);
  }, 120_000);

  it("fails an install with one message quoting pip's last lines and a fix", async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-home-'));
    const requirements = await requirementsFile('--no-index\nanyclaude-no-such-package==1.0\n');
    const error = await ensureVenv({ name: 'broken', requirements, importCheck: 'import json' }, { home }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VENV_INSTALL_FAILED' });
    expect((error as Error).message).toMatch(/No matching distribution found for anyclaude-no-such-package==1\.0/);
    expect((error as { fix: string }).fix).toContain('network');
  }, 120_000);

  it('names the fix when the interpreter is missing or too old', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-home-'));
    const requirements = await requirementsFile('');
    await expect(ensureVenv({ name: 'x', requirements, importCheck: 'import json' }, { home, python: '/nonexistent/python3' })).rejects.toMatchObject({
      code: 'PYTHON_MISSING',
      fix: expect.stringContaining('--python'),
    });
  });
});

describe('concurrent installs', () => {
  it('lets one anyclaude build the venv while another waits, then reuses it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-home-'));
    const requirements = await requirementsFile('--no-index\n');
    const spec = { name: 'shared', requirements, importCheck: 'import json' };
    const [a, b] = await Promise.all([ensureVenv(spec, { home }), ensureVenv(spec, { home })]);
    expect([a.installed, b.installed].sort()).toEqual([false, true]);
  }, 120_000);

  it('takes over a lock left by a process that died', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-home-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(home, 'venvs', 'stale.lock'), { recursive: true });
    await writeFile(join(home, 'venvs', 'stale.lock', 'pid'), '999999');
    const requirements = await requirementsFile('--no-index\n');
    expect((await ensureVenv({ name: 'stale', requirements, importCheck: 'import json' }, { home })).installed).toBe(true);
  }, 120_000);
});
