/** What a doctor check is, what it finds, and what every check can read. */
import type { BackendName } from '../backends/backend.js';
import type { BackendSettings, UpFlags, UpSettings } from '../settings/up-settings.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** Something `--fix` may do: only safe, local, undoable-by-rerunning actions. */
export interface Repair {
  /** What it will do, e.g. "rebuild /home/u/.anyclaude/venvs/mlx-lm". */
  action: string;
  /** Does it; resolves with what was done (one line). */
  run(): Promise<string>;
}

export interface CheckResult {
  status: CheckStatus;
  /** One line of evidence: what was found, where. */
  detail: string;
  /** The exact command or action that fixes it (warn and fail). */
  fix?: string;
  repair?: Repair;
}

export interface Check {
  /** Stable: documented in the README and read by scripts (`--json`). */
  id: string;
  title: string;
  /** Default DEFAULT_TIMEOUT_MS: a check that takes longer is reported, never waited for. */
  timeoutMs?: number;
  run(ctx: DoctorContext, signal: AbortSignal): Promise<CheckResult>;
  /** What a timeout means for this check (default: warn, "did not finish"). */
  onTimeout?(ctx: DoctorContext, ms: number): CheckResult;
}

/** One check's outcome as shown and as `--json` gives it. */
export interface CheckReport {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix: string | null;
  /** For the runner and --fix only; never serialised. */
  repair?: Repair;
}

export interface DoctorFlags extends Pick<UpFlags, 'backend' | 'model' | 'backendPort' | 'url' | 'apiKey' | 'context'> {
  json?: boolean;
  fix?: boolean;
}

export interface DoctorContext {
  flags: DoctorFlags;
  env: NodeJS.ProcessEnv;
  /** `~/.anyclaude` or ANYCLAUDE_HOME. */
  home: string;
  cwd: string;
  /** up's settings for these flags; a fallback without the config file (or environment) when those are invalid. */
  settings: UpSettings;
  /** Why the full settings could not be loaded (the `config` check reports it). */
  settingsError: string | undefined;
  /** Backends `up` would use: named ones, else undefined (auto-detect). */
  named: readonly BackendName[] | undefined;
  /** A backend's settings; never throws (an invalid variable reads as unset, and `config` names it). */
  backend(name: BackendName): BackendSettings;
  /** The model `up` would use: the first one set for a backend that is named, else any. */
  model: { query: string; backend: BackendName | undefined } | undefined;
  platform: NodeJS.Platform;
  arch: string;
}
