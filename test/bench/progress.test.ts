/** Progress on stderr: a bar redrawn in place on a terminal, a plain line per step elsewhere. */
import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../src/bench/progress.js';

function output(isTTY: boolean): { text: () => string; write: (t: string) => void; isTTY: boolean } {
  let text = '';
  return { text: () => text, write: (t) => void (text += t), isTTY };
}

describe('bench progress', () => {
  it('on a terminal, redraws one line with a bar as full as the share done, and clears it at the end', () => {
    const out = output(true);
    const bar = new ProgressBar(out);
    bar.update({ backend: 'mlx-lm', done: 0, total: 4, detail: 'starting mlx-lm' });
    bar.update({ backend: 'mlx-lm', done: 2, total: 4, detail: 'turn 3/3' });
    bar.log('anyclaude: mlx-lm: ready');
    bar.done();
    const frames = out.text().split('\r\x1b[2K').filter((f) => f !== '');
    expect(frames[0]).not.toContain('█');
    const half = frames[1]!;
    expect(half).toContain('turn 3/3');
    expect(half.match(/█/g)!.length).toBe(half.match(/░/g)!.length);
    // A log line clears the bar first, so it never lands in the middle of one.
    expect(out.text()).toContain('\r\x1b[2Kanyclaude: mlx-lm: ready\n');
    // …and the bar comes back below it.
    expect(out.text().split('anyclaude: mlx-lm: ready\n')[1]).toContain('turn 3/3');
    expect(out.text().endsWith('\r\x1b[2K')).toBe(true);
    expect(out.text().split('\n')).toHaveLength(2);
  });

  it('once done (Ctrl-C while a turn winds down), progress draws nothing more and logs are plain lines', () => {
    const out = output(true);
    const bar = new ProgressBar(out);
    bar.update({ backend: 'mlx-lm', done: 1, total: 4, detail: 'turn 2/3' });
    bar.done();
    const before = out.text();
    bar.update({ backend: 'mlx-lm', done: 2, total: 4, detail: 'turn 3/3' });
    bar.log('anyclaude: mlx-lm: stopped');
    expect(out.text().slice(before.length)).toBe('anyclaude: mlx-lm: stopped\n');
  });

  it('elsewhere (CI logs, pipes), writes a line per step and no control characters', () => {
    const out = output(false);
    const bar = new ProgressBar(out);
    bar.update({ backend: 'mlx-lm', done: 1, total: 4, detail: 'turn 2/3' });
    bar.done();
    expect(out.text()).toMatch(/^bench: mlx-lm: turn 2\/3 \(1\/4, \d+ s\)\n$/);
  });
});
