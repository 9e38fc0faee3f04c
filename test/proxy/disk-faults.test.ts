/**
 * A full disk or a read-only ANYCLAUDE_HOME while `anyclaude proxy --trace` serves: every request
 * is still answered, the failure is said once (not once per request) with what to do, and traces
 * are written again as soon as there is room. The faults are real: a 64 KiB tmpfs filled to the
 * last byte, and the same tmpfs remounted read-only (root can write through chmod, not through
 * these). Needs root (or CAP_SYS_ADMIN) to mount; skipped with the reason elsewhere.
 *
 * Also `up` with a home it cannot write: one line and the fix, before anything starts; and the
 * log file and the run file of a running `up`, whose failures cost nothing but themselves.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { runAnyclaude, startProxyProcess, type ProxyProcess } from '../support/cli.js';
import { mountTmpfs, tmpfsUnavailable, unmountTmpfs } from '../support/tmpfs.js';
import { FileLog } from '../../src/cli/file-log.js';
import { CoreEvents } from '../../src/core/events.js';
import { tryWriteRunFile } from '../../src/run/run-file.js';

const SIZE = '64k';

const cannotMount = await tmpfsUnavailable();
if (cannotMount !== undefined) console.warn(`disk-faults.test.ts skipped: ${cannotMount}`);

const mounts: string[] = [];
async function smallDisk(): Promise<string> {
  const dir = await mountTmpfs(SIZE);
  mounts.push(dir);
  return dir;
}

/** Writes until the disk refuses: the filler holds every free byte. */
async function fill(dir: string): Promise<string> {
  const filler = join(dir, 'filler');
  await expect(writeFile(filler, Buffer.alloc(1024 * 1024, 1))).rejects.toMatchObject({ code: 'ENOSPC' });
  expect((await statfs(dir)).bavail).toBe(0);
  return filler;
}

const remount = (dir: string, mode: 'ro' | 'rw'): Promise<unknown> => execa('mount', ['-o', `remount,${mode}`, dir]);

type TracingProxy = ProxyProcess & { stderr: string };
const stderrLines = (proxy: TracingProxy): string[] => proxy.stderr.split('\n');

function startTracingProxy(upstream: ScriptedUpstream, home: string): Promise<TracingProxy> {
  return startProxyProcess(['proxy', '--upstream', upstream.url, '--model', 'm', '--trace'], { ANYCLAUDE_HOME: home }).then((proxy) => {
    const withErr = Object.assign(proxy, { stderr: '' });
    proxy.child.stderr?.on('data', (chunk: Buffer) => (withErr.stderr += chunk.toString()));
    return withErr;
  });
}

/** 20 requests, half streamed; each answer must be the one to its own question. */
async function askTwenty(proxy: ProxyProcess): Promise<void> {
  const client = new Anthropic({ baseURL: proxy.env.ANTHROPIC_BASE_URL, apiKey: proxy.env.ANTHROPIC_API_KEY, maxRetries: 0 });
  for (let i = 0; i < 20; i += 1) {
    const params = { model: 'claude-x', max_tokens: 50, messages: [{ role: 'user' as const, content: `question ${i}` }] };
    const message = i % 2 === 0 ? await client.messages.create(params) : await client.messages.stream(params).finalMessage();
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: `answer ${i}` })]);
  }
}

async function ask(proxy: ProxyProcess, text: string): Promise<void> {
  const client = new Anthropic({ baseURL: proxy.env.ANTHROPIC_BASE_URL, apiKey: proxy.env.ANTHROPIC_API_KEY, maxRetries: 0 });
  await client.messages.create({ model: 'claude-x', max_tokens: 50, messages: [{ role: 'user', content: text }] });
}

async function waitForLine(proxy: { stderr: string }, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!pattern.test(proxy.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(proxy.stderr).toMatch(pattern);
}

/** Every trace file, in whichever backend folder. */
const traceFiles = (home: string): string[] => {
  const dir = join(home, 'traces');
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];
};

describe.skipIf(cannotMount !== undefined)('a full or read-only ANYCLAUDE_HOME', () => {
  let upstream: ScriptedUpstream;
  let proxy: TracingProxy | undefined;

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'm' });
    upstream.setDefault((rec) => ({ kind: 'text', text: `answer ${/question (\d+)/.exec(rec.rawBody)?.[1] ?? '?'}` }));
  });

  afterEach(async () => {
    if (proxy !== undefined) {
      proxy.child.kill('SIGTERM');
      await proxy.child;
      proxy = undefined;
    }
  });

  afterAll(async () => {
    await upstream?.close();
    for (const dir of mounts.splice(0)) await unmountTmpfs(dir);
  });

  it('full disk: the proxy answers all 20 requests, says once that traces are not written, and traces again once there is room', async () => {
    const disk = await smallDisk();
    const home = join(disk, 'home');
    await mkdir(home);
    const filler = await fill(disk);
    proxy = await startTracingProxy(upstream, home);

    await askTwenty(proxy);
    await waitForLine(proxy, /traces are not being written/);
    const warnings = stderrLines(proxy).filter((l) => l.includes('traces are not being written'));
    expect(warnings).toEqual([`[warn] trace: traces are not being written: ${join(home, 'traces')}: ENOSPC (no space left on device); free some space on that disk, or run without --trace (and ANYCLAUDE_DEBUG)`]);
    // No half-written trace stays behind (the last exchange's write may still be on its way).
    await expect.poll(() => traceFiles(home), { timeout: 2_000 }).toEqual([]);

    await rm(filler);
    await ask(proxy, 'question 20');
    await waitForLine(proxy, /traces are being written again/);
    expect(stderrLines(proxy).filter((l) => l.includes('traces are being written again'))).toEqual([`[warn] trace: traces are being written again to ${join(home, 'traces')} (20 exchanges not traced meanwhile)`]);
    expect(traceFiles(home)).toHaveLength(1);
    proxy.child.kill('SIGTERM');
    expect((await proxy.child).exitCode).toBe(0);
    expect(stderrLines(proxy).filter((l) => l.includes('traces are not being written'))).toHaveLength(1);
    proxy = undefined;
  }, 60_000);

  it('read-only home: the proxy answers all 20 requests, says once that traces are not written, and traces again once writable', async () => {
    const home = await smallDisk();
    await remount(home, 'ro');
    proxy = await startTracingProxy(upstream, home);

    await askTwenty(proxy);
    await waitForLine(proxy, /traces are not being written/);
    const warnings = stderrLines(proxy).filter((l) => l.includes('traces are not being written'));
    expect(warnings).toEqual([
      `[warn] trace: traces are not being written: ${join(home, 'traces')}: EROFS (read-only file system); make that folder writable or set ANYCLAUDE_HOME to a writable folder, or run without --trace (and ANYCLAUDE_DEBUG)`,
    ]);

    await remount(home, 'rw');
    await ask(proxy, 'question 20');
    await waitForLine(proxy, /traces are being written again/);
    expect(traceFiles(home)).toHaveLength(1);
  }, 60_000);

  it.each([
    ['read-only', 'EROFS (read-only file system)', 'make that folder writable, or set ANYCLAUDE_HOME to a writable folder'],
    ['full', 'ENOSPC (no space left on device)', 'free some space on that disk and run again'],
  ] as const)('up with a %s home stops before anything starts, with one line and the fix', async (kind, reason, fix) => {
    const disk = await smallDisk();
    const home = join(disk, 'home');
    await mkdir(home);
    if (kind === 'read-only') await remount(disk, 'ro');
    else await fill(disk);
    const userHome = await mkdtemp(join(tmpdir(), 'anyclaude-user-'));
    const result = await runAnyclaude(['up', '--backend', 'openai', '--url', upstream.url, '--', '-p', 'hi'], { userHome, cwd: userHome, home, timeoutMs: 30_000 });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `anyclaude: cannot write to ${home}: ${reason}; anyclaude keeps its venvs, server pidfiles and logs and Claude Code's settings there`,
      `  fix: ${fix}`,
    ]);
    await rm(userHome, { recursive: true, force: true });
  }, 60_000);

  it("up's log file: a full disk is said once, lines meanwhile are dropped, and logging resumes once there is room", async () => {
    const disk = await smallDisk();
    const filler = await fill(disk);
    const events = new CoreEvents();
    const warnings: string[] = [];
    events.on('log', (e) => {
      if (e.level === 'warn') warnings.push(e.message);
    });
    const log = new FileLog(join(disk, 'anyclaude.log'), { retryMs: 50 });
    log.attach(events, () => 'req');
    for (let i = 0; i < 50; i += 1) {
      events.log('info', 'test', `line ${i} ${'x'.repeat(200)}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(warnings.filter((w) => w.startsWith('the log file is not being written'))).toEqual([
      `the log file is not being written: ${join(disk, 'anyclaude.log')}: ENOSPC (no space left on device); free some space on that disk`,
    ]);
    await rm(filler);
    await new Promise((r) => setTimeout(r, 60));
    events.log('info', 'test', 'after the space came back');
    await log.close();
    expect(warnings.filter((w) => w.startsWith('the log file is being written again'))).toHaveLength(1);
    expect(await readFile(join(disk, 'anyclaude.log'), 'utf8')).toContain('after the space came back');
  }, 30_000);

  it('the run file of a running up: a read-only home costs one warning, not the session', async () => {
    const home = await smallDisk();
    await remount(home, 'ro');
    const warnings: string[] = [];
    const file = await tryWriteRunFile(home, { pid: process.pid, url: 'http://127.0.0.1:1', key: 'k', startedAt: Date.now(), cwd: '/', version: '0' }, (line) => warnings.push(line));
    expect(file).toBeUndefined();
    expect(warnings).toEqual([
      `anyclaude status, the dashboard and the status line cannot find this session: ${join(home, 'run', `instance-${process.pid}.run`)}: EROFS (read-only file system); make that folder writable or set ANYCLAUDE_HOME to a writable folder`,
    ]);
  });
});
