import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../src/settings/config-file.js';

async function homeWith(text: string | undefined): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'anyclaude-config-'));
  if (text !== undefined) await writeFile(join(home, 'config.json'), text);
  return home;
}

describe('config file', () => {
  it('is optional', async () => {
    expect(await readConfig(await homeWith(undefined))).toEqual({});
  });

  it('reads the defaults for up', async () => {
    const config = await readConfig(await homeWith('{"backend":"mlx-lm","model":"Qwen3-Coder-30B","context":65536}'));
    expect(config).toEqual({ backend: 'mlx-lm', model: 'Qwen3-Coder-30B', context: 65536 });
  });

  it.each([
    ['{"backend":', /not valid JSON/],
    ['{"context":"big"}', /config\.json: context: /],
    ['{"modle":"x"}', /config\.json: /],
  ])('rejects %s with the file, the key and a fix', async (text, pattern) => {
    const error = await readConfig(await homeWith(text)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toMatch(pattern);
    expect((error as { fix: string }).fix).toBeTruthy();
  });
});
