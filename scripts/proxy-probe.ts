/**
 * What a running `anyclaude proxy` process holds, seen from outside (/proc/<pid>: RSS, open
 * fds) and from inside (`GET /_anyclaude/status`: live handles and timers, requests in flight),
 * and a wait for it to go idle. Shared by the reliability bench and the soak-leak test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { request, WebSocket, type MessageEvent } from 'undici';
import type { ProcessStats } from '../src/proxy/process-stats.js';

export interface Probe {
  rssBytes: number;
  fds: number;
  /** The open fds by what they are: socket, pipe, anon_inode, file. */
  fdKinds: Record<string, number>;
  inside: ProcessStats;
  inFlight: number;
  /** How long the wait for idle took. */
  settledMs: number;
  /** A full garbage collection ran (through the inspector) before the figures were read. */
  gcForced: boolean;
}

export interface SettleOptions {
  /** How long the fd count must hold still (default 6 s: see `settle`). */
  quietMs?: number;
  limitMs?: number;
  /** Run before the figures are read, once idle: see `connectInspector`. */
  collectGarbage?: () => Promise<void>;
}

/** RSS and open fds of a process, read from /proc as `ps` and `ls -l /proc/<pid>/fd` would. */
export function outside(pid: number): { rssBytes: number; fds: number; fdKinds: Record<string, number> } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  const fdKinds: Record<string, number> = {};
  const entries = readdirSync(`/proc/${pid}/fd`);
  for (const fd of entries) {
    const kind = fdKind(pid, fd);
    if (kind !== undefined) fdKinds[kind] = (fdKinds[kind] ?? 0) + 1;
  }
  return { rssBytes: rssKb * 1024, fds: entries.length, fdKinds };
}

function fdKind(pid: number, fd: string): string | undefined {
  try {
    const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    return /^(socket|pipe|anon_inode):/.exec(target)?.[1] ?? 'file';
  } catch {
    return undefined; // closed between the listing and the look
  }
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, in parentheses): state is the first, utime the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

async function inside(url: string, key: string): Promise<{ process: ProcessStats; inFlight: number }> {
  // A connection of its own, closed after, so no client pool stays in the count. That socket is
  // the one TCPSocketWrap an idle proxy shows.
  const response = await request(`${url}/_anyclaude/status`, { headers: { 'x-api-key': key, connection: 'close' } });
  const status = (await response.body.json()) as { process: ProcessStats; requests: { inFlight: number } };
  return { process: status.process, inFlight: status.requests.inFlight };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (up to `limitMs`) until the proxy holds no connection but the status request's own, no
 * request is in flight, and its fd count has held still for `quietMs`, then reads it. Idle
 * kept-alive backend sockets are unref'd (invisible to getActiveResourcesInfo) but hold fds
 * until the backend drops them, after Node's default 5 s: hence 6 s of quiet by default.
 * Clients must have closed their own connections first.
 */
export async function settle(pid: number, url: string, key: string, options: SettleOptions = {}): Promise<Probe> {
  const { quietMs = 6_000, limitMs = 30_000 } = options;
  const started = Date.now();
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    // Read before the status request, whose socket would otherwise be counted some times and not others.
    const seen = outside(pid);
    if (seen.fds !== last) stableSince = Date.now();
    last = seen.fds;
    const view = await inside(url, key);
    const idle = (view.process.activeResources.TCPSocketWrap ?? 0) <= 1 && view.inFlight === 0 && Date.now() - stableSince >= quietMs;
    if (idle || Date.now() - started > limitMs) {
      if (options.collectGarbage === undefined) return { ...seen, inside: view.process, inFlight: view.inFlight, settledMs: Date.now() - started, gcForced: false };
      await options.collectGarbage();
      await sleep(500); // the allocator hands freed pages back after the collection
      const collected = outside(pid);
      const after = await inside(url, key);
      return { ...collected, inside: after.process, inFlight: after.inFlight, settledMs: Date.now() - started, gcForced: true };
    }
    await sleep(250);
  }
}

export interface Inspector {
  collectGarbage(): Promise<void>;
  close(): void;
}

/**
 * Full garbage collections on demand in a process started with `NODE_OPTIONS=--inspect=127.0.0.1:<port>`
 * (the CLI has no --expose-gc): HeapProfiler.collectGarbage over the inspector's WebSocket.
 * Without it, an idle proxy's heap still holds the garbage of its last requests, and RSS says
 * more about V8's heap sizing than about leaks.
 */
export async function connectInspector(port: number): Promise<Inspector> {
  const list = await request(`http://127.0.0.1:${port}/json/list`);
  const address = ((await list.body.json()) as Array<{ webSocketDebuggerUrl?: string }>)[0]?.webSocketDebuggerUrl;
  if (address === undefined) throw new Error(`the inspector on port ${port} lists no target`);
  const socket = new WebSocket(address);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error(`could not connect to the inspector at ${address}`)));
  });
  let nextId = 1;
  const call = (method: string): Promise<void> =>
    new Promise((resolve) => {
      const id = nextId++;
      const onMessage = (event: MessageEvent): void => {
        if ((JSON.parse(String(event.data)) as { id?: number }).id !== id) return;
        socket.removeEventListener('message', onMessage);
        resolve();
      };
      socket.addEventListener('message', onMessage);
      socket.send(JSON.stringify({ id, method }));
    });
  return {
    // Twice: the first pass runs finalizers and clears weak references whose targets the second frees.
    collectGarbage: async () => {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
    },
    close: () => socket.close(),
  };
}
