/** Each panel on its own, with the states a real run goes through. */
import { createElement as h } from 'react';
import { describe, expect, it } from 'vitest';
import type { RunState } from '../../src/run/run-state.js';
import { clockTime } from '../../ui/format.js';
import { BackendsPanel } from '../../ui/panels/backends-panel.js';
import { CachePanel } from '../../ui/panels/cache-panel.js';
import { ContextPanel } from '../../ui/panels/context-panel.js';
import { Header } from '../../ui/panels/header.js';
import { HelpLine } from '../../ui/panels/help-line.js';
import { LogsPanel } from '../../ui/panels/logs-panel.js';
import { ModelPicker } from '../../ui/panels/model-picker.js';
import { ProgressPanel } from '../../ui/panels/progress-panel.js';
import { RequestsPanel } from '../../ui/panels/requests-panel.js';
import { ThroughputPanel } from '../../ui/panels/throughput-panel.js';
import { renderOnce } from './render-dashboard.js';
import { contextState, crashedState, emptyState, evictedState, noCacheReportState, NOW, overflowState, promptChangedState, readyState, startingState } from './states.js';

const W = 80;

function fits(lines: string[], width: number, height: number): void {
  expect(lines.length).toBeLessThanOrEqual(height);
  for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
}

describe('Header', () => {
  it('names the phase, the active backend and model, Claude Code, the uptime and the proxy', async () => {
    const { text } = await renderOnce(h(Header, { state: readyState(), now: NOW, width: 140 }));
    expect(text).toBe('anyclaude · running · mlx-lm · Qwen3-Coder-30…Instruct-4bit · Claude Code running · up 12m 03s · http://127.0.0.1:4141');
  });

  it('while getting ready, keeps what is happening over where requests will go', async () => {
    const { text } = await renderOnce(h(Header, { state: startingState(), now: NOW, width: 60 }));
    expect(text).toBe('anyclaude · installing: mlx-lm into ~/.anyclaude/venv');
  });

  it('drops the proxy URL and the uptime first on a narrow terminal', async () => {
    const { text } = await renderOnce(h(Header, { state: readyState(), now: NOW, width: 90 }));
    expect(text).toContain('Claude Code running');
    expect(text).not.toContain('4141');
    expect(text).not.toContain('up 12m');
  });

  it('says when Claude Code exited with an error', async () => {
    const state: RunState = { ...readyState(), claude: { state: 'exited', pid: undefined, exitCode: 1, hosted: true } };
    expect((await renderOnce(h(Header, { state, now: NOW, width: 140 }))).text).toContain('Claude Code exited (1)');
  });
});

describe('BackendsPanel', () => {
  const panel = (state: RunState, height = 12, selected = 0, message?: { text: string; tone: { color: string } }) =>
    renderOnce(h(BackendsPanel, { state, width: W, height, selected, message }));

  it('numbers every backend and marks the selected (›) and the active one (●)', async () => {
    const { lines } = await panel(readyState(), 12, 1);
    expect(lines[0]).toBe('Backends  1-9 or ↑↓ enter switches');
    expect(lines[1]).toMatch(/^ {2}1 ● mlx-lm {3}ready {6}Qwen3-Coder-30B-A3B-Instruct-4bit 32K ctx {2}openai$/);
    expect(lines[2]).toMatch(/^› 2 {3}lmstudio available {2}qwen\/qwen3-coder-30b +128K ctx openai$/);
    expect(lines[3]).toContain('3   ollama   external');
    expect(lines[3]).toContain('ctx ?');
    expect(lines[4]).toContain('200K ctx anthropic');
    expect(lines).toHaveLength(5);
  });

  it('shows why a backend crashed in place of its model on a narrow terminal', async () => {
    const { lines } = await panel(crashedState());
    expect(lines[1]).toMatch(/1 ● mlx-lm +crashed +killed by SIGKILL \(out of memory\?\) · restarted 2×/);
  });

  it('gives the detail a column of its own on a wide one', async () => {
    const { lines } = await renderOnce(h(BackendsPanel, { state: readyState(), width: 100, height: 6, selected: 0, message: undefined }));
    expect(lines[2]).toMatch(/qwen\/qwen3-coder-30b +128K ctx +found on port 1234$/);
    expect(lines[3]).toMatch(/qwen3-coder:30b +ctx \? +running, not started by/);
  });

  it('shows a switch under way and a switch that failed', async () => {
    const state: RunState = { ...readyState(), switching: { to: 'lmstudio', model: 'openai/gpt-oss-20b', detail: 'warming the prompt cache…' } };
    const { lines } = await panel(state, 12, 0, { text: 'switch to claude failed: no ANTHROPIC_API_KEY', tone: { color: 'red' } });
    expect(lines.at(-2)).toMatch(/^. switching to lmstudio · openai\/gpt-oss-20b: warming the prompt cache…$/);
    expect(lines.at(-1)).toBe('switch to claude failed: no ANTHROPIC_API_KEY');
  });

  it('shows a spinner beside a backend that is starting or warming', async () => {
    const { lines } = await panel(startingState());
    expect(lines[1]).toMatch(/mlx-lm +\S starting/);
  });

  it('keeps the selected row and the switch line when lines run out, dropping the title first', async () => {
    const { lines } = await panel(overflowState(), 4, 6);
    fits(lines, W, 4);
    expect(lines[0]).not.toContain('Backends');
    expect(lines.some((l) => l.startsWith('› 7'))).toBe(true);
    expect(lines.at(-1)).toContain('switching to mlx-omni');
  });

  it('says so when there are no backends yet', async () => {
    expect((await panel(emptyState())).text).toContain('no backends yet');
  });

  it('cuts long ids, model names and details to the width', async () => {
    const { lines } = await panel(overflowState(), 12, 0);
    fits(lines, W, 12);
    expect(lines[8]).toMatch(/^ {2}8 {3}openai-remo… external/);
  });
});

describe('ModelPicker', () => {
  it('lists the models of one backend with the cursor and the one in use', async () => {
    const lmstudio = readyState().backends[1]!;
    const { lines } = await renderOnce(h(ModelPicker, { backend: lmstudio, cursor: 1, width: W, height: 6 }));
    expect(lines[0]).toBe('Models of lmstudio  ↑↓ select · enter use · esc cancel');
    expect(lines[1]).toMatch(/^ {2}qwen\/qwen3-coder-30b +in use$/);
    expect(lines[2]).toMatch(/^› openai\/gpt-oss-20b\s*$/);
    expect(lines[3]).toContain('mistralai/devstral-small-2507');
  });

  it('scrolls a long list to keep the cursor in view, and says where it is', async () => {
    const backend = overflowState().backends[0]!;
    const { lines } = await renderOnce(h(ModelPicker, { backend, cursor: 12, width: W, height: 5 }));
    fits(lines, W, 5);
    expect(lines[0]).toContain('(13/14)');
    expect(lines.find((l) => l.startsWith('›'))).toContain('variant-12');
  });
});

describe('ThroughputPanel', () => {
  it('shows decode and prefill rates as sparklines with the latest value, the median and TTFT', async () => {
    const { lines } = await renderOnce(h(ThroughputPanel, { state: readyState(), width: W, height: 4, now: NOW }));
    expect(lines[0]).toMatch(/^Decode {5}[▁▂▃▄▅▆▇█]{12} {2}35\.1 tok\/s {2}median 35\.0$/);
    expect(lines[1]).toMatch(/^Prefill {4}[▁▂▃▄▅▆▇█]{12} {3}905 tok\/s {2}median 905 {2}TTFT 1\.2s$/);
    expect(lines).toHaveLength(2);
  });

  it('shows requests streaming now with their output so far', async () => {
    const { lines } = await renderOnce(h(ThroughputPanel, { state: overflowState(), width: 100, height: 4, now: NOW }));
    expect(lines[2]).toMatch(/^Streaming {2}240 tokens out {2}~35\.3 tok\/s {2}8\.0s {2}mlx-lm · /);
    expect(lines[3]).toMatch(/^Streaming {2}0 tokens out {2}prefilling for 2\.0s {2}lmstudio · /);
  });

  it('keeps decode when it has one line', async () => {
    const { lines } = await renderOnce(h(ThroughputPanel, { state: overflowState(), width: W, height: 1, now: NOW }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Decode/);
  });

  it('says there are no requests yet', async () => {
    expect((await renderOnce(h(ThroughputPanel, { state: emptyState(), width: W, height: 2, now: NOW }))).text).toContain('no requests yet');
  });
});

describe('CachePanel', () => {
  it('shows the cached share of the last prompt beside how much of it was unchanged', async () => {
    const { lines } = await renderOnce(h(CachePanel, { state: readyState(), width: W, height: 4 }));
    expect(lines).toEqual([expect.stringMatching(/^Cache {6}█{12} {3}98% cached \(20\.1K\/20\.5K\) · 99% same as last turn$/)]);
  });

  it('warns when the backend recomputed a prompt that did not change', async () => {
    const { lines, text } = await renderOnce(h(CachePanel, { state: evictedState(), width: W, height: 4 }));
    expect(lines[0]).toMatch(/█▁ {4}2% cached \(512\/20\.5K\)/);
    expect(lines.slice(1).map((l) => l.trim()).join(' ')).toBe(
      'only 2% cached: the backend recomputed a prompt whose prefix did not change: its prompt cache is too small or was evicted (another client, a model reload)',
    );
    fits(text.split('\n'), W, 4);
  });

  it('warns that the prompt changed early when it did', async () => {
    const { text } = await renderOnce(h(CachePanel, { state: promptChangedState(), width: W, height: 4 }));
    expect(text).toContain('42% same as last turn');
    expect(text).toContain('the prompt changed early (38% of the previous turn kept)');
  });

  it('notes a backend that reports no cached tokens', async () => {
    const { lines } = await renderOnce(h(CachePanel, { state: noCacheReportState(), width: W, height: 3 }));
    expect(lines[0]).toMatch(/^Cache {6}not reported by the backend · 99% same as last turn$/);
    expect(lines[1]).toContain('the backend reports no cached tokens');
  });

  it('shows only the numbers when it has one line, and nothing before any request', async () => {
    expect((await renderOnce(h(CachePanel, { state: evictedState(), width: W, height: 1 }))).lines).toHaveLength(1);
    expect((await renderOnce(h(CachePanel, { state: emptyState(), width: W, height: 3 }))).text).toBe('');
  });
});

describe('ContextPanel', () => {
  it('shows how full the conversation is', async () => {
    const { lines } = await renderOnce(h(ContextPanel, { state: readyState(), width: W, height: 2 }));
    expect(lines).toEqual([expect.stringMatching(/^Context {4}[█░]{12} {3}64% of 32K \(21\.1K tokens\)$/)]);
  });

  it('says to /compact soon from 75 %', async () => {
    const { lines } = await renderOnce(h(ContextPanel, { state: contextState(0.8), width: W, height: 2 }));
    expect(lines[0]).toContain('80% of 32K');
    expect(lines[1]?.trim()).toBe('context 80% full: /compact soon');
  });

  it('says to /compact or start over from 90 %, and keeps a hint with one line', async () => {
    expect((await renderOnce(h(ContextPanel, { state: contextState(0.95), width: W, height: 2 }))).lines[1]?.trim()).toBe('context 95% full: /compact or start a new conversation');
    expect((await renderOnce(h(ContextPanel, { state: contextState(0.95), width: W, height: 1 }))).text).toMatch(/95% of 32K \(31\.1K tokens\) \/compact$/);
  });

  it('says what --context-strategy window left out, in place of the advice to compact', async () => {
    const state = contextState(0.6);
    const last = { ...state.requests.at(-1)!, trimmedMessages: 14, trimmedTokens: 21_500 };
    const trimmed = { ...state, requests: [...state.requests.slice(0, -1), last], sessions: state.sessions.map((s) => ({ ...s, last })) };
    const { lines } = await renderOnce(h(ContextPanel, { state: trimmed, width: W, height: 2 }));
    expect(lines[1]?.trim()).toBe('14 earlier messages (~21.5K tokens) left out to fit the window');
    expect((await renderOnce(h(ContextPanel, { state: trimmed, width: W, height: 1 }))).text).toMatch(/✂ 14 left out$/);
  });

  it('says when the context window is unknown', async () => {
    const state = readyState();
    const last = { ...state.requests.at(-1)!, upstream: 'ollama', contextWindow: undefined };
    const { text } = await renderOnce(h(ContextPanel, { state: { ...state, sessions: [{ sessionId: 's', last, requests: 1 }] }, width: W, height: 2 }));
    expect(text).toMatch(/^Context {4}21\.1K tokens · context window unknown$/);
  });
});

describe('RequestsPanel', () => {
  it('lists requests newest first with time, model, tokens, duration and stop reason', async () => {
    const state = readyState();
    const { lines } = await renderOnce(h(RequestsPanel, { state, width: W, height: 4 }));
    expect(lines[0]).toMatch(/^Requests backend · model \(12\) +in cached +out +took stop$/);
    const newest = state.requests.at(-1)!;
    expect(lines[1]).toMatch(new RegExp(`^${clockTime(newest.startedAt)} mlx-lm · \\S+ +20\\.5K +20\\.1K +612 +18s end_turn$`));
    expect(lines[2]).toContain('289');
    expect(lines).toHaveLength(4);
  });

  it('shows an error in place of the stop reason, and the estimate when the backend never answered', async () => {
    const { lines } = await renderOnce(h(RequestsPanel, { state: crashedState(), width: 100, height: 3 }));
    expect(lines[1]).toMatch(/~21\.1K +– +– +– +– +4\.1s upstream connectio…$/);
    expect(lines[2]).toMatch(/20\.5K +20\.1K .* end_turn$/);
  });

  it('adds time to first token and decode rate on a wider terminal', async () => {
    const { lines } = await renderOnce(h(RequestsPanel, { state: readyState(), width: 100, height: 2 }));
    expect(lines[0]).toMatch(/in cached +out +TTFT tok\/s +took stop$/);
    expect(lines[1]).toMatch(/612 +1\.2s +35\.1 +18s end_turn$/);
  });

  it('fits 50 requests with long names into its lines and width', async () => {
    const { lines } = await renderOnce(h(RequestsPanel, { state: overflowState(), width: 60, height: 6 }));
    fits(lines, 60, 6);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^Requests/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d /);
  });
});

describe('ProgressPanel', () => {
  it('shows an install with its elapsed time and pip’s last lines', async () => {
    const { lines } = await renderOnce(h(ProgressPanel, { state: startingState(), width: W, height: 6, now: NOW }));
    expect(lines[0]).toMatch(/^\S mlx-lm installing: pip install mlx-lm==0\.28\.2 {2}42s$/);
    expect(lines.slice(1).map((l) => l.trim())).toEqual([
      'Downloading mlx_lm-0.28.2-py3-none-any.whl.metadata (9.6 kB)',
      'Collecting mlx>=0.29.0 (from mlx-lm==0.28.2)',
      '━━━━━━━━━━━━━━━━ 12.3/28.6 MB 8.1 MB/s eta 0:00:03',
      'Collecting transformers>=4.39.3 (from mlx-lm==0.28.2)',
    ]);
  });

  it('shares the lines among steps, and shows warm-ups that are running or failed', async () => {
    const { lines } = await renderOnce(h(ProgressPanel, { state: overflowState(), width: W, height: 5, now: NOW }));
    fits(lines, W, 5);
    expect(lines[0]).toContain('mlx-omni warming the prompt cache');
    expect(lines[1]).toContain('lmstudio starting: lms load');
    expect(lines[2]).toContain('load step 28');
    expect(lines[3]).toContain('load step 29');
    expect(lines[4]).toMatch(/^Warm-up {4}mlx-lm warming… · mlx-omni done in 1\.0s · lmstudio failed in 2\.0s/);
  });
});

describe('LogsPanel', () => {
  it('shows the tail of anyclaude’s log with time, level and source', async () => {
    const { lines } = await renderOnce(h(LogsPanel, { state: readyState(), width: W, height: 3, source: 'anyclaude' }));
    expect(lines[0]).toBe('Log · anyclaude  l: mlx-lm server log');
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d warn {2}proxy claude-code sent max_tokens 32000: capped to 8192$/);
    expect(lines[2]).toMatch(/info {2}proxy req_12 end_turn/);
  });

  it('shows the active backend’s server log instead', async () => {
    const { lines } = await renderOnce(h(LogsPanel, { state: readyState(), width: W, height: 10, source: 'backend' }));
    expect(lines[0]).toBe('Log · mlx-lm server  l: anyclaude log');
    expect(lines.slice(1)).toEqual(['Fetching 12 files: 100%|██████████| 12/12', 'Starting httpd at 127.0.0.1 on port 8080...', '127.0.0.1 - - "POST /v1/chat/completions HTTP/1.1" 200 -']);
  });

  it('explains an empty server log of a backend anyclaude did not start', async () => {
    const state: RunState = { ...readyState(), active: 'ollama', backendLog: [] };
    expect((await renderOnce(h(LogsPanel, { state, width: 100, height: 3, source: 'backend' }))).text).toContain('ollama was not started by anyclaude: its log is wherever it runs');
  });

  it('cuts long lines and strips their escapes', async () => {
    const { lines, raw } = await renderOnce(h(LogsPanel, { state: overflowState(), width: W, height: 8, source: 'anyclaude' }));
    fits(lines, W, 8);
    expect(raw).not.toContain('\t');
    expect(lines[7]).toMatch(/error a-very-long… line 199 with/);
  });
});

describe('HelpLine', () => {
  it('names the keys and the hotkey back to a hosted Claude Code', async () => {
    expect((await renderOnce(h(HelpLine, { state: readyState(), scope: 'dashboard', width: 100 }))).text).toBe(
      '1-9 switch · ↑↓ select · enter switch · m model · l logs · q leave · Ctrl-] back to Claude Code',
    );
  });

  it('leaves the hotkey out once Claude Code has exited', async () => {
    const state: RunState = { ...readyState(), claude: { state: 'exited', pid: undefined, exitCode: 0, hosted: true } };
    expect((await renderOnce(h(HelpLine, { state, scope: 'dashboard', width: 100 }))).text).not.toContain('Ctrl-]');
  });
});
