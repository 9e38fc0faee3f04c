/** jsonSyntaxProblem (jsonc-parser held to strict JSON) agrees with JSON.parse on what is valid, and says where the rest goes wrong. */
import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem } from '../../src/settings/json-syntax.js';

describe('jsonSyntaxProblem', () => {
  it.each([
    '{}',
    ' [] ',
    '{"a": [1, -2.5e3, 0, true, false, null, "x\\n\\u00e9\\"\\\\\\/"], "b": {"c": {}}}',
    JSON.stringify({ backend: 'fast', backends: { fast: { backend: 'lmstudio', context: 65536 } } }, null, 2),
    '"just a string"',
    '\t\r\n42\n',
  ])('finds nothing wrong in %j', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(jsonSyntaxProblem(text)).toBeUndefined();
  });

  it.each([
    ['{"a": "b', { line: 1, column: 7, problem: 'this string is not closed on its line (a string cannot hold a line break; write \\n)' }],
    ['{"a": "b\nc"}', { line: 1, column: 7, problem: 'this string is not closed on its line (a string cannot hold a line break; write \\n)' }],
    ['{"a": "\\x"}', { line: 1, column: 7, problem: 'a backslash in this string escapes nothing JSON knows (write \\\\ for a backslash)' }],
    ['{"a": "\\u12"}', { line: 1, column: 7, problem: '\\u must be followed by four hex digits' }],
    ['{"a": 01}', { line: 1, column: 8, problem: 'expected a comma, found "1"' }],
    ['{"a": -}', { line: 1, column: 7, problem: 'expected a value, found "-" (strings need double quotes; true, false and null are lower case)' }],
    ['{"a" 1}', { line: 1, column: 6, problem: 'expected ":" after the key, found "1"' }],
    ['[1,\n 2,\n]', { line: 3, column: 1, problem: 'a comma before "]" (JSON allows no trailing comma)' }],
    ['{"a": 1,\n}', { line: 2, column: 1, problem: 'a comma before "}" (JSON allows no trailing comma)' }],
    ['[1 2]', { line: 1, column: 4, problem: 'expected a comma, found "2"' }],
    ['{"a": tru}', { line: 1, column: 7, problem: 'expected a value, found "tru" (strings need double quotes; true, false and null are lower case)' }],
    ["{'a': 1}", { line: 1, column: 2, problem: 'strings and keys need double quotes ("), found "\'a\'"' }],
    ['{} // note', { line: 1, column: 4, problem: 'JSON allows no comments' }],
    ['{"a":\n', { line: 2, column: 1, problem: 'expected a value, found the end of the file' }],
  ])('%j: %j', (text, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonSyntaxProblem(text)).toEqual(expected);
  });
});
