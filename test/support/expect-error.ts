import { expect } from 'vitest';
import { AnyclaudeError } from '../../src/core/errors.js';

/** The promise rejects with an AnyclaudeError of this code, and that error names a fix. */
export async function expectError(promise: Promise<unknown>, code: string): Promise<AnyclaudeError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AnyclaudeError);
  expect((error as AnyclaudeError).code).toBe(code);
  expect((error as AnyclaudeError).fix).toBeTruthy();
  return error as AnyclaudeError;
}

/** The AnyclaudeError `fn` throws (any other error is rethrown; throwing nothing fails the test). */
export function thrown(fn: () => unknown): AnyclaudeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AnyclaudeError) return error;
    throw error;
  }
  throw new Error('expected an AnyclaudeError');
}
