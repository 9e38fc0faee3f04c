/**
 * The product as a person meets it: `anyclaude up` in a real terminal (tmux), the real Claude Code
 * CLI, two scripted backends (LM Studio and Ollama flavours) on real sockets. Prompt, reply and
 * status line; the dashboard on the hotkey with live numbers; a switch to the second backend;
 * back to Claude Code's screen as it was; the next prompt goes to the new backend; a resize; quit;
 * no process left behind. ANYCLAUDE_CAPTURE_DIR=… keeps the screens (the README shows them).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRunningInstances, pidAlive, type RunFileRecord } from '../../src/run/run-file.js';
import type { RunState } from '../../src/run/run-state.js';
import { BIN } from '../support/cli.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startTmux, type Tmux } from '../support/tmux.js';

const LM_REPLY = 'Hello from the scripted LM Studio backend.';
const OLLAMA_REPLY = 'Hello from the scripted Ollama backend.';

async function capture(name: string, screen: string): Promise<void> {
  const dir = process.env.ANYCLAUDE_CAPTURE_DIR;
  if (dir === undefined || dir === '') return;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.txt`), screen);
}

describe('anyclaude up in a real terminal: Claude Code hosted, the dashboard one key away', () => {
  let lmstudio: ScriptedUpstream;
  let ollama: ScriptedUpstream;
  let work: string;
  let term: Tmux;
  let instance: RunFileRecord;
  let claudePid: number | undefined;

  beforeAll(async () => {
    lmstudio = await startScriptedUpstream({ flavor: 'lmstudio', contextLength: 32_768, delayMsPerChunk: 15 });
    lmstudio.setDefault({ kind: 'text', text: LM_REPLY, promptTokens: 21_000, chunkSize: 3 });
    ollama = await startScriptedUpstream({ flavor: 'ollama', contextLength: 65_536, delayMsPerChunk: 15 });
    ollama.setDefault({ kind: 'text', text: OLLAMA_REPLY, promptTokens: 21_000, chunkSize: 3 });
    work = await mkdtemp(join(tmpdir(), 'anyclaude-tmux-'));
    await Promise.all(['home', 'project'].map((d) => mkdir(join(work, d))));
    const env = [
      `HOME=${join(work, 'home')}`,
      `ANYCLAUDE_HOME=${join(work, 'anyclaude')}`,
      `LMSTUDIO_URL=${lmstudio.url}`,
      `OLLAMA_HOST=${ollama.url}`,
      'TERM=xterm-256color',
    ].join(' ');
    term = await startTmux({
      command: `env ${env} ${process.execPath} ${BIN} up --backend lmstudio --protocol openai; echo "EXITED:$?"; sleep 60`,
      cwd: join(work, 'project'),
      columns: 120,
      rows: 36,
    });
  }, 60_000);

  afterAll(async () => {
    await term?.kill();
    await Promise.all([lmstudio?.close(), ollama?.close()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const state = async (): Promise<RunState> => {
    const response = await request(`${instance.url}/_anyclaude/state`, { headers: { authorization: `Bearer ${instance.key}` } });
    return (await response.body.json()) as RunState;
  };

  it('starts Claude Code in the hosted terminal; a prompt gets its reply and the status line shows the backend', async () => {
    const trust = await term.waitFor('the trust screen', (s) => s.includes('trust this folder'), 60_000);
    await capture('trust', trust);
    await term.keys('Enter');
    await term.waitFor('the prompt', (s) => s.includes('Claude Code v') && s.includes('❯'));
    [instance] = (await findRunningInstances(join(work, 'anyclaude'))) as [RunFileRecord];
    expect(instance).toBeDefined();
    const hosted = await state();
    expect(hosted.claude).toMatchObject({ state: 'running', hosted: true });
    claudePid = hosted.claude.pid;

    await term.keys('hello there', { literal: true });
    await term.keys('Enter');
    const replied = await term.waitFor('the reply and the status line', (s) => s.includes(LM_REPLY) && /lmstudio · qwen3-4b · \d+ tok\/s/.test(s), 60_000);
    await capture('claude-code', replied);
    expect(lmstudio.chatRequests.length).toBeGreaterThan(0);

    // `anyclaude status` from another shell finds this instance through its run file.
    const { execa } = await import('execa');
    const env = { HOME: join(work, 'home'), ANYCLAUDE_HOME: join(work, 'anyclaude') };
    const human = await execa(process.execPath, [BIN, 'status'], { env, reject: false });
    expect(human.exitCode).toBe(0);
    expect(String(human.stdout)).toMatch(/lmstudio/);
    expect(String(human.stdout)).toContain('qwen/qwen3-4b');
    const json = JSON.parse(String((await execa(process.execPath, [BIN, 'status', '--json'], { env })).stdout)) as RunState;
    expect(json.sessions.length).toBeGreaterThan(0);
    expect(json.claude).toMatchObject({ state: 'running', hosted: true });
  }, 120_000);

  it('the hotkey shows the dashboard with live numbers; a number key switches to the second backend', async () => {
    await term.keys('C-]');
    await term.waitFor('the dashboard', (s) => s.includes('Backends') && s.includes('back to Claude Code'));
    // Found by discovery, which a loaded machine can make wait for its next round.
    const dashboard = await term.waitFor('Ollama in the backends', (s) => s.includes('ollama'), 45_000);
    expect(dashboard).toMatch(/lmstudio\s+external\s+qwen\/qwen3-4b\s+32K ctx/);
    expect(dashboard).toMatch(/Decode .*tok\/s/);
    expect(dashboard).toMatch(/Context .*% of 32K/);
    expect(dashboard).toContain('lmstudio · qwen/qwen3-4b');
    // Each line fits the 120 columns, and the frame leaves the last row free.
    expect(Math.max(...dashboard.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(120);
    await capture('dashboard', await term.screenWithColours());
    await capture('dashboard-plain', dashboard);

    await term.keys('2');
    const switched = await term.waitFor('the switch', (s) => s.includes('requests now go to ollama'), 30_000);
    expect(switched).toMatch(/›\s*2 ● ollama/);
    expect((await state()).active).toBe('ollama');
  }, 90_000);

  it('the hotkey again restores Claude Code’s screen as it was; the next prompt goes to the new backend', async () => {
    // Claude Code redraws its status line (every 2 s) while the dashboard is shown: only the mirror sees it.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await term.keys('C-]');
    const back = await term.waitFor('Claude Code again', (s) => s.includes(LM_REPLY) && s.includes('hello there') && !s.includes('back to Claude Code'));
    expect(back).toContain('Claude Code v');
    // Restored cell for cell, wide characters included (⚡ is two columns in the terminal and the mirror).
    expect(back).toMatch(/^ {2}⚡ ollama · qwen3:4b · ctx \d+%/m);
    const before = ollama.chatRequests.length;
    await term.keys('second prompt', { literal: true });
    await term.keys('Enter');
    const replied = await term.waitFor('the second reply', (s) => s.includes(OLLAMA_REPLY) && /ollama · qwen3:4b/.test(s), 60_000);
    expect(ollama.chatRequests.length).toBeGreaterThan(before);
    expect(replied).toContain(LM_REPLY);
    await capture('after-switch', replied);
  }, 90_000);

  it('a resize reaches Claude Code, which redraws to the new width', async () => {
    await term.resize(90, 30);
    const narrow = await term.waitFor('a redraw at 90 columns', (s) => s.split('\n').some((l) => /^─{90}$/.test(l)) && s.includes(OLLAMA_REPLY));
    expect(narrow.split('\n').length).toBeLessThanOrEqual(30);
    await term.keys('C-]');
    const dashboard = await term.waitFor('the dashboard at 90×30', (s) => s.includes('Backends') && s.includes('back to Claude Code'));
    expect(Math.max(...dashboard.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(90);
    await term.keys('C-]');
    await term.waitFor('Claude Code again', (s) => s.includes(OLLAMA_REPLY) && !s.includes('back to Claude Code'));
  }, 60_000);

  it('`anyclaude dashboard` in another terminal shows the same run and switches it', async () => {
    const env = `HOME=${join(work, 'home')} ANYCLAUDE_HOME=${join(work, 'anyclaude')} TERM=xterm-256color`;
    const other = await startTmux({ command: `env ${env} ${process.execPath} ${BIN} dashboard; echo "DASHBOARD-EXITED:$?"; sleep 30`, cwd: work, columns: 100, rows: 30 });
    try {
      const shown = await other.waitFor('the attached dashboard', (s) => s.includes('Backends') && /›?\s*2 ● ollama/.test(s));
      expect(shown).toMatch(/ollama · qwen3:4b/);
      await other.keys('1');
      await other.waitFor('the switch back to lmstudio', (s) => /1 ● lmstudio/.test(s), 20_000);
      expect((await state()).active).toBe('lmstudio');
      await other.keys('q');
      await other.waitFor('the dashboard to quit', (s) => s.includes('DASHBOARD-EXITED:0'));
    } finally {
      await other.kill();
    }
    // Claude Code saw nothing of it: its screen is as it was.
    expect(await term.screen()).toContain(OLLAMA_REPLY);
  }, 60_000);

  it('/exit ends Claude Code and anyclaude with code 0, and leaves no process behind', async () => {
    await term.keys('/exit', { literal: true });
    await term.keys('Enter');
    await term.waitFor('anyclaude to exit', (s) => s.includes('EXITED:0'), 30_000);
    expect(pidAlive(instance.pid)).toBe(false);
    if (claudePid !== undefined) expect(pidAlive(claudePid)).toBe(false);
    expect(await findRunningInstances(join(work, 'anyclaude'))).toEqual([]);
  }, 60_000);
});

describe('anyclaude up without a terminal (pipes, CI)', () => {
  it('runs as --no-tui: Claude Code owns stdio, no screen switching, the reply on stdout', async () => {
    const { execa } = await import('execa');
    const upstream = await startScriptedUpstream({ flavor: 'lmstudio' });
    upstream.setDefault({ kind: 'text', text: LM_REPLY });
    const work = await mkdtemp(join(tmpdir(), 'anyclaude-pipes-'));
    try {
      const result = await execa(process.execPath, [BIN, 'up', '--backend', 'lmstudio', '--protocol', 'openai', '--', '-p', 'hello'], {
        cwd: work,
        env: { HOME: work, ANYCLAUDE_HOME: join(work, 'anyclaude'), LMSTUDIO_URL: upstream.url },
        stdin: 'ignore',
        reject: false,
        timeout: 90_000,
      });
      expect(result.exitCode).toBe(0);
      expect(String(result.stdout).trim()).toBe(LM_REPLY);
      for (const output of [String(result.stdout), String(result.stderr)]) {
        expect(output).not.toContain('\x1b[?1049h');
        expect(output).not.toContain('back to Claude Code');
      }
    } finally {
      await upstream.close();
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the hotkey setting', () => {
  it('an unusable hotkey fails at once, naming where it was set and the keys that work', async () => {
    const { execa } = await import('execa');
    const work = await mkdtemp(join(tmpdir(), 'anyclaude-hotkey-'));
    try {
      const env = { HOME: work, ANYCLAUDE_HOME: join(work, 'anyclaude'), PATH: process.env.PATH ?? '' };
      const flag = await execa(process.execPath, [BIN, 'up', '--hotkey', 'ctrl-1'], { env, extendEnv: false, reject: false, stdin: 'ignore' });
      expect(flag.exitCode).toBe(1);
      expect(String(flag.stderr)).toMatch(/^anyclaude: flag --hotkey: Unsupported hotkey "ctrl-1".*ctrl-\]/);
      expect(String(flag.stderr)).toContain('fix: pass --hotkey ctrl-]');
      const variable = await execa(process.execPath, [BIN, 'up'], { env: { ...env, ANYCLAUDE_HOTKEY: 'alt-x' }, extendEnv: false, reject: false, stdin: 'ignore' });
      expect(String(variable.stderr)).toMatch(/^anyclaude: env ANYCLAUDE_HOTKEY: Unsupported hotkey "alt-x"/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
