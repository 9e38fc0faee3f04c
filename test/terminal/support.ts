/**
 * Test doubles for the terminal host: a TTY-like stdin and stdout (recording raw mode and every
 * byte written), a headless "real terminal" that interprets what the host wrote, and small
 * children to run in the pty.
 */
import { PassThrough, Writable } from 'node:stream';
import xterm from '@xterm/headless';

const { Terminal } = xterm;

export class FakeStdin extends PassThrough {
  readonly isTTY = true;
  readonly rawModeCalls: boolean[] = [];

  setRawMode(mode: boolean): this {
    this.rawModeCalls.push(mode);
    return this;
  }

  /** Type keys: each call is one chunk, as one read() of a terminal would return. */
  type(bytes: string | Buffer): void {
    this.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }
}

export class FakeStdout extends Writable {
  readonly isTTY = true;
  columns: number;
  rows: number;
  readonly chunks: Buffer[] = [];
  private readonly chunkListeners = new Set<(chunk: Buffer) => void>();

  constructor(columns = 80, rows = 24) {
    super();
    this.columns = columns;
    this.rows = rows;
  }

  /** Answer cursor position queries (DSR 6) on `stdin`, as a terminal does. */
  answerCursorQueries(stdin: FakeStdin, position: { row: number; col: number }): void {
    this.cursorAnswer = { stdin, position };
  }

  private cursorAnswer: { stdin: FakeStdin; position: { row: number; col: number } } | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    const answer = this.cursorAnswer;
    if (answer !== undefined && chunk.includes('\x1b[6n')) {
      setImmediate(() => answer.stdin.type(`\x1b[${answer.position.row};${answer.position.col}R`));
    }
    for (const listener of this.chunkListeners) listener(chunk);
    callback();
  }

  /** Everything written, as latin1 (one char per byte, so byte sequences can be searched). */
  text(from = 0): string {
    return Buffer.concat(this.chunks.slice(from)).toString('latin1');
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  onChunk(listener: (chunk: Buffer) => void): () => void {
    this.chunkListeners.add(listener);
    return () => this.chunkListeners.delete(listener);
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

/** What a real terminal would show after everything the host wrote: an xterm fed from FakeStdout. */
export class VirtualTerminal {
  readonly terminal: InstanceType<typeof Terminal>;
  cursorHidden = false;
  private pending = Promise.resolve();

  constructor(stdout: FakeStdout) {
    this.terminal = new Terminal({ cols: stdout.columns, rows: stdout.rows, scrollback: 1000, allowProposedApi: true });
    this.terminal.parser.registerCsiHandler({ prefix: '?', final: 'h' }, (p) => this.dectcem(p, false));
    this.terminal.parser.registerCsiHandler({ prefix: '?', final: 'l' }, (p) => this.dectcem(p, true));
    for (const chunk of stdout.chunks) this.feed(chunk);
    stdout.onChunk((chunk) => this.feed(chunk));
    stdout.on('resize', () => {
      this.pending = this.pending.then(() => this.terminal.resize(stdout.columns, stdout.rows));
    });
  }

  async settled(): Promise<void> {
    await this.pending;
    await new Promise<void>((resolve) => this.terminal.write('', resolve));
  }

  get altScreen(): boolean {
    return this.terminal.buffer.active.type === 'alternate';
  }

  get cursor(): { x: number; y: number } {
    return { x: this.terminal.buffer.active.cursorX, y: this.terminal.buffer.active.cursorY };
  }

  /** The active screen's rows, right-trimmed. */
  lines(): string[] {
    const buffer = this.terminal.buffer.active;
    return Array.from({ length: this.terminal.rows }, (_, y) => buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
  }

  /** The main screen's scrollback (above the viewport), right-trimmed. */
  scrollback(): string[] {
    const buffer = this.terminal.buffer.normal;
    return Array.from({ length: buffer.baseY }, (_, y) => buffer.getLine(y)?.translateToString(true) ?? '');
  }

  private feed(chunk: Buffer): void {
    this.pending = this.pending.then(() => new Promise<void>((resolve) => this.terminal.write(chunk, resolve)));
  }

  private dectcem(params: (number | number[])[], hidden: boolean): boolean {
    if (params.includes(25)) this.cursorHidden = hidden;
    return false;
  }
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Hex of every `<..>` report an echo child printed, joined: the bytes it received, in order. */
export function echoedHex(output: string): string {
  return [...output.matchAll(/<([0-9a-f]*)>/g)].map((m) => m[1]).join('');
}

export const hex = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('hex');

/** Children, run as `node -e`. Each prints READY last, once raw mode and its signal handlers are set up. */
export const CHILD = {
  /** Raw mode; reports every byte read as <hex>; prints a marker on SIGUSR2. */
  echo: `
    process.stdin.setRawMode(true);
    process.stdin.on('data', (d) => process.stdout.write('<' + d.toString('hex') + '>'));
    process.on('SIGUSR2', () => process.stdout.write('DURING-OVERLAY\\r\\n'));
    process.stdout.write('READY\\r\\n');
  `,
  /** Prints bytes that are not valid UTF-8 and a character split across two writes. */
  binary: `
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdout.write(Buffer.from([0x41, 0xff, 0xfe, 0x42, 0xe2, 0x82]));
    setTimeout(() => process.stdout.write(Buffer.from([0xac, 0x43, 0x0d, 0x0a])), 20);
    setTimeout(() => process.stdout.write('READY\\r\\n'), 40);
  `,
  /** Reports its size at start and on every resize, then draws a | in its last column. */
  size: `
    process.stdin.setRawMode(true);
    process.stdin.resume();
    const report = () => {
      const [cols, rows] = process.stdout.getWindowSize();
      process.stdout.write('SIZE ' + cols + 'x' + rows + '\\r\\n\\x1b[' + cols + 'G|\\r\\n');
    };
    process.stdout.on('resize', report);
    report();
    process.stdout.write('READY\\r\\n');
  `,
  /** Full-screen app: alternate screen, cursor hidden, bracketed paste, drawing at fixed places. */
  alt: `
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdout.write('MAIN SCREEN TEXT\\r\\n');
    process.stdout.write('\\x1b[?1049h\\x1b[?25l\\x1b[?2004h\\x1b[>1u\\x1b[H\\x1b[2J');
    process.stdout.write('\\x1b[3;5HALT SCREEN\\x1b[10;20H');
    process.on('SIGUSR2', () => process.stdout.write('\\x1b[5;1HCHANGED IN OVERLAY\\x1b[10;20H'));
    process.stdout.write('READY');
  `,
  exit7: `process.stdout.write('BYE\\r\\n'); process.exitCode = 7;`,
  /** Stays until killed. */
  idle: `process.stdin.setRawMode(true); process.stdin.resume(); process.stdout.write('READY\\r\\n');`,
} as const;
