/** Doctor's two outputs: lines for a person, and the `--json` shape the README documents. */
import type { DoctorReport, RepairOutcome } from './doctor.js';
import type { CheckReport, CheckStatus } from './types.js';

const MARK: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

export function renderText(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.status.padEnd(4)}  ${c.id.padEnd(width)}  ${c.detail}`);
    if (c.fix !== null && (c.status === 'warn' || c.status === 'fail')) lines.push(`${' '.repeat(width + 9)}fix: ${c.fix}`);
  }
  if (report.repairs !== undefined) lines.push('', ...renderRepairs(report.repairs));
  const s = report.summary;
  lines.push('', `${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.skip} skip (${(report.ms / 1000).toFixed(1)} s)${s.fail > 0 ? ': fix the failures above' : ''}`);
  return `${lines.join('\n')}\n`;
}

function renderRepairs(repairs: readonly RepairOutcome[]): string[] {
  if (repairs.length === 0) return ['--fix: nothing that doctor can repair safely'];
  return repairs.map((r) => (r.ok ? `fixed ${r.id}: ${r.result}` : `could not fix ${r.id} (${r.action}): ${r.result}`));
}

export interface DoctorJson {
  checks: Array<Pick<CheckReport, 'id' | 'title' | 'status' | 'detail' | 'fix'>>;
  summary: DoctorReport['summary'];
  repairs?: Array<Omit<RepairOutcome, never>>;
}

export function toJson(report: DoctorReport): DoctorJson {
  return {
    checks: report.checks.map(({ id, title, status, detail, fix }) => ({ id, title, status, detail, fix })),
    summary: report.summary,
    ...(report.repairs === undefined ? {} : { repairs: report.repairs }),
  };
}
