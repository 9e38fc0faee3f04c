/**
 * One row of the mirror as bytes that draw it again, for a row erased to default colours with
 * the cursor at its first column. Rows are drawn one by one, each on its own line, because the
 * serialize addon's multi-row output leans on exact autowrap behaviour (it forces soft wraps with
 * filler characters it then erases) that terminals such as tmux do not reproduce, and only
 * serializes single rows of the main screen.
 */
import type { IBufferCell, IBufferLine } from '@xterm/headless';

/** Draw `line` (undefined: an empty row); ends with default colours. `cell` is scratch space. */
export function serializeRow(line: IBufferLine | undefined, cols: number, cell: IBufferCell): string {
  if (line === undefined) return '';
  const end = drawnLength(line, cols, cell);
  let out = '';
  let style = '';
  const setStyle = (next: string): void => {
    if (next === style) return;
    out += `\x1b[${next === '' ? '0' : `0;${next}`}m`;
    style = next;
  };
  // Empty cells (never written, or erased) stay empty rather than becoming spaces: erased with
  // their background (ECH, which does not move the cursor), then stepped over.
  let empty = 0;
  let emptyBackground = '';
  const flushEmpty = (atEnd: boolean): void => {
    if (empty === 0) return;
    if (emptyBackground !== '') {
      setStyle(emptyBackground);
      out += `\x1b[${empty}X`;
    }
    if (!atEnd) out += `\x1b[${empty}C`;
    empty = 0;
  };

  for (let x = 0; x < end; x++) {
    if (line.getCell(x, cell) === undefined) break;
    const width = cell.getWidth();
    if (width === 0) continue; // the second half of a wide character
    if (cell.getChars() === '') {
      const background = backgroundSgr(cell);
      if (empty > 0 && background !== emptyBackground) flushEmpty(false);
      emptyBackground = background;
      empty += Math.max(1, width);
      continue;
    }
    flushEmpty(false);
    setStyle(sgr(cell));
    out += cell.getChars();
  }
  flushEmpty(true);
  return style === '' ? out : `${out}\x1b[0m`;
}

/** Columns up to the last one that shows anything on a row erased to default colours. */
function drawnLength(line: IBufferLine, cols: number, cell: IBufferCell): number {
  for (let x = Math.min(cols, line.length) - 1; x >= 0; x--) {
    if (line.getCell(x, cell) === undefined) continue;
    // A wide character's placeholder (empty, default background) does not count; the character does.
    if (cell.getChars() !== '' || !cell.isBgDefault()) return x + 1;
  }
  return 0;
}

/** Only the background part of a cell's style: all that shows of an empty cell. */
function backgroundSgr(cell: IBufferCell): string {
  if (cell.isBgRGB()) return `48;2;${rgb(cell.getBgColor())}`;
  if (cell.isBgPalette()) return palette(cell.getBgColor(), 40, 100, 48);
  return '';
}

/** The SGR parameters of a cell's style, without the leading reset; '' for the default style. */
function sgr(cell: IBufferCell): string {
  const parts: (number | string)[] = [];
  if (cell.isBold()) parts.push(1);
  if (cell.isDim()) parts.push(2);
  if (cell.isItalic()) parts.push(3);
  if (cell.isUnderline()) parts.push(4);
  if (cell.isBlink()) parts.push(5);
  if (cell.isInverse()) parts.push(7);
  if (cell.isInvisible()) parts.push(8);
  if (cell.isStrikethrough()) parts.push(9);
  if (cell.isOverline()) parts.push(53);
  if (cell.isFgRGB()) parts.push(`38;2;${rgb(cell.getFgColor())}`);
  else if (cell.isFgPalette()) parts.push(palette(cell.getFgColor(), 30, 90, 38));
  const background = backgroundSgr(cell);
  if (background !== '') parts.push(background);
  return parts.join(';');
}

function palette(index: number, base: number, bright: number, extended: number): string {
  if (index < 8) return String(base + index);
  if (index < 16) return String(bright + index - 8);
  return `${extended};5;${index}`;
}

function rgb(color: number): string {
  return `${(color >>> 16) & 0xff};${(color >>> 8) & 0xff};${color & 0xff}`;
}
