/**
 * The real Claude Code CLI through `anyclaude proxy` to a scripted OpenAI-compatible backend:
 * turn 1 answers with a Bash tool call (as mlx_lm.server sends it), turn 2 with text.
 * Proves Claude Code accepts our stream, runs the tool, and sends the result back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startScriptedUpstream, type RecordedRequest, type Reply, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { CLAUDE_BIN, startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { claudeEnv, makeClaudeConfigDir } from '../support/claude-home.js';

interface ChatBody {
  messages: Array<{ role: string; content: unknown; tool_call_id?: string }>;
  tools?: Array<{ function: { name: string } }>;
}

function script(req: RecordedRequest): Reply {
  const body = req.body as ChatBody;
  const toolResult = body.messages.find((m) => m.role === 'tool');
  if (toolResult !== undefined) return { kind: 'text', text: `FINAL ANSWER: the folder holds ${String(toolResult.content).split('\n').join(', ')}.` };
  if (body.tools?.some((t) => t.function.name === 'Bash')) {
    return { kind: 'tool', name: 'Bash', arguments: { command: 'ls', description: 'List files' }, text: "I'll list the files." };
  }
  return { kind: 'text', text: 'ok' };
}

describe('real Claude Code through anyclaude proxy', () => {
  let upstream: ScriptedUpstream;
  let proxy: ProxyProcess;
  beforeAll(async () => {
    upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'served-model' });
    upstream.setDefault(script);
    proxy = await startProxyProcess(['proxy', '--upstream', upstream.url, '--flavor', 'mlx-lm', '--context', '131072']);
  });
  afterAll(async () => {
    proxy.child.kill('SIGTERM');
    await proxy.child;
    await upstream.close();
  });

  it('runs the Bash tool the model asked for and prints the final answer', async () => {
    const project = await mkdtemp(join(tmpdir(), 'anyclaude-project-'));
    await writeFile(join(project, 'alpha.txt'), 'a');
    await writeFile(join(project, 'beta.py'), 'b');
    await execa('git', ['init', '-q'], { cwd: project });
    const configDir = await makeClaudeConfigDir(project);
    const result = await execa(CLAUDE_BIN, ['-p', 'list the files here', '--allowedTools', 'Bash'], {
      cwd: project,
      env: claudeEnv(proxy.env, configDir),
      extendEnv: false,
      reject: false,
      timeout: 120_000,
      stdin: 'ignore',
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('FINAL ANSWER: the folder holds alpha.txt, beta.py.');
    // The second model request carried the real output of `ls`, as a tool message tied to the call.
    const turn2 = upstream.chatRequests.map((r) => r.body as ChatBody).find((b) => b.messages.some((m) => m.role === 'tool'));
    const toolMessage = turn2?.messages.find((m) => m.role === 'tool');
    expect(toolMessage?.content).toBe('alpha.txt\nbeta.py');
    expect(toolMessage?.tool_call_id).toEqual(expect.any(String));
  }, 150_000);
});
