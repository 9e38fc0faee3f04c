/**
 * Colours where they carry meaning: red for broken, yellow for busy or a warning, green for
 * serving, cyan for someone else's server. Chalk decides on colour when it loads, so this file
 * turns colour on before anything imports it (each test file gets its own modules).
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

const { createElement: h } = await import('react');
const { BackendsPanel } = await import('../../ui/panels/backends-panel.js');
const { CachePanel } = await import('../../ui/panels/cache-panel.js');
const { ContextPanel } = await import('../../ui/panels/context-panel.js');
const { RequestsPanel } = await import('../../ui/panels/requests-panel.js');
const { LogsPanel } = await import('../../ui/panels/logs-panel.js');
const { eventually, renderOnce, renderDashboard } = await import('./render-dashboard.js');
const { fakeStore } = await import('./fake-store.js');
const S = await import('./states.js');

// eslint-disable-next-line no-control-regex -- reading terminal escapes is the point
const SGR = /\u001B\[(\d+)m/g;
const DIM = '\u001B[2m';

const RED = 31;
const GREEN = 32;
const YELLOW = 33;
const CYAN = 36;

/** The foreground colour (SGR code) in force where `text` first appears in `raw`, or undefined for the default. */
function colourOf(raw: string, text: string): number | undefined {
  const at = raw.indexOf(text);
  if (at < 0) throw new Error(`"${text}" is not in the frame`);
  let colour: number | undefined;
  for (const m of raw.slice(0, at).matchAll(SGR)) {
    const code = Number(m[1]);
    if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) colour = code;
    else if (code === 39 || code === 0) colour = undefined;
  }
  return colour;
}

describe('colours', () => {
  it('are on in this file (or every assertion below would pass vacuously)', async () => {
    const { raw } = await renderOnce(h(BackendsPanel, { state: S.readyState(), width: 80, height: 6, selected: 0, message: undefined }));
    expect(raw.match(SGR)?.length).toBeGreaterThan(0);
  });

  it('give each backend phase its colour', async () => {
    const { raw } = await renderOnce(h(BackendsPanel, { state: S.overflowState(), width: 80, height: 12, selected: 0, message: undefined }));
    expect(colourOf(raw, 'ready')).toBe(GREEN);
    expect(colourOf(raw, 'warming')).toBe(YELLOW);
    expect(colourOf(raw, 'starting')).toBe(YELLOW);
    expect(colourOf(raw, 'degraded')).toBe(YELLOW);
    expect(colourOf(raw, 'crashed')).toBe(RED);
    expect(colourOf(raw, 'external')).toBe(CYAN);
    expect(raw).toContain(`${DIM}stopped`);
  });

  it('make a failed switch red and a switch under way yellow', async () => {
    const state = { ...S.readyState(), switching: { to: 'lmstudio', model: undefined, detail: 'starting' } };
    const { raw } = await renderOnce(h(BackendsPanel, { state, width: 80, height: 12, selected: 0, message: { text: 'switch to claude failed: no key', tone: { color: 'red' } } }));
    expect(colourOf(raw, 'switch to claude failed')).toBe(RED);
    expect(colourOf(raw, 'switching to lmstudio')).toBe(YELLOW);
  });

  it('turn the context bar yellow from 75 % and red from 90 %', async () => {
    expect(colourOf((await renderOnce(h(ContextPanel, { state: S.readyState(), width: 80, height: 2 }))).raw, '█')).toBe(GREEN);
    const warn = (await renderOnce(h(ContextPanel, { state: S.contextState(0.8), width: 80, height: 2 }))).raw;
    expect(colourOf(warn, '█')).toBe(YELLOW);
    expect(colourOf(warn, 'context 80% full')).toBe(YELLOW);
    const danger = (await renderOnce(h(ContextPanel, { state: S.contextState(0.95), width: 80, height: 2 }))).raw;
    expect(colourOf(danger, '█')).toBe(RED);
    expect(colourOf(danger, 'context 95% full')).toBe(RED);
  });

  it('turn a cache warning yellow', async () => {
    const { raw } = await renderOnce(h(CachePanel, { state: S.evictedState(), width: 80, height: 4 }));
    expect(colourOf(raw, 'only 2% cached')).toBe(YELLOW);
    expect(colourOf(raw, '2% cached')).toBe(YELLOW);
  });

  it('make a failed request red', async () => {
    const { raw } = await renderOnce(h(RequestsPanel, { state: S.crashedState(), width: 100, height: 3 }));
    expect(colourOf(raw, 'upstream connectio')).toBe(RED);
    expect(colourOf(raw, 'end_turn')).toBeUndefined();
  });

  it('colour log levels', async () => {
    const { raw } = await renderOnce(h(LogsPanel, { state: S.crashedState(), width: 80, height: 4, source: 'anyclaude' }));
    expect(colourOf(raw, 'server exited with signal SIGKILL')).toBe(RED);
    expect(colourOf(raw, 'not restarting mlx-lm')).toBe(YELLOW);
  });

  it('show a rejected switch from the keyboard in red', async () => {
    const store = fakeStore(S.readyState(), () => Promise.reject(new Error('LM Studio is not running')));
    const r = await renderDashboard(S.readyState(), { store });
    await r.press('2');
    await eventually(() => expect(colourOf(r.lastFrame() ?? '', 'switch to lmstudio failed: LM Studio is not running')).toBe(RED));
    r.unmount();
  });
});
