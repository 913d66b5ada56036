#!/usr/bin/env node
import { loadConfigOrExit } from '@docproc/config';
import { announceReady, createLogger, createRedis, installShutdown, startHealthServer, redisTarget } from '@docproc/runtime';
import { dryRunBackend, kubernetesBackend, startAutoscaler, type ScaleBackend } from '@docproc/autoscaling';

/**
 * The autoscaler on its own, as it runs in a cluster: DOCPROC_AUTOSCALE_BACKEND=kubernetes
 * sizes the pool Deployments; dry-run decides and reports only. The local backend runs
 * inside `docproc up`, which owns the worker processes.
 */
const config = loadConfigOrExit('autoscaler');
const logger = createLogger('autoscaler', config.logLevel, config.logFormat);
if (config.autoscaleBackend === 'local') {
  logger.error(
    'the local backend runs inside `docproc up` (pnpm start), which starts the workers; set DOCPROC_AUTOSCALE_BACKEND=kubernetes or dry-run',
  );
  process.exit(78);
}
let backend: ScaleBackend;
try {
  backend =
    config.autoscaleBackend === 'kubernetes'
      ? kubernetesBackend({ deployments: config.kubernetesDeployments, namespace: config.kubernetesNamespace, timeoutMs: config.kubernetesTimeoutMs })
      : dryRunBackend(createRedis(redisTarget(config), 'worker', logger), config.keyPrefix, config.heartbeatMs);
} catch (err) {
  logger.error('cannot load the Kubernetes configuration (in-cluster service account, KUBECONFIG or ~/.kube/config)', {
    error: (err as Error).message,
  });
  process.exit(78);
}
const running = startAutoscaler(config, backend, logger);
const health = config.healthPort > 0 ? startHealthServer(config.healthPort, config.healthHost, running.autoscaler.health(), logger) : undefined;
installShutdown(
  logger,
  [
    ['stop the autoscaler', () => running.stop()],
    ['stop the health endpoint', async () => health?.close()],
  ],
  { limitMs: config.drainMs, drainMs: config.drainMs },
);
announceReady();
