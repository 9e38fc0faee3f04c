/**
 * What the proxy process holds right now, for `GET /_anyclaude/status`: memory, open file
 * descriptors and the libuv resources keeping it alive (sockets, servers, timers). A leak shows
 * up here as a number that keeps growing between idle moments; the reliability bench and the
 * soak test compare these against a baseline taken after warm-up.
 */
import { readdirSync } from 'node:fs';

export interface ProcessStats {
  rssBytes: number;
  heapUsedBytes: number;
  /** Entries of /proc/self/fd; undefined where there is no /proc (macOS). */
  openFds: number | undefined;
  /** process.getActiveResourcesInfo() counted by kind: TCPSocketWrap, TCPServerWrap, Timeout, … */
  activeResources: Record<string, number>;
}

export function processStats(): ProcessStats {
  const memory = process.memoryUsage();
  return { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, openFds: openFds(), activeResources: countResources() };
}

function openFds(): number | undefined {
  try {
    // readdir holds one descriptor on the folder while it reads it: not one of ours.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
