import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ToolDefinition } from '../../src/anthropic/types.js';
import { TextToolCallParser, type TextToolItem } from '../../src/translate/text-tool-calls.js';
import { mergeText, parsePieces, splits } from '../support/text-pieces.js';

const tools: ToolDefinition[] = [
  {
    name: 'Bash',
    input_schema: {
      type: 'object',
      properties: { command: { type: 'string' }, timeout: { type: 'integer' }, run_in_background: { type: 'boolean' } },
    },
  },
  {
    name: 'Read',
    input_schema: { type: 'object', properties: { file_path: { type: 'string' }, limit: { type: 'number' } } },
  },
];

const parse = (pieces: readonly string[]): TextToolItem[] => parsePieces(tools, pieces);
const merge = mergeText;

function expectAllSplits(text: string, expected: TextToolItem[]): void {
  for (const pieces of splits(text)) expect(parse(pieces), JSON.stringify(pieces)).toEqual(expected);
}

const qwenCall =
  '<tool_call>\n<function=Bash>\n<parameter=command>\nls -la\n</parameter>\n<parameter=timeout>\n5000\n</parameter>\n</function>\n</tool_call>';
const hermesCall = '<tool_call>\n{"name": "Read", "arguments": {"file_path": "/a.ts", "limit": 20}}\n</tool_call>';

describe('TextToolCallParser: plain text', () => {
  it('passes text through at once when no tag could be starting', () => {
    const parser = new TextToolCallParser(tools);
    expect(parser.push('Hello, world. 1 < 2 and a<b.')).toEqual([{ kind: 'text', text: 'Hello, world. 1 < 2 and a<b.' }]);
    expect(parser.end()).toEqual([]);
  });

  it('holds back only a suffix that could still start a tag', () => {
    const parser = new TextToolCallParser(tools);
    expect(parser.push('Let me look <tool')).toEqual([{ kind: 'text', text: 'Let me look ' }]);
    expect(parser.push('box> here')).toEqual([{ kind: 'text', text: '<toolbox> here' }]);
    expect(parser.push(' <')).toEqual([{ kind: 'text', text: ' ' }]);
    expect(parser.push('func')).toEqual([]);
    expect(parser.push('tional')).toEqual([{ kind: 'text', text: '<functional' }]);
    expect(parser.end()).toEqual([]);
  });

  it('flushes a held suffix as text at the end', () => {
    const parser = new TextToolCallParser(tools);
    expect(parser.push('a <tool_ca')).toEqual([{ kind: 'text', text: 'a ' }]);
    expect(parser.end()).toEqual([{ kind: 'text', text: '<tool_ca' }]);
  });
});

describe('TextToolCallParser: Qwen3-Coder XML', () => {
  const expected: TextToolItem = { kind: 'tool', name: 'Bash', input: { command: 'ls -la', timeout: 5000 } };

  it('recovers a wrapped call at every split point, with text before and after', () => {
    expectAllSplits(`I'll list the files.\n\n${qwenCall}\nDone.`, [
      { kind: 'text', text: "I'll list the files.\n\n" },
      expected,
      { kind: 'text', text: '\nDone.' },
    ]);
  });

  it('recovers an unwrapped call at every split point and swallows its stray </tool_call>', () => {
    const call = '<function=Bash>\n<parameter=command>\nls -la\n</parameter>\n<parameter=timeout>\n5000\n</parameter>\n</function>';
    expectAllSplits(`Checking.\n${call}\n</tool_call>`, [{ kind: 'text', text: 'Checking.\n' }, expected, { kind: 'text', text: '\n' }]);
    expectAllSplits(`${call}\nAfter.`, [expected, { kind: 'text', text: '\nAfter.' }]);
  });

  it('keeps a </tool_call> that follows real text after an unwrapped call', () => {
    const call = '<function=Read>\n<parameter=file_path>\n/x\n</parameter>\n</function>';
    expect(parse([`${call} see </tool_call>`])).toEqual([
      { kind: 'tool', name: 'Read', input: { file_path: '/x' } },
      { kind: 'text', text: ' see </tool_call>' },
    ]);
  });

  it('keeps multi-line values with markup exactly and coerces by schema', () => {
    const value = 'if (a < b) {\n  echo "<tag>"\n}\n';
    const text = `<tool_call>\n<function=Bash>\n<parameter=command>\n${value}\n</parameter>\n<parameter=run_in_background>\nfalse\n</parameter>\n</function>\n</tool_call>`;
    expect(parse([text])).toEqual([
      { kind: 'tool', name: 'Bash', input: { command: value, run_in_background: false } },
    ]);
  });

  it('recovers two calls in a row', () => {
    const second = '<tool_call>\n<function=Read>\n<parameter=file_path>\n/b\n</parameter>\n</function>\n</tool_call>';
    expectAllSplits(`${qwenCall}\n${second}`, [
      expected,
      { kind: 'text', text: '\n' },
      { kind: 'tool', name: 'Read', input: { file_path: '/b' } },
    ]);
  });

  it('recovers several functions inside one wrapper', () => {
    const text =
      '<tool_call>\n<function=Read>\n<parameter=file_path>\n/a\n</parameter>\n</function>\n<function=Read>\n<parameter=file_path>\n/b\n</parameter>\n</function>\n</tool_call>';
    expect(parse([text])).toEqual([
      { kind: 'tool', name: 'Read', input: { file_path: '/a' } },
      { kind: 'tool', name: 'Read', input: { file_path: '/b' } },
    ]);
  });

  it('tolerates a missing </parameter>', () => {
    const text = '<tool_call>\n<function=Bash>\n<parameter=command>\npwd\n<parameter=timeout>\n10\n</function>\n</tool_call>';
    expect(parse([text])).toEqual([{ kind: 'tool', name: 'Bash', input: { command: 'pwd', timeout: 10 } }]);
  });

  it('accepts a call with no parameters', () => {
    expect(parse(['<tool_call>\n<function=Bash>\n</function>\n</tool_call>'])).toEqual([
      { kind: 'tool', name: 'Bash', input: {} },
    ]);
  });

  it('keeps an unknown function as text, and releases it as soon as the name is known', () => {
    const parser = new TextToolCallParser(tools);
    const early = parser.push('<tool_call>\n<function=Delete>\n<parameter=x>\n');
    expect(merge(early)).toEqual([{ kind: 'text', text: '<tool_call>\n<function=Delete>\n<parameter=x>\n' }]);
    const text = '<tool_call>\n<function=Delete>\n<parameter=path>\n/\n</parameter>\n</function>\n</tool_call>';
    expectAllSplits(`a ${text} b`, [{ kind: 'text', text: `a ${text} b` }]);
  });

  it('gives <tool_call> followed by prose back as text without waiting for the end', () => {
    const parser = new TextToolCallParser(tools);
    expect(merge(parser.push('Use the <tool_call> tag'))).toEqual([{ kind: 'text', text: 'Use the <tool_call> tag' }]);
  });

  it('flushes an unfinished call back as text, never losing it', () => {
    const unfinished = '<tool_call>\n<function=Bash>\n<parameter=command>\nrm -rf bu';
    expectAllSplits(`x ${unfinished}`, [{ kind: 'text', text: `x ${unfinished}` }]);
    const unwrapped = '<function=Bash>\n<parameter=command>\nls\n</parameter>\n';
    expectAllSplits(unwrapped, [{ kind: 'text', text: unwrapped }]);
  });

  it('accepts a wrapped call that misses only its </tool_call> at the end', () => {
    const text = '<tool_call>\n<function=Read>\n<parameter=file_path>\n/a\n</parameter>\n</function>\n';
    expect(parse([text])).toEqual([{ kind: 'tool', name: 'Read', input: { file_path: '/a' } }]);
  });
});

describe('TextToolCallParser: Hermes JSON', () => {
  const expected: TextToolItem = { kind: 'tool', name: 'Read', input: { file_path: '/a.ts', limit: 20 } };

  it('recovers a call at every split point, with text before and after', () => {
    expectAllSplits(`Reading it.\n${hermesCall}\nThen more.`, [
      { kind: 'text', text: 'Reading it.\n' },
      expected,
      { kind: 'text', text: '\nThen more.' },
    ]);
  });

  it('accepts arguments given as a JSON string or under "parameters"', () => {
    expect(parse(['<tool_call>{"name":"Read","arguments":"{\\"file_path\\":\\"/x\\"}"}</tool_call>'])).toEqual([
      { kind: 'tool', name: 'Read', input: { file_path: '/x' } },
    ]);
    expect(parse(['<tool_call>{"name":"Read","parameters":{"file_path":"/y"}}</tool_call>'])).toEqual([
      { kind: 'tool', name: 'Read', input: { file_path: '/y' } },
    ]);
    expect(parse(['<tool_call>{"name":"Bash"}</tool_call>'])).toEqual([{ kind: 'tool', name: 'Bash', input: {} }]);
  });

  it('keeps an unknown tool, invalid JSON or non-object arguments as text', () => {
    for (const text of [
      '<tool_call>\n{"name": "Nope", "arguments": {}}\n</tool_call>',
      '<tool_call>\n{"name": "Read", "arguments": {"file_path": }\n</tool_call>',
      '<tool_call>\n{"name": "Read", "arguments": [1]}\n</tool_call>',
      '<tool_call>\n{"arguments": {}}\n</tool_call>',
    ]) {
      expectAllSplits(`a${text}b`, [{ kind: 'text', text: `a${text}b` }]);
    }
  });

  it('flushes an unfinished call back as text', () => {
    const text = 'Now <tool_call>\n{"name": "Read", "arguments": {"file_pa';
    expectAllSplits(text, [{ kind: 'text', text }]);
  });

  it('accepts a complete JSON call missing only its </tool_call> at the end', () => {
    expect(parse(['<tool_call>\n{"name": "Read", "arguments": {"file_path": "/z"}}\n'])).toEqual([
      { kind: 'tool', name: 'Read', input: { file_path: '/z' } },
    ]);
  });
});

describe('TextToolCallParser: property', () => {
  it('never loses or reorders text: without a recognised call, the output text equals the input', () => {
    const alphabet = fc.constantFrom('<', '>', '/', 'tool_call', 'function=', 'Nope', '\n', 'x', ' ', '{', '}', '<tool_call>', '<function=');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const text = parts.join('');
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...points, text.length].slice(1).map((end, i, ends) => text.slice(i === 0 ? 0 : ends[i - 1], end));
        const items = parse(pieces);
        expect(items.every((item) => item.kind === 'text')).toBe(true);
        expect(items.map((item) => (item.kind === 'text' ? item.text : '')).join('')).toBe(text);
      }),
    );
  });

  it('gives the same items for any split of a text holding calls', () => {
    const segment = fc.constantFrom(qwenCall, hermesCall, 'plain ', '\n', '<tool', 'a < b ', '<function=Nope>x</function>');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (parts, cuts) => {
        const text = parts.join('');
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...points, text.length];
        const pieces = bounds.slice(1).map((end, i) => text.slice(bounds[i], end));
        expect(parse(pieces)).toEqual(parse([text]));
      }),
    );
  });
});
