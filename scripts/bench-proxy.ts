/**
 * `npm run bench:proxy`: what the proxy costs, side by side with talking to the backend directly.
 *  - added TTFT p50/p95 for the captured 76 KB Claude Code request (goal: p50 < 2 ms)
 *  - stream throughput ratio proxy/direct on a 4,000-token stream (goal: >= 0.98)
 *  - CPU time to translate the 76 KB request (goal: < 1 ms)
 * Same upstream, same machine, one run; the numbers are printed, never asserted.
 * As in real use, the proxy (the real `anyclaude proxy` CLI), the backend and the client are
 * three processes, so the client's and the backend's work never count against the proxy.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { createParser } from 'eventsource-parser';
import { execa, type ResultPromise } from 'execa';
import { UPSTREAM_PROFILES } from '../src/translate/upstream-profile.js';
import { anthropicToOpenAI, upstreamBody } from '../src/translate/anthropic-to-openai.js';
import { parseMessagesRequest } from '../src/anthropic/request-schema.js';
import type { MessagesRequest } from '../src/anthropic/types.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/claude-code-2.1.197/print-tool-turn/002-POST-v1_messages.json', import.meta.url));
const TTFT_RUNS = Number(process.env.BENCH_TTFT_RUNS ?? 200);
const STREAM_RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 5);
const STREAM_TOKENS = 4000;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const median = (values: number[]): number => percentile(values, 50);

/** Time to the first content byte and to the end, reading an SSE body; `isToken` says which frame is the first token. */
async function timeStream(url: string, headers: Record<string, string>, body: string, isToken: (data: string) => boolean): Promise<{ ttft: number; total: number }> {
  const start = performance.now();
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  let ttft = -1;
  const parser = createParser({
    onEvent: (e) => {
      if (ttft < 0 && isToken(e.data)) ttft = performance.now() - start;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  return { ttft, total: performance.now() - start };
}

function translationCpu(captured: MessagesRequest, raw: string): { parse: number; validate: number; translate: number } {
  const profile = UPSTREAM_PROFILES['mlx-lm'];
  const time = (fn: () => void, runs = 300): number => {
    for (let i = 0; i < 50; i++) fn(); // warm the JIT
    const t0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) fn();
    const used = process.cpuUsage(t0);
    return (used.user + used.system) / 1000 / runs;
  };
  return {
    parse: time(() => JSON.parse(raw)),
    validate: time(() => parseMessagesRequest(JSON.parse(raw))) - time(() => JSON.parse(raw)),
    translate: time(() => upstreamBody(anthropicToOpenAI(captured, { model: 'bench-model', profile }), 1000)),
  };
}

/** First stdout line of a child process. */
function firstLine(child: ResultPromise): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text);
    });
    child.once('exit', () => reject(new Error(`child exited early: ${text}`)));
  });
}

interface Upstream {
  url: string;
  configure(options: { tokens: number; tokensPerSec?: number }): Promise<void>;
  close(): Promise<void>;
}

async function startUpstreamProcess(): Promise<Upstream> {
  const child = execa('npx', ['tsx', fileURLToPath(new URL('./bench-upstream.ts', import.meta.url)), 'serve'], { stdin: 'pipe', reject: false });
  const url = (await firstLine(child)).trim();
  return {
    url,
    configure: (options) =>
      new Promise((resolve) => {
        child.stdout?.once('data', () => resolve());
        child.stdin?.write(`${JSON.stringify(options)}\n`);
      }),
    close: async () => {
      child.stdin?.end();
      await child;
    },
  };
}

async function startProxyProcess(upstreamUrl: string): Promise<{ url: string; key: string; close(): Promise<void> }> {
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json']);
  const bin = fileURLToPath(new URL('../bin/anyclaude.js', import.meta.url));
  const child = execa('node', [bin, 'proxy', '--upstream', upstreamUrl, '--flavor', 'mlx-lm', '--context', '262144'], { reject: false });
  let text = await firstLine(child);
  while (!text.includes('ANTHROPIC_API_KEY=')) text += await firstLine(child);
  const url = /ANTHROPIC_BASE_URL=(\S+)/.exec(text)![1]!;
  const key = /ANTHROPIC_API_KEY=(\S+)/.exec(text)![1]!;
  return {
    url,
    key,
    close: async () => {
      child.kill('SIGTERM');
      await child;
    },
  };
}

async function main(): Promise<void> {
  const captured = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { body: MessagesRequest }).body;
  const anthropicBody = JSON.stringify({ ...captured, stream: true });
  const upstream = await startUpstreamProcess();
  const proxy = await startProxyProcess(upstream.url);
  const directBody = upstreamBody(anthropicToOpenAI(captured, { model: 'bench-model', profile: UPSTREAM_PROFILES['mlx-lm'] }), 32000);
  const proxyHeaders = { 'x-api-key': proxy.key, 'x-claude-code-session-id': 'bench' };
  const isOpenAIToken = (d: string): boolean => d.includes('"content"');
  const isAnthropicToken = (d: string): boolean => d.includes('"text_delta"');
  const direct = () => timeStream(`${upstream.url}/v1/chat/completions`, {}, directBody, isOpenAIToken);
  const viaProxy = () => timeStream(`${proxy.url}/v1/messages`, proxyHeaders, anthropicBody, isAnthropicToken);

  // TTFT: one-token replies, direct and proxied interleaved so drift hits both alike.
  await upstream.configure({ tokens: 1 });
  await viaProxy(); // first request loads the token memo for the system prompt and tools
  const added: number[] = [];
  const directTtft: number[] = [];
  for (let i = 0; i < TTFT_RUNS; i++) {
    const d = await direct();
    const p = await viaProxy();
    directTtft.push(d.ttft);
    added.push(p.ttft - d.ttft);
  }

  const throughput = async (tokensPerSec: number | undefined): Promise<number> => {
    await upstream.configure({ tokens: STREAM_TOKENS, ...(tokensPerSec === undefined ? {} : { tokensPerSec }) });
    const ratios: number[] = [];
    for (let i = 0; i < STREAM_RUNS; i++) {
      const d = await direct();
      const p = await viaProxy();
      ratios.push(d.total / p.total);
    }
    return median(ratios);
  };
  const paced = await throughput(2000);
  const unpaced = await throughput(undefined);
  const cpu = translationCpu(captured, JSON.stringify(captured));
  await proxy.close();
  await upstream.close();

  const ms = (v: number): string => `${v.toFixed(3)} ms`;
  console.log(`anyclaude proxy benchmark (node ${process.version}, ${TTFT_RUNS} TTFT runs, ${STREAM_RUNS} stream runs)`);
  console.log(`request: captured Claude Code turn, ${(anthropicBody.length / 1024).toFixed(0)} KB, ${captured.tools?.length ?? 0} tools`);
  console.log(`direct TTFT p50                       ${ms(median(directTtft))}`);
  console.log(`added TTFT p50 / p95                  ${ms(median(added))} / ${ms(percentile(added, 95))}   (goal p50 < 2 ms)`);
  console.log(`throughput ratio, 4000 tok @ 2000/s   ${paced.toFixed(3)}   (goal >= 0.98)`);
  console.log(`throughput ratio, 4000 tok unpaced    ${unpaced.toFixed(3)}   (upstream as fast as the socket: pure proxy CPU cost)`);
  console.log(`translate 76 KB request (CPU)         ${ms(cpu.translate)}   (goal < 1 ms)`);
  console.log(`  + JSON.parse of the body            ${ms(cpu.parse)}`);
  console.log(`  + schema validation                 ${ms(cpu.validate)}`);
}

await main();
