/**
 * Where a request's prompt tokens go: system prompt, each tool schema, each message.
 *
 * Counted with the proxy's own TokenCounter (tiktoken p50k_base), calibrated the way the proxy
 * calibrates it: by the prompt_tokens the backend reported for this very request, against the
 * raw count of the whole prompt. So the parts add up to what the backend counted, and a part's
 * share is its share of that. Without a usable report the counts are raw estimates, and say so.
 */
import { TokenCounter } from '../proxy/token-counter.js';
import type { Trace } from './trace-file.js';
import { promptParts, type PartKind, type PromptParts } from './prompt-parts.js';
import { reportedPromptTokens } from './reported-usage.js';

export interface PartTokens {
  kind: PartKind;
  name: string;
  index?: number;
  preview?: string;
  /** tiktoken count before calibration. */
  rawTokens: number;
  /** Calibrated (or raw) tokens, rounded so that all parts sum to the total. */
  tokens: number;
  /** 0..1 of the total. */
  share: number;
}

export interface GroupTokens {
  count: number;
  tokens: number;
  share: number;
}

export type Calibration =
  | { kind: 'calibrated'; reportedTokens: number; rawTokens: number; ratio: number }
  | { kind: 'raw'; rawTokens: number; reason: string };

export interface Breakdown {
  id: string;
  backend: string;
  model: string | undefined;
  startedAt: number;
  protocol: PromptParts['protocol'];
  source: PromptParts['source'];
  calibration: Calibration;
  cachedTokens: number | undefined;
  total: number;
  system: GroupTokens;
  tools: GroupTokens;
  messages: GroupTokens & { byRole: Array<GroupTokens & { role: string }> };
  /** Every part, in prompt order. */
  parts: PartTokens[];
  /** Tools, most expensive first. */
  toolsByCost: PartTokens[];
}

export async function analyzeTrace(trace: Trace, options: { counter?: TokenCounter } = {}): Promise<Breakdown> {
  const prompt = promptParts(trace);
  // A counter of its own: calibration learnt from this trace must not leak into another's analysis.
  const counter = options.counter ?? new TokenCounter();
  const model = trace.metrics?.model ?? trace.backend;
  const raws: number[] = [];
  for (const part of prompt.parts) raws.push((await counter.exact(model, [part.text])).raw ?? 0);
  const whole = await counter.exact(model, prompt.parts.map((p) => p.text));
  const rawTotal = whole.raw ?? 0;
  // A request the backend never got has no count of its own to calibrate by.
  const reported = prompt.source === 'upstream' ? reportedPromptTokens(trace, prompt.protocol) : undefined;
  const calibration = calibrate(counter, model, whole, rawTotal, reported);
  const ratio = calibration.kind === 'calibrated' ? calibration.ratio : 1;
  const tokens = roundToTotal(raws.map((r) => r * ratio));
  const total = tokens.reduce((n, t) => n + t, 0);
  const share = (n: number): number => (total === 0 ? 0 : n / total);
  const parts: PartTokens[] = prompt.parts.map((part, i) => ({
    kind: part.kind,
    name: part.name,
    ...(part.index === undefined ? {} : { index: part.index }),
    ...(part.preview === undefined ? {} : { preview: part.preview }),
    rawTokens: raws[i]!,
    tokens: tokens[i]!,
    share: share(tokens[i]!),
  }));
  const group = (list: PartTokens[]): GroupTokens => {
    const sum = list.reduce((n, p) => n + p.tokens, 0);
    return { count: list.length, tokens: sum, share: share(sum) };
  };
  const messages = parts.filter((p) => p.kind === 'message');
  const roles = [...new Set(messages.map((m) => m.name))];
  return {
    id: trace.id,
    backend: trace.backend,
    model: trace.metrics?.model,
    startedAt: trace.startedAt,
    protocol: prompt.protocol,
    source: prompt.source,
    calibration,
    cachedTokens: trace.metrics?.cachedTokens ?? undefined,
    total,
    system: group(parts.filter((p) => p.kind === 'system')),
    tools: group(parts.filter((p) => p.kind === 'tool')),
    messages: { ...group(messages), byRole: roles.map((role) => ({ role, ...group(messages.filter((m) => m.name === role)) })) },
    parts,
    toolsByCost: parts.filter((p) => p.kind === 'tool').sort((a, b) => b.tokens - a.tokens || a.name.localeCompare(b.name)),
  };
}

/** The proxy's calibration rules decide: a report they would reject leaves the counts raw. */
function calibrate(
  counter: TokenCounter,
  model: string,
  whole: Awaited<ReturnType<TokenCounter['exact']>>,
  rawTokens: number,
  reported: number | undefined,
): Calibration {
  if (reported === undefined || reported <= 0) {
    return { kind: 'raw', rawTokens, reason: 'the backend reported no prompt token count for this request' };
  }
  counter.calibrate(model, whole, reported);
  const ratio = counter.ratio(model);
  if (ratio === undefined) {
    return { kind: 'raw', rawTokens, reason: `the backend's count (${reported}) is too far from the estimate (${rawTokens}), or the prompt too small, to calibrate by` };
  }
  return { kind: 'calibrated', reportedTokens: reported, rawTokens, ratio };
}

/** Largest-remainder rounding: each part rounded, and the rounded parts still sum to the rounded total. */
export function roundToTotal(values: readonly number[]): number[] {
  const target = Math.round(values.reduce((n, v) => n + v, 0));
  const floors = values.map((v) => Math.floor(v));
  let left = target - floors.reduce((n, v) => n + v, 0);
  const order = values.map((v, i) => ({ i, rest: v - Math.floor(v) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]! += 1;
    left -= 1;
  }
  return floors;
}
