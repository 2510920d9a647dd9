// Training loop: resumable, seeded, cancellable; batches streamed from a data source.
export { train } from './trainer';
export { evaluateLossAccuracy } from './evaluate';
export { clipByGlobalNorm } from './train-step';
export {
  l2sp,
  withoutConflict,
  L2SP_DEFAULTS,
  bss,
  BSS_DEFAULTS,
  smallestSquaredSingularValues,
  rifle,
  rifleEpochs,
  RIFLE_DEFAULTS,
  combineRegularizers,
} from './regularizers';
export type { WeightRegularizer, L2SPOptions, BSSOptions, RIFLEOptions } from './regularizers';
export { delta, deltaLayers, DELTA_DEFAULTS } from './delta';
export type { DELTAOptions, DELTARegularizer } from './delta';
export type {
  TrainOptions,
  TrainResult,
  TrainProgress,
  ParamGroup,
  EarlyStoppingOptions,
  CheckpointOptions,
  MemoryEvent,
  StepReplicas,
  ReplicaShard,
} from './options';
export {
  TrainOutOfMemoryError,
  isOutOfMemoryError,
  backendStillWorks,
  memoryBudgetBytes,
  fitMicroBatch,
  probeStepMemory,
  WASM_HEAP_BYTES,
  WASM_BUDGET_FRACTION,
} from './memory';
export type { StepMemoryProbe } from './memory';
export { measureStepMemory } from './memory-fit';
export type { TrainPosition, TrainStatus, EpochLog } from './types';
export {
  encodeTrainingCheckpoint,
  decodeTrainingCheckpoint,
  encodeDynamics,
  decodeDynamics,
} from './training-checkpoint';
export { TrainingDynamics } from './dynamics';
export type { DynamicsValues } from './dynamics';
export type { TrainingCheckpoint, TensorValues } from './training-checkpoint';
export { arrayBatches, epochBatches, stepsPerEpochOf } from './batches';
export type { TrainBatch, BatchIterable, DataSource, EpochBatchFactory, EpochRequest } from './batches';
export { Optimizer } from './optimizers';
export type { OptimizerConfig, OptimizerParam, OptimizerState } from './optimizers';
export { lrFactor } from './schedules';
export type { LrSchedule, ScheduleContext } from './schedules';
export { categoricalCrossentropy, toOneHot, toClassIndices } from './losses';
export type { ClassificationLossOptions } from './losses';
export { MemoryCheckpointStore, FsCheckpointStore, encodeCheckpoint, decodeCheckpoint } from './checkpoint';
export type { CheckpointStore, RawTensor, TensorDType } from './checkpoint';
export { SlottedCheckpointStore } from './slotted-checkpoint-store';
export type { CheckpointByteStore } from './slotted-checkpoint-store';
export {
  allLayers,
  selectLayers,
  matchesLayer,
  freezeLayers,
  unfreezeLayers,
  trainableFlags,
  setTrainableFlags,
  orderedWeights,
  countParams,
  isNoDecayWeight,
} from './layers';
export type { LayerSelector, OwnedWeight } from './layers';
export { Rng, mixSeed, seededPermutation, shuffleInPlace, withSeededRandom } from './rng';
export type { RngState } from './rng';
export { TrainError, TrainConfigError, CheckpointError, NonFiniteLossError } from './errors';
export type { CheckpointErrorReason } from './errors';
export type { AugmentFn, AugmentContext } from './augment-hook';
export { minimizeLbfgs } from './lbfgs';
export { loopTurns } from './loop-turns';
export type { LbfgsOptions, LbfgsIteration, LbfgsResult, LbfgsStop, Objective } from './lbfgs';
