/** The project file: the nearest `.anyclaude.json` from the working directory up to the filesystem root. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProjectFile, readConfigFiles } from '../../src/settings/config-file.js';

async function tree(): Promise<{ root: string; deep: string }> {
  const root = await mkdtemp(join(tmpdir(), 'anyclaude-walk-'));
  const deep = join(root, 'a', 'b', 'c');
  await mkdir(deep, { recursive: true });
  return { root, deep };
}

describe('findProjectFile', () => {
  it('finds the file in the working directory itself', async () => {
    const { deep } = await tree();
    await writeFile(join(deep, '.anyclaude.json'), '{}');
    expect(await findProjectFile(deep)).toBe(join(deep, '.anyclaude.json'));
  });

  it('walks up from a subdirectory', async () => {
    const { root, deep } = await tree();
    await writeFile(join(root, 'a', '.anyclaude.json'), '{}');
    expect(await findProjectFile(deep)).toBe(join(root, 'a', '.anyclaude.json'));
  });

  it('takes the nearest file and reads only that one', async () => {
    const { root, deep } = await tree();
    await writeFile(join(root, '.anyclaude.json'), '{"model": "outer", "context": 4096}');
    await writeFile(join(root, 'a', 'b', '.anyclaude.json'), '{"model": "inner"}');
    expect(await findProjectFile(deep)).toBe(join(root, 'a', 'b', '.anyclaude.json'));
    const files = await readConfigFiles({ home: join(root, 'no-home'), cwd: deep });
    expect(files.project?.config).toEqual({ model: 'inner' });
  });

  it('skips a directory that happens to be named .anyclaude.json', async () => {
    const { root, deep } = await tree();
    await mkdir(join(root, 'a', 'b', '.anyclaude.json'));
    await writeFile(join(root, '.anyclaude.json'), '{}');
    expect(await findProjectFile(deep)).toBe(join(root, '.anyclaude.json'));
  });

  it('resolves a relative working directory', async () => {
    const { root, deep } = await tree();
    await writeFile(join(root, 'a', '.anyclaude.json'), '{}');
    expect(await findProjectFile(relative(process.cwd(), deep))).toBe(join(root, 'a', '.anyclaude.json'));
  });

  it('stops at the filesystem root with nothing found', async () => {
    const { deep } = await tree();
    // Holds unless this machine has a .anyclaude.json in the temp dir's ancestors.
    expect(await findProjectFile(deep)).toBeUndefined();
    expect((await readConfigFiles({ home: deep, cwd: deep })).project).toBeUndefined();
  });
});
