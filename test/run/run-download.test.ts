/**
 * A backend that downloads its model while it starts: the Run shows it as a `download` step with
 * the progress as data, then as `start` (loading) with the finished download kept, and tells a
 * plain front end through the `model:download` event. The adapter is LM Studio's, against a
 * scripted server, with a download played in front of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BackendAdapter, BackendStartOptions } from '../../src/backends/backend.js';
import { CoreEvents, type CoreEventMap } from '../../src/core/events.js';
import type { DownloadProgress } from '../../src/models/download.js';
import type { ProgressView } from '../../src/run/run-state.js';
import { Run } from '../../src/run/run.js';
import { resolveUpSettings } from '../../src/settings/up-settings.js';
import { startScriptedUpstream } from '../support/scripted-upstream.js';

const gate: { step?: (options: BackendStartOptions) => Promise<void> } = {};

vi.mock('../../src/backends/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/backends/registry.js')>();
  const lmstudio: BackendAdapter = {
    ...real.ADAPTERS.lmstudio,
    start: async (options, ctx) => {
      await gate.step?.(options);
      // The scripted LM Studio serves its own model: the catalog name was only the download's.
      const { model: _downloaded, ...rest } = options;
      return real.ADAPTERS.lmstudio.start(rest, ctx);
    },
  };
  return { ...real, ADAPTERS: { ...real.ADAPTERS, lmstudio } };
});

const TOTAL = 17_200_000_000;
const progress = (overrides: Partial<DownloadProgress>): DownloadProgress => ({
  repo: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit',
  phase: 'downloading',
  totalBytes: TOTAL,
  doneBytes: 0,
  resumedBytes: 0,
  file: undefined,
  filesDone: 0,
  filesTotal: 7,
  bytesPerSecond: undefined,
  etaSeconds: undefined,
  startedAt: 1_000,
  updatedAt: 1_000,
  ...overrides,
});

describe('Run: a model download while a backend starts', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('is a download step with its progress, then the loading step with the finished bar, and an event each time', async () => {
    const lmstudio = await startScriptedUpstream({ flavor: 'lmstudio', contextLength: 32_768 });
    cleanups.push(() => lmstudio.close());
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-run-dl-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const events = new CoreEvents();
    const heard: CoreEventMap['model:download'][] = [];
    events.on('model:download', (e) => heard.push(e));
    const seen: ProgressView[][] = [];
    const phaseDetails: (string | undefined)[] = [];
    const holder: { run?: Run } = {};
    const snapshot = (): ProgressView[] => holder.run?.getSnapshot().progress.filter((p) => p.backend === 'lmstudio') ?? [];
    gate.step = async (options) => {
      const report = options.onDownloadProgress;
      expect(report).toBeDefined();
      report?.(progress({ phase: 'planning', totalBytes: undefined }));
      seen.push(snapshot());
      phaseDetails.push(holder.run?.getSnapshot().phaseDetail);
      report?.(progress({ doneBytes: 4_100_000_000, resumedBytes: 4_100_000_000 }));
      report?.(progress({ doneBytes: 8_600_000_000, resumedBytes: 4_100_000_000, bytesPerSecond: 85_300_000, etaSeconds: 100.8, file: 'model-00004-of-00007.safetensors' }));
      seen.push(snapshot());
      report?.(progress({ phase: 'done', doneBytes: TOTAL, resumedBytes: 4_100_000_000, bytesPerSecond: 85_300_000, etaSeconds: 0, filesDone: 7 }));
      seen.push(snapshot());
    };
    const settings = resolveUpSettings({ backend: 'lmstudio', protocol: 'openai', model: 'Qwen3-Coder-30B' }, { env: { LMSTUDIO_URL: lmstudio.url }, config: {}, configFile: join(home, 'config.json') });
    const run = Run.create({ settings, home, events });
    holder.run = run;
    cleanups.push(() => run.stop());
    await run.start();

    const [planning, downloading, loaded] = seen;
    expect(planning).toMatchObject([{ step: 'download', detail: 'Qwen3-Coder-30B: asking the Hub for the file list', lines: [], download: { label: 'Qwen3-Coder-30B', phase: 'planning', totalBytes: undefined } }]);
    expect(downloading).toMatchObject([{ step: 'download', detail: 'Qwen3-Coder-30B', startedAt: 1_000 }]);
    expect(downloading?.[0]?.download).toEqual({
      label: 'Qwen3-Coder-30B',
      repo: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit',
      phase: 'downloading',
      totalBytes: TOTAL,
      doneBytes: 8_600_000_000,
      resumedBytes: 4_100_000_000,
      bytesPerSecond: 85_300_000,
      etaSeconds: 100.8,
      file: 'model-00004-of-00007.safetensors',
      filesDone: 0,
      filesTotal: 7,
      startedAt: 1_000,
    });
    expect(loaded).toMatchObject([{ step: 'start', detail: 'loading Qwen3-Coder-30B', download: { phase: 'done', doneBytes: TOTAL } }]);
    expect(JSON.parse(JSON.stringify(loaded))).toEqual(loaded?.map((p) => JSON.parse(JSON.stringify(p)) as unknown));
    expect(phaseDetails).toEqual(['downloading Qwen3-Coder-30B']);
    // Started: the entry is gone.
    expect(snapshot()).toEqual([]);
    expect(heard.map((e) => [e.backend, e.label, e.progress.phase])).toEqual([
      ['lmstudio', 'Qwen3-Coder-30B', 'planning'],
      ['lmstudio', 'Qwen3-Coder-30B', 'downloading'],
      ['lmstudio', 'Qwen3-Coder-30B', 'downloading'],
      ['lmstudio', 'Qwen3-Coder-30B', 'done'],
    ]);
  });
});
