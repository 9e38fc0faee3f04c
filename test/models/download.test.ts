/**
 * The real huggingface_hub in the mlx-lm venv downloading from a local stand-in for the Hub
 * (test/support/hf-hub-server.ts) that serves the SmolLM2 fixture: interrupted mid-file, resumed
 * with a Range request, then loaded by the real mlx_lm.server through the backend.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import psList from 'ps-list';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnyclaudeError } from '../../src/core/errors.js';
import { CoreEvents } from '../../src/core/events.js';
import type { RunningBackend } from '../../src/backends/backend.js';
import { mlxLmBackend } from '../../src/backends/mlx-lm-backend.js';
import { downloadModel, type DownloadProgress } from '../../src/models/download.js';
import { ensureModelOnDisk, snapshotComplete } from '../../src/models/ensure-model.js';
import { formatBytes } from '../../src/core/bytes.js';
import { startHubServer, type HubServer } from '../support/hf-hub-server.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';
import { expectError } from '../support/expect-error.js';

const REPO = 'test-org/SmolLM2-135M-Instruct';
/** Throttle for the interrupted run, so the abort lands mid-file. */
const SLOW = 60_000_000;
const STOP_AFTER = 150_000_000;

let fixture: { home: string; model: string };
let hub: HubServer;
let scratch: string;
let python: string;
let total: number;

function hfEnv(hfHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HF_HOME: hfHome, HF_ENDPOINT: hub.url, HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_XET: '1' };
  for (const name of ['HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'HUGGINGFACE_HUB_CACHE']) delete env[name];
  return env;
}

const blobsDir = (hfHome: string): string => path.join(hfHome, 'hub', `models--${REPO.replace('/', '--')}`, 'blobs');

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

beforeAll(async () => {
  fixture = await prepareMlxFixture();
  python = path.join(fixture.home, 'venvs', 'mlx-lm', 'bin', 'python');
  hub = await startHubServer(REPO, fixture.model);
  total = hub.repo.files.reduce((sum, f) => sum + f.size, 0);
  scratch = await mkdtemp(path.join(tmpdir(), 'anyclaude-download-'));
}, 600_000);

afterAll(async () => {
  await hub?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('downloadModel with the real huggingface_hub', () => {
  const hfHome = (): string => path.join(scratch, 'hf-resume');
  let partialBytes = 0;

  it('stops on abort mid-file, kills the python child, and leaves the partial blob', async () => {
    hub.resetCounters();
    hub.setBytesPerSecond(SLOW);
    const controller = new AbortController();
    const seen: DownloadProgress[] = [];
    const error = await downloadModel({
      repo: REPO,
      python,
      env: hfEnv(hfHome()),
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.doneBytes >= STOP_AFTER) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('MODEL_DOWNLOAD_STOPPED');
    expect((error as AnyclaudeError).fix).toContain('resume');
    expect(seen[0]?.phase).toBe('planning');
    expect(seen.some((p) => p.phase === 'downloading' && p.totalBytes === total)).toBe(true);
    expect(seen.some((p) => p.bytesPerSecond !== undefined && p.etaSeconds !== undefined)).toBe(true);
    expect(seen.at(-1)?.phase).toBe('cancelled');

    const partials = (await readdir(blobsDir(hfHome()))).filter((f) => f.endsWith('.incomplete'));
    expect(partials).toHaveLength(1);
    partialBytes = (await stat(path.join(blobsDir(hfHome()), partials[0]!))).size;
    expect(partialBytes).toBeGreaterThan(50_000_000);
    expect(partialBytes).toBeLessThan(total);
    // No snapshot folder: an interrupted download never looks like a model.
    expect(await readdir(path.join(hfHome(), 'hub', `models--${REPO.replace('/', '--')}`, 'snapshots')).catch(() => [])).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    const left = (await psList()).filter((p) => (p.cmd ?? '').includes('hf-download.py') && (p.cmd ?? '').includes(REPO));
    expect(left).toEqual([]);
  }, 120_000);

  it('a second run resumes: the partial file continues with a Range request, nothing is fetched twice', async () => {
    hub.resetCounters();
    hub.setBytesPerSecond(undefined);
    const result = await downloadModel({ repo: REPO, python, env: hfEnv(hfHome()) });
    const served = hub.bytesServed();
    const weights = hub.repo.files.find((f) => f.name === 'model.safetensors')!;
    expect(hub.requests()).toContainEqual({ file: 'model.safetensors', range: `bytes=${partialBytes}-`, status: 206 });
    expect(served).toBeLessThanOrEqual(total - partialBytes);
    expect(result.resumedBytes).toBeGreaterThanOrEqual(partialBytes);
    expect(result.downloadedBytes).toBe(served);
    expect(result.path).toBe(path.join(hfHome(), 'hub', `models--${REPO.replace('/', '--')}`, 'snapshots', hub.repo.commit));
    expect(await sha256(path.join(result.path, 'model.safetensors'))).toBe(weights.etag);
    expect(await snapshotComplete(result.path)).toBe(true);
    console.log(
      `[download] resumed run: ${formatBytes(served)} served of ${formatBytes(total)} (${formatBytes(partialBytes)} kept from the interrupted run, ${((partialBytes / total) * 100).toFixed(0)}% saved); ` +
        `${formatBytes(served / result.seconds)}/s unthrottled through the local server (${result.seconds.toFixed(1)} s including python start)`,
    );

    // A third run fetches nothing.
    hub.resetCounters();
    const again = await downloadModel({ repo: REPO, python, env: hfEnv(hfHome()) });
    expect(hub.bytesServed()).toBe(0);
    expect(again.downloadedBytes).toBe(0);
  }, 300_000);

  it('refuses before fetching a byte when the model does not fit, with the Hub sizes', async () => {
    hub.resetCounters();
    const error = await expectError(
      ensureModelOnDisk({ kind: 'remote', id: REPO }, { python, env: hfEnv(path.join(scratch, 'hf-small-disk')), machine: { freeDiskBytes: 100_000_000, totalMemoryBytes: 64e9 } }),
      'MODEL_TOO_BIG',
    );
    expect(error.message).toContain('542 MB');
    expect(hub.bytesServed()).toBe(0);
  }, 120_000);

  it('a failure is one readable line: an unknown repository', async () => {
    const error = await expectError(downloadModel({ repo: 'test-org/nope', python, env: hfEnv(path.join(scratch, 'hf-nope')) }), 'MODEL_DOWNLOAD_FAILED');
    expect(error.message).toContain('test-org/nope');
    expect(error.fix).toContain('check the name');
  }, 120_000);
});

describe('snapshotComplete', () => {
  it('needs config.json and every shard the index names, through links that resolve', async () => {
    const dir = path.join(scratch, 'snap');
    await mkdir(dir, { recursive: true });
    expect(await snapshotComplete(dir)).toBe(false);
    await writeFile(path.join(dir, 'config.json'), '{}');
    expect(await snapshotComplete(dir)).toBe(false);
    await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors' } }));
    await writeFile(path.join(dir, 'model-1.safetensors'), 'x');
    await symlink(path.join(dir, 'missing-blob'), path.join(dir, 'model-2.safetensors'));
    expect(await snapshotComplete(dir)).toBe(false);
    await writeFile(path.join(dir, 'missing-blob'), 'x');
    expect(await snapshotComplete(dir)).toBe(true);
  });
});

describe('mlx-lm backend with a model to download', () => {
  let backend: RunningBackend | undefined;
  const saved: Record<string, string | undefined> = {};
  const lines: string[] = [];
  const progress: DownloadProgress[] = [];
  const events = new CoreEvents();
  const logs: string[] = [];

  beforeAll(() => {
    // The backend reads the process environment, as `anyclaude up` does.
    const env = hfEnv(path.join(scratch, 'hf-backend'));
    for (const name of ['HF_HOME', 'HF_ENDPOINT', 'HF_HUB_DISABLE_TELEMETRY', 'HF_HUB_DISABLE_XET', 'HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_TOKEN']) {
      saved[name] = process.env[name];
      if (env[name] === undefined) delete process.env[name];
      else process.env[name] = env[name];
    }
    events.on('log', (e) => logs.push(`${e.source}: ${e.message}`));
  });

  afterAll(async () => {
    await backend?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('downloads the HF id with progress, then serves it from the snapshot and answers', async () => {
    hub.resetCounters();
    hub.setBytesPerSecond(undefined);
    backend = await mlxLmBackend.start({ model: REPO, onInstallProgress: (line) => lines.push(line), onDownloadProgress: (p) => progress.push(p) }, { events, home: fixture.home });
    expect(backend.info.modelId).toBe(path.join(scratch, 'hf-backend', 'hub', `models--${REPO.replace('/', '--')}`, 'snapshots', hub.repo.commit));
    expect(backend.info.contextWindow).toBe(8192);
    expect(hub.bytesServed()).toBe(total);
    // Progress comes as data, not as lines of the venv install.
    expect(progress[0]).toMatchObject({ repo: REPO, phase: 'planning' });
    expect(progress.some((p) => p.phase === 'downloading' && p.totalBytes === total)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', doneBytes: total, totalBytes: total });
    expect(lines.some((l) => l.startsWith('Downloading test-org/'))).toBe(false);
    expect(logs.some((l) => l.startsWith('download: downloading test-org/SmolLM2-135M-Instruct'))).toBe(true);

    const response = await request(`${backend.info.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: backend.info.modelId, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 8, temperature: 0 }),
    });
    const body = (await response.body.json()) as { choices: { message: { content: string } }[] };
    expect(response.statusCode).toBe(200);
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
  }, 600_000);
});
