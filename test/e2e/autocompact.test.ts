/**
 * Claude Code compacts in time for the local model's real window: the real `anyclaude up` with
 * the real Claude Code CLI, against a scripted backend whose reported prompt size we choose.
 * A first `-p` turn reports a prompt just under, or just over, the threshold anyclaude derived
 * (src/claude/autocompact.ts); the `--continue` turn after it must (or must not) begin with
 * Claude Code's compaction request, and the user's new words must still reach the model after it.
 * This is the check of "which value lands where" in Claude Code 2.1.197's own arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnyclaude, type CliRun } from '../support/cli.js';
import { startScriptedUpstream, type RecordedRequest, type Reply } from '../support/scripted-upstream.js';
import { loadEncoder } from '../../src/proxy/token-counter.js';
import { autocompactEnv, claudeCompactThreshold, compactAtTokens } from '../../src/claude/autocompact.js';

const WINDOW = 16_384;
const RUN_LIMIT_MS = 120_000;
/** Claude Code's own prompt shrunk, so the conversation is what fills the window (as in a long session). */
const SMALL_PROMPT = ['--system-prompt', 'You are a helpful assistant.', '--tools', ''];

interface ChatBody {
  max_tokens?: number;
  messages?: Array<{ role: string; content: unknown }>;
}

function lastUserText(rec: RecordedRequest): string {
  const messages = (rec.body as ChatBody).messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return JSON.stringify(last?.content ?? '');
}

const isWarmup = (rec: RecordedRequest): boolean => (rec.body as ChatBody).max_tokens === 1;
const isCompaction = (rec: RecordedRequest): boolean => /create a detailed summary/.test(lastUserText(rec));

/** What the backend counts: the tokenizer the proxy's own estimate uses, so the two agree as a real backend's would. */
const encoder = await loadEncoder();
const promptTokensOf = (rec: RecordedRequest): number => encoder.encode(JSON.stringify((rec.body as ChatBody).messages ?? [])).length;

/** Ordinary English prose of `tokens` tokens (each word is one). */
function prose(tokens: number, seed: string): string {
  const words = ['the', 'model', 'reads', 'a', 'file', 'and', 'writes', 'tests', 'for', 'every', 'branch', 'of', 'code', 'it', 'finds'];
  const out: string[] = [seed];
  for (let i = 0; i < tokens; i++) out.push(words[(i * 7 + seed.length) % words.length] ?? 'x');
  return out.join(' ');
}

function up(userHome: string, project: string, backendUrl: string, claudeArgs: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const args = ['up', '--backend', 'openai', '--url', backendUrl, '--context', String(WINDOW), '--no-tui', '--', ...SMALL_PROMPT, ...claudeArgs];
  return runAnyclaude(args, { userHome, cwd: project, env, timeoutMs: RUN_LIMIT_MS });
}

/**
 * Three `up` runs in one project, as a user continuing a session: two long turns of
 * `turnTokens` each, then "Now say BRAVO-2." — the requests of that last run are returned.
 */
async function session(turnTokens: number, options: { lastTurn?: string; env?: Record<string, string> } = {}): Promise<{ last: RecordedRequest[]; lastOut: string; lastErr: string }> {
  const backend = await startScriptedUpstream({ flavor: 'llama-server', modelId: 'small-window-model', contextLength: WINDOW });
  try {
    backend.setDefault((rec): Reply => {
      if (isWarmup(rec)) return { kind: 'text', text: 'OK' };
      if (isCompaction(rec)) return { kind: 'text', text: '<summary>The user sent two long texts, ALPHA-1 and ALPHA-2.</summary>', promptTokens: promptTokensOf(rec) };
      const said = /BRAVO-2/.test(lastUserText(rec)) ? 'BRAVO-2' : 'a long text';
      return { kind: 'text', text: `ANSWER to ${said}`, promptTokens: promptTokensOf(rec) };
    });
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-compact-'));
    const project = await mkdtemp(join(tmpdir(), 'anyclaude-compact-project-'));
    for (const [i, args] of [['-p', prose(turnTokens, 'ALPHA-1')], ['--continue', '-p', prose(turnTokens, 'ALPHA-2')]].entries()) {
      const run = await up(userHome, project, backend.url, args);
      expect(run.exitCode, `turn ${i + 1}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toContain('ANSWER to a long text');
    }
    const before = backend.chatRequests.length;
    const last = await up(userHome, project, backend.url, ['--continue', '-p', options.lastTurn ?? 'Now say BRAVO-2.'], options.env);
    expect(last.exitCode, last.stderr).toBe(0);
    return { last: backend.chatRequests.slice(before).filter((r) => !isWarmup(r)), lastOut: last.stdout, lastErr: last.stderr };
  } finally {
    await backend.close();
  }
}

describe('Claude Code is told to compact before the real window is full', () => {
  const env = { PATH: '/bin' };
  const threshold = claudeCompactThreshold({ ...env, ...autocompactEnv(WINDOW, env) });

  it('the threshold Claude Code will use is at or just below the one derived from the window', () => {
    expect(threshold).toBeLessThanOrEqual(compactAtTokens(WINDOW));
    expect(threshold).toBeGreaterThan(compactAtTokens(WINDOW) - 200);
  });

  describe.concurrent('the real CLI, continuing a session', () => {
    it('does not compact a conversation below the threshold', async () => {
      const { last, lastOut } = await session(Math.round(threshold * 0.3));
      expect(last.some(isCompaction)).toBe(false);
      expect(lastOut).toContain('ANSWER to BRAVO-2');
      // The earlier turns are still in the prompt, whole.
      expect(JSON.stringify(last.at(-1)?.body)).toContain('ALPHA-1');
    }, 3 * RUN_LIMIT_MS + 30_000);

    it('compacts first once the conversation has passed it, then sends what the user typed', async () => {
      const { last, lastOut } = await session(Math.round(threshold * 0.55));
      const compactAt = last.findIndex(isCompaction);
      expect(compactAt, last.map(lastUserText).join('\n---\n').slice(0, 2000)).toBeGreaterThanOrEqual(0);
      const after = last.slice(compactAt + 1);
      expect(after.some((r) => /BRAVO-2/.test(lastUserText(r)))).toBe(true);
      // The long texts were replaced by the summary: the prompt fits the window again.
      expect(promptTokensOf(after.at(-1)!)).toBeLessThan(threshold / 2);
      expect(lastOut).toContain('ANSWER to BRAVO-2');
    }, 3 * RUN_LIMIT_MS + 30_000);

    it("compacts and retries when the proxy answers that the prompt is too long (Claude Code's own threshold left at 167K)", async () => {
      // The last turn alone takes the conversation past the window: only the proxy's 400 can tell.
      const { last, lastOut, lastErr } = await session(Math.round(WINDOW * 0.3), { lastTurn: `${prose(Math.round(WINDOW * 0.5), 'ALPHA-3')} Now say BRAVO-2.`, env: { CLAUDE_AUTOCOMPACT_PCT_OVERRIDE: '100' } });
      const compactAt = last.findIndex(isCompaction);
      expect(compactAt, `${lastErr}\n${last.map(lastUserText).join('\n---\n').slice(0, 2000)}`).toBeGreaterThanOrEqual(0);
      expect(last.slice(compactAt + 1).some((r) => /BRAVO-2/.test(lastUserText(r)))).toBe(true);
      expect(lastOut).toContain('ANSWER to BRAVO-2');
    }, 3 * RUN_LIMIT_MS + 30_000);
  });
});
