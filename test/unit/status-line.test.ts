/** Claude Code's status line, formatted from realistic run states. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusLineArgs, userStatusLine } from '../../src/claude/status-line-settings.js';
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import { emptyRunState, type RunState, type SessionView } from '../../src/run/run-state.js';
import { COMPACT_ADVICE, formatStatusLine, formatStatusLineError, looksLikeRunState, visibleWidth } from '../../src/run/status-line.js';
import { backendView, requestMetrics } from '../support/run-state-fixtures.js';

const ESC = '\x1b';

const backend = backendView;
const request = requestMetrics;

function session(last: RequestMetrics, requests = 7): SessionView {
  return { sessionId: last.sessionId ?? 'none', last, requests };
}

function running(overrides: Partial<RunState> = {}): RunState {
  return emptyRunState({
    revision: 42,
    pid: 4242,
    phase: 'running',
    proxyUrl: 'http://127.0.0.1:51234',
    active: 'lmstudio',
    backends: [backend(), backend({ id: 'mlx-lm', kind: 'mlx-lm', phase: 'available', active: false, model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', contextWindow: 131_072, managed: true })],
    claude: { state: 'running', pid: 4300, exitCode: undefined, hosted: true },
    ...overrides,
  });
}

const plain = { color: false };

describe('formatStatusLine', () => {
  it('says ready, with the backend and model, before the session sent anything', () => {
    expect(formatStatusLine(running(), 'session-a', plain)).toBe('⚡ lmstudio · qwen3-coder-30b · ready');
  });

  it("shows the session's last request: decode speed, cached share and context fill", () => {
    // 20,000 + 316 tokens of 65,536 = 31 %; 19,600 of 20,000 cached = 98 %.
    const state = running({ sessions: [session(request())], requests: [request()] });
    expect(formatStatusLine(state, 'session-a', plain)).toBe('⚡ lmstudio · qwen3-coder-30b · 35 tok/s · cache 98% · ctx 31%');
  });

  it('computes the fill from prompt and output tokens when the proxy left contextFillPct out', () => {
    const last = request({ promptTokens: 40_000, outputTokens: 1_000, contextFillPct: undefined });
    expect(formatStatusLine(running({ sessions: [session(last)] }), 'session-a', plain)).toContain('ctx 63%');
  });

  it('turns the context yellow from 75 %', () => {
    const last = request({ promptTokens: 52_000, outputTokens: 400 }); // 80 %
    const line = formatStatusLine(running({ sessions: [session(last)] }), 'session-a', { color: true });
    expect(line).toContain(`${ESC}[33mctx 80%${ESC}[0m`);
    expect(line).not.toContain(COMPACT_ADVICE);
  });

  it('turns it red from 90 % and says what to do', () => {
    const last = request({ promptTokens: 62_000, outputTokens: 300 }); // 95 %
    const line = formatStatusLine(running({ sessions: [session(last)] }), 'session-a', { color: true });
    expect(line).toContain(`${ESC}[31mctx 95%${ESC}[0m`);
    expect(line).toContain(`${ESC}[31m${COMPACT_ADVICE}${ESC}[0m`);
    expect(formatStatusLine(running({ sessions: [session(last)] }), 'session-a', plain)).toMatch(/ctx 95% · \/compact or start a new conversation$/);
  });

  it('says when --context-strategy window left part of the conversation out', () => {
    const last = request({ promptTokens: 50_000, outputTokens: 400, trimmedMessages: 12, trimmedTokens: 30_000 });
    const line = formatStatusLine(running({ sessions: [session(last)] }), 'session-a', { color: true });
    expect(line).toContain(`${ESC}[33m✂ 12 msgs left out${ESC}[0m`);
    expect(formatStatusLine(running({ sessions: [session(request())] }), 'session-a', plain)).not.toContain('left out');
  });

  it('shows a model download with its progress, in place of "starting"', () => {
    const download = { label: 'Qwen3-Coder-30B', repo: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', phase: 'downloading' as const, totalBytes: 17_200_000_000, doneBytes: 8_944_000_000, resumedBytes: 0, bytesPerSecond: 85_300_000, etaSeconds: 97, file: 'model.safetensors', filesDone: 3, filesTotal: 9, startedAt: 0 };
    const state = running({
      active: 'mlx-lm',
      backends: [backend({ id: 'mlx-lm', kind: 'mlx-lm', phase: 'starting', model: undefined, contextWindow: undefined, managed: true })],
      progress: [{ backend: 'mlx-lm', step: 'download', detail: 'Qwen3-Coder-30B', startedAt: 0, lines: [], download }],
    });
    expect(formatStatusLine(state, undefined, plain)).toBe('⟳ downloading Qwen3-Coder-30B 52% of 17.2 GB, ETA 1m37s · mlx-lm');
  });

  it('marks a backend that is starting or warming, and a switch under way', () => {
    const starting = running({ backends: [backend({ phase: 'starting' })] });
    expect(formatStatusLine(starting, 'session-a', plain)).toBe('⟳ starting lmstudio · qwen3-coder-30b');
    const warming = running({ backends: [backend({ phase: 'warming' })], sessions: [session(request())] });
    expect(formatStatusLine(warming, 'session-a', plain)).toBe('⟳ warming lmstudio · qwen3-coder-30b · 35 tok/s · cache 98% · ctx 31%');
    const warmup = running({ warmups: [{ backend: 'lmstudio', phase: 'warming', ms: undefined, detail: undefined }] });
    expect(formatStatusLine(warmup, undefined, plain)).toMatch(/^⟳ warming lmstudio/);
    const installing = running({ progress: [{ backend: 'lmstudio', step: 'install', detail: 'pip install mlx-lm', startedAt: 0, lines: [] }] });
    expect(formatStatusLine(installing, undefined, plain)).toMatch(/^⟳ installing lmstudio/);
    const switching = running({ switching: { to: 'mlx-lm', model: undefined, detail: 'loading the model' } });
    expect(formatStatusLine(switching, 'session-a', plain)).toBe('⟳ switching to mlx-lm · lmstudio · qwen3-coder-30b');
  });

  it('names state.active at once after a switch, not the backend of the last request', () => {
    const mlx = backend({ id: 'mlx-lm', kind: 'mlx-lm', model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', contextWindow: 32_768, managed: true });
    const state = running({ active: 'mlx-lm', backends: [backend({ active: false }), mlx], sessions: [session(request())] });
    const line = formatStatusLine(state, 'session-a', plain);
    // The old backend's speed and cache say nothing about the new one; the conversation's length still counts, against the new window.
    expect(line).toBe('⚡ mlx-lm · Qwen3-Coder-30B-A3B-Instruct-4bit · ctx 62%');
  });

  it('shows the run phase before any backend is active', () => {
    const state = emptyRunState({ phase: 'installing', phaseDetail: 'installing mlx-lm into ~/.anyclaude/venvs' });
    expect(formatStatusLine(state, undefined, plain)).toBe('⟳ installing mlx-lm into ~/.anyclaude/venvs');
  });

  it('counts tokens when the context window is unknown', () => {
    const last = request({ contextWindow: undefined, promptTokens: 31_200, outputTokens: 300 });
    const state = running({ backends: [backend({ contextWindow: undefined })], sessions: [session(last)] });
    expect(formatStatusLine(state, 'session-a', plain)).toBe('⚡ lmstudio · qwen3-coder-30b · 35 tok/s · cache 63% · ctx 32K tok');
  });

  it("picks this status line's own session out of two", () => {
    const a = request({ sessionId: 'session-a', promptTokens: 10_000, cachedTokens: 9_000, decodeTokensPerSec: 41.7 });
    const b = request({ sessionId: 'session-b', promptTokens: 50_000, cachedTokens: 49_900, decodeTokensPerSec: 28.1, startedAt: a.startedAt + 1000 });
    const state = running({ sessions: [session(a), session(b)] });
    expect(formatStatusLine(state, 'session-a', plain)).toBe('⚡ lmstudio · qwen3-coder-30b · 42 tok/s · cache 90% · ctx 16%');
    expect(formatStatusLine(state, 'session-b', plain)).toBe('⚡ lmstudio · qwen3-coder-30b · 28 tok/s · cache 99% · ctx 77%');
    // Unknown id: this session has not sent anything yet; no id at all: the one that ran last.
    expect(formatStatusLine(state, 'session-c', plain)).toBe('⚡ lmstudio · qwen3-coder-30b · ready');
    expect(formatStatusLine(state, undefined, plain)).toContain('28 tok/s');
  });

  it('fits a narrow width by dropping the least useful parts first, then cutting', () => {
    const last = request({ promptTokens: 62_000, outputTokens: 300 });
    const state = running({ sessions: [session(last)] });
    const full = formatStatusLine(state, 'session-a', plain);
    expect(visibleWidth(full)).toBeGreaterThan(60);
    const narrow = formatStatusLine(state, 'session-a', { color: false, width: 60 });
    expect(visibleWidth(narrow)).toBeLessThanOrEqual(60);
    // The cache share goes before the context warning and its advice.
    expect(narrow).not.toContain('cache');
    expect(narrow).toContain('ctx 95%');
    expect(narrow).toContain(COMPACT_ADVICE);
    const tiny = formatStatusLine(state, 'session-a', { color: true, width: 14 });
    expect(visibleWidth(tiny)).toBeLessThanOrEqual(14);
    expect(tiny.endsWith('…')).toBe(true);
  });

  it('writes no escape codes without color, and colors with it', () => {
    const last = request({ promptTokens: 62_000 });
    const state = running({ sessions: [session(last)], switching: { to: 'mlx-lm', model: undefined, detail: '' } });
    expect(formatStatusLine(state, 'session-a', plain)).not.toContain(ESC);
    expect(formatStatusLineError('not answering', { color: false })).toBe('⚡ anyclaude: not answering');
    expect(formatStatusLine(state, 'session-a', { color: true })).toContain(ESC);
    expect(formatStatusLineError('not answering')).toBe(`${ESC}[2m⚡ anyclaude: not answering${ESC}[0m`);
  });

  it('shows why the last request failed', () => {
    const last = request({ status: 400, error: 'prompt is too long: 70,120 tokens > 65,536', decodeTokensPerSec: undefined, outputTokens: undefined, cachedTokens: undefined });
    expect(formatStatusLine(running({ sessions: [session(last)] }), 'session-a', plain)).toContain('✗ prompt is too long');
  });

  it('accepts a real state and rejects what formatting would choke on', () => {
    expect(looksLikeRunState(JSON.parse(JSON.stringify(running({ sessions: [session(request())] }))))).toBe(true);
    expect(looksLikeRunState({ revision: 1, phase: 'running' })).toBe(false);
    expect(looksLikeRunState({ ...running(), sessions: [null] })).toBe(false);
  });
});

describe("the user's own status line", () => {
  async function layout(files: Record<string, unknown>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'anyclaude-statusline-'));
    for (const [file, content] of Object.entries(files)) {
      await mkdir(join(root, file, '..'), { recursive: true });
      await writeFile(join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return root;
  }
  const line = (command: string): unknown => ({ statusLine: { type: 'command', command } });

  it("is taken from the settings Claude Code would use: local project, project, then the user's", async () => {
    const root = await layout({
      'home/.claude/settings.json': line('echo user'),
      'home/work/.claude/settings.json': line('echo parent-project'),
      'home/work/app/.claude/settings.json': line('echo project'),
      'home/work/app/.claude/settings.local.json': line('echo local'),
      'config/settings.json': line('echo config-dir'),
    });
    const home = join(root, 'home');
    const app = join(home, 'work', 'app');
    expect(userStatusLine({ cwd: app, configDir: undefined, home })).toBe('echo local');
    expect(userStatusLine({ cwd: join(app, 'src'), configDir: undefined, home })).toBe('echo local');
    expect(userStatusLine({ cwd: join(home, 'work'), configDir: undefined, home })).toBe('echo parent-project');
    expect(userStatusLine({ cwd: root, configDir: join(root, 'config'), home })).toBe('echo config-dir');
    expect(userStatusLine({ cwd: root, configDir: undefined, home })).toBe('echo user');
  });

  it('skips broken files and settings without a command', async () => {
    const root = await layout({
      'p/.claude/settings.local.json': '{ not json',
      'p/.claude/settings.json': { statusLine: { type: 'command', command: '   ' }, model: 'x' },
      'h/.claude/settings.json': { theme: 'dark' },
    });
    expect(userStatusLine({ cwd: join(root, 'p'), configDir: undefined, home: join(root, 'h') })).toBeUndefined();
  });

  it("is handed to anyclaude's status line command, which --settings installs with correct quoting", () => {
    const node = "/opt/my node's/bin/node";
    const bin = '/home/u/anyclaude dev/bin/anyclaude.js';
    const { args, env } = statusLineArgs([node, bin, 'status', '--line'], 'bash ~/.claude/statusline.sh');
    expect(args[0]).toBe('--settings');
    const settings = JSON.parse(args[1] ?? '') as { statusLine: { type: string; command: string; padding: number } };
    expect(settings.statusLine).toEqual({ type: 'command', command: `'/opt/my node'\\''s/bin/node' '${bin}' status --line`, padding: 0 });
    // The shell Claude Code runs it with gets back the exact words.
    const words = execFileSync('sh', ['-c', `printf '%s\\n' ${settings.statusLine.command}`], { encoding: 'utf8' });
    expect(words).toBe(`${node}\n${bin}\nstatus\n--line\n`);
    expect(env).toEqual({ ANYCLAUDE_USER_STATUSLINE: 'bash ~/.claude/statusline.sh' });
  });

  it('is not chained when there is none, or when it is anyclaude itself', () => {
    expect(statusLineArgs(['node', 'anyclaude.js', 'status', '--line'], undefined).env).toEqual({});
    expect(statusLineArgs(['node', 'anyclaude.js', 'status', '--line'], "'/usr/bin/node' '/x/bin/anyclaude.js' status --line").env).toEqual({});
    expect(statusLineArgs(['node', 'anyclaude.js', 'status', '--line'], 'anyclaude status --line').env).toEqual({});
  });
});
