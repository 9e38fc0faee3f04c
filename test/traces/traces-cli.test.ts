/**
 * The real bin end to end: `anyclaude proxy --trace` with ANYCLAUDE_HOME set writes under
 * ANYCLAUDE_HOME/traces (where `up` writes too), and `anyclaude traces` finds them there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { BIN, startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { capture } from '../support/fixtures.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { waitForTraces } from './real-traces.js';

describe('anyclaude traces through the real bin', () => {
  let home: string;
  let userHome: string;
  let upstream: ScriptedUpstream;
  let proxy: ProxyProcess;
  let file: string;
  let id: string;
  const env = (): Record<string, string> => ({ ANYCLAUDE_HOME: home, HOME: userHome });
  const traces = (...args: string[]) => execa('node', [BIN, 'traces', ...args], { env: env(), reject: false });

  beforeAll(async () => {
    const base = await mkdtemp(join(tmpdir(), 'anyclaude-traces-cli-'));
    home = join(base, 'anyclaude-home');
    userHome = join(base, 'user-home');
    upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'served-model' });
    upstream.enqueue({ kind: 'tool', name: 'Bash', arguments: { command: 'ls' }, text: 'Listing.', promptTokens: 20_000, cachedTokens: 0 });
    proxy = await startProxyProcess(['proxy', '--upstream', upstream.url, '--flavor', 'mlx-lm', '--model', 'served-model', '--trace'], env());
    const response = await fetch(`${proxy.env.ANTHROPIC_BASE_URL}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': proxy.env.ANTHROPIC_API_KEY },
      body: JSON.stringify({ ...capture('print-tool-turn', 2).body, stream: true }),
    });
    await response.text();
    const [written] = await waitForTraces(join(home, 'traces'), 1);
    file = written!;
    id = basename(file, '.json').replace(/^.*?Z-/, '');
  });
  afterAll(async () => {
    proxy?.child.kill('SIGTERM');
    await proxy?.child;
    await upstream?.close();
  });

  it('the proxy wrote the trace under ANYCLAUDE_HOME/traces/<backend>, and nothing under ~/.anyclaude', async () => {
    expect(file).toBe(join(home, 'traces', 'mlx-lm', basename(file)));
    await expect(stat(join(userHome, '.anyclaude'))).rejects.toThrow();
  });

  it('traces list shows it', async () => {
    const result = await traces('list');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^time\s+id\s+backend/);
    expect(result.stdout).toMatch(new RegExp(`${id}\\s+mlx-lm\\s+served-model\\s+20,000\\s+\\d+\\s+\\S+\\s+200 tool_use`));
  });

  it('traces analyze <prefix> breaks the prompt down, calibrated to the 20,000 tokens the backend reported', async () => {
    const result = await traces('analyze', id.slice(0, 6));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^tools \(24\)\s+[\d,]+\s+\d+\.\d%$/m);
    expect(result.stdout).toMatch(/^total\s+20,000\s+100\.0%$/m);
    expect(result.stdout).toContain('most expensive tools');
    const json = await traces('analyze', 'latest', '--json');
    const breakdown = JSON.parse(json.stdout) as { total: number; tools: { count: number; tokens: number }; calibration: { kind: string } };
    expect(breakdown).toMatchObject({ total: 20_000, tools: { count: 24 }, calibration: { kind: 'calibrated' } });
  });

  it('traces show <file> --json prints the trace file itself', async () => {
    const result = await traces('show', file, '--json');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe((await readFile(file, 'utf8')).trimEnd());
  });

  it('an unknown id is one line and a fix, exit 1', async () => {
    const result = await traces('show', 'nope');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`anyclaude: no trace with id nope under ${join(home, 'traces')}`);
    expect(result.stderr).toContain('fix: anyclaude traces list');
  });
});
