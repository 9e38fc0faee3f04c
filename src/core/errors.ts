/** Errors that reach a person: a stable code, one readable line, and what to do about it. */
export class AnyclaudeError extends Error {
  readonly code: string;
  readonly fix: string | undefined;
  readonly exitCode: number;

  constructor(code: string, message: string, options: { fix?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AnyclaudeError';
    this.code = code;
    this.fix = options.fix;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** One line for the terminal, plus the fix when there is one. */
export function formatForTerminal(error: unknown): string {
  if (error instanceof AnyclaudeError) {
    return error.fix === undefined ? `anyclaude: ${error.message}` : `anyclaude: ${error.message}\n  fix: ${error.fix}`;
  }
  return `anyclaude: ${errorMessage(error)}`;
}
