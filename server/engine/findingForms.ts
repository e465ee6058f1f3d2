// The math of findings that no update line shows, in symbols, for their hovers (FindingMath.forms):
// a penalty that is not a norm, a momentum that stores the raw step, optimizer state that is never
// written back. Rules hand in the code; this module alone chooses the symbols and writes the TeX.
import type { FindingForms } from './types';
import type { Coef, Penalty } from '../math/terms';
import { gradientOf } from '../math/derive';
import { latexGradient, latexPenalty } from '../math/print/latex';
import { unicodeGradient, unicodePenalty } from '../math/print/unicode';

type Legend = FindingForms['legend'];

/**
 * A penalty that is an array (NB105): builtin `sum` (or a loop from 0) over the list's elementwise
 * squares or absolute values, `item` the name each array of the list is bound to.
 */
export function unreducedPenaltyForms(kind: 'sumsq' | 'l1', item: string): FindingForms {
  const legend: Legend = [{ tex: 'W_k', unicode: 'Wₖ', code: item }];
  const title = `Penalty over the list of \`${item}\``;
  if (kind === 'l1')
    return {
      title,
      computed: { tex: 'R = \\sum_k |W_k| \\quad\\text{(entry by entry: an array shaped like } W_k\\text{)}', unicode: 'R = Σₖ |Wₖ| (entry by entry: an array shaped like Wₖ)' },
      correct: { tex: 'R = \\sum_k \\sum |W_k|', unicode: 'R = Σₖ Σ|Wₖ|' },
      correctLabel: 'The L1 penalty',
      legend,
    };
  return {
    title,
    computed: { tex: 'R = \\sum_k W_k^2 \\quad\\text{(entry by entry: an array shaped like } W_k\\text{)}', unicode: 'R = Σₖ Wₖ² (entry by entry: an array shaped like Wₖ)' },
    correct: { tex: 'R = \\sum_k \\sum W_k^2', unicode: 'R = Σₖ ΣWₖ²' },
    correctLabel: 'The L2 penalty',
    legend,
  };
}

/** A penalty's shape that is no norm (NB105), over the weight written as `weight`. */
export function penaltyShapeForms(shape: 'plain-sum' | 'square-of-sum' | 'abs-of-sum', weight: string): FindingForms {
  const legend: Legend = [{ tex: 'W', unicode: 'W', code: weight }];
  const title = `Penalty on \`${weight}\``;
  switch (shape) {
    case 'square-of-sum':
      return {
        title,
        computed: { tex: 'R = \\Big(\\sum W\\Big)^2, \\quad \\nabla R = 2\\Big(\\sum W\\Big)\\,\\mathbf{1}', unicode: 'R = (ΣW)², ∇R = 2·(ΣW)·1' },
        correct: { tex: 'R = \\sum W^2, \\quad \\nabla R = 2W', unicode: 'R = ΣW², ∇R = 2W' },
        correctLabel: 'The L2 penalty',
        legend,
      };
    case 'abs-of-sum':
      return {
        title,
        computed: { tex: 'R = \\Big|\\sum W\\Big|, \\quad \\nabla R = \\operatorname{sign}\\Big(\\sum W\\Big)\\,\\mathbf{1}', unicode: 'R = |ΣW|, ∇R = sign(ΣW)·1' },
        correct: { tex: 'R = \\sum |W|, \\quad \\nabla R = \\operatorname{sign}(W)', unicode: 'R = Σ|W|, ∇R = sign(W)' },
        correctLabel: 'The L1 penalty',
        legend,
      };
    case 'plain-sum':
      return {
        title,
        computed: { tex: 'R = \\sum W, \\quad \\nabla R = \\mathbf{1}', unicode: 'R = ΣW, ∇R = 1' },
        correct: { tex: 'R = \\sum |W| \\;\\text{(L1)} \\quad\\text{or}\\quad R = \\sum W^2 \\;\\text{(L2)}', unicode: 'R = Σ|W| (L1) or R = ΣW² (L2)' },
        correctLabel: 'A norm',
        legend,
      };
  }
}

/**
 * A "momentum" whose state is overwritten with the raw step while the update blends the old state in
 * (NB403): u is what the update applies, m the state, X the raw step, β its weight.
 */
export function rawStepMomentumForms(state: string, step: string, beta: string): FindingForms {
  const b = weight(beta);
  return {
    title: `Momentum \`${state}\``,
    computed: {
      tex: `u_t = ${b.tex}\\,m_{t-1} + (1 - ${b.tex})\\,X_t, \\quad m_t \\leftarrow X_t`,
      unicode: `uₜ = ${b.unicode}·mₜ₋₁ + (1 − ${b.unicode})·Xₜ; mₜ ← Xₜ`,
    },
    correct: {
      tex: `m_t \\leftarrow ${b.tex}\\,m_{t-1} + (1 - ${b.tex})\\,X_t, \\quad u_t = m_t`,
      unicode: `mₜ ← ${b.unicode}·mₜ₋₁ + (1 − ${b.unicode})·Xₜ; uₜ = mₜ`,
    },
    correctLabel: 'Correct momentum',
    legend: [{ tex: 'm', unicode: 'm', code: state }, { tex: 'X', unicode: 'X', code: step }, ...b.legend],
  };
}

/**
 * Optimizer state whose new value goes into a local and is never written back (NB407): s is the
 * state, v the local, β the weight of the old value, X the rest of the new value.
 */
export function unstoredStateForms(place: string, element: boolean, local: string, oldWeight: string): FindingForms {
  const b = weight(oldWeight);
  return {
    title: element ? `An element of \`${place}\`` : `State \`${place}\``,
    computed: {
      tex: `v = ${b.tex}\\,s + X, \\quad s \\leftarrow s \\;\\text{(unchanged)}`,
      unicode: `v = ${b.unicode}·s + X; s ← s (unchanged)`,
    },
    correct: { tex: `s \\leftarrow ${b.tex}\\,s + X, \\quad v = s`, unicode: `s ← ${b.unicode}·s + X; v = s` },
    correctLabel: 'Correct update of the state',
    legend: [{ tex: 's', unicode: 's', code: element ? `${place}[i]` : place }, { tex: 'v', unicode: 'v', code: local }, ...b.legend],
  };
}

/**
 * A running maximum u = max(b·s, X) computed from the state s and used by the step, while s keeps
 * its old value or is written with another update of it (NB407, Adamax's u never stored).
 */
export function unstoredMaxForms(place: string, element: boolean, local: string, oldWeight: string, other: boolean): FindingForms {
  // max(s, v), AMSGrad's: no weight written.
  const b = oldWeight === '1' ? { tex: '', unicode: '', legend: [] as Legend } : weight(oldWeight);
  const times = { tex: b.tex ? '\\,' : '', unicode: b.unicode ? '·' : '' };
  return {
    title: element ? `An element of \`${place}\`` : `State \`${place}\``,
    computed: {
      tex: `u = \\max(${b.tex}${times.tex}s,\\; X), \\quad ${other ? 's \\leftarrow \\text{another update of } s' : 's \\leftarrow s \\;\\text{(unchanged)}'}`,
      unicode: `u = max(${b.unicode}${times.unicode}s, X); ${other ? 's ← another update of s' : 's ← s (unchanged)'}`,
    },
    correct: { tex: `s \\leftarrow \\max(${b.tex}${times.tex}s,\\; X), \\quad u = s`, unicode: `s ← max(${b.unicode}${times.unicode}s, X); u = s` },
    correctLabel: 'Correct update of the state',
    legend: [{ tex: 's', unicode: 's', code: element ? `${place}[i]` : place }, { tex: 'u', unicode: 'u', code: local }, ...b.legend],
  };
}

/** A maximum of a state's new average and its old value (NB407): no running maximum is kept. */
export function consecutiveMaxForms(place: string, element: boolean, local: string): FindingForms {
  return {
    title: element ? `An element of \`${place}\`` : `State \`${place}\``,
    computed: {
      tex: `v_t = \\beta\\,v_{t-1} + (1 - \\beta)\\,X, \\quad u = \\max(v_t,\\; v_{t-1})`,
      unicode: `vₜ = β·vₜ₋₁ + (1 − β)·X; u = max(vₜ, vₜ₋₁)`,
    },
    correct: { tex: `\\hat v_t = \\max(\\hat v_{t-1},\\; v_t), \\quad u = \\hat v_t`, unicode: `v̂ₜ = max(v̂ₜ₋₁, vₜ); u = v̂ₜ` },
    correctLabel: 'Correct update (AMSGrad)',
    legend: [{ tex: 'v', unicode: 'v', code: element ? `${place}[i]` : place }, { tex: 'u', unicode: 'u', code: local }],
  };
}

/**
 * AdaDelta's accumulator of squared updates averaging the parameter's square (NB403): D the
 * accumulator, G the average of g², θ the parameter, ρ D's weight.
 */
export function squaredWeightAverageForms(accumulator: string, gradientAverage: string, param: string, rho: string): FindingForms {
  const r = symbolFor(rho, '\\rho', 'ρ');
  return {
    title: `Accumulator \`${accumulator}\``,
    computed: {
      tex: `\\theta \\leftarrow \\theta - \\frac{\\sqrt{D + \\epsilon}}{\\sqrt{G + \\epsilon}}\\,g, \\quad D \\leftarrow ${r.tex}\\,D + (1 - ${r.tex})\\,\\theta^2`,
      unicode: `θ ← θ − √(D + ε)/√(G + ε)·g; D ← ${r.unicode}·D + (1 − ${r.unicode})·θ²`,
    },
    correct: {
      tex: `\\Delta = -\\frac{\\sqrt{D + \\epsilon}}{\\sqrt{G + \\epsilon}}\\,g, \\quad \\theta \\leftarrow \\theta + \\Delta, \\quad D \\leftarrow ${r.tex}\\,D + (1 - ${r.tex})\\,\\Delta^2`,
      unicode: `Δ = −√(D + ε)/√(G + ε)·g; θ ← θ + Δ; D ← ${r.unicode}·D + (1 − ${r.unicode})·Δ²`,
    },
    correctLabel: 'AdaDelta',
    legend: [
      { tex: 'D', unicode: 'D', code: accumulator },
      { tex: 'G', unicode: 'G', code: gradientAverage },
      { tex: '\\theta', unicode: 'θ', code: param },
      ...r.legend,
    ],
  };
}

/** State written back, s ← b·s + X, while the parameter's step reads X and never s (NB407). */
export function unusedStateForms(place: string, element: boolean, oldWeight: string): FindingForms {
  const b = weight(oldWeight);
  return {
    title: element ? `An element of \`${place}\`` : `State \`${place}\``,
    computed: {
      tex: `s \\leftarrow ${b.tex}\\,s + X, \\quad w \\leftarrow w - c\\,X`,
      unicode: `s ← ${b.unicode}·s + X; w ← w − c·X`,
    },
    correct: { tex: `s \\leftarrow ${b.tex}\\,s + X, \\quad w \\leftarrow w - s`, unicode: `s ← ${b.unicode}·s + X; w ← w − s` },
    correctLabel: 'Correct step by the state',
    legend: [{ tex: 's', unicode: 's', code: element ? `${place}[i]` : place }, ...b.legend],
  };
}

/**
 * A gradient defined without the penalty's gradient c·W that the loss's penalty on W calls for
 * (NB103, a branch that leaves the term out): g is the gradient, ℓ the rest of the loss.
 */
export function missingPenaltyGradientForms(gradient: string, weight: string, coef: Coef): FindingForms {
  return {
    title: `Gradient \`${gradient}\``,
    computed: { tex: 'g = \\nabla_W\\, \\ell', unicode: 'g = ∇W ℓ' },
    correct: {
      tex: `g = \\nabla_W\\, \\ell + ${latexGradient({ kind: 'linear', coef, param: 'W' })}`,
      unicode: `g = ∇W ℓ + ${unicodeGradient({ kind: 'linear', coef, param: 'W' })}`,
    },
    correctLabel: 'Correct gradient',
    legend: [{ tex: 'g', unicode: 'g', code: gradient }, { tex: 'W', unicode: 'W', code: weight }],
  };
}

/**
 * A loss function that returns the loss with a penalty on W beside a gradient with no term for it
 * (NB103): L the loss it returns, ℓ its data term, g the gradient it returns; `penalty` is written over `W`.
 */
export function returnedGradientForms(gradient: string, weight: string, penalty: Penalty): FindingForms {
  const term = gradientOf(penalty);
  return {
    title: `Gradient \`${gradient}\` returned with the loss`,
    computed: {
      tex: `L = \\ell + ${latexPenalty(penalty)}, \\quad g = \\nabla_W\\, \\ell`,
      unicode: `L = ℓ + ${unicodePenalty(penalty)}; g = ∇W ℓ`,
    },
    correct: {
      tex: `g = \\nabla_W L = \\nabla_W\\, \\ell + ${latexGradient(term)}`,
      unicode: `g = ∇W L = ∇W ℓ + ${unicodeGradient(term)}`,
    },
    correctLabel: 'The gradient of the returned loss',
    legend: [{ tex: 'g', unicode: 'g', code: gradient }, { tex: 'W', unicode: 'W', code: weight }],
  };
}

/**
 * Weight decay applied twice in one step (NB107), for a finding whose statement shows no decay (a
 * call of a method that applies it): W the parameter, λ the knob, each application `gradient`
 * (added to the gradient the step applies) or `step` (a shrink of W in the step).
 */
export function decayTwiceForms(param: string, strength: string | undefined, kinds: readonly ['gradient' | 'step', 'gradient' | 'step']): FindingForms {
  const lam = strength === undefined ? { tex: '\\lambda', unicode: 'λ', legend: [] as Legend } : symbolFor(strength, '\\lambda', 'λ');
  const inGradient = { tex: `W - \\eta\\,(\\nabla L + ${lam.tex}\\,W)`, unicode: `W − η·(∇L + ${lam.unicode}·W)` };
  const inStep = { tex: `W - \\eta\\,\\nabla L - \\eta\\,${lam.tex}\\,W`, unicode: `W − η·∇L − η·${lam.unicode}·W` };
  const step = (rhs: { tex: string; unicode: string }): { tex: string; unicode: string } => ({ tex: `W \\leftarrow ${rhs.tex}`, unicode: `W ← ${rhs.unicode}` });
  const [first, second] = kinds;
  const computed =
    first !== second
      ? step({ tex: `${inGradient.tex} - \\eta\\,${lam.tex}\\,W`, unicode: `${inGradient.unicode} − η·${lam.unicode}·W` })
      : first === 'gradient'
        ? step({ tex: `W - \\eta\\,(\\nabla L + ${lam.tex}\\,W + ${lam.tex}\\,W)`, unicode: `W − η·(∇L + ${lam.unicode}·W + ${lam.unicode}·W)` })
        : step({ tex: `${inStep.tex} - \\eta\\,${lam.tex}\\,W`, unicode: `${inStep.unicode} − η·${lam.unicode}·W` });
  const correct =
    first !== second
      ? { tex: `${step(inGradient).tex} \\quad\\text{or}\\quad ${step(inStep).tex}`, unicode: `${step(inGradient).unicode}  or  ${step(inStep).unicode}` }
      : step(first === 'gradient' ? inGradient : inStep);
  return {
    title: `Weight decay of \`${param}\`, applied twice`,
    computed,
    correct,
    correctLabel: 'Decay applied once',
    legend: [{ tex: 'W', unicode: 'W', code: param }, ...lam.legend],
  };
}

/**
 * A closed-form ridge fit whose ridge term is subtracted (NB102): X the design matrix, λ the ridge
 * strength; `outer` when the code forms X·Xᵀ (the fit in its dual form).
 */
export function antiRidgeForms(design: string, strength: string, outer: boolean): FindingForms {
  const lam = symbolFor(strength, '\\lambda', 'λ');
  const gram = outer ? { tex: 'X X^{\\top}', unicode: 'X·Xᵀ' } : { tex: 'X^{\\top} X', unicode: 'Xᵀ·X' };
  const form = (op: '+' | '-'): { tex: string; unicode: string } => ({
    tex: `\\left(${gram.tex} ${op} ${lam.tex} I\\right)^{-1}`,
    unicode: `(${gram.unicode} ${op === '-' ? '−' : '+'} ${lam.unicode}·I)⁻¹`,
  });
  return {
    title: `Ridge solve with \`${design}\``,
    computed: form('-'),
    correct: form('+'),
    correctLabel: 'Ridge (Tikhonov) regularization',
    legend: [{ tex: 'X', unicode: 'X', code: design }, ...lam.legend],
  };
}

/** A coefficient as written: a number stays itself, anything else is the symbol given, with the code in the legend. */
function symbolFor(code: string, tex: string, unicode: string): { tex: string; unicode: string; legend: Legend } {
  if (/^\d+(\.\d*)?(e-?\d+)?$|^\.\d+$/.test(code)) return { tex: numberTex(code), unicode: code, legend: [] };
  return { tex, unicode, legend: [{ tex, unicode, code }] };
}

/** A number as TeX: `1e-9` as 10⁻⁹ and `5e-4` as 5·10⁻⁴ (TeX reads `1e-9` as a product minus 9). */
function numberTex(code: string): string {
  const m = /^(\d+(?:\.\d*)?)e(-?\d+)$/.exec(code);
  if (!m) return code;
  const exp = `10^{${String(Number(m[2]))}}`;
  return Number(m[1]) === 1 ? exp : `${m[1]} \\cdot ${exp}`;
}

/** A weight as written: a number stays itself, anything else is β. */
function weight(code: string): { tex: string; unicode: string; legend: Legend } {
  return symbolFor(code, '\\beta', 'β');
}

/**
 * The error carried to the layer below through weights already stepped (NB109): δ is the error the
 * layer's gradient was computed from, W the weights, η the step size.
 */
export function backpropAfterStepForms(weight: string, error: string): FindingForms {
  return {
    title: `Backpropagation through \`${weight}\``,
    computed: {
      tex: 'W \\leftarrow W - \\eta\\,\\nabla_W L, \\quad \\delta \\leftarrow W^{\\top} \\delta \\;\\text{(the new } W\\text{)}',
      unicode: 'W ← W − η·∇_W L; δ ← Wᵀδ (the new W)',
    },
    correct: {
      tex: '\\delta \\leftarrow W^{\\top} \\delta, \\quad W \\leftarrow W - \\eta\\,\\nabla_W L',
      unicode: 'δ ← Wᵀδ; W ← W − η·∇_W L',
    },
    correctLabel: 'Correct order',
    legend: [
      { tex: 'W', unicode: 'W', code: weight },
      { tex: '\\delta', unicode: 'δ', code: error },
    ],
  };
}

/**
 * A LAMB/LARS trust ratio over a copy of the weights with the step already added (NB404): w the
 * weights, w̃ the copy, u the update direction the step adds (w̃ = w − η·u, at `movedAt`), c the
 * numerator's coefficient and ε the denominator's, when the code writes them, r the local that holds the ratio.
 */
export function updatedTrustRatioForms(weightCode: string, copy: string, movedAt: string, parts: { coef?: string; eps?: string; ratio?: string }): FindingForms {
  const c = parts.coef !== undefined ? symbolFor(parts.coef, 'c', 'c') : undefined;
  const e = parts.eps !== undefined ? symbolFor(parts.eps, '\\varepsilon', 'ε') : undefined;
  const r = parts.ratio !== undefined ? symbolFor(parts.ratio, 'r', 'r') : undefined;
  const rTex = r?.tex ?? 'r';
  const rUni = r?.unicode ?? 'r';
  const num = { tex: `${c ? `${c.tex}\\,` : ''}\\lVert w \\rVert`, unicode: `${c ? `${c.unicode}·` : ''}‖w‖` };
  const over = (normTex: string, normUni: string) => ({
    tex: `\\frac{${num.tex}}{${normTex}${e ? ` + ${e.tex}` : ''}}`,
    unicode: e ? `${num.unicode}/(${normUni} + ${e.unicode})` : `${num.unicode}/${normUni}`,
  });
  const wrong = over('\\lVert \\tilde w \\rVert', '‖w̃‖');
  const right = over('\\lVert u \\rVert', '‖u‖');
  const about = c ? { tex: c.tex, unicode: c.unicode } : { tex: '1', unicode: '1' };
  return {
    title: `Trust ratio of \`${weightCode}\``,
    computed: {
      tex: `${rTex} = ${wrong.tex}, \\quad \\tilde w = w - \\eta\\,u \\;\\text{(${movedAt})} \\;\\Rightarrow\\; \\lVert \\tilde w \\rVert \\approx \\lVert w \\rVert, \\; ${rTex} \\approx ${about.tex}`,
      unicode: `${rUni} = ${wrong.unicode}; w̃ = w − η·u (${movedAt}) ⇒ ‖w̃‖ ≈ ‖w‖, ${rUni} ≈ ${about.unicode}`,
    },
    correct: {
      tex: `${rTex} = ${right.tex}, \\quad w \\leftarrow w - \\eta\\,${rTex}\\,u`,
      unicode: `${rUni} = ${right.unicode}; w ← w − η·${rUni}·u`,
    },
    correctLabel: 'Correct trust ratio (LAMB, LARS): over the update, not the updated weights',
    legend: [
      { tex: 'w', unicode: 'w', code: weightCode },
      { tex: '\\tilde w', unicode: 'w̃', code: copy },
      ...(r?.legend ?? []),
      ...(c?.legend ?? []),
      ...(e?.legend ?? []),
    ],
  };
}

/**
 * A "Hutchinson" curvature |g ⊙ z| (or its square) with z a draw of random signs and g independent of
 * it (NB402): the signs cancel. Hutchinson's estimate of the Hessian's diagonal multiplies z by a
 * Hessian-vector product H·z, taken by differentiating gᵀz once more; the same |·| or square of it.
 */
export function deadRandomSignForms(factor: string, draw: string, kind: 'abs' | 'square', state: string): FindingForms {
  const wrap = kind === 'abs' ? (t: string) => `\\lvert ${t} \\rvert` : (t: string) => `\\big(${t}\\big)^2`;
  const wrapU = kind === 'abs' ? (t: string) => `|${t}|` : (t: string) => `(${t})²`;
  const plainU = kind === 'abs' ? '|g|' : 'g²';
  return {
    title: `Curvature estimate \`${state}\``,
    computed: {
      tex: `${wrap('g \\odot z')} = ${kind === 'abs' ? '\\lvert g \\rvert' : 'g^2'} \\;\\; (z_i = \\pm 1) \\;\\Rightarrow\\; D \\text{ tracks } ${kind === 'abs' ? '\\lvert g \\rvert' : 'g^2'}`,
      unicode: `${wrapU('g⊙z')} = ${plainU} (zᵢ = ±1) ⇒ D tracks ${plainU}`,
    },
    correct: {
      tex: `D \\text{ tracks } ${wrap('z \\odot H z')}, \\quad H z = \\nabla\\big(g^{\\top} z\\big), \\quad \\mathbb{E}\\big[z \\odot H z\\big] = \\operatorname{diag}(H)`,
      unicode: `D tracks ${wrapU('z⊙Hz')}, Hz = ∇(gᵀz), E[z⊙Hz] = diag(H)`,
    },
    correctLabel: "Hutchinson's estimate of the Hessian's diagonal",
    legend: [
      { tex: 'D', unicode: 'D', code: state },
      { tex: 'g', unicode: 'g', code: factor },
      { tex: 'z', unicode: 'z', code: draw },
    ],
  };
}
