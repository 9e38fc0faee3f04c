/** `anyclaude doctor [--json] [--fix]` with up's backend flags: checks the setup `up` would use. */
import type { Command } from 'commander';
import { upstreamAgent } from '../core/upstream.js';
import { doctorContext } from '../doctor/context.js';
import { runDoctor } from '../doctor/doctor.js';
import { renderText, toJson } from '../doctor/render.js';
import type { DoctorFlags } from '../doctor/types.js';
import { addFlags, BACKEND_FLAGS, type FlagSpec } from './flag-specs.js';

export const DOCTOR_DESCRIPTION = 'check the setup `up` would use (same backend flags): each check says pass, warn, fail or skip, the evidence, and the fix';

/** doctor's own flags, then up's backend flags. */
export const DOCTOR_FLAGS: readonly FlagSpec[] = [
  ['--json', 'print { checks: [{ id, title, status, detail, fix }], summary } instead of text'],
  ['--fix', 'repair what is safe (broken venvs, stale pidfiles and leftover servers, trace permissions), then check again'],
  ...BACKEND_FLAGS,
];

export function registerDoctorCommand(program: Command): void {
  const doctor = program
    .command('doctor')
    .description(DOCTOR_DESCRIPTION)
    .action(async (flags: DoctorFlags) => {
      process.exitCode = await runDoctorCommand(flags);
    });
  addFlags(doctor, DOCTOR_FLAGS);
}

/** Exit code: 0 when nothing fails, 1 otherwise. */
export async function runDoctorCommand(flags: DoctorFlags): Promise<number> {
  const ctx = await doctorContext(flags);
  const report = await runDoctor(ctx, {
    fix: flags.fix === true,
    ...(flags.json === true ? {} : { onRepair: (id, action) => process.stderr.write(`fixing ${id}: ${action}…\n`) }),
  });
  process.stdout.write(flags.json === true ? `${JSON.stringify(toJson(report), null, 2)}\n` : renderText(report));
  // The probes' kept-alive sockets (30 s) and a server that accepted one and never answered must
  // not keep doctor alive once the report is out: close them, and exit regardless soon after.
  void upstreamAgent.destroy().catch(() => undefined);
  setTimeout(() => process.exit(), 200).unref();
  return report.summary.fail > 0 ? 1 : 0;
}
