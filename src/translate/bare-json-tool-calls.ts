/**
 * Recovery of tool calls that a model answered with as bare JSON in its text, with no wrapper:
 *
 *   {"name": "get_weather", "arguments": {"city": "Paris"}}          (Qwen2.5 / Hermes style)
 *   {"name": "get_weather", "parameters": {"city": "Paris"}}         (Llama 3 style)
 *   ```json\n{"name": …}\n{"name": …}\n```                          (fenced, several calls)
 *   [{"name": …}, {"name": …}]                                       (an array of calls)
 *
 * Such a reply counts as calls only when it is NOTHING BUT calls of known tools: surrounding
 * whitespace and one ``` or ```json fence around them are allowed, any other text is not. A model
 * answering with JSON the user asked for must still get its text through, and as early as possible,
 * so the text is held only while every character so far still fits the shape of a call; the first
 * one that does not releases everything held as text. Only the end of the reply can confirm calls.
 */
import { asRecord, tryParseJson } from '../core/json-value.js';

export interface BareCall {
  name: string;
  input: Record<string, unknown>;
}

/** While holding, nothing may be emitted; once released, `text` is everything held, verbatim. */
export type BareStep = { holding: true } | { holding: false; text: string };

/** At the end: the calls, or the held text (which then was not a bare call). */
export type BareEnd = { calls: BareCall[] } | { text: string };

/**
 * Past this many held characters the text is given back. The early checks below reject prose and
 * foreign JSON within the first few dozen characters, so what is still held this far in is the
 * start of a known tool's call, typically a Write with a whole file in it: the cap must fit that.
 * Claude Code's default output limit of 32k tokens is about 128k characters; twice that is kept.
 */
export const MAX_HELD_CHARS = 256 * 1024;

/**
 * The same call this many times in a row is a loop, not a plan: small models decoding greedily
 * repeat a call after its result (Qwen2.5-Coder-0.5B does, line after line, to the output limit).
 * Two could still be a model's odd but finite answer; three is where the reply is cut short.
 */
export const LOOP_REPEATS = 3;

const CALL_KEYS = new Set(['name', 'arguments', 'parameters', 'type']);
const JSON_WHITESPACE = new Set([' ', '\t', '\n', '\r']);
/** Characters of numbers, true, false and null; their validity is left to JSON.parse at the end. */
const SCALAR_CHAR = /[-+.0-9A-Za-z]/;
const FENCE_LANGUAGE_CHAR = /[A-Za-z]/;

type Phase =
  | 'lead' // only whitespace so far
  | 'fence' // inside the opening ```
  | 'language' // the fence's language tag
  | 'between' // before, between or after top-level values
  | 'value' // inside a top-level JSON value
  | 'closing' // inside the closing ```
  | 'after'; // after the closing fence

interface Frame {
  type: 'object' | 'array';
  /** An object that must be a call (top level, or element of a top-level array). */
  call: boolean;
  /** A top-level array: its elements must be call objects. */
  ofCalls: boolean;
  expect: 'key' | 'colon' | 'value' | 'comma';
  count: number;
  key: string | undefined;
  keys: Set<string>;
}

type ValueStart = '{' | '[' | '"' | 'scalar';

export class BareJsonToolCalls {
  private readonly toolNames: ReadonlySet<string>;
  private held = '';
  private pos = 0;
  private phase: Phase = 'lead';
  private released = false;
  private fenced = false;
  private ticks = 0;
  private language = '';
  private afterComma = false;
  /** [start, end) of each complete top-level value in `held`. */
  private readonly segments: Array<[number, number]> = [];
  private segmentStart = 0;
  private readonly stack: Frame[] = [];
  private inString = false;
  private escaped = false;
  private stringStart = 0;
  private inScalar = false;
  /** The last complete top-level value as a call (canonical JSON), and how many times in a row it came. */
  private lastCall: string | undefined;
  private repeats = 0;

  constructor(toolNames: ReadonlySet<string>) {
    this.toolNames = toolNames;
  }

  /** The reply repeats one call LOOP_REPEATS times in a row: end it, the rest would be more of the same. */
  get looping(): boolean {
    return !this.released && this.repeats >= LOOP_REPEATS;
  }

  /** True while nothing but whitespace was held: the reply has not really begun. */
  get blank(): boolean {
    return !this.released && this.phase === 'lead';
  }

  push(piece: string): BareStep {
    if (this.released) return { holding: false, text: piece };
    this.held += piece;
    for (; this.pos < this.held.length; this.pos++) {
      if (!this.step(this.held.charAt(this.pos), this.pos)) return this.release();
    }
    return this.held.length > MAX_HELD_CHARS ? this.release() : { holding: true };
  }

  /** Hands back whitespace held before the reply began, staying ready for the reply proper. */
  takeBlank(): string {
    if (!this.blank) return '';
    const text = this.held;
    this.held = '';
    this.pos = 0;
    return text;
  }

  /** The end of the reply: complete calls (an unclosed fence is forgiven, as a missing </tool_call> is), or text. */
  end(): BareEnd {
    const text = this.held;
    // A loop is cut off wherever it was: its complete copies are the reply, the unfinished one is dropped.
    const complete = this.looping || (this.phase === 'between' && this.segments.length > 0 && !this.afterComma) || this.phase === 'after';
    const calls = complete && !this.released ? this.parseSegments() : null;
    this.released = true;
    this.held = '';
    return calls ? { calls } : { text };
  }

  private release(): BareStep {
    this.released = true;
    const text = this.held;
    this.held = '';
    return { holding: false, text };
  }

  /** Consumes one character; false when the reply can no longer be nothing but calls. */
  private step(c: string, at: number): boolean {
    switch (this.phase) {
      case 'lead':
        if (c === '`') return this.enter('fence', 1);
        return JSON_WHITESPACE.has(c) || this.startTopValue(c, at);
      case 'fence':
        return this.tick(c, 'language');
      case 'language':
        return this.stepLanguage(c, at);
      case 'between':
        return this.stepBetween(c, at);
      case 'value':
        return this.stepValue(c, at);
      case 'closing':
        return this.tick(c, 'after');
      case 'after':
        return JSON_WHITESPACE.has(c);
    }
  }

  private enter(phase: Phase, ticks: number): true {
    this.phase = phase;
    this.ticks = ticks;
    return true;
  }

  /** One more backtick of a fence; the third completes it. */
  private tick(c: string, done: Phase): boolean {
    if (c !== '`') return false;
    this.ticks += 1;
    if (this.ticks === 3) this.phase = done;
    return true;
  }

  /** Only ```json (any case) or a bare ``` fence holds JSON; ```python and the like hold code. */
  private stepLanguage(c: string, at: number): boolean {
    if (FENCE_LANGUAGE_CHAR.test(c)) {
      this.language += c.toLowerCase();
      return 'json'.startsWith(this.language);
    }
    if (this.language !== '' && this.language !== 'json') return false;
    this.fenced = true;
    this.phase = 'between';
    return JSON_WHITESPACE.has(c) || this.startTopValue(c, at);
  }

  private stepBetween(c: string, at: number): boolean {
    if (JSON_WHITESPACE.has(c)) return true;
    const afterValue = this.segments.length > 0 && !this.afterComma;
    if (c === ',' && afterValue) {
      // Some models separate consecutive calls with a comma, as if listing them.
      this.afterComma = true;
      return true;
    }
    if (c === '`' && afterValue && this.fenced) return this.enter('closing', 1);
    return this.startTopValue(c, at);
  }

  private startTopValue(c: string, at: number): boolean {
    if (c !== '{' && c !== '[') return false;
    this.phase = 'value';
    this.afterComma = false;
    this.segmentStart = at;
    this.stack.push(newFrame(c, c === '{', c === '['));
    return true;
  }

  private stepValue(c: string, at: number): boolean {
    if (this.inString) return this.stepString(c, at);
    if (this.inScalar) {
      if (SCALAR_CHAR.test(c)) return true;
      this.inScalar = false;
      this.endValue(at);
    }
    if (JSON_WHITESPACE.has(c)) return true;
    const frame = this.stack.at(-1);
    if (!frame) return false;
    return this.stepStructure(c, at, frame);
  }

  /** A JSON grammar step outside strings, tracking nesting so the end of each value is known. */
  private stepStructure(c: string, at: number, frame: Frame): boolean {
    switch (c) {
      case '"':
        if (frame.expect !== 'key' && !this.valueMayStart(frame, '"')) return false;
        this.inString = true;
        this.stringStart = at;
        return true;
      case '{':
      case '[':
        if (!this.valueMayStart(frame, c)) return false;
        this.stack.push(newFrame(c, c === '{' && frame.ofCalls, false));
        return true;
      case '}':
      case ']':
        return this.close(c, at, frame);
      case ':':
        return frame.expect === 'colon' && this.expect(frame, 'value');
      case ',':
        return frame.expect === 'comma' && this.expect(frame, frame.type === 'object' ? 'key' : 'value');
      default:
        if (!SCALAR_CHAR.test(c) || !this.valueMayStart(frame, 'scalar')) return false;
        this.inScalar = true;
        return true;
    }
  }

  private expect(frame: Frame, next: Frame['expect']): true {
    frame.expect = next;
    return true;
  }

  private close(c: '}' | ']', at: number, frame: Frame): boolean {
    const type = c === '}' ? 'object' : 'array';
    const empty = frame.count === 0 && frame.expect === (type === 'object' ? 'key' : 'value');
    if (frame.type !== type || !(frame.expect === 'comma' || empty)) return false;
    if ((frame.call && !frame.keys.has('name')) || (frame.ofCalls && frame.count === 0)) return false;
    this.stack.pop();
    this.endValue(at + 1);
    return true;
  }

  /**
   * What may start where a value is expected. Inside a call object the keys decide: a name or a
   * type is a string, arguments an object or a JSON-encoded string. The elements of a top-level
   * array must be call objects. Deeper down anything goes.
   */
  private valueMayStart(frame: Frame, start: ValueStart): boolean {
    if (frame.expect !== 'value') return false;
    if (frame.ofCalls) return start === '{';
    if (!frame.call) return true;
    if (frame.key === 'name' || frame.key === 'type') return start === '"';
    return start === '{' || start === '"';
  }

  private stepString(c: string, at: number): boolean {
    if (this.escaped) {
      this.escaped = false;
      return true;
    }
    if (c === '\\') this.escaped = true;
    if (c !== '"') return true;
    this.inString = false;
    const frame = this.stack.at(-1);
    if (!frame) return false;
    if (frame.expect === 'key') return this.endKey(frame, at);
    if (frame.call && !this.callStringValueFits(frame.key, at)) return false;
    this.endValue(at + 1);
    return true;
  }

  /** A call object has only the keys of a call, each once, and not both argument spellings. */
  private endKey(frame: Frame, at: number): boolean {
    frame.expect = 'colon';
    if (!frame.call) return true;
    const key = decodeString(this.held.slice(this.stringStart, at + 1));
    if (key === undefined || !CALL_KEYS.has(key) || frame.keys.has(key)) return false;
    if ((key === 'arguments' && frame.keys.has('parameters')) || (key === 'parameters' && frame.keys.has('arguments'))) {
      return false;
    }
    frame.keys.add(key);
    frame.key = key;
    return true;
  }

  /** The earliest sure sign of foreign JSON: a "name" that is no tool of this request. */
  private callStringValueFits(key: string | undefined, at: number): boolean {
    if (key !== 'name' && key !== 'type') return true;
    const value = decodeString(this.held.slice(this.stringStart, at + 1));
    return key === 'name' ? value !== undefined && this.toolNames.has(value) : value === 'function';
  }

  /** A value ended just before `end`: its container now expects a comma, or a top-level value is done. */
  private endValue(end: number): void {
    const parent = this.stack.at(-1);
    if (parent) {
      parent.expect = 'comma';
      parent.count += 1;
      return;
    }
    this.segments.push([this.segmentStart, end]);
    this.phase = 'between';
    this.countRepeats(this.held.slice(this.segmentStart, end));
  }

  private countRepeats(segment: string): void {
    const call = toCall(tryParseJson(segment), this.toolNames);
    const key = call === null ? undefined : JSON.stringify(call);
    this.repeats = key !== undefined && key === this.lastCall ? this.repeats + 1 : 1;
    this.lastCall = key;
  }

  /** The final word: JSON.parse of each top-level value, every one a call of a known tool. */
  private parseSegments(): BareCall[] | null {
    const collapse = this.repeats >= LOOP_REPEATS;
    const calls: BareCall[] = [];
    for (const [start, end] of this.segments) {
      const value = tryParseJson(this.held.slice(start, end));
      const objects = Array.isArray(value) ? (value as unknown[]) : [value];
      for (const object of objects) {
        const call = toCall(object, this.toolNames);
        if (!call) return null;
        // In a loop, the copies are said once: running the same call again answers nothing new.
        const previous = calls.at(-1);
        if (collapse && previous !== undefined && JSON.stringify(previous) === JSON.stringify(call)) continue;
        calls.push(call);
      }
    }
    return calls.length > 0 ? calls : null;
  }
}

function newFrame(open: '{' | '[', call: boolean, ofCalls: boolean): Frame {
  const type = open === '{' ? 'object' : 'array';
  return { type, call, ofCalls, expect: type === 'object' ? 'key' : 'value', count: 0, key: undefined, keys: new Set() };
}

function toCall(value: unknown, toolNames: ReadonlySet<string>): BareCall | null {
  const record = asRecord(value);
  if (!record || !Object.keys(record).every((key) => CALL_KEYS.has(key))) return null;
  const { name, type } = record;
  if (typeof name !== 'string' || !toolNames.has(name)) return null;
  if (type !== undefined && type !== 'function') return null;
  // Kept in step with the early checks: both spellings at once, or null arguments, are no call.
  if ('arguments' in record && 'parameters' in record) return null;
  let args: unknown = 'arguments' in record ? record['arguments'] : 'parameters' in record ? record['parameters'] : {};
  // The OpenAI wire format carries arguments as a JSON string, empty for none.
  if (typeof args === 'string') args = args.trim() === '' ? {} : tryParseJson(args);
  const input = asRecord(args);
  return input ? { name, input } : null;
}

function decodeString(literal: string): string | undefined {
  const value = tryParseJson(literal);
  return typeof value === 'string' ? value : undefined;
}
