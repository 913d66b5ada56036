import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@docproc/config';

const dir = mkdtempSync(join(tmpdir(), 'docproc-config-'));

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.apiKeys).toEqual([]);
    expect(config.keyPrefix).toBe('{docproc}');
  });

  it('reads the environment', () => {
    const config = loadConfig({ PORT: '8080', DOCPROC_API_KEYS: 'a, b', REDIS_URL: 'redis://h:6380/2' });
    expect(config.port).toBe(8080);
    expect(config.apiKeys).toEqual(['a', 'b']);
    expect(config.redisUrl).toBe('redis://h:6380/2');
  });

  it('names the variable of a bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT:.*"eighty"/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL: must start with redis:\/\//);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('takes Redis Cluster nodes, waits for a replica there by default, and wants a hash-tagged prefix', () => {
    const config = loadConfig({ DOCPROC_REDIS_CLUSTER_NODES: 'redis-0:6379, redis-1:6379' });
    expect(config.redisClusterNodes).toEqual(['redis-0:6379', 'redis-1:6379']);
    expect(config.redisMinReplicas).toBe(1);
    expect(loadConfig({}).redisMinReplicas).toBe(0);
    expect(() => loadConfig({ DOCPROC_REDIS_CLUSTER_NODES: 'redis-0' })).toThrow(/DOCPROC_REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ DOCPROC_REDIS_CLUSTER_NODES: 'redis-0:6379', DOCPROC_KEY_PREFIX: 'docproc' })).toThrow(
      /DOCPROC_KEY_PREFIX: "docproc" needs a hash tag/,
    );
    expect(() => loadConfig({ DOCPROC_REDIS_CLUSTER_NODES: 'redis-0:6379', DOCPROC_REDIS_SENTINELS: 's:26379', DOCPROC_REDIS_MASTER: 'm' })).toThrow(
      /DOCPROC_REDIS_CLUSTER_NODES: not with DOCPROC_REDIS_SENTINELS/,
    );
  });

  it('takes S3 settings, and wants a bucket for the S3 blob store', () => {
    expect(() => loadConfig({ DOCPROC_BLOB_STORE: 's3' })).toThrow(/DOCPROC_S3_BUCKET: required when DOCPROC_BLOB_STORE is s3/);
    expect(() => loadConfig({ DOCPROC_BLOB_STORE: 'gcs' })).toThrow(/DOCPROC_BLOB_STORE/);
    expect(() => loadConfig({ DOCPROC_BLOB_STORE: 's3', DOCPROC_S3_BUCKET: 'Bad_Bucket' })).toThrow(/DOCPROC_S3_BUCKET: an S3 bucket name/);
    expect(() => loadConfig({ DOCPROC_S3_ENDPOINT: 'minio:9000' })).toThrow(/DOCPROC_S3_ENDPOINT/);
    const config = loadConfig({
      DOCPROC_BLOB_STORE: 's3',
      DOCPROC_S3_BUCKET: 'docs',
      DOCPROC_S3_ENDPOINT: 'http://minio:9000',
      DOCPROC_S3_FORCE_PATH_STYLE: 'yes',
    });
    expect(config).toMatchObject({ blobStore: 's3', s3Bucket: 'docs', s3Prefix: '', s3Endpoint: 'http://minio:9000', s3ForcePathStyle: true });
    expect(loadConfig({}).blobStore).toBe('local');
  });

  it('reads a YAML or JSON file named by DOCPROC_CONFIG, the environment winning', () => {
    const yaml = join(dir, 'docproc.yaml');
    writeFileSync(yaml, 'port: 4000\nmaxDocumentsPerJob: 7\n');
    const fromFile = loadConfig({ DOCPROC_CONFIG: yaml });
    expect(fromFile.port).toBe(4000);
    expect(fromFile.maxDocumentsPerJob).toBe(7);
    expect(loadConfig({ DOCPROC_CONFIG: yaml, PORT: '5000' }).port).toBe(5000);

    const json = join(dir, 'docproc.json');
    writeFileSync(json, JSON.stringify({ logLevel: 'debug' }));
    expect(loadConfig({ DOCPROC_CONFIG: json }).logLevel).toBe('debug');
  });

  it('names the file key of a bad value, and refuses unknown keys and unreadable files', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ port: -1 }));
    expect(() => loadConfig({ DOCPROC_CONFIG: bad })).toThrow(/port in .*bad\.json/);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ DOCPROC_CONFIG: unknown })).toThrow(/unknown setting "prot"/);
    expect(() => loadConfig({ DOCPROC_CONFIG: join(dir, 'missing.yaml') })).toThrow(/DOCPROC_CONFIG: cannot read/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ port: ');
    expect(() => loadConfig({ DOCPROC_CONFIG: broken })).toThrow(/not valid JSON/);
  });

  it('reads pool settings per pool, from the environment or a file, and checks them together', () => {
    const config = loadConfig({ DOCPROC_POOL_MIN: 'ocr=0', DOCPROC_POOL_MAX: 'ocr=6,nlp=3', DOCPROC_CONCURRENCY: '2' });
    expect(config.poolMin).toEqual({ preprocess: 1, ocr: 0, nlp: 1, validate: 1 });
    expect(config.poolMax.ocr).toBe(6);
    expect(config.poolMax.nlp).toBe(3);
    expect(config.concurrency).toEqual({ preprocess: 2, ocr: 2, nlp: 2, validate: 2 });
    const yaml = join(dir, 'pools.yaml');
    writeFileSync(yaml, 'poolMin: { ocr: 2 }\npoolMax: { ocr: 4 }\npoolTargetLatencySeconds: { ocr: 12 }\n');
    const fromFile = loadConfig({ DOCPROC_CONFIG: yaml });
    expect([fromFile.poolMin.ocr, fromFile.poolMax.ocr, fromFile.poolTargetLatencySeconds.ocr]).toEqual([2, 4, 12]);

    expect(() => loadConfig({ DOCPROC_POOL_MIN: 'ocr=5', DOCPROC_POOL_MAX: 'ocr=2' })).toThrow(
      /DOCPROC_POOL_MIN: ocr=5 is above DOCPROC_POOL_MAX ocr=2/,
    );
    expect(() => loadConfig({ DOCPROC_POOL_MIN: '3', DOCPROC_POOL_MAX: '3', DOCPROC_MAX_WORKERS: '10' })).toThrow(
      /DOCPROC_MAX_WORKERS: 10 is below the pools' minimums together \(DOCPROC_POOL_MIN: 12\)/,
    );
    expect(() => loadConfig({ DOCPROC_POOL_MAX: 'orc=2' })).toThrow(/DOCPROC_POOL_MAX/);
    expect(() => loadConfig({ DOCPROC_AUTOSCALE_BACKEND: 'nomad' })).toThrow(/DOCPROC_AUTOSCALE_BACKEND/);
  });

  it("takes the autoscaler's timing from its backend unless set", () => {
    expect(loadConfig({})).toMatchObject({ autoscaleIntervalSeconds: 5, autoscaleDownStabilizationSeconds: 30 });
    expect(loadConfig({ DOCPROC_AUTOSCALE_BACKEND: 'kubernetes' })).toMatchObject({
      autoscaleIntervalSeconds: 15,
      autoscaleDownStabilizationSeconds: 300,
    });
    expect(loadConfig({ DOCPROC_AUTOSCALE_BACKEND: 'kubernetes', DOCPROC_AUTOSCALE_INTERVAL: '30' }).autoscaleIntervalSeconds).toBe(30);
  });
});
