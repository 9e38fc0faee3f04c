/**
 * RELIABILITY.md, written from the reliability bench's results (.cache/bench/reliability.json):
 * what was done, what happened, what was lost. Every figure comes from the results file; the
 * other reliability sections list the test files that prove them, as found when it is written.
 *   npm run bench:reliability -- --write     run the bench, then write RELIABILITY.md
 *   npx tsx scripts/reliability-report.ts    write RELIABILITY.md again from the last results
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRun } from '../src/bench/results.js';
import type { Probe } from './proxy-probe.js';
import type { Kind } from './reliability-workload.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const RESULTS_FILE = `${ROOT}.cache/bench/reliability.json`;
export const REPORT_FILE = `${ROOT}RELIABILITY.md`;

export interface LatencyFigures {
  pairs: number;
  directTtftP50: number;
  directTotalP50: number;
  addedTtftP50: number;
  addedTtftP95: number;
  addedTotalP50: number;
  addedTotalP95: number;
}

export interface Figures {
  load: {
    streams: number;
    rounds: number;
    pieces: number;
    shapes: Record<string, number>;
    requests: number;
    errors: number;
    crossTalk: number;
    directErrors: number;
    /** The proxy process's CPU time (user + system) over the concurrent rounds, per proxied stream. */
    cpuMsPerStream: number;
    failures: string[];
    concurrent: LatencyFigures;
    single: LatencyFigures;
  };
  soak: {
    requests: number;
    warmupRequests: number;
    warmupErrors: number;
    concurrency: number;
    sessions: number;
    byKind: Record<Kind, { sent: number; ok: number }>;
    unexpected: number;
    crossTalk: number;
    failures: string[];
    /** The proxy process's CPU time over the soak, per request. */
    cpuMsPerRequest: number;
    backendServed: number;
    backendAborted: number;
    /** Right after the proxy printed its ready lines. */
    startedRssBytes: number;
    /** After the load phase, before the warm-up. */
    beforeSoakRssBytes: number;
    peakRssBytes: number;
    baseline: Probe;
    after: Probe;
    samples: Array<{ done: number; rssBytes: number; fds: number }>;
  };
}

export interface Verdict {
  name: string;
  threshold: string;
  value: string;
  pass: boolean;
}

export interface ReliabilityResults {
  schema: 'anyclaude-reliability/1';
  date: string;
  commit: string;
  machine: BenchRun['machine'];
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine shows here. */
  loadAverage: number[];
  /** The scripted backend's pause between stream chunks (a chunk is ~4 characters). */
  backendChunkDelayMs: number;
  figures: Figures;
  verdicts: Verdict[];
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (value: number): string => `${value.toFixed(1)} ms`;
const resources = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

const GC_NOTE =
  'Before each idle reading a full garbage collection is forced through the Node inspector (the proxy runs with `NODE_OPTIONS=--inspect`; the CLI has no `--expose-gc`), so memory figures are what the proxy still holds, not garbage waiting for a collection.';

const KIND_WORDS: Record<Kind, string> = {
  stream: 'streamed text, echoed exactly',
  json: 'non-streamed text, echoed exactly',
  'stream-tool': 'streamed tool call, input exact',
  'json-tool': 'non-streamed tool call, input exact',
  'count-tokens': 'count_tokens answered',
  'upstream-500': 'backend 500 → Anthropic error',
  'upstream-400': 'backend 400 → Anthropic error',
  malformed: 'truncated JSON body → 400',
  'client-abort': 'client left mid-stream',
};

function latencyRows(f: Figures['load']): string[][] {
  const row = (label: string, l: LatencyFigures): string[] => [label, String(l.pairs), ms(l.directTtftP50), `${ms(l.addedTtftP50)} / ${ms(l.addedTtftP95)}`, ms(l.directTotalP50), `${ms(l.addedTotalP50)} / ${ms(l.addedTotalP95)}`];
  return [row('one stream at a time', f.single), row(`${f.streams} concurrent streams`, f.concurrent)];
}
const LATENCY_HEADER = ['', 'pairs', 'direct TTFT p50', 'added TTFT p50 / p95', 'direct total p50', 'added total p50 / p95'];

function memoryRows(s: Figures['soak']): string[][] {
  return [
    ['proxy started', mb(s.startedRssBytes), '', '', ''],
    ['after the load phase', mb(s.beforeSoakRssBytes), '', '', ''],
    [`after ${s.warmupRequests} warm-up requests, idle (baseline)`, mb(s.baseline.rssBytes), mb(s.baseline.inside.heapUsedBytes), `${s.baseline.fds} (${resources(s.baseline.fdKinds)})`, resources(s.baseline.inside.activeResources)],
    [`peak during the ${s.requests} soak requests`, mb(s.peakRssBytes), '', '', ''],
    [`after the soak, idle`, mb(s.after.rssBytes), mb(s.after.inside.heapUsedBytes), `${s.after.fds} (${resources(s.after.fdKinds)})`, resources(s.after.inside.activeResources)],
  ];
}
const MEMORY_HEADER = ['moment', 'RSS', 'heap used', 'open fds', 'live handles and timers (inside view)'];

function kindRows(s: Figures['soak']): string[][] {
  return (Object.entries(s.byKind) as Array<[Kind, { sent: number; ok: number }]>).map(([k, v]) => [k, KIND_WORDS[k], String(v.sent), String(v.ok)]);
}
const KIND_HEADER = ['kind', 'expected', 'sent', 'as expected'];

function table(header: string[], rows: string[][], markdown: boolean): string {
  if (markdown) return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The bench's own figures: a terminal table or the markdown sections of RELIABILITY.md. */
export function renderReliability(r: ReliabilityResults, format: 'table' | 'markdown'): string {
  const md = format === 'markdown';
  const { load, soak } = r.figures;
  const lost = soak.unexpected + load.errors;
  const parts = [
    md && r.loadAverage[0]! > r.machine.cores ? `The machine was busy while this ran (load average ${r.loadAverage[0]!.toFixed(1)} on ${r.machine.cores} cores, from other work): figures under load include time spent waiting for a CPU, and vary from run to run.` : '',
    md ? '## Load' : `anyclaude reliability bench, ${r.date} (commit ${r.commit})\n${r.machine.label}, node ${r.machine.node}, load average ${r.loadAverage.map((n) => n.toFixed(2)).join(' ')} at start\n\nLOAD`,
    md ? `${load.streams} streaming requests at once through \`anyclaude proxy\`, shaped like ${load.streams / 4} Claude Code sessions working together (${Object.entries(load.shapes).map(([s, n]) => `${n} ${s}`).join(', ')}); ${load.rounds} rounds, then the same requests one at a time. Each reply is ${load.pieces} pieces built from a nonce in its own request and compared byte for byte. Added latency is the proxied request minus the same request sent straight to the backend in the same round (time to the first text byte, and to the end of the stream).` : '',
    `${load.requests} proxied streams: ${load.errors} errors, ${load.crossTalk} replies with another request's bytes${load.directErrors > 0 ? `, ${load.directErrors} direct-to-backend failures` : ''}. The proxy used ${ms(load.cpuMsPerStream)} of CPU per stream under load (user + system, from /proc).`,
    table(LATENCY_HEADER, latencyRows(load), md),
    load.failures.length > 0 ? `First failures: ${load.failures.join('; ')}` : '',
    md ? '## Soak' : 'SOAK',
    md ? `${soak.warmupRequests} warm-up requests, a baseline taken once idle, then ${soak.requests} requests of mixed kinds, ${soak.concurrency} at a time, across ${soak.sessions} sessions and the three request shapes; then idle again and compared. RSS and open fds are read from \`/proc/<pid>\` of the proxy process; live handles and timers are \`process.getActiveResourcesInfo()\` as \`GET /_anyclaude/status\` reports them (the status request's own socket included, alike in both). ${soak.baseline.gcForced && soak.after.gcForced ? GC_NOTE : 'No garbage collection was forced, so idle memory includes garbage not yet collected.'}` : '',
    table(KIND_HEADER, kindRows(soak), md),
    `Backend requests served: ${soak.backendServed}; backend requests closed because the client left: ${soak.backendAborted}. The proxy used ${ms(soak.cpuMsPerRequest)} of CPU per request.`,
    table(MEMORY_HEADER, memoryRows(soak), md),
    soak.failures.length > 0 ? `First failures: ${soak.failures.join('; ')}` : '',
    md ? '## Verdicts' : 'VERDICTS',
    table(['check', 'threshold', 'measured', 'result'], r.verdicts.map((v) => [v.name, v.threshold, v.value, v.pass ? 'pass' : 'FAIL']), md),
    md ? `## What was lost\n\n${lost === 0 ? `Nothing: every one of the ${load.requests + soak.requests} measured requests got the reply or the error its kind should get, and no reply carried another request's bytes.` : `${lost} requests did not get what they should (see the failures above).`}` : '',
  ];
  return parts.filter((p) => p !== '').join('\n\n');
}

/** Sections other reliability work fills: the test files that prove each, if they exist. */
const OTHER_SECTIONS: Array<{ title: string; about: string; files: string[] }> = [
  {
    title: 'Faults on the backend',
    about: 'A backend killed mid-stream, hanging after accepting, or alive but not answering; a full or read-only ~/.anyclaude.',
    files: ['test/real/backend-killed.test.ts', 'test/proxy/backend-hang.test.ts', 'test/real/degraded.test.ts', 'test/supervisor/health-check.test.ts', 'test/proxy/disk-faults.test.ts', 'test/real/disk-full-session.test.ts', 'test/proxy/faults.test.ts', 'test/proxy/hang-up.test.ts'],
  },
  { title: 'Hostile input', about: 'Malformed, oversized, deeply nested and slow requests; keys, hosts and origins.', files: ['test/proxy/hostile-input.test.ts', 'test/unit/request-limits.test.ts', 'test/real/hostile-paths.test.ts', 'test/unit/no-shell.test.ts', 'test/proxy/security-and-traces.test.ts'] },
  { title: 'Fuzzing', about: 'fast-check properties of both translation directions and the SSE parser.', files: ['test/fuzz', 'test/unit/upstream-sse-reader.test.ts'] },
  { title: 'Nothing leaves the machine', about: 'The whole product inside a loopback-only network namespace.', files: ['test/real/offline-netns.test.ts', 'test/proxy/conformance.test.ts'] },
  { title: 'Leaks', about: 'Mixed requests through the proxy process; fds and handles back to baseline.', files: ['test/proxy/soak-leaks.test.ts'] },
];

/** The first sentence of a test file's leading comment, if it has one. */
function summaryOf(path: string): string {
  const text = readFileSync(path, 'utf8');
  const comment = /^\s*\/\*\*([\s\S]*?)\*\//.exec(text)?.[1];
  if (comment === undefined) return '';
  const flat = comment.replace(/^\s*\* ?/gm, ' ').replace(/\s+/g, ' ').trim();
  return flat.split(/(?<=\.)\s/)[0] ?? flat;
}

function testFiles(entry: string): string[] {
  const full = `${ROOT}${entry}`;
  if (!existsSync(full)) return [];
  if (!entry.endsWith('.ts')) return readdirSync(full).filter((f) => f.endsWith('.test.ts')).map((f) => `${entry}/${f}`);
  return [entry];
}

function otherSections(): string {
  return OTHER_SECTIONS.map((s) => {
    const files = s.files.flatMap(testFiles);
    const list = files.length === 0 ? '_No test file for this yet._' : files.map((f) => `- \`${f}\`${summaryOf(`${ROOT}${f}`) === '' ? '' : ` — ${summaryOf(`${ROOT}${f}`)}`}`).join('\n');
    return `### ${s.title}\n\n${s.about}\n\n${list}`;
  }).join('\n\n');
}

export function reliabilityMarkdown(r: ReliabilityResults): string {
  return [
    '# Reliability',
    '<!-- Generated by scripts/reliability-report.ts from .cache/bench/reliability.json; do not edit by hand. Regenerate: npm run bench:reliability -- --write -->',
    `What the proxy was put through, what happened, and what was lost. Measured ${r.date.slice(0, 10)} at commit ${r.commit} on ${r.machine.label} (${r.machine.os}, node ${r.machine.node}; load average ${r.loadAverage.map((n) => n.toFixed(2)).join(' ')} at the start). The proxy is the real \`anyclaude proxy\` process; the backend is a scripted OpenAI-compatible server in its own process, answering about 4 characters every ${r.backendChunkDelayMs} ms, so the figures are the proxy's, not a model's.`,
    renderReliability(r, 'markdown'),
    '## Other reliability evidence',
    'Each is a test that runs with `npm test`; listed as found when this file was written.',
    otherSections(),
    '',
  ].join('\n\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as ReliabilityResults;
  writeFileSync(REPORT_FILE, reliabilityMarkdown(results));
  console.log(`wrote ${REPORT_FILE} from ${RESULTS_FILE}`);
}
