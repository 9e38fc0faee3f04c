/** The dashboard's numbers: short, with no rounding that hides what matters. */
import { describe, expect, it } from 'vitest';
import { clockTime, fitItems, formatContextWindow, formatDuration, formatElapsed, formatPercent, formatRate, formatTokens, median, plainLine, shortModel, UNKNOWN, wrapWords } from '../../ui/format.js';

describe('formatTokens', () => {
  it('writes small counts whole and large ones in K and M with one decimal below 100', () => {
    expect([0, 950, 999, 1_000, 1_234, 12_345, 20_070, 99_949, 123_456, 999_499, 999_500, 1_234_567].map(formatTokens)).toEqual([
      '0', '950', '999', '1K', '1.2K', '12.3K', '20.1K', '99.9K', '123K', '999K', '1M', '1.2M',
    ]);
  });

  it('writes an unknown count as a dash', () => {
    expect(formatTokens(undefined)).toBe(UNKNOWN);
    expect(formatTokens(Number.NaN)).toBe(UNKNOWN);
  });
});

describe('formatContextWindow', () => {
  it('writes powers of two in binary K (as servers do) and round numbers in decimal K', () => {
    expect([32_768, 131_072, 4_096, 200_000, 128_000, 1_048_576, 1_000_000, 500].map(formatContextWindow)).toEqual(['32K', '128K', '4K', '200K', '128K', '1M', '1M', '500']);
  });

  it('writes an unknown window as a dash', () => {
    expect(formatContextWindow(undefined)).toBe(UNKNOWN);
    expect(formatContextWindow(0)).toBe(UNKNOWN);
  });
});

describe('formatRate', () => {
  it('keeps a decimal for decode rates and drops it for prefill rates', () => {
    expect([35.24, 9.06, 905.4, 1_234, undefined].map(formatRate)).toEqual(['35.2', '9.1', '905', '1.2K', UNKNOWN]);
  });
});

describe('formatDuration', () => {
  it('goes from milliseconds to hours without ever wrapping a column', () => {
    expect([850, 1_234, 9_940, 14_600, 59_400, 59_600, 184_000, 3_723_000, 7_380_000].map(formatDuration)).toEqual([
      '850ms', '1.2s', '9.9s', '15s', '59s', '1m 00s', '3m 04s', '1h 02m', '2h 03m',
    ]);
  });

  it('writes an unknown or negative duration as a dash', () => {
    expect(formatDuration(undefined)).toBe(UNKNOWN);
    expect(formatDuration(-5)).toBe(UNKNOWN);
  });

  it('counts elapsed time in whole seconds', () => {
    expect(formatElapsed(1_000, 43_900)).toBe('42s');
    expect(formatElapsed(5_000, 1_000)).toBe('0ms');
  });
});

describe('formatPercent', () => {
  it('rounds to whole percents', () => {
    expect([0, 0.42, 0.98, 1].map(formatPercent)).toEqual(['0%', '42%', '98%', '100%']);
  });

  it('never rounds 99.x up to 100, so a slightly changed prompt does not look unchanged', () => {
    expect(formatPercent(0.996)).toBe('99.6%');
    expect(formatPercent(0.9999)).toBe('99.9%');
    expect(formatPercent(0.99)).toBe('99%');
  });

  it('says "<1%" rather than 0 for a small share', () => {
    expect(formatPercent(0.004)).toBe('<1%');
    expect(formatPercent(undefined)).toBe(UNKNOWN);
  });
});

describe('clockTime', () => {
  it('writes local wall-clock time with two digits each', () => {
    expect(clockTime(new Date(2025, 0, 2, 9, 3, 7).getTime())).toBe('09:03:07');
    expect(clockTime(new Date(2025, 0, 2, 23, 59, 59).getTime())).toBe('23:59:59');
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the middle two', () => {
    expect(median([35, 31, 36])).toBe(35);
    expect(median([880, 912, 870, 940])).toBe(896);
    expect(median([])).toBeUndefined();
  });
});

describe('wrapWords', () => {
  it('breaks between words and cuts a word longer than a line', () => {
    expect(wrapWords('the backend recomputed a prompt', 14)).toEqual(['the backend', 'recomputed a', 'prompt']);
    expect(wrapWords('abcdefghij xy', 4)).toEqual(['abcd', 'efgh', 'ij', 'xy']);
    expect(wrapWords('anything', 0)).toEqual([]);
  });
});

describe('fitItems', () => {
  const items = [
    { text: 'anyclaude', drop: -1 },
    { text: 'running', drop: 2 },
    { text: 'http://127.0.0.1:4141', drop: 5 },
    { text: 'up 12m', drop: 4 },
  ];

  it('keeps everything that fits', () => {
    expect(fitItems(items, 80, ' · ').map((i) => i.text)).toEqual(['anyclaude', 'running', 'http://127.0.0.1:4141', 'up 12m']);
  });

  it('drops whole items, the most droppable first, and keeps the order of the rest', () => {
    expect(fitItems(items, 30, ' · ').map((i) => i.text)).toEqual(['anyclaude', 'running', 'up 12m']);
    expect(fitItems(items, 10, ' · ').map((i) => i.text)).toEqual(['anyclaude']);
  });

  it('brings back shorter items that fit once a long one is dropped', () => {
    const items = [
      { text: 'anyclaude', drop: -1 },
      { text: 'running: a phase detail far too long for the line', drop: 2 },
      { text: 'Claude Code running', drop: 3 },
    ];
    expect(fitItems(items, 40, ' · ').map((i) => i.text)).toEqual(['anyclaude', 'Claude Code running']);
  });
});

describe('shortModel', () => {
  it('leaves a name that fits alone', () => {
    expect(shortModel('qwen/qwen3-coder-30b', 30)).toBe('qwen/qwen3-coder-30b');
  });

  it('drops the organisation first, then the middle, keeping the quantisation at the end', () => {
    expect(shortModel('mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', 33)).toBe('Qwen3-Coder-30B-A3B-Instruct-4bit');
    const short = shortModel('mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', 20);
    expect(short).toHaveLength(20);
    expect(short).toMatch(/^Qwen3-Cod.*….*4bit$/);
  });
});

describe('plainLine', () => {
  it('keeps what a progress bar left after its last carriage return, without colours or tabs', () => {
    expect(plainLine('Downloading mlx (28.6 MB)\r  ━━━ 12.3/28.6 MB\r  ━━━━━━ 20.1/28.6 MB')).toBe('  ━━━━━━ 20.1/28.6 MB');
    expect(plainLine('\u001b[32mINFO\u001b[0m\tserver \u001b]0;title\u0007ready\u0007')).toBe('INFO  server ready');
    expect(plainLine('done\r\n'.replace('\n', ''))).toBe('done');
  });
});
