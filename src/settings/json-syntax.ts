/**
 * Where a JSON text first goes wrong, as a line and column a person can find in an editor.
 * JSON.parse says where only in some Node versions and in words that change between them; VS Code's
 * own parser (jsonc-parser), held to strict JSON, finds the spot, and the wording here is ours and stable.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors show for the ASCII that config files hold). */
  column: number;
  problem: string;
}

/** Strict JSON: what JSON.parse accepts, nothing more. */
const STRICT = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false } as const;

/** undefined when `text` is valid JSON. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  const errors: ParseError[] = [];
  parse(text, errors, STRICT);
  const first = errors[0];
  if (first === undefined) return undefined;
  const before = text.slice(0, first.offset);
  return {
    line: before.split('\n').length,
    column: first.offset - (before.lastIndexOf('\n') + 1) + 1,
    problem: describe(printParseErrorCode(first.error), text.slice(first.offset, first.offset + first.length)),
  };
}

/** The parser's error codes, said the way a person fixing a config file needs them. */
/** `code` is the parser's name for the error (its const enum cannot be read at run time under verbatimModuleSyntax). */
function describe(code: string, token: string): string {
  const found = token === '' ? 'the end of the file' : JSON.stringify(token.length > 20 ? `${token.slice(0, 20)}…` : token);
  switch (code) {
    case 'UnexpectedEndOfString':
      return 'this string is not closed on its line (a string cannot hold a line break; write \\n)';
    case 'InvalidEscapeCharacter':
      return 'a backslash in this string escapes nothing JSON knows (write \\\\ for a backslash)';
    case 'InvalidUnicode':
      return '\\u must be followed by four hex digits';
    case 'InvalidCharacter':
      return 'a string cannot hold a control character';
    case 'ColonExpected':
      return `expected ":" after the key, found ${found}`;
    case 'CommaExpected':
      return `expected a comma, found ${found}`;
    case 'CloseBraceExpected':
      return `expected "}" to close the object, found ${found}`;
    case 'CloseBracketExpected':
      return `expected "]" to close the list, found ${found}`;
    case 'PropertyNameExpected':
      return token === '}' ? `a comma before ${found} (JSON allows no trailing comma)` : `expected a key in double quotes, found ${found}`;
    case 'ValueExpected':
      return token === '}' || token === ']' ? `a comma before ${found} (JSON allows no trailing comma)` : `expected a value, found ${found}`;
    case 'InvalidCommentToken':
      return 'JSON allows no comments';
    case 'EndOfFileExpected':
      return `the file goes on after its value: ${found}`;
    case 'InvalidNumberFormat':
      return `not a number as JSON writes them: ${found}`;
    default:
      // InvalidSymbol: a bare word, single quotes, a stray character.
      return token.startsWith("'") ? `strings and keys need double quotes ("), found ${found}` : `expected a value, found ${found} (strings need double quotes; true, false and null are lower case)`;
  }
}
