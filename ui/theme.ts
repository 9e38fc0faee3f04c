/**
 * Colours by meaning, in one place: green is serving, yellow is busy or worth a look, red is
 * broken, cyan is someone else's server, dim is idle. The 16 basic colours only, so the
 * dashboard reads the same on every terminal theme.
 */
import type { BackendPhase, LogLine, RunPhase } from '../src/run/run-state.js';
import type { Severity } from './insights.js';

export interface Tone {
  color?: string;
  dimColor?: boolean;
}

export const PHASE_TONE: Record<BackendPhase, Tone> = {
  ready: { color: 'green' },
  starting: { color: 'yellow' },
  warming: { color: 'yellow' },
  degraded: { color: 'yellow' },
  crashed: { color: 'red' },
  stopped: { dimColor: true },
  available: { dimColor: true },
  external: { color: 'cyan' },
};

/** Phases with work under way get a spinner. */
export function isBusy(phase: BackendPhase): boolean {
  return phase === 'starting' || phase === 'warming';
}

export const RUN_PHASE_TONE: Record<RunPhase, Tone> = {
  preparing: { color: 'yellow' },
  installing: { color: 'yellow' },
  starting: { color: 'yellow' },
  ready: { color: 'green' },
  running: { color: 'green' },
  stopping: { dimColor: true },
};

export const LEVEL_TONE: Record<LogLine['level'], Tone> = {
  debug: { dimColor: true },
  info: {},
  warn: { color: 'yellow' },
  error: { color: 'red' },
};

export const SEVERITY_TONE: Record<Severity, Tone> = {
  note: { dimColor: true },
  warn: { color: 'yellow' },
  danger: { color: 'red' },
};

/** The spinner (cli-spinners' "dots11"): ten frames a second, the store's own pace. */
export const SPINNER_FRAMES = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'] as const;
export const SPINNER_INTERVAL_MS = 100;
