import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bestMatches, listLocalModels, modelSearchPlaces, normalizeName, readContextWindow, resolveModel, type ResolveOptions } from '../../src/backends/model-resolver.js';
import { expectError } from '../support/expect-error.js';

let home: string;
let opts: ResolveOptions;
const hub = (): string => path.join(home, '.cache', 'huggingface', 'hub');

async function file(p: string, text = ''): Promise<void> {
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
}

/** An HF cache repo: models--org--name/snapshots/<rev>/ with refs/main naming `main`. */
async function hfRepo(id: string, files: Record<string, string>, revs: { main: string; others?: string[] } = { main: 'aaa111' }): Promise<string> {
  const repo = path.join(hub(), `models--${id.replace('/', '--')}`);
  await file(path.join(repo, 'refs', 'main'), `${revs.main}\n`);
  for (const rev of [revs.main, ...(revs.others ?? [])]) {
    for (const [name, text] of Object.entries(files)) await file(path.join(repo, 'snapshots', rev, name), text);
  }
  return path.join(repo, 'snapshots', revs.main);
}


let coder: string;
let small: string;
let lmsGguf: string;
let extra: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'anyclaude-models-'));
  opts = { homeDir: home, env: {} };
  coder = await hfRepo('mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', { 'config.json': JSON.stringify({ max_position_embeddings: 262144 }), 'model.safetensors': '' }, { main: 'ccc333', others: ['old000'] });
  // An older snapshot with a newer mtime: refs/main still wins.
  await utimes(path.join(path.dirname(coder), 'old000'), new Date(), new Date(Date.now() + 60_000));
  small = await hfRepo('mlx-community/Qwen3-4B-4bit', { 'config.json': JSON.stringify({ text_config: { max_position_embeddings: 40960 } }) });
  await hfRepo('unsloth/Llama-3.2-1B-GGUF', { 'Llama-3.2-1B-Q4_K_M.gguf': 'GGUF' });
  await file(path.join(hub(), 'datasets--foo--bar', 'snapshots', 'x', 'config.json'), '{}');
  const lmsDir = path.join(home, '.lmstudio', 'models', 'lmstudio-community', 'gemma-3-12b-it-GGUF');
  lmsGguf = path.join(lmsDir, 'gemma-3-12b-it-Q4_K_M.gguf');
  await file(lmsGguf, 'GGUF');
  await file(path.join(lmsDir, 'mmproj-model-f16.gguf'), 'GGUF');
  await file(path.join(home, '.lmstudio', 'models', 'mlx-community', 'Devstral-Small-2507-4bit', 'config.json'), JSON.stringify({ max_position_embeddings: 131072 }));
  extra = path.join(home, 'extra');
  await file(path.join(extra, 'my-finetune', 'config.json'), '{}');
  await file(path.join(extra, 'split', 'Big-00001-of-00002.gguf'), 'GGUF');
  await file(path.join(extra, 'split', 'Big-00002-of-00002.gguf'), 'GGUF');
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('normalizeName and bestMatches', () => {
  it('ignores case, -, _, space and .', () => {
    expect(normalizeName('Qwen3 Coder_30B-a3b.x')).toBe('qwen3coder30ba3bx');
  });

  it('prefers a whole-name match, then the last segment, then a prefix, then a substring', () => {
    const names = ['org/qwen3-4b', 'org/qwen3-4b-instruct', 'other/big-qwen3-4b-thing'];
    expect(bestMatches('org/qwen3-4b', names, (n) => n)).toEqual(['org/qwen3-4b']);
    expect(bestMatches('Qwen3 4B', names, (n) => n)).toEqual(['org/qwen3-4b']);
    expect(bestMatches('qwen3-4b-inst', names, (n) => n)).toEqual(['org/qwen3-4b-instruct']);
    expect(bestMatches('4b-thing', names, (n) => n)).toEqual(['other/big-qwen3-4b-thing']);
    expect(bestMatches('nothing', names, (n) => n)).toEqual([]);
  });

  it('matches an Ollama name without its tag', () => {
    expect(bestMatches('qwen3', ['qwen3:latest', 'qwen3-coder:30b'], (n) => n)).toEqual(['qwen3:latest']);
  });
});

describe('resolveModel', () => {
  it('finds a unique fuzzy match in the HF cache, at the revision refs/main names', async () => {
    expect(await resolveModel('Qwen3-Coder-30B', opts)).toEqual({ kind: 'local', name: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', path: coder, format: 'dir', source: hub() });
  });

  it("finds LM Studio's GGUF files and MLX folders, skipping vision projectors", async () => {
    expect(await resolveModel('gemma 3 12b', opts)).toMatchObject({ kind: 'local', path: lmsGguf, format: 'gguf' });
    expect(await resolveModel('devstral', opts)).toMatchObject({ kind: 'local', name: 'mlx-community/Devstral-Small-2507-4bit', format: 'dir' });
    const all = await listLocalModels(opts);
    expect(all.some((m) => m.path.includes('mmproj'))).toBe(false);
    expect(all.some((m) => m.path.includes('datasets--'))).toBe(false);
  });

  it('finds GGUF files inside HF cache snapshots', async () => {
    expect(await resolveModel('Llama-3.2-1B', opts)).toMatchObject({ format: 'gguf', name: 'unsloth/Llama-3.2-1B-GGUF/Llama-3.2-1B-Q4_K_M.gguf' });
  });

  it('several equally good matches: MODEL_AMBIGUOUS listing every candidate', async () => {
    const error = await expectError(resolveModel('qwen3', opts), 'MODEL_AMBIGUOUS');
    expect(error.message).toContain('mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit');
    expect(error.message).toContain('mlx-community/Qwen3-4B-4bit');
  });

  it('no match and not an HF id: MODEL_NOT_FOUND naming the places searched', async () => {
    const error = await expectError(resolveModel('llama-70b', opts), 'MODEL_NOT_FOUND');
    expect(error.message).toContain(hub());
    expect(error.message).toContain(path.join(home, '.lmstudio', 'models'));
  });

  it('no match but shaped like an HF id: a remote id for the server to download', async () => {
    // GLM-4.5-Air is in the catalog: the entry comes along (size, context window, smaller sibling).
    expect(await resolveModel('mlx-community/GLM-4.5-Air-4bit', opts)).toMatchObject({ kind: 'remote', id: 'mlx-community/GLM-4.5-Air-4bit', entry: { name: 'GLM-4.5-Air' } });
  });

  it('an exact HF id that is cached resolves to the local copy', async () => {
    expect(await resolveModel('mlx-community/Qwen3-4B-4bit', opts)).toMatchObject({ kind: 'local', path: small });
  });

  it('takes paths as they are: a model directory, a .gguf file, ~ expanded', async () => {
    expect(await resolveModel(coder, opts)).toMatchObject({ kind: 'local', path: coder, format: 'dir' });
    expect(await resolveModel(lmsGguf, opts)).toMatchObject({ kind: 'local', path: lmsGguf, format: 'gguf' });
    expect(await resolveModel('~/extra/my-finetune', opts)).toMatchObject({ kind: 'local', path: path.join(extra, 'my-finetune'), format: 'dir' });
    expect(await resolveModel(path.dirname(lmsGguf), opts)).toMatchObject({ path: lmsGguf, format: 'gguf' });
  });

  it('a path that does not exist, or a folder with no model, is an error with a fix', async () => {
    await expectError(resolveModel(path.join(home, 'nope.gguf'), opts), 'MODEL_NOT_FOUND');
    await expectError(resolveModel('./no/such/dir', opts), 'MODEL_NOT_FOUND');
    await expectError(resolveModel(path.join(home, '.lmstudio'), opts), 'MODEL_NOT_USABLE');
  });

  it('searches extra roots, and loads a split GGUF by its first part', async () => {
    await expectError(resolveModel('my-finetune', opts), 'MODEL_NOT_FOUND');
    const withExtra = { ...opts, searchRoots: [extra] };
    expect(await resolveModel('my-finetune', withExtra)).toMatchObject({ name: 'my-finetune', source: extra });
    expect(await resolveModel('Big', withExtra)).toMatchObject({ path: path.join(extra, 'split', 'Big-00001-of-00002.gguf') });
  });

  it('HF_HOME and HF_HUB_CACHE move the cache', async () => {
    const other = path.join(home, 'hf-elsewhere');
    expect(modelSearchPlaces({ homeDir: home, env: { HF_HOME: other } })[0]?.dir).toBe(path.join(other, 'hub'));
    expect(modelSearchPlaces({ homeDir: home, env: { HF_HUB_CACHE: other } })[0]?.dir).toBe(other);
    // With the cache moved away, the models in ~/.cache/huggingface are no longer seen.
    expect(await resolveModel('mlx-community/Qwen3-4B-4bit', { homeDir: home, env: { HF_HOME: other } })).toEqual({ kind: 'remote', id: 'mlx-community/Qwen3-4B-4bit' });
  });
});

describe('readContextWindow', () => {
  it('reads max_position_embeddings, or text_config.max_position_embeddings', async () => {
    expect(await readContextWindow(coder)).toBe(262144);
    expect(await readContextWindow(small)).toBe(40960);
  });

  it('undefined without config.json or the field', async () => {
    expect(await readContextWindow(path.join(extra, 'my-finetune'))).toBeUndefined();
    expect(await readContextWindow(path.join(home, 'missing'))).toBeUndefined();
  });
});
