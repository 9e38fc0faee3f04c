/**
 * One line of fixed-width cells: how the tables (backends, requests) line up and stay one
 * line each. A cell without a width takes the rest of the line and is cut with "…".
 *
 * Every text here is cut to its box by Ink (wrap="truncate-end"), so nothing can pass a line's
 * width, and a line clips only vertically (a stray newline stays on its line). Ink's horizontal
 * clipping re-slices every line of every text inside the clipped box on every frame (slice-ansi),
 * which made a frame several times slower: a row of cells clips sideways only when its fixed
 * cells are wider than the row (a narrow terminal), since those are not shrunk.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { Tone } from './theme.js';

export interface Cell {
  text: string;
  /** Characters; omitted: the rest of the line. */
  width?: number;
  align?: 'left' | 'right';
  tone?: Tone;
  bold?: boolean;
  /** Drawn instead of `text` (a spinner before a word); `text` still sizes nothing then. */
  content?: ReactNode;
}

export function Cells({ cells, width }: { cells: readonly Cell[]; width: number }): ReactNode {
  let fixed = Math.max(0, cells.length - 1);
  for (const cell of cells) fixed += cell.width ?? 0;
  return (
    <Box width={width} height={1} flexDirection="row" overflowY="hidden" overflowX={fixed > width ? 'hidden' : 'visible'}>
      {cells.map((cell, i) => {
        const last = i === cells.length - 1;
        const text = cell.width !== undefined && cell.align === 'right' ? cell.text.padStart(cell.width) : cell.text;
        return (
          <Box key={i} width={cell.width} flexShrink={cell.width === undefined ? 1 : 0} flexGrow={cell.width === undefined ? 1 : 0} marginRight={last ? 0 : 1}>
            <Text wrap="truncate-end" bold={cell.bold} {...cell.tone}>
              {cell.content ?? text}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}

/** A single truncated line: the building block of every panel that is not a table. */
export function Line({ children, width, tone, bold }: { children: ReactNode; width: number; tone?: Tone; bold?: boolean }): ReactNode {
  return (
    <Box width={width} height={1} overflowY="hidden">
      <Text wrap="truncate-end" bold={bold} {...tone}>
        {children}
      </Text>
    </Box>
  );
}

/** A panel's title: a word in the title colour and, dimmed, what it currently shows. */
export function Title({ text, note, width }: { text: string; note?: string; width: number }): ReactNode {
  return (
    <Line width={width}>
      <Text bold color="blue">
        {text}
      </Text>
      {note ? <Text dimColor>{'  ' + note}</Text> : null}
    </Line>
  );
}
