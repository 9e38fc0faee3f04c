/** Runs the real `anyclaude` bin as a user would. */
import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/anyclaude.js', import.meta.url));
export const CLAUDE_BIN = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

export interface ProxyProcess {
  child: ResultPromise;
  env: { ANTHROPIC_BASE_URL: string; ANTHROPIC_API_KEY: string };
  stdoutLines: string[];
}

/** Starts `anyclaude proxy …` and waits for its two `export` lines. */
export async function startProxyProcess(args: string[], env: Record<string, string> = {}): Promise<ProxyProcess> {
  const child = execa('node', [BIN, ...args], { env, reject: false, buffer: true, all: false });
  const stdoutLines: string[] = [];
  const ready = new Promise<ProxyProcess['env']>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      stdoutLines.splice(0, stdoutLines.length, ...text.split('\n').filter((l) => l !== ''));
      const url = /^export ANTHROPIC_BASE_URL=(.+)$/m.exec(text)?.[1];
      const key = /^export ANTHROPIC_API_KEY=(.+)$/m.exec(text)?.[1];
      if (url !== undefined && key !== undefined) resolve({ ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: key });
    });
    void child.then((result) => reject(new Error(`anyclaude proxy exited early (${result.exitCode}): ${String(result.stderr)}`)));
  });
  return { child, env: await ready, stdoutLines };
}

export interface CliRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * `anyclaude <args>` as a user in `userHome` runs it from `cwd`: only HOME, ANYCLAUDE_HOME
 * (default `<userHome>/.anyclaude`) and PATH are set, so no config of this machine is read.
 */
export async function runAnyclaude(args: readonly string[], options: { userHome: string; cwd: string; home?: string; env?: Record<string, string>; timeoutMs: number }): Promise<CliRun> {
  const result = await execa('node', [BIN, ...args], {
    env: { HOME: options.userHome, ANYCLAUDE_HOME: options.home ?? `${options.userHome}/.anyclaude`, PATH: process.env.PATH ?? '', ...options.env },
    extendEnv: false,
    cwd: options.cwd,
    stdin: 'ignore',
    reject: false,
    timeout: options.timeoutMs,
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}
