import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/supervisor/ring-buffer.js';

describe('RingBuffer', () => {
  it('keeps the last N lines in order', () => {
    const ring = new RingBuffer(3);
    expect(ring.lines()).toEqual([]);
    for (const line of ['a', 'b']) ring.push(line);
    expect(ring.lines()).toEqual(['a', 'b']);
    for (const line of ['c', 'd', 'e']) ring.push(line);
    expect(ring.lines()).toEqual(['c', 'd', 'e']);
    expect(ring.size).toBe(3);
    expect(ring.tail(2)).toEqual(['d', 'e']);
    expect(ring.tail(10)).toEqual(['c', 'd', 'e']);
    expect(ring.tail(0)).toEqual([]);
  });

  it('holds 500 lines by default and rejects a useless capacity', () => {
    const ring = new RingBuffer();
    for (let i = 0; i < 1_234; i++) ring.push(String(i));
    expect(ring.lines()).toHaveLength(500);
    expect(ring.lines()[0]).toBe('734');
    expect(ring.tail(1)).toEqual(['1233']);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
