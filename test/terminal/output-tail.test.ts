import { describe, expect, it } from 'vitest';
import { unfinishedTail } from '../../src/terminal/output-tail.js';

const tail = (text: string | Buffer): string =>
  unfinishedTail(typeof text === 'string' ? Buffer.from(text, 'latin1') : text).toString('latin1');

describe('unfinishedTail', () => {
  it.each([
    ['plain text', ''],
    ['done \x1b[31m', ''],
    ['cut \x1b', '\x1b'],
    ['cut \x1b[', '\x1b['],
    ['cut \x1b[38;5;2', '\x1b[38;5;2'],
    ['cut \x1b[?20', '\x1b[?20'],
    ['osc \x1b]0;title', '\x1b]0;title'],
    ['osc done \x1b]0;title\x07 after', ''],
    ['osc done \x1b]8;;http://x\x1b\\link', ''],
    ['charset \x1b(', '\x1b('],
    ['charset done \x1b(B', ''],
    ['dcs \x1bP1$r', '\x1bP1$r'],
  ])('of %j is %j', (text, expected) => {
    expect(tail(text)).toBe(expected);
  });

  it('keeps a UTF-8 character cut off at the end, and nothing of a whole one', () => {
    const euro = Buffer.from('€', 'utf8'); // e2 82 ac
    expect(unfinishedTail(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]))).toEqual(euro.subarray(0, 1));
    expect(unfinishedTail(Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]))).toEqual(euro.subarray(0, 2));
    expect(unfinishedTail(Buffer.concat([Buffer.from('a'), euro])).length).toBe(0);
    const emoji = Buffer.from('😀', 'utf8'); // 4 bytes
    expect(unfinishedTail(emoji.subarray(0, 3))).toEqual(emoji.subarray(0, 3));
    expect(unfinishedTail(emoji).length).toBe(0);
  });
});
