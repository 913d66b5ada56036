import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

const REPO = resolve(__dirname, '..', '..');
const MONITORING = resolve(REPO, 'k8s', 'monitoring');
const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: MONITORING, encoding: 'utf8' });
const passed = (run: ReturnType<typeof promtool>) => ({ status: run.status, output: run.status === 0 ? '' : run.stdout + run.stderr });

interface Dashboard {
  panels: { id: number; type: string; title: string; targets?: { expr: string; datasource: { uid: string } }[] }[];
}

/** k8s/monitoring checked by Prometheus' own promtool (Debian's prometheus package). */
describe('the Prometheus rules and the Grafana dashboard', () => {
  it('promtool check rules: the rule file is valid', () => {
    expect(passed(promtool('check', 'rules', 'docproc.rules.yaml'))).toEqual({ status: 0, output: '' });
  });

  it('promtool test rules: every alert fires when it should and not before (docproc.rules.test.yaml)', () => {
    const tested = readFileSync(join(MONITORING, 'docproc.rules.test.yaml'), 'utf8');
    const rules = parse(readFileSync(join(MONITORING, 'docproc.rules.yaml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert).filter(Boolean));
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(alerts.filter((alert) => !tested.includes(`alertname: ${alert}`))).toEqual([]);
    expect(passed(promtool('test', 'rules', 'docproc.rules.test.yaml'))).toEqual({ status: 0, output: '' });
  });

  it('a broken rule test fails (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docproc-rules-'));
    writeFileSync(join(dir, 'docproc.rules.yaml'), readFileSync(join(MONITORING, 'docproc.rules.yaml')));
    const original = readFileSync(join(MONITORING, 'docproc.rules.test.yaml'), 'utf8');
    // the pool without workers expected as a warning, not the critical it is
    const broken = original.replace(/severity: critical\n(\s+)queue: validate/, 'severity: warning\n$1queue: validate');
    expect(broken).not.toBe(original);
    writeFileSync(join(dir, 'test.yaml'), broken);
    const run = spawnSync('promtool', ['test', 'rules', 'test.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
  });

  it('the PrometheusRule and the chart carry the rules and the dashboard as they are (k8s/monitoring/sync.mjs --check)', () => {
    const check = spawnSync(process.execPath, [join(MONITORING, 'sync.mjs'), '--check'], { encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    const component = execFileSync('kubectl', ['kustomize', resolve(REPO, 'k8s', 'overlays', 'production-keda')], { encoding: 'utf8' });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, read by path
    const objects = parseAllDocuments(component).map((d) => d.toJS()) as any[];
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    expect(rule.spec.groups).toEqual((parse(readFileSync(join(MONITORING, 'docproc.rules.yaml'), 'utf8')) as { groups: unknown }).groups);
    const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    expect(JSON.parse(dashboard.data['docproc.json'])).toEqual(JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')));
  });

  it('the dashboard: every panel has a unique id, reads the chosen Prometheus, and its queries are valid PromQL', () => {
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const targets = dashboard.panels.flatMap((p) => p.targets ?? []);
    expect(targets.length).toBeGreaterThan(20);
    expect(targets.filter((t) => t.datasource.uid !== '${datasource}')).toEqual([]);
    // promtool parses PromQL in rule files: each query as a recording rule.
    const dir = mkdtempSync(join(tmpdir(), 'docproc-dashboard-'));
    const rules = { groups: [{ name: 'dashboard', rules: targets.map((t, i) => ({ record: `dashboard:query_${i}`, expr: t.expr })) }] };
    writeFileSync(join(dir, 'queries.yaml'), stringify(rules));
    const check = spawnSync('promtool', ['check', 'rules', join(dir, 'queries.yaml')], { encoding: 'utf8' });
    expect({ status: check.status, output: check.status === 0 ? '' : check.stdout + check.stderr }).toEqual({ status: 0, output: '' });
  });
});
