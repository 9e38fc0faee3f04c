/**
 * Runs Claude Code: owning the terminal (`--no-tui`, pipes, CI), or hosted in anyclaude's
 * pseudo-terminal so a dashboard can be shown on the hotkey. Either way it is stopped on every
 * way out, and its exit code becomes anyclaude's.
 */
import { execa } from 'execa';
import { handleInterrupt, onExit } from '../supervisor/cleanup.js';
import { TerminalHost } from '../terminal/terminal-host.js';
import type { HostedClaude } from './front-end.js';
import type { ClaudeView } from './run-state.js';

export interface ClaudeLaunch {
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Reports Claude Code's state (into the run's state). */
  report: (claude: Partial<ClaudeView>) => void;
}

/** Claude Code owns the terminal: Ctrl-C is its own; SIGTERM/SIGHUP to us are passed on. */
export async function runClaudeInTerminal(launch: ClaudeLaunch): Promise<number> {
  const child = execa(launch.bin, launch.args, { env: launch.env, extendEnv: false, stdio: 'inherit', reject: false });
  launch.report({ state: 'running', pid: child.pid, hosted: false });
  handleInterrupt(() => undefined);
  const dropKill = onExit(() => {
    child.kill('SIGTERM');
  });
  const result = await child;
  dropKill();
  handleInterrupt(undefined);
  const code = exitCode(result.exitCode, result.signal);
  launch.report({ state: 'exited', exitCode: code });
  return code;
}

export interface HostedSession extends HostedClaude {
  exited: Promise<number>;
}

/** Claude Code in a pseudo-terminal sized to ours; every key but the hotkey reaches it untouched. */
export function hostClaude(launch: ClaudeLaunch & { hotkey: string }): HostedSession {
  const listeners = new Set<() => void>();
  const terminal = TerminalHost.start({
    file: launch.bin,
    args: launch.args,
    env: launch.env,
    hotkey: launch.hotkey,
    onHotkey: () => listeners.forEach((listener) => listener()),
  });
  // The start-up screen leaves stdin paused, so keys typed meanwhile wait for Claude Code.
  process.stdin.resume();
  launch.report({ state: 'running', pid: terminal.pid, hosted: true });
  // Ctrl-C is a key for Claude Code (raw mode); signals to anyclaude itself end the session.
  handleInterrupt(() => undefined);
  const dropKill = onExit(() => {
    terminal.kill('SIGTERM');
    terminal.dispose();
  });
  const exited = terminal.exited.then((result) => {
    dropKill();
    handleInterrupt(undefined);
    terminal.dispose();
    const code = exitCode(result.exitCode, result.signal === undefined || result.signal === 0 ? undefined : String(result.signal));
    launch.report({ state: 'exited', exitCode: code });
    return code;
  });
  return {
    terminal,
    exited,
    onHotkey: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function exitCode(code: number | undefined, signal: string | undefined): number {
  if (typeof code === 'number' && signal === undefined) return code;
  if (signal === undefined) return typeof code === 'number' ? code : 1;
  const number = /^\d+$/.test(signal) ? Number(signal) : (SIGNALS[signal] ?? 0);
  return 128 + number;
}
