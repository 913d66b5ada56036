import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { STEPS } from '@docproc/catalog';
import { POOL_APPS, type PoolApp } from '@docproc/pools';

/** The apps `pnpm start` runs: the orchestrator and each step's pool, one process each (or more). */
export const PLATFORM_APPS = ['orchestrator', ...STEPS.map((step) => POOL_APPS[step])] as const;
export type PlatformApp = 'orchestrator' | PoolApp;

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

function appEntry(app: PlatformApp): string {
  return join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
}

export interface PlatformOptions {
  /** The apps' environment; by default the launcher's own. */
  env?: NodeJS.ProcessEnv;
  /** Each line an app prints, with the app's name and, when it runs more than once, the instance ("worker-ocr.2"). */
  onLine(app: PlatformApp, line: string, name: string): void;
  /** Called when an app exits after its first launch was ready (it is started again after `restartInMs`). */
  onExit?(app: PlatformApp, code: number | null, signal: NodeJS.Signals | null, name: string, restartInMs: number): void;
  /**
   * Called on every exit of an app's process (crash, drain, stop), with its pid: whoever
   * keeps the records releases the tasks its workers still held (runtime's exitWitness).
   */
  onProcessExit?(app: PlatformApp, pid: number, code: number | null, signal: NodeJS.Signals | null): void;
  apps?: readonly PlatformApp[];
  /** Processes per app to start with (default 1; 0 starts none until `scale` asks). */
  instances?: Partial<Record<PlatformApp, number>>;
  /** How long a draining worker may take to finish its task before it is killed (default 15 s). */
  drainGraceMs?: Partial<Record<PlatformApp, number>>;
  /** How long an app may take to say it is ready (default 120 s). */
  readyTimeoutMs?: number;
}

export interface Platform {
  /**
   * Settles once every app has said it is ready; rejects with a `LaunchError` naming the
   * app when one exits (or stays silent past the timeout) first.
   */
  ready: Promise<void>;
  /** The pids of the apps running now. */
  pids(): number[];
  /** Processes of an app that take work: running or about to restart, not draining. */
  running(app: PlatformApp): number;
  /** Processes of an app finishing their tasks before they exit. */
  draining(app: PlatformApp): number;
  /** Times an app's processes were started again after a crash. */
  restarts(app: PlatformApp): number;
  /**
   * Runs `count` processes of the app: starts more at once, or drains the extra ones
   * (SIGTERM: they stop taking tasks, finish the ones they hold, and exit), those whose
   * pids come first in `drainFirst` (the idle ones) before the others, newest first.
   */
  scale(app: PlatformApp, count: number, drainFirst?: number[]): void;
  /**
   * Stops the apps in order: the orchestrator first (no new batches), then the
   * workers, which finish their current tasks. SIGKILL after `graceMs`.
   */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to every app, at once. */
  kill(): void;
}

class LaunchError extends Error {
  constructor(
    readonly app: string,
    message: string,
  ) {
    super(message);
  }
}

/** Restart delays after a crash: doubling from 1 s up to 30 s; an app up a minute starts over. */
const RESTART_DELAY_MS = { first: 1000, max: 30_000, forgiveAfterMs: 60_000 };

interface Running {
  app: PlatformApp;
  child: ChildProcess;
  ready: boolean;
  /** Started with the platform: `ready` waits for it, and its exit before ready fails the launch. */
  initial: boolean;
  draining: boolean;
  startedAt: number;
  crashes: number;
  lastLines: string[];
}

/**
 * Runs each app as its own node process, as production does, with an IPC
 * channel each: an app says when it is ready, and notices when this launcher
 * dies (even by SIGKILL) and stops. One that crashes is started again with a
 * doubling delay (and counted); one that drains (scaled down) is not. The local
 * backend of the autoscaler sizes the worker pools through `scale`.
 */
export function startPlatform(options: PlatformOptions): Platform {
  const running = new Map<string, Running>();
  let stopping = false;
  let settle!: { resolve(): void; reject(err: Error): void };
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => undefined); // a caller that never awaits it must not crash the process
  let waitingFor = 0;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const readyTimer = setTimeout(() => {
    const silent = [...running.entries()].filter(([, r]) => !r.ready).map(([name]) => name);
    if (silent.length > 0) settle.reject(new LaunchError(silent[0]!, `${silent.join(', ')} did not say ready within ${readyTimeoutMs / 1000} s`));
  }, readyTimeoutMs);
  readyTimer.unref();

  const restarts = new Map<PlatformApp, number>();
  const launch = (app: PlatformApp, name: string, crashes: number, initial: boolean) => {
    // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops
    // each app once, in order, instead of every app seeing two signals.
    const child = spawn(process.execPath, [appEntry(app)], { env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const entry: Running = { app, child, ready: false, initial, draining: false, startedAt: Date.now(), crashes, lastLines: [] };
    running.set(name, entry);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        entry.lastLines = [...entry.lastLines.slice(-4), line];
        options.onLine(app, line, name);
      });
    }
    child.on('message', (message: { type?: string }) => {
      if (message?.type !== 'ready' || entry.ready) return;
      entry.ready = true;
      if (initial && crashes === 0 && --waitingFor === 0) {
        clearTimeout(readyTimer);
        settle.resolve();
      }
    });
    child.on('error', (err) => settle.reject(new LaunchError(name, `${name} could not be started: ${err.message}`)));
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) options.onProcessExit?.(app, child.pid, code, signal);
      if (entry.draining && running.get(name) === entry) running.delete(name);
      if (stopping || entry.draining) return;
      const how = signal ?? `code ${code}`;
      if (!entry.ready && crashes === 0 && initial) {
        // Exiting before it was ever ready is a launch failure, not a crash to retry.
        const why = entry.lastLines.map((l) => `    ${name} | ${l}`).join('\n');
        settle.reject(new LaunchError(name, `${name} exited (${how}) before it was ready${why ? `:\n${why}` : ''}`));
        return;
      }
      const count = Date.now() - entry.startedAt > RESTART_DELAY_MS.forgiveAfterMs ? 1 : crashes + 1;
      const delay = Math.min(RESTART_DELAY_MS.max, RESTART_DELAY_MS.first * 2 ** (count - 1));
      restarts.set(app, (restarts.get(app) ?? 0) + 1);
      options.onExit?.(app, code, signal, name, delay);
      setTimeout(() => !stopping && running.get(name) === entry && launch(app, name, count, initial), delay).unref();
    });
    if (initial && crashes === 0) waitingFor++; // `ready` waits for the first launch of each initial process
  };

  /** Worker processes are numbered (worker-ocr.1, .2, ...), the lowest free number first. */
  const nextName = (app: PlatformApp) => {
    for (let i = 1; ; i++) if (!running.has(`${app}.${i}`)) return `${app}.${i}`;
  };
  const nameOf = (app: PlatformApp) => (app === 'orchestrator' ? app : nextName(app));
  const taking = (app: PlatformApp) => [...running.values()].filter((r) => r.app === app && !r.draining);

  for (const app of options.apps ?? PLATFORM_APPS) {
    const count = options.instances?.[app] ?? 1;
    for (let i = 1; i <= count; i++) launch(app, nameOf(app), 0, true);
  }
  if (waitingFor === 0) {
    clearTimeout(readyTimer);
    settle.resolve();
  }

  const stopGroup = (group: Running[], graceMs: number) =>
    Promise.all(
      group.map(
        ({ child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );

  return {
    ready,
    pids: () =>
      [...running.values()]
        .filter((r) => r.child.exitCode === null && r.child.signalCode === null)
        .map((r) => r.child.pid)
        .filter((pid): pid is number => pid !== undefined && pid > 0),
    running: (app) => taking(app).length,
    draining: (app) => [...running.values()].filter((r) => r.app === app && r.draining).length,
    restarts: (app) => restarts.get(app) ?? 0,
    scale(app, count, drainFirst = []) {
      if (stopping) return;
      const live = taking(app);
      for (let i = live.length; i < count; i++) launch(app, nameOf(app), 0, false);
      const rank = (r: Running) => {
        const at = drainFirst.indexOf(r.child.pid ?? -1);
        return at === -1 ? drainFirst.length : at;
      };
      const extra = live.sort((a, b) => rank(a) - rank(b) || b.startedAt - a.startedAt).slice(0, Math.max(0, live.length - count));
      for (const entry of extra) {
        entry.draining = true;
        if (entry.child.exitCode !== null || entry.child.signalCode !== null) {
          running.delete([...running.entries()].find(([, r]) => r === entry)![0]);
          continue;
        }
        const timer = setTimeout(() => entry.child.kill('SIGKILL'), options.drainGraceMs?.[app] ?? 15_000);
        timer.unref();
        entry.child.once('exit', () => clearTimeout(timer));
        entry.child.kill('SIGTERM');
      }
    },
    async stop(graceMs = 15_000) {
      stopping = true;
      clearTimeout(readyTimer);
      const all = [...running.values()];
      await stopGroup(
        all.filter((r) => r.app === 'orchestrator'),
        graceMs,
      );
      await stopGroup(
        all.filter((r) => r.app !== 'orchestrator'),
        graceMs,
      );
    },
    kill() {
      stopping = true;
      for (const { child } of running.values()) child.kill('SIGKILL');
    },
  };
}
