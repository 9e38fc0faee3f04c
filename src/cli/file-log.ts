/**
 * anyclaude's own log file: every core event as one line, so nothing writes to a terminal Claude
 * Code owns. Best effort: a full disk or a read-only home must not take anyclaude down, and is
 * said once (as a warning event, which the dashboard and `anyclaude status` show), not once per
 * line. Lines are dropped while the file cannot be written; the file is reopened now and then, so
 * logging resumes by itself once there is space again.
 */
import { appendFileSync, createWriteStream, type WriteStream } from 'node:fs';
import type { CoreEvents } from '../core/events.js';
import type { RequestMetrics } from '../proxy/metrics.js';
import { describeWriteError, writeFaultFix, WriteFaultReporter } from '../core/write-fault.js';

/** How long a failed log file rests before the next line tries it again (ms). */
const RETRY_MS = 5_000;

export interface FileLogOptions {
  /** Default RETRY_MS; tests shorten it. */
  retryMs?: number;
}

export class FileLog {
  #stream: WriteStream;
  #failedAt = 0;
  #closed = false;
  /** Lines logged after close() while the stream still flushes; appended once it has. */
  #late: string[] | undefined;
  readonly #retryMs: number;
  readonly #faults: WriteFaultReporter;
  /** Where the one-line warnings go until attach() names the events. */
  #say: (line: string) => void = () => undefined;

  constructor(
    readonly path: string,
    options: FileLogOptions = {},
  ) {
    this.#retryMs = options.retryMs ?? RETRY_MS;
    this.#faults = new WriteFaultReporter(
      {
        failed: (error) => `the log file is not being written: ${path}: ${describeWriteError(error)}; ${writeFaultFix(error)}`,
        recovered: (lost) => `the log file is being written again (${lost} line${lost === 1 ? '' : 's'} lost)`,
      },
      (line) => this.#say(line),
    );
    this.#stream = this.#open();
  }

  write(line: string): void {
    if (this.#closed) return this.#append(line);
    if (this.#stream.destroyed) {
      if (Date.now() - this.#failedAt < this.#retryMs) return this.#faults.failed(undefined);
      this.#stream = this.#open();
    }
    this.#stream.write(stamp(line), (error) => {
      if (error === null || error === undefined) this.#faults.succeeded();
    });
  }

  attach(events: CoreEvents, formatRequest: (m: RequestMetrics) => string): void {
    this.#say = (line) => events.log('warn', 'log', line);
    events.on('log', (e) => this.write(`${e.level.padEnd(5)} ${e.source}: ${e.message}`));
    events.on('request:end', (m) => this.write(`req   ${formatRequest(m)}`));
    events.on('backend:state', (e) => this.write(`state ${e.backend}: ${e.state}${e.reason === undefined ? '' : ` (${e.reason})`}`));
    events.on('cache:warm', (e) => this.write(`cache ${e.backend}: ${e.phase}${e.ms === undefined ? '' : ` in ${e.ms} ms`}${e.detail === undefined ? '' : ` — ${e.detail}`}`));
    events.on('up:phase', (e) => this.write(`phase ${e.phase}: ${e.detail}`));
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#stream.destroyed) return Promise.resolve();
    this.#late = [];
    return new Promise((resolve) =>
      this.#stream.end(() => {
        const late = this.#late ?? [];
        this.#late = undefined;
        for (const line of late) this.#append(line);
        resolve();
      }),
    );
  }

  /**
   * Exit handlers run side by side, so the servers' last state changes can come after close():
   * they are appended after what the stream still holds, rather than lost (or reported as a
   * write after end).
   */
  #append(line: string): void {
    if (this.#late !== undefined) {
      this.#late.push(line);
      return;
    }
    if (this.#faults.failing) return;
    try {
      appendFileSync(this.path, stamp(line), { mode: 0o600 });
    } catch {
      // Closing down: a failure here has no one left to tell.
    }
  }

  #open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: 'a', mode: 0o600 });
    stream.on('error', (error) => {
      this.#failedAt = Date.now();
      this.#faults.failed(error);
    });
    return stream;
  }
}

function stamp(line: string): string {
  return `${new Date().toISOString()} ${line}\n`;
}
