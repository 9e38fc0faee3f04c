/**
 * Which process listens on a TCP port: from /proc on Linux (no tool needed, milliseconds), from
 * `lsof` elsewhere. Processes of other users may be hidden; then the port is "held by another user".
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { execa } from 'execa';

export interface PortHolder {
  pid: number | undefined;
  /** The command line, or a short name. */
  command: string;
}

export async function portHolder(port: number): Promise<PortHolder | undefined> {
  return process.platform === 'linux' ? fromProc(port) : fromLsof(port);
}

const LISTEN = '0A';

async function fromProc(port: number): Promise<PortHolder | undefined> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== LISTEN) continue;
      if (Number.parseInt(local.split(':')[1] ?? '', 16) === port && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [])).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return { pid: Number(pid), command: await commandLine(Number(pid)) };
    }
  }
  return { pid: undefined, command: 'a process of another user' };
}

async function commandLine(pid: number): Promise<string> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const text = raw.split('\0').filter((p) => p !== '').join(' ');
  return text === '' ? (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim() : text;
}

async function fromLsof(port: number): Promise<PortHolder | undefined> {
  const result = await execa('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { reject: false, timeout: 1_500 });
  const pid = /^p(\d+)$/m.exec(String(result.stdout))?.[1];
  if (pid === undefined) return undefined;
  const ps = await execa('ps', ['-o', 'command=', '-p', pid], { reject: false, timeout: 1_000 });
  return { pid: Number(pid), command: String(ps.stdout).trim() || (/^c(.+)$/m.exec(String(result.stdout))?.[1] ?? '?') };
}
