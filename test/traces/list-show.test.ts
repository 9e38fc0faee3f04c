/**
 * `traces list` and `traces show` on a traces folder the real proxy filled, with the debris a
 * real folder collects: a file cut short mid-write, a JSON file that is not a trace, a trace
 * from before metrics were written.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { analyzeTrace } from '../../src/traces/analyze.js';
import { listTraces, renderList, renderProblems } from '../../src/traces/list.js';
import { readReply, renderShow } from '../../src/traces/show.js';
import { readTrace } from '../../src/traces/trace-file.js';
import { listTraceFiles, resolveTrace } from '../../src/traces/trace-store.js';
import { expectError } from '../support/expect-error.js';
import { capture } from '../support/fixtures.js';
import { tempRoot, traceCalls } from './real-traces.js';

const idOf = (file: string): string => basename(file, '.json').slice('2026-12-02T09-27-51-014Z-'.length);

describe('traces list and show', () => {
  let root: string;
  /** Oldest first, as sent. */
  let files: string[];
  let ids: string[];
  let corrupt: string;

  beforeAll(async () => {
    root = await tempRoot();
    files = await traceCalls(root, [
      { body: { ...capture('print-tool-turn', 2).body, stream: true }, reply: { kind: 'tool', name: 'Bash', arguments: { command: 'ls' }, text: 'Listing.', promptTokens: 20_000, cachedTokens: 0 } },
      { body: { ...capture('print-tool-turn', 3).body, stream: true }, reply: { kind: 'text', text: 'Two files.', promptTokens: 20_400, cachedTokens: 19_000 } },
      { body: { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'Title this chat.' }] }, reply: { kind: 'text', text: 'A title' } },
    ]);
    ids = files.map(idOf);
    // A proxy killed mid-write: the newest file, cut in half.
    const text = await readFile(files[0]!, 'utf8');
    corrupt = join(dirname(files[0]!), `${new Date(Date.now() + 1000).toISOString().replace(/[:.]/g, '-')}-cutshort0000.json`);
    await writeFile(corrupt, text.slice(0, text.length / 2));
  });

  it('lists newest first, with time, id, backend, model, prompt (+cached), output, duration and status', async () => {
    const listing = await listTraces(root);
    expect(listing.traces.map((t) => t.id)).toEqual([...ids].reverse());
    const [title, cached, first] = listing.traces;
    expect(cached).toMatchObject({ backend: 'mlx-lm', model: 'served-model', promptTokens: 20_400, cachedTokens: 19_000, status: 200, stopReason: 'end_turn' });
    expect(first).toMatchObject({ promptTokens: 20_000, stopReason: 'tool_use' });
    expect(title!.outputTokens).toBeGreaterThan(0);
    const lines = renderList(listing).split('\n');
    expect(lines[0]).toMatch(/^time\s+id\s+backend\s+model\s+prompt\s+output\s+took\s+status$/);
    expect(lines[1]).toContain(ids[2]);
    expect(lines[2]).toMatch(new RegExp(`${ids[1]}\\s+mlx-lm\\s+served-model\\s+20,400 \\(19,000 cached\\)\\s+\\d+\\s+\\d+ms\\s+200 end_turn$`));
    expect(lines[3]).toMatch(/20,000\s+\d+\s+\d+ms\s+200 tool_use$/);
  });

  it('reports a file cut short and goes on with the others', async () => {
    const listing = await listTraces(root);
    expect(listing.traces).toHaveLength(3);
    expect(listing.problems).toEqual([{ path: corrupt, problem: expect.stringContaining('not valid JSON') as string }]);
    expect(renderProblems(listing.problems)).toContain(`skipped ${corrupt}`);
  });

  it('--limit reads only the newest files and says how many are older; --backend filters', async () => {
    const listing = await listTraces(root, { limit: 2 });
    expect(listing.problems.map((p) => p.path)).toEqual([corrupt]);
    expect(listing.traces.map((t) => t.id)).toEqual([ids[2]]);
    expect(listing.more).toBe(2);
    expect(renderList(listing)).toContain('… 2 older');
    expect((await listTraces(root, { backend: 'llama-cpp' })).traces).toEqual([]);
    expect((await listTraces(root, { backend: 'mlx-lm' })).traces).toHaveLength(3);
  });

  it('an empty or missing folder is no traces, not an error', async () => {
    const listing = await listTraces(join(root, 'nothing-here'));
    expect(listing.traces).toEqual([]);
    expect(renderList(listing)).toContain('no traces under');
  });

  it('show finds a trace by a unique id prefix, by its path, or as latest (the newest readable)', async () => {
    expect(await resolveTrace(root, ids[1]!.slice(0, 8))).toBe(files[1]);
    expect(await resolveTrace(root, files[0]!)).toBe(files[0]);
    // The newest file is the one cut short: latest means the newest that reads.
    expect(await resolveTrace(root, 'latest')).toBe(files[2]);
    await expectError(resolveTrace(root, 'ffffffffffffff'), 'TRACE_NOT_FOUND');
    await expectError(resolveTrace(root, join(root, 'gone.json')), 'TRACE_NOT_FOUND');
    await expectError(resolveTrace(join(root, 'nothing-here'), 'latest'), 'NO_TRACES');
  });

  it('an ambiguous prefix names the candidates', async () => {
    const twin = join(dirname(files[0]!), `2020-01-01T00-00-00-000Z-${ids[0]!.slice(0, 4)}twin.json`);
    await writeFile(twin, await readFile(files[0]!, 'utf8'));
    try {
      await expectError(resolveTrace(root, ids[0]!.slice(0, 4)), 'TRACE_AMBIGUOUS');
      expect(await resolveTrace(root, ids[0]!)).toBe(files[0]);
    } finally {
      await rm(twin);
    }
  });

  it('show summarises the exchange and reads the reply back out of the stream', async () => {
    const read = await readTrace(files[0]!);
    if (!read.ok) throw new Error(read.problem);
    const text = renderShow(read.trace, files[0]!);
    expect(text).toContain(`trace ${ids[0]}`);
    expect(text).toMatch(/status\s+200 tool_use/);
    expect(text).toMatch(/prompt\s+20,000 tokens/);
    expect(text).toContain('24 tools, 2 messages');
    expect(text).toMatch(/upstream req\s+POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
    expect(text).toContain('tool call: Bash {"command":"ls"}');
    expect(text).toContain('Listing.');
  });

  it('reads a non-streaming reply too (the JSON array of events the proxy assembled)', async () => {
    const read = await readTrace(files[2]!);
    if (!read.ok) throw new Error(read.problem);
    expect(read.trace.replyOut!.body.startsWith('[')).toBe(true);
    expect(readReply(read.trace.replyOut!.body)).toMatchObject({ text: 'A title', toolCalls: [] });
  });
});

describe('traces from other anyclaude versions', () => {
  it('a trace without metrics still lists, shows and analyzes (as a raw estimate)', async () => {
    const root = await tempRoot();
    const [file] = await traceCalls(root, [{ body: capture('print-tool-turn', 2).body, reply: { kind: 'text', text: 'ok', promptTokens: 20_000 } }]);
    const old = JSON.parse(await readFile(file!, 'utf8')) as Record<string, unknown>;
    delete old.metrics;
    await writeFile(file!, JSON.stringify(old));
    const listing = await listTraces(root);
    expect(listing.problems).toEqual([]);
    expect(listing.traces[0]).toMatchObject({ model: undefined, promptTokens: undefined });
    expect(renderList(listing).split('\n')[1]).toMatch(/mlx-lm\s+-\s+-\s+-\s+-\s+200$/);
    const read = await readTrace(file!);
    if (!read.ok) throw new Error(read.problem);
    expect(renderShow(read.trace, file!)).toContain('trace ');
    const b = await analyzeTrace(read.trace);
    expect(b.calibration).toMatchObject({ kind: 'raw', reason: expect.stringContaining('reported no prompt token count') as string });
    expect(b.tools.count).toBe(24);
  });

  it('metrics of a shape this version does not know are dropped, not fatal; a file that is not a trace is a problem', async () => {
    const root = await tempRoot();
    const [file] = await traceCalls(root, [{ body: capture('print-tool-turn', 2).body, reply: { kind: 'text', text: 'ok' } }]);
    const trace = JSON.parse(await readFile(file!, 'utf8')) as Record<string, unknown>;
    await writeFile(file!, JSON.stringify({ ...trace, metrics: 'v0 metrics' }));
    const stranger = join(dirname(file!), 'notes.json');
    await writeFile(stranger, JSON.stringify({ hello: 'world' }));
    const listing = await listTraces(root);
    expect(listing.traces).toHaveLength(1);
    expect(listing.traces[0]!.model).toBeUndefined();
    expect(listing.problems).toEqual([{ path: stranger, problem: expect.stringMatching(/^not an anyclaude trace at id/) as string }]);
    // A file name without the writer's time prefix is ordered by its mtime.
    expect((await listTraceFiles(root)).map((f) => f.path)).toContain(stranger);
  });
});
