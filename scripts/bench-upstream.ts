/**
 * A minimal OpenAI-compatible server for benchmarks: answers every chat request with a
 * stream of `tokens` one-token chunks, either as fast as it can or paced at `tokensPerSec`.
 * It does no work of its own, so what it measures is the client side.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchUpstream {
  url: string;
  configure(options: { tokens: number; tokensPerSec?: number }): void;
  close(): Promise<void>;
}

export async function startBenchUpstream(): Promise<BenchUpstream> {
  let tokens = 1;
  let tokensPerSec: number | undefined;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'bench-model', object: 'model' }] }));
      return;
    }
    req.resume();
    req.on('end', () => void stream(res, tokens, tokensPerSec));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    configure: (o) => {
      tokens = o.tokens;
      tokensPerSec = o.tokensPerSec;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

async function stream(res: import('node:http').ServerResponse, tokens: number, tokensPerSec: number | undefined): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const started = performance.now();
  for (let i = 0; i < tokens; i++) {
    if (tokensPerSec !== undefined) {
      const due = started + (i * 1000) / tokensPerSec;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    const ok = res.write(chunk({ content: ` tok${i % 100}` }));
    if (!ok) await new Promise((r) => res.once('drain', r));
  }
  res.write(chunk({}, 'stop'));
  res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 100, completion_tokens: tokens } })}\n\n`);
  res.end('data: [DONE]\n\n');
}

/** Run as its own process (`tsx scripts/bench-upstream.ts serve`): prints its URL, takes `configure` as JSON lines on stdin. */
if (process.argv[2] === 'serve') {
  const upstream = await startBenchUpstream();
  process.stdout.write(`${upstream.url}\n`);
  let buffered = '';
  process.stdin.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      upstream.configure(JSON.parse(buffered.slice(0, nl)) as { tokens: number; tokensPerSec?: number });
      buffered = buffered.slice(nl + 1);
      process.stdout.write('ok\n');
    }
  });
  process.stdin.on('end', () => void upstream.close().then(() => process.exit(0)));
}
