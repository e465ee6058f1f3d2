// The one list of rules, alphabetical by code. A test checks every file in this folder is here.
import { nb001UnusedSuppression } from './nb001-unused-suppression';
import { nb101PenaltyAsGradient } from './nb101-penalty-as-gradient';
import { nb102AscentStep } from './nb102-ascent-step';
import { nb103PenaltyGradientFactor } from './nb103-penalty-gradient-factor';
import { nb104L1Gradient } from './nb104-l1-gradient';
import { nb105PenaltyShape } from './nb105-penalty-shape';
import { nb106ConstantDecay } from './nb106-constant-decay';
import { nb107DecayAppliedTwice } from './nb107-decay-applied-twice';
import { nb108DecayOutsideStep } from './nb108-decay-outside-step';
import { nb109BackpropAfterStep } from './nb109-backprop-after-step';
import { nb201DoubleRegularization } from './nb201-double-regularization';
import { nb202CoupledDecayInAdaptiveOptimizer } from './nb202-coupled-decay-in-adaptive-optimizer';
import { nb203NotWeightDecay } from './nb203-not-weight-decay';
import { nb204DecayOnBiasAndNorm } from './nb204-decay-on-bias-and-norm';
import { nb205RegularizerWithoutEffect } from './nb205-regularizer-without-effect';
import { nb206DecayNeverApplied } from './nb206-decay-never-applied';
import { nb207KeepProbabilityAsDropRate } from './nb207-keep-probability-as-drop-rate';
import { nb208OptimizerRebuiltInLoop } from './nb208-optimizer-rebuilt-in-loop';
import { nb209DropoutScaleMismatch } from './nb209-dropout-scale-mismatch';
import { nb210FalsyDefaultOverridesZero } from './nb210-falsy-default-overrides-zero';
import { nb211RandomDrawFrozenInGraph } from './nb211-random-draw-frozen-in-graph';
import { nb301RegularizationLossesDropped } from './nb301-regularization-losses-dropped';
import { nb302PenaltyAfterBackward } from './nb302-penalty-after-backward';
import { nb303PenaltyWithoutGradient } from './nb303-penalty-without-gradient';
import { nb304PenaltyNeverUsed } from './nb304-penalty-never-used';
import { nb305AddLossPitfall } from './nb305-add-loss-pitfall';
import { nb401BiasCorrection } from './nb401-bias-correction';
import { nb402SecondMoment } from './nb402-second-moment';
import { nb403AverageNotAveraging } from './nb403-average-not-averaging';
import { nb404LearningRateTwice } from './nb404-learning-rate-twice';
import { nb405DecayOnMoment } from './nb405-decay-on-moment';
import { nb406DecoupledDecayMeantAsL2 } from './nb406-decoupled-decay-meant-as-l2';
import { nb407StateNeverStored } from './nb407-state-never-stored';
import { nb408DecayGrows } from './nb408-decay-grows';
import { nb409ClipBySquaredNorm } from './nb409-clip-by-squared-norm';
import { nb410StepIntoGradient } from './nb410-step-into-gradient';
import { nb411GradientNeverReset } from './nb411-gradient-never-reset';
import { nb412GroupSettingsIgnored } from './nb412-group-settings-ignored';
import type { Rule } from './rule';

export const allRules: Rule[] = [
  nb001UnusedSuppression,
  nb101PenaltyAsGradient,
  nb102AscentStep,
  nb103PenaltyGradientFactor,
  nb104L1Gradient,
  nb105PenaltyShape,
  nb106ConstantDecay,
  nb107DecayAppliedTwice,
  nb108DecayOutsideStep,
  nb109BackpropAfterStep,
  nb201DoubleRegularization,
  nb202CoupledDecayInAdaptiveOptimizer,
  nb203NotWeightDecay,
  nb204DecayOnBiasAndNorm,
  nb205RegularizerWithoutEffect,
  nb206DecayNeverApplied,
  nb207KeepProbabilityAsDropRate,
  nb208OptimizerRebuiltInLoop,
  nb209DropoutScaleMismatch,
  nb210FalsyDefaultOverridesZero,
  nb211RandomDrawFrozenInGraph,
  nb301RegularizationLossesDropped,
  nb302PenaltyAfterBackward,
  nb303PenaltyWithoutGradient,
  nb304PenaltyNeverUsed,
  nb305AddLossPitfall,
  nb401BiasCorrection,
  nb402SecondMoment,
  nb403AverageNotAveraging,
  nb404LearningRateTwice,
  nb405DecayOnMoment,
  nb406DecoupledDecayMeantAsL2,
  nb407StateNeverStored,
  nb408DecayGrows,
  nb409ClipBySquaredNorm,
  nb410StepIntoGradient,
  nb411GradientNeverReset,
  nb412GroupSettingsIgnored,
];

export function ruleByCode(code: string): Rule | undefined {
  return allRules.find((rule) => rule.meta.code === code.toUpperCase());
}

/** Where each rule's page lives; the LSP `codeDescription` and SARIF `helpUri` link here. */
export const DOCS_BASE_URL = 'https://github.com/nabla-lint/nabla/blob/main/docs/rules/';

export function docsUrl(code: string): string {
  return `${DOCS_BASE_URL}${code.toUpperCase()}.md`;
}
