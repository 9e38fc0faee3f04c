import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseHotkey } from '../../src/terminal/hotkey.js';
import { DEFAULT_HOLD_MS, InputScanner, PASTE_IDLE_RESET_MS } from '../../src/terminal/input-scanner.js';

/** A scanner whose output is recorded as text, with `|` where the hotkey was pressed. */
function recorder(spec = 'ctrl-]') {
  const events: string[] = [];
  const scanner = new InputScanner({
    hotkey: parseHotkey(spec),
    onData: (bytes) => {
      expect(bytes.length).toBeGreaterThan(0);
      events.push(bytes.toString('latin1'));
    },
    onHotkey: () => events.push('|'),
  });
  const push = (...chunks: string[]): void => chunks.forEach((c) => scanner.push(Buffer.from(c, 'latin1')));
  return { scanner, push, output: () => events.join(''), events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('InputScanner', () => {
  it('passes everything but the hotkey, and delivers an untouched chunk as it came', () => {
    const r = recorder();
    r.push('plain \x1b[A\x1bOB\x03 text');
    expect(r.events).toEqual(['plain \x1b[A\x1bOB\x03 text']);
    r.push('a\x1db\x1b[93;5uc\x1b[27;5;93~d');
    expect(r.output()).toBe('plain \x1b[A\x1bOB\x03 texta|b|c|d');
  });

  it('keeps the bytes after the hotkey for whoever has the keyboard after it', () => {
    const targets: string[] = [];
    let target = 'child';
    const scanner = new InputScanner({
      hotkey: parseHotkey('ctrl-]'),
      onData: (bytes) => targets.push(`${target}:${bytes.toString('latin1')}`),
      onHotkey: () => (target = target === 'child' ? 'overlay' : 'child'),
    });
    scanner.push(Buffer.from('ab\x1dcd\x1b[93;5uef', 'latin1'));
    expect(targets).toEqual(['child:ab', 'overlay:cd', 'child:ef']);
  });

  it('never looks for the hotkey inside a bracketed paste', () => {
    const r = recorder();
    r.push('\x1b[200~x\x1dy\x1b[93;5u\x1b[27;5;93~z\x1b[201~\x1d');
    expect(r.output()).toBe('\x1b[200~x\x1dy\x1b[93;5u\x1b[27;5;93~z\x1b[201~|');
  });

  it('finds a paste end marker split across chunks', () => {
    const r = recorder();
    r.push('\x1b[200~abc\x1b[2', '01~\x1d');
    expect(r.output()).toBe('\x1b[200~abc\x1b[201~|');
    r.push('\x1b[200~q\x1b', '[', '2', '0', '1', '~', '\x1d');
    expect(r.output()).toBe('\x1b[200~abc\x1b[201~|\x1b[200~q\x1b[201~|');
  });

  it('does not take an end marker from before the paste for one inside it', () => {
    const r = recorder();
    r.push('\x1b[201~\x1b[200~', '\x1d');
    expect(r.output()).toBe('\x1b[201~\x1b[200~\x1d');
  });

  it('gives up on a paste whose end never came after a pause', () => {
    vi.useFakeTimers();
    const r = recorder();
    r.push('\x1b[200~lost end');
    vi.advanceTimersByTime(PASTE_IDLE_RESET_MS + 1);
    r.push('\x1d');
    expect(r.output()).toBe('\x1b[200~lost end|');
  });

  it('holds a possible hotkey start briefly, then delivers it as it was', () => {
    vi.useFakeTimers();
    const r = recorder();
    r.push('x\x1b');
    expect(r.output()).toBe('x');
    vi.advanceTimersByTime(DEFAULT_HOLD_MS - 1);
    expect(r.output()).toBe('x');
    vi.advanceTimersByTime(1);
    expect(r.output()).toBe('x\x1b');

    r.push('\x1b[9');
    vi.advanceTimersByTime(DEFAULT_HOLD_MS);
    expect(r.output()).toBe('x\x1b\x1b[9');
  });

  it('does not hold what cannot become the hotkey or a paste', () => {
    const r = recorder();
    r.push('\x1b[1;5', 'A', '\x1b[<0;1', ';1M', '\x1bO', 'A');
    expect(r.events).toEqual(['\x1b[1;5', 'A', '\x1b[<0;1', ';1M', '\x1bO', 'A']);
  });

  it('sees the same keys and hotkeys however the input is cut into chunks', () => {
    const input = 'a\x1b[A\x1d\x1b[93;5u\x1b\x1b[200~p\x1dq\x1b[201~b\x1b[93;5:3u\x1b[27;5;93~\x1b[1;5Cé\x1b[93;6u\x1b';
    const whole = recorder();
    whole.push(input);
    whole.scanner.flush();
    const expected = whole.output();
    expect(expected).toBe('a\x1b[A||\x1b\x1b[200~p\x1dq\x1b[201~b|\x1b[1;5Cé\x1b[93;6u\x1b');

    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 12 }), (cuts) => {
        const r = recorder();
        const points = [0, ...cuts.sort((x, y) => x - y), input.length];
        for (let i = 0; i + 1 < points.length; i++) r.push(input.slice(points[i], points[i + 1]));
        r.scanner.flush();
        r.scanner.dispose();
        expect(r.output()).toBe(expected);
      }),
    );
  });

  it('delivers nothing after dispose', () => {
    vi.useFakeTimers();
    const r = recorder();
    r.push('\x1b');
    r.scanner.dispose();
    vi.advanceTimersByTime(100);
    r.push('more');
    expect(r.output()).toBe('');
  });
});
