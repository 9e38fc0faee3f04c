/**
 * Progress while a bench runs, on stderr so stdout stays the report (`--json > run.json`): a bar
 * redrawn in place on a terminal, a line per step anywhere else (CI logs).
 */
import type { BenchProgress } from './replayer.js';

const WIDTH = 24;

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class ProgressBar {
  readonly #out: ProgressOutput;
  readonly #startedAt = Date.now();
  #drawn = false;
  /** After done(): work still winding down (a Ctrl-C mid-turn) must not draw the bar again. */
  #closed = false;
  #last: BenchProgress | undefined;

  constructor(out: ProgressOutput) {
    this.#out = out;
  }

  update(p: BenchProgress): void {
    if (this.#closed) return;
    this.#last = p;
    const elapsed = `${Math.round((Date.now() - this.#startedAt) / 1000)} s`;
    if (this.#out.isTTY !== true) {
      this.#out.write(`bench: ${p.backend}: ${p.detail} (${p.done}/${p.total}, ${elapsed})\n`);
      return;
    }
    const filled = p.total === 0 ? WIDTH : Math.round((p.done / p.total) * WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
    this.#out.write(`\r\x1b[2K${p.backend} ${bar} ${p.done}/${p.total} ${p.detail} · ${elapsed}`);
    this.#drawn = true;
  }

  /** A log line above the bar, which is drawn again below it. */
  log(line: string): void {
    if (!this.#drawn) {
      this.#out.write(`${line}\n`);
      return;
    }
    this.#out.write(`\r\x1b[2K${line}\n`);
    if (this.#last !== undefined) this.update(this.#last);
  }

  done(): void {
    if (this.#drawn) this.#out.write('\r\x1b[2K');
    this.#drawn = false;
    this.#closed = true;
  }
}
