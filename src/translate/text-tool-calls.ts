/**
 * Incremental recovery of tool calls that a model wrote as plain text, for backends that have no
 * tool parser for its format (or did not apply it). Two formats are known:
 *
 *   Qwen3-Coder XML   <tool_call>\n<function=NAME>\n<parameter=KEY>\nVALUE\n</parameter>\n</function>\n</tool_call>
 *                     (also seen without the <tool_call> wrapper)
 *   Hermes JSON       <tool_call>\n{"name": "NAME", "arguments": {...}}\n</tool_call>
 *
 * Text streams through as early as possible; only a suffix that could still begin a tag is held.
 * A call that does not parse, names an unknown tool, or is unfinished at the end comes back as text.
 *
 * A reply that is nothing but bare JSON calls (bare-json-tool-calls.ts) is recognised first: until
 * that gate gives the text back, none of it reaches the tag scanning here.
 */

import type { ToolDefinition } from '../anthropic/types.js';
import { BareJsonToolCalls } from './bare-json-tool-calls.js';
import { coerceArguments } from './coerce-arguments.js';
import { asRecord, tryParseJson } from '../core/json-value.js';

export type TextToolItem =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; name: string; input: Record<string, unknown> };

interface ParsedCall {
  name: string;
  input: Record<string, unknown>;
}

const WRAPPER_OPEN = '<tool_call>';
const WRAPPER_CLOSE = '</tool_call>';
const FUNCTION_OPEN = '<function=';
const FUNCTION_CLOSE = '</function>';
const PARAMETER_OPEN = '<parameter=';
const PARAMETER_CLOSE = '</parameter>';
const OPENERS = [WRAPPER_OPEN, FUNCTION_OPEN] as const;
/** A function name longer than this without its closing '>' is not a tool call. */
const MAX_NAME_LENGTH = 200;

type Verdict = 'ok' | 'bad' | 'pending';

export class TextToolCallParser {
  private readonly schemas: Map<string, Record<string, unknown>>;
  /** Text not yet emitted while scanning plain text: always a possible start of a tag. */
  private held = '';
  /** The call being collected, from its opening tag on; null while in plain text. */
  private call: { opener: string; text: string; scanFrom: number; verdict: Verdict } | null = null;
  /** After an unwrapped <function=…>…</function>, a stray </tool_call> belongs to the call. */
  private swallowWrapperClose = false;
  /** Holds the reply while it may still be nothing but bare JSON calls; null once it cannot. */
  private bare: BareJsonToolCalls | null;

  constructor(tools: readonly ToolDefinition[]) {
    this.schemas = new Map(tools.map((tool) => [tool.name, tool.input_schema]));
    this.bare = new BareJsonToolCalls(new Set(this.schemas.keys()));
  }

  /** The reply has become one call repeated (see LOOP_REPEATS): the caller may stop reading it. */
  get looping(): boolean {
    return this.bare?.looping === true;
  }

  push(piece: string): TextToolItem[] {
    const items: TextToolItem[] = [];
    let pending = piece;
    if (this.bare) {
      const step = this.bare.push(piece);
      if (step.holding) return items;
      this.bare = null;
      pending = step.text;
    }
    this.scan(pending, items);
    return items;
  }

  /** End of stream: whatever is held or unfinished becomes text, unless it is a complete call. */
  end(): TextToolItem[] {
    const items: TextToolItem[] = [];
    this.endBare(items);
    if (this.call) {
      const { opener, text } = this.call;
      // A wrapped call missing only its </tool_call> is complete; anything else may be truncated.
      const calls = opener === WRAPPER_OPEN ? this.parseBody(text.slice(opener.length)) : null;
      if (calls) items.push(...calls.map(toItem));
      else emitText(items, text);
      this.call = null;
    }
    emitText(items, this.held);
    this.held = '';
    this.swallowWrapperClose = false;
    return items;
  }

  private scan(text: string, items: TextToolItem[]): void {
    let pending = text;
    while (pending !== '') {
      pending = this.call ? this.pushCall(pending, items) : this.pushText(pending, items);
    }
  }

  /**
   * The bare-JSON verdict at an end. end() also comes between parts of a reply (before reasoning
   * or a native call), so a gate that has seen only whitespace stays armed: the reply may follow.
   */
  private endBare(items: TextToolItem[]): void {
    if (!this.bare) return;
    if (this.bare.blank) {
      emitText(items, this.bare.takeBlank());
      return;
    }
    const result = this.bare.end();
    this.bare = null;
    if ('calls' in result) items.push(...result.calls.map(toItem));
    else this.scan(result.text, items);
  }

  /** Scans plain text; returns what is left to process after entering a call, or ''. */
  private pushText(piece: string, items: TextToolItem[]): string {
    const text = this.held + piece;
    this.held = '';
    const markers = this.swallowWrapperClose ? [...OPENERS, WRAPPER_CLOSE] : OPENERS;
    const found = earliest(text, markers);
    if (!found) {
      const keep = longestTagPrefixSuffix(text, markers);
      const emitted = text.slice(0, text.length - keep);
      if (emitted.trim() !== '') this.swallowWrapperClose = false;
      emitText(items, emitted);
      this.held = text.slice(text.length - keep);
      return '';
    }
    const before = text.slice(0, found.index);
    const rest = text.slice(found.index + found.marker.length);
    this.swallowWrapperClose = false;
    if (found.marker === WRAPPER_CLOSE) {
      // Stray only if nothing but whitespace came between the call and it.
      emitText(items, before.trim() === '' ? before : before + found.marker);
      return rest;
    }
    emitText(items, before);
    this.call = { opener: found.marker, text: found.marker, scanFrom: found.marker.length, verdict: 'pending' };
    return rest;
  }

  /** Collects a call's text; returns the text after the call once it closed or was rejected. */
  private pushCall(piece: string, items: TextToolItem[]): string {
    const call = this.call;
    if (!call) return piece;
    call.text += piece;
    if (call.verdict === 'pending') call.verdict = this.judgeHead(call.opener, call.text.slice(call.opener.length));
    if (call.verdict === 'bad') {
      // Not a call after all: the opener is text, and what follows is scanned again.
      this.call = null;
      emitText(items, call.opener);
      return call.text.slice(call.opener.length);
    }
    const closer = call.opener === WRAPPER_OPEN ? WRAPPER_CLOSE : FUNCTION_CLOSE;
    let at = call.text.indexOf(closer, call.scanFrom);
    // "</tool_call>" inside a Hermes call's JSON string is an argument (code about tool calls), not the end.
    while (at !== -1 && call.opener === WRAPPER_OPEN && insideJsonString(call.text, WRAPPER_OPEN.length, at)) {
      at = call.text.indexOf(closer, at + 1);
    }
    if (at === -1) {
      // Next time, only look where a closer could newly complete.
      call.scanFrom = Math.max(call.opener.length, call.text.length - closer.length + 1);
      return '';
    }
    const end = at + closer.length;
    this.call = null;
    const raw = call.text.slice(0, end);
    const calls =
      call.opener === WRAPPER_OPEN ? this.parseBody(raw.slice(WRAPPER_OPEN.length, at)) : this.parseBody(raw);
    if (calls) {
      items.push(...calls.map(toItem));
      this.swallowWrapperClose = call.opener === FUNCTION_OPEN;
    } else {
      emitText(items, raw);
    }
    return call.text.slice(end);
  }

  /** Decides early whether a call's beginning can still be a call, so ordinary text is not held long. */
  private judgeHead(opener: string, body: string): Verdict {
    if (opener === FUNCTION_OPEN) return this.judgeFunctionName(body);
    const head = body.trimStart();
    if (head === '') return 'pending';
    if (head.startsWith('{')) return 'ok';
    if (head.startsWith(FUNCTION_OPEN)) return this.judgeFunctionName(head.slice(FUNCTION_OPEN.length));
    return FUNCTION_OPEN.startsWith(head) ? 'pending' : 'bad';
  }

  private judgeFunctionName(afterOpener: string): Verdict {
    const close = afterOpener.search(/[>\n]/);
    if (close === -1) return afterOpener.length > MAX_NAME_LENGTH ? 'bad' : 'pending';
    if (afterOpener[close] !== '>') return 'bad';
    return this.schemas.has(afterOpener.slice(0, close)) ? 'ok' : 'bad';
  }

  /** Parses what sits inside a call: one Hermes JSON object, or one or more XML functions. */
  private parseBody(body: string): ParsedCall[] | null {
    const trimmed = body.trim();
    if (trimmed.startsWith('{')) {
      const call = this.parseHermes(trimmed);
      return call ? [call] : null;
    }
    return this.parseFunctions(trimmed);
  }

  private parseHermes(json: string): ParsedCall | null {
    const parsed = tryParseJson(json);
    const record = asRecord(parsed);
    const name = record?.['name'];
    if (typeof name !== 'string' || !this.schemas.has(name)) return null;
    // Some models write "parameters", or the arguments as a JSON string as in the OpenAI wire format.
    let args: unknown = record?.['arguments'] ?? record?.['parameters'] ?? {};
    if (typeof args === 'string') args = tryParseJson(args);
    const input = asRecord(args);
    return input ? { name, input } : null;
  }

  private parseFunctions(text: string): ParsedCall[] | null {
    const calls: ParsedCall[] = [];
    let rest = text;
    while (rest !== '') {
      if (!rest.startsWith(FUNCTION_OPEN)) return null;
      const nameEnd = rest.indexOf('>');
      const end = rest.indexOf(FUNCTION_CLOSE);
      if (nameEnd === -1 || end === -1 || end < nameEnd) return null;
      const name = rest.slice(FUNCTION_OPEN.length, nameEnd);
      const schema = this.schemas.get(name);
      if (!schema) return null;
      calls.push({ name, input: coerceArguments(parseParameters(rest.slice(nameEnd + 1, end)), schema) });
      rest = rest.slice(end + FUNCTION_CLOSE.length).trimStart();
    }
    return calls.length > 0 ? calls : null;
  }
}

/** Raw string values of `<parameter=KEY>VALUE</parameter>` elements; a missing close ends at the next parameter. */
function parseParameters(body: string): Record<string, string> {
  const input: Record<string, string> = {};
  let at = body.indexOf(PARAMETER_OPEN);
  while (at !== -1) {
    const keyEnd = body.indexOf('>', at);
    if (keyEnd === -1) break;
    const key = body.slice(at + PARAMETER_OPEN.length, keyEnd).trim();
    const close = body.indexOf(PARAMETER_CLOSE, keyEnd);
    const next = body.indexOf(PARAMETER_OPEN, keyEnd);
    const valueEnd = close !== -1 ? close : next !== -1 ? next : body.length;
    input[key] = body.slice(keyEnd + 1, valueEnd);
    at = body.indexOf(PARAMETER_OPEN, close !== -1 ? close + PARAMETER_CLOSE.length : valueEnd);
  }
  return input;
}

/**
 * Whether `index` falls inside a string literal of the JSON object that starts `text` at `from`
 * (after whitespace). False when what starts there is no JSON object.
 */
function insideJsonString(text: string, from: number, index: number): boolean {
  let i = from;
  while (i < index && /\s/.test(text.charAt(i))) i++;
  if (text.charAt(i) !== '{') return false;
  let inString = false;
  for (; i < index; i++) {
    const c = text.charAt(i);
    if (!inString) inString = c === '"';
    else if (c === '\\') i++;
    else if (c === '"') inString = false;
  }
  return inString;
}

function earliest(text: string, markers: readonly string[]): { index: number; marker: string } | null {
  let best: { index: number; marker: string } | null = null;
  for (const marker of markers) {
    const index = text.indexOf(marker);
    if (index !== -1 && (!best || index < best.index)) best = { index, marker };
  }
  return best;
}

/** Length of the longest suffix of text that is a proper prefix of a marker: the part to hold back. */
function longestTagPrefixSuffix(text: string, markers: readonly string[]): number {
  const start = text.lastIndexOf('<');
  if (start === -1) return 0;
  // Only the last '<' matters: no marker contains '<' after its first character.
  const suffix = text.slice(start);
  return markers.some((marker) => marker.length > suffix.length && marker.startsWith(suffix)) ? suffix.length : 0;
}

function emitText(items: TextToolItem[], text: string): void {
  if (text === '') return;
  const last = items.at(-1);
  if (last?.kind === 'text') last.text += text;
  else items.push({ kind: 'text', text });
}

function toItem(call: ParsedCall): TextToolItem {
  return { kind: 'tool', name: call.name, input: call.input };
}
