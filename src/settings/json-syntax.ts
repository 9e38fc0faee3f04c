/**
 * Where a JSON text first goes wrong, as a line and column a person can find in an editor.
 * JSON.parse says where only in some Node versions and in words that change between them, so a
 * small scanner of the JSON grammar finds the spot itself; the wording is ours and stable.
 */

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors show for the ASCII that config files hold). */
  column: number;
  problem: string;
}

class Stop {
  constructor(
    readonly at: number,
    readonly problem: string,
  ) {}
}

/** undefined when `text` is valid JSON. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  try {
    scan(text);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.at);
    const line = before.split('\n').length;
    const column = error.at - (before.lastIndexOf('\n') + 1) + 1;
    return { line, column, problem: error.problem };
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

function scan(text: string): void {
  let i = 0;
  const here = (): string | undefined => text[i];
  const found = (): string => {
    const c = here();
    if (c === undefined) return 'the end of the file';
    if (c === '\n' || c === '\r') return 'a line break';
    return JSON.stringify(c);
  };
  const fail = (problem: string): never => {
    throw new Stop(i, problem);
  };
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };

  const string = (): void => {
    i++;
    for (;;) {
      const c = here();
      if (c === undefined) fail('the file ends inside a string');
      if (c === '"') {
        i++;
        return;
      }
      if ((c as string).charCodeAt(0) < 0x20) fail('a string cannot hold a line break or control character (write \\n)');
      if (c === '\\') {
        i++;
        const escaped = here();
        if (escaped === 'u') {
          HEX4.lastIndex = i + 1;
          if (!HEX4.test(text)) fail('\\u must be followed by four hex digits');
          i += 5;
          continue;
        }
        if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) fail(`${found()} cannot follow a backslash in a string`);
      }
      i++;
    }
  };

  const value = (): void => {
    space();
    const c = here();
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail('not a number as JSON writes them');
      i = NUMBER.lastIndex;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (c === "'") fail('strings need double quotes (")');
    fail(c === undefined ? 'the file ends where a value should be' : `expected a value, found ${found()}`);
  };

  const object = (): void => {
    i++;
    space();
    if (here() === '}') {
      i++;
      return;
    }
    for (;;) {
      space();
      if (here() === '}') fail('a comma before "}" (JSON allows no trailing comma)');
      if (here() !== '"') fail(`expected a key in double quotes, found ${found()}`);
      string();
      space();
      if (here() !== ':') fail(`expected ":" after the key, found ${found()}`);
      i++;
      value();
      space();
      if (here() === ',') {
        i++;
        continue;
      }
      if (here() === '}') {
        i++;
        return;
      }
      fail(`expected "," or "}", found ${found()}`);
    }
  };

  const array = (): void => {
    i++;
    space();
    if (here() === ']') {
      i++;
      return;
    }
    for (;;) {
      space();
      if (here() === ']') fail('a comma before "]" (JSON allows no trailing comma)');
      value();
      space();
      if (here() === ',') {
        i++;
        continue;
      }
      if (here() === ']') {
        i++;
        return;
      }
      fail(`expected "," or "]", found ${found()}`);
    }
  };

  value();
  space();
  if (i < text.length) fail(`expected the end of the file after the JSON, found ${found()}`);
}
