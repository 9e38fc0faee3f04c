/**
 * A session grown past a real model's window keeps working: the real Claude Code CLI through
 * `anyclaude up` on the real mlx_lm.server (SmolLM2, its window cut to 4K with --context so a
 * few turns fill it), continued turn after turn with `--continue`. Claude Code asks the model for
 * a summary once the threshold anyclaude set is passed, and what the user typed last still reaches
 * the model and is answered. The requests are read back from anyclaude's traces.
 *
 * SmolLM2 does not stop its summary by itself: it writes until the window is full, Claude Code
 * asks it to go on, and on "prompt is too long" gives up compacting and sends the turn whole
 * (it still fits). test/e2e/autocompact.test.ts shows the rest of the mechanics with a backend
 * whose summary ends; this file shows them holding on a real server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnyclaude, type CliRun } from '../support/cli.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';
import { listTraceFiles } from '../../src/traces/trace-store.js';
import { readTrace } from '../../src/traces/trace-file.js';
import { compactAtTokens } from '../../src/claude/autocompact.js';

const WINDOW = 4096;
const RUN_LIMIT_MS = 300_000;
const SMALL_PROMPT = ['--system-prompt', 'You are a helpful assistant. Answer in one short sentence.', '--tools', ''];

/** Plain prose, about one token a word. */
function prose(words: number, seed: string): string {
  const vocabulary = ['the', 'river', 'runs', 'past', 'an', 'old', 'mill', 'where', 'children', 'play', 'in', 'summer', 'and', 'autumn'];
  return [seed, ...Array.from({ length: words }, (_, i) => vocabulary[(i * 5 + 3) % vocabulary.length])].join(' ');
}

interface Sent {
  lastUser: string;
  promptTokens: number | undefined;
  status: number;
}

describe('a session past a real model window', () => {
  let fixture: { home: string; model: string };
  beforeAll(async () => {
    fixture = await prepareMlxFixture();
  }, 600_000);

  it('compacts, then answers the turn the user typed', async () => {
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-long-'));
    const project = await mkdtemp(join(tmpdir(), 'anyclaude-long-project-'));
    const home = join(userHome, '.anyclaude');
    await mkdir(home, { recursive: true });
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    const up = (args: string[]): Promise<CliRun> =>
      runAnyclaude(['up', '--backend', 'mlx-lm', '--model', fixture.model, '--context', String(WINDOW), '--trace', '--no-tui', '--', ...SMALL_PROMPT, ...args], {
        userHome,
        home,
        cwd: project,
        timeoutMs: RUN_LIMIT_MS,
      });
    const turns = [
      ['-p', `${prose(650, 'ALPHA-1')}\nWhat is this text about?`],
      ['--continue', '-p', `${prose(650, 'ALPHA-2')}\nAnd this one?`],
      ['--continue', '-p', 'Now say BRAVO-2.'],
    ];
    for (const [i, args] of turns.entries()) {
      const run = await up(args);
      expect(run.exitCode, `turn ${i + 1}: ${run.stderr.slice(-2000)}`).toBe(0);
      expect(run.stdout.trim(), `turn ${i + 1}`).not.toBe('');
    }

    const files = await listTraceFiles(join(home, 'traces'));
    const read = await Promise.all(files.map((f) => readTrace(f.path)));
    const sent: Sent[] = read
      .flatMap((r) => (r.ok ? [r.trace] : []))
      .map((t) => ({ t, body: JSON.parse(t.requestIn.body) as { max_tokens?: number; messages?: Array<{ role: string; content: unknown }> } }))
      .filter(({ body }) => body.max_tokens !== 1)
      .sort((a, b) => a.t.startedAt - b.t.startedAt)
      .map(({ t, body }) => ({
        lastUser: JSON.stringify((body.messages ?? []).filter((m) => m.role === 'user').at(-1)?.content ?? ''),
        promptTokens: t.metrics?.promptTokens ?? undefined,
        status: t.metrics?.status ?? 0,
      }));
    const compaction = sent.findIndex((s) => /create a detailed summary/.test(s.lastUser));
    const trail = JSON.stringify(sent.map((s) => ({ ...s, lastUser: s.lastUser.slice(0, 60) })));
    expect(compaction, trail).toBeGreaterThan(0);
    // Claude Code asked for the summary once a reply had passed the threshold anyclaude set, and the model wrote one.
    expect(sent.slice(0, compaction).some((s) => (s.promptTokens ?? 0) > compactAtTokens(WINDOW)), trail).toBe(true);
    expect(sent[compaction]?.status, trail).toBe(200);
    // What the user typed last reached the model after that, and was answered.
    const answered = sent.slice(compaction + 1).filter((s) => s.lastUser.includes('BRAVO-2'));
    expect(answered.at(-1)?.status, trail).toBe(200);
    expect(answered.at(-1)?.promptTokens ?? WINDOW, trail).toBeLessThan(WINDOW);
  }, 3 * RUN_LIMIT_MS + 60_000);
});
