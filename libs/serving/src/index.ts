export { ServingClosedError, ServingOverloadedError, ServingTimeoutError } from './errors';
export { MicroBatcher } from './micro-batcher';
export type { BatcherStats, MicroBatcherOptions } from './micro-batcher';
export { ServingEngine } from './serving-engine';
export type {
  ExplainOptions,
  ExplainResult,
  ModelRef,
  PredictOptions,
  PredictResult,
  ServingEngineOptions,
  ServingStats,
} from './serving-engine';
export { InferenceThread, InferenceThreadExitedError } from './inference/inference-thread';
export type { ThreadMemory } from './inference/protocol';
export {
  ModelInputMismatchError,
  TextInputError,
  TextServingEngine,
  type TextModelRef,
  type TextExplainRequest,
  type TextExplainResult,
  type TextPredictResult,
  type TextServingOptions,
} from './text/text-serving-engine';
export {
  passCostAt,
  searchServingConfig,
  seededRandom,
  simulateServing,
  type PassCost,
  type SearchOutcome,
  type SearchRequest,
  type ServingChoice,
  type SimulationConfig,
  type SimulationResult,
} from './serving-search';
export { calibrateRequestCost, type RequestCost } from './calibrate';
export { measureRequestCost } from './request-cost';
