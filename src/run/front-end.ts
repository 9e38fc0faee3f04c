/**
 * The contract between core and a front end (the Ink dashboard in ui/): core runs Claude Code in
 * a terminal host and keeps the state; the front end renders it and flips screens on the hotkey.
 * Declared here, below both, so core never imports the UI and the UI only implements this.
 */
import type { RunState, RunStore } from './run-state.js';

/** A screen the front end draws on while Claude Code's is put aside (alternate screen). */
export interface OverlayScreen {
  /** Keys typed while the overlay is shown (a TTY-like stream an Ink app can read). */
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  columns: number;
  rows: number;
}

/** Claude Code hosted in anyclaude's pseudo-terminal. */
export interface HostedTerminal {
  readonly hotkeyLabel: string;
  readonly mode: 'child' | 'overlay';
  showOverlay(): OverlayScreen;
  showChild(): void;
}

export interface HostedClaude {
  terminal: HostedTerminal;
  /** Called on every press of the hotkey; returns a function that stops listening. */
  onHotkey(listener: () => void): () => void;
}

export interface DashboardFrontEnd {
  /** Claude Code on screen, the dashboard one hotkey away, until dispose(). */
  host(store: RunStore, claude: HostedClaude): { dispose(): void };
  /** While `up` starts (venv install, server start, model load): the dashboard on `screen`, until `until` settles. */
  startup(store: RunStore, screen: OverlayScreen, until: Promise<unknown>): Promise<void>;
  /** `anyclaude dashboard`: the dashboard alone in this terminal, until the user quits. */
  attach(store: RunStore, io?: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<void>;
}

/** Loaded only when a dashboard is shown, so `--no-tui` and `status --line` never load React. */
export type DashboardLoader = () => Promise<DashboardFrontEnd>;

export type { RunState, RunStore };
