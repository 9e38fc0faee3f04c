/**
 * Small real file systems for disk-fault tests: a tmpfs of a few KiB fills up for real, and can be
 * remounted read-only (root writes through chmod, not through these). Mounting needs root (or
 * CAP_SYS_ADMIN) on Linux; `tmpfsUnavailable` says why not, for a skip with the reason.
 */
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Undefined when this process may mount a tmpfs; otherwise the reason it may not. */
export async function tmpfsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux tmpfs mounts (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs (run the suite as root, or in a container that allows mount)';
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-mount-probe-'));
  try {
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { reject: false });
    if (mounted.exitCode !== 0) return `mount -t tmpfs is not permitted here: ${String(mounted.stderr).trim()}`;
    await execa('umount', [dir]);
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fresh folder with a tmpfs of `size` (e.g. "64k") mounted on it, private to its owner. */
export async function mountTmpfs(size: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anyclaude-disk-'));
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  return dir;
}

/** Unmounts and removes what mountTmpfs made; never throws (afterAll runs it after failures too). */
export async function unmountTmpfs(dir: string): Promise<void> {
  await execa('umount', [dir], { reject: false });
  await rm(dir, { recursive: true, force: true });
}
