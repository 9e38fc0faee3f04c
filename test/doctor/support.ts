/** Runs the real `anyclaude doctor` in a sealed environment: its own HOME and ANYCLAUDE_HOME, no proxies, no config. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN } from '../support/cli.js';

export interface DoctorCheckJson {
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix: string | null;
}

export interface DoctorJson {
  checks: DoctorCheckJson[];
  summary: { pass: number; warn: number; fail: number; skip: number };
  repairs?: Array<{ id: string; action: string; ok: boolean; result: string }>;
}

export interface Sandbox {
  /** HOME, and the cwd doctor runs in. */
  dir: string;
  /** ANYCLAUDE_HOME. */
  home: string;
  env: Record<string, string>;
}

export async function sandbox(extraEnv: Record<string, string> = {}): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-doctor-'));
  const home = join(dir, '.anyclaude');
  await mkdir(home, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    ANYCLAUDE_HOME: home,
    HF_HUB_CACHE: join(dir, 'hf-hub'),
    // pyenv's python3 shim finds its versions through PYENV_ROOT, which defaults to $HOME/.pyenv.
    ...(process.env.PYENV_ROOT === undefined ? {} : { PYENV_ROOT: process.env.PYENV_ROOT }),
    ...extraEnv,
  };
  return { dir, home, env };
}

export interface DoctorRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function doctor(box: Sandbox, args: string[], env: Record<string, string> = {}): Promise<DoctorRun> {
  const started = performance.now();
  const result = await execa('node', [BIN, 'doctor', ...args], { env: { ...box.env, ...env }, extendEnv: false, cwd: box.dir, reject: false, timeout: 60_000 });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), ms: performance.now() - started };
}

export async function doctorJson(box: Sandbox, args: string[] = [], env: Record<string, string> = {}): Promise<{ run: DoctorRun; json: DoctorJson }> {
  const run = await doctor(box, ['--json', ...args], env);
  try {
    return { run, json: JSON.parse(run.stdout) as DoctorJson };
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

export function check(json: DoctorJson, id: string): DoctorCheckJson {
  const found = json.checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no check ${id} in ${json.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** The pid of a process that has exited: an anyclaude that died. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

/** A JSON HTTP server answering `routes` (path → body), 404 otherwise. */
export async function jsonServer(routes: Record<string, unknown>): Promise<{ url: string; port: number; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const body = routes[req.url ?? ''];
    if (body === undefined) return void res.writeHead(404).end('404 page not found');
    if (typeof body === 'string') return void res.end(body);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
