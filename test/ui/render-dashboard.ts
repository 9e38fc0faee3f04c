/**
 * Renders the dashboard for tests. ink-testing-library's terminal is 100 columns wide, so
 * widths above that go through Ink's renderToString (no input then); both return plain text.
 */
import { createElement, type ReactElement } from 'react';
import { renderToString } from 'ink';
import { render } from 'ink-testing-library';
import { expect, vi } from 'vitest';
import type { RunState } from '../../src/run/run-state.js';
import { Dashboard, type DashboardProps } from '../../ui/dashboard.js';
import { fakeStore, type FakeStore } from './fake-store.js';

// eslint-disable-next-line no-control-regex -- removing terminal escapes is the point
const ANSI = /\u001B\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The frame as the lines a person sees. */
export function visibleLines(frame: string | undefined): string[] {
  return stripAnsi(frame ?? '').split('\n');
}

/**
 * Retries an assertion until it holds (or 2 s pass): React renders after a key on its own
 * schedule, which a loaded machine can stretch past any fixed wait.
 */
export function eventually(assertion: () => void): Promise<void> {
  return vi.waitFor(assertion, { timeout: 2_000, interval: 10 });
}

/** Lets Ink read stdin, React commit and the store's promise settle. */
export function settle(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Rendered extends ReturnType<typeof render> {
  store: FakeStore;
  /** The last frame without colours. */
  text(): string;
  /** Writes keys, then waits for the frame that follows. */
  press(...keys: string[]): Promise<void>;
}

type Options = Partial<Omit<DashboardProps, 'store'>> & { store?: FakeStore };

export async function renderDashboard(state: RunState, options: Options = {}): Promise<Rendered> {
  const store = options.store ?? fakeStore(state);
  const props: DashboardProps = { store, columns: 80, rows: 24, ...options };
  const instance = render(createElement(Dashboard, props));
  await settle();
  // Ink reads stdin only once useInput's effect has turned raw mode on: a key sent before is lost.
  if (props.inputActive !== false) await eventually(() => expect(instance.stdin.listenerCount('readable')).toBeGreaterThan(0));
  return {
    ...instance,
    store,
    text: () => stripAnsi(instance.lastFrame() ?? ''),
    async press(...keys) {
      for (const key of keys) {
        instance.stdin.write(key);
        await settle();
      }
    },
  };
}

/** One component's frame as plain text (and raw, with whatever colours are on), then unmounted. */
export async function renderOnce(element: ReactElement): Promise<{ text: string; raw: string; lines: string[] }> {
  const instance = render(element);
  await settle(5);
  const raw = instance.lastFrame() ?? '';
  instance.unmount();
  const text = stripAnsi(raw);
  return { text, raw, lines: text.split('\n') };
}

/** One frame at any size (no keys): for terminals wider than ink-testing-library's. */
export function renderFrame(state: RunState, columns: number, rows: number): string {
  return stripAnsi(renderToString(createElement(Dashboard, { store: fakeStore(state), columns, rows }), { columns }));
}

export const KEYS = { up: '\u001B[A', down: '\u001B[B', enter: '\r', escape: '\u001B' } as const;
