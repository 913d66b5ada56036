import { readFileSync } from 'node:fs';

/** Wall and CPU milliseconds of one stage. */
export interface StageTime {
  ms: number;
  cpuMs: number;
}

/** CPU milliseconds of this process (its worker threads included) and of its children that have exited (a native tesseract run). */
function cpuMsNow(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    // /proc/self/stat fields 16 and 17: cutime and cstime, in clock ticks (100 a second on Linux)
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    children = (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    // not Linux: the children's share is left out
  }
  return (own.user + own.system) / 1000 + children;
}

/**
 * Times the stages of one unit of work (a page): wall time and CPU time (worker threads
 * and exited child processes included), so a profile can say where a page's core-seconds
 * go. With more than one task running in the process the CPU of one stage includes the others'.
 */
export class Stages {
  private readonly times: Record<string, StageTime> = {};

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const cpu = cpuMsNow();
    try {
      return await work();
    } finally {
      const time = (this.times[stage] ??= { ms: 0, cpuMs: 0 });
      time.ms += performance.now() - started;
      time.cpuMs += cpuMsNow() - cpu;
    }
  }

  /** The stages so far, rounded to milliseconds, for a log line. */
  toJSON(): Record<string, StageTime> {
    return Object.fromEntries(Object.entries(this.times).map(([stage, t]) => [stage, { ms: Math.round(t.ms), cpuMs: Math.round(t.cpuMs) }]));
  }
}
