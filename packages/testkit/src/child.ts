import type { ChildProcess } from 'node:child_process';

/** Sends `signal` to a child still running and resolves once it has exited (at once when it had). */
export function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}
