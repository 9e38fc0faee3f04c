/**
 * `up` needs a writable home (ANYCLAUDE_HOME, default ~/.anyclaude): the managed venvs and their
 * install lock, the pidfiles that let a later run stop what a killed run left, the servers' logs
 * and Claude Code's own settings folder all live there. A read-only or full home is found before
 * anything starts and said in one line with the fix, instead of as whichever write fails first.
 * (The log file, traces and the run file are optional: they fail alone, later, with a warning.)
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AnyclaudeError } from '../core/errors.js';
import { describeWriteError, errnoCode, makeDir } from '../core/write-fault.js';

export async function ensureWritableHome(home: string): Promise<void> {
  const probe = join(home, `.write-test-${process.pid}`);
  try {
    await makeDir(join(home, 'logs'), 0o700);
    await makeDir(join(home, 'run'), 0o700);
    // A few bytes, not an empty file: a full disk still creates empty files.
    await writeFile(probe, String(process.pid), { mode: 0o600 });
  } catch (error) {
    const full = errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT';
    throw new AnyclaudeError(
      'HOME_NOT_WRITABLE',
      `cannot write to ${home}: ${describeWriteError(error)}; anyclaude keeps its venvs, server pidfiles and logs and Claude Code's settings there`,
      { fix: full ? 'free some space on that disk and run again' : 'make that folder writable, or set ANYCLAUDE_HOME to a writable folder', cause: error },
    );
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}
