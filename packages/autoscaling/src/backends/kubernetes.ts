import { readFileSync } from 'node:fs';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { STEPS, type StepName } from '@docproc/catalog';
import type { ScaleBackend } from './backend';
import { ScaleError } from './backend';

export interface KubernetesBackendOptions {
  /** Each pool's Deployment. */
  deployments: Record<StepName, string>;
  /** Default: the autoscaler's own namespace in a cluster, else the kubeconfig context's, else `default`. */
  namespace?: string;
  /** Longest one call to the API server may take. */
  timeoutMs: number;
  /** Default: in-cluster config (service account) in a pod, else ~/.kube/config or KUBECONFIG. */
  kubeConfig?: KubeConfig;
}

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
/** Pods the ReplicaSet controller removes first on a scale-down have the lowest cost (Kubernetes 1.22+). */
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

function namespaceOf(kubeConfig: KubeConfig, given: string | undefined): string {
  if (given) return given;
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim();
  } catch {
    return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  }
}

/**
 * Each pool is a Deployment; its size is the `scale` subresource, read with GET and
 * set with a JSON merge patch of `spec.replicas` — what `kubectl scale` and the HPA
 * do, and all the RBAC it needs is get and patch on deployments/scale (plus patch on
 * pods, optional, to have idle workers removed first). Workers drain on SIGTERM, so
 * the Deployment's terminationGracePeriodSeconds must cover a task's time limit.
 */
export function kubernetesBackend(options: KubernetesBackendOptions): ScaleBackend {
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  const namespace = namespaceOf(kubeConfig, options.namespace);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  // A time limit on every call: a hung API server must not stall the loop.
  const call: ConfigurationOptions<ObservableMiddleware> = {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(AbortSignal.timeout(options.timeoutMs));
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch, call);
  const explain = (err: unknown, what: string, name: string): ScaleError => {
    if (err instanceof ApiException) {
      const why: Record<number, string> = {
        401: 'the API server did not accept the credentials',
        403: `forbidden: the autoscaler's service account needs get and patch on deployments/scale in namespace ${namespace}`,
        404: `no Deployment ${name} in namespace ${namespace} (DOCPROC_K8S_DEPLOYMENTS names each pool's)`,
        409: `conflict: the Deployment ${name} changed meanwhile; the next look tries again`,
        422: `the API server refused the change as invalid`,
      };
      return new ScaleError(`${what} ${name}: ${err.code} ${why[err.code] ?? 'from the API server'}`);
    }
    const message =
      (err as Error).name === 'TimeoutError' || /aborted/i.test((err as Error).message)
        ? `no answer within ${options.timeoutMs} ms`
        : (err as Error).message;
    return new ScaleError(`${what} ${name}: ${message}`);
  };

  return {
    name: 'kubernetes',
    async workers() {
      const sizes = await Promise.all(
        STEPS.map(async (pool) => {
          const name = options.deployments[pool];
          try {
            const scale = await apps.readNamespacedDeploymentScale({ name, namespace }, call);
            return scale.spec?.replicas ?? 0;
          } catch (err) {
            throw explain(err, 'cannot read the scale of', name);
          }
        }),
      );
      return Object.fromEntries(STEPS.map((pool, i) => [pool, sizes[i]])) as Record<StepName, number>;
    },
    async scale(pool, workers, live) {
      const name = options.deployments[pool];
      if (live.length > workers) {
        // Busy pods cost more to remove: the controller takes the idle ones (best effort;
        // a pod that goes anyway drains its task on SIGTERM).
        await Promise.all(
          live.map((w) =>
            core
              .patchNamespacedPod({ name: w.host, namespace, body: { metadata: { annotations: { [DELETION_COST]: String(w.active) } } } }, mergePatch)
              .catch(() => undefined),
          ),
        );
      }
      try {
        await apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas: workers } } }, mergePatch);
      } catch (err) {
        throw explain(err, 'cannot scale', name);
      }
    },
    details: () => ({}),
  };
}

function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // in a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config
  return kubeConfig;
}
