/**
 * The terminal while `up` starts, before Claude Code runs: the alternate screen, raw keys for the
 * dashboard, Ctrl-C as "stop". Ink gets stand-in streams (as it does later as the host's overlay),
 * so it never sets the real stdin's encoding, raw mode or flow, which the terminal host takes over
 * byte-exact right after.
 */
import { OverlayStreams } from '../terminal/overlay-streams.js';
import type { OverlayScreen } from './front-end.js';

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const CTRL_C = 0x03;

export interface StartupScreen {
  screen: OverlayScreen;
  /** Back to the normal screen; stdin stays raw and paused (buffered) for whoever reads it next. */
  close(): void;
}

export function openStartupScreen(onInterrupt: () => void, stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): StartupScreen {
  const size = () => ({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
  const streams = new OverlayStreams({ stdout, size });
  const onKeys = (data: Buffer): void => {
    if (data.includes(CTRL_C)) onInterrupt();
    else streams.pushKeys(data);
  };
  const onResize = (): void => streams.resized();
  stdin.setRawMode?.(true);
  stdin.on('data', onKeys);
  stdin.resume();
  stdout.on('resize', onResize);
  stdout.write(ALT_SCREEN_ON);
  let closed = false;
  return {
    screen: { stdin: streams.stdin, stdout: streams.stdout, ...size() },
    close: () => {
      if (closed) return;
      closed = true;
      streams.close();
      stdin.off('data', onKeys);
      stdin.pause();
      stdout.off('resize', onResize);
      stdout.write(ALT_SCREEN_OFF);
    },
  };
}
