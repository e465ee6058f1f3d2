// The small symbolic algebra Nabla needs: scalar coefficients as monomials, penalties in
// canonical form, and their gradients. Pure data; derive.ts differentiates, print/* prints.

/** A symbolic factor taken from source code, e.g. `reg`, `self.reg`, `lmbda`, `n`. */
export interface SymbolPower {
  /** The source text of the factor, normalized (whitespace removed), e.g. `self.reg`. */
  name: string;
  /** Exponent: 1 for a multiplier, -1 for a divisor, 2 for a square, ... */
  pow: number;
}

/**
 * A scalar coefficient as a monomial: num · Π name^pow.
 * `reg / (2 * n)` is { num: 0.5, syms: [{name:'reg',pow:1},{name:'n',pow:-1}] }.
 * Invariant: syms are sorted by name, no zero powers, no duplicate names.
 */
export interface Coef {
  num: number;
  syms: SymbolPower[];
}

/**
 * Canonical penalty forms R(W) (coefficient included).
 * - `sumsq`:  c·ΣW²     (np.sum(W*W), (W**2).sum(), ‖W‖₂², vdot(W,W), Keras/tfjs l2(c); tf.nn.l2_loss is c=½)
 * - `elemsq`: c·W²      elementwise, not reduced (e.g. `c * p[j] * p[j] / 2`)
 * - `norm2`:  c·‖W‖₂    plain (unsquared) Euclidean/Frobenius norm
 * - `l1`:     c·Σ|W|    (np.sum(np.abs(W)), w.abs().sum(), Keras/tfjs l1(c))
 * - `elemabs`: c·|W|    elementwise absolute value
 */
export type PenaltyKind = 'sumsq' | 'elemsq' | 'norm2' | 'l1' | 'elemabs';

export interface Penalty {
  kind: PenaltyKind;
  coef: Coef;
  /** How the parameter is written in the source, e.g. `W`, `self.W`, `p[j]`, `params["W1"]`. */
  param: string;
  /** Framework spelling when it matters for explanation, e.g. `tf.nn.l2_loss`, `keras l2`. */
  via?: string;
}

/**
 * Gradient (or subgradient) forms ∇R(W):
 * - `linear`:     c·W
 * - `sign`:       c·sign(W)
 * - `normalized`: c·W/‖W‖₂
 */
export type GradientKind = 'linear' | 'sign' | 'normalized';

export interface Gradient {
  kind: GradientKind;
  coef: Coef;
  param: string;
}

/** The code dialect of a file, chosen from its imports, for printing fixes in its own style. */
export type Dialect = 'numpy' | 'torch' | 'tf' | 'jax' | 'tfjs' | 'plain-ts' | 'plain-py';
