import { describe, expect, it } from 'vitest';
import { coerceArguments, coerceValue, stripXmlNewlines } from '../../src/translate/coerce-arguments.js';

const schema = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    limit: { type: 'integer' },
    ratio: { type: 'number' },
    force: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    options: { type: 'object' },
    maybe: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    either: { oneOf: [{ type: 'string' }, { type: 'number' }] },
    multi: { type: ['boolean', 'string'] },
    mode: { enum: ['fast', 'slow'] },
    level: { enum: [1, 2, 3] },
  },
};

describe('coerceArguments', () => {
  it('converts each XML string to the type its schema asks for', () => {
    const input = {
      path: '\n/tmp/a.txt\n',
      limit: '\n10\n',
      ratio: '\n0.5\n',
      force: '\ntrue\n',
      tags: '\n["a", "b"]\n',
      options: '\n{"deep": {"x": 1}}\n',
    };
    expect(coerceArguments(input, schema)).toEqual({
      path: '/tmp/a.txt',
      limit: 10,
      ratio: 0.5,
      force: true,
      tags: ['a', 'b'],
      options: { deep: { x: 1 } },
    });
  });

  it('keeps strings exactly, stripping only the one newline on each side that the format adds', () => {
    expect(coerceArguments({ path: '\n\n  indented\n\n' }, schema)).toEqual({ path: '\n  indented\n' });
    expect(coerceArguments({ path: 'no newlines' }, schema)).toEqual({ path: 'no newlines' });
    expect(coerceArguments({ path: '  spaced  ' }, schema)).toEqual({ path: '  spaced  ' });
    expect(coerceArguments({ path: '\r\nwindows\r\n' }, schema)).toEqual({ path: '\r\nwindows\r' });
  });

  it('never turns a string-typed value into a number, boolean or null', () => {
    expect(coerceArguments({ path: '\n42\n' }, schema)).toEqual({ path: '42' });
    expect(coerceArguments({ path: 'true' }, schema)).toEqual({ path: 'true' });
    expect(coerceArguments({ path: 'null' }, schema)).toEqual({ path: 'null' });
  });

  it('leaves unparseable values as (newline-trimmed) strings', () => {
    expect(coerceArguments({ limit: '\nten\n', force: 'yes', tags: '[1,', options: '[1]' }, schema)).toEqual({
      limit: 'ten',
      force: 'yes',
      tags: '[1,',
      options: '[1]',
    });
  });

  it('rejects what Number() accepts but JSON does not', () => {
    for (const bad of ['', ' ', '0x10', 'Infinity', '1e', '+5', '.5', '1_000', 'NaN']) {
      expect(coerceValue(bad, { type: 'number' })).toBe(stripXmlNewlines(bad));
    }
    expect(coerceValue('-1.5e3', { type: 'number' })).toBe(-1500);
  });

  it('accepts an integer only when it is whole and safe', () => {
    expect(coerceValue('3.5', { type: 'integer' })).toBe('3.5');
    expect(coerceValue('3.0', { type: 'integer' })).toBe(3);
    expect(coerceValue('-7', { type: 'integer' })).toBe(-7);
    expect(coerceValue('99999999999999999999', { type: 'integer' })).toBe('99999999999999999999');
  });

  it('accepts Python-style booleans', () => {
    expect(coerceValue('True', { type: 'boolean' })).toBe(true);
    expect(coerceValue('\nFALSE\n', { type: 'boolean' })).toBe(false);
  });

  it('follows anyOf, oneOf and type arrays', () => {
    expect(coerceArguments({ maybe: 'null' }, schema)).toEqual({ maybe: null });
    expect(coerceArguments({ maybe: '\n5\n' }, schema)).toEqual({ maybe: 5 });
    expect(coerceArguments({ maybe: 'five' }, schema)).toEqual({ maybe: 'five' });
    expect(coerceArguments({ either: '2.5' }, schema)).toEqual({ either: 2.5 });
    expect(coerceArguments({ either: '\nabc\n' }, schema)).toEqual({ either: 'abc' });
    expect(coerceArguments({ multi: 'false' }, schema)).toEqual({ multi: false });
    expect(coerceArguments({ multi: 'maybe' }, schema)).toEqual({ multi: 'maybe' });
  });

  it('infers the type from enum values', () => {
    expect(coerceArguments({ mode: '\nfast\n', level: '\n2\n' }, schema)).toEqual({ mode: 'fast', level: 2 });
  });

  it('treats a null type as the literal null only', () => {
    expect(coerceValue('null', { type: 'null' })).toBeNull();
    expect(coerceValue('None', { type: 'null' })).toBe('None');
  });

  it('keeps properties the schema does not know as strings, and non-strings unchanged', () => {
    expect(coerceArguments({ unknown: '\n5\n', already: 5, list: [1] }, schema)).toEqual({
      unknown: '5',
      already: 5,
      list: [1],
    });
  });

  it('tolerates a schema without properties', () => {
    expect(coerceArguments({ a: '1' }, { type: 'object' })).toEqual({ a: '1' });
    expect(coerceArguments({ a: '1' }, { type: 'object', properties: 'nonsense' })).toEqual({ a: '1' });
  });

  it('does not mutate its input', () => {
    const input = { limit: '5' };
    coerceArguments(input, schema);
    expect(input).toEqual({ limit: '5' });
  });
});
