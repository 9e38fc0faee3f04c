/** Running text through an incremental tool-call parser in pieces, as a stream delivers it. */
import type { ToolDefinition } from '../../src/anthropic/types.js';
import { TextToolCallParser, type TextToolItem } from '../../src/translate/text-tool-calls.js';

/** Runs pieces through a parser and merges adjacent text items, so results compare regardless of splitting. */
export function parsePieces(tools: readonly ToolDefinition[], pieces: readonly string[]): TextToolItem[] {
  const parser = new TextToolCallParser(tools);
  return mergeText([...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()]);
}

export function mergeText(items: readonly TextToolItem[]): TextToolItem[] {
  const out: TextToolItem[] = [];
  for (const item of items) {
    const last = out.at(-1);
    if (item.kind === 'text' && last?.kind === 'text') last.text += item.text;
    else out.push({ ...item });
  }
  return out;
}

/** One character at a time, plus every way of cutting the text in two. */
export function splits(text: string): string[][] {
  const result: string[][] = [[...text]];
  for (let i = 0; i <= text.length; i++) result.push([text.slice(0, i), text.slice(i)]);
  return result;
}
