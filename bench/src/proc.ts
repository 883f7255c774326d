/** A process's CPU time and memory, read from /proc (the benchmarks' one copy of it). */
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) `pid` has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS; // utime, stime: fields 14 and 15 of proc(5)
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? undefined : Number(kb);
}

/** Peak RSS (VmHWM) of `pid` in bytes. */
export function peakRss(pid: number): number {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? NaN : kb * 1024;
}

/** Resident set size (VmRSS) of `pid` now, MiB. */
export function rssMiB(pid: number): number {
  return (statusKb(pid, 'VmRSS') ?? 0) / 1024;
}
