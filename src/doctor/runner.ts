/**
 * Runs every check at once, each under its own time limit: one hung server costs that check its
 * limit, never the whole run. A check that throws is a failed check, not a crashed doctor.
 */
import { errorMessage } from '../core/errors.js';
import type { Check, CheckReport, CheckResult, CheckStatus, DoctorContext } from './types.js';

export const DEFAULT_TIMEOUT_MS = 2_000;

export async function runChecks(checks: readonly Check[], ctx: DoctorContext): Promise<CheckReport[]> {
  return Promise.all(checks.map((check) => runOne(check, ctx)));
}

export async function runOne(check: Check, ctx: DoctorContext): Promise<CheckReport> {
  const ms = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(check.onTimeout?.(ctx, ms) ?? { status: 'warn', detail: `did not finish within ${seconds(ms)}`, fix: 'run `anyclaude doctor` again; if it keeps timing out, the machine is overloaded' });
    }, ms);
  });
  const work = check.run(ctx, controller.signal).catch((error: unknown): CheckResult => ({ status: 'fail', detail: `the check itself failed: ${errorMessage(error)}`, fix: 'report it as an anyclaude bug, with the output of `anyclaude doctor --json`' }));
  try {
    const result = await Promise.race([work, timeout]);
    return { id: check.id, title: check.title, status: result.status, detail: oneLine(result.detail), fix: result.fix === undefined ? null : result.fix, ...(result.repair === undefined ? {} : { repair: result.repair }) };
  } finally {
    clearTimeout(timer);
  }
}

export type Summary = Record<CheckStatus, number>;

export function summarize(reports: readonly CheckReport[]): Summary {
  const summary: Summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of reports) summary[r.status] += 1;
  return summary;
}

/** Evidence is one line: a multi-line server message is folded. */
function oneLine(text: string): string {
  return text
    .replace(/:\s*\n\s*/g, ': ')
    .replace(/\s*\n\s*/g, '; ')
    .trim();
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}
