// What a name says about its role in training code. These are the engine's only naming
// heuristics: every facts module and rule asks here instead of matching names itself, and only as
// a last resort, after data flow. Framework API names (`backward`, `parameters`, `zeros_like`)
// are not naming conventions: they are in catalogue.ts.
import type { Expr } from '../ir';
import { components, lastComponent, someComponent } from './keys';

const gradientName = /[gG]rad|^nabla_|^d[A-Z0-9_]|^d(w|b|k|u|v|theta|weights?|params?|kernel|bias|loss|L|J)\d*$|^g(\d+|_\w+|[A-Z]\w*)?$|^delta_(w|b|W|theta)/;
const stateName =
  /^(m|v|s|r|u|vel|velocity|momentum|mom|cache|buf|buffer|accum\w*|acc|ms|msq|sq_?grads?\w*|eg2|rms\w*|exp_avg\w*|moments?|first_moment|second_moment|adam_\w+|state)(\d+|_\w+|[A-Z]\w*)?$/;
const dataName = /^(x|X|y|Y|xs|ys|inputs?|data|batch\w*|targets?|labels?|features?|images?|logits|scores|outs?|outputs?|preds?|predictions?|y_pred|y_hat|yhat|activations?|hidden|noise|eps|epsilon)\d*$/;
const weightName = /^(w(\d+|_\w+)?|W([A-Z0-9_]\w*)?|weights?|[tT]heta\d*|params?|parameters|kernel\w*|coefs?|coef_|wt|emb\w*|embeddings?)$/;
const learningRateName = /^(lr|learning_rate|learningRate|eta|step_size|stepSize|alpha|lr_t|lrate|lr0|_lr|base_lr)$/;
const regularizationName = /reg|lam|lmbda|lambda|lambd|l2|l1|decay|wd|penalty|ridge|alpha|beta|^c$|^C$|^k$|coeff?|strength/i;

/** Losses named like gradients (`d_loss` of a discriminator, `g_loss` of a generator) are losses. */
const lossName = /loss|cost|objective|energy|nll|likelihood|penalty/i;

/**
 * The CLI's pre-check (server/engine/prefilter.ts) asks this of every identifier of a file's text
 * before parsing it: could a name like this play a role in training math (a gradient, a
 * regularization strength or knob, a learning rate)? Wider than any one role test above: a file
 * with none of these names, no update operator, no framework name and no self-update is skipped.
 */
export function mayNameTrainingRole(name: string): boolean {
  return gradientName.test(name) || learningRateName.test(name) || trainingRoleWord.test(name);
}
const trainingRoleWord = /reg|lam|lmbda|lambd|l2|l1|decay|wd|penalty|ridge/i;

export function isGradientLike(e: Expr): boolean {
  return someComponent(e, isGradientComponent);
}

/** One identifier named like a gradient, and not like a loss unless it says `grad`. */
function isGradientComponent(c: string): boolean {
  return gradientName.test(c) && (/[gG]rad/.test(c) || !lossName.test(c));
}

export function isStateLike(e: Expr): boolean {
  return someComponent(e, isStateName);
}

/** `m`, `v`, `u`, `cache`, `exp_avg`: one identifier named like optimizer state. */
export function isStateName(name: string): boolean {
  return stateName.test(name) && !isWeightName(name);
}

export function isDataLike(e: Expr): boolean {
  const last = lastComponent(e);
  return last !== undefined && dataName.test(last);
}

/** `m`, `n`, `N`, `M`: the number of examples, in course code's `reg / (2 * m)` (a parameter of that name, not Adam's moment). */
export function isCountName(name: string): boolean {
  return /^(m|M|n|N)$/.test(name);
}

/** `WD`, `WEIGHT_DECAY`: upper-case constants are settings, even when they start with W. */
const constantName = /^[A-Z][A-Z0-9_]*[A-Z][A-Z0-9_]*$/;

export function isWeightName(name: string): boolean {
  return weightName.test(name) && !constantName.test(name) && !isEmbeddingStrengthName(name);
}

/** `emb_reg`, `emb_decay`, `embedding_l2`: the strength of the embeddings' penalty, not the embeddings. */
function isEmbeddingStrengthName(name: string): boolean {
  return /^emb/.test(name) && isRegularizationStrengthName(name);
}

/** `W1`, `self.weights`, `params.W2`, `weights['layer1']`: named like a weight, or an entry of a weights container. */
export function isWeightLike(e: Expr): boolean {
  const last = lastComponent(e);
  if (last !== undefined && isWeightName(last)) return true;
  const parts = components(e);
  return parts.length > 1 && /^(params|parameters|weights)$/.test(parts[parts.length - 2]);
}

export function isLearningRateName(name: string): boolean {
  return learningRateName.test(settingWord(name.replace(/^(self|this)\./, '')));
}

/**
 * A learning rate's own name (`lr`, `learning_rate`, `eta`), leaving out `alpha`, which also names
 * penalties, slopes and smoothing constants: a rate a function takes and never reads (NB404).
 */
export function isPlainLearningRateName(name: string): boolean {
  return isLearningRateName(name) && settingWord(name) !== 'alpha';
}

/**
 * A setting's name in the case the vocabularies are written in: a constant's upper case
 * (`LR`, `LEARNING_RATE`, `BATCH_SIZE`, `BETA1`) is read in lower case, a capitalised word (`Lr`,
 * `Lambda`, `LearningRate`) with its first letter lowered. A single letter keeps its case: `W`
 * and `w`, `V` and `v`, `T` and `t`, `M` and `m` name different things. Only the vocabularies of
 * scalar settings (learning rates, optimizer settings, counts) read names through this; weights,
 * gradients, state and data keep theirs.
 */
export function settingWord(name: string): string {
  if (name.length < 2) return name;
  if (/^[A-Z][A-Z0-9_]*$/.test(name) && /[A-Z].*[A-Z]/.test(name)) return name.toLowerCase();
  if (/^[A-Z][a-z]/.test(name)) return name[0].toLowerCase() + name.slice(1);
  return name;
}

export function isRegularizationName(name: string): boolean {
  return regularizationName.test(name.replace(/^(self|this)\./, ''));
}

/**
 * Regularization strengths by name (`reg`, `lam`, `weight_decay`, `l2`), without the learning-rate
 * and momentum names `alpha`, `beta`, `gamma`, `c`, `k`: the last resort, after data flow
 * (gradients.ts `isRegularizationTerm`).
 */
export function isRegularizationStrengthName(name: string): boolean {
  const n = settingWord(name.replace(/^(self|this)\./, '').replace(/^.*\./, ''));
  if (!isRegularizationName(n)) return false;
  if (isLearningRateName(n) || /^(alpha|beta\d*|c|C|k|coeff?|coefficient)$/.test(n)) return false;
  if (/rate|lr|lr_decay|decay_?steps|momentum|beta|gamma|rho|eps/i.test(n)) return false;
  return /reg|lam|lmbda|lambda|lambd|l2|l1|decay|wd|penalty|ridge|strength/i.test(n);
}

/**
 * The parameter a gradient container belongs to: `dW1` → `W1`, `grads["W1"]` → `W1`, `p.grad` → `p`,
 * `grad_w` / `w_grad` → `w`, `nabla_w` → `w`. Undefined when the name says nothing.
 */
export function parameterOfGradient(e: Expr): string | undefined {
  if (e.kind === 'attr' && e.name === 'grad') return lastComponent(e.object);
  if (e.kind === 'index' && e.index.length === 1 && e.index[0].kind === 'str') return e.index[0].value;
  const last = lastComponent(e);
  if (!last) return undefined;
  // `dL_dw2`, `dJ_dtheta`, `dLdW`: the loss's derivative with respect to the name after the second d.
  let m = /^d(?:L|J|E|C|loss|Loss|cost|Cost)_?d_?([A-Za-z]\w*)$/.exec(last) ?? /^d([A-Z]\w*)$/.exec(last) ?? /^d_(\w+)$/.exec(last) ?? /^d(w\d*|b\d*|theta\d*|weights?|params?|kernel|bias)$/.exec(last);
  if (m) return m[1];
  m = /^(?:grad|nabla|g)_(\w+)$/.exec(last) ?? /^(\w+?)_grad$/.exec(last) ?? /^grad([A-Z]\w*)$/.exec(last);
  if (m) return m[1];
  return undefined;
}

// ------------------------------------------------------------------ objectives and losses
// Each vocabulary below is the one its caller was tuned with on real code; they overlap but are
// not interchangeable (the direction analysis counts `error` and `distance` as losses, loss
// sites do not).

/** Words of a quantity to maximize (a reward, a log-likelihood, an ELBO, an accuracy): its gradient is climbed on purpose. */
const ascentWord = /reward|return|likelihood|loglik|log_?lik|^ll$|_ll$|^ll_|elbo|log_?prob|logp|log_?pi|advantage|utility|fitness|accuracy|^acc$|q_?val|objective|^obj$|^G$|^G_?t$|profit|payoff|(?<!cross_?)entropy|bonus|^score$|evidence|maximi[sz]/i;
/** Words of a quantity to minimize: a loss, an error, a distance. */
const lossWord = /loss|cost|error|^err$|mse|nll|xent|cross_?entropy|crossentropy|hinge|huber|risk|energy|^J$|^L$|criterion|distance|residual|divergence|kl_div/i;

/** `reward`, `log_prob`, `elbo`, `advantage`: a name of something to maximize. */
export function isAscentWord(name: string): boolean {
  return ascentWord.test(name);
}

/** `loss`, `mse`, `cross_entropy`, `criterion`: a name of something to minimize. */
export function isLossWord(name: string): boolean {
  return lossWord.test(name);
}

/** `criterion(...)`, `loss_fn(...)`, `compute_loss(...)`: the usual names of a loss function. */
export function isLossFunctionName(name: string): boolean {
  return /^(criterion|loss_fn|lossFn|loss_func|compute_loss)$/.test(name);
}

/** `loss, dW = svm_loss(...)`: a name the loss is unpacked into, next to its gradient. */
export function isUnpackedLossName(name: string): boolean {
  return /^(loss|cost|l|J|data_loss|total_loss|loss_val|loss_value|cost_val)$/.test(name);
}

/** `loss_grad`, `grad_cost`, `dloss_deriv`: a function named for the gradient of a loss. */
export function isLossGradientName(name: string): boolean {
  return /(loss|cost).*(grad|deriv)|(grad|deriv).*(loss|cost)/i.test(name);
}

/** `reward_grad`, `policy_gradient_of_logp`: a gradient of something to maximize. */
export function isAscentGradientName(name: string): boolean {
  return isAscentWord(name) && /grad/i.test(name);
}

/** `svm_loss`, `compute_grads`, `backward`, `backprop`: a function that returns a loss or its gradient. */
export function isLossOrGradientFunctionName(name: string): boolean {
  return /loss|cost|grad|backward|backprop/i.test(name);
}

/** Names of variables and functions that hold an objective (losses.ts: loss sites). */
export function isObjectiveName(name: string): boolean {
  return /loss|cost|objective|^obj$|^J$|energy|risk|^nll$/i.test(name);
}

/** Objectives that are maximized: a penalty is subtracted from them (`ll`, `elbo`, `reward`). */
export function isMaximizedObjectiveName(name: string): boolean {
  return /^(ll|log_?lik\w*|log_likelihood\w*|elbo|objective|obj|reward|total_reward)$/i.test(name);
}

/** `obj`, `objective`: names a loss and a maximized objective both go by, where the value must decide. */
export function isAmbiguousObjectiveName(name: string): boolean {
  return isObjectiveName(name) && isMaximizedObjectiveName(name);
}

/** `losses`, `loss_history`, `best_loss`, `prev_cost`: records of objectives, not objectives. */
export function isObjectiveRecordName(name: string): boolean {
  return /^(losses|loss_history|loss_hist|costs|cost_history|best_\w+|prev_\w+|last_\w+|min_\w+)$/.test(name);
}

/** `loss`, `cost`, `objective` anywhere in a name (a variable, a function, a receiver's text). */
export function isLossName(name: string): boolean {
  return /loss|cost|objective/i.test(name);
}

/** `reg_loss`, `l2_cost`, `weight_norm`: a loss-like name of a penalty part, not of the whole loss. */
function isPenaltyPartName(name: string): boolean {
  return /reg|l1|l2|penalt|decay|wd|norm|weight/i.test(name);
}

/** A name of the whole loss (`loss`, `total_cost`), not of one of its penalty parts (`reg_loss`). */
export function isWholeLossName(name: string): boolean {
  return isLossName(name) && !isPenaltyPartName(name);
}

/** `data_loss`, `ce_loss`, `unreg_cost`: a name that says the loss is its data part only, a penalty left to the caller. */
export function namesDataPartOfLoss(name: string): boolean {
  return /^(data|raw|unreg\w*|base|task|ce|xent|nll|mse|hinge|fit)_?(loss|cost)$/i.test(name);
}

/** Totals that are summed into, not parameters: `loss += reg * np.sum(W * W)`, `pen += w[j] ** 2`. */
export function isRunningTotalName(name: string): boolean {
  return /loss|cost|objective|penalty|^pen$|^reg|energy|^nll|risk|^J$|^total|^sq\d*$|^l[12]$|norm/i.test(name);
}

/** `l1_penalty`, `reg_term`, `ridge`, `reg_loss`: a variable named for a penalty (and not for the loss it is added to). */
export function isPenaltyVariableName(name: string): boolean {
  return (/reg|pen|l1|l2|lasso|ridge|decay|prior|sparsit/i.test(name) && !/loss$/i.test(name)) || /^(reg|l1|l2)_?loss$/i.test(name);
}

/** A name that already says "penalty" (`penalty`, `l2_penalty`, `self.penalty`): a note need not say it again (wording only). */
export function saysPenalty(name: string): boolean {
  return /(^|[^a-z])penalty$/i.test(name);
}

/** A call named for regularization (`add_weight_decay`, `l2_loss`, `compute_penalty`): it reads or builds the penalties. */
export function mentionsRegularization(name: string): boolean {
  return /regularization|penalt|l2_loss|l1_loss|weight_decay|reg_loss/i.test(name);
}

const ascentContext = /ascent|ascend|maximi[sz]|climb|reinforce|policy|reward|likelihood|advantage|adversar|attack|fgsm|\bpgd\b|perturb|deep.?dream|saliency|\belbo\b|log_?prob|\bsam\b|_sam\b|\bsam_|sharpness|first_step|\bminimax\b|lagrang|\bdual\b|unlearn|worst.?case|\brobust/i;

/** Words in code (a function's text, a class header, a file) that say climbing is intended: a maximizer, a policy gradient, an attack. */
export function hasAscentContext(text: string): boolean {
  return ascentContext.test(text);
}

/** Code about nonnegative weights (NMF, mixture weights), where ΣW is the L1 norm. */
export function mentionsNonnegativity(text: string): boolean {
  return /nmf|non-?negative|nonneg/i.test(text);
}

// ------------------------------------------------------------------ data and predictions

/** `y`, `targets`, `labels`, `y_true`: the target side of a residual. */
export function isTargetName(name: string): boolean {
  return /^(y|Y|ys|t|targets?|labels?|y_true|yTrue|y_batch|yBatch|y_train|ytrain|y_i|yi|d|desired|expected|truth|gt|ground_truth|label_batch|target_batch|y_onehot|onehot|one_hot|Y_batch|Y_train|train_y|trainY)$/.test(name);
}

/** `pred`, `y_hat`, `output`, `probs`, `a`: the prediction side of a residual. */
export function isPredictionName(name: string): boolean {
  return /^(pred|preds|prediction|predictions|y_pred|yPred|y_hat|yHat|yhat|out|outs|output|outputs|a|A|h|hx|h_theta|hypothesis|probs?|probabilities|activation|activations|logits|scores|z_out|o|sig|sigmoid_out|fx|f_x|guess|estimate|y_est|net_out|pred_y|predY|p|phat|p_hat)$/.test(name);
}

/** `x`, `X_batch`, `inputs`, `a_prev`: inputs and activations, sign-neutral multipliers of a gradient. */
export function isInputName(name: string): boolean {
  return /^(x|X|xs|Xs|inputs?|features?|x_i|xi|x_batch|xBatch|X_batch|X_train|x_train|xtrain|a_prev|A_prev|prev_activation|h_prev|hidden|activations?_prev)$/.test(name);
}

/** `adv`, `noise`, `latent`, `z`, `img`, `obs`: an input being optimized (an attack, a latent, a dream), not a model's weight. */
export function isOptimizedInputName(name: string): boolean {
  return /adv|pert|noise|latent|^z$|^img|image|^delta$|^eps|sample|^obs|^state/i.test(name);
}

/** `feedforward(...)`, `net(...)`, `infer(...)`: a project's names of a forward pass, whose value is a prediction. */
export function isModelCallName(name: string): boolean {
  return /^(feedforward|model|net|network|feed_forward|infer)$/i.test(name);
}

/** `sigmoid_prime`, `relu_derivative`, `tanh_deriv`: a derivative helper, a positive-by-convention scalar factor. */
export function isDerivativeName(name: string): boolean {
  return /(_prime|prime|derivative|_deriv|_der|Prime|Derivative)$/.test(name);
}

/** `model`, `net`, `encoder`, `critic`: a name of a model. */
export function isModelName(name: string): boolean {
  return /model|net|encoder|decoder|generator|discriminator|classifier|critic|actor|policy|backbone|head/i.test(name);
}

// ------------------------------------------------------------------ settings and counts

/** Optimizer and schedule settings taken as positive scalars: `mu`, `beta1`, `eps`, `batch_size`, `tau`. */
export function isHyperparameterName(name: string): boolean {
  return /^(mu|momentum|beta\d?|b1|b2|beta_1|beta_2|rho|gamma|decay_rate|eps|epsilon|tau|t|step|n|N|m|M|batch_size|batchSize|num_train|num_examples|n_samples|nSamples|n_train|num_samples|size|count|k|scale|temperature|lr_t|bias_correction\d?|alpha_t)$/.test(settingWord(name));
}

/**
 * Coefficients that live in [0, 1) (momentum, dampening, the betas and rho of moving averages), so
 * that `1 − x` is positive: a shrink factor `1 − (1 − dampening)·lr·wd` is judged as a whole.
 */
export function isUnitIntervalCoefficientName(name: string): boolean {
  return /^(mu|momentum|dampening|damp|beta\d?|beta_?\d|b1|b2|rho)$/.test(settingWord(name));
}

/** String keys of a settings dict (`config['lr']`, `hp['weight_decay']`) that hold a positive scalar. */
export function isHyperparameterKey(key: string): boolean {
  return /^(lr|learning_rate|learningRate|momentum|mu|decay_rate|eps|epsilon|beta\d?|beta_?\d|rho|alpha|step_size|reg|weight_decay|lam|lambda|l2|nesterov|dampening)$/.test(settingWord(key));
}

/** A string key that mentions an optimizer setting (`opt['lr_decay']`, `cfg['beta1']`). */
export function mentionsOptimizerSetting(key: string): boolean {
  return /lr|learning_rate|momentum|decay|eps|beta|rho|mu/i.test(key);
}

/** `reg`, `lam_w`, `l2_strength`, `weight_decay`, `penalty`: a name that starts like a regularization strength. */
export function startsLikeRegularization(name: string): boolean {
  return /^(reg|lam|lmbda|lambda|l2|l1|wd|weight_decay|decay|penalty)\w*$/i.test(name);
}

/**
 * `decay`, `lr_decay`, `lrDecay`, `weight_decay`: a name that calls its value a decay (of the learning
 * rate or of the weights), not a discount of a moving average (`beta1`, `rho`, `decay_rate` is neither).
 * For a value passed where a framework expects a moment discount and that does not resolve to a number.
 */
export function namesADecay(name: string): boolean {
  return /^(lr_?|learning_?rate_?|weight_?)?decay$/i.test(name);
}

/**
 * `lr_decay`, `weight_decay`: a decay of the learning rate or of the weights by its name, where a bare
 * `decay` is not enough. TF1's `RMSPropOptimizer(learning_rate, decay=0.9)` and Hinton's RMSprop call
 * the squared-gradient discount ρ "decay", so `RMSprop(lr, decay)` may pass ρ as meant.
 */
/**
 * `no_wd`, `use_decay`, `applyL2`, `with_regularization`: a word of the name is a decay or regularization
 * (a condition named so chooses a branch without decay on purpose; NB206 branchDroppedDecay.ts).
 */
export function namesADecaySwitch(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/_+/);
  return words.some((w) => w === 'wd' || w === 'decay' || w === 'l2' || w === 'reg' || w.startsWith('regulari'));
}

export function namesAnLrOrWeightDecay(name: string): boolean {
  return /^(lr_?|learning_?rate_?|weight_?)decay$/i.test(name);
}

/** Names that say "weight decay / L2 rate" rather than "a discount factor" (an optimizer argument's variable). */
export function isWeightDecayName(name: string): boolean {
  return /^(weight_?decay\w*|wd|l2\w*|lambda|lam|lmbda|reg|regularization\w*|decay_?w\w*)$/i.test(name);
}

/** `n`, `N`, `m`, `batch_size`, `num_train`, `n_samples`: a count of examples. */
export function isExampleCountName(name: string): boolean {
  return /^(n|N|m|batch_size|num_\w+|n_\w+)$/.test(settingWord(name));
}

/** Symbols that count examples (`N`, `num_train`, `len(data)`, `X.shape[0]`): a missing or extra one is the Nielsen λ/n mistake. */
export function isSizeSymbol(symbol: string): boolean {
  return /^(n|N|m|M|n_\w+|num_\w+|N_\w+|\w*_size|batchSize|numExamples|nSamples|len\(.+\)|size\(.+\)|.+\.shape\[\d+\]|.+\.length|.+\.size(\(\))?|.+\.numel\(\))$/.test(symbol);
}

/** Objects that hold parsed command-line arguments: `args`, `opts`, `FLAGS`, `hparams`. */
export function isParsedArgsName(name: string): boolean {
  return /^(args|opts?|options|flags|FLAGS|hparams|cli_args|arguments|parsed_args|cmd_args)$/.test(name);
}

/** `get_param_groups(...)`, `add_weight_decay(...)`: a helper named for building param groups, whose groups are not known. */
export function isParamGroupsHelperName(name: string): boolean {
  return /group|decay|param/i.test(name);
}

// ------------------------------------------------------------------ gradients and parameters

/** Names of gradients that, as a function's parameter, conventionally hold ∂loss/∂θ. */
export function isStrongGradientName(name: string): boolean {
  return /^(d[A-Z]\w*|dw\d*|db\d*|dW\w*|dtheta|d_\w+|grad|grads|gradient|gradients|grad_\w+|\w+_grad|\w+_grads|dparams|nabla_\w+|d_p|gW|gw|gb)$/.test(name);
}

/**
 * `grad`, `gradient`, `derivative`, `compute_gradient`, `l2_grad`: a method of a regularizer object
 * named as the one that returns the penalty's gradient, when two methods return a penalty.
 */
export function isGradientMethodName(name: string): boolean {
  return /^_*((get|compute|calc|calculate)_?)?(grad|grads|gradient|gradients|derivative|deriv|backward|backprop)$|_(grad|gradient|derivative|deriv)$/i.test(name);
}

/** Nielsen's `nabla_w`, `delta_nabla_b`: gradients by name. */
export function isNablaName(name: string): boolean {
  return /^(nabla|delta_nabla)/.test(name);
}

/** cs231n layers: `affine_backward`, `conv_backward`: a function that carries an upstream gradient back. */
export function isBackwardHelperName(name: string): boolean {
  return /(_backward|^backward)$/.test(name);
}

/** `layer.backward(dout)`: a program layer's backward method, whose every returned value is a gradient (handedGradients.ts). */
export function isBackwardMethodName(name: string): boolean {
  return name === 'backward';
}

/** `backprop`, `backpropagate`: a function that returns the loss gradient. */
export function isBackpropName(name: string): boolean {
  return /backprop/i.test(name);
}

/** `b`, `b2`, `bias`, `bias_out`: a bias. */
export function isBiasName(name: string): boolean {
  return /^(b\d*|bias\w*)$/.test(name);
}

/** Names of collections that hold parameters: `model.parameters()`, `params`, `trainable_variables`, `theta`. */
export function isParameterCollectionName(key: string): boolean {
  return /param|weight|trainable|variables|kernel|theta/i.test(key);
}

/** A loop walks model weights: `for w in self.weights`, `for p in model.parameters()` (losses.ts: plain sums). */
export function isWeightCollectionKey(key: string): boolean {
  return /parameters|weights|params|trainable|variables|kernel/.test(key);
}

/** A loop walks a model's parameters (`model.parameters()`, `self.params`, `trainable_variables`), for steps on them. */
export function isParameterListKey(key: string): boolean {
  return /parameters|trainable|weights|params|variables/.test(key);
}

/** Receivers whose `backward(loss)` differentiates its argument (Accelerate, Lightning Fabric, DeepSpeed, a LightningModule). */
export function isBackwardOwnerName(path: string): boolean {
  return /(^|\.)(accelerator|fabric|engine|model_engine|trainer|self)$/.test(path);
}

/** `l2`, `l2_weight`, `lambda_l2`, `l2Reg`, `ridge_alpha`: a name that says the coefficient is an L2 penalty's (not decoupled decay's). */
export function saysL2Penalty(name: string): boolean {
  return (/(?<![a-zA-Z0-9])[lL]2(?![0-9])|(?<![A-Z0-9])L2(?![0-9])/.test(name) || /ridge/i.test(name)) && !/decoupl/i.test(name);
}

/**
 * Whether a docstring documents the parameter `param` as an L2 penalty: its entry (the line that
 * names it, with the more indented lines after it) says L2 or ridge, and not "decoupled".
 * `weight_decay (float, optional): weight decay (L2 penalty)`, `:param l2: weight of the l2 term`,
 * NumPy style `weight_decay : float` followed by `    Coefficient of the L2 penalty.`
 */
export function docSaysL2Penalty(doc: string, param: string): boolean {
  return docEntries(doc, param).some((entry) => /(?<![a-z0-9])l2(?![0-9])|\bridge\b/i.test(entry) && !/decoupl/i.test(entry));
}

/** A parameter's entries in a docstring: the line that names it, with the more indented lines after it. */
function docEntries(doc: string, param: string): string[] {
  const lines = doc.split('\n');
  const head = new RegExp(`^\\s*(?::param\\s+|@param\\s+(?:\\{[^}]*\\}\\s+)?)?${param.replace(/[^\w$]/g, '')}\\b`);
  const indent = (l: string): number => l.length - l.trimStart().length;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!head.test(lines[i])) continue;
    let entry = lines[i];
    for (let j = i + 1; j < lines.length && lines[j].trim() !== '' && indent(lines[j]) > indent(lines[i]); j++) entry += ` ${lines[j]}`;
    out.push(entry);
  }
  return out;
}

// ------------------------------------------------------------------ decoupled decay meant as L2 (NB406)
// The reverse of NB202's intent: a decoupled decay whose coefficient the code calls an L2 penalty.
// PyTorch's own docstring, "weight decay (L2 penalty)", is copied onto classes that decouple on
// purpose (Lion, Adafactor, AdamP, Adan): it equates the two and is no evidence. Only a
// coefficient documented as L2 regularization and not as a (weight) decay counts.

/** `l2`, `l2_reg`, `lambda_l2`, `ridge_alpha`, but not `l2_decay`: a name for an L2 penalty that does not also call it a decay. */
export function namesL2NotDecay(name: string): boolean {
  return saysL2Penalty(name) && !/decay/i.test(name);
}

/**
 * A docstring entry that documents `param` as an L2 penalty and not as a decay: `l2: strength of the
 * L2 regularization`, `reg (float): L2 penalty on the weights`; not `weight_decay: weight decay (L2 penalty)`.
 */
export function docSaysL2NotDecay(doc: string, param: string): boolean {
  return docEntries(doc, param).some((entry) => textSaysL2NotDecay(entry));
}

/** Argparse help that calls the value an L2 penalty and not a decay: `help='L2 regularization strength'`. */
export function textSaysL2NotDecay(text: string): boolean {
  return textSaysL2Penalty(text) && !/decay|adamw/i.test(text);
}

/** A docstring that says its optimizer decouples the decay: `decoupled weight decay`, `AdamW-style`, Loshchilov & Hutter. */
export function textSaysDecoupledDecay(text: string): boolean {
  return /decoupl|adam[-_ ]?w\b|adamw|loshchilov|1711\.05101/i.test(text);
}

/** `if self.adamw_mode:`, `group['adam_w']`, `decouple_wd`: a switch whose on state is decoupled decay. */
export function saysDecoupledDecaySwitch(name: string): boolean {
  return saysDecoupledDecayFlag(name) || /adam_?w/i.test(name);
}

/** Argparse help text or a comment that says the value is an L2 penalty: `help='weight of the l2 regularizer'`. */
export function textSaysL2Penalty(text: string): boolean {
  return /(?<![a-z0-9])l2(?![0-9])|\bridge\b/i.test(text) && !/decoupl/i.test(text);
}

// ------------------------------------------------------------------ what a penalty's code says it computes
// For a plain norm ‖W‖₂ in a loss (NB105): the squared norm was meant when the code calls the value
// an L2 regularization cost, and the plain norm is on purpose when the code calls it a norm.

/**
 * `l2_reg_cost`, `l2_penalty`, `L2_regularization_cost`, `ridge_loss`, `l2_loss`: the name of an L2
 * regularization term or of a cost with one, and not of a norm (`l2_norm`, `weight_l2norm`).
 */
export function namesL2Regularization(name: string): boolean {
  return saysL2Penalty(name) && /reg|penalt|cost|loss|ridge|decay/i.test(name) && !/norm/i.test(name);
}

/** `compute_cost_with_regularization`, `regularization_loss`: a regularized cost that does not say which norm. */
export function namesRegularization(name: string): boolean {
  return /regulari[sz]/i.test(name) && !/norm/i.test(name);
}

/** `weight_norm`, `param_norm`, `grad_norm`, `group_lasso`, `spectral_penalty`: a name for a norm computed on purpose. */
export function namesNorm(name: string): boolean {
  return /norm|lasso|group|spectral|nuclear|clip/i.test(name);
}

/**
 * A docstring that says its function computes an L2 regularization term (`calculates the cost of a
 * neural network with L2 regularization`, `ridge penalty`) without calling it a norm, or a squared
 * norm (`the squared Frobenius norm of the weights`, `sum of squares of the weights`).
 */
export function docSaysL2Regularization(doc: string): boolean {
  if (docSaysNormOnPurpose(doc)) return false;
  if (docSaysSquaredNorm(doc)) return true;
  return textSaysL2Penalty(doc) && /regulari[sz]|penalt|weight.decay|ridge/i.test(doc) && !/\bnorms?\b/i.test(doc);
}

/** `squared L2 norm`, `norm squared`, `sum of squared weights`, `||W||^2`, `‖W‖²`. */
export function docSaysSquaredNorm(doc: string): boolean {
  return /squared?\s+(l2\s+|frobenius\s+|euclidean\s+)?norm|norms?\s+squared|sum\s+of\s+(the\s+)?squar|\|\|?\s*\^\s*2|\|\|?\s*\*\*\s*2|‖²|‖₂²/i.test(doc);
}

/**
 * A docstring that says the plain norm is what its function computes on purpose: a norm reported
 * for logging or as a metric, group lasso, a spectral or nuclear norm, a max-norm constraint,
 * gradient clipping; or that calls the value a norm at all (`the L2 norm of the weights`).
 */
export function docSaysNormOnPurpose(doc: string): boolean {
  if (/group|lasso|spectral|nuclear|max.?norm|clip|monitor|logg|metric|diagnos|gradient\s+norm|norm\s+of\s+the\s+grad/i.test(doc)) return true;
  return /\bnorms?\b/i.test(doc) && !docSaysSquaredNorm(doc);
}

/** `AdamW`, `SGDW`, `AdaBoundW`, `DecoupledAdam`: an optimizer class named for decoupled weight decay. */
export function saysDecoupledDecay(className: string): boolean {
  return /[a-z0-9]W$|[A-Z]{2,}W$|AdamW/.test(className) || /decoupl/i.test(className);
}

/** `self.weight_decouple`, `decoupled_wd`, `group['decouple_weight_decay']`: a switch named for decoupled weight decay. */
export function saysDecoupledDecayFlag(name: string): boolean {
  return /decoupl/i.test(name);
}

/**
 * A symbol a constant-decay step may be made of: a learning rate, a regularization strength or
 * decay knob, or a count (`group["lr"]`, `self.weight_decay`, `N`). A constant holding anything
 * else (`self.biases` the analyzer could not see as a parameter) is not known to be a scalar.
 */
export function isStepScalarSymbol(symbol: string): boolean {
  const last = symbolLastName(symbol);
  return isLearningRateName(last) || isDecayStrengthSymbol(symbol) || isSizeSymbol(symbol);
}

/**
 * A decay strength (`weight_decay`, `wd`, `lam`, `reg`, `l2`, `group["weight_decay"]`), not a
 * computed penalty or loss term (`penalty`, `reg_loss`, `l2_term`), which may be any value.
 */
export function isDecayStrengthSymbol(symbol: string): boolean {
  const last = symbolLastName(symbol);
  if (/penalty|loss|cost|term|grad|value/i.test(last)) return false;
  return isRegularizationStrengthName(last) || isWeightDecayName(last);
}

/**
 * Whether a decay knob's key (`group["l2"]`, `self.weight_decay`) reads as an L2 penalty by its own
 * name, or by its entry in `doc` (a constructor's docstring or JSDoc) under its last name.
 */
export function decaySymbolSaysL2(symbol: string, doc: string | undefined): boolean {
  const last = symbolLastName(symbol);
  return saysL2Penalty(last) || (doc !== undefined && docSaysL2Penalty(doc, last));
}

/**
 * The key a knob is read from, to compare two decay coefficients: `group["weight_decay"]`,
 * `self.weight_decay` and `weight_decay` all read `weight_decay`.
 */
export function decayKnobKey(symbol: string): string {
  return symbolLastName(symbol);
}

/** Any identifier that may hold or scale a learning rate (`current_learning_rate`, `lr_t`, `step_size`, `alpha`): a step that mentions none applies none. */
export function mayNameLearningRate(name: string): boolean {
  return /(^|_)(lr|eta|alpha)(\d|_|$)|^lr|lr$|learning_?rate|learningrate|step_?size|stepsize/i.test(name);
}

/** A key that reads a learning rate: `lr`, `self.learning_rate`, `group["lr"]`. */
export function isLearningRateSymbol(symbol: string): boolean {
  return isLearningRateName(symbolLastName(symbol));
}

/** A normal-form key (`p.grad`, `layer.dweights`, `grads["W1"]`'s container) whose last name reads as a gradient. */
export function isGradientSymbol(symbol: string): boolean {
  const last = symbolLastName(symbol);
  return gradientName.test(last) && (/[gG]rad/.test(last) || !lossName.test(last));
}

function symbolLastName(symbol: string): string {
  return symbol.replace(/^.*\[\s*["'](\w+)["']\s*\]$/, '$1').replace(/^.*\./, '');
}

/** `weight_decay`, `wd`, `decay`, `l2`, `l2_reg`, `weight_decay_rate`: an optimizer's decay knob. */
export function isDecayKnobName(name: string): boolean {
  if (/lr|rate_decay|decay_?(steps?|rate|every|epochs?|factor|schedule|type|mode|start|end)|beta|momentum|lamb$/i.test(name) && !/^weight_decay_rate$/.test(name)) return false;
  return /^(weight_?decay\w*|wd|decay|l2|l2_?(reg\w*|penalty|lambda|coef\w*)|weight_decay_rate)$/i.test(name);
}

/**
 * A layer's, model's or training function's regularization argument: a regularizer object
 * (`regularizer`, `kernel_regularizer`, `W_regularizer`) or a strength (`reg`, `reg_lambda`,
 * `lambda_reg`, `l2`, `l1_reg`, `weight_decay`).
 */
export function isRegularizerKnobName(name: string): boolean {
  if (isDecayKnobName(name) && !/^decay$/i.test(name)) return true;
  return /^((\w+_)?regularizer|regularization|reg(_?(lambda|lam|strength|param|coef\w*|weight|scale))?|(lambda|lam)_?reg|l[12](_?(reg\w*|penalty|lambda|lam|coef\w*|strength))?|lambda_?l[12])$/i.test(name);
}

/**
 * A name fragment a parameter filter tests to leave out normalization weights: `'bn'`, `'norm'`,
 * `'batch_normalization'`, `'BatchNorm'`, `'.ln'`, `'gamma'`, `'beta'` (`'bn' not in name`).
 */
export function isNormWeightFragment(fragment: string): boolean {
  const core = fragment.replace(/^[._/:\d]+|[._/:\d]+$/g, '');
  return /^(bn|ln|gn|norm\w*|\w*_norm|\w*norm|batch_?norm\w*|layer_?norm\w*|group_?norm\w*|batch_?normali[sz]ation|layer_?normali[sz]ation|gamma|beta)$/i.test(core);
}

/** A Python method's instance or class parameter, `self` or `cls` by convention (what a call's arguments skip). */
export function isInstanceParameterName(name: string): boolean {
  return name === 'self' || name === 'cls';
}

/**
 * A keep probability by its name: `keep_prob`, `keep_probability`, `dropout_keep_prob`, `keepProb`,
 * `keep_rate`, `kprob`, `keep_probs` (one per layer). The share of units dropout KEEPS; a drop rate is
 * one minus it (dropoutRates.ts, where data flow has not decided).
 */
export function isKeepProbabilityName(name: string): boolean {
  return /^(\w+_)?keep_?prob(ability|abilities|s)?(_\w+)?$|^(\w+_)?keep_?rate(_\w+)?$|^([a-z]\w*)?KeepProb(ability)?\w*$|^keepProb(ability|s)?\w*$|^kprob$/i.test(name)
    && !/drop/i.test(name.replace(/^dropout_?keep/i, ''));
}

/** A drop rate by its name (`dropout`, `drop_rate`, `args.drop_prob`), not a keep probability's (`dropout_keep_prob`). */
export function isDropRateName(name: string): boolean {
  return /drop/i.test(name) && !isKeepProbabilityName(name);
}

/**
 * Integer ids by their name: `ids`, `token_ids`, `input_ids`, `word_idx`, `tokenIds`, `indices`. Indices
 * into a vocabulary or a table, not activations (a mask multiplied into them replaces entries by id 0,
 * word dropout, dropoutIndices.ts), when data flow has not said what the value is.
 */
export function isIndexName(name: string): boolean {
  return /^(ids|idx|indices|(\w+_)?(ids|idx|indices)|[a-z]\w*(Ids|Idx|Indices))$/.test(name);
}
