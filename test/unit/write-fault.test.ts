/** The once-per-outage reporting behind the trace writer's, the log file's and the run file's warnings. */
import { describe, expect, it } from 'vitest';
import { describeWriteError, QUIET_MS, WriteFaultReporter, writeFaultFix } from '../../src/core/write-fault.js';

const errno = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: ${message}, write`), { code });

function reporter(): { lines: string[]; clock: { now: number }; faults: WriteFaultReporter } {
  const lines: string[] = [];
  const clock = { now: 0 };
  const faults = new WriteFaultReporter({ failed: (e) => `failed: ${describeWriteError(e)}`, recovered: (lost) => `recovered after ${lost}` }, (l) => lines.push(l), () => clock.now);
  return { lines, clock, faults };
}

describe('WriteFaultReporter', () => {
  it('says a failure once however often it repeats, and the recovery once, with how many writes were lost', () => {
    const { lines, faults } = reporter();
    for (let i = 0; i < 100; i += 1) faults.failed(errno('ENOSPC', 'no space left on device'));
    faults.succeeded();
    faults.succeeded();
    expect(lines).toEqual(['failed: ENOSPC (no space left on device)', 'recovered after 100']);
  });

  it('a disk on the edge, failing and recovering by turns, is said once per quiet period, not per flip', () => {
    const { lines, clock, faults } = reporter();
    for (let i = 0; i < 50; i += 1) {
      faults.failed(errno('ENOSPC', 'no space left on device'));
      faults.succeeded();
      clock.now += 1_000;
    }
    expect(lines).toEqual(['failed: ENOSPC (no space left on device)', 'recovered after 1']);
    clock.now += QUIET_MS;
    faults.failed(errno('EROFS', 'read-only file system'));
    expect(lines.at(-1)).toBe('failed: EROFS (read-only file system)');
  });

  it('names the fix for the fault: space for a full disk, a writable folder otherwise', () => {
    expect(writeFaultFix(errno('ENOSPC', 'x'), 'run without --trace')).toBe('free some space on that disk, or run without --trace');
    expect(writeFaultFix(errno('EROFS', 'x'))).toBe('make that folder writable or set ANYCLAUDE_HOME to a writable folder');
    expect(describeWriteError(errno('EXDEV', 'cross-device link not permitted'))).toBe('EXDEV (cross-device link not permitted)');
    expect(describeWriteError(new Error('plain'))).toBe('plain');
  });
});
