/**
 * A disk that fills up while `anyclaude up` runs (here `up --demo --proxy-only`, with the real
 * mlx_lm.server) costs the log files, said once each, and never the session: every request is
 * still answered. The home is a 64 KiB tmpfs (root only; skipped with the reason elsewhere) whose
 * venvs and models are symlinks to the prepared fixture, filled to the last byte once up is ready.
 * The server's log fills first page by page, so enough requests are sent to run past it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { mkdir, statfs, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProxyProcess } from '../support/cli.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';
import { mountTmpfs, tmpfsUnavailable, unmountTmpfs } from '../support/tmpfs.js';

const cannotMount = await tmpfsUnavailable();
if (cannotMount !== undefined) console.warn(`disk-full-session.test.ts skipped: ${cannotMount}`);

describe.skipIf(cannotMount !== undefined)('a disk that fills during up', () => {
  let fixture: { home: string; model: string };
  let disk: string | undefined;
  beforeAll(async () => {
    fixture = await prepareMlxFixture();
  }, 600_000);
  afterAll(async () => {
    if (disk !== undefined) await unmountTmpfs(disk);
  });

  it('costs the log files, each said once, and every request is still answered', async () => {
    disk = await mountTmpfs('64k');
    const home = join(disk, 'home');
    await mkdir(home);
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    await symlink(join(fixture.home, 'models'), join(home, 'models'));
    const up = await startProxyProcess(['up', '--demo', '--proxy-only'], { HOME: disk, ANYCLAUDE_HOME: home });
    let stderr = '';
    up.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    await expect(writeFile(join(disk, 'filler'), Buffer.alloc(1024 * 1024, 1))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect((await statfs(disk)).bavail).toBe(0);
    const client = new Anthropic({ baseURL: up.env.ANTHROPIC_BASE_URL, apiKey: up.env.ANTHROPIC_API_KEY, maxRetries: 0, timeout: 120_000 });
    for (let i = 0; i < 40; i += 1) {
      const message = await client.messages.create({ model: 'x', max_tokens: 4, messages: [{ role: 'user', content: `Say hi ${i}` }] });
      expect(message.content.length).toBeGreaterThan(0);
    }

    const lines = stderr.split('\n');
    expect(lines.filter((l) => l.includes('the mlx-lm log file is not being written'))).toEqual([
      `anyclaude: mlx-lm: the mlx-lm log file is not being written: ${join(home, 'logs', 'mlx-lm.log')}: ENOSPC (no space left on device); free some space on that disk`,
    ]);
    expect(lines.filter((l) => l.includes('the log file is not being written'))).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    up.child.kill('SIGINT');
    expect((await up.child).exitCode).toBe(0);
  }, 300_000);
});
