/**
 * Prompt token counts for context checks, `count_tokens` and message_start.
 *
 * Local models each have their own tokenizer, so any count is an estimate, calibrated per model
 * by the `prompt_tokens` the backend reports. Two estimators share that calibration:
 *  - characters / (characters per token): free, used while a prompt is far from the context limit;
 *  - js-tiktoken (p50k_base): used where precision decides something — near the limit (the
 *    "prompt is too long" answer) and for `count_tokens`. Its rank table costs ~50 MB and 0.2 s,
 *    so it loads only when first needed. Counts are memoised per prompt segment (tools block,
 *    each message): within a session only new messages cost anything.
 */
import { Tiktoken } from 'js-tiktoken/lite';

type Encoder = Pick<Tiktoken, 'encode'>;

let encoder: Encoder | undefined;
let loading: Promise<Encoder> | undefined;

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
/** Before any calibration: JSON-heavy prompts run ~3.5–4 characters per token; 3 errs towards "too long". */
const DEFAULT_CHARS_PER_TOKEN = 3;
/** Below this share of the window, a character estimate cannot change any decision. */
const EXACT_FROM_SHARE = 0.5;

export interface PromptEstimate {
  /** Calibrated estimate of what the backend will count. */
  tokens: number;
  /** Raw tiktoken count when the exact estimator ran, else undefined. */
  raw: number | undefined;
  chars: number;
}

export class TokenCounter {
  readonly #memo = new Map<string, number>();
  /** backend tokens / tiktoken tokens, per model, smoothed. */
  readonly #ratio = new Map<string, number>();
  /** characters / backend tokens, per model, smoothed. */
  readonly #charsPerToken = new Map<string, number>();

  /** Exact where it matters (near `contextWindow`), cheap elsewhere. */
  async estimate(model: string, segments: readonly string[], contextWindow: number | undefined): Promise<PromptEstimate> {
    const chars = segments.reduce((n, s) => n + s.length, 0);
    const quick = Math.ceil(chars / (this.#charsPerToken.get(model) ?? DEFAULT_CHARS_PER_TOKEN));
    if (contextWindow === undefined || quick < contextWindow * EXACT_FROM_SHARE) return { tokens: quick, raw: undefined, chars };
    return this.exact(model, segments);
  }

  /** Always the tiktoken estimator (loads it on first use). */
  async exact(model: string, segments: readonly string[]): Promise<PromptEstimate> {
    const enc = encoder ?? (await loadEncoder());
    let raw = 0;
    for (const segment of segments) raw += this.#countSegment(enc, segment);
    const chars = segments.reduce((n, s) => n + s.length, 0);
    return { tokens: Math.ceil(raw * (this.#ratio.get(model) ?? 1)), raw, chars };
  }

  /** Feed back what the backend counted for a prompt we estimated. */
  calibrate(model: string, estimate: PromptEstimate, reported: number): void {
    if (reported <= 0 || estimate.chars < 256) return; // tiny prompts are dominated by template overhead
    smooth(this.#charsPerToken, model, estimate.chars / reported, 1, 10);
    if (estimate.raw !== undefined && estimate.raw >= 64) smooth(this.#ratio, model, reported / estimate.raw, MIN_RATIO, MAX_RATIO);
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

function smooth(map: Map<string, number>, model: string, observed: number, min: number, max: number): void {
  if (!Number.isFinite(observed) || observed < min || observed > max) return;
  const previous = map.get(model);
  map.set(model, previous === undefined ? observed : previous * 0.7 + observed * 0.3);
}
