import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, catalogEntry, displayName, findInCatalog, parseCatalog, smallerSiblings } from '../../src/models/catalog.js';
import { CATALOG_DATA } from '../../src/models/catalog-data.js';
import { resolveModel } from '../../src/backends/model-resolver.js';
import { expectError } from '../support/expect-error.js';

const names = (query: string): string[] => findInCatalog(query).map((e) => e.name);

describe('the catalog', () => {
  it('holds the models people ask for, each with what every backend needs', () => {
    const wanted = ['Qwen3-Coder-30B', 'Qwen3-Coder-480B', 'Qwen2.5-Coder-7B', 'Qwen2.5-Coder-14B', 'Qwen2.5-Coder-32B', 'GLM-4.5-Air', 'gpt-oss-20b', 'gpt-oss-120b', 'Devstral', 'DeepSeek-Coder-V2-Lite'];
    expect(CATALOG.map((e) => e.name).sort()).toEqual([...wanted].sort());
    for (const entry of CATALOG) {
      expect(entry.mlx.repo).toMatch(/^mlx-community\/[\w.-]+$/);
      expect(entry.gguf?.file).toMatch(/\.gguf$/);
      expect(entry.contextWindow).toBeGreaterThanOrEqual(32_768);
      expect(typeof entry.tools).toBe('boolean');
      expect(entry.description.length).toBeGreaterThan(10);
    }
  });

  it("names what the user typed the catalog's way when it means one entry", () => {
    expect(displayName('qwen3 coder 30b')).toBe('Qwen3-Coder-30B');
    expect(displayName('someone/some-model')).toBe('someone/some-model');
  });

  it('has plausible sizes: ~4.5 bits per parameter for the size in the name, 1 GB to 300 GB', () => {
    for (const entry of CATALOG) {
      expect(entry.mlx.sizeBytes).toBeGreaterThan(1e9);
      expect(entry.mlx.sizeBytes).toBeLessThan(300e9);
      const billions = Number(/-(\d+(?:\.\d+)?)B(?=-|$)/i.exec(entry.mlx.repo)?.[1] ?? NaN);
      if (Number.isFinite(billions)) {
        const bitsPerWeight = (entry.mlx.sizeBytes * 8) / (billions * 1e9);
        expect(bitsPerWeight, entry.name).toBeGreaterThan(3.5);
        expect(bitsPerWeight, entry.name).toBeLessThan(6);
      }
    }
  });

  it('points every smaller sibling at a smaller entry, with no loops', () => {
    for (const entry of CATALOG) {
      const chain = smallerSiblings(entry);
      let size = entry.mlx.sizeBytes;
      for (const sibling of chain) {
        expect(sibling.mlx.sizeBytes).toBeLessThan(size);
        size = sibling.mlx.sizeBytes;
      }
    }
    expect(smallerSiblings(catalogEntry('Qwen3-Coder-480B')!).map((e) => e.name)).toEqual(['Qwen3-Coder-30B', 'Qwen2.5-Coder-14B', 'Qwen2.5-Coder-7B']);
    expect(catalogEntry('Qwen2.5-Coder-7B')!.smaller).toBeUndefined();
  });

  it('rejects bad data: missing fields, a sibling that is not smaller or not there, a name used twice', () => {
    const good = CATALOG_DATA[0];
    expect(() => parseCatalog([{ ...good, mlx: { repo: 'not an id', sizeBytes: 1 } }])).toThrow();
    expect(() => parseCatalog([{ ...good, contextWindow: undefined }])).toThrow();
    expect(() => parseCatalog([{ ...good, smaller: 'Nope' }])).toThrow(/not in the catalog/);
    expect(() => parseCatalog([good, { ...good, name: 'Other', aliases: [], smaller: undefined, mlx: { ...good.mlx, sizeBytes: 1e12 } }].map((e) => ({ ...e, smaller: undefined })))).not.toThrow();
    expect(() => parseCatalog([{ ...good, smaller: undefined }, { ...good, name: 'Again', smaller: undefined }])).toThrow(/names both/);
    const big = { ...good, name: 'Big', aliases: [], smaller: 'Small', mlx: { ...good.mlx, sizeBytes: 1e9 } };
    const small = { ...good, name: 'Small', aliases: [], smaller: undefined, mlx: { ...good.mlx, sizeBytes: 2e9 } };
    expect(() => parseCatalog([big, small])).toThrow(/not smaller/);
  });
});

describe('findInCatalog', () => {
  it('forgives case, spaces, dashes and dots', () => {
    expect(names('qwen3 coder 30b')).toEqual(['Qwen3-Coder-30B']);
    expect(names('QWEN3-CODER-30B')).toEqual(['Qwen3-Coder-30B']);
    expect(names('qwen25 coder 7b')).toEqual(['Qwen2.5-Coder-7B']);
    expect(names('GPT OSS 20B')).toEqual(['gpt-oss-20b']);
    expect(names('glm 4.5 air')).toEqual(['GLM-4.5-Air']);
  });

  it('knows aliases and the MLX repository id, but leaves Ollama tags to Ollama', () => {
    expect(names('devstral-small-2507')).toEqual(['Devstral']);
    expect(names('qwen3-coder:30b')).toEqual([]);
    expect(names('gpt-oss:20b')).toEqual([]);
    expect(names('mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit')).toEqual(['Qwen3-Coder-30B']);
    expect(names('deepseek coder v2 lite instruct')).toEqual(['DeepSeek-Coder-V2-Lite']);
  });

  it('a prefix shared by several entries names them all; a mere substring names none', () => {
    expect(names('qwen2.5-coder').sort()).toEqual(['Qwen2.5-Coder-14B', 'Qwen2.5-Coder-32B', 'Qwen2.5-Coder-7B']);
    expect(names('qwen3 coder').sort()).toEqual(['Qwen3-Coder-30B', 'Qwen3-Coder-480B']);
    expect(names('30b')).toEqual([]);
    expect(names('coder')).toEqual([]);
    expect(names('llama-70b')).toEqual([]);
  });
});

describe('resolveModel with the catalog', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'anyclaude-catalog-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('a catalog name not on disk: its MLX repository, to download, with the entry', async () => {
    const resolved = await resolveModel('qwen3 coder 30b', { homeDir: home, env: {} });
    expect(resolved).toMatchObject({ kind: 'remote', id: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', entry: { name: 'Qwen3-Coder-30B' } });
  });

  it('a catalog name whose repository is in the HF cache: that copy, even beside other matches', async () => {
    const hub = path.join(home, '.cache', 'huggingface', 'hub');
    for (const repo of ['mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-8bit']) {
      const snap = path.join(hub, `models--${repo.replace('/', '--')}`, 'snapshots', 'abc');
      await mkdir(snap, { recursive: true });
      await writeFile(path.join(snap, 'config.json'), '{}');
    }
    const resolved = await resolveModel('Qwen3-Coder-30B', { homeDir: home, env: {} });
    expect(resolved).toMatchObject({ kind: 'local', name: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', format: 'dir' });
  });

  it('an ambiguous catalog prefix is an error naming the entries', async () => {
    const error = await expectError(resolveModel('qwen2.5 coder', { homeDir: home, env: {} }), 'MODEL_AMBIGUOUS');
    expect(error.message).toContain('Qwen2.5-Coder-14B');
  });

  it('names outside the catalog resolve as before', async () => {
    expect(await resolveModel('someone/some-model', { homeDir: home, env: {} })).toEqual({ kind: 'remote', id: 'someone/some-model' });
    const error = await expectError(resolveModel('llama-70b', { homeDir: home, env: {} }), 'MODEL_NOT_FOUND');
    expect(error.fix).toContain('Qwen3-Coder-30B');
  });
});
