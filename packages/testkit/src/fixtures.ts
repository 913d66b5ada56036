import { createServer } from 'node:net';
import type { PreprocessPage } from '@docproc/catalog';
import { waitFor } from './redis';

/** A page as preprocessing records it, for tests that hand pages on without making them. */
export function preparedPage(index: number, changes: Partial<PreprocessPage> = {}): PreprocessPage {
  return {
    index,
    blobKey: `p${index}`,
    width: 1,
    height: 1,
    rotation: 0,
    skewAngle: 0,
    despeckled: false,
    dpi: 300,
    text: null,
    textScore: null,
    ...changes,
  };
}

/** A TCP port nothing listens on right now, on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until the orchestrator at `base` answers /readyz. */
export async function orchestratorReady(base: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () =>
      (await fetch(`${base}/readyz`)
        .then((r) => r.ok)
        .catch(() => false)) || undefined,
    timeoutMs,
    'the orchestrator',
  );
}
