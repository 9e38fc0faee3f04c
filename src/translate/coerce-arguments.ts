/**
 * Turns the string parameters of a text-written (Qwen3-Coder XML) tool call into the types its
 * JSON schema asks for. XML carries every value as text, so `<parameter=limit>\n10\n</parameter>`
 * must become `limit: 10`, while a string parameter must come through byte for byte.
 */
import { asRecord } from '../core/json-value.js';

type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'array' | 'object' | 'string';

/** Non-string types are tried first: a value that parses cleanly as one of them was meant as one. */
const PARSE_ORDER: readonly JsonType[] = ['null', 'boolean', 'integer', 'number', 'array', 'object'];

/** JSON's number grammar: rejects what Number() would wrongly accept ('', '0x10', ' ', 'Infinity'). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const NO_VALUE = Symbol('no value');

export function coerceArguments(
  input: Record<string, unknown>,
  schema: Record<string, unknown>,
): Record<string, unknown> {
  const properties = asRecord(schema['properties']) ?? {};
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    result[key] = typeof value === 'string' ? coerceValue(value, asRecord(properties[key]) ?? {}) : value;
  }
  return result;
}

/** Coerces one XML parameter value; anything that fits no allowed type stays a (newline-trimmed) string. */
export function coerceValue(raw: string, schema: Record<string, unknown>): unknown {
  const types = allowedTypes(schema);
  const trimmed = raw.trim();
  for (const type of PARSE_ORDER) {
    if (!types.has(type)) continue;
    const parsed = parseAs(type, trimmed);
    if (parsed !== NO_VALUE) return parsed;
  }
  return stripXmlNewlines(raw);
}

/** The XML format puts the value on its own line: exactly one newline each side belongs to the format. */
export function stripXmlNewlines(raw: string): string {
  let value = raw;
  if (value.startsWith('\n')) value = value.slice(1);
  if (value.endsWith('\n')) value = value.slice(0, -1);
  return value;
}

function parseAs(type: JsonType, text: string): unknown {
  switch (type) {
    case 'null':
      return text === 'null' ? null : NO_VALUE;
    case 'boolean': {
      // Models trained on Python sometimes write True/False.
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : NO_VALUE;
    }
    case 'integer': {
      const n = parseNumber(text);
      return n !== NO_VALUE && Number.isSafeInteger(n) ? n : NO_VALUE;
    }
    case 'number':
      return parseNumber(text);
    case 'array': {
      const parsed = parseJson(text);
      return Array.isArray(parsed) ? parsed : NO_VALUE;
    }
    case 'object': {
      const parsed = parseJson(text);
      return asRecord(parsed) ?? NO_VALUE;
    }
    case 'string':
      return NO_VALUE;
  }
}

function parseNumber(text: string): number | typeof NO_VALUE {
  if (!JSON_NUMBER.test(text)) return NO_VALUE;
  const n = Number(text);
  return Number.isFinite(n) ? n : NO_VALUE;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NO_VALUE;
  }
}

/** Every type a schema admits, looking through type arrays, anyOf/oneOf/allOf, enum and const. */
function allowedTypes(schema: Record<string, unknown>): Set<JsonType> {
  const types = new Set<JsonType>();
  const type = schema['type'];
  for (const t of Array.isArray(type) ? type : [type]) {
    if (isJsonType(t)) types.add(t);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const record = asRecord(branch);
      if (record) for (const t of allowedTypes(record)) types.add(t);
    }
  }
  const values = Array.isArray(schema['enum']) ? schema['enum'] : 'const' in schema ? [schema['const']] : [];
  for (const value of values) types.add(typeOfValue(value));
  return types;
}

function typeOfValue(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'object') return 'object';
  return 'string';
}

function isJsonType(value: unknown): value is JsonType {
  return (
    typeof value === 'string' &&
    ['null', 'boolean', 'integer', 'number', 'array', 'object', 'string'].includes(value)
  );
}
