// Writes what carries k8s/monitoring's rules and dashboard elsewhere, from them alone:
// prometheus-rule.yaml (the rules as a Prometheus Operator PrometheusRule, for this
// kustomize component) and the Helm chart's copies under files/ (a chart reads only its
// own directory). tests/deploy/monitoring.test.ts fails when these are not as it writes them.
//   node k8s/monitoring/sync.mjs
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const chartFiles = join(here, '..', 'helm', 'docproc', 'files');

/** The PrometheusRule holding the rule file's groups (the file's own comments stay in the source). */
function prometheusRule(rules) {
  const groups = rules.slice(rules.indexOf('\ngroups:') + 1);
  const indented = groups
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
  return [
    '# Written by k8s/monitoring/sync.mjs from docproc.rules.yaml: change that file, then run it.',
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: docproc',
    '  labels:',
    '    app.kubernetes.io/part-of: docproc',
    'spec:',
    indented,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rules = readFileSync(join(here, 'docproc.rules.yaml'), 'utf8');
  writeFileSync(join(here, 'prometheus-rule.yaml'), prometheusRule(rules));
  copyFileSync(join(here, 'docproc.rules.yaml'), join(chartFiles, 'docproc.rules.yaml'));
  copyFileSync(join(here, 'grafana-dashboard.json'), join(chartFiles, 'grafana-dashboard.json'));
}
