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
/**
 * Above this many characters per token of window, no tokenizer fits the text (p50k_base averages
 * 3–5 on prose and code, 16 on its longest whitespace tokens): the prompt is refused without
 * tiktoken, which takes ~0.8 s per MB of prose (10 MB: 8 s, measured).
 */
const FAR_CHARS_PER_TOKEN = 32;
/** A segment this long is counted by characters even where exact is asked: no local window holds it, and tiktoken would block the proxy for seconds. */
const EXACT_SEGMENT_LIMIT = 1024 * 1024;
/**
 * js-tiktoken's byte-pair merge is superlinear in the length of one pre-split piece (p50k_base
 * splits text into runs of letters, of digits, of other symbols, of whitespace): 16 KiB of one
 * letter took 25 s, 4 KiB 1.4 s. A run this long is counted from its first RUN_SAMPLE characters,
 * scaled. Prompts never hold one (JSON and base64 split into short pieces and stay exact).
 */
const RUN = '\\p{L}{256,}|\\p{N}{256,}|[^\\s\\p{L}\\p{N}]{256,}|\\s{256,}';
const LONG_RUN = new RegExp(RUN, 'gu');
const LONG_RUN_TEST = new RegExp(RUN, 'u');
const RUN_SAMPLE = 64;
/** Text is encoded this many characters at a time, so the time budget is checked often. */
const CHUNK = 8 * 1024;
/** The most one `exact` call spends in tiktoken (a 1 MB prompt is ~0.8 s of it); the rest is extrapolated. */
const EXACT_BUDGET_MS = 500;

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
    if (chars > contextWindow * FAR_CHARS_PER_TOKEN) return { tokens: quick, raw: undefined, chars };
    return this.exact(model, segments);
  }

  /** Always the tiktoken estimator (loads it on first use). */
  async exact(model: string, segments: readonly string[]): Promise<PromptEstimate> {
    const enc = encoder ?? (await loadEncoder());
    let raw = 0;
    const deadline = performance.now() + EXACT_BUDGET_MS;
    for (const segment of segments) raw += this.#countSegment(enc, segment, deadline);
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

  #countSegment(enc: Encoder, segment: string, deadline: number): number {
    const hit = this.#memo.get(segment);
    if (hit !== undefined) {
      // Refresh recency so the system prompt and tools never age out.
      this.#memo.delete(segment);
      this.#memo.set(segment, hit);
      return hit;
    }
    const count = segment.length > EXACT_SEGMENT_LIMIT ? Math.ceil(segment.length / DEFAULT_CHARS_PER_TOKEN) : encodedLength(enc, segment, deadline);
    if (segment.length > 256) {
      this.#memo.set(segment, count);
      if (this.#memo.size > MEMO_LIMIT) this.#memo.delete(this.#memo.keys().next().value as string);
    }
    return count;
  }
}

/**
 * tiktoken's count within a time budget: long runs of one character class are counted from a
 * sample (see LONG_RUN), the rest in chunks cut at whitespace; once `deadline` passes, what is
 * left is counted at the rate measured so far.
 */
function encodedLength(enc: Encoder, text: string, deadline: number): number {
  if (text.length <= CHUNK && !LONG_RUN_TEST.test(text)) return enc.encode(text).length;
  let tokens = 0;
  let counted = 0;
  for (const piece of pieces(text)) {
    if (performance.now() > deadline) {
      const rate = counted === 0 ? 1 / DEFAULT_CHARS_PER_TOKEN : tokens / counted;
      return Math.ceil(tokens + (text.length - counted) * rate);
    }
    if (piece.long) {
      const sample = piece.text.slice(0, RUN_SAMPLE);
      tokens += Math.ceil((enc.encode(sample).length * piece.text.length) / sample.length);
    } else tokens += enc.encode(piece.text).length;
    counted += piece.text.length;
  }
  return tokens;
}

function* pieces(text: string): Generator<{ text: string; long: boolean }> {
  let from = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    yield* chunks(text.slice(from, run.index));
    yield { text: run[0], long: true };
    from = run.index + run[0].length;
  }
  yield* chunks(text.slice(from));
}

/**
 * Pieces of at most CHUNK characters, cut where the last whitespace run begins: tiktoken's
 * pre-split never joins across that point, so the counts add up to the whole text's.
 */
function* chunks(text: string): Generator<{ text: string; long: boolean }> {
  let from = 0;
  while (from < text.length) {
    let to = Math.min(text.length, from + CHUNK);
    if (to < text.length) {
      const space = text.slice(from, to).search(/\s+\S*$/);
      if (space > 0) to = from + space;
    }
    yield { text: text.slice(from, to), long: false };
    from = to;
  }
}

function smooth(map: Map<string, number>, model: string, observed: number, min: number, max: number): void {
  if (!Number.isFinite(observed) || observed < min || observed > max) return;
  const previous = map.get(model);
  map.set(model, previous === undefined ? observed : previous * 0.7 + observed * 0.3);
}
