/** The machine a bench ran on, named in every report: numbers mean little without it. */
import { arch, cpus, release, totalmem, type } from 'node:os';
import type { BenchRun } from './results.js';

export function machineInfo(label?: string): BenchRun['machine'] {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const cores = cpus().length;
  const memoryGiB = Math.round((totalmem() / 1024 ** 3) * 10) / 10;
  const os = `${type()} ${release()}`;
  return { cpu, cores, memoryGiB, os, arch: arch(), node: process.version, label: label ?? `${cpu}, ${cores} cores, ${memoryGiB} GiB, ${type()} ${arch()}` };
}
