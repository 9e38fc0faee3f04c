/** anyclaude's own log file: every core event as one line, so nothing writes to a terminal Claude Code owns. */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { CoreEvents } from '../core/events.js';
import type { RequestMetrics } from '../proxy/metrics.js';

export class FileLog {
  readonly #stream: WriteStream;

  constructor(readonly path: string) {
    this.#stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    // A full disk must not take anyclaude down: the log is best effort.
    this.#stream.on('error', () => undefined);
  }

  write(line: string): void {
    this.#stream.write(`${new Date().toISOString()} ${line}\n`);
  }

  attach(events: CoreEvents, formatRequest: (m: RequestMetrics) => string): void {
    events.on('log', (e) => this.write(`${e.level.padEnd(5)} ${e.source}: ${e.message}`));
    events.on('request:end', (m) => this.write(`req   ${formatRequest(m)}`));
    events.on('backend:state', (e) => this.write(`state ${e.backend}: ${e.state}${e.reason === undefined ? '' : ` (${e.reason})`}`));
    events.on('cache:warm', (e) => this.write(`cache ${e.backend}: ${e.phase}${e.ms === undefined ? '' : ` in ${e.ms} ms`}${e.detail === undefined ? '' : ` — ${e.detail}`}`));
    events.on('up:phase', (e) => this.write(`phase ${e.phase}: ${e.detail}`));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}
