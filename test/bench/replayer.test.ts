/**
 * The replayer against two running OpenAI-compatible servers (scripted, byte-faithful imitations of
 * mlx_lm.server and LM Studio): `--backend mlx-lm,lmstudio` as a user would pass it, with
 * --strip-tools and --max-tokens on a real Claude Code capture with 24 tools and a tool round
 * (the OpenAI protocol: the imitations do not serve /v1/messages).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReplay, type ReplayInput } from '../../src/bench/replay-input.js';
import { runBench } from '../../src/bench/replayer.js';
import type { BenchRun } from '../../src/bench/results.js';
import { resolveUpSettings } from '../../src/settings/up-settings.js';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { startScriptedUpstream, type RecordedRequest, type ScriptedUpstream } from '../support/scripted-upstream.js';

const PROMPT_TOKENS = 20_000;
const CACHED_TOKENS = 19_000;
const MAX_TOKENS = 8;

describe('runBench against two running backends', () => {
  let mlx: ScriptedUpstream;
  let lmstudio: ScriptedUpstream;
  let input: ReplayInput;
  let run: BenchRun;
  const progress: string[] = [];

  beforeAll(async () => {
    mlx = await startScriptedUpstream({ flavor: 'mlx-lm' });
    lmstudio = await startScriptedUpstream({ flavor: 'lmstudio', contextLength: 32_768 });
    for (const server of [mlx, lmstudio]) server.setDefault({ kind: 'text', text: 'Done.', promptTokens: PROMPT_TOKENS, cachedTokens: CACHED_TOKENS });
    input = await loadReplay(join(FIXTURES_DIR, 'print-tool-turn'));
    const home = await mkdtemp(join(tmpdir(), 'bench-replayer-'));
    const settings = resolveUpSettings({ backend: 'mlx-lm,lmstudio', protocol: 'openai' }, { env: { MLX_LM_URL: mlx.url, LMSTUDIO_URL: lmstudio.url }, config: {}, configFile: join(home, 'config.json') });
    run = await runBench({ input, settings, home, stripTools: true, maxTokens: MAX_TOKENS, anyclaudeVersion: 'test', onProgress: (p) => progress.push(`${p.backend} ${p.done}/${p.total}`) });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([mlx?.close(), lmstudio?.close()]);
  });

  const chats = (server: ScriptedUpstream): Array<RecordedRequest & { body: Record<string, unknown> }> =>
    server.chatRequests as Array<RecordedRequest & { body: Record<string, unknown> }>;

  it('benches the backends one after the other, in the order given, neither started by anyclaude', () => {
    expect(run.backends.map((b) => b.backend)).toEqual(['mlx-lm', 'lmstudio']);
    expect(run.backends.map((b) => b.managed)).toEqual([false, false]);
    expect(Math.min(...chats(lmstudio).map((r) => r.receivedAt))).toBeGreaterThanOrEqual(Math.max(...chats(mlx).map((r) => r.receivedAt)));
    expect(progress.filter((p) => p.startsWith('lmstudio')).length).toBeGreaterThan(0);
    expect(progress.indexOf(`mlx-lm ${input.requests.length + 1}/${input.requests.length + 1}`)).toBeLessThan(progress.findIndex((p) => p.startsWith('lmstudio')));
  });

  it('sends each replayed turn, the warm-up and the new session, without tools and capped', () => {
    for (const server of [mlx, lmstudio]) {
      const received = chats(server);
      expect(received).toHaveLength(input.requests.length + 2);
      for (const request of received) {
        expect(request.body.tools).toBeUndefined();
        expect(request.body.tool_choice).toBeUndefined();
        expect((request.body.max_tokens ?? request.body.max_completion_tokens) as number).toBeLessThanOrEqual(MAX_TOKENS);
      }
      // The tool round still reaches the backend: the replay changes only what the options name.
      expect(JSON.stringify(received[1]!.body.messages)).toContain('"role":"tool"');
    }
  });

  it("takes every number from the proxy's metrics, and the new session is a session of its own", () => {
    for (const backend of run.backends) {
      expect(backend.error).toBeNull();
      expect(backend.warmup).toMatchObject({ ok: true, restarted: false });
      expect(backend.turns.map((t) => t.phase)).toEqual([...input.requests.map(() => 'replay'), 'new-session']);
      for (const turn of backend.turns) {
        expect(turn.error).toBeNull();
        expect(turn.promptTokens).toBe(PROMPT_TOKENS);
        // LM Studio does not report cached prompt tokens (its imitation neither): the bench shows none rather than 0.
        expect(turn.cachedShare, `${backend.backend} turn ${turn.turn}`).toBe(backend.backend === 'mlx-lm' ? CACHED_TOKENS / PROMPT_TOKENS : null);
        expect(turn.ttftMs).not.toBeNull();
      }
      const [first, second] = backend.turns;
      expect(second!.prefixPreserved).toBe(1);
      expect(backend.turns.at(-1)!.session).not.toBe(first!.session);
      expect(backend.turns.at(-1)!.prefixPreserved).toBeNull();
    }
  });
});

describe('runBench on a capture with a title request before turn 1', () => {
  it("warms with turn 1's system prompt and tools and replays turn 1 as the new session, not the title request", async () => {
    const mlx = await startScriptedUpstream({ flavor: 'mlx-lm' });
    try {
      const input = await loadReplay(join(FIXTURES_DIR, 'interactive'));
      const [title, turn1] = input.requests;
      expect(title!.body.tools).toEqual([]);
      const home = await mkdtemp(join(tmpdir(), 'bench-replayer-'));
      const settings = resolveUpSettings({ backend: 'mlx-lm', protocol: 'openai' }, { env: { MLX_LM_URL: mlx.url }, config: {}, configFile: join(home, 'config.json') });
      const run = await runBench({ input, settings, home, turns: 2, maxTokens: MAX_TOKENS, anyclaudeVersion: 'test' });
      const received = mlx.chatRequests.map((r) => r.body as { messages: unknown[]; tools?: unknown[] });
      // title, turn 1, the warm-up, the new session.
      expect(received).toHaveLength(4);
      const [replayedTitle, replayedTurn1, warmup, fresh] = received;
      expect(warmup!.tools).toEqual(replayedTurn1!.tools);
      expect(fresh!.messages).toEqual(replayedTurn1!.messages);
      expect(fresh!.messages).not.toEqual(replayedTitle!.messages);
      expect(run.backends[0]!.turns.at(-1)!.messages).toBe(turn1!.body.messages.length);
    } finally {
      await mlx.close();
    }
  }, 60_000);
});
