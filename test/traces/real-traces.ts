/**
 * Real traces for the `traces` tests: the real proxy, tracing into a temp root, in front of the
 * scripted upstream, fed real Claude Code request bodies. Nothing here writes a trace by hand.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import type { Reply } from '../support/scripted-upstream.js';

export async function tempRoot(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'anyclaude-traces-')), 'traces');
}

/** All trace files under `root`, any backend. */
export async function traceFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const backend of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, backend)).catch(() => [] as string[])) out.push(join(root, backend, name));
  }
  return out;
}

/** The proxy writes a trace after the reply ends (off the request's path): wait until it is there. */
export async function waitForTraces(root: string, count: number, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = await traceFiles(root);
    if (files.length >= count) return files;
    if (Date.now() > deadline) throw new Error(`expected ${count} traces under ${root}, found ${files.length}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TracedCall {
  body: unknown;
  reply: Reply;
}

/**
 * Sends each call through a traced proxy in order (a few ms apart, so their start times differ)
 * and returns the new trace files in the same order.
 */
export async function traceCalls(
  root: string,
  calls: readonly TracedCall[],
  options: { contextWindow?: number } = {},
): Promise<string[]> {
  const h: Harness = await startHarness({ proxy: { trace: root }, ...(options.contextWindow === undefined ? {} : { contextWindow: options.contextWindow }) });
  const made: string[] = [];
  try {
    for (const call of calls) {
      const before = new Set(await traceFiles(root));
      h.upstream.enqueue(call.reply);
      const response = await h.post('/v1/messages', call.body);
      await response.text();
      const after = await waitForTraces(root, before.size + 1);
      made.push(...after.filter((f) => !before.has(f)));
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await h.close();
  }
  return made;
}
