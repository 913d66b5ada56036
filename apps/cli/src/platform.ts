import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The apps `pnpm start` runs, one process each. */
export const PLATFORM_APPS = ['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation'] as const;
export type PlatformApp = (typeof PLATFORM_APPS)[number];

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

function appEntry(app: PlatformApp): string {
  return join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
}

export interface PlatformOptions {
  /** The apps' environment; by default the launcher's own. */
  env?: NodeJS.ProcessEnv;
  /** Each line an app prints, with the app's name and, when it runs more than once, the instance ("worker-ocr.2"). */
  onLine(app: PlatformApp, line: string, name: string): void;
  /** Called when an app exits while the platform is running (it is started again). */
  onExit?(app: PlatformApp, code: number | null, signal: NodeJS.Signals | null, name: string): void;
  apps?: readonly PlatformApp[];
  /** Processes per app (default 1): OCR pages spread over as many processes as there are cores. */
  instances?: Partial<Record<PlatformApp, number>>;
}

export interface Platform {
  /** Sends SIGTERM to every app and waits for them (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs each app as its own node process, as production does, restarting one
 * that dies (after a second, so a crash loop does not spin).
 */
export function startPlatform(options: PlatformOptions): Platform {
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const launch = (app: PlatformApp, name: string) => {
    // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops
    // each app once, in order, instead of every app seeing two signals.
    const child = spawn(process.execPath, [appEntry(app)], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.set(name, child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => options.onLine(app, line, name));
    }
    child.on('exit', (code, signal) => {
      if (stopping) return;
      options.onExit?.(app, code, signal, name);
      setTimeout(() => !stopping && launch(app, name), 1000).unref();
    });
  };

  for (const app of options.apps ?? PLATFORM_APPS) {
    const count = options.instances?.[app] ?? 1;
    for (let i = 1; i <= count; i++) launch(app, count > 1 ? `${app}.${i}` : app);
  }

  return {
    async stop(graceMs = 15_000) {
      stopping = true;
      await Promise.all(
        [...children.values()].map(
          (child) =>
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
    },
  };
}
