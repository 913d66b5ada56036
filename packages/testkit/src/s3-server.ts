import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './fixtures';

/** Any key pair works with s3rver; real servers take theirs from the AWS chain as usual. */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/**
 * Starts s3rver (an S3-protocol server on disk) on 127.0.0.1 with one bucket, as its own
 * process: it encrypts ListObjectsV2 continuation tokens with DES, which Node 20's
 * OpenSSL 3 refuses unless the legacy provider is loaded — a flag only a new process takes.
 */
export async function startS3Server(bucket = 'docproc'): Promise<S3TestServer> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'docproc-s3rver-'));
  const bin = join(require.resolve('s3rver/package.json'), '..', 'bin', 's3rver.js');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '-d', directory, '-a', '127.0.0.1', '-p', String(port), '--silent', '--configure-bucket', bucket],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening')) ready();
    });
    child.once('exit', (code) => fail(new Error(`s3rver exited with ${code}: ${output}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
