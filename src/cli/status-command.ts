/**
 * `anyclaude status`: what the running `anyclaude up` is doing, from any terminal. The instance is
 * found through its run file (~/.anyclaude/run/instance-<pid>.run), or ANTHROPIC_BASE_URL and
 * ANTHROPIC_AUTH_TOKEN when there is none (a shell that exported `anyclaude proxy`'s lines).
 * `--line` is Claude Code's status line (status-line-main.ts; bin/anyclaude.js runs it without this module).
 */
import { AnyclaudeError, formatForTerminal } from '../core/errors.js';
import type { RequestMetrics } from '../proxy/metrics.js';
import { chooseInstance, findRunningInstances, homeFromEnv, runDir, type RunFileRecord } from '../run/run-file.js';
import type { BackendView, RunState } from '../run/run-state.js';
import { cachePct, contextFill, formatRate, formatTokens } from '../run/status-line.js';
import { getState, statusLine, targetFromEnv, type StateTarget } from './status-line-main.js';
import { downloadSummary } from '../run/download-summary.js';

export interface StatusOptions {
  json?: boolean;
  line?: boolean;
}

/** `status`'s flags, as data for main.ts: [flags, help]. */
export const STATUS_FLAGS = [
  ['--json', 'print the whole state as JSON'],
  ['--line', "one line for Claude Code's status line (reads its JSON on stdin; always exits 0)"],
] as const;

export const STATUS_DESCRIPTION = 'show what the running anyclaude is doing: backends, requests, sessions';

/** How long `anyclaude status` (not --line) waits for the instance. */
const STATUS_TIMEOUT_MS = 3_000;

export interface StatusIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const defaultIo = (): StatusIo => ({ env: process.env, stdout: process.stdout, stderr: process.stderr });

/** Runs `anyclaude status [--json|--line]`; returns the exit code. */
export async function runStatusCommand(options: StatusOptions, io: StatusIo = defaultIo()): Promise<number> {
  if (options.line === true) {
    io.stdout.write(`${await statusLine({ stdin: process.stdin, env: io.env })}\n`);
    return 0;
  }
  try {
    const { target, record, others } = await locate(io.env);
    const result = await getState(target, STATUS_TIMEOUT_MS);
    if (!result.ok) {
      const who = record === undefined ? target.url : `the anyclaude at ${target.url} (pid ${record.pid})`;
      if (result.problem === 'unauthorized') {
        throw new AnyclaudeError('STATUS_KEY_REFUSED', `${who} refused the key: ${result.message}`, {
          fix: 'ANTHROPIC_AUTH_TOKEN (or ANTHROPIC_API_KEY) in this shell belongs to another run: unset it, or export the key this run printed',
        });
      }
      throw new AnyclaudeError('STATUS_NO_ANSWER', `${who} does not answer: ${result.message}`, {
        fix: result.problem === 'refused' ? 'it has stopped or is stopping; start one with `anyclaude up`' : 'it may be busy or hung: see ~/.anyclaude/logs/anyclaude.log',
      });
    }
    io.stdout.write(options.json === true ? `${JSON.stringify(result.state, null, 2)}\n` : formatStatus(result.state, { record, others, now: Date.now() }));
    return 0;
  } catch (error) {
    io.stderr.write(`${formatForTerminal(error)}\n`);
    return error instanceof AnyclaudeError ? error.exitCode : 1;
  }
}

async function locate(env: NodeJS.ProcessEnv): Promise<{ target: StateTarget; record: RunFileRecord | undefined; others: RunFileRecord[] }> {
  const home = homeFromEnv(env);
  const instances = await findRunningInstances(home);
  const record = chooseInstance(instances, env);
  if (record !== undefined) return { target: { url: record.url, key: record.key }, record, others: instances.filter((i) => i !== record) };
  const fromEnv = targetFromEnv(env);
  if (fromEnv !== undefined) return { target: fromEnv, record: undefined, others: [] };
  const where = env.ANYCLAUDE_HOME === undefined ? '~/.anyclaude/run/' : `${runDir(home)}/`;
  throw new AnyclaudeError('NOT_RUNNING', `no anyclaude is running (no live instance in ${where})`, { fix: 'start one with `anyclaude up`' });
}

export interface FormatStatusContext {
  /** The run file the instance was found by (its version and folder). */
  record?: RunFileRecord | undefined;
  /** Other live instances, to mention. */
  others?: RunFileRecord[];
  now: number;
}

/** The whole state, for people: several short sections, each line self-explanatory. */
export function formatStatus(state: RunState, context: FormatStatusContext): string {
  const { record, now } = context;
  const out: string[] = [];
  const head = [`anyclaude${record === undefined ? '' : ` ${record.version}`}`, `pid ${state.pid}`, state.phase, `up ${duration(now - state.startedAt)}`];
  if (record !== undefined) head.push(record.cwd);
  out.push(head.join(' · '));
  if (state.phaseDetail !== '') out.push(`  ${state.phaseDetail}`);
  out.push(`proxy      ${state.proxyUrl ?? '(not listening yet)'}`);
  const active = state.backends.find((b) => b.id === state.active);
  out.push(`active     ${state.active === undefined ? '(none yet)' : `${state.active}${active?.model === undefined ? '' : ` · ${active.model}`}`}`);
  if (state.switching !== undefined) {
    const s = state.switching;
    out.push(`switching  to ${s.to}${s.model === undefined ? '' : ` · ${s.model}`}${s.detail === '' ? '' : `: ${s.detail}`}`);
  }

  out.push('', 'backends');
  if (state.backends.length === 0) out.push('  (none yet)');
  for (const b of state.backends) out.push(...backendLines(b));
  for (const w of state.warmups) out.push(`  warm-up of ${w.backend}: ${w.phase}${w.ms === undefined ? '' : ` in ${seconds(w.ms)}`}${w.detail === undefined ? '' : ` (${w.detail})`}`);
  for (const p of state.progress) {
    const download = p.step === 'download' && p.download !== undefined ? `: ${downloadSummary(p.download)}` : '';
    out.push(`  ${p.backend}: ${p.step} — ${p.detail}${download} (${duration(now - p.startedAt)})`);
    for (const line of p.lines.slice(-3)) out.push(`    │ ${line}`);
  }

  const failed = state.requests.filter(isFailure).length;
  const total = state.sessions.reduce((n, s) => n + s.requests, 0);
  out.push('', `requests   ${total} in ${plural(state.sessions.length, 'session')} · ${state.requests.length} recent${failed === 0 ? '' : ` (${failed} failed)`} · ${state.inFlight.length} in flight`);
  for (const f of state.inFlight) {
    const ttft = f.ttftMs === undefined ? 'waiting for the first token' : `first token after ${seconds(f.ttftMs)}, ${f.outputTokens} tokens out`;
    out.push(`  ⋯ ${clock(f.startedAt)}  ${f.upstream}  ${duration(now - f.startedAt)} so far, ${ttft}`);
  }
  for (const m of state.requests.slice(-8)) out.push(`  ${requestLine(m)}`);

  if (state.sessions.length > 0) out.push('', 'sessions');
  for (const s of state.sessions) {
    const fill = contextFill(s.last);
    const window = s.last.contextWindow === undefined ? '' : ` of ${s.last.contextWindow.toLocaleString('en-US')}`;
    const ctx = fill === undefined ? `${formatTokens((s.last.promptTokens ?? s.last.estimatedPromptTokens) + (s.last.outputTokens ?? 0))} tokens (window unknown)` : `context ${Math.round(fill)}%${window}`;
    const warn = fill !== undefined && fill >= 90 ? ' — /compact or start a new conversation' : '';
    out.push(`  ${s.sessionId}  ${plural(s.requests, 'request')}  ${ctx}${warn}  last ${clock(s.last.startedAt)} on ${s.last.upstream}`);
  }

  const c = state.claude;
  const claude =
    c.state === 'running'
      ? `running${c.pid === undefined ? '' : ` (pid ${c.pid}${c.hosted ? `, in anyclaude's terminal: ${state.hotkey} shows the dashboard` : ''})`}`
      : c.state === 'exited'
        ? `exited${c.exitCode === undefined ? '' : ` with code ${c.exitCode}`}`
        : 'not started';
  out.push('', `claude code  ${claude}`);
  const errors = state.logs.filter((l) => l.level === 'error' || l.level === 'warn').slice(-3);
  if (errors.length > 0) out.push('', 'recent warnings', ...errors.map((l) => `  ${clock(l.at)}  ${l.level}  ${l.source}: ${l.message}`));
  const others = context.others ?? [];
  if (others.length > 0) {
    out.push('', `also running: ${others.map((o) => `pid ${o.pid} (${o.url}, ${o.cwd})`).join('; ')} — ANTHROPIC_BASE_URL picks one`);
  }
  return `${out.join('\n')}\n`;
}

function backendLines(b: BackendView): string[] {
  const mark = b.active ? '▶' : ' ';
  const parts = [b.phase, b.model ?? '(model per request)'];
  parts.push(b.contextWindow === undefined ? 'context unknown' : `context ${b.contextWindow.toLocaleString('en-US')}`);
  parts.push(b.managed ? `managed${b.pid === undefined ? '' : `, pid ${b.pid}`}` : 'external');
  if (b.url !== undefined) parts.push(b.url);
  if (b.restarts > 0) parts.push(`${plural(b.restarts, 'restart')}`);
  const lines = [`${mark} ${b.id.padEnd(10)} ${parts.join(' · ')}`];
  if (b.detail !== undefined && b.detail !== '') lines.push(`      ${b.detail}`);
  const others = b.models.filter((m) => m !== b.model);
  if (others.length > 0) lines.push(`      also: ${others.slice(0, 6).join(', ')}${others.length > 6 ? `, +${others.length - 6}` : ''}`);
  return lines.map((l) => `  ${l}`);
}

function isFailure(m: RequestMetrics): boolean {
  return m.status >= 400 || (m.error !== undefined && !m.clientAborted);
}

function requestLine(m: RequestMetrics): string {
  const parts = [clock(m.startedAt), m.upstream, String(m.status)];
  if (m.decodeTokensPerSec !== undefined) parts.push(`${formatRate(m.decodeTokensPerSec)} tok/s`);
  if (m.prefillTokensPerSec !== undefined) parts.push(`prefill ${Math.round(m.prefillTokensPerSec)} tok/s`);
  const cache = cachePct(m);
  if (cache !== undefined) parts.push(`cache ${cache}%`);
  const fill = contextFill(m);
  if (fill !== undefined) parts.push(`ctx ${Math.round(fill)}%`);
  if (m.outputTokens !== undefined) parts.push(`${m.outputTokens} out`);
  parts.push(seconds(m.totalMs));
  if (m.clientAborted) parts.push('(client hung up)');
  else if (m.error !== undefined) parts.push(`error: ${m.error}`);
  return parts.join('  ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
