import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { OUTPUTS, STEPS, type StepName } from '@docproc/catalog';

const listOfStrings = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);

/** true/false, 1/0, yes/no, on/off. */
const booleanFlag = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const word = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  return v;
}, z.boolean());

type PerStep<T> = Record<StepName, T>;

/**
 * A value per step: one value for every step ("3"), or some steps named
 * ("ocr=5,nlp=2"; an object in the config file); steps not named keep their default.
 */
function perStepOf<T extends number | string>(value: z.ZodType<T>, defaults: PerStep<T>, text: { parse(s: string): T; example: string }) {
  const steps = z.strictObject(
    Object.fromEntries(STEPS.map((step) => [step, value.optional()])) as Record<keyof PerStep<T>, z.ZodOptional<z.ZodType<T>>>,
  );
  const everyStep = (v: unknown) => Object.fromEntries(STEPS.map((step) => [step, v]));
  return z
    .preprocess(
      (v) => {
        if (typeof v === 'number') return everyStep(v);
        if (typeof v !== 'string') return v;
        if (!v.includes('=') && !v.includes(',')) return everyStep(text.parse(v.trim()));
        const entries = v
          .split(',')
          .filter((part) => part.trim() !== '')
          .map((part) => part.split('=').map((s) => s.trim()));
        if (entries.some((entry) => entry.length !== 2)) return v;
        return Object.fromEntries(entries.map(([step, given]) => [step, text.parse(given!)]));
      },
      steps.or(z.string().refine(() => false, `one value, or step=value pairs such as "${text.example}"`)),
    )
    .transform(
      (given) =>
        ({
          ...defaults,
          ...(typeof given === 'object' ? Object.fromEntries(Object.entries(given).filter(([, n]) => n !== undefined)) : {}),
        }) as PerStep<T>,
    )
    .default(defaults);
}

const perStep = (value: z.ZodNumber, defaults: PerStep<number>) => perStepOf(value, defaults, { parse: Number, example: 'ocr=5,nlp=2' });
const perStepText = (defaults: PerStep<string>) =>
  perStepOf(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes name'), defaults, {
    parse: (s) => s,
    example: 'ocr=my-ocr,nlp=my-nlp',
  });

const CORES = availableParallelism();

const redisUrl = z.string().refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://');

/**
 * Every setting of every app, with the environment variable that sets it.
 * A config file (DOCPROC_CONFIG, JSON or YAML) uses the camelCase keys; the
 * environment wins over the file.
 */
export const settings = {
  redisUrl: { env: 'REDIS_URL', schema: redisUrl.default('redis://127.0.0.1:6379') },
  /**
   * Redis Sentinel: `host:port` of each sentinel. With DOCPROC_REDIS_MASTER set, every app finds
   * the master through them and follows a failover (REDIS_URL then gives only the database
   * number and credentials).
   */
  redisSentinels: {
    env: 'DOCPROC_REDIS_SENTINELS',
    schema: listOfStrings.pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port'))).default([]),
  },
  /**
   * Redis Cluster: `host:port` of some of its nodes (the client learns the rest). Every key
   * of a deployment sits in the one slot of DOCPROC_KEY_PREFIX's hash tag, so a cluster
   * buys failover to a replica, not sharding (REDIS_URL then gives only the credentials).
   */
  redisClusterNodes: {
    env: 'DOCPROC_REDIS_CLUSTER_NODES',
    schema: listOfStrings.pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port'))).default([]),
  },
  /** The name the sentinels know the master by. */
  redisMaster: { env: 'DOCPROC_REDIS_MASTER', schema: z.string().min(1).optional() },
  /** The data nodes' password (else REDIS_URL's), and the sentinels' own when they ask for one. */
  redisPassword: { env: 'DOCPROC_REDIS_PASSWORD', schema: z.string().min(1).optional() },
  redisSentinelPassword: { env: 'DOCPROC_REDIS_SENTINEL_PASSWORD', schema: z.string().min(1).optional() },
  /**
   * A connection that gets no answer this long is taken for dead and made again: a socket
   * that stops answering without closing (a frozen proxy, a lost NAT entry) is noticed,
   * where TCP alone would wait for hours. Every connection sends a PING each third of it.
   * Longer than any blocking call (BullMQ blocks 10 s at most).
   */
  redisSocketTimeoutMs: { env: 'DOCPROC_REDIS_SOCKET_TIMEOUT_MS', schema: z.coerce.number().int().min(1000).default(15_000) },
  /**
   * A submit is answered 202 only once its batch is on this many replicas (Redis WAIT), so a
   * failover loses nothing that was acknowledged. Default: 1 with Sentinel or Cluster, else 0.
   */
  redisMinReplicas: { env: 'DOCPROC_REDIS_MIN_REPLICAS', schema: z.coerce.number().int().min(0).max(10).optional() },
  /** How long a submit waits for the replicas before it answers 503. */
  redisReplicaWaitMs: { env: 'DOCPROC_REDIS_REPLICA_WAIT_MS', schema: z.coerce.number().int().min(10).default(2000) },
  keyPrefix: {
    env: 'DOCPROC_KEY_PREFIX',
    // The braces are a Redis Cluster hash tag: all keys of one deployment share a slot,
    // so BullMQ's and docproc's multi-key scripts work on a cluster.
    schema: z
      .string()
      .regex(/^[A-Za-z0-9{}_.-]+$/, 'letters, digits, {}, _, . and - only')
      .default('{docproc}'),
  },
  /** Uploads in flight, and the blobs too when the blob store is local (the platform on one machine). */
  dataDir: { env: 'DOCPROC_DATA_DIR', schema: z.string().min(1).default('./data') },
  /** Where documents and results live: `local` (DOCPROC_DATA_DIR) or `s3`, which apps on several machines need. */
  blobStore: { env: 'DOCPROC_BLOB_STORE', schema: z.enum(['local', 's3']).default('local') },
  s3Bucket: {
    env: 'DOCPROC_S3_BUCKET',
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .optional(),
  },
  /** Keys go under this prefix in the bucket, so deployments can share one. */
  s3Prefix: {
    env: 'DOCPROC_S3_PREFIX',
    schema: z
      .string()
      .regex(/^([A-Za-z0-9._-]+\/?)*$/, 'slash-separated letters, digits, ., _ and -')
      .default(''),
  },
  /** An S3-compatible server (MinIO, Ceph, R2...); AWS when unset. Credentials come from the standard AWS chain. */
  s3Endpoint: { env: 'DOCPROC_S3_ENDPOINT', schema: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional() },
  /** Else AWS_REGION or the AWS profile's. */
  s3Region: { env: 'DOCPROC_S3_REGION', schema: z.string().min(1).optional() },
  /** endpoint/bucket/key URLs rather than bucket.endpoint/key: most S3-compatible servers need it. */
  s3ForcePathStyle: { env: 'DOCPROC_S3_FORCE_PATH_STYLE', schema: booleanFlag.default(false) },
  logLevel: { env: 'LOG_LEVEL', schema: z.enum(['error', 'warn', 'info', 'debug']).default('info') },
  /** `pretty` for a person at a terminal (`docproc up` picks it on a TTY unless this is set). */
  logFormat: { env: 'DOCPROC_LOG_FORMAT', schema: z.enum(['json', 'pretty']).default('json') },
  port: { env: 'PORT', schema: z.coerce.number().int().min(0).max(65535).default(3000) },
  host: { env: 'HOST', schema: z.string().min(1).default('127.0.0.1') },
  /** Keys of one tenant ("default") with every role: the simple setup, and the one before tenants. */
  apiKeys: { env: 'DOCPROC_API_KEYS', schema: listOfStrings.default([]) },
  /**
   * A JSON file of API keys, each `{ id, tenant, roles, sha256 }` (the hex SHA-256 of the
   * key: the keys themselves are never stored). With DOCPROC_API_KEYS, both count.
   */
  apiKeysFile: { env: 'DOCPROC_API_KEYS_FILE', schema: z.string().min(1).optional() },
  /** Bull Board at /admin/queues shows but does not change (no retry, clean or remove buttons). */
  boardReadOnly: { env: 'DOCPROC_BOARD_READ_ONLY', schema: booleanFlag.default(false) },
  /** Seconds between the orchestrator's one-line platform summaries in the log; 0: none. */
  metricsLogIntervalSeconds: { env: 'DOCPROC_METRICS_LOG_INTERVAL', schema: z.coerce.number().min(0).default(30) },
  maxUploadBytes: {
    env: 'DOCPROC_MAX_UPLOAD_BYTES',
    schema: z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
  },
  /** A request whose headers have not all arrived after this long is cut (408). */
  /** Webhooks may go to private and loopback addresses (never in production: a job could make the platform call inside your network). */
  webhookAllowPrivate: { env: 'DOCPROC_WEBHOOK_ALLOW_PRIVATE', schema: booleanFlag.default(false) },
  /** The first retry of a webhook delivery comes this long after a failure, each next one twice as long (at most an hour), for a day or more. */
  webhookRetryMs: { env: 'DOCPROC_WEBHOOK_RETRY_MS', schema: z.coerce.number().int().min(100).default(5000) },
  /** A receiver that has not answered a delivery in this long failed it (it is retried). */
  webhookTimeoutMs: { env: 'DOCPROC_WEBHOOK_TIMEOUT_MS', schema: z.coerce.number().int().min(100).default(10_000) },
  headersTimeoutMs: { env: 'DOCPROC_HEADERS_TIMEOUT_MS', schema: z.coerce.number().int().min(1000).default(10_000) },
  /** An upload slower than this on average, once DOCPROC_UPLOAD_GRACE_MS has passed, is cut (408): a trickle must not hold a connection. */
  minUploadBytesPerSecond: { env: 'DOCPROC_MIN_UPLOAD_BYTES_PER_SECOND', schema: z.coerce.number().int().min(0).default(1024) },
  uploadGraceMs: { env: 'DOCPROC_UPLOAD_GRACE_MS', schema: z.coerce.number().int().min(1000).default(10_000) },
  maxDocumentsPerJob: { env: 'DOCPROC_MAX_DOCUMENTS_PER_JOB', schema: z.coerce.number().int().positive().default(10_000) },
  /** Waiting tasks over all step queues past which new jobs are answered 429. */
  maxBacklog: { env: 'DOCPROC_MAX_BACKLOG', schema: z.coerce.number().int().positive().default(200_000) },
  /** Finished jobs, their records, blobs and tasks are removed this long after they end. */
  retentionHours: { env: 'DOCPROC_RETENTION_HOURS', schema: z.coerce.number().positive().default(168) },
  /** How often one orchestrator looks for documents waiting on no task (and sends them round again). */
  orphanSweepSeconds: { env: 'DOCPROC_ORPHAN_SWEEP_SECONDS', schema: z.coerce.number().positive().default(30) },
  /** How often the orchestrator looks for expired jobs. */
  retentionSweepSeconds: { env: 'DOCPROC_RETENTION_SWEEP_SECONDS', schema: z.coerce.number().positive().default(60) },
  /** Progress events kept per job for the events stream (older ones give way; a late reader gets a snapshot). */
  maxEventsPerJob: { env: 'DOCPROC_MAX_EVENTS_PER_JOB', schema: z.coerce.number().int().min(100).default(20_000) },

  // Task lifecycle: retries, time limits, crashed workers.
  /** Attempts of a task that fails for a passing reason (bad input is never retried). */
  attempts: { env: 'DOCPROC_ATTEMPTS', schema: perStep(z.number().int().min(1).max(100), { preprocess: 3, ocr: 3, nlp: 3, validate: 3 }) },
  /** First retry delay; each next one doubles. */
  backoffMs: { env: 'DOCPROC_BACKOFF_MS', schema: perStep(z.number().int().min(0), { preprocess: 1000, ocr: 2000, nlp: 1000, validate: 1000 }) },
  /** Share of each retry delay that is random (0..1), so retries of many tasks spread out. */
  backoffJitter: { env: 'DOCPROC_BACKOFF_JITTER', schema: z.coerce.number().min(0).max(1).default(0.5) },
  /** Longest one task of a step may run (a page task for OCR); per job in options.timeouts. */
  stepTimeoutMs: {
    env: 'DOCPROC_STEP_TIMEOUT_MS',
    schema: perStep(z.number().int().min(100), { preprocess: 1_800_000, ocr: 300_000, nlp: 120_000, validate: 60_000 }),
  },
  /**
   * A task's lock lasts this long and is renewed at half of it: long, so a worker starved
   * of CPU keeps its tasks. A worker that is gone has its tasks released at once — when its
   * launcher sees it exit, or its heartbeat stops for three beats — and the lock running
   * out is only the last net (docs/architecture.md, "Crashes").
   */
  lockMs: { env: 'DOCPROC_LOCK_MS', schema: z.coerce.number().int().min(1000).default(60_000) },
  /**
   * A task's start is recorded once it has run this long; one that ends sooner has its
   * start recorded with its end, in the same Redis call (batches' RECORD_STEP): a short
   * task costs Redis one call of docproc's, not two. 0: every start is recorded at once.
   */
  startRecordMs: { env: 'DOCPROC_START_RECORD_MS', schema: z.coerce.number().int().min(0).default(250) },
  stalledIntervalMs: { env: 'DOCPROC_STALLED_INTERVAL_MS', schema: z.coerce.number().int().min(500).default(3000) },
  /**
   * A task whose document crashed its worker this many times fails with worker_crashed (a
   * poison pill). Only crashes the document can have caused count (see batches' crash-charges.ts).
   */
  maxCrashes: { env: 'DOCPROC_MAX_CRASHES', schema: z.coerce.number().int().min(1).max(100).default(2) },
  /**
   * A task that meets a full platform (Redis at maxmemory, the data disk full) does not
   * spend an attempt: it is put back to run again after this long (runtime's shortage.ts).
   */
  shortageRetryMs: { env: 'DOCPROC_SHORTAGE_RETRY_MS', schema: z.coerce.number().int().min(100).default(10_000) },
  /**
   * A process told to stop and waiting for Redis gives up after this long (nothing could be
   * recorded); a worker's stop lasts at most its step's time limit plus this (its unfinished
   * tasks are released and run again elsewhere). Under Kubernetes' default grace of 30 s.
   */
  drainMs: { env: 'DOCPROC_DRAIN_MS', schema: z.coerce.number().int().min(1000).default(25_000) },
  /** Every worker beats this often; one silent for three beats is gone, and its tasks are released. */
  heartbeatMs: { env: 'DOCPROC_HEARTBEAT_MS', schema: z.coerce.number().int().min(100).default(3000) },
  /**
   * A worker's or the autoscaler's /healthz and /readyz (Kubernetes probes, the image's
   * HEALTHCHECK) on this port; 0: none (the orchestrator answers them on its API port).
   */
  healthPort: { env: 'DOCPROC_HEALTH_PORT', schema: z.coerce.number().int().min(0).max(65535).default(0) },
  /** Where the health endpoint listens: every interface, as probes come from outside the pod. */
  healthHost: { env: 'DOCPROC_HEALTH_HOST', schema: z.string().min(1).default('0.0.0.0') },
  ocrLanguages: { env: 'DOCPROC_OCR_LANGUAGES', schema: listOfStrings.default(['eng']) },
  /**
   * A page of a job that names no languages is read with DOCPROC_OCR_LANGUAGES first; when its
   * text is in another installed language, it is read again with that model and the better
   * reading kept (off: DOCPROC_OCR_LANGUAGES only).
   */
  ocrPickLanguages: { env: 'DOCPROC_OCR_PICK_LANGUAGES', schema: booleanFlag.default(true) },
  /** What every job makes besides text and JSON unless it says (options.output): `pdf`, a searchable PDF; `layout`, the document's structure. */
  outputs: { env: 'DOCPROC_OUTPUT', schema: listOfStrings.pipe(z.array(z.enum(OUTPUTS))).default([]) },
  dateOrder: { env: 'DOCPROC_DATE_ORDER', schema: z.enum(['DMY', 'MDY']).default('DMY') },
  phoneRegion: {
    env: 'DOCPROC_PHONE_REGION',
    schema: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code such as "US"')
      .default('US'),
  },
  summarySentences: { env: 'DOCPROC_SUMMARY_SENTENCES', schema: z.coerce.number().int().min(0).max(50).default(3) },
  /** A stored rule set (POST /v1/rulesets) that checks every job without its own rules, instead of the minimum confidence alone. */
  ruleset: {
    env: 'DOCPROC_RULESET',
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
      .optional(),
  },
  /** Longest one regex rule may take on one document's text: a pattern that backtracks without end asks for review instead. */
  regexTimeoutMs: { env: 'DOCPROC_REGEX_TIMEOUT_MS', schema: z.coerce.number().int().min(10).max(60_000).default(1000) },
  minConfidence: { env: 'DOCPROC_MIN_CONFIDENCE', schema: z.coerce.number().min(0).max(100).default(60) },

  // Preprocessing: what pages are made into, and the guards against hostile files.
  targetDpi: { env: 'DOCPROC_TARGET_DPI', schema: z.coerce.number().int().min(72).max(1200).default(300) },
  /** A page is rendered or scaled to fewer pixels than this (35 MP: A3 at 300 dpi with room). */
  maxPagePixels: { env: 'DOCPROC_MAX_PAGE_PIXELS', schema: z.coerce.number().int().min(1_000_000).default(35_000_000) },
  /** An image larger than this is refused before its pixels are decoded (decompression bombs). */
  maxInputPixels: { env: 'DOCPROC_MAX_INPUT_PIXELS', schema: z.coerce.number().int().min(1_000_000).default(150_000_000) },
  maxPages: { env: 'DOCPROC_MAX_PAGES', schema: z.coerce.number().int().min(1).default(500) },
  maxDocumentBytes: {
    env: 'DOCPROC_MAX_DOCUMENT_BYTES',
    schema: z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
  },
  /** Longest time one page may take in one step (rendering, orientation, OCR). */
  pageTimeoutMs: { env: 'DOCPROC_PAGE_TIMEOUT_MS', schema: z.coerce.number().int().min(1000).default(120_000) },
  deskew: { env: 'DOCPROC_DESKEW', schema: booleanFlag.default(true) },
  detectOrientation: { env: 'DOCPROC_DETECT_ORIENTATION', schema: booleanFlag.default(true) },
  /** Tesseract OSD confidence above which a page is turned (OCRmyPDF's --rotate-pages-threshold). */
  rotateThreshold: { env: 'DOCPROC_ROTATE_THRESHOLD', schema: z.coerce.number().min(0).default(2) },
  binarize: { env: 'DOCPROC_BINARIZE', schema: booleanFlag.default(false) },

  // Worker pools and the autoscaler that sizes them (docs/autoscaling.md).
  /** Tasks one worker process runs at once: CPU-heavy steps one or two, light ones more. */
  concurrency: { env: 'DOCPROC_CONCURRENCY', schema: perStep(z.number().int().min(1).max(256), { preprocess: 2, ocr: 1, nlp: 4, validate: 8 }) },
  /** Fewest workers a pool runs (0: none while there is no work; the first task starts one). */
  poolMin: { env: 'DOCPROC_POOL_MIN', schema: perStep(z.number().int().min(0).max(1000), { preprocess: 1, ocr: 1, nlp: 1, validate: 1 }) },
  /** Most workers a pool runs: OCR and preprocessing are CPU-bound, one process per core. */
  poolMax: {
    env: 'DOCPROC_POOL_MAX',
    schema: perStep(z.number().int().min(1).max(1000), { preprocess: CORES, ocr: CORES, nlp: 2, validate: 2 }),
  },
  /** All pools together run at most this many workers. */
  maxWorkers: {
    env: 'DOCPROC_MAX_WORKERS',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(2 * CORES + 4),
  },
  /** Waiting work should be done within this many seconds: the autoscaler sizes each pool for it. */
  poolTargetLatencySeconds: {
    env: 'DOCPROC_POOL_TARGET_LATENCY',
    schema: perStep(z.number().min(1), { preprocess: 30, ocr: 30, nlp: 10, validate: 10 }),
  },
  /** Cores one worker may use: a pool grows only while the machine has that many idle (0: no check). */
  poolCpuLimit: { env: 'DOCPROC_POOL_CPU_LIMIT', schema: perStep(z.number().min(0).max(64), { preprocess: 1, ocr: 1, nlp: 0.25, validate: 0.25 }) },
  /** MiB one worker may hold: a pool grows only while the machine has that much available. */
  poolMemoryLimitMb: {
    env: 'DOCPROC_POOL_MEMORY_LIMIT_MB',
    schema: perStep(z.number().int().min(64), { preprocess: 1024, ocr: 1024, nlp: 256, validate: 256 }),
  },
  /** Where the autoscaler acts: worker processes here (`docproc up`), Kubernetes Deployments, or nowhere (it only reports). */
  autoscaleBackend: { env: 'DOCPROC_AUTOSCALE_BACKEND', schema: z.enum(['local', 'kubernetes', 'dry-run']).default('local') },
  /** Seconds between the autoscaler's looks (default 5 here, 15 on Kubernetes, whose Deployments change slower). */
  autoscaleIntervalSeconds: { env: 'DOCPROC_AUTOSCALE_INTERVAL', schema: z.coerce.number().min(0.2).max(600).optional() },
  /** A pool shrinks only to the highest need seen over this many seconds (default 30 here, 300 on Kubernetes, as its HPA). */
  autoscaleDownStabilizationSeconds: { env: 'DOCPROC_AUTOSCALE_DOWN_STABILIZATION', schema: z.coerce.number().min(0).max(3600).optional() },
  /** ... and not within this many seconds of its last change. */
  autoscaleCooldownSeconds: { env: 'DOCPROC_AUTOSCALE_COOLDOWN', schema: z.coerce.number().min(0).max(3600).default(30) },
  /** A pool whose attempts fail more often than this (0..1) does not grow: more workers would fail faster. */
  autoscaleMaxErrorRate: { env: 'DOCPROC_AUTOSCALE_MAX_ERROR_RATE', schema: z.coerce.number().min(0).max(1).default(0.5) },
  /** Kubernetes backend: the namespace of the pool Deployments (default: the autoscaler's own, in a cluster). */
  kubernetesNamespace: { env: 'DOCPROC_K8S_NAMESPACE', schema: z.string().min(1).optional() },
  /** ... and each pool's Deployment. */
  kubernetesDeployments: {
    env: 'DOCPROC_K8S_DEPLOYMENTS',
    schema: perStepText({
      preprocess: 'docproc-worker-preprocessing',
      ocr: 'docproc-worker-ocr',
      nlp: 'docproc-worker-nlp',
      validate: 'docproc-worker-validation',
    }),
  },
  /** ... and how long one call to the API server may take. */
  kubernetesTimeoutMs: { env: 'DOCPROC_K8S_TIMEOUT_MS', schema: z.coerce.number().int().min(100).default(10_000) },

  // OCR engine.
  /** `auto`: the native binary when a Tesseract 5 (or later) is installed, else tesseract.js. */
  ocrEngine: { env: 'DOCPROC_OCR_ENGINE', schema: z.enum(['auto', 'tesseract.js', 'tesseract']).default('auto') },
  /** The native binary for DOCPROC_OCR_ENGINE=tesseract. */
  tesseractPath: { env: 'DOCPROC_TESSERACT_PATH', schema: z.string().min(1).default('tesseract') },
  /**
   * A directory of plain <lang>.traineddata files for tesseract.js to read instead of the
   * @tesseract.js-data packages: e.g. Debian's tessdata_fast (/usr/share/tesseract-ocr/5/tessdata),
   * faster and a little less accurate than the bundled "best" models.
   */
  tessdataDir: { env: 'DOCPROC_TESSDATA_DIR', schema: z.string().min(1).optional() },
  /** tesseract.js workers are replaced after this many pages (their WASM memory only grows) ... */
  ocrRecyclePages: { env: 'DOCPROC_OCR_RECYCLE_PAGES', schema: z.coerce.number().int().min(1).default(200) },
  /** ... or once the process holds more than this many MiB. */
  ocrMaxMemoryMb: { env: 'DOCPROC_OCR_MAX_MEMORY_MB', schema: z.coerce.number().int().min(128).default(1536) },
} as const;

type Settings = typeof settings;
type Parsed = { [K in keyof Settings]: z.infer<Settings[K]['schema']> };

/** Settings whose default depends on another setting: the autoscaler's timing, by backend. */
const DERIVED_DEFAULTS = {
  autoscaleIntervalSeconds: { local: 5, 'dry-run': 5, kubernetes: 15 },
  // A local worker starts in about a second, a pod may take a minute: a shorter window here.
  autoscaleDownStabilizationSeconds: { local: 30, 'dry-run': 30, kubernetes: 300 },
} as const;
type Derived = keyof typeof DERIVED_DEFAULTS;

export type Config = Omit<Parsed, Derived | 'redisMinReplicas'> & { [K in Derived]: number } & { redisMinReplicas: number };

/** Fills in the derived defaults and checks the rules that span settings (each problem names them). */
export function completeConfig(parsed: Parsed): { config: Config; problems: string[] } {
  const config = { ...parsed } as Config;
  for (const [key, byBackend] of Object.entries(DERIVED_DEFAULTS) as [Derived, Record<Parsed['autoscaleBackend'], number>][]) {
    config[key] = parsed[key] ?? byBackend[parsed.autoscaleBackend];
  }
  const highlyAvailable = parsed.redisSentinels.length > 0 || parsed.redisClusterNodes.length > 0;
  config.redisMinReplicas = parsed.redisMinReplicas ?? (highlyAvailable ? 1 : 0);
  const problems: string[] = [];
  if (config.redisSentinels.length > 0 && config.redisMaster === undefined)
    problems.push('DOCPROC_REDIS_MASTER: required with DOCPROC_REDIS_SENTINELS (the name the sentinels know the master by)');
  if (config.redisMaster !== undefined && config.redisSentinels.length === 0)
    problems.push('DOCPROC_REDIS_SENTINELS: required with DOCPROC_REDIS_MASTER');
  if (config.redisClusterNodes.length > 0 && config.redisSentinels.length > 0)
    problems.push('DOCPROC_REDIS_CLUSTER_NODES: not with DOCPROC_REDIS_SENTINELS (a cluster fails over by itself)');
  if (config.redisClusterNodes.length > 0 && !/\{[^{}]+\}/.test(config.keyPrefix))
    problems.push(
      `DOCPROC_KEY_PREFIX: "${config.keyPrefix}" needs a hash tag ({name}) on Redis Cluster, so every key of a deployment sits in one slot`,
    );
  for (const step of STEPS) {
    if (config.poolMin[step] > config.poolMax[step]) {
      problems.push(`DOCPROC_POOL_MIN: ${step}=${config.poolMin[step]} is above DOCPROC_POOL_MAX ${step}=${config.poolMax[step]}`);
    }
  }
  if (config.blobStore === 's3' && config.s3Bucket === undefined) problems.push('DOCPROC_S3_BUCKET: required when DOCPROC_BLOB_STORE is s3');
  const minimum = STEPS.reduce((n, step) => n + config.poolMin[step], 0);
  if (minimum > config.maxWorkers)
    problems.push(`DOCPROC_MAX_WORKERS: ${config.maxWorkers} is below the pools' minimums together (DOCPROC_POOL_MIN: ${minimum})`);
  return { config, problems };
}
