import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { PlatformUnderTest, freePort, orchestratorReady, waitFor } from '@docproc/testkit';
import { unpackHelm } from '../src/helm';

/**
 * A real Prometheus (Debian's) scraping two orchestrators of one platform, as production
 * runs them, with a key that may only read /metrics: every KEDA query (the kustomize
 * component's and the chart's), every recorded series and alert of k8s/monitoring, and every
 * query of the Grafana dashboard evaluated against what it scraped.
 */
const REPO = resolve(__dirname, '..', '..');
const MONITORING = resolve(REPO, 'k8s', 'monitoring');
const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;
const METRICS_KEY = 'metrics-only-key';
/** The default tenant's key, with every role: the test's submits. */
const SUBMIT_KEY = 'submit-key';

interface QueryResult {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

const kedaQueries = (rendered: string): { name: string; query: string }[] =>
  parseAllDocuments(rendered)
    .map((d) => d.toJS())
    .filter((o) => o?.kind === 'ScaledObject')
    .flatMap((o) =>
      o.spec.triggers.map((t: { name: string; metadata: { query: string } }) => ({ name: `${o.metadata.name} ${t.name}`, query: t.metadata.query })),
    );

(hasPrometheus ? describe : describe.skip)('a real Prometheus scraping two orchestrators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-prometheus-'));
  const keysFile = join(dir, 'api-keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify([{ id: 'prometheus', tenant: 'platform', roles: ['metrics'], sha256: createHash('sha256').update(METRICS_KEY).digest('hex') }]),
  );
  const platform = new PlatformUnderTest({ DOCPROC_API_KEYS_FILE: keysFile, DOCPROC_API_KEYS: SUBMIT_KEY });
  let prometheus: ChildProcess | undefined;
  let api = '';
  const query = async (expr: string): Promise<QueryResult> =>
    (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as QueryResult;

  beforeAll(async () => {
    // Two orchestrators, no workers: the tasks submitted wait in their queue.
    await platform.start(['orchestrator']);
    const second = await freePort();
    await platform.start(['orchestrator'], { env: { PORT: String(second) } });
    await orchestratorReady(`http://127.0.0.1:${second}`);
    const targets = [platform.base, `http://127.0.0.1:${second}`].map((base) => new URL(base).host);

    // The rules as they are, evaluated every second instead of every 30 s.
    const rules = readFileSync(join(MONITORING, 'docproc.rules.yaml'), 'utf8').replace(/interval: 30s/g, 'interval: 1s');
    writeFileSync(join(dir, 'docproc.rules.yaml'), rules);
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'docproc.rules.yaml')],
      scrape_configs: [
        {
          job_name: 'docproc',
          metrics_path: '/metrics',
          authorization: { credentials: METRICS_KEY },
          // as a ServiceMonitor labels them, so the queries that name the namespace find them
          static_configs: [{ targets, labels: { namespace: 'docproc' } }],
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    await waitFor(async () => ((await fetch(`${api}/-/ready`).catch(() => null))?.ok ? true : undefined), 60_000, 'Prometheus ready');
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill();
    await platform.stop();
  });

  it('scrapes both with the metrics-only key, which opens nothing else', async () => {
    const refused = await fetch(`${platform.base}/v1/jobs`, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    expect(refused.status).toBe(403);
    await waitFor(
      async () => {
        const { data } = (await (await fetch(`${api}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
        return data.activeTargets.length === 2 && data.activeTargets.every((t) => t.health === 'up') ? true : undefined;
      },
      30_000,
      'both targets up',
    );
  });

  it('every KEDA query counts the backlog once though two orchestrators report it, and every rule and dashboard query evaluates', async () => {
    const files = Array.from({ length: 3 }, (_, i) => ({ name: `note-${i}.txt`, bytes: Buffer.from(`note ${i}`) }));
    await platform.submit(files, { pipeline: 'validate' });
    const keda = [
      ...kedaQueries(spawnSync('kubectl', ['kustomize', resolve(REPO, 'k8s', 'overlays', 'production-keda')], { encoding: 'utf8' }).stdout),
      ...kedaQueries(
        spawnSync(
          unpackHelm(),
          ['template', 'docproc', resolve(REPO, 'k8s', 'helm', 'docproc'), '--namespace', 'docproc', '--set', 'autoscaling.mode=keda'],
          {
            encoding: 'utf8',
          },
        ).stdout,
      ),
    ];
    expect(keda).toHaveLength(16);
    // The three waiting validation tasks, once (a sum over both orchestrators would say 6).
    const backlogOf = async (expr: string) => Number((await query(expr)).data.result[0]?.value[1]);
    // Both orchestrators scraped since the submit: the naive sum the KEDA queries used to be reads 6.
    const naiveSum = 'sum(docproc_queue_tasks{queue="validate",state=~"waiting|prioritized"})';
    await waitFor(async () => ((await backlogOf(naiveSum)) === 6 ? true : undefined), 30_000, 'both orchestrators scraped since the submit');
    for (const { name, query: expr } of keda) {
      const result = await query(expr);
      expect({ name, status: result.status, samples: result.data.result.length }).toEqual({ name, status: 'success', samples: 1 });
      const value = Number(result.data.result[0]!.value[1]);
      if (name.includes('worker-validation backlog')) expect({ name, value }).toEqual({ name, value: 3 });
      else if (name.includes('backlog')) expect({ name, value }).toEqual({ name, value: 0 });
      else expect(value).toBeGreaterThanOrEqual(0);
    }

    // Every recording rule and alert of k8s/monitoring: Prometheus evaluated them without error,
    const { groups } = parse(readFileSync(join(MONITORING, 'docproc.rules.yaml'), 'utf8')) as {
      groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
    };
    const expected = groups.flatMap((g) => g.rules.map((r) => r.record ?? r.alert));
    await waitFor(
      async () => {
        const { data } = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const rules = data.groups.flatMap((g) => g.rules);
        return rules.length === expected.length && rules.every((r) => r.health === 'ok') ? rules : undefined;
      },
      30_000,
      'every rule evaluated',
    );
    // and a query of each expression answers.
    for (const rule of groups.flatMap((g) => g.rules)) {
      const result = await query(rule.expr);
      expect({ rule: rule.record ?? rule.alert, status: result.status, error: result.error }).toEqual({
        rule: rule.record ?? rule.alert,
        status: 'success',
        error: undefined,
      });
    }
    // The recorded backlog is the real one, and the pool with work and no worker is on its way to alert.
    expect(await backlogOf('queue:docproc_queue_backlog_tasks:max{queue="validate"}')).toBe(3);
    await waitFor(
      async () => {
        const { data } = (await (await fetch(`${api}/api/v1/alerts`)).json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return data.alerts.find((a) => a.labels.alertname === 'DocprocPoolWithoutWorkers' && a.labels.queue === 'validate' && a.state === 'pending');
      },
      30_000,
      'DocprocPoolWithoutWorkers pending for validate',
    );

    // Every query of the Grafana dashboard answers, and the backlog panel shows the three.
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        const result = await query(target.expr);
        expect({ panel: panel.title, status: result.status, error: result.error }).toEqual({
          panel: panel.title,
          status: 'success',
          error: undefined,
        });
      }
    }
  }, 120_000);

  it('promtool check metrics passes what /metrics serves', async () => {
    const text = await (await fetch(`${platform.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } })).text();
    expect(text).toMatch(/^docproc_tasks_total\{step="ocr",outcome="dead_lettered"\} 0$/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({ status: 0, output: '' });
  });
});
