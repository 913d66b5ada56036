import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';

/** The chart's values against its schema, as `helm install` checks them (tests/deploy/helm.test.ts renders the chart with helm). */
describe('the Helm chart', () => {
  const chart = resolve(__dirname, '..', '..', 'k8s', 'helm', 'docproc');
  const schema = JSON.parse(readFileSync(resolve(chart, 'values.schema.json'), 'utf8')) as object;
  const values = parse(readFileSync(resolve(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(schema);

  it('values.yaml satisfies values.schema.json', () => {
    expect(validate(values) ? [] : validate.errors).toEqual([]);
  });

  it('the schema refuses a wrong autoscaling mode, a pool without resources, an unknown key, a local store without a claim, sentinels without a master, and sentinels with cluster nodes', () => {
    const pools = values.pools as Record<string, Record<string, unknown>>;
    const wrong = [
      { ...values, autoscaling: { mode: 'hpa' } },
      { ...values, pools: { ...pools, ocr: { ...pools.ocr, resources: undefined } } },
      { ...values, replicas: 3 },
      { ...values, blobStore: { type: 'local' } },
      { ...values, redis: { sentinels: ['sentinel-0:26379'], master: '', minReplicas: 1 } },
      { ...values, redis: { sentinels: ['no-port'], master: 'docproc', minReplicas: 1 } },
      { ...values, redis: { sentinels: ['sentinel-0:26379'], master: 'docproc', clusterNodes: ['redis-0:6379'], minReplicas: 1 } },
    ].map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    expect(wrong.map((v) => validate(v))).toEqual([false, false, false, false, false, false, false]);
    expect(validate({ ...values, redis: { clusterNodes: ['redis-0:6379'], minReplicas: 1 } })).toBe(true);
    expect(validate({ ...values, redis: { sentinels: ['sentinel-0:26379'], master: 'docproc', minReplicas: 1 } })).toBe(true);
  });
});
