export { POOL_APPS, poolSettings, type PoolApp, type PoolSettings, type PoolSignals } from './pools';
export {
  readScaling,
  writeScaling,
  type BackendName,
  type DecisionKind,
  type PoolDecision,
  type ScalingPoint,
  type ScalingSnapshot,
} from './scaling-record';
