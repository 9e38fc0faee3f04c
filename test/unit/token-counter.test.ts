import { describe, expect, it } from 'vitest';
import { TokenCounter } from '../../src/proxy/token-counter.js';

const prose = (words: number): string => 'the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(words / 9));

describe('token counter', () => {
  it('uses the free character estimate far from the context limit', async () => {
    const counter = new TokenCounter();
    const estimate = await counter.estimate('m', [prose(90)], 100_000);
    expect(estimate.raw).toBeUndefined();
    expect(estimate.tokens).toBe(Math.ceil(estimate.chars / 3));
  });

  it('counts exactly with tiktoken near the limit, and without a known window not at all', async () => {
    const counter = new TokenCounter();
    const near = await counter.estimate('m', [prose(900)], 1_200);
    expect(near.raw).toBeGreaterThan(800);
    expect(near.raw).toBeLessThan(1_100);
    expect((await counter.estimate('m', [prose(900)], undefined)).raw).toBeUndefined();
  });

  it('calibrates both estimators to what the backend reports, per model', async () => {
    const counter = new TokenCounter();
    const segments = [prose(2_000)];
    const exact = await counter.exact('m', segments);
    counter.calibrate('m', exact, Math.round(exact.raw! * 1.2));
    expect(counter.ratio('m')).toBeCloseTo(1.2, 2);
    expect((await counter.exact('m', segments)).tokens).toBe(Math.ceil(exact.raw! * 1.2));
    // The character estimate now matches the backend too, so small prompts stay cheap and right.
    const quick = await counter.estimate('m', segments, 1_000_000);
    expect(quick.raw).toBeUndefined();
    expect(Math.abs(quick.tokens - exact.raw! * 1.2)).toBeLessThan(2);
    expect(counter.ratio('other')).toBeUndefined();
  });

  it('ignores reports that cannot be tokenizer differences', async () => {
    const counter = new TokenCounter();
    const exact = await counter.exact('m', [prose(2_000)]);
    counter.calibrate('m', exact, exact.raw! * 50);
    expect(counter.ratio('m')).toBeUndefined();
  });
});
