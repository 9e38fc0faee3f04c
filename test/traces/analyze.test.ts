/**
 * `traces analyze` on traces the real proxy wrote for real Claude Code 2.1.197 requests: the
 * parts add up, tools are most of the prompt, and the counts are calibrated by what the backend
 * reported for that very request (or say plainly that they are not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import p50k from 'js-tiktoken/ranks/p50k_base';
import { startProxy, type Proxy } from '../../src/proxy/server.js';
import { UPSTREAM_PROFILES } from '../../src/translate/upstream-profile.js';
import { analyzeTrace, roundToTotal, type Breakdown } from '../../src/traces/analyze.js';
import { renderAnalysis } from '../../src/traces/analyze-view.js';
import { readTrace, type Trace } from '../../src/traces/trace-file.js';
import { capture, FIXTURES_DIR } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { tempRoot, traceCalls, waitForTraces } from './real-traces.js';

const enc = new Tiktoken(p50k);
const toolTurn = capture('print-tool-turn', 2).body;
const toolNames = (toolTurn.tools as Array<{ name: string }>).map((t) => t.name);

async function load(path: string): Promise<Trace> {
  const read = await readTrace(path);
  if (!read.ok) throw new Error(read.problem);
  return read.trace;
}

function expectPartsAddUp(b: Breakdown): void {
  const sum = (kind: string): number => b.parts.filter((p) => p.kind === kind).reduce((n, p) => n + p.tokens, 0);
  expect(sum('tool')).toBe(b.tools.tokens);
  expect(sum('message')).toBe(b.messages.tokens);
  expect(sum('system')).toBe(b.system.tokens);
  expect(b.system.tokens + b.tools.tokens + b.messages.tokens).toBe(b.total);
  expect(b.messages.byRole.reduce((n, r) => n + r.tokens, 0)).toBe(b.messages.tokens);
  expect(b.parts.reduce((n, p) => n + p.share, 0)).toBeCloseTo(1, 6);
}

describe('analyze: a translated (OpenAI) exchange of Claude Code turn 1 with 24 tools', () => {
  let trace: Trace;
  let b: Breakdown;
  beforeAll(async () => {
    const root = await tempRoot();
    // contextWindow 40000 puts the prompt past half the window, so the proxy ran its exact counter too.
    const [file] = await traceCalls(
      root,
      [{ body: { ...toolTurn, stream: true }, reply: { kind: 'tool', name: 'Bash', arguments: { command: 'ls' }, text: 'Listing.', promptTokens: 20_000, cachedTokens: 0 } }],
      { contextWindow: 40_000 },
    );
    trace = await load(file!);
    b = await analyzeTrace(trace);
  });

  it('is calibrated by the prompt_tokens the backend reported, so the total is what the backend counted', () => {
    expect(trace.metrics?.promptTokens).toBe(20_000);
    expect(b.calibration).toMatchObject({ kind: 'calibrated', reportedTokens: 20_000 });
    expect(b.total).toBe(20_000);
    if (b.calibration.kind !== 'calibrated') throw new Error('not calibrated');
    expect(b.calibration.ratio).toBeCloseTo(20_000 / b.calibration.rawTokens, 9);
  });

  it('counts the prompt as the proxy did: the raw total is the proxy exact estimate, less the tools array punctuation', () => {
    if (b.calibration.kind !== 'calibrated') throw new Error('not calibrated');
    const proxyRaw = trace.metrics?.estimatedPromptTokens ?? 0;
    expect(proxyRaw).toBeGreaterThan(10_000);
    // The proxy counts `[tool,tool,…]` as one segment; analyze counts each tool: only `[`, `,` and `]` differ.
    expect(Math.abs(b.calibration.rawTokens - proxyRaw)).toBeLessThanOrEqual(toolNames.length + 1);
  });

  it('shows tools as the largest share, with one row per tool that adds up to the tools total', () => {
    expect(b.protocol).toBe('openai');
    expect(b.source).toBe('upstream');
    expect(b.tools.count).toBe(24);
    expect(b.tools.tokens).toBeGreaterThan(b.system.tokens);
    expect(b.tools.tokens).toBeGreaterThan(b.messages.tokens);
    expect(b.tools.share).toBeGreaterThan(0.5);
    expect(b.toolsByCost.map((t) => t.name).sort()).toEqual([...toolNames].sort());
    for (let i = 1; i < b.toolsByCost.length; i++) expect(b.toolsByCost[i - 1]!.tokens).toBeGreaterThanOrEqual(b.toolsByCost[i]!.tokens);
    expectPartsAddUp(b);
  });

  it('counts each tool schema as sent upstream, with tiktoken, then scales it by the calibration', () => {
    if (b.calibration.kind !== 'calibrated') throw new Error('not calibrated');
    const sent = JSON.parse(trace.upstreamRequest!.body) as { tools: Array<{ function: { name: string } }> };
    const bash = sent.tools.find((t) => t.function.name === 'Bash')!;
    const part = b.parts.find((p) => p.kind === 'tool' && p.name === 'Bash')!;
    expect(part.rawTokens).toBe(enc.encode(JSON.stringify(bash)).length);
    expect(Math.abs(part.tokens - part.rawTokens * b.calibration.ratio)).toBeLessThanOrEqual(1);
  });

  it('renders totals with shares, and the top 5 tools without -v', () => {
    const text = renderAnalysis(b);
    expect(text).toContain('as the backend counted them');
    expect(text).toMatch(/^tools \(24\)\s+[\d,]+\s+\d+\.\d%$/m);
    expect(text).toMatch(/^total\s+20,000\s+100\.0%$/m);
    const top = b.toolsByCost[0]!;
    expect(text).toContain('most expensive tools (top 5 of 24');
    expect(text).toMatch(new RegExp(`^  ${top.name}\\s+${top.tokens.toLocaleString('en-US')}\\s`, 'm'));
    // Without -v only five tools are listed.
    const sixth = b.toolsByCost[5]!;
    expect(text).not.toMatch(new RegExp(`^  ${sixth.name}\\s`, 'm'));
  });

  it('-v lists every tool and every message', () => {
    const text = renderAnalysis(b, { verbose: true });
    for (const name of toolNames) expect(text).toMatch(new RegExp(`^  ${name}\\s+[\\d,]+\\s+\\d+\\.\\d%$`, 'm'));
    expect(text).toContain('messages, in order:');
    expect(text).toMatch(/^ {2}#1 user\s/m);
  });
});

describe('analyze: requests of other shapes', () => {
  it('a string system prompt and no tools: no tool rows, and a tiny prompt stays a raw estimate, saying why', async () => {
    const root = await tempRoot();
    const [file] = await traceCalls(root, [
      {
        body: { model: 'claude-opus-4-8', max_tokens: 100, system: 'You are terse.', messages: [{ role: 'user', content: 'Say hi.' }] },
        reply: { kind: 'text', text: 'hi', promptTokens: 30 },
      },
    ]);
    const b = await analyzeTrace(await load(file!));
    expect(b.tools.count).toBe(0);
    expect(b.system.tokens).toBeGreaterThan(0);
    expect(b.messages.byRole).toEqual([expect.objectContaining({ role: 'user', count: 1 })]);
    expect(b.calibration).toMatchObject({ kind: 'raw' });
    expect(b.total).toBe(b.calibration.rawTokens);
    expectPartsAddUp(b);
    const text = renderAnalysis(b);
    expect(text).toContain('not calibrated');
    expect(text).not.toContain('most expensive tools');
  });

  it('a request refused before it reached the backend is read as Claude Code sent it, uncalibrated', async () => {
    const root = await tempRoot();
    // A 2000-token window cannot hold turn 1: the proxy answers 400 without calling the backend.
    const [file] = await traceCalls(root, [{ body: toolTurn, reply: { kind: 'text', text: 'never' } }], { contextWindow: 2000 });
    const trace = await load(file!);
    expect(trace.metrics?.status).toBe(400);
    expect(trace.upstreamRequest?.body).toBe('');
    const b = await analyzeTrace(trace);
    expect(b).toMatchObject({ source: 'client', protocol: 'anthropic', calibration: { kind: 'raw' } });
    expect(b.tools.count).toBe(24);
    expect(renderAnalysis(b)).toContain('it never reached the backend');
  });
});

describe('analyze: an Anthropic pass-through (claude backend) exchange', () => {
  let native: Harness;
  let front: Proxy;
  let root: string;
  beforeAll(async () => {
    root = await tempRoot();
    // A second anyclaude proxy plays the Messages API the claude backend forwards to.
    native = await startHarness({ flavor: 'llama-server' });
    front = await startProxy({
      upstreams: [{ name: 'claude', url: native.proxy.url, protocol: 'anthropic', flavor: 'claude', model: undefined, contextWindow: undefined, profile: UPSTREAM_PROFILES.openai, apiKey: native.proxy.key }],
      trace: root,
    });
  });
  afterAll(async () => {
    await front.close();
    await native.close();
  });

  it('breaks down the Messages request itself: system blocks, 24 tools, messages, calibrated by input + cached tokens', async () => {
    native.upstream.enqueue({ kind: 'text', text: 'Done.', promptTokens: 21_000, cachedTokens: 15_000 });
    const client = new Anthropic({ baseURL: front.url, apiKey: front.key, maxRetries: 0 });
    await client.messages.stream(toolTurn as never).finalMessage();
    const [file] = await waitForTraces(root, 1);
    expect(file).toContain('/claude/');
    const trace = await load(file!);
    const b = await analyzeTrace(trace);
    expect(b).toMatchObject({ backend: 'claude', protocol: 'anthropic', source: 'upstream', cachedTokens: 15_000 });
    expect(b.model).toBe(toolTurn.model);
    expect(b.calibration).toMatchObject({ kind: 'calibrated', reportedTokens: 21_000 });
    expect(b.total).toBe(21_000);
    expect(b.system.count).toBe(1);
    expect(b.tools.count).toBe(24);
    expect(b.tools.share).toBeGreaterThan(Math.max(b.system.share, b.messages.share));
    expectPartsAddUp(b);
    expect(renderAnalysis(b)).toContain("15,000 of its tokens came from the backend's prompt cache");
  });
});

describe("analyze: a claude pass-through of the real API's recorded reply", () => {
  /** The bytes the API sent for turn 1 (input_tokens 18966: Claude's own tokenizer), after the status line. */
  const recorded = readFileSync(join(FIXTURES_DIR, 'print-tool-turn/002-POST-v1_messages.response.txt'), 'utf8').replace(/^HTTP \d+\n\n/, '');
  let api: Server;
  let front: Proxy;
  let root: string;
  let reply = recorded;
  beforeAll(async () => {
    root = await tempRoot();
    api = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(reply);
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const port = (api.address() as { port: number }).port;
    front = await startProxy({
      upstreams: [{ name: 'claude', url: `http://127.0.0.1:${port}`, protocol: 'anthropic', flavor: 'claude', model: undefined, contextWindow: undefined, profile: UPSTREAM_PROFILES.openai, apiKey: 'sk-ant-placeholder' }],
      trace: root,
    });
  });
  afterAll(async () => {
    await front.close();
    await new Promise((resolve) => api.close(resolve));
  });

  async function analyzeTurn(): Promise<Breakdown> {
    const before = (await waitForTraces(root, 0)).length;
    const client = new Anthropic({ baseURL: front.url, apiKey: front.key, maxRetries: 0 });
    await client.messages.stream(toolTurn as never).finalMessage();
    const files = await waitForTraces(root, before + 1);
    return analyzeTrace(await load(files.sort().at(-1)!));
  }

  it("is calibrated to the API's own count of the request", async () => {
    reply = recorded;
    const b = await analyzeTurn();
    expect(b.calibration).toMatchObject({ kind: 'calibrated', reportedTokens: 18_966 });
    expect(b.total).toBe(18_966);
    expect(b.tools.share).toBeGreaterThan(Math.max(b.system.share, b.messages.share));
    expectPartsAddUp(b);
  });

  it('counts the tokens a turn wrote to the prompt cache: input + cache creation + cache read', async () => {
    // The same reply as the API words it when the turn writes the cache: 3 uncached tokens, the rest cache creation.
    reply = recorded.replace('"input_tokens":18966,"cache_creation_input_tokens":0', '"input_tokens":3,"cache_creation_input_tokens":18963');
    expect(reply).not.toBe(recorded);
    const b = await analyzeTurn();
    expect(b.calibration).toMatchObject({ kind: 'calibrated', reportedTokens: 18_966 });
    expect(b.total).toBe(18_966);
  });
});

describe('roundToTotal', () => {
  it('rounds each value and keeps the sum equal to the rounded total', () => {
    expect(roundToTotal([1.4, 1.4, 1.2])).toEqual([2, 1, 1]);
    expect(roundToTotal([0.5, 0.5])).toEqual([1, 0]);
    expect(roundToTotal([])).toEqual([]);
  });
});
