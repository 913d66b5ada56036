import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBlobStore } from '@docproc/storage';
import { blobStoreContract } from './blob-store-contract';

describe('LocalBlobStore', () => {
  const store = new LocalBlobStore(mkdtempSync(join(tmpdir(), 'docproc-blobs-')));
  blobStoreContract(() => store);
});
