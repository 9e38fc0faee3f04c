/**
 * One run of a server process: spawn it as the leader of its own process group, split its output
 * into lines (memory, log file), keep a pidfile while it lives, and clean all of that up when it
 * exits however it exits. The state machine above it decides when to spawn and what an exit means.
 */
import type { WriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { AnyclaudeError, errorMessage } from '../core/errors.js';
import type { CoreEvents } from '../core/events.js';
import { describeWriteError, writeFaultFix } from '../core/write-fault.js';
import type { ManagedProcessOptions } from './managed-process.js';
import { removePidfile, writePidfile } from './pidfiles.js';
import { delay, killGroupOnExit, signalGroup, terminateGroup } from './process-group.js';

/** The process-level part of ManagedProcessOptions, plus where each output line goes. */
export interface ChildOptions extends Pick<ManagedProcessOptions, 'name' | 'command' | 'args' | 'env' | 'cwd' | 'logFile' | 'pidDir' | 'events'> {
  onLine: (line: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly pid: number;
  /** Resolves once the process has exited, its group is swept, its pidfile removed and its log flushed. */
  readonly finished: Promise<ExitInfo>;
  /** SIGTERM the group, SIGKILL it after `timeoutMs`; resolves when `finished` has. */
  terminate(timeoutMs: number): Promise<void>;
}

/** How long output may keep arriving after exit before the pipes are cut (a process outside the group may hold them). */
const DRAIN_MS = 1_000;

export async function spawnChild(o: ChildOptions): Promise<Child> {
  const log = o.logFile === undefined ? undefined : await openLog(o.name, o.logFile, o.events);
  log?.write(`--- ${new Date().toISOString()} anyclaude starts ${o.name}: ${[o.command, ...o.args].join(' ')}\n`);
  const subprocess = execa(o.command, o.args, {
    // Its own process group, so one signal reaches every worker it forks.
    detached: true,
    // execa ignores `cleanup` for detached children; killGroupOnExit below does that job.
    cleanup: true,
    reject: false,
    // Never buffer: a server logs for hours, and execa kills a subprocess that exceeds maxBuffer.
    buffer: false,
    // Servers read no input; /dev/null rather than a pipe nobody writes to.
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
  });
  const pid = subprocess.pid;
  if (pid === undefined) {
    const result = await subprocess;
    log?.end(`--- could not start: ${result.shortMessage}\n`);
    throw new AnyclaudeError('SERVER_SPAWN_FAILED', `could not start ${o.name} (${o.command}): ${result.shortMessage}`, {
      fix: `check that ${o.command} is installed and on PATH${o.cwd === undefined ? '' : `, and that ${o.cwd} exists`}`,
    });
  }
  const untrack = killGroupOnExit(pid);
  const exited = new Promise<ExitInfo>((resolve) => subprocess.once('exit', (code, signal) => resolve({ code, signal })));
  // With reject:false the promise resolves on failure too; this only guards against a stray rejection.
  subprocess.catch(() => undefined);

  const onLine = (line: string): void => {
    log?.write(`${line}\n`);
    o.onLine(line);
  };
  const drained = Promise.all([readLines(subprocess.stdout, onLine), readLines(subprocess.stderr, onLine)]);

  let pidfileWritten: Promise<unknown> = Promise.resolve();
  if (o.pidDir !== undefined) {
    const record = { pid, pgid: pid, command: o.command, args: o.args, startedAt: Date.now(), anyclaudePid: process.pid };
    pidfileWritten = writePidfile(o.pidDir, o.name, record).catch((error: unknown) => {
      o.onLine(`anyclaude: could not write the pidfile in ${o.pidDir}: ${errorMessage(error)}`);
    });
  }

  const finished = exited.then(async (exit) => {
    // Workers it forked may outlive it and would hold the port or the GPU memory.
    signalGroup(pid, 'SIGKILL');
    untrack();
    await Promise.race([drained, delay(DRAIN_MS, undefined)]);
    subprocess.stdout.destroy();
    subprocess.stderr.destroy();
    await pidfileWritten;
    if (o.pidDir !== undefined) await removePidfile(o.pidDir, o.name, pid).catch(() => undefined);
    if (log !== undefined) await new Promise<void>((resolve) => log.end(`--- ${o.name} exited (${describeExit(exit)})\n`, resolve));
    return exit;
  });
  await pidfileWritten;

  return {
    pid,
    finished,
    async terminate(timeoutMs) {
      await terminateGroup(pid, { timeoutMs, exited: finished });
      await finished;
    },
  };
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal === null ? `exit code ${exit.code ?? 'unknown'}` : `signal ${exit.signal}`;
}

function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', onLine);
  return new Promise((resolve) => lines.once('close', resolve));
}

/** Appends, and forces 0600 even on an existing file: server logs can contain prompts and paths. */
async function openLog(name: string, file: string, events: CoreEvents | undefined): Promise<WriteStream> {
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const handle = await open(file, 'a', 0o600);
    await handle.chmod(0o600);
    const stream = handle.createWriteStream();
    // A full disk mid-session costs this log, said once; an 'error' with no listener would end anyclaude.
    stream.once('error', (error) => events?.log('warn', name, `the ${name} log file is not being written: ${file}: ${describeWriteError(error)}; ${writeFaultFix(error)}`));
    stream.on('error', () => undefined);
    return stream;
  } catch (error) {
    throw new AnyclaudeError('SERVER_LOG_UNWRITABLE', `cannot write the ${name} log file ${file}: ${errorMessage(error)}`, {
      fix: 'check the permissions of that directory, or choose another log location',
    });
  }
}
