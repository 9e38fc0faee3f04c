/**
 * `anyclaude bench` against the real mlx_lm.server on CPU (SmolLM2-135M): a short real Claude Code
 * conversation (test/fixtures/bench-short-chat) replayed through anyclaude's proxy, every metric
 * measured, then a cold restart, the warm-up and a new session's first turn.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRuns } from '../../src/bench/compare.js';
import { loadReplay } from '../../src/bench/replay-input.js';
import { benchRunSchema, type BenchRun } from '../../src/bench/results.js';
import { runBenchCommand } from '../../src/cli/bench-command.js';
import { prepareMlxFixture } from '../support/mlx-fixture.js';

const SHORT_CHAT = fileURLToPath(new URL('../fixtures/bench-short-chat/', import.meta.url));
/** The first turn and its follow-ups before Claude Code rewrote the history (request 5): enough for every metric, quick on 2 cores. */
const TURNS = 4;
const MAX_TOKENS = 8;

describe('anyclaude bench with a real mlx_lm.server', () => {
  let run: BenchRun;
  let stdout = '';
  let stderr = '';
  let dir: string;

  beforeAll(async () => {
    const fixture = await prepareMlxFixture();
    dir = await mkdtemp(join(tmpdir(), 'bench-real-'));
    run = await runBenchCommand(
      SHORT_CHAT,
      { backend: 'mlx-lm', model: fixture.model, turns: TURNS, maxTokens: MAX_TOKENS, json: true, chart: join(dir, 'run.svg'), save: dir },
      { env: { ANYCLAUDE_HOME: fixture.home, PATH: process.env.PATH ?? '' }, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    );
  }, 600_000);

  it('prints the run as JSON, saves it for compare and draws the chart', async () => {
    expect(benchRunSchema.parse(JSON.parse(stdout))).toEqual(run);
    const { runs } = await loadRuns(dir);
    expect(runs.map((r) => r.run)).toEqual([run]);
    const svg = await readFile(join(dir, 'run.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(svg).toContain('>mlx-lm<');
    // Progress went to stderr, a line per step (not a terminal), so stdout stayed pure JSON.
    for (let i = 1; i <= TURNS; i++) expect(stderr).toContain(`turn ${i}/${TURNS}`);
  });

  it('replays every turn through the proxy with every metric present and sane', async () => {
    const [backend] = run.backends;
    expect(run.backends).toHaveLength(1);
    expect(backend!.error).toBeNull();
    expect(backend!.managed).toBe(true);
    expect(backend!.startMs).toBeGreaterThan(0);
    const replay = backend!.turns.filter((t) => t.phase === 'replay');
    expect(replay).toHaveLength(TURNS);
    const input = (await loadReplay(SHORT_CHAT)).requests.slice(0, TURNS);
    replay.forEach((t, i) => {
      expect(t.error, `turn ${t.turn}`).toBeNull();
      expect(t.status).toBe(200);
      expect(t.stream).toBe(input[i]!.body.stream === true);
      expect(t.messages).toBe(input[i]!.body.messages.length);
      expect(t.ttftMs).toBeGreaterThan(0);
      expect(t.ttftMs!).toBeLessThanOrEqual(t.totalMs);
      expect(t.prefillTokensPerSec).toBeGreaterThan(0);
      expect(t.decodeTokensPerSec).toBeGreaterThan(0);
      expect(t.promptTokens).toBeGreaterThan(0);
      expect(t.cachedTokens!).toBeLessThan(t.promptTokens!);
      // --max-tokens capped what the model wrote.
      expect(t.outputTokens).toBeGreaterThan(0);
      expect(t.outputTokens!).toBeLessThanOrEqual(MAX_TOKENS);
    });
    expect(replay[0]!.prefixPreserved).toBeNull();
    for (const [i, t] of replay.entries()) {
      if (i === 0) continue;
      // Each of these follow-ups is the previous request plus new messages: the prompt grows, the backend finds the rest cached.
      expect(input[i]!.body.messages.length).toBeGreaterThan(input[i - 1]!.body.messages.length);
      expect(t.promptTokens!).toBeGreaterThan(replay[i - 1]!.promptTokens!);
      expect(t.cachedShare, `turn ${t.turn}`).toBeGreaterThan(0);
      expect(t.prefixPreserved).toBe(1);
      expect(t.prefixStability).toBeGreaterThan(0);
      expect(t.prefixStability!).toBeLessThan(1);
    }
    expect(backend!.summary.firstTurnTtftMs).toBe(replay[0]!.ttftMs);
    expect(backend!.summary.errors).toBe(0);
  });

  it("times a new session's first turn after a cold restart and the warm-up: its system prompt is found cached", () => {
    const [backend] = run.backends;
    expect(backend!.warmup).toMatchObject({ ok: true, restarted: true });
    const fresh = backend!.turns.find((t) => t.phase === 'new-session');
    const first = backend!.turns[0]!;
    expect(fresh).toBeDefined();
    expect(fresh!.error).toBeNull();
    expect(fresh!.session).not.toBe(first.session);
    expect(fresh!.prefixPreserved).toBeNull();
    expect(fresh!.promptTokens).toBe(first.promptTokens);
    // The warm-up put the system prompt in the cache; the user's message was not in it.
    expect(fresh!.cachedTokens).toBeGreaterThan(first.cachedTokens ?? 0);
    expect(fresh!.cachedTokens!).toBeLessThan(fresh!.promptTokens!);
    expect(backend!.summary.newSessionTtftMs).toBe(fresh!.ttftMs);
  });
});
