/**
 * What else the machine was doing while the bench ran: absolute timings on a shared 2-core
 * machine move with it, so the JSON says so beside the figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

export interface Environment {
  at: string;
  cores: number;
  loadAverage: number[];
  /** systemd-nspawn machines running (all labs: this bench's and other users'). */
  nspawnMachines: number;
  /** Other kubesmith or vitest processes (not this bench's own children). */
  otherKubesmithProcesses: number;
}

function commandLines(): { pid: number; ppid: number; cmd: string }[] {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(entry), ppid, cmd });
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

export async function environment(): Promise<Environment> {
  const all = commandLines();
  const mine = new Set([process.pid]);
  // This bench's descendants, whatever their depth.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (mine.has(p.ppid) && !mine.has(p.pid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  return {
    at: new Date().toISOString(),
    cores: availableParallelism(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    nspawnMachines: all.filter(
      (p) => p.cmd.startsWith('systemd-nspawn') || p.cmd.includes('/systemd-nspawn '),
    ).length,
    otherKubesmithProcesses: all.filter(
      (p) => !mine.has(p.pid) && /dist\/cli\.js|vitest/.test(p.cmd) && !p.cmd.startsWith('flock'),
    ).length,
  };
}
