/**
 * `anyclaude doctor`: every check at once, then, with --fix, the safe repairs one after another
 * and the repaired checks again, so the report shows the state after the repairs.
 */
import { BACKEND_CHECKS } from './checks/backends.js';
import { configCheck, envCheck, orphansCheck, portsCheck, tracesCheck } from './checks/files.js';
import { memoryCheck, modelCheck } from './checks/model.js';
import { claudeCodeCheck, diskCheck, nodeCheck, platformCheck, pythonCheck } from './checks/system.js';
import { venvChecks } from './checks/venvs.js';
import { runChecks, summarize, type Summary } from './runner.js';
import { errorMessage } from '../core/errors.js';
import type { Check, CheckReport, DoctorContext } from './types.js';

export interface RepairOutcome {
  id: string;
  action: string;
  ok: boolean;
  /** What was done, or why it failed. */
  result: string;
}

export interface DoctorReport {
  checks: CheckReport[];
  summary: Summary;
  /** Only with --fix. */
  repairs?: RepairOutcome[];
  ms: number;
}

/** In the order they are shown: the machine, then anyclaude's setup, then what it talks to. */
export async function doctorChecks(ctx: DoctorContext): Promise<Check[]> {
  return [nodeCheck, claudeCodeCheck, platformCheck, pythonCheck, ...(await venvChecks(ctx)), diskCheck, memoryCheck, ...BACKEND_CHECKS, modelCheck, portsCheck, orphansCheck, tracesCheck, configCheck, envCheck];
}

/** `onRepair` hears of each repair as it starts: a venv rebuild takes minutes, and should not look like a hang. */
export async function runDoctor(ctx: DoctorContext, options: { fix: boolean; onRepair?: (id: string, action: string) => void }): Promise<DoctorReport> {
  const started = performance.now();
  const checks = await doctorChecks(ctx);
  let reports = await runChecks(checks, ctx);
  if (!options.fix) return { checks: reports, summary: summarize(reports), ms: performance.now() - started };
  const repairs: RepairOutcome[] = [];
  for (const report of reports) {
    if (report.repair === undefined) continue;
    options.onRepair?.(report.id, report.repair.action);
    repairs.push(await repair(report));
  }
  if (repairs.length > 0) {
    // Everything again, not just what was repaired: stopping a leftover server frees its port too.
    // A fresh context object: checks remember what they found per context, and that is stale now.
    reports = await runChecks(await doctorChecks({ ...ctx }), { ...ctx });
  }
  return { checks: reports, summary: summarize(reports), repairs, ms: performance.now() - started };
}

async function repair(report: CheckReport): Promise<RepairOutcome> {
  const action = report.repair?.action ?? '';
  try {
    return { id: report.id, action, ok: true, result: (await report.repair?.run()) ?? action };
  } catch (error) {
    return { id: report.id, action, ok: false, result: errorMessage(error) };
  }
}
