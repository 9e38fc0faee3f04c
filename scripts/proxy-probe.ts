/**
 * What a running `anyclaude proxy` process holds, seen from outside (/proc/<pid>: RSS, open
 * fds) and from inside (`GET /_anyclaude/status`: live handles and timers, requests in flight),
 * and a wait for it to go idle. Shared by the reliability bench and the soak-leak test.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { request } from 'undici';
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
export async function settle(pid: number, url: string, key: string, quietMs = 6_000, limitMs = 30_000): Promise<Probe> {
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
    if (idle || Date.now() - started > limitMs) return { ...seen, inside: view.process, inFlight: view.inFlight, settledMs: Date.now() - started };
    await sleep(250);
  }
}
