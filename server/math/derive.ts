// Differentiation of the canonical penalty forms, and the way back from a gradient to the
// penalty it implies (used to explain "this update matches a loss of ...").

import { scale } from './coef';
import type { Gradient, GradientKind, Penalty, PenaltyKind } from './terms';

/** ∇R(W) (a subgradient for the |·| forms, where autodiff picks sign(0) = 0 in TF/torch). */
export function gradientOf(p: Penalty): Gradient {
  const { coef: c, param } = p;
  switch (p.kind) {
    case 'sumsq':
    case 'elemsq':
      return { kind: 'linear', coef: scale(c, 2), param };
    case 'norm2':
      return { kind: 'normalized', coef: c, param };
    case 'l1':
    case 'elemabs':
      return { kind: 'sign', coef: c, param };
  }
}

const KINDS_FOR: Record<GradientKind, readonly PenaltyKind[]> = {
  linear: ['sumsq', 'elemsq'],
  sign: ['l1', 'elemabs'],
  normalized: ['norm2'],
};

/** The penalty kinds whose gradient has the given form; the first is the reduced (Σ) one. */
export const penaltyKindsFor = (g: GradientKind): readonly PenaltyKind[] => KINDS_FOR[g];

/**
 * The penalty R with ∇R = g (up to an additive constant): linear c·W ← (c/2)·ΣW²,
 * sign c·sign(W) ← c·Σ|W|, normalized c·W/‖W‖₂ ← c·‖W‖₂. `kind` chooses the reduced or the
 * elementwise form; undefined when `kind` cannot produce a gradient of g's form.
 */
export function penaltyFromGradient(g: Gradient, kind?: PenaltyKind): Penalty | undefined {
  const allowed = KINDS_FOR[g.kind];
  const k = kind ?? allowed[0];
  if (!allowed.includes(k)) return undefined;
  const c = g.kind === 'linear' ? scale(g.coef, 0.5) : g.coef;
  return { kind: k, coef: c, param: g.param };
}
