/**
 * `anyclaude status` and `anyclaude status --line` as the real bin runs them, against a local
 * server that speaks the running instance's contract (GET /_anyclaude/state, POST
 * /_anyclaude/switch); and the remote store a dashboard in another terminal reads it with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusLineArgs, userStatusLine } from '../../src/claude/status-line-settings.js';
import type { RequestMetrics } from '../../src/proxy/metrics.js';
import { connectRemoteStore, REMOTE_LOG_SOURCE, type RemoteStore } from '../../src/run/remote-store.js';
import { writeRunFile } from '../../src/run/run-file.js';
import { emptyRunState, type RunState } from '../../src/run/run-state.js';
import { BIN } from '../support/cli.js';
import { requestMetrics } from '../support/run-state-fixtures.js';

const KEY = 'anyclaude-test-key-0123456789';

function lastRequest(overrides: Partial<RequestMetrics> = {}): RequestMetrics {
  return requestMetrics({ startedAt: Date.now() - 5_000, contextFillPct: 31, ...overrides });
}

/** What a running `up` with LM Studio and one Claude Code session answers. */
function realisticState(): RunState {
  const last = lastRequest();
  return emptyRunState({
    revision: 17,
    pid: 4242,
    startedAt: Date.now() - 600_000,
    phase: 'running',
    proxyUrl: 'http://127.0.0.1:51234',
    active: 'lmstudio',
    backends: [
      {
        id: 'lmstudio',
        kind: 'lmstudio',
        phase: 'ready',
        active: true,
        model: 'qwen/qwen3-coder-30b',
        models: ['qwen/qwen3-coder-30b', 'openai/gpt-oss-20b'],
        contextWindow: 65_536,
        protocol: 'openai',
        url: 'http://localhost:1234/v1',
        managed: false,
        detail: 'found running on port 1234',
        restarts: 0,
        pid: undefined,
      },
      {
        id: 'mlx-lm',
        kind: 'mlx-lm',
        phase: 'available',
        active: false,
        model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit',
        models: [],
        contextWindow: 131_072,
        protocol: 'openai',
        url: undefined,
        managed: true,
        detail: undefined,
        restarts: 0,
        pid: undefined,
      },
    ],
    requests: [lastRequest({ id: 'msg_00', startedAt: Date.now() - 20_000, decodeTokensPerSec: 36.9, cachedTokens: 0 }), last],
    sessions: [{ sessionId: 'session-a', last, requests: 2 }],
    warmups: [{ backend: 'lmstudio', phase: 'done', ms: 1_830, detail: undefined }],
    claude: { state: 'running', pid: 4300, exitCode: undefined, hosted: false },
  });
}

type Mode = 'normal' | 'slow' | 'malformed';

interface ContractServer {
  url: string;
  state: RunState;
  mode: Mode;
  stateRequests: number;
  switches: unknown[];
  /** What POST /_anyclaude/switch answers next. */
  switchAnswer: { status: number; body: unknown };
  close(): Promise<void>;
}

function presentedKey(req: IncomingMessage): string | undefined {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string') return apiKey;
  return req.headers.authorization?.replace(/^Bearer\s+/i, '');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function startContractServer(): Promise<ContractServer> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    if (presentedKey(req) !== KEY) {
      sendJson(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid API key: use the key anyclaude printed for this run' } });
      return;
    }
    if (req.method === 'GET' && req.url === '/_anyclaude/state') {
      contract.stateRequests++;
      if (contract.mode === 'slow') setTimeout(() => sendJson(res, 200, contract.state), 3_000);
      else if (contract.mode === 'malformed') res.writeHead(200, { 'content-type': 'application/json' }).end('{"revision": 17, "phase": "runn');
      else sendJson(res, 200, contract.state);
      return;
    }
    if (req.method === 'POST' && req.url === '/_anyclaude/switch') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        contract.switches.push(JSON.parse(body));
        sendJson(res, contract.switchAnswer.status, contract.switchAnswer.body);
      });
      return;
    }
    sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no such endpoint' } });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const contract: ContractServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state: realisticState(),
    mode: 'normal',
    stateRequests: 0,
    switches: [],
    switchAnswer: { status: 200, body: { ok: true, active: 'mlx-lm' } },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return contract;
}

/** A port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A fresh ANYCLAUDE_HOME, and the environment of a terminal or a Claude Code with nothing of anyclaude in it. */
async function cleanEnv(): Promise<{ home: string; env: Record<string, string> }> {
  const home = await mkdtemp(join(tmpdir(), 'anyclaude-status-'));
  return { home, env: { PATH: process.env.PATH ?? '', HOME: home, ANYCLAUDE_HOME: join(home, '.anyclaude'), NO_COLOR: '1' } };
}

async function run(args: string[], env: Record<string, string>, input = '') {
  const started = performance.now();
  const result = await execa('node', [BIN, ...args], { env, extendEnv: false, input, reject: false, timeout: 15_000 });
  return { ...result, stdout: String(result.stdout), stderr: String(result.stderr), ms: performance.now() - started };
}

/** What Claude Code 2.1 pipes into its status line command. */
function claudeStdin(sessionId: string, cwd = '/home/u/project'): string {
  return JSON.stringify({
    hook_event_name: 'Status',
    session_id: sessionId,
    transcript_path: `/home/u/.claude/projects/-home-u-project/${sessionId}.jsonl`,
    cwd,
    model: { id: 'anyclaude', display_name: 'anyclaude' },
    workspace: { current_dir: cwd, project_dir: cwd },
    version: '2.1.197',
    output_style: { name: 'default' },
    cost: { total_cost_usd: 0, total_duration_ms: 120_000 },
  });
}

const LINE = '⚡ lmstudio · qwen3-coder-30b · 35 tok/s · cache 98% · ctx 31%';

describe('anyclaude status --line', () => {
  let server: ContractServer;
  beforeAll(async () => {
    server = await startContractServer();
  });
  afterAll(() => server.close());
  afterEach(() => {
    server.mode = 'normal';
    server.state = realisticState();
  });

  const claudeEnv = async (overrides: Record<string, string> = {}): Promise<Record<string, string>> => ({
    ...(await cleanEnv()).env,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_AUTH_TOKEN: KEY,
    ...overrides,
  });

  it("prints the session's line from the proxy Claude Code talks to, and exits 0", async () => {
    const result = await run(['status', '--line'], await claudeEnv(), claudeStdin('session-a'));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(LINE);
    expect(result.stderr).toBe('');
  });

  it('colors the line unless NO_COLOR is set, and takes ANTHROPIC_API_KEY when there is no token', async () => {
    const env = await claudeEnv();
    delete env.NO_COLOR;
    delete env.ANTHROPIC_AUTH_TOKEN;
    env.ANTHROPIC_API_KEY = KEY;
    const result = await run(['status', '--line'], env, claudeStdin('session-a'));
    expect(result.stdout).toContain('\x1b[');
    // eslint-disable-next-line no-control-regex
    expect(result.stdout.replace(/\x1b\[[0-9;]*m/g, '')).toBe(LINE);
  });

  it('tolerates empty, invalid or unrelated stdin', async () => {
    for (const input of ['', 'not json', '[1,2]', '{"session_id": 42}']) {
      const result = await run(['status', '--line'], await claudeEnv(), input);
      expect(result.exitCode).toBe(0);
      // No session id: the session that ran last.
      expect(result.stdout).toBe(LINE);
    }
    const other = await run(['status', '--line'], await claudeEnv(), claudeStdin('session-new'));
    expect(other.stdout).toBe('⚡ lmstudio · qwen3-coder-30b · ready');
  });

  it('says so in one dim line, exit 0, when the proxy is down, refuses the key, is slow or answers garbage', async () => {
    const down = await run(['status', '--line'], await claudeEnv({ ANTHROPIC_BASE_URL: await closedPortUrl() }), claudeStdin('session-a'));
    expect([down.exitCode, down.stdout]).toEqual([0, '⚡ anyclaude: proxy not running']);
    const wrongKey = await run(['status', '--line'], await claudeEnv({ ANTHROPIC_AUTH_TOKEN: 'anyclaude-wrong' }), claudeStdin('session-a'));
    expect([wrongKey.exitCode, wrongKey.stdout]).toEqual([0, '⚡ anyclaude: key refused']);
    server.mode = 'malformed';
    const garbage = await run(['status', '--line'], await claudeEnv(), claudeStdin('session-a'));
    expect([garbage.exitCode, garbage.stdout]).toEqual([0, '⚡ anyclaude: unreadable answer']);
    server.mode = 'slow';
    const slow = await run(['status', '--line'], await claudeEnv(), claudeStdin('session-a'));
    expect([slow.exitCode, slow.stdout]).toEqual([0, '⚡ anyclaude: not answering']);
    // The server answers after 3 s; the line did not wait for it.
    expect(slow.ms).toBeLessThan(2_000);
  });

  it('shows the last line again when a busy proxy misses the deadline, but not when it has stopped', async () => {
    const { home, env } = await cleanEnv();
    await mkdir(join(home, '.anyclaude', 'run'), { recursive: true, mode: 0o700 });
    const claude = { ...env, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_AUTH_TOKEN: KEY };
    expect((await run(['status', '--line'], claude, claudeStdin('session-a'))).stdout).toBe(LINE);
    server.mode = 'slow';
    expect((await run(['status', '--line'], claude, claudeStdin('session-a'))).stdout).toBe(LINE);
    // Another session has no line to fall back on.
    expect((await run(['status', '--line'], claude, claudeStdin('session-b'))).stdout).toBe('⚡ anyclaude: not answering');
    const down = await run(['status', '--line'], { ...claude, ANTHROPIC_BASE_URL: await closedPortUrl() }, claudeStdin('session-a'));
    expect(down.stdout).toBe('⚡ anyclaude: proxy not running');
  });

  it('finds the instance through its run file when the environment names none', async () => {
    const { home, env } = await cleanEnv();
    await writeRunFile(join(home, '.anyclaude'), { pid: process.pid, url: server.url, key: KEY, startedAt: Date.now(), cwd: home, version: '0.1.0' });
    const result = await run(['status', '--line'], env, claudeStdin('session-a'));
    expect(result.stdout).toBe(LINE);
    const none = await run(['status', '--line'], (await cleanEnv()).env, claudeStdin('session-a'));
    expect([none.exitCode, none.stdout]).toEqual([0, '⚡ anyclaude: not running']);
  });

  it("shows the user's own status line first, given the same stdin; a slow one is left out", async () => {
    const theirs = 'read -r input; printf "%s on %s\\n" "$(echo "$input" | sed -n \'s/.*"session_id":"\\([^"]*\\)".*/\\1/p\')" "$(basename "$PWD")"; echo second line';
    const chained = await run(['status', '--line'], await claudeEnv({ ANYCLAUDE_USER_STATUSLINE: theirs }), `${claudeStdin('session-a')}\n`);
    expect(chained.exitCode).toBe(0);
    expect(chained.stdout).toBe(`session-a on ${process.cwd().split('/').pop() ?? ''} │ ${LINE}`);

    const slow = await run(['status', '--line'], await claudeEnv({ ANYCLAUDE_USER_STATUSLINE: 'sleep 5; echo too late' }), claudeStdin('session-a'));
    expect(slow.stdout).toBe(LINE);
    expect(slow.ms).toBeLessThan(3_000);
    const failing = await run(['status', '--line'], await claudeEnv({ ANYCLAUDE_USER_STATUSLINE: 'exit 3' }), claudeStdin('session-a'));
    expect([failing.exitCode, failing.stdout]).toEqual([0, LINE]);
  });

  it("chains the status line found in the user's settings, with the command up gives Claude Code", async () => {
    const { home, env } = await cleanEnv();
    const project = join(home, 'project');
    await mkdir(join(project, '.claude'), { recursive: true });
    await mkdir(join(home, '.claude'), { recursive: true });
    await writeFile(join(home, '.claude', 'settings.json'), JSON.stringify({ statusLine: { type: 'command', command: 'echo user-wide' } }));
    await writeFile(join(project, '.claude', 'settings.json'), JSON.stringify({ statusLine: { type: 'command', command: 'echo "project $(pwd | xargs basename)"' } }));
    const user = userStatusLine({ cwd: project, configDir: undefined, home });
    expect(user).toBe('echo "project $(pwd | xargs basename)"');
    const { args, env: extra } = statusLineArgs([process.execPath, BIN, 'status', '--line'], user);
    const settings = JSON.parse(args[1] ?? '{}') as { statusLine: { type: string; command: string; padding: number } };
    expect(args[0]).toBe('--settings');
    // Claude Code runs the command through a shell, in the project, with its own environment.
    const result = await execa('sh', ['-c', settings.statusLine.command], {
      cwd: project,
      env: { ...env, ...extra, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_AUTH_TOKEN: KEY },
      extendEnv: false,
      input: claudeStdin('session-a', project),
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toBe(`project project │ ${LINE}`);
  });
});

describe('anyclaude status', () => {
  let server: ContractServer;
  beforeAll(async () => {
    server = await startContractServer();
  });
  afterAll(() => server.close());

  async function withRunFile(url = server.url): Promise<Record<string, string>> {
    const { home, env } = await cleanEnv();
    await writeRunFile(join(home, '.anyclaude'), { pid: process.pid, url, key: KEY, startedAt: Date.now(), cwd: '/home/u/project', version: '0.1.0' });
    return env;
  }

  it('--json prints the running instance’s whole state, found through its run file', async () => {
    const result = await run(['status', '--json'], await withRunFile());
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(JSON.stringify(server.state)));
  });

  it('prints it for people: backends, requests, sessions, Claude Code', async () => {
    const result = await run(['status'], await withRunFile());
    expect(result.exitCode).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^anyclaude 0\.1\.0 · pid 4242 · running · up 10m \d+s · \/home\/u\/project$/m);
    expect(out).toMatch(/^proxy +http:\/\/127\.0\.0\.1:51234$/m);
    expect(out).toMatch(/^active +lmstudio · qwen\/qwen3-coder-30b$/m);
    expect(out).toMatch(/^ {2}▶ lmstudio +ready · qwen\/qwen3-coder-30b · context 65,536 · external · http:\/\/localhost:1234\/v1$/m);
    expect(out).toMatch(/^ {4}mlx-lm +available · mlx-community\/Qwen3-Coder-30B-A3B-Instruct-4bit · context 131,072 · managed$/m);
    expect(out).toMatch(/^requests +2 in 1 session · 2 recent · 0 in flight$/m);
    expect(out).toMatch(/lmstudio {2}200 {2}35 tok\/s {2}prefill 976 tok\/s {2}cache 98% {2}ctx 31% {2}316 out {2}9\.6 s$/m);
    expect(out).toMatch(/^ {2}session-a {2}2 requests {2}context 31% of 65,536 {2}last \d\d:\d\d:\d\d on lmstudio$/m);
    expect(out).toMatch(/^claude code {2}running \(pid 4300\)$/m);
  });

  it('says that none is running, and how to start one, with exit 1', async () => {
    const { env } = await cleanEnv();
    const result = await run(['status'], env);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^anyclaude: no anyclaude is running \(no live instance in .*\/\.anyclaude\/run\/\)\n {2}fix: start one with `anyclaude up`$/);
  });

  it('says so, with exit 1, when the instance does not answer', async () => {
    const down = await closedPortUrl();
    const result = await run(['status', '--json'], await withRunFile(down));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`anyclaude: the anyclaude at ${down} (pid ${process.pid}) does not answer`);
  });
});

describe('connectRemoteStore (a dashboard in another terminal)', () => {
  let server: ContractServer;
  let store: RemoteStore | undefined;
  beforeAll(async () => {
    server = await startContractServer();
  });
  afterEach(() => {
    store?.close();
    server.state = realisticState();
    server.switchAnswer = { status: 200, body: { ok: true, active: 'mlx-lm' } };
  });
  afterAll(() => server.close());

  const waitFor = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('polls the state and tells subscribers only when its revision changes', async () => {
    store = connectRemoteStore({ url: server.url, key: KEY, pollMs: 20 });
    await store.ready;
    expect(store.getSnapshot()).toEqual(JSON.parse(JSON.stringify(server.state)));
    expect(store.error()).toBeUndefined();
    let calls = 0;
    store.subscribe(() => calls++);
    const first = store.getSnapshot();
    const polled = server.stateRequests;
    await waitFor('three more polls', () => server.stateRequests >= polled + 3);
    expect(calls).toBe(0);
    expect(store.getSnapshot()).toBe(first);
    server.state = { ...server.state, revision: 18, active: 'mlx-lm' };
    await waitFor('the new revision', () => store?.getSnapshot().revision === 18);
    expect(calls).toBe(1);
    expect(store.getSnapshot().active).toBe('mlx-lm');
  });

  it('switches through POST /_anyclaude/switch and rejects with the server’s message', async () => {
    store = connectRemoteStore({ url: server.url, key: KEY, pollMs: 1_000 });
    await store.ready;
    await store.switchTo('mlx-lm', 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit');
    await store.switchTo('lmstudio');
    expect(server.switches).toEqual([{ backend: 'mlx-lm', model: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit' }, { backend: 'lmstudio' }]);
    server.switchAnswer = { status: 503, body: { type: 'error', error: { type: 'overloaded_error', message: 'mlx-lm failed to start: out of memory loading the model' } } };
    await expect(store.switchTo('mlx-lm')).rejects.toThrow('mlx-lm failed to start: out of memory loading the model');
  });

  it('keeps the last state and reports the lost connection; close() stops polling', async () => {
    const own = await startContractServer();
    store = connectRemoteStore({ url: own.url, key: KEY, pollMs: 20 });
    await store.ready;
    let calls = 0;
    store.subscribe(() => calls++);
    await own.close();
    await waitFor('the lost connection', () => store?.error() !== undefined);
    expect(store.error()).toMatch(/is not running \(connection refused\)/);
    expect(calls).toBe(1);
    const snapshot = store.getSnapshot();
    expect(snapshot.revision).toBe(17);
    expect(snapshot.backends.map((b) => b.id)).toEqual(['lmstudio', 'mlx-lm']);
    expect(snapshot.logs.at(-1)).toMatchObject({ level: 'error', source: REMOTE_LOG_SOURCE });

    const wrongKey = connectRemoteStore({ url: server.url, key: 'anyclaude-wrong', pollMs: 20 });
    await wrongKey.ready;
    expect(wrongKey.error()).toContain('HTTP 401: invalid API key');
    wrongKey.close();

    const polling = connectRemoteStore({ url: server.url, key: KEY, pollMs: 20 });
    await polling.ready;
    const before = server.stateRequests;
    await waitFor('a few polls', () => server.stateRequests >= before + 2);
    polling.close();
    const polls = server.stateRequests;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.stateRequests).toBe(polls);
  });
});
