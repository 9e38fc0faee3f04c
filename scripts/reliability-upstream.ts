/**
 * The reliability bench's backend, as its own process (`tsx scripts/reliability-upstream.ts
 * <delay ms per chunk>`): the scripted mlx-lm upstream answering each request from its
 * directive (see reliability-workload.ts). Prints its URL, then answers `stats` on stdin with a
 * JSON line: chat requests served and those the client (the proxy) hung up on.
 */
import { startScriptedUpstream } from '../test/support/scripted-upstream.js';
import { upstreamReply } from './reliability-workload.js';

const upstream = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'bench-model', delayMsPerChunk: Number(process.argv[2] ?? 0) });
let served = 0;
let aborted = 0;
upstream.setDefault((rec) => {
  served++;
  // The recorder keeps every request; a soak of thousands of 90 KB bodies only needs the counts.
  upstream.requests.length = 0;
  upstream.chatRequests.length = 0;
  return upstreamReply(rec.rawBody);
});
const countAborts = async (): Promise<void> => {
  for (;;) {
    await upstream.waitForAbort(2 ** 30).catch(() => undefined);
    aborted++;
  }
};
void countAborts();
process.stdout.write(`${upstream.url}\n`);
process.stdin.on('data', (chunk: Buffer) => {
  if (chunk.toString().includes('stats')) process.stdout.write(`${JSON.stringify({ served, aborted })}\n`);
});
process.stdin.on('end', () => void upstream.close().then(() => process.exit(0)));
