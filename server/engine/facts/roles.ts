// What a name says about its role in training code. These are the engine's only naming
// heuristics; every rule asks here instead of matching names itself.
import type { Expr } from '../ir';
import { components, lastComponent } from './keys';

const gradientName = /[gG]rad|^nabla_|^d[A-Z0-9_]|^d(w|b|k|u|v|theta|weights?|params?|kernel|bias|loss|L|J)\d*$|^g(\d+|_\w+|[A-Z]\w*)?$|^delta_(w|b|W|theta)/;
const stateName =
  /^(m|v|s|r|u|vel|velocity|momentum|mom|cache|buf|buffer|accum\w*|acc|ms|msq|sq_?grads?\w*|eg2|rms\w*|exp_avg\w*|moments?|first_moment|second_moment|adam_\w+|state)(\d+|_\w+|[A-Z]\w*)?$/;
const dataName = /^(x|X|y|Y|xs|ys|inputs?|data|batch\w*|targets?|labels?|features?|images?|logits|scores|outs?|outputs?|preds?|predictions?|y_pred|y_hat|yhat|activations?|hidden|noise|eps|epsilon)\d*$/;
const weightName = /^(w(\d+|_\w+)?|W([A-Z0-9_]\w*)?|weights?|[tT]heta\d*|params?|parameters|kernel\w*|coefs?|coef_|wt|emb\w*|embeddings?)$/;
const learningRateName = /^(lr|learning_rate|learningRate|eta|step_size|stepSize|alpha|lr_t|lrate|lr0|_lr|base_lr)$/;
const regularizationName = /reg|lam|lmbda|lambda|lambd|l2|l1|decay|wd|penalty|ridge|alpha|beta|^c$|^C$|^k$|coeff?|strength/i;

/** Losses named like gradients (`d_loss` of a discriminator, `g_loss` of a generator) are losses. */
const lossName = /loss|cost|objective|energy|nll|likelihood|penalty/i;

export function isGradientLike(e: Expr): boolean {
  return components(e).some((c) => gradientName.test(c) && (/[gG]rad/.test(c) || !lossName.test(c)));
}

export function isStateLike(e: Expr): boolean {
  const parts = components(e);
  return parts.some((c) => stateName.test(c) && !isWeightName(c));
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
  return weightName.test(name) && !constantName.test(name);
}

/** `W1`, `self.weights`, `params.W2`, `weights['layer1']`: named like a weight, or an entry of a weights container. */
export function isWeightLike(e: Expr): boolean {
  const last = lastComponent(e);
  if (last !== undefined && isWeightName(last)) return true;
  const parts = components(e);
  return parts.length > 1 && /^(params|parameters|weights)$/.test(parts[parts.length - 2]);
}

export function isLearningRateName(name: string): boolean {
  return learningRateName.test(name.replace(/^(self|this)\./, ''));
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
  const n = name.replace(/^(self|this)\./, '').replace(/^.*\./, '');
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
  let m = /^d([A-Z]\w*)$/.exec(last) ?? /^d_(\w+)$/.exec(last) ?? /^d(w\d*|b\d*|theta\d*|weights?|params?|kernel|bias)$/.exec(last);
  if (m) return m[1];
  m = /^(?:grad|nabla|g)_(\w+)$/.exec(last) ?? /^(\w+?)_grad$/.exec(last) ?? /^grad([A-Z]\w*)$/.exec(last);
  if (m) return m[1];
  return undefined;
}
