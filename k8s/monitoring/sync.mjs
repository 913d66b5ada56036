// Writes what carries k8s/monitoring's rules and dashboard elsewhere, from them alone:
// prometheus-rule.yaml (the rules as a Prometheus Operator PrometheusRule, for this
// kustomize component) and the Helm chart's copies under files/ (a chart reads only its
// own directory). `--check` writes nothing and fails naming what is not as it would write it
// (tests/deploy/monitoring.test.ts runs that).
//   node k8s/monitoring/sync.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
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

const rules = readFileSync(join(here, 'docproc.rules.yaml'), 'utf8');
const written = {
  [join(here, 'prometheus-rule.yaml')]: prometheusRule(rules),
  [join(chartFiles, 'docproc.rules.yaml')]: rules,
  [join(chartFiles, 'grafana-dashboard.json')]: readFileSync(join(here, 'grafana-dashboard.json'), 'utf8'),
};
const read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};
if (process.argv.includes('--check')) {
  const stale = Object.keys(written).filter((file) => read(file) !== written[file]);
  if (stale.length > 0) {
    console.error(`not as k8s/monitoring/sync.mjs writes them (run it): ${stale.join(', ')}`);
    process.exit(1);
  }
} else {
  for (const [file, text] of Object.entries(written)) writeFileSync(file, text);
}
