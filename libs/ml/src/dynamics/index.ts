export {
  auroc,
  concatDynamics,
  mislabelRanking,
  mixtureThreshold,
  sampleScores,
  suspectMislabeled,
} from './scores';
export type { MislabelReport, SampleScores, ScoreOptions, SuspectOptions } from './scores';
export { injectLabelNoise } from './label-noise';
export type { LabelNoise } from './label-noise';
export { crossFitScores, labelIssueCount, SUSPECT_ISSUE_FRACTION, suspectCount } from './cross-fit';
export type { CrossFitOptions, CrossFitScores } from './cross-fit';
export { fitLogistic, predictLogistic } from './logistic';
export { neighbourVotes } from './neighbours';
export type { LogisticModel, LogisticOptions } from './logistic';
