/**
 * Found by fuzzing (test/fuzz/openai-stream.fuzz.test.ts): a Hermes tool call written as text whose
 * JSON arguments contain "</tool_call>" (a model editing code about tool calls) was cut at that
 * string, failed to parse and reached the user as text instead of running.
 */
import { describe, expect, it } from 'vitest';
import type { ToolDefinition } from '../../src/anthropic/types.js';
import { TextToolCallParser, type TextToolItem } from '../../src/translate/text-tool-calls.js';

const tools: ToolDefinition[] = [{ name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }];

function parse(pieces: readonly string[]): TextToolItem[] {
  const parser = new TextToolCallParser(tools);
  const items = [...pieces.flatMap((p) => parser.push(p)), ...parser.end()];
  // Adjacent text items are one text to the reader.
  return items.reduce<TextToolItem[]>((out, item) => {
    const last = out.at(-1);
    if (item.kind === 'text' && last?.kind === 'text') last.text += item.text;
    else out.push({ ...item });
    return out;
  }, []);
}

describe('"</tool_call>" inside a Hermes call\'s JSON (found by fuzzing)', () => {
  const call = `<tool_call>\n${JSON.stringify({ name: 'Bash', arguments: { command: 'grep -n "</tool_call>" src/*.ts' } })}\n</tool_call>`;

  it('is part of the arguments, not the end of the call', () => {
    expect(parse(['Searching.\n', call])).toEqual([
      { kind: 'text', text: 'Searching.\n' },
      { kind: 'tool', name: 'Bash', input: { command: 'grep -n "</tool_call>" src/*.ts' } },
    ]);
  });

  it('however the text is cut', () => {
    for (let cut = 1; cut < call.length; cut++) {
      expect(parse([call.slice(0, cut), call.slice(cut)]), `cut at ${cut}`).toEqual([
        { kind: 'tool', name: 'Bash', input: { command: 'grep -n "</tool_call>" src/*.ts' } },
      ]);
    }
  });

  it('escaped quotes do not end the string early', () => {
    const tricky = `<tool_call>{"name": "Bash", "arguments": {"command": "echo \\"</tool_call>\\" \\\\"}}</tool_call> after`;
    expect(parse([tricky])).toEqual([
      { kind: 'tool', name: 'Bash', input: { command: 'echo "</tool_call>" \\' } },
      { kind: 'text', text: ' after' },
    ]);
  });

  it('a JSON string never closed leaves the whole thing as text', () => {
    const broken = '<tool_call>{"name": "Bash", "arguments": {"command": "echo </tool_call> more';
    expect(parse([broken])).toEqual([{ kind: 'text', text: broken }]);
  });
});
