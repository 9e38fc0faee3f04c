/**
 * doctor's `model` check for a model up would download: its size (the catalog's, or the Hub's
 * file list from a local stand-in), and whether it fits, with the smaller sibling as the fix.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteModel } from '../../src/backends/model-resolver.js';
import { judgeDownload, judgeMemory, remoteSize } from '../../src/doctor/checks/model.js';
import { catalogEntry } from '../../src/models/catalog.js';
import type { Machine } from '../../src/models/fit.js';
import { startHubServer, type HubServer } from '../support/hf-hub-server.js';
import { check, doctorJson, sandbox } from './support.js';

const GB = 1_000_000_000;
const entry = (name: string): RemoteModel => {
  const e = catalogEntry(name);
  if (e === undefined) throw new Error(`no ${name} in the catalog`);
  return { kind: 'remote', id: e.mlx.repo, entry: e };
};
const MAC_64: Machine = { freeDiskBytes: 200 * GB, totalMemoryBytes: 64 * 1024 ** 3 };
const MAC_16: Machine = { freeDiskBytes: 200 * GB, totalMemoryBytes: 16 * 1024 ** 3 };

describe('judgeDownload', () => {
  it('passes a catalog model that fits, with its size and the room it leaves', () => {
    const model = entry('Qwen3-Coder-30B');
    expect(judgeDownload(model, { bytes: model.entry!.mlx.sizeBytes, source: 'catalog' }, MAC_64, { backend: 'mlx-lm' })).toEqual({
      status: 'pass',
      detail:
        'Qwen3-Coder-30B (mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit) is not on this machine: up downloads it before mlx-lm starts (about 17.2 GB, resumable); it fits: 18.3 GB of 200 GB free disk, 22.9 GB of 68.7 GB memory',
    });
  });

  it('fails one that does not fit memory, naming the smaller sibling that does', () => {
    const model = entry('Qwen3-Coder-30B');
    expect(judgeDownload(model, { bytes: model.entry!.mlx.sizeBytes, source: 'catalog' }, MAC_16, { backend: 'mlx-lm' })).toEqual({
      status: 'fail',
      detail:
        'Qwen3-Coder-30B (mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit) is not on this machine; up would download about 17.2 GB, but Qwen3-Coder-30B does not fit this machine: its 17.2 GB of weights need 22.9 GB of memory and this machine has 17.2 GB',
      fix: 'try --model Qwen2.5-Coder-14B (8.3 GB), or set ANYCLAUDE_IGNORE_FIT=1 to try anyway',
    });
  });

  it('fails one the disk cannot hold, and passes memory it was told to ignore', () => {
    const model = entry('Qwen3-Coder-30B');
    const small: Machine = { freeDiskBytes: 10 * GB, totalMemoryBytes: 16 * 1024 ** 3 };
    const result = judgeDownload(model, { bytes: 17.2 * GB, source: 'catalog' }, small, { ignoreMemory: true, backend: 'mlx-lm' });
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/downloading 17\.2 GB needs 18\.3 GB free and the disk has 10\.0 GB$/);
    expect(result.fix).toBe('try --model Qwen2.5-Coder-14B (8.3 GB), or free disk space (or move the cache with HF_HOME)');
  });

  it('gives an HF id the Hub’s exact size, and says its files are checked once here', () => {
    const result = judgeDownload({ kind: 'remote', id: 'someone/tiny-coder-4bit' }, { bytes: 2_345_678_901, source: 'hub' }, MAC_64, {});
    expect(result).toEqual({
      status: 'pass',
      detail: 'someone/tiny-coder-4bit is not on this machine: up downloads it first when it starts mlx-lm or mlx-omni (2.3 GB, resumable); it fits: 3.4 GB of 200 GB free disk, 3.1 GB of 68.7 GB memory; its files and chat template are checked once it is here',
    });
  });

  it('warns when the size is unknown, and fails a repository the Hub does not have', () => {
    const id: RemoteModel = { kind: 'remote', id: 'someone/coder' };
    expect(judgeDownload(id, { bytes: undefined, why: 'the Hub (https://huggingface.co) did not answer: no reply in 2 s' }, MAC_64)).toMatchObject({
      status: 'warn',
      detail: 'someone/coder is not on this machine: up downloads it on first start, but its size is unknown (the Hub (https://huggingface.co) did not answer: no reply in 2 s), so whether it fits is unchecked',
    });
    expect(judgeDownload(id, { bytes: undefined, why: 'the Hub (http://x) has no repository someone/coder', missing: true }, MAC_64)).toMatchObject({ status: 'fail' });
  });

  it('leaves memory to the model check while nothing is downloaded', () => {
    const result = judgeMemory({ kind: 'resolved', model: entry('gpt-oss-20b') }, 64 * 1024 ** 3, 32 * 1024 ** 3);
    expect(result).toEqual({ status: 'skip', detail: '64 GiB total, 32 GiB free; the model is not downloaded yet: the model check judges whether it fits' });
  });
});

describe('remoteSize', () => {
  let hub: HubServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anyclaude-doctor-hub-'));
    await writeFile(join(dir, 'config.json'), '{"model_type":"qwen2"}');
    await writeFile(join(dir, 'model.safetensors'), Buffer.alloc(2 * 1024 * 1024, 1));
    hub = await startHubServer('someone/tiny-coder-4bit', dir);
  });
  afterAll(async () => {
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a catalog model’s size without asking the Hub', async () => {
    expect(await remoteSize(entry('gpt-oss-20b'), { HF_ENDPOINT: 'http://127.0.0.1:9' })).toEqual({ bytes: 12_100_000_000, source: 'catalog' });
  });

  it('sums the files the Hub lists for an HF id', async () => {
    expect(await remoteSize({ kind: 'remote', id: 'someone/tiny-coder-4bit' }, { HF_ENDPOINT: hub.url })).toEqual({ bytes: 2 * 1024 * 1024 + 22, source: 'hub' });
  });

  it('says the Hub has no such repository, or did not answer', async () => {
    expect(await remoteSize({ kind: 'remote', id: 'someone/nothing' }, { HF_ENDPOINT: hub.url })).toEqual({ bytes: undefined, why: `the Hub (${hub.url}) has no repository someone/nothing`, missing: true });
    const down = await remoteSize({ kind: 'remote', id: 'someone/nothing' }, { HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(down.bytes).toBeUndefined();
    expect('why' in down ? down.why : '').toMatch(/^the Hub \(http:\/\/127\.0\.0\.1:9\) did not answer: /);
  });
});

describe('doctor --model <catalog name>', () => {
  it('fails a model no machine here can hold, naming what is short and a smaller one', async () => {
    const box = await sandbox();
    const { json } = await doctorJson(box, ['--backend', 'mlx-lm', '--model', 'Qwen3-Coder-480B']);
    const model = check(json, 'model');
    expect(model.status).toBe('fail');
    expect(model.detail).toMatch(/^Qwen3-Coder-480B \(mlx-community\/Qwen3-Coder-480B-A35B-Instruct-4bit\) is not on this machine; up would download about 270 GB, but Qwen3-Coder-480B does not fit this machine: its 270 GB of weights need 360 GB of memory/);
    expect(model.fix).toMatch(/^(try --model (Qwen3-Coder-30B|Qwen2\.5-Coder-14B|Qwen2\.5-Coder-7B) \(|pick a smaller model)/);
  });

  it('says llama-cpp downloads nothing, with the GGUF to fetch', async () => {
    const box = await sandbox();
    const { json } = await doctorJson(box, ['--backend', 'llama-cpp', '--model', 'Qwen3-Coder-30B']);
    expect(check(json, 'model')).toMatchObject({
      status: 'fail',
      detail: 'Qwen3-Coder-30B is not on this machine, and llama-cpp downloads no model (it starts a .gguf file)',
      fix: 'hf download unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf, then pass --model with that file; or use --backend mlx-lm, which downloads mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit',
    });
  });
});
