/**
 * A real tool-capable model calls a real tool through anyclaude: `anyclaude up --backend mlx-lm`
 * with Qwen2.5-Coder-0.5B-Instruct (test/support/qwen-fixture.ts, float32 on CPU) and the real
 * Claude Code CLI from npm, in a fresh folder holding one file whose name no model can guess.
 * Nothing is scripted: the model writes the call (as JSON in its text, which anyclaude turns into a
 * tool_use), Claude Code runs `ls`, and the next request carries the tool_result with the file name.
 * Read from anyclaude's own traces (--trace).
 *
 * What this model does after the tool result, observed here: it repeats the same call, line after
 * line, until the output limit (greedy decoding; Claude Code sends no temperature). So the run is
 * bounded with CLAUDE_CODE_MAX_OUTPUT_TOKENS, Claude Code ends with its "exceeded the output token
 * maximum" error, and a final answer naming the file is not asserted (see the end of this file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import psList from 'ps-list';
import { BIN } from '../support/cli.js';
import { prepareQwenFixture } from '../support/qwen-fixture.js';
import { readTrace, type Trace } from '../../src/traces/trace-file.js';

const SYSTEM_PROMPT = 'You are a coding assistant. Use the Bash tool to act.';
const PROMPT = 'List the files in this folder. Use the Bash tool to run ls.';
/** The turn-1 call is ~60 tokens (fenced JSON with a description); the repeated calls after it stop here. */
const MAX_OUTPUT_TOKENS = 100;

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  wallMs: number;
  fileName: string;
  traces: Trace[];
  home: string;
}

interface ToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** The tool_use blocks of an Anthropic SSE reply, with their streamed input joined and parsed. */
function toolUses(sse: string): ToolUse[] {
  const blocks = new Map<number, { id: string; name: string; json: string }>();
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as { type: string; index?: number; content_block?: { type: string; id: string; name: string }; delta?: { type: string; partial_json?: string } };
    if (event.type === 'content_block_start' && event.content_block?.type === 'tool_use' && event.index !== undefined) {
      blocks.set(event.index, { id: event.content_block.id, name: event.content_block.name, json: '' });
    }
    if (event.type === 'content_block_delta' && event.delta?.type === 'input_json_delta' && event.index !== undefined) {
      const block = blocks.get(event.index);
      if (block) block.json += event.delta.partial_json ?? '';
    }
  }
  return [...blocks.values()].map((b) => ({ id: b.id, name: b.name, input: JSON.parse(b.json === '' ? '{}' : b.json) as Record<string, unknown> }));
}

/** The final usage of an Anthropic SSE reply (message_delta's). */
function finalUsage(sse: string): { input_tokens: number; cache_read_input_tokens: number } | undefined {
  let usage: { input_tokens: number; cache_read_input_tokens: number } | undefined;
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as { type: string; usage?: { input_tokens: number; cache_read_input_tokens: number } };
    if (event.type === 'message_delta' && event.usage) usage = event.usage;
  }
  return usage;
}

interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: unknown;
}

function toolResults(trace: Trace): ToolResultBlock[] {
  const body = JSON.parse(trace.requestIn.body) as { messages?: { role: string; content: unknown }[] };
  return (body.messages ?? [])
    .filter((m) => m.role === 'user' && Array.isArray(m.content))
    .flatMap((m) => m.content as { type: string }[])
    .filter((b): b is ToolResultBlock => b.type === 'tool_result');
}

const text = (content: unknown): string => (typeof content === 'string' ? content : JSON.stringify(content));

async function serversUsing(home: string): Promise<number> {
  return (await psList()).filter((p) => (p.cmd ?? '').includes('mlx_lm.server') && (p.cmd ?? '').includes(home) && !(p.cmd ?? '').includes('<defunct>')).length;
}

describe('a real tool-calling model (Qwen2.5-Coder-0.5B) through anyclaude up and the real Claude Code', () => {
  let run: Run;
  const cleanup: string[] = [];

  beforeAll(async () => {
    const fixture = await prepareQwenFixture();
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-qwen-user-'));
    const project = await mkdtemp(join(tmpdir(), 'anyclaude-qwen-project-'));
    cleanup.push(userHome, project);
    const fileName = `zebra-${randomBytes(6).toString('hex')}.txt`;
    await writeFile(join(project, fileName), 'hello\n');
    const home = join(userHome, '.anyclaude');
    await mkdir(home, { recursive: true });
    await symlink(join(fixture.home, 'venvs'), join(home, 'venvs'));
    await symlink(join(fixture.home, 'models'), join(home, 'models'));
    const started = Date.now();
    const result = await execa(
      'node',
      [BIN, 'up', '--backend', 'mlx-lm', '--model', fixture.model, '--no-tui', '--trace', '--',
        '-p', PROMPT, '--tools', 'Bash', '--allowedTools', 'Bash', '--system-prompt', SYSTEM_PROMPT],
      {
        env: { HOME: userHome, ANYCLAUDE_HOME: home, PATH: process.env.PATH ?? '', CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(MAX_OUTPUT_TOKENS) },
        extendEnv: false,
        cwd: project,
        stdin: 'ignore',
        reject: false,
        timeout: 420_000,
      },
    );
    const wallMs = Date.now() - started;
    const dir = join(home, 'traces', 'mlx-lm');
    const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
    const traces: Trace[] = [];
    for (const file of files) {
      const read = await readTrace(join(dir, file));
      if (read.ok) traces.push(read.trace);
    }
    run = { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), wallMs, fileName, traces, home };
    console.log(`[qwen-tool-call] wall ${(wallMs / 1000).toFixed(1)} s, exit ${String(run.exitCode)}, ${traces.length} requests; Claude Code printed: ${run.stdout.trim().slice(0, 300)}`);
  }, 900_000);

  afterAll(async () => {
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it('the model calls Bash with ls, Claude Code runs it, and the next request carries the tool_result naming the file', async () => {
    expect(run.traces.length, run.stderr).toBeGreaterThanOrEqual(2);
    const [first, ...later] = run.traces;
    // A real model behind a real mlx_lm.server answered: the trace names the upstream and the model folder.
    expect(first?.metrics?.upstream).toBe('mlx-lm');
    expect(first?.metrics?.model).toContain('qwen2.5-coder-0.5b-instruct-f32');
    expect(first?.metrics?.stopReason).toBe('tool_use');
    const calls = toolUses(first?.replyOut?.body ?? '');
    expect(calls.map((c) => c.name)).toEqual(['Bash']);
    const call = calls[0]!;
    expect(String(call.input.command)).toMatch(/^ls\b/);
    // Claude Code ran it in the project folder: the name only `ls` there could know came back.
    const results = later.flatMap(toolResults).filter((r) => r.tool_use_id === call.id);
    expect(results.length, 'no later request carried the tool_result').toBeGreaterThan(0);
    expect(text(results[0]?.content)).toContain(run.fileName);
    // Every child stopped with Claude Code's exit.
    expect(run.exitCode).toBeTypeOf('number');
    expect(await serversUsing(run.home)).toBe(0);
  });

  it("the tool-result turn is served from mlx_lm.server's prompt cache (> 80 % of its prompt)", () => {
    const second = run.traces.find((t) => toolResults(t).length > 0);
    expect(second, 'no request carried a tool_result').toBeDefined();
    const usage = finalUsage(second?.replyOut?.body ?? '');
    expect(usage).toBeDefined();
    const prompt = usage!.input_tokens + usage!.cache_read_input_tokens;
    const fraction = usage!.cache_read_input_tokens / prompt;
    console.log(`[qwen-tool-call] tool-result turn: cache_read_input_tokens ${usage!.cache_read_input_tokens} of ${prompt} prompt tokens (${(fraction * 100).toFixed(1)} %); metrics cached ${String(second?.metrics?.cachedTokens)}/${String(second?.metrics?.promptTokens)}`);
    expect(fraction).toBeGreaterThan(0.8);
    expect(second?.metrics?.cachedTokens).toBe(usage!.cache_read_input_tokens);
  });

  // Not asserted: a final answer naming the file. After the tool result this model repeats the
  // same Bash call until the output limit instead of answering (what was tried to change that is in
  // test/fixtures/README.md), so Claude Code never prints one.
});
