import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuHog {
  /** Busy processes running. */
  readonly processes: number;
  /** What makes the load: Debian's stress-ng, or node loops where it is not installed. */
  readonly tool: 'stress-ng' | 'node';
  stop(): Promise<void>;
}

/**
 * Saturates the machine's cores as a user's busy machine does: `perCore` busy processes
 * per core (stress-ng --cpu, or node loops), for at most `maxSeconds`, until stopped.
 */
export function startCpuHog(perCore = 4, maxSeconds = 1200): CpuHog {
  const processes = perCore * availableParallelism();
  const hasStressNg = spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0;
  const children: ChildProcess[] = hasStressNg
    ? [spawn('stress-ng', ['--cpu', String(processes), '--timeout', `${maxSeconds}s`, '--quiet'], { stdio: 'ignore' })]
    : Array.from({ length: processes }, () =>
        spawn(process.execPath, ['-e', `const end = Date.now() + ${maxSeconds * 1000}; while (Date.now() < end);`], { stdio: 'ignore' }),
      );
  return {
    processes,
    tool: hasStressNg ? 'stress-ng' : 'node',
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
