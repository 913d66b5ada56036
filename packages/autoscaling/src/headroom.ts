import { readFileSync } from 'node:fs';
import { cpus, freemem } from 'node:os';
import type { Headroom } from './policy';

/**
 * What this machine can still give a new worker: idle cores over the time since the
 * last look (from the kernel's CPU times), and the memory the kernel says is
 * available (MemAvailable: free plus what it can reclaim).
 */
export class MachineHeadroom {
  private last = cpuTimes();

  read(): Headroom {
    const now = cpuTimes();
    const total = now.total - this.last.total;
    const idle = now.idle - this.last.idle;
    this.last = now;
    const cores = cpus().length;
    return { idleCores: total > 0 ? (cores * idle) / total : null, availableMemoryBytes: availableMemory() };
  }
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

function availableMemory(): number {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}
