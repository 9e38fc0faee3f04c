/** Bench runs shaped like real ones (two backends, a replay and a new session), for the renderer and compare tests. */
import { BENCH_SCHEMA, summarise, type BackendResult, type BenchRun, type TurnResult } from '../../src/bench/results.js';

function turns(scale: number, count: number): TurnResult[] {
  const out: TurnResult[] = [];
  for (let i = 1; i <= count + 1; i++) {
    const fresh = i === count + 1;
    const prompt = fresh ? 130 : 130 + 90 * (i - 1);
    const cached = i === 1 ? 6 : fresh ? 37 : prompt - 90;
    out.push({
      turn: i,
      phase: fresh ? 'new-session' : 'replay',
      session: fresh ? 's2' : 's1',
      messages: fresh ? 1 : 2 * i - 1,
      stream: true,
      status: 200,
      error: null,
      stopReason: 'max_tokens',
      ttftMs: ((prompt - cached) / 40) * 1000 * scale,
      prefillTokensPerSec: 40 / scale,
      decodeTokensPerSec: 30 / scale,
      promptTokens: prompt,
      cachedTokens: cached,
      cachedShare: cached / prompt,
      outputTokens: 16,
      prefixStability: i === 1 || fresh ? null : (prompt - 90) / prompt,
      prefixPreserved: i === 1 || fresh ? null : 1,
      totalMs: ((prompt - cached) / 40 + 16 / 30) * 1000 * scale,
    });
  }
  return out;
}

function backend(name: string, scale: number, count: number): BackendResult {
  const list = turns(scale, count);
  return {
    backend: name,
    model: `/models/${name}-model`,
    url: 'http://127.0.0.1:8080',
    managed: name === 'mlx-lm',
    contextWindow: 8192,
    startMs: 5000 * scale,
    turns: list,
    warmup: { ok: true, ms: 900 * scale, detail: 'cached', restarted: name === 'mlx-lm' },
    summary: summarise(list),
    error: null,
  };
}

export function sampleRun(options: { backends: ReadonlyArray<[string, number]>; createdAt: string; turns?: number }): BenchRun {
  const count = options.turns ?? 4;
  return {
    schema: BENCH_SCHEMA,
    createdAt: options.createdAt,
    anyclaudeVersion: '0.1.0',
    machine: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23, os: 'Linux 6.1', arch: 'x64', node: 'v20.19.0', label: 'AMD EPYC, 2 cores' },
    input: { path: 'test/fixtures/bench-short-chat', kind: 'capture', requests: count, sessions: 1 },
    options: { maxTokens: 16, stripTools: false, turns: null },
    backends: options.backends.map(([name, scale]) => backend(name, scale, count)),
  };
}
