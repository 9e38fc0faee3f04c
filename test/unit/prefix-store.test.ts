/**
 * The remembered prefix belongs to one backend, model and (for a server anyclaude did not start)
 * server: replaying another's into a new server costs a full prefill that caches nothing useful.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessagesRequest } from '../../src/anthropic/types.js';
import { PrefixStore, type PrefixOwner } from '../../src/cache/prefix-store.js';

const UA = { userAgent: 'claude-cli/2.1.197 (external, cli)', sessionId: undefined };

function request(system: string): MessagesRequest {
  return {
    model: 'anyclaude',
    max_tokens: 32,
    system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
    tools: [{ name: 'Read', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: 'hi' }],
  };
}

const external = (url: string, modelId: string | undefined): PrefixOwner => ({ name: 'openai', url, modelId, managed: false });
const managed = (port: number, modelId: string): PrefixOwner => ({ name: 'mlx-lm', url: `http://127.0.0.1:${port}`, modelId, managed: true });

/** record() writes in the background; the file appearing is the signal it is done. */
async function recorded(store: PrefixStore, home: string, count: number, ...args: Parameters<PrefixStore['record']>): Promise<void> {
  store.record(...args);
  const dir = join(home, 'prefix', '2.1.197');
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if ((await readdir(dir).catch(() => [])).length >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the prefix was never written');
}

describe('PrefixStore', () => {
  it('says once that the prefix cannot be saved, however many sessions start, and keeps trying', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-prefix-'));
    // A file where the folder should be: fails for root too (ENOTDIR/EEXIST), unlike chmod.
    await writeFile(join(home, 'prefix'), 'not a folder');
    const said: string[] = [];
    const store = new PrefixStore(home, (m) => said.push(m));
    const owner = managed(50003, 'model-a');
    for (const session of ['s1', 's2', 's3']) store.record(request(`Prompt of ${session}.`), { ...UA, sessionId: session }, owner);
    const deadline = Date.now() + 5_000;
    while (said.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^the prompt prefix is not being saved: .*prefix: E[A-Z]+ \(.+\); /);
  });

  it('gives a prefix back only to the same backend, model and external server', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-prefix-'));
    const store = new PrefixStore(home, (m) => expect.fail(m));
    const owner = external('http://127.0.0.1:8080', 'qwen2.5-0.5b');
    await recorded(store, home, 1, request('Big system prompt.'), UA, owner);

    const loaded = await store.load('2.1.197', owner);
    expect(loaded?.system).toEqual([{ type: 'text', text: 'Big system prompt.' }]);
    expect(loaded?.tools).toEqual([{ name: 'Read', input_schema: { type: 'object' } }]);
    expect(await store.load('2.1.197', external('http://127.0.0.1:8080', 'qwen3-4b'))).toBeUndefined();
    expect(await store.load('2.1.197', external('http://127.0.0.1:9090', 'qwen2.5-0.5b'))).toBeUndefined();
    expect(await store.load('2.1.198', owner)).toBeUndefined();
    expect(await store.load('2.1.197', { ...owner, name: 'lmstudio' })).toBeUndefined();
  });

  it("keeps each model's prefix apart, and finds a managed server's again on a new port", async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-prefix-'));
    const store = new PrefixStore(home, (m) => expect.fail(m));
    await recorded(store, home, 1, request('Prompt for model A.'), UA, managed(50001, 'model-a'));
    await recorded(store, home, 2, request('Prompt for model B.'), UA, managed(50002, 'model-b'));

    expect((await store.load('2.1.197', managed(50999, 'model-a')))?.system).toEqual([{ type: 'text', text: 'Prompt for model A.' }]);
    expect((await store.load('2.1.197', managed(50998, 'model-b')))?.system).toEqual([{ type: 'text', text: 'Prompt for model B.' }]);
  });

  it("remembers a session's main agent, not the subagents that come after it in the same session", async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-prefix-'));
    const store = new PrefixStore(home, (m) => expect.fail(m));
    const owner = managed(50001, 'model-a');
    const session = (id: string) => ({ userAgent: UA.userAgent, sessionId: id });
    const title: MessagesRequest = { ...request('Title prompt.'), tools: [] };
    store.record(title, session('s1'), owner);
    await recorded(store, home, 1, request('Main agent prompt.'), session('s1'), owner);
    store.record(request('Explore subagent prompt.'), session('s1'), owner);
    await new Promise((r) => setTimeout(r, 100));
    expect((await store.load('2.1.197', owner))?.system).toEqual([{ type: 'text', text: 'Main agent prompt.' }]);
    // A new session's main agent replaces it (the user may have changed tools or MCP servers).
    store.record(request('Main agent, new tools.'), session('s2'), owner);
    const deadline = Date.now() + 5_000;
    const newest = async (): Promise<string> => JSON.stringify((await store.load('2.1.197', owner))?.system ?? null);
    while (Date.now() < deadline && !(await newest()).includes('new tools')) await new Promise((r) => setTimeout(r, 10));
    expect((await store.load('2.1.197', owner))?.system).toEqual([{ type: 'text', text: 'Main agent, new tools.' }]);
  });

  it('ignores what older versions stored per backend only', async () => {
    const home = await mkdtemp(join(tmpdir(), 'anyclaude-prefix-'));
    await mkdir(join(home, 'prefix', '2.1.197'), { recursive: true });
    await writeFile(join(home, 'prefix', '2.1.197', 'openai.json'), JSON.stringify({ system: 'from another server', tools: [] }));
    const store = new PrefixStore(home, (m) => expect.fail(m));
    expect(await store.load('2.1.197', external('http://127.0.0.1:8080', 'qwen2.5-0.5b'))).toBeUndefined();
  });
});
