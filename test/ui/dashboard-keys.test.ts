/** Keys on the live dashboard: switching backends and models, logs, leaving, and keeping quiet when told. */
import { createElement } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Dashboard } from '../../ui/dashboard.js';
import { fakeStore } from './fake-store.js';
import { eventually, KEYS, renderDashboard } from './render-dashboard.js';
import { readyState } from './states.js';

describe('Dashboard keys', () => {
  it('a digit switches to that backend at once', async () => {
    const r = await renderDashboard(readyState());
    await r.press('2');
    await eventually(() => expect(r.store.switchTo).toHaveBeenCalledExactlyOnceWith('lmstudio', undefined));
    // The selection follows the switch.
    await eventually(() => expect(r.text()).toMatch(/^› 2 {3}lmstudio/m));
    r.unmount();
  });

  it('a digit past the last backend does nothing', async () => {
    const r = await renderDashboard(readyState());
    await r.press('7', '1');
    // '1' shows keys were read; '7' (there are four backends) did nothing before it.
    await eventually(() => expect(r.store.switchTo).toHaveBeenCalledExactlyOnceWith('mlx-lm', undefined));
    r.unmount();
  });

  it('arrows move the selection (starting on the active backend, wrapping around) and enter switches to it', async () => {
    const r = await renderDashboard(readyState());
    expect(r.text()).toMatch(/^› 1 ● mlx-lm/m);
    await r.press(KEYS.down, KEYS.down);
    await eventually(() => expect(r.text()).toMatch(/^› 3 {3}ollama/m));
    expect(r.store.switchTo).not.toHaveBeenCalled();
    await r.press(KEYS.enter);
    await eventually(() => expect(r.store.switchTo).toHaveBeenCalledExactlyOnceWith('ollama', undefined));
    await r.press(KEYS.up, KEYS.up, KEYS.up);
    await eventually(() => expect(r.text()).toMatch(/^› 4 {3}claude/m));
    r.unmount();
  });

  it('m opens the model list of the selected backend; arrows and enter switch to a model', async () => {
    const r = await renderDashboard(readyState());
    await r.press(KEYS.down);
    await eventually(() => expect(r.text()).toMatch(/^› 2 {3}lmstudio/m));
    await r.press('m');
    await eventually(() => expect(r.text()).toContain('Models of lmstudio'));
    const text = r.text();
    expect(text).toMatch(/^› qwen\/qwen3-coder-30b +in use$/m);
    expect(text.split('\n').at(-1)).toBe('↑↓ select · enter use this model · esc cancel');
    await r.press(KEYS.down);
    await eventually(() => expect(r.text()).toMatch(/^› openai\/gpt-oss-20b/m));
    await r.press(KEYS.enter);
    await eventually(() => expect(r.store.switchTo).toHaveBeenCalledExactlyOnceWith('lmstudio', 'openai/gpt-oss-20b'));
    await eventually(() => expect(r.text()).not.toContain('Models of'));
    expect(r.text()).toContain('Backends');
    r.unmount();
  });

  it('esc closes the model list without switching or leaving', async () => {
    const onLeave = vi.fn();
    const r = await renderDashboard(readyState(), { onLeave });
    await r.press('m');
    await eventually(() => expect(r.text()).toContain('Models of mlx-lm'));
    await r.press(KEYS.escape);
    await eventually(() => expect(r.text()).not.toContain('Models of'));
    expect(onLeave).not.toHaveBeenCalled();
    expect(r.store.switchTo).not.toHaveBeenCalled();
    r.unmount();
  });

  it('m on a backend that names no models says so instead of opening an empty list', async () => {
    const state = readyState();
    const r = await renderDashboard({ ...state, backends: state.backends.map((b) => ({ ...b, models: [] })) });
    await r.press('m');
    expect(r.text()).not.toContain('Models of');
    await eventually(() => expect(r.text()).toContain('mlx-lm names no models to choose from'));
    r.unmount();
  });

  it('shows why a switch failed, and clears it on the next switch', async () => {
    let fail = true;
    const store = fakeStore(readyState(), async (backend) => {
      if (fail) throw new Error(`${backend} is not running: start LM Studio first`);
    });
    const r = await renderDashboard(readyState(), { store });
    await r.press('2');
    await eventually(() => expect(r.text()).toContain('switch to lmstudio failed: lmstudio is not running: start LM Studio first'));
    fail = false;
    await r.press('3');
    await eventually(() => expect(r.text()).not.toContain('failed'));
    await eventually(() => expect(store.switchTo).toHaveBeenCalledTimes(2));
    r.unmount();
  });

  it('reports a store that throws instead of rejecting the same way', async () => {
    const store = fakeStore(readyState());
    store.switchTo.mockImplementation(() => {
      throw new Error('no such backend');
    });
    const r = await renderDashboard(readyState(), { store });
    await r.press('4');
    await eventually(() => expect(r.text()).toContain('switch to claude failed: no such backend'));
    r.unmount();
  });

  it('reports only the latest switch when an older one fails late', async () => {
    const reject = new Map<string, (error: Error) => void>();
    const store = fakeStore(readyState(), (backend) => new Promise<void>((_resolve, fail) => void reject.set(backend, fail)));
    const r = await renderDashboard(readyState(), { store });
    await r.press('2', '3');
    await eventually(() => expect(reject.size).toBe(2));
    reject.get('lmstudio')!(new Error('too late'));
    reject.get('ollama')!(new Error('ollama is not running'));
    await eventually(() => expect(r.text()).toContain('switch to ollama failed: ollama is not running'));
    expect(r.text()).not.toContain('too late');
    r.unmount();
  });

  it('l toggles between anyclaude’s log and the backend’s', async () => {
    const r = await renderDashboard(readyState());
    expect(r.text()).toContain('Log · anyclaude');
    await r.press('l');
    await eventually(() => expect(r.text()).toContain('Log · mlx-lm server'));
    await eventually(() => expect(r.text()).toContain('Starting httpd at 127.0.0.1 on port 8080...'));
    await r.press('l');
    await eventually(() => expect(r.text()).toContain('Log · anyclaude'));
    r.unmount();
  });

  it('q and esc call onLeave', async () => {
    const onLeave = vi.fn();
    const r = await renderDashboard(readyState(), { onLeave });
    await r.press('q');
    await eventually(() => expect(onLeave).toHaveBeenCalledTimes(1));
    await r.press(KEYS.escape);
    await eventually(() => expect(onLeave).toHaveBeenCalledTimes(2));
    r.unmount();
  });

  it('reads no key while inputActive is false (Claude Code has the keyboard), and reads them again once true', async () => {
    const onLeave = vi.fn();
    const r = await renderDashboard(readyState(), { onLeave, inputActive: false });
    await r.press('2', 'm', 'q', KEYS.down, KEYS.enter, 'l');
    expect(r.store.switchTo).not.toHaveBeenCalled();
    expect(onLeave).not.toHaveBeenCalled();
    expect(r.text()).toContain('Log · anyclaude');
    expect(r.text()).not.toContain('Models of');
    expect(r.stdin.listenerCount('readable')).toBe(0);
    r.rerender(createElement(Dashboard, { store: r.store, columns: 80, rows: 24, onLeave, inputActive: true }));
    await eventually(() => expect(r.stdin.listenerCount('readable')).toBeGreaterThan(0));
    await r.press('2');
    await eventually(() => expect(r.store.switchTo).toHaveBeenCalledExactlyOnceWith('lmstudio', undefined));
    r.unmount();
  });
});

describe('Dashboard and the store', () => {
  it('redraws when the store changes, and unsubscribes when unmounted', async () => {
    const r = await renderDashboard(readyState());
    expect(r.store.listeners()).toBe(1);
    const state = readyState();
    r.store.set({ ...state, switching: { to: 'lmstudio', model: undefined, detail: 'warming the prompt cache…' } });
    await eventually(() => expect(r.text()).toMatch(/switching to lmstudio: warming the prompt cache…/));
    r.unmount();
    expect(r.store.listeners()).toBe(0);
  });

  it('keeps the selection on the same backend when the list changes order', async () => {
    const r = await renderDashboard(readyState());
    await r.press(KEYS.down);
    await eventually(() => expect(r.text()).toMatch(/^› 2 {3}lmstudio/m));
    const state = readyState();
    r.store.set({ ...state, backends: [...state.backends].reverse() });
    await eventually(() => expect(r.text()).toMatch(/^› 3 {3}lmstudio/m));
    await r.press(KEYS.enter);
    await eventually(() => expect(r.store.switchTo).toHaveBeenCalledExactlyOnceWith('lmstudio', undefined));
    r.unmount();
  });
});
