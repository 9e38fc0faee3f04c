import { afterEach, describe, expect, it, vi } from 'vitest';
import { CURSOR_REPLY_TIMEOUT_MS, CursorReplyFilter, type CursorPosition } from '../../src/terminal/cursor-query.js';

function filter() {
  const data: string[] = [];
  const replies: (CursorPosition | undefined)[] = [];
  const f = new CursorReplyFilter({ onData: (bytes) => data.push(bytes.toString('latin1')), onReply: (p) => replies.push(p) });
  const push = (...chunks: string[]): void => chunks.forEach((c) => f.push(Buffer.from(c, 'latin1')));
  return { f, push, data, replies };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('CursorReplyFilter', () => {
  it('takes the first cursor report out and passes the keys around it on, in order', () => {
    const r = filter();
    r.push('ab\x1b[12;40Rcd', '\x1b[3;4R');
    expect(r.replies).toEqual([{ row: 12, col: 40 }]);
    expect(r.data.join('')).toBe('abcd\x1b[3;4R');
    expect(r.f.done).toBe(true);
  });

  it('finds a report cut across chunks, holding only what may be its start', () => {
    const r = filter();
    r.push('x\x1b[', '7;', '1', 'R', 'y');
    expect(r.replies).toEqual([{ row: 7, col: 1 }]);
    expect(r.data.join('')).toBe('xy');
  });

  it('passes other sequences that start alike', () => {
    const r = filter();
    r.push('\x1b[A\x1b[1;5C');
    expect(r.data.join('')).toBe('\x1b[A\x1b[1;5C');
    expect(r.replies).toEqual([]);
  });

  it('gives up after the timeout, and delivers what it held', () => {
    vi.useFakeTimers();
    const r = filter();
    r.push('k\x1b[');
    expect(r.data.join('')).toBe('k');
    vi.advanceTimersByTime(CURSOR_REPLY_TIMEOUT_MS);
    expect(r.replies).toEqual([undefined]);
    expect(r.data.join('')).toBe('k\x1b[');
    r.push('\x1b[1;1R');
    expect(r.data.join('')).toBe('k\x1b[\x1b[1;1R');
  });
});
