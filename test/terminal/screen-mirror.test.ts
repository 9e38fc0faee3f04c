import { describe, expect, it } from 'vitest';
import xterm from '@xterm/headless';
import { ScreenMirror } from '../../src/terminal/screen-mirror.js';
import { NEUTRAL_MODES, NO_KITTY_FLAGS, exitResetSequence, kittyTransition } from '../../src/terminal/terminal-modes.js';

const { Terminal } = xterm;
type HeadlessTerminal = InstanceType<typeof Terminal>;

function realTerminal(cols = 40, rows = 8): HeadlessTerminal {
  return new Terminal({ cols, rows, scrollback: 1000, allowProposedApi: true });
}

function write(terminal: HeadlessTerminal, data: string): Promise<void> {
  return new Promise((resolve) => terminal.write(data, resolve));
}

function lines(terminal: HeadlessTerminal): string[] {
  const buffer = terminal.buffer.active;
  return Array.from({ length: terminal.rows }, (_, y) => buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
}

/** Both sides get the same output; returns the mirror once it has parsed it. */
async function mirrored(output: string, cols = 40, rows = 8): Promise<{ mirror: ScreenMirror; real: HeadlessTerminal }> {
  const mirror = new ScreenMirror({ cols, rows });
  const real = realTerminal(cols, rows);
  mirror.write(Buffer.from(output, 'utf8'));
  await write(real, output);
  await mirror.whenIdle();
  return { mirror, real };
}

/** What the host writes on return, minus the parts that are about the overlay's screen. */
function repaint(mirror: ScreenMirror, scrolledLines = 0): string {
  return NEUTRAL_MODES + mirror.screenSnapshot(scrolledLines) + mirror.modes.restoreSequence() + mirror.cursorSequence();
}

describe('ScreenMirror', () => {
  it('repaints the main screen: text, colours, wide characters, the cursor and the pen', async () => {
    const output =
      'plain\r\n\x1b[31mred\x1b[0m and \x1b[1;44mbold on blue\x1b[0m\r\n漢字 wide\r\n\x1b[6;12Hthere' +
      '\r\n\x1b[38;2;1;2;3mrgb\x1b[38;5;200m256\x1b[93mbright\x1b[7m  \x1b[0m\x1b[45m\x1b[K\x1b[0m' +
      '\x1b[3;7H\x1b[3;32m';
    const { mirror } = await mirrored(output);
    const fresh = realTerminal();
    await write(fresh, '\x1b[2J' + repaint(mirror));
    const reference = realTerminal();
    await write(reference, output);

    expect(lines(fresh)).toEqual(lines(reference));
    expect(lines(fresh)[2]).toBe('漢字 wide');
    expect(fresh.buffer.active.cursorX).toBe(6);
    expect(fresh.buffer.active.cursorY).toBe(2);
    const red = fresh.buffer.active.getLine(1)?.getCell(0);
    expect(red?.getChars()).toBe('r');
    expect(red?.getFgColor()).toBe(1);
    const blue = fresh.buffer.active.getLine(1)?.getCell(8);
    expect(blue?.isBold()).toBeTruthy();
    expect(blue?.getBgColor()).toBe(4);
    const row = fresh.buffer.active.getLine(6);
    expect(row?.getCell(0)?.isFgRGB()).toBe(true);
    expect(row?.getCell(0)?.getFgColor()).toBe(0x010203);
    expect(row?.getCell(3)?.getFgColor()).toBe(200);
    expect(row?.getCell(6)?.getFgColor()).toBe(11);
    expect(row?.getCell(12)?.isInverse()).toBeTruthy(); // inverse spaces show
    expect(row?.getCell(30)?.getBgColor()).toBe(5); // so does a background erased to the end
    // What the child prints next comes out in its colours: italic green.
    await write(fresh, 'X');
    const x = fresh.buffer.active.getLine(2)?.getCell(6);
    expect([x?.getChars(), Boolean(x?.isItalic()), x?.getFgColor()]).toEqual(['X', true, 2]);
  });

  it('counts the lines that scrolled past a mark, and the repaint puts them into the scrollback', async () => {
    const before = Array.from({ length: 12 }, (_, i) => `before ${i}\r\n`).join('');
    const { mirror, real } = await mirrored(before);
    const mark = mirror.markViewportTop();
    const during = Array.from({ length: 10 }, (_, i) => `during ${i}\r\n`).join('');
    mirror.write(during);
    await mirror.whenIdle();
    expect(mark.since().scrolledLines).toBe(10);

    // The real terminal still shows the screen as of the mark.
    await write(real, repaint(mirror, mark.since().scrolledLines));
    const buffer = real.buffer.normal;
    const all = Array.from({ length: buffer.length }, (_, y) => buffer.getLine(y)?.translateToString(true) ?? '');
    const expected = [...Array.from({ length: 12 }, (_, i) => `before ${i}`), ...Array.from({ length: 10 }, (_, i) => `during ${i}`), ''];
    expect(all).toEqual(expected);
    expect(lines(real)).toEqual(lines((await mirrored(before + during)).real));
  });

  it('places a mark at the point of the output stream where it was made, not where parsing is', async () => {
    const mirror = new ScreenMirror({ cols: 20, rows: 4 });
    mirror.write('1\r\n2\r\n3\r\n4\r\n5\r\n'); // not parsed yet
    const mark = mirror.markViewportTop();
    mirror.write('6\r\n7\r\n');
    await mirror.whenIdle();
    expect(mark.since().scrolledLines).toBe(2);
  });

  it('counts the whole scrollback once the marked line was trimmed away', async () => {
    const mirror = new ScreenMirror({ cols: 20, rows: 4, scrollback: 10 });
    const mark = mirror.markViewportTop();
    mirror.write(Array.from({ length: 30 }, (_, i) => `${i}\r\n`).join(''));
    await mirror.whenIdle();
    expect(mark.since().scrolledLines).toBe(10);
  });

  it('repaints the alternate screen over the main one, each with its own content and cursor', async () => {
    const output = 'main line\r\n\x1b[?1049h\x1b[H\x1b[2J\x1b[2;3Hfull screen app\x1b[5;10H';
    const { mirror } = await mirrored(output);
    expect(mirror.altScreen).toBe(true);
    const fresh = realTerminal();
    await write(fresh, repaint(mirror));
    expect(fresh.buffer.active.type).toBe('alternate');
    expect(lines(fresh)[1]).toBe('  full screen app');
    expect(fresh.buffer.active.cursorY).toBe(4);
    expect(fresh.buffer.active.cursorX).toBe(9);
    // Leaving the alternate screen shows the main one with the cursor where the child left it.
    await write(fresh, '\x1b[?1049l');
    expect(lines(fresh)[0]).toBe('main line');
    expect(fresh.buffer.active.cursorY).toBe(1);
  });

  it('starts where the real cursor was, and leaves the lines above it to the real terminal', async () => {
    const before = 'shell prompt\r\nanyclaude: starting\r\n';
    const mirror = new ScreenMirror({ cols: 40, rows: 8, deferStart: true });
    mirror.write('child line 1\r\n'); // before the start: held
    mirror.startAt({ row: 3, col: 1 });
    mirror.write('child line 2\r\n');
    await mirror.whenIdle();
    expect(mirror.viewportText().slice(0, 4)).toEqual(['', '', 'child line 1', 'child line 2']);

    const real = realTerminal();
    await write(real, before + 'child line 1\r\nchild line 2\r\n' + '\x1b[?1049h\x1b[HOVERLAY\x1b[?1049l');
    await write(real, repaint(mirror));
    expect(lines(real).slice(0, 5)).toEqual(['shell prompt', 'anyclaude: starting', 'child line 1', 'child line 2', '']);
    expect(real.buffer.active.cursorY).toBe(4);
  });

  it('forgets the lines above the start once the child erases them', async () => {
    const mirror = new ScreenMirror({ cols: 40, rows: 8, deferStart: true });
    mirror.startAt({ row: 3, col: 1 });
    mirror.write('child\x1b[2J\x1b[Hredrawn');
    await mirror.whenIdle();
    const real = realTerminal();
    await write(real, 'old 1\r\nold 2\r\nchild');
    await write(real, repaint(mirror));
    expect(lines(real).slice(0, 3)).toEqual(['redrawn', '', '']);
  });

  it('applies a resize after the output before it, as the real terminal did', async () => {
    const mirror = new ScreenMirror({ cols: 80, rows: 4 });
    mirror.write('\x1b[999CX'); // to the last column of an 80-column screen
    mirror.resize(120, 4);
    await mirror.whenIdle();
    expect(mirror.cols).toBe(120);
    expect(mirror.viewportText()[0]).toBe(`${' '.repeat(79)}X`);
  });
});

describe('ModeTracker', () => {
  it('learns the modes a snapshot does not carry and puts them back', async () => {
    const { mirror } = await mirrored('\x1b[?25l\x1b[?1002h\x1b[?1006h\x1b[?2004h\x1b[?1004h\x1b[?1h\x1b[>4;2m\x1b[2;6r');
    const modes = mirror.modes;
    expect(modes.cursorHidden).toBe(true);
    expect(modes.mouseEncoding).toBe(1006);
    expect(modes.modifyOtherKeys).toBe(2);
    expect(modes.scrollRegion).toEqual({ top: 2, bottom: 6 });
    const restore = modes.restoreSequence();
    for (const expected of ['\x1b[?25l', '\x1b[?1002h', '\x1b[?1006h', '\x1b[?2004h', '\x1b[?1004h', '\x1b[?1h', '\x1b[>4;2m', '\x1b[2;6r']) {
      expect(restore).toContain(expected);
    }
    // Written to a terminal in neutral modes, it reproduces them.
    const fresh = realTerminal();
    await write(fresh, NEUTRAL_MODES + restore);
    expect(fresh.modes).toEqual(mirror['terminal'].modes);
  });

  it('keeps a kitty keyboard stack per screen', async () => {
    const { mirror } = await mirrored('\x1b[>1u\x1b[>3u\x1b[<u\x1b[?1049h\x1b[>5u\x1b[=7;1u');
    expect(mirror.modes.kittyKeyboard('main')).toEqual({ base: 0, stack: [1] });
    expect(mirror.modes.kittyKeyboard('alt')).toEqual({ base: 0, stack: [7] });
    mirror.write('\x1b[?1049l\x1b[<5u\x1b[?1049h');
    await mirror.whenIdle();
    expect(mirror.modes.kittyKeyboard('main')).toEqual(NO_KITTY_FLAGS);
    expect(mirror.modes.kittyKeyboard('alt')).toEqual(NO_KITTY_FLAGS); // a new alternate screen starts empty
  });

  it('forgets everything on a full reset, and the scroll region on resize', async () => {
    const { mirror } = await mirrored('\x1b[?25l\x1b[>1u\x1b[?1006h\x1b[3;5r');
    mirror.resize(50, 8);
    await mirror.whenIdle();
    expect(mirror.modes.scrollRegion).toBeUndefined();
    mirror.write('\x1bc');
    await mirror.whenIdle();
    expect(mirror.modes.cursorHidden).toBe(false);
    expect(mirror.modes.mouseEncoding).toBeUndefined();
    expect(mirror.modes.kittyKeyboard('main')).toEqual(NO_KITTY_FLAGS);
  });

  it('moves kitty flags from one state to another with pops, a set and pushes', () => {
    expect(kittyTransition({ base: 0, stack: [1] }, { base: 0, stack: [1] })).toBe('');
    expect(kittyTransition({ base: 0, stack: [1, 3] }, NO_KITTY_FLAGS)).toBe('\x1b[<2u');
    expect(kittyTransition(NO_KITTY_FLAGS, { base: 2, stack: [1] })).toBe('\x1b[=2;1u\x1b[>1u');
  });

  it('resets on exit without moving the cursor', async () => {
    const { mirror } = await mirrored('\x1b[2;5r\x1b[>4;1m');
    const reset = exitResetSequence(mirror.modes);
    expect(reset).toContain('\x1b7\x1b[r\x1b8');
    expect(reset).toContain('\x1b[>4m');
    expect(exitResetSequence(undefined)).not.toContain('\x1b[r');
  });
});
