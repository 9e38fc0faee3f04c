/** `up --no-tui`'s model download on stderr: one redrawn line on a terminal, a line per 10 % into a file. */
import { describe, expect, it } from 'vitest';
import { downloadPrinter, REDRAW_MS } from '../../src/cli/download-printer.js';
import type { DownloadProgress } from '../../src/models/download.js';

const TOTAL = 17_200_000_000;

function progress(overrides: Partial<DownloadProgress> = {}): DownloadProgress {
  return { repo: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', phase: 'downloading', totalBytes: TOTAL, doneBytes: 0, resumedBytes: 0, file: undefined, filesDone: 0, filesTotal: 7, bytesPerSecond: undefined, etaSeconds: undefined, startedAt: 0, updatedAt: 0, ...overrides };
}

function sink(isTTY: boolean): { stream: { isTTY: boolean; columns: number; write(text: string): boolean }; out: string[] } {
  const out: string[] = [];
  return { stream: { isTTY, columns: 120, write: (text) => out.push(text) > 0 }, out };
}

/** A 17.2 GB download reported every 1 %, 5 times a second. */
function* steps(): Generator<[number, DownloadProgress]> {
  yield [0, progress({ phase: 'planning', totalBytes: undefined })];
  for (let i = 0; i <= 100; i++) yield [i * 200, progress({ doneBytes: (TOTAL * i) / 100, bytesPerSecond: 85_300_000, etaSeconds: ((100 - i) * TOTAL) / 100 / 85_300_000 })];
  yield [20_400, progress({ phase: 'done', doneBytes: TOTAL, bytesPerSecond: 85_300_000, etaSeconds: 0 })];
}

describe('downloadPrinter', () => {
  it('writes a line at the start, each 10 % and the end when stderr is no terminal', () => {
    const { stream, out } = sink(false);
    let now = 0;
    const printer = downloadPrinter(stream, () => now);
    for (const [at, p] of steps()) {
      now = at;
      printer.progress('Qwen3-Coder-30B', p);
    }
    expect(out.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(out).toHaveLength(13);
    expect(out[0]).toBe('Downloading Qwen3-Coder-30B: asking the Hub for the file list\n');
    expect(out[1]).toBe('Downloading Qwen3-Coder-30B  [--------------------]   0%  0 B/17.2 GB  85.3 MB/s  ETA 3m22s\n');
    expect(out[6]).toBe('Downloading Qwen3-Coder-30B  [##########----------]  50%  8.6 GB/17.2 GB  85.3 MB/s  ETA 1m41s\n');
    expect(out.at(-2)).toMatch(/100%/);
    expect(out.at(-1)).toBe('Downloading Qwen3-Coder-30B  [####################] 100%  17.2 GB/17.2 GB  85.3 MB/s  done\n');
  });

  it('redraws one line in place on a terminal, at most every REDRAW_MS, and ends it with a newline', () => {
    const { stream, out } = sink(true);
    let now = 0;
    const printer = downloadPrinter(stream, () => now);
    for (const [at, p] of steps()) {
      now = at;
      printer.progress('Qwen3-Coder-30B', p);
    }
    const writes = out.join('');
    expect(writes.split('\n')).toHaveLength(2);
    expect(out.length).toBeLessThanOrEqual(2 + (20_400 / REDRAW_MS) + 1);
    expect(out.slice(0, -1).every((w) => w.startsWith('\r\x1b[K') && !w.includes('\n'))).toBe(true);
    expect(out.at(-1)).toBe('\r\x1b[KDownloading Qwen3-Coder-30B  [####################] 100%  17.2 GB/17.2 GB  85.3 MB/s  done\n');
  });

  it('puts other lines above the download line, which it draws again', () => {
    const { stream, out } = sink(true);
    const printer = downloadPrinter(stream, () => 0);
    printer.progress('Qwen3-Coder-30B', progress({ doneBytes: TOTAL / 4, resumedBytes: 4_100_000_000 }));
    printer.line('anyclaude: mlx-lm: something\n');
    printer.close();
    const bar = 'Downloading Qwen3-Coder-30B  [#####---------------]  25%  4.3 GB/17.2 GB  (4.1 GB kept from before)';
    expect(out).toEqual([`\r\x1b[K${bar}`, `\r\x1b[Kanyclaude: mlx-lm: something\n${bar}`, '\n']);
  });

  it('shortens the bar before it cuts the line', () => {
    const out: string[] = [];
    const printer = downloadPrinter({ isTTY: true, columns: 120, write: (t: string) => out.push(t) }, () => 0);
    printer.progress('Qwen3-Coder-30B', progress({ doneBytes: TOTAL / 2, resumedBytes: 4_100_000_000, bytesPerSecond: 85_300_000, etaSeconds: 100 }));
    expect(out).toEqual(['\r\x1b[KDownloading Qwen3-Coder-30B  [#####-----]  50%  8.6 GB/17.2 GB  85.3 MB/s  ETA 1m40s  (4.1 GB kept from before)']);
  });

  it('keeps the line inside the terminal', () => {
    const out: string[] = [];
    const printer = downloadPrinter({ isTTY: true, columns: 40, write: (t: string) => out.push(t) }, () => 0);
    printer.progress('Qwen3-Coder-30B', progress({ doneBytes: TOTAL / 2 }));
    expect(out[0]!.replace('\r\x1b[K', '')).toHaveLength(39);
    expect(out[0]!.endsWith('…')).toBe(true);
  });
});
