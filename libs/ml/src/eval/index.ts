// Evaluation: pure metric functions over predictions, and evaluateModel() producing a JSON report.
export {
  predictionsFromRows,
  numSamples,
  argmaxRows,
  accuracy,
  topKAccuracy,
  confusionMatrix,
  classificationMetrics,
  precisionRecallCurve,
  perClassPrCurves,
  downsampleCurve,
  calibration,
  logLoss,
} from './metrics';
export type {
  Numeric,
  Predictions,
  ClassMetrics,
  AveragedMetrics,
  ClassificationMetrics,
  PrPoint,
  PrCurve,
  CalibrationBin,
  Calibration,
} from './metrics';
export {
  modelSize,
  measureLatency,
  collectPredictions,
  collectViewPredictions,
  buildReport,
  evaluateModel,
  reportOf,
} from './evaluate';
export type {
  ModelSize,
  LatencyOptions,
  Latency,
  ClassReport,
  EvaluationReport,
  ReportOptions,
  EvaluateModelOptions,
} from './evaluate';
