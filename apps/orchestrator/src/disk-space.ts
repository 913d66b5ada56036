import { statfs } from 'node:fs/promises';
import type { Config } from '@docproc/config';

/** Below this share of free space on the data disk, the orchestrator is not ready (uploads land there first). */
const MIN_FREE_SHARE = 0.01;
/** ... or below this many bytes, whichever is larger. */
const MIN_FREE_BYTES = 256 * 1024 * 1024;

/** Why the data disk cannot take uploads now (nearly full), or null. */
export async function diskProblem(config: Pick<Config, 'dataDir'>): Promise<string | null> {
  const fs = await statfs(config.dataDir).catch(() => null);
  if (!fs) return null; // not made yet: the first upload makes it
  const free = fs.bavail * fs.bsize;
  const needed = Math.max(MIN_FREE_BYTES, fs.blocks * fs.bsize * MIN_FREE_SHARE);
  if (free >= needed) return null;
  return `the data disk (DOCPROC_DATA_DIR) has ${Math.round(free / 1024 / 1024)} MiB free, under the ${Math.round(needed / 1024 / 1024)} MiB uploads need`;
}
