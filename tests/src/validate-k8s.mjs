// Validates Kubernetes objects (a multi-document YAML stream on stdin) against the
// Kubernetes, KEDA and Prometheus Operator schemas of kubernetes-models, which is ESM-only: the tests run it in
// a process of its own. Prints [{ kind, name, error }] — error null when valid.
import { parseAllDocuments } from 'yaml';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const results = [];
for (const document of parseAllDocuments(text)) {
  const object = document.toJS();
  if (!object) continue;
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [null, object.apiVersion];
  const packages = { 'keda.sh': '@kubernetes-models/keda', 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };
  const module = packages[group] ? `${packages[group]}/${group}/${version}` : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  let error = null;
  try {
    const Model = (await import(`${module}/${object.kind}`))[object.kind];
    if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
  } catch (err) {
    error = err.message;
  }
  results.push({ kind: object.kind, name: object.metadata?.name ?? null, error });
}
process.stdout.write(JSON.stringify(results));
