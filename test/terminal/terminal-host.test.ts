/**
 * The terminal host with real children in real pseudo-terminals, and fake TTY streams on our side.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalHost, type Overlay, type TerminalHostOptions } from '../../src/terminal/terminal-host.js';
import { CHILD, FakeStdin, FakeStdout, VirtualTerminal, echoedHex, hex, sleep, waitFor } from './support.js';

const hosts: TerminalHost[] = [];

afterEach(async () => {
  for (const host of hosts.splice(0)) {
    host.dispose();
    await host.exited;
  }
});

interface Harness {
  host: TerminalHost;
  stdin: FakeStdin;
  stdout: FakeStdout;
  hotkeys: { count: number };
  /** The overlay opened by the last hotkey press, if the test asked for that. */
  overlay: () => Overlay | undefined;
}

interface StartOptions extends Partial<TerminalHostOptions> {
  overlayOnHotkey?: boolean;
  /** What the fake terminal shows before the host starts, and where its cursor is then (undefined: it never says). */
  screen?: { before: string; cursor: { row: number; col: number } | undefined };
}

function start(child: string, options: StartOptions = {}): Harness {
  const stdin = new FakeStdin();
  const stdout = new FakeStdout(80, 24);
  const hotkeys = { count: 0 };
  let overlay: Overlay | undefined;
  const { overlayOnHotkey, screen = { before: '', cursor: { row: 1, col: 1 } }, ...rest } = options;
  if (screen.before !== '') stdout.write(screen.before);
  if (screen.cursor !== undefined) stdout.answerCursorQueries(stdin, screen.cursor);
  const host: TerminalHost = TerminalHost.start({
    file: process.execPath,
    args: ['-e', child],
    env: { ...process.env, TERM: 'xterm-256color' },
    stdin,
    stdout,
    onHotkey: () => {
      hotkeys.count++;
      if (overlayOnHotkey === true) overlay = host.showOverlay();
    },
    ...rest,
  });
  hosts.push(host);
  return { host, stdin, stdout, hotkeys, overlay: () => overlay };
}

async function ready(stdout: FakeStdout): Promise<void> {
  await waitFor(() => stdout.text().includes('READY'), 'the child to be ready');
}

describe('TerminalHost passthrough', () => {
  it('gives the child keys byte for byte: Ctrl-C, arrows, UTF-8, mouse and focus reports', async () => {
    const { stdin, stdout, hotkeys } = start(CHILD.echo);
    await ready(stdout);
    const keys = ['\x03', '\x1b[A', '\x1bOB', Buffer.from('é€', 'utf8').toString('latin1'), '\x1b[<0;12;5M', '\x1b[I', '\x1b[O', 'q'];
    for (const key of keys) stdin.type(key);
    const expected = hex(keys.join(''));
    await waitFor(() => echoedHex(stdout.text()) === expected, `the child to echo ${expected}`);
    expect(hotkeys.count).toBe(0);
  });

  it('passes a bracketed paste through untouched, a Ctrl-] inside it included, even split across chunks', async () => {
    const { stdin, stdout, hotkeys } = start(CHILD.echo);
    await ready(stdout);
    const paste = '\x1b[200~one\x1dtwo\x1b[A\x1b[93;5uthree\x1b[201~';
    stdin.type(paste.slice(0, 9));
    await sleep(2);
    stdin.type(paste.slice(9, 30));
    stdin.type(paste.slice(30));
    await waitFor(() => echoedHex(stdout.text()) === hex(paste), 'the paste to reach the child');
    expect(hotkeys.count).toBe(0);

    // And after the paste, the hotkey works again.
    stdin.type('\x1d');
    await waitFor(() => hotkeys.count === 1, 'the hotkey after the paste');
  });

  it('delivers a lone ESC within a few milliseconds', async () => {
    const { stdin, stdout } = start(CHILD.echo);
    await ready(stdout);
    const sent = Date.now();
    stdin.type('\x1b');
    await waitFor(() => echoedHex(stdout.text()) === '1b', 'the ESC to reach the child', 2000);
    // Held 12 ms (the scanner tests pin that down), plus a pty round trip: generous for a loaded machine.
    expect(Date.now() - sent).toBeLessThan(500);
  });

  it('asks the terminal where its cursor is, and works on when it never answers', async () => {
    const { stdin, stdout } = start(CHILD.echo, { screen: { before: '', cursor: undefined } });
    expect(stdout.text()).toContain('\x1b[6n');
    await ready(stdout);
    stdin.type('k');
    await waitFor(() => echoedHex(stdout.text()) === hex('k'), 'the key after the wait for an answer');
  });

  it('writes the child output to the terminal byte for byte, invalid UTF-8 and split characters included', async () => {
    const { stdout } = start(CHILD.binary);
    await ready(stdout);
    // (The pty's own ONLCR turns the child's \n into \r\n: that is the line discipline, not the host.)
    const expected = Buffer.from([0x41, 0xff, 0xfe, 0x42, 0xe2, 0x82, 0xac, 0x43, 0x0d, 0x0d, 0x0a]);
    expect(stdout.bytes().indexOf(expected)).toBeGreaterThanOrEqual(0);
  });

  it('runs the child in a pty of the terminal size, with TERM from env', async () => {
    const stdin = new FakeStdin();
    const stdout = new FakeStdout(97, 31);
    const host = TerminalHost.start({
      file: process.execPath,
      args: ['-e', `process.stdout.write('SIZE ' + process.stdout.columns + 'x' + process.stdout.rows + ' TERM=' + process.env.TERM + '\\r\\n')`],
      env: { ...process.env, TERM: 'screen-256color' },
      stdin,
      stdout,
    });
    hosts.push(host);
    await waitFor(() => stdout.text().includes('SIZE 97x31 TERM=screen-256color'), 'the size report');
  });
});

describe('TerminalHost hotkey', () => {
  const encodings: [string, string][] = [
    ['legacy byte', '\x1d'],
    ['kitty keyboard protocol', '\x1b[93;5u'],
    ['kitty with event type press', '\x1b[93;5:1u'],
    ['kitty with Num Lock on', '\x1b[93;133u'],
    ['xterm modifyOtherKeys', '\x1b[27;5;93~'],
  ];

  it.each(encodings)('%s triggers onHotkey and is not forwarded, whole or split', async (_name, sequence) => {
    const { stdin, stdout, hotkeys } = start(CHILD.echo);
    await ready(stdout);
    stdin.type(`a${sequence}b`);
    await waitFor(() => hotkeys.count === 1, 'the hotkey');
    // Split after every possible byte: the hotkey must still be seen, once each.
    for (let cut = 1; cut < sequence.length; cut++) {
      stdin.type(`c${sequence.slice(0, cut)}`);
      await sleep(1);
      stdin.type(`${sequence.slice(cut)}d`);
    }
    await waitFor(() => hotkeys.count === sequence.length, `${sequence.length} hotkey presses`);
    const expected = hex(`ab${'cd'.repeat(sequence.length - 1)}`);
    await waitFor(() => echoedHex(stdout.text()) === expected, 'only the other keys at the child');
  });

  it('swallows the kitty release of the hotkey without a second trigger', async () => {
    const { stdin, stdout, hotkeys } = start(CHILD.echo);
    await ready(stdout);
    stdin.type('\x1b[93;5:1u\x1b[93;5:3ux');
    await waitFor(() => echoedHex(stdout.text()) === hex('x'), 'the x');
    expect(hotkeys.count).toBe(1);
  });

  it('honours another hotkey and lets Ctrl-] through then', async () => {
    const { host, stdin, stdout, hotkeys } = start(CHILD.echo, { hotkey: 'ctrl-g' });
    expect(host.hotkeyLabel).toBe('Ctrl-G');
    await ready(stdout);
    stdin.type('\x1d\x07\x1b[103;5u');
    await waitFor(() => hotkeys.count === 2, 'two presses of Ctrl-G');
    await waitFor(() => echoedHex(stdout.text()) === '1d', 'Ctrl-] at the child');
  });

  it('refuses a hotkey it cannot recognise before starting anything', () => {
    expect(() => TerminalHost.start({ file: process.execPath, args: [], env: process.env, hotkey: 'alt-x', stdin: new FakeStdin(), stdout: new FakeStdout() })).toThrow(
      /Unsupported hotkey "alt-x".*ctrl-<letter>/,
    );
  });
});

describe('TerminalHost overlay', () => {
  it('routes keys to the overlay, keeps the child output off the screen, and repaints it on return', async () => {
    const h = start(CHILD.echo, { overlayOnHotkey: true });
    await ready(h.stdout);
    const screen = new VirtualTerminal(h.stdout);

    h.stdin.type('\x1d');
    await waitFor(() => h.overlay() !== undefined, 'the overlay');
    const overlay = h.overlay()!;
    expect(h.host.mode).toBe('overlay');
    expect(h.stdout.text()).toContain('\x1b[?1049h');
    expect(overlay.columns).toBe(80);
    expect(overlay.rows).toBe(24);
    expect(overlay.stdin.isTTY).toBe(true);

    const overlayKeys: Buffer[] = [];
    overlay.stdin.on('data', (chunk: Buffer) => overlayKeys.push(chunk));
    h.stdin.type('jk\x1b[B\x03');
    await waitFor(() => Buffer.concat(overlayKeys).toString('latin1') === 'jk\x1b[B\x03', 'the keys at the overlay');

    overlay.stdout.write('DASHBOARD');
    await waitFor(() => h.stdout.text().includes('DASHBOARD'), 'the overlay output on the terminal');

    const beforeChildOutput = h.stdout.chunks.length;
    h.host.kill('SIGUSR2');
    await sleep(200);
    expect(h.stdout.text(beforeChildOutput)).not.toContain('DURING-OVERLAY');

    const beforeReturn = h.stdout.chunks.length;
    h.host.showChild();
    expect(h.host.mode).toBe('child');
    await waitFor(() => h.stdout.text(beforeReturn).includes('DURING-OVERLAY'), 'the repaint');
    await screen.settled();
    expect(screen.altScreen).toBe(false);
    const lines = screen.lines();
    expect(lines[0]).toBe('READY');
    expect(lines[1]).toBe('DURING-OVERLAY');
    expect(lines.join('\n')).not.toContain('DASHBOARD');
    expect(screen.cursor).toEqual({ x: 0, y: 2 });

    // The old overlay is dead; the child gets keys and its output flows again.
    overlay.stdout.write('LATE-DASHBOARD');
    h.stdin.type('z');
    await waitFor(() => echoedHex(h.stdout.text()) === hex('z'), 'the key at the child');
    expect(h.stdout.text()).not.toContain('LATE-DASHBOARD');
    expect(Buffer.concat(overlayKeys).toString('latin1')).toBe('jk\x1b[B\x03');
  });

  it('draws over a child on its own alternate screen and restores that screen, its cursor and modes', async () => {
    const h = start(CHILD.alt);
    await ready(h.stdout);
    const screen = new VirtualTerminal(h.stdout);
    await screen.settled();
    expect(screen.altScreen).toBe(true);

    await sleep(50); // let the mirror parse what the child drew
    const beforeOverlay = h.stdout.chunks.length;
    const overlay = h.host.showOverlay();
    const overlayStart = h.stdout.text(beforeOverlay);
    expect(overlayStart).not.toContain('\x1b[?1049h');
    expect(overlayStart).toContain('\x1b[<1u'); // the child's kitty flags are not the dashboard's
    expect(overlayStart).toContain('\x1b[?2004l');
    overlay.stdout.write('\x1b[1;1HDASHBOARD');
    h.host.kill('SIGUSR2');
    await sleep(150);

    const beforeReturn = h.stdout.chunks.length;
    h.host.showChild();
    await waitFor(() => h.stdout.text(beforeReturn).includes('CHANGED IN OVERLAY'), 'the repaint');
    const repaint = h.stdout.text(beforeReturn);
    expect(repaint).toContain('\x1b[>1u');
    await screen.settled();

    expect(screen.altScreen).toBe(true);
    const lines = screen.lines();
    expect(lines[2]).toBe('    ALT SCREEN');
    expect(lines[4]).toBe('CHANGED IN OVERLAY');
    expect(lines.join('\n')).not.toContain('DASHBOARD');
    expect(screen.cursor).toEqual({ x: 19, y: 9 });
    expect(screen.cursorHidden).toBe(true);
    expect(screen.terminal.modes.bracketedPasteMode).toBe(true);
    // Under the alternate screen, the main one still holds what the child printed first.
    expect(screen.terminal.buffer.normal.getLine(0)?.translateToString(true)).toBe('MAIN SCREEN TEXT');
  });

  it('replays into the scrollback the lines that scrolled away during the overlay', async () => {
    const child = `
      process.stdin.setRawMode(true); process.stdin.resume();
      process.on('SIGUSR2', () => { for (let i = 1; i <= 40; i++) process.stdout.write('line ' + i + '\\r\\n'); });
      process.stdout.write('READY\\r\\n');
    `;
    const h = start(child);
    await ready(h.stdout);
    const screen = new VirtualTerminal(h.stdout);
    await sleep(50);
    h.host.showOverlay();
    h.host.kill('SIGUSR2');
    await sleep(200);
    const beforeReturn = h.stdout.chunks.length;
    h.host.showChild();
    await waitFor(() => h.stdout.text(beforeReturn).includes('line 40'), 'the repaint');
    await screen.settled();
    const all = [...screen.scrollback(), ...screen.lines()].filter((line) => line !== '');
    expect(all).toEqual(['READY', ...Array.from({ length: 40 }, (_, i) => `line ${i + 1}`)]);
    expect(screen.cursor.y).toBe(23);
  });

  it('keeps what was on the terminal above the child when it started', async () => {
    const h = start(CHILD.echo, { screen: { before: '$ anyclaude up\r\nproxy ready\r\n', cursor: { row: 3, col: 1 } } });
    await ready(h.stdout);
    const screen = new VirtualTerminal(h.stdout);
    await sleep(50);
    h.host.showOverlay();
    h.host.kill('SIGUSR2');
    await sleep(150);
    const beforeReturn = h.stdout.chunks.length;
    h.host.showChild();
    await waitFor(() => h.stdout.text(beforeReturn).includes('DURING-OVERLAY'), 'the repaint');
    await screen.settled();
    expect(screen.lines().slice(0, 5)).toEqual(['$ anyclaude up', 'proxy ready', 'READY', 'DURING-OVERLAY', '']);
    expect(screen.cursor).toEqual({ x: 0, y: 4 });
  });

  it('gives each showing its own overlay, and the same one while it is shown', async () => {
    const h = start(CHILD.idle);
    await ready(h.stdout);
    const first = h.host.showOverlay();
    expect(h.host.showOverlay()).toBe(first);
    h.host.showChild();
    const second = h.host.showOverlay();
    expect(second.stdin).not.toBe(first.stdin);
    h.host.showChild();
  });
});

describe('TerminalHost resize', () => {
  it('resizes the child and the mirror, during the overlay too', async () => {
    const h = start(CHILD.size);
    await ready(h.stdout);
    const screen = new VirtualTerminal(h.stdout);

    h.stdout.resize(100, 30);
    await waitFor(() => h.stdout.text().includes('SIZE 100x30'), 'the child to see 100x30');

    const overlay = h.host.showOverlay();
    let overlayResizes = 0;
    overlay.stdout.on('resize', () => overlayResizes++);
    const beforeResize = h.stdout.chunks.length;
    h.stdout.resize(120, 20);
    expect(overlayResizes).toBe(1);
    expect(overlay.columns).toBe(120);
    expect(overlay.stdout.rows).toBe(20);
    await sleep(200);
    expect(h.stdout.text(beforeResize)).not.toContain('SIZE 120x20');

    const beforeReturn = h.stdout.chunks.length;
    h.host.showChild();
    await waitFor(() => h.stdout.text(beforeReturn).includes('SIZE 120x20'), 'the repaint with the new size');
    await screen.settled();
    // The mirror is 120 wide: the | the child put in column 120 is there, not clamped to 80.
    const lines = screen.lines();
    const at = lines.indexOf('SIZE 120x20');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toBe(`${' '.repeat(119)}|`);
  });

  it('after a resize in the overlay, waits for the child to redraw before repainting', async () => {
    const child = `
      process.stdin.setRawMode(true); process.stdin.resume();
      process.stdout.on('resize', () => process.stdout.write('REDRAWN ' + process.stdout.getWindowSize().join('x') + '\\r\\n'));
      process.stdout.write('READY\\r\\n');
    `;
    const h = start(child);
    await ready(h.stdout);
    h.host.showOverlay();
    h.stdout.resize(90, 24);
    const beforeReturn = h.stdout.chunks.length;
    h.host.showChild();
    await waitFor(() => h.stdout.text(beforeReturn).includes('REDRAWN 90x24'), 'the redraw');
    // It came inside the repaint (one synchronized update), not after it.
    const repaint = h.stdout.chunks.slice(beforeReturn).map((c) => c.toString('latin1')).find((c) => c.startsWith('\x1b[?2026h'));
    expect(repaint).toContain('REDRAWN 90x24');
  });
});

describe('TerminalHost exit and dispose', () => {
  it('propagates the exit code and restores the terminal', async () => {
    const h = start(CHILD.exit7);
    const exit = await h.host.exited;
    expect(exit).toEqual({ exitCode: 7, signal: undefined });
    expect(h.stdin.rawModeCalls).toEqual([true, false]);
    const out = h.stdout.text();
    expect(out).toContain('BYE');
    for (const reset of ['\x1b[?2004l', '\x1b[?1004l', '\x1b[?1000l', '\x1b[?1002l', '\x1b[?1003l', '\x1b[?1006l', '\x1b[?25h']) {
      expect(out).toContain(reset);
    }
    expect(out).not.toContain('\x1b[?1049l');
  });

  it('reports the signal that killed the child', async () => {
    const h = start(CHILD.idle);
    await ready(h.stdout);
    h.host.kill('SIGTERM');
    expect(await h.host.exited).toEqual({ exitCode: 0, signal: 15 });
  });

  it('leaves the alternate screen and pops kitty flags the child left, once', async () => {
    const h = start(CHILD.alt);
    await ready(h.stdout);
    await sleep(50);
    const before = h.stdout.chunks.length;
    h.host.dispose();
    h.host.dispose();
    const out = h.stdout.text(before);
    expect(out).toBe(h.stdout.text(before)); // nothing more after the second call
    expect(out.indexOf('\x1b[<1u')).toBeGreaterThanOrEqual(0);
    expect(out.indexOf('\x1b[<1u')).toBeLessThan(out.indexOf('\x1b[?1049l'));
    expect(out).toContain('\x1b[?2004l');
    expect(out).toContain('\x1b[?25h');
    expect(out.split('\x1b[?1049l')).toHaveLength(2);
    expect(h.stdin.rawModeCalls).toEqual([true, false]);
    // dispose hangs up on a child still running.
    expect((await h.host.exited).signal).toBe(1);
  });

  it('puts the child screen back when it exits during the overlay', async () => {
    const child = `
      process.stdin.setRawMode(true); process.stdin.resume();
      process.on('SIGUSR2', () => { process.stdout.write('GOODBYE\\r\\n'); process.exit(3); });
      process.stdout.write('READY\\r\\n');
    `;
    const h = start(child);
    await ready(h.stdout);
    const screen = new VirtualTerminal(h.stdout);
    const overlay = h.host.showOverlay();
    h.host.kill('SIGUSR2');
    expect(await h.host.exited).toEqual({ exitCode: 3, signal: undefined });
    overlay.stdout.write('AFTER-EXIT');
    await screen.settled();
    expect(screen.altScreen).toBe(false);
    expect(screen.lines().slice(0, 2)).toEqual(['READY', 'GOODBYE']);
    expect(h.stdout.text()).not.toContain('AFTER-EXIT');
    expect(() => h.host.showOverlay()).toThrow(/start a new one/);
  });
});
