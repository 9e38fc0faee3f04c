/**
 * A real terminal for end-to-end tests: a tmux server of the test's own (its own socket), a
 * window of a chosen size, keys sent as a person types them, and the screen read back.
 */
import { execa } from 'execa';

export interface Tmux {
  /** The visible screen as text (no colours). */
  screen(): Promise<string>;
  /** The visible screen with its ANSI colours. */
  screenWithColours(): Promise<string>;
  /** tmux key names (`Enter`, `C-]`, `Escape`) or literal text with `{ literal: true }`. */
  keys(keys: string, options?: { literal?: boolean }): Promise<void>;
  resize(columns: number, rows: number): Promise<void>;
  /** Polls the screen until `test` passes; fails with the last screen. */
  waitFor(what: string, test: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

export async function startTmux(options: { command: string; cwd: string; columns: number; rows: number; env?: Record<string, string> }): Promise<Tmux> {
  const socket = `anyclaude-test-${process.pid}-${Date.now()}`;
  const tmux = (args: string[]) => execa('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env: options.env ?? {}, extendEnv: true });
  await tmux(['new-session', '-d', '-s', 'main', '-x', String(options.columns), '-y', String(options.rows), '-c', options.cwd, options.command]);
  // The window keeps its size when no client is attached only when told to.
  await tmux(['set-option', '-t', 'main', 'window-size', 'manual']);
  const screen = async (colours = false): Promise<string> => String((await tmux(['capture-pane', '-p', ...(colours ? ['-e'] : []), '-t', 'main'])).stdout);
  return {
    screen: () => screen(false),
    screenWithColours: () => screen(true),
    keys: async (keys, o = {}) => void (await tmux(['send-keys', '-t', 'main', ...(o.literal === true ? ['-l'] : []), keys])),
    resize: async (columns, rows) => void (await tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)])),
    waitFor: async (what, test, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        last = await screen(false).catch(() => last);
        if (test(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
    },
    kill: async () => void (await tmux(['kill-server']).catch(() => undefined)),
  };
}
