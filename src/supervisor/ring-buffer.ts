/**
 * The last N log lines of a server, kept in memory so an error can quote them and a dashboard can
 * show them without reading the log file. Fixed memory however long the server runs.
 */

/** Lines kept when no capacity is given: enough to see a Python traceback and what led to it. */
export const DEFAULT_RING_CAPACITY = 500;

export class RingBuffer {
  readonly capacity: number;
  readonly #slots: string[] = [];
  /** Index of the oldest line once the buffer has wrapped. */
  #head = 0;

  constructor(capacity = DEFAULT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#slots.length;
  }

  push(line: string): void {
    if (this.#slots.length < this.capacity) {
      this.#slots.push(line);
      return;
    }
    this.#slots[this.#head] = line;
    this.#head = (this.#head + 1) % this.capacity;
  }

  /** All kept lines, oldest first. */
  lines(): string[] {
    return [...this.#slots.slice(this.#head), ...this.#slots.slice(0, this.#head)];
  }

  /** The newest `n` lines, oldest first. */
  tail(n: number): string[] {
    if (n <= 0) return [];
    return this.lines().slice(-n);
  }

  clear(): void {
    this.#slots.length = 0;
    this.#head = 0;
  }
}
