/**
 * The dashboard front end: Claude Code stays on screen, and the hotkey flips to the full-screen
 * dashboard and back (the terminal host puts Claude Code's screen aside and restores it). Ink is
 * mounted only while the dashboard is shown, so it never reads a key meant for Claude Code.
 */
import { render, type Instance } from 'ink';
import type { DashboardFrontEnd, HostedClaude, OverlayScreen, RunStore } from '../src/run/front-end.js';
import { Dashboard } from './dashboard.js';

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';

/** Hosted, Ctrl-C belongs to Claude Code (the dashboard only hides); attached, it quits. */
function mount(store: RunStore, screen: OverlayScreen, onLeave: () => void, exitOnCtrlC = false): Instance {
  const size = (): { columns: number; rows: number } => ({ columns: screen.stdout.columns ?? screen.columns, rows: screen.stdout.rows ?? screen.rows });
  const element = (): React.JSX.Element => <Dashboard store={store} {...size()} onLeave={onLeave} />;
  const instance = render(element(), { stdin: screen.stdin, stdout: screen.stdout, exitOnCtrlC, patchConsole: false });
  // Ink redraws on resize but does not re-run components: the layout needs the new size as props.
  const resized = (): void => instance.rerender(element());
  screen.stdout.on('resize', resized);
  void instance.waitUntilExit().finally(() => screen.stdout.off('resize', resized));
  return instance;
}

function host(store: RunStore, claude: HostedClaude): { dispose(): void } {
  let ink: Instance | undefined;
  const hide = (): void => {
    if (ink === undefined) return;
    ink.unmount();
    ink = undefined;
    claude.terminal.showChild();
  };
  const show = (): void => {
    if (ink !== undefined) return;
    ink = mount(store, claude.terminal.showOverlay(), hide);
  };
  const off = claude.onHotkey(() => (ink === undefined ? show() : hide()));
  return {
    dispose: () => {
      off();
      ink?.unmount();
      ink = undefined;
    },
  };
}

/** While `up` starts: install, server start and model load as progress, until `until` settles. */
async function startup(store: RunStore, screen: OverlayScreen, until: Promise<unknown>): Promise<void> {
  const instance = mount(store, screen, () => undefined);
  try {
    await until.catch(() => undefined);
  } finally {
    instance.unmount();
    await instance.waitUntilExit();
  }
}

/** `anyclaude dashboard`: the dashboard alone, on the alternate screen, until `q`. */
async function attach(store: RunStore, io = { stdin: process.stdin, stdout: process.stdout }): Promise<void> {
  io.stdout.write(ALT_SCREEN_ON);
  const screen: OverlayScreen = { stdin: io.stdin, stdout: io.stdout, columns: io.stdout.columns ?? 80, rows: io.stdout.rows ?? 24 };
  const holder: { instance?: Instance } = {};
  const instance = mount(store, screen, () => holder.instance?.unmount(), true);
  holder.instance = instance;
  try {
    await instance.waitUntilExit();
  } finally {
    io.stdout.write(ALT_SCREEN_OFF);
  }
}

export const dashboardFrontEnd: DashboardFrontEnd = { host, startup, attach };
