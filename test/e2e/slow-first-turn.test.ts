/**
 * A slow first turn is not abandoned: the real `anyclaude up --backend openai --url …` with the
 * real Claude Code CLI, against a scripted backend that keeps the first turn silent for longer
 * than Claude Code's own limits.
 *
 * LONG (~6.5 min, tests run concurrently): the limits it proves anyclaude lifts are 300 s and more
 * (Claude Code's stream watchdog, which pings do not reset, and Bun's HTTP idle timeout), so only
 * waiting past them shows the child is launched without them. It runs once, in its own file, beside
 * the rest of the suite.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN } from '../support/cli.js';
import { startScriptedUpstream, type RecordedRequest, type Reply, type ScriptedUpstream } from '../support/scripted-upstream.js';

/** Past Claude Code's stream-idle floor (300 s). */
const SILENT_MS = 310_000;
/** Past Bun's default HTTP idle timeout (300 s, which Bun may round up to 360 s). */
const HELD_MS = 370_000;
const RUN_LIMIT_MS = 480_000;

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `anyclaude up` as a user runs it, with its own HOME and ANYCLAUDE_HOME (so no config of the machine is read). */
async function up(userHome: string, backendUrl: string): Promise<Run> {
  const started = Date.now();
  const result = await execa('node', [BIN, 'up', '--backend', 'openai', '--url', backendUrl, '--no-tui', '--', '-p', 'Say hello'], {
    env: { HOME: userHome, ANYCLAUDE_HOME: join(userHome, '.anyclaude'), PATH: process.env.PATH ?? '' },
    extendEnv: false,
    cwd: userHome,
    stdin: 'ignore',
    reject: false,
    timeout: RUN_LIMIT_MS,
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), ms: Date.now() - started };
}

function isWarmup(rec: RecordedRequest): boolean {
  const body = rec.body as { max_tokens?: number; messages?: Array<{ content: unknown }> };
  return body.max_tokens === 1 && JSON.stringify(body.messages?.at(-1)?.content).includes('Reply with OK.');
}

/** llama-server's flavor: during a stall it sends nothing at all, not even headers. */
async function silentBackend(): Promise<ScriptedUpstream> {
  return startScriptedUpstream({ flavor: 'llama-server', modelId: 'slow-model' });
}

async function log(userHome: string): Promise<string> {
  return readFile(join(userHome, '.anyclaude', 'logs', 'anyclaude.log'), 'utf8');
}

describe.concurrent('a slow first turn through anyclaude up and real Claude Code', () => {
  it(`a backend silent for ${SILENT_MS / 1000} s (no bytes, not even headers) is waited for: one request, the answer, exit 0`, async () => {
    const backend = await silentBackend();
    try {
      backend.setDefault({ kind: 'stall', ms: SILENT_MS, reply: { kind: 'text', text: 'FINAL: hello after a long prefill' } });
      const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-slow-'));
      const run = await up(userHome, backend.url);

      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toContain('FINAL: hello after a long prefill');
      expect(run.ms).toBeGreaterThanOrEqual(SILENT_MS);
      // No abandon-and-retry: Claude Code's one request was the one answered.
      expect(backend.chatRequests).toHaveLength(1);
      expect(backend.chatRequests[0]?.abortedAt).toBeUndefined();
      expect(await log(userHome)).toMatch(/req\s+200\s+openai/);
    } finally {
      await backend.close();
    }
  }, RUN_LIMIT_MS + 60_000);

  it(`a first turn held ${HELD_MS / 1000} s behind the warm-up of its own prefix (no byte reaches Claude Code meanwhile) is not dropped`, async () => {
    const backend = await silentBackend();
    try {
      backend.setDefault({ kind: 'text', text: 'FINAL: first session' });
      const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-held-'));
      const first = await up(userHome, backend.url);
      expect(first.exitCode, first.stderr).toBe(0);
      expect(await readdir(join(userHome, '.anyclaude', 'prefix', '2.1.197'))).toHaveLength(1);

      const before = backend.chatRequests.length;
      backend.setDefault((rec): Reply => (isWarmup(rec) ? { kind: 'stall', ms: HELD_MS, reply: { kind: 'text', text: 'OK' } } : { kind: 'text', text: 'FINAL: held, then answered' }));
      const second = await up(userHome, backend.url);

      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stdout).toContain('FINAL: held, then answered');
      const [warm, real, ...more] = backend.chatRequests.slice(before);
      expect(more).toHaveLength(0);
      expect(warm !== undefined && isWarmup(warm)).toBe(true);
      expect(warm?.abortedAt).toBeUndefined();
      expect((real?.receivedAt ?? 0) - (warm?.receivedAt ?? Infinity)).toBeGreaterThanOrEqual(HELD_MS);
      expect(await log(userHome)).toMatch(/held a request \d+ ms until the openai warm-up of its prefix finished/);
    } finally {
      await backend.close();
    }
  }, 2 * RUN_LIMIT_MS);
});
