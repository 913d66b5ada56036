// The autoscaler's core: its policy, the loop, and the backends it acts through. `docproc up`
// runs it in-process with the local backend; apps/autoscaler runs it alone (Kubernetes, dry-run).
export { decide, type Headroom, type PolicyInput, type PolicySettings, type PoolHistory } from './policy';
export { Autoscaler, policySettings, type AutoscalerDeps } from './autoscaler';
export { startAutoscaler, type RunningAutoscaler } from './start';
export { SignalReader } from './signals';
export { localBackend } from './backends/local';
export { dryRunBackend } from './backends/dry-run';
export { ScaleError, type ScaleBackend } from './backends/backend';
export { kubernetesBackend } from './backends/kubernetes';
