/** checkConfigFiles: what `anyclaude doctor` shows about the config files, never throwing. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigFiles } from '../../src/settings/config-file.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'anyclaude-check-'));
}

describe('checkConfigFiles', () => {
  it('reports both files missing, the project one where it would be in cwd', async () => {
    const home = await tempDir();
    const cwd = await tempDir();
    expect(await checkConfigFiles({ home, cwd })).toEqual([
      { path: join(home, 'config.json'), scope: 'user', found: false },
      { path: join(cwd, '.anyclaude.json'), scope: 'project', found: false },
    ]);
  });

  it('reports good files as found, and a bad one with the error up would stop with', async () => {
    const home = await tempDir();
    const project = await tempDir();
    const cwd = join(project, 'src', 'deep');
    await mkdir(cwd, { recursive: true });
    await writeFile(join(home, 'config.json'), '{"model":"m"}');
    await writeFile(join(project, '.anyclaude.json'), '{"context":"big"}');
    expect(await checkConfigFiles({ home, cwd })).toEqual([
      { path: join(home, 'config.json'), scope: 'user', found: true },
      {
        path: join(project, '.anyclaude.json'),
        scope: 'project',
        found: true,
        error: `${join(project, '.anyclaude.json')}: context: expected a positive whole number of tokens, got "big"`,
        fix: 'write it like "context": 65536',
      },
    ]);
  });
});
