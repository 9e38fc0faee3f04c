import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogEntry } from '../../src/models/catalog.js';
import { DISK_MARGIN, freeDiskBytes, judgeFit, refuseUnlessFits, suggestSmaller } from '../../src/models/fit.js';
import { formatBytes } from '../../src/core/bytes.js';
import { thrown } from '../support/expect-error.js';

const GB = 1e9;
const coder30 = catalogEntry('Qwen3-Coder-30B')!;

describe('judgeFit', () => {
  it('needs the download plus a margin on disk, and the weights within 75% of memory', () => {
    const need = { label: 'x', modelBytes: 17.2 * GB, downloadBytes: 17.2 * GB };
    expect(judgeFit(need, { freeDiskBytes: 100 * GB, totalMemoryBytes: 32 * GB })).toEqual({ disk: true, memory: true });
    expect(judgeFit(need, { freeDiskBytes: 100 * GB, totalMemoryBytes: 16 * GB })).toEqual({ disk: true, memory: false });
    expect(judgeFit(need, { freeDiskBytes: 17.2 * GB + DISK_MARGIN - 1, totalMemoryBytes: 64 * GB })).toEqual({ disk: false, memory: true });
    expect(judgeFit(need, { freeDiskBytes: 100 * GB, totalMemoryBytes: 16 * GB }, { ignoreMemory: true }).memory).toBe(true);
  });

  it('counts only what is left to download against the disk', () => {
    const resumed = { label: 'x', modelBytes: 17.2 * GB, downloadBytes: 2 * GB };
    expect(judgeFit(resumed, { freeDiskBytes: 5 * GB, totalMemoryBytes: 64 * GB }).disk).toBe(true);
  });
});

describe('refuseUnlessFits', () => {
  it('refuses a model too big for memory, suggesting the nearest smaller sibling that fits', () => {
    const error = thrown(() => refuseUnlessFits({ label: 'Qwen3-Coder-30B', modelBytes: coder30.mlx.sizeBytes, downloadBytes: coder30.mlx.sizeBytes, entry: coder30 }, { freeDiskBytes: 500 * GB, totalMemoryBytes: 16 * GB }));
    expect(error.code).toBe('MODEL_TOO_BIG');
    expect(error.message).toContain('Qwen3-Coder-30B does not fit');
    expect(error.message).toContain('memory');
    expect(error.fix).toContain('--model Qwen2.5-Coder-14B');
    expect(error.fix).toContain('ANYCLAUDE_IGNORE_FIT=1');
  });

  it('skips siblings that do not fit either', () => {
    const big = catalogEntry('Qwen3-Coder-480B')!;
    const error = thrown(() => refuseUnlessFits({ label: big.name, modelBytes: big.mlx.sizeBytes, downloadBytes: big.mlx.sizeBytes, entry: big }, { freeDiskBytes: 500 * GB, totalMemoryBytes: 8 * GB }));
    expect(error.fix).toContain('--model Qwen2.5-Coder-7B');
  });

  it('refuses when the disk is short, saying how much is free', () => {
    const error = thrown(() => refuseUnlessFits({ label: 'Qwen3-Coder-30B', modelBytes: coder30.mlx.sizeBytes, downloadBytes: coder30.mlx.sizeBytes, entry: coder30 }, { freeDiskBytes: 10 * GB, totalMemoryBytes: 64 * GB }));
    expect(error.message).toContain('10.0 GB');
    expect(error.fix).toContain('free disk space');
    expect(error.fix).toContain('--model Qwen2.5-Coder-14B');
  });

  it('a model outside the catalog gets the largest catalog model that fits; nothing fits: plain advice', () => {
    const need = { label: 'someone/huge', modelBytes: 40 * GB, downloadBytes: 40 * GB };
    expect(suggestSmaller(need, { freeDiskBytes: 500 * GB, totalMemoryBytes: 32 * GB })?.name).toBe('Qwen2.5-Coder-32B');
    const error = thrown(() => refuseUnlessFits(need, { freeDiskBytes: 500 * GB, totalMemoryBytes: 4 * GB }));
    expect(error.fix).toContain('pick a smaller model');
  });

  it('passes quietly when it fits', () => {
    expect(() => refuseUnlessFits({ label: 'x', modelBytes: GB, downloadBytes: GB }, { freeDiskBytes: 10 * GB, totalMemoryBytes: 8 * GB })).not.toThrow();
  });
});

describe('helpers', () => {
  it('freeDiskBytes reads the nearest existing folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'anyclaude-fit-'));
    try {
      const free = await freeDiskBytes(path.join(dir, 'not', 'yet', 'there'));
      expect(free).toBeGreaterThan(0);
      expect(Number.isFinite(free)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('formatBytes uses decimal units', () => {
    expect(formatBytes(17_200_000_000)).toBe('17.2 GB');
    expect(formatBytes(850_000_000)).toBe('850 MB');
    expect(formatBytes(4_300_000_000)).toBe('4.3 GB');
    expect(formatBytes(12)).toBe('12 B');
  });
});
