/**
 * Prompt token counts for context checks, `count_tokens` and message_start.
 *
 * Local models each have their own tokenizer, so a tiktoken count is only a shape: it is
 * calibrated per model by the `prompt_tokens` the backend reports. Counting 80 KB takes
 * ~60 ms, so counts are memoised per prompt segment (the tools block, each message):
 * within a session only the new messages cost anything.
 */
import { Tiktoken } from 'js-tiktoken/lite';

type Encoder = Pick<Tiktoken, 'encode'>;

let encoder: Encoder | undefined;
let loading: Promise<Encoder> | undefined;

/** p50k_base: half the memory and load time of cl100k, and calibration absorbs the difference. */
export function loadEncoder(): Promise<Encoder> {
  loading ??= import('js-tiktoken/ranks/p50k_base').then((ranks) => {
    encoder = new Tiktoken(ranks.default);
    return encoder;
  });
  return loading;
}

const MEMO_LIMIT = 4096;
/** Ratio bounds: a backend report outside them is a bug, not a tokenizer difference. */
const MIN_RATIO = 0.3;
const MAX_RATIO = 3;

export class TokenCounter {
  readonly #memo = new Map<string, number>();
  /** backend tokens / tiktoken tokens, per model, smoothed. */
  readonly #ratio = new Map<string, number>();

  /** Raw tiktoken count of the segments; the encoder must be loaded (see `ready`). */
  countRaw(segments: readonly string[]): number {
    if (encoder === undefined) throw new Error('token encoder not loaded: await TokenCounter.ready() first');
    let total = 0;
    for (const segment of segments) total += this.#countSegment(encoder, segment);
    return total;
  }

  async ready(): Promise<void> {
    await loadEncoder();
  }

  /** What the backend will likely count for a prompt whose raw count is `raw`. */
  calibrated(model: string, raw: number): number {
    return Math.ceil(raw * (this.#ratio.get(model) ?? 1));
  }

  /** Feed back what the backend counted for a prompt whose raw count was `raw`. */
  calibrate(model: string, raw: number, reported: number): void {
    if (raw < 64 || reported <= 0) return; // tiny prompts are dominated by template overhead
    const observed = reported / raw;
    if (observed < MIN_RATIO || observed > MAX_RATIO) return;
    const previous = this.#ratio.get(model);
    this.#ratio.set(model, previous === undefined ? observed : previous * 0.7 + observed * 0.3);
  }

  ratio(model: string): number | undefined {
    return this.#ratio.get(model);
  }

  #countSegment(enc: Encoder, segment: string): number {
    const hit = this.#memo.get(segment);
    if (hit !== undefined) {
      // Refresh recency so the system prompt and tools never age out.
      this.#memo.delete(segment);
      this.#memo.set(segment, hit);
      return hit;
    }
    const count = enc.encode(segment).length;
    if (segment.length > 256) {
      this.#memo.set(segment, count);
      if (this.#memo.size > MEMO_LIMIT) this.#memo.delete(this.#memo.keys().next().value as string);
    }
    return count;
  }
}
