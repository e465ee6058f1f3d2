// The hover of a hand-written optimizer step (issue 14): on any line that updates its state or its
// parameter, the algorithm recognized (optimizerSteps.ts `family`), the step as its normal form
// reads it, one line per state and one per parameter, in the code's own symbols, next to the
// textbook form of that family (catalogue.ts `OPTIMIZER_TEXTBOOK`), and, for each NB401–NB405
// finding on the step (and NB102's momentum that climbs), the corrected lines the finding carries
// (optimizerCorrections.ts). Values the code reads into locals print as those locals (`beta1`, not
// `group['betas'][0]`; facts/optimizerLocals.ts).
import type { Span } from './ir';
import type { Finding } from './types';
import type { DocumentAnalysis } from './document';
import { optimizerSteps, powerOfExponent, stepTerms, type OptimizerStep, type StateUpdate, type StepTerm } from './facts/optimizerSteps';
import { OPTIMIZER_TEXTBOOK, parameterGradientKeys } from './facts/catalogue';
import { atomsOf, mentions, polyEquals, constant, type Poly } from '../math/poly';
import { isGradientSymbol } from './facts/roles';
import { SymbolTable, type LegendEntry } from './printExpr';
import { type PolyText } from '../math/print/poly';
import { inStep, parameterValue, relation, stateValue, stepCorrections, type OptimizerStepCorrection } from './optimizerCorrections';
import { localNameIn } from './facts/optimizerLocals';

export type { OptimizerStepCorrection } from './optimizerCorrections';

export interface OptimizerStepLine {
  /** The code of what the line updates (`self.m`, `state['exp_avg']`, `w`). */
  target: string;
  role: 'state' | 'parameter';
  tex: string;
  unicode: string;
}

export interface OptimizerStepSection {
  /** The family recognized: `Adam`, `RMSprop`, `SGD with momentum`; absent when a mistake hides it. */
  family?: string;
  /** `Adam (hand-written)`, or `Optimizer step (hand-written)`. */
  title: string;
  /** The step in the code's own symbols: its states in the order they are updated, then its parameters. */
  lines: OptimizerStepLine[];
  /** Symbols and the code they stand for. */
  legend: LegendEntry[];
  /** The family's textbook update, one formula per line (with the family). */
  textbook?: { tex: string[]; unicode: string[]; source: string };
  /** The corrected lines of each NB401–NB405 finding on this step (and NB102's climbing momentum), one per line of code. */
  corrections: OptimizerStepCorrection[];
}


/** At most this many lines of the step are typeset (a hover's formulas are capped). */
const MAX_LINES = 4;

/** The recognized optimizer step one of whose state, parameter or bias-correction lines holds `offset` (or its line). */
export function optimizerStepAt(a: DocumentAnalysis, offset: number, findings: () => readonly Finding[]): { step: OptimizerStep; span: Span; named: boolean } | undefined {
  // A step an NB401–NB405 finding was reported on is an optimizer step with a mistake: its shape may
  // not be its family's, nor any family's (that is the mistake, or a variant the families do not
  // name, such as RAdam), so the hover shows it and the fix without a name.
  const flagged = (step: OptimizerStep): boolean =>
    findings().some((f) => /^NB40[1-5]$/.test(f.code) && inStep(step, { start: a.lines.offset(f.range.start), end: a.lines.offset(f.range.start) }));
  const line = a.lines.position(offset).line;
  const onLine = (s: Span): boolean => (s.start <= offset && offset <= s.end) || (a.lines.position(s.start).line <= line && line <= a.lines.position(s.end).line);
  for (const step of optimizerSteps(a.facts)) {
    const known = step.family !== undefined && OPTIMIZER_TEXTBOOK[step.family] !== undefined;
    // Its state and parameter writes, and where it writes its bias corrections (`m_hat = m / (1 - b1 ** t)`,
    // or hands a helper the β of one: `debias(v, b2, t)`).
    const spans = [...[...step.states.values()].flatMap((s) => s.eq.spans), ...step.params.flatMap((p) => p.eq.spans), ...step.corrections.flatMap((c) => (c.betaArgument ? [c.span, c.betaArgument] : [c.span])), ...[...(step.powers?.values() ?? [])].map((x) => x.span)];
    const hit = spans.find(onLine);
    if (!hit) continue;
    if (known && optimizerShape(step) === 'family') return { step, span: hit, named: true };
    // Whatever its shape, a step an NB40x rule reported on is one the rule read as an optimizer's.
    if (flagged(step)) return { step, span: hit, named: false };
  }
  return undefined;
}

/**
 * The hover names an algorithm only for a step with an optimizer's shape, since the recognizer also
 * reads other running statistics as steps (a batch-norm layer's running mean, a TD-learning table,
 * a loss accumulated in a loop): some state adds a gradient-shaped tensor (one variable, neither
 * state nor parameter: g, g², |g|) that is a gradient (the parameter's own `.grad`, an argument of
 * the step function, or, last, a name that reads as one in roles.ts), the parameter's own factor
 * reads no state, and each term of the parameter's step reads state. `family` when the step also
 * has its family's own shape (matchesFamily), `step` when it has only an optimizer's.
 */
function optimizerShape(step: OptimizerStep): 'family' | 'step' | undefined {
  const states = [...step.states.values()];
  const stateKeys = new Set(step.states.keys());
  const paramKeys = new Set(step.params.map((p) => p.eq.key));
  const grads = new Set(step.params.flatMap((p) => parameterGradientKeys(p.eq.key)));
  const args = new Set(step.fn.params.map((p) => p.name));
  const readsState = (p: Poly): boolean => atomsOf(p).some((a) => a.k === 'sym' && stateKeys.has(a.key));
  const isGradient = (key: string): boolean => !stateKeys.has(key) && !paramKeys.has(key) && (grads.has(key) || args.has(key) || isGradientSymbol(key));
  // One gradient factor (g, g², |g|), times scalars that are neither state nor parameter (`lr` of v = μv − lr·g).
  const gradientShaped = (x: Poly): boolean => {
    if (x.length !== 1) return false;
    const gradients = new Set<string>();
    for (const f of x[0].fs) {
      const a = f.atom.k === 'fn' && f.atom.fn === 'abs' && f.atom.args.length === 1 && f.atom.args[0].length === 1 && f.atom.args[0][0].fs.length === 1 ? f.atom.args[0][0].fs[0].atom : f.atom;
      if (a.k !== 'sym' || f.n < 1 || f.n > 2 || stateKeys.has(a.key) || paramKeys.has(a.key)) return false;
      if (isGradient(a.key)) gradients.add(a.key);
      else if (f.n !== 1 || f.atom !== a) return false;
    }
    return gradients.size === 1;
  };
  if (!states.some((s) => s.adds.some((a) => gradientShaped(a.x)))) return undefined;
  for (const p of step.params) {
    if (readsState(p.self)) return undefined;
    if (!p.step.every((m) => [...stateKeys].some((k) => mentions([m], k)))) return undefined;
  }
  return matchesFamily(step, states, gradientShaped) ? 'family' : 'step';
}

/**
 * The family's own shape, checked again before the hover names it: the recognizer picks the nearest
 * family of a step, and a name shown to the user must fit (an Adamax variant is not "SGD with
 * momentum"). Which states the step reads, what they add (g or g²), and where they sit.
 */
function matchesFamily(step: OptimizerStep, states: StateUpdate[], gradientShaped: (x: Poly) => boolean): boolean {
  const addsGradient = (s: StateUpdate, square: boolean): boolean =>
    s.adds.length === 1 && gradientShaped(s.adds[0].x) && s.adds[0].x[0].fs.some((f) => f.n === (square ? 2 : 1)) && (square ? s.adds[0].x[0].fs.every((f) => f.n === 2 || f.atom.k === 'sym') : true);
  const terms = step.params.flatMap((p) => stepTerms(step, p));
  const firstMoments = states.filter((s) => s.average && addsGradient(s, false) && !s.adds[0].x[0].fs.some((f) => f.n === 2));
  const secondMoments = states.filter((s) => s.average && addsGradient(s, true) && s.adds[0].x[0].fs.some((f) => f.n === 2));
  const overSqrt = (t: StepTerm, keys: StateUpdate[]): boolean => t.denominator.length >= 1 && t.denominator.every((d) => d.sqrt && keys.some((k) => k.eq.key === d.key));
  const numeratorIn = (t: StepTerm, keys: StateUpdate[]): boolean => t.numerator.length === 1 && t.numerator[0].n === 1 && keys.some((k) => k.eq.key === t.numerator[0].key);
  switch (step.family) {
    case 'SGD with momentum':
      return terms.length > 0 && terms.every((t) => numeratorIn(t, states) && t.denominator.length === 0 && t.corrections.length === 0 && t.mono.fs.every((f) => f.atom.k === 'sym' && f.n > 0)) && states.every((s) => s.adds.some((a) => gradientShaped(a.x)));
    case 'Adam':
    case 'AdamW':
      return states.length === 2 && firstMoments.length === 1 && secondMoments.length === 1 && terms.length > 0 && terms.every((t) => numeratorIn(t, firstMoments) && overSqrt(t, secondMoments));
    case 'RMSprop':
      return states.length === 1 && secondMoments.length === 1 && terms.every((t) => t.numerator.length === 0 && overSqrt(t, secondMoments));
    case 'AdaGrad':
      return states.length === 1 && !!states[0].self && polyEquals(states[0].self, constant(1)) && addsGradient(states[0], true) && terms.every((t) => t.numerator.length === 0 && overSqrt(t, states));
    case 'RMSprop with momentum': {
      const buffers = states.filter((s) => s !== secondMoments[0]);
      return states.length === 2 && secondMoments.length === 1 && buffers.length === 1 && terms.every((t) => numeratorIn(t, buffers) && t.denominator.length === 0);
    }
    case 'Lion':
      // One momentum, and the sign of what it interpolates (sign(β₁m + (1 − β₁)g)), not of the raw gradient.
      return states.length === 1 && firstMoments.length === 1 && terms.length > 0 && terms.every((t) => t.denominator.length === 0 && t.mono.fs.some((f) => f.atom.k === 'fn' && f.atom.fn === 'sign' && f.atom.args.some((x) => mentions(x, firstMoments[0].eq.key))));
    case 'AMSGrad':
    case 'Adamax':
      return firstMoments.length === 1 && states.some((s) => s.max);
    case 'AdaDelta': {
      // One g² average under the √ of the denominator, and a √(D + ε) over a kept D whose update reads
      // the step itself (through the g² average it divides by), not the parameter (θ², NB403's mistake).
      // D's update reads D inside the squared step too, so it is no linear average: its value is read.
      const kept = [...states, ...(step.laterStates?.values() ?? [])];
      const params = step.params.map((p) => p.eq.key);
      const rootOf = (t: StepTerm): StateUpdate[] =>
        kept.filter((d) => t.mono.fs.some((f) => f.n > 0 && f.atom.k === 'fn' && f.atom.fn === 'sqrt' && f.atom.args.some((x) => mentions(x, d.eq.key))));
      return (
        secondMoments.length === 1 &&
        terms.length > 0 &&
        terms.every((t) => {
          const roots = rootOf(t);
          const d = roots.length === 1 ? roots[0].eq.value : undefined;
          return t.numerator.length === 0 && overSqrt(t, secondMoments) && !!d && mentions(d, secondMoments[0].eq.key) && !params.some((k) => mentions(d, k));
        })
      );
    }
    case 'RMSprop (centred)':
      return states.length === 3 && secondMoments.length === 1 && firstMoments.length >= 1;
    default:
      return false;
  }
}

export function optimizerStepSection(a: DocumentAnalysis, step: OptimizerStep, named: boolean, findings: readonly Finding[]): OptimizerStepSection {
  const family = named ? step.family : undefined;
  const book = family ? OPTIMIZER_TEXTBOOK[family] : undefined;
  // One symbol per key, as the other hovers name them (η = `lr`, W = `weights`), with a legend;
  // states keep their own names.
  const symbols = new SymbolTable();
  const paramKeys = new Set(step.params.map((p) => p.eq.key));
  // A state's β keeps its own name too: `decay` of `v = decay * v + …` is not a weight decay λ.
  const ownNames = new Set<string>([...step.states.keys()]);
  for (const s of step.states.values()) if (s.beta) ownNames.add(s.beta);
  const name = (key: string): PolyText => {
    // A running power's exponent (βᵗ kept as `self.b1_t *= beta1`) is the step count, written nowhere.
    if (powerOfExponent(key) !== undefined) return symbols.virtual(key, { tex: 't', unicode: 't' });
    if (paramKeys.has(key)) {
      const sym = symbols.param(key);
      symbols.note(sym, key);
      return sym;
    }
    // A value read into a local prints as that local (`beta1 = group['betas'][0]`).
    const code = localNameIn(step, key) ?? key;
    const sym = symbols.scalar(code, ownNames.has(key));
    symbols.note(sym, code);
    return sym;
  };
  const lines: OptimizerStepLine[] = [];
  const states = [...step.states.values()].sort((x, y) => x.eq.order - y.eq.order);
  for (const s of states) lines.push({ target: a.facts.source(s.eq.target.span), role: 'state', ...relation(name(s.eq.key), stateValue(s, name)) });
  for (const p of step.params) {
    const target = name(p.eq.key);
    lines.push({ target: a.facts.source(p.eq.target.span), role: 'parameter', ...relation(target, parameterValue(target, p.self, p.step, name)) });
  }
  const corrections: OptimizerStepCorrection[] = stepCorrections(a, step, findings, name);
  return {
    ...(family ? { family } : {}),
    title: `${family ?? 'Optimizer step'} (hand-written)`,
    lines: lines.slice(0, MAX_LINES),
    legend: symbols.legend,
    ...(book ? { textbook: { tex: [...book.tex], unicode: [...book.unicode], source: book.source } } : {}),
    corrections,
  };
}
