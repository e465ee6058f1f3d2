// The mistakes of hand-written optimizer steps (NB401–NB405), read off their normal form
// (optimizerSteps.ts). Each check compares the step with the math of its family, by data flow:
// which state sits in which denominator, which β weights which state, where the step count is
// incremented. Rules only report what this finds.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { ownStatements, programIndex, spanKey, walkAll } from './program';
import { atomsOf, constant, mentions, near, polyEquals, sub, substitute, sym, type Atom, type Mono, type Poly, type PolyFactor } from '../../math/poly';
import { oldValueReadOnce, subtractsOldAndAdds, writtenAsArithmetic, assignedFrom, entryOfMapSet, mapEntryWrite, betaKeyOf, correctionOf, EPSILON_BOUND, epsilonValues, boundedTerms, correctionSite, groupByTensor, linearSymbol, numericBetaKey, optimizerSteps, powerOfExponent, proportional, splitSelf, squaredBase, stepTerms, stringKey, type OptimizerStep, type ParamUpdate, type StateUpdate, type StepTerm } from './optimizerSteps';
import { CONSTRUCTOR_METHODS, entryReadByGet, isDictConstructor, isNoneLiteral, isShapedLikeCall, parameterGradientKeys, zeroValue } from './catalogue';
import { startValue } from './unstoredState';
import { decaySymbolSaysL2, isDecayStrengthSymbol, isLearningRateSymbol, mayNameLearningRate, saysDecoupledDecay } from './roles';
import { explicitParams, namesIn, someExpr, type FunctionDef } from './scope';
import { formatNumber } from '../../math/print/format';
import { add, div as divPoly, mul as mulPoly, numeric, pow, scale } from '../../math/poly';
import { biasCorrected, decayMoved, descending, learningRateApplied, learningRateOnce, poweredBy, rootDivided, withoutFactor, rooted, squared, stepCount, unweighted, type CorrectedLine } from './optimizerCorrected';
import { localNameIn, stepLocals } from './optimizerLocals';
import { docstring } from './decayIntent';
import { halfCorrection } from './halfCorrected';
import { countsInsideParameterLoops, countsOutsideLoops, loopsAround, pickedBy, powersRestartedPerCall, type StepCalls } from './stepCountLoops';
import { trainingFacts, within } from './loops';
import { autodiffCall } from './autodiff';
import { learningRateAppliedByCallers } from './callerScaledSteps';
import { baseClasses, isSelfName, resolveCall } from './resolve';
import { carriedRawSteps, type CarriedRawStep } from './rawStepMomentum';
import { selfBlends, type SelfBlend } from './selfBlend';
import { sharedBetaArguments, type SharedBetaArgument } from './sharedBetaArgument';
import { assignedSteps, type AssignedStep } from './assignedSteps';
import { innermostStatement } from './adaptiveDecay';
import { baseExpr, exprKey } from './keys';
import { sharedMomentCalls, type SharedMomentCall } from './sharedMomentCalls';
import { returnedPowers, type ReturnedPower } from './returnedPowers';
import { rawStepMomentumForms, squaredWeightAverageForms } from '../findingForms';
import { squaredWeightAverages } from './squaredWeightAverage';
import { halfPowerFindings, type HalfPowerFinding } from './halfPowers';
import { countResetByStep } from './resetCount';
import { countNeverAdvanced } from './countNeverAdvanced';
import type { FindingForms } from '../types';

export interface OptimizerFinding {
  code: 'NB401' | 'NB402' | 'NB403' | 'NB404' | 'NB405';
  span: Span;
  message: string;
  severity?: 'error' | 'warning';
  related?: { span: Span; message: string }[];
  /** What the flagged code should compute, for the hover and the panel: one line or more, over the step's keys (optimizerCorrected.ts). */
  corrected?: CorrectedLine[];
  /** The finding's math for its hover when it belongs to no recognized optimizer step (a momentum that stores the raw step). */
  forms?: FindingForms;
  /** An edit that writes what was meant (`x ** 0.5` for `x ** 1/2`). */
  fix?: HalfPowerFinding['fix'];
}

const cache = new WeakMap<Facts, OptimizerFinding[]>();

export function optimizerFindings(facts: Facts): OptimizerFinding[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const seen = new Set<string>();
  const push = (f: OptimizerFinding): void => {
    const key = `${f.code}|${spanKey(f.span)}`;
    if (seen.has(key)) return;
    seen.add(key);
    found!.push(f);
  };
  for (const full of optimizerSteps(facts)) {
    // A step scaled by a state over itself plus ε (EXAdam's 1 + v/(v + ε)·β₂ᵗ) writes βᵗ and 1 − βᵗ on purpose: no family the checks know.
    if (full.params.some((p) => selfRatio(p.step, full.states, 0))) continue;
    // Equations written in branches that may exclude each other are not checked.
    const step: OptimizerStep = { ...full, states: new Map([...full.states].filter(([, s]) => !s.eq.branched)), params: full.params.filter((p) => !p.eq.branched) };
    for (const h of halfPowerFindings(facts, step)) push({ code: h.code, span: h.span, message: h.message, ...(h.related ? { related: h.related } : {}), fix: h.fix });
    biasCorrection(facts, step, push, full);
    halfCorrection(facts, step, push);
    secondMoment(facts, step, push);
    averages(facts, step, push);
    weightSquareAveraged(facts, step, push);
    learningRate(facts, step, push);
    // Read per write, under each write's own condition: a parameter written in branches is still checked here.
    steppedTwice(facts, full, push);
    decayOnMoments(facts, step, push);
  }
  for (const carried of carriedRawSteps(facts)) rawStepStored(facts, carried, push);
  for (const blend of selfBlends(facts)) blendOfItself(facts, blend, push);
  for (const wired of sharedBetaArguments(facts, optimizerSteps(facts))) sharedBetaStored(facts, wired, push);
  for (const assigned of assignedSteps(facts)) stepAssigned(facts, assigned, push);
  for (const late of returnedPowers(facts)) lateReturnedPower(facts, late, push);
  for (const shared of sharedMomentCalls(facts)) sharedThroughCall(facts, shared, push);
  cache.set(facts, found);
  return found;
}

/**
 * A key as the code names it: the local it was read into (`beta1` of `beta1, beta2 =
 * group['betas']`, optimizerLocals.ts), else the key as written (`group["betas"][0]` →
 * `group['betas'][0]` in Python).
 */
function show(facts: Facts, step: OptimizerStep, key: string): string {
  const local = localNameIn(step, key);
  if (local !== undefined) return local;
  return facts.language === 'python' ? key.replace(/"/g, "'") : key;
}

/** A state as the code reads it: a JS Map's entry written by `map.set(k, …)` is named by its read, `map.get(k)`. */
const stateText = (facts: Facts, s: StateUpdate): string => {
  const entry = entryOfMapSet(s.eq.target);
  return entry ? `${facts.source(entry.map.span)}.get(${facts.source(entry.key.span)})` : facts.source(s.eq.target.span);
};
/** `T = value` in the code's own form: `map.set(k, value)` for a JS Map's entry. */
const assignText = (facts: Facts, s: StateUpdate, value: string): string => {
  const entry = entryOfMapSet(s.eq.target);
  return entry ? `${facts.source(entry.map.span)}.set(${facts.source(entry.key.span)}, ${value})` : `${facts.source(s.eq.target.span)} = ${value}`;
};

function averageWithBeta(step: OptimizerStep, beta: string): StateUpdate | undefined {
  return [...step.states.values()].find((s) => s.average && betaKeyOf(s) === beta);
}

// ------------------------------------------------------------------ NB401

function biasCorrection(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void, full: OptimizerStep = step): void {
  // One finding per count that nothing advances (countNeverAdvanced.ts), at its first correction.
  const reportedNever = new Map<OptimizerStep, Set<string>>();
  invertedCorrection(facts, step, push);
  previousMoment(facts, step, push);
  selfMultipliedPower(facts, step, push);
  countPerEpoch(facts, step, push);
  // Where a count advances needs only where each parameter is written, not its composed value: a parameter
  // written in branches that exclude each other (`if kind == "gd": w = … ` / `if kind == "adam": w = …`) counts.
  countPerParameter(facts, full, push);
  correctedStateStored(facts, step, push);
  firstSampleStart(facts, step, push);
  powerRestartedPerCall(facts, step, push);
  expandedCountBehind(facts, step, push);
  for (const p of step.params) {
    for (const term of stepTerms(step, p)) {
      for (const c of term.corrections) {
        // The correction this parameter's step reads: the nearest one written before its update
        // (a step that updates a bias row and then the weight rows writes each constant twice).
        const site = correctionSite(step, c.key, p.eq.order);
        if (!site) continue;
        const inTerm = [...term.numerator, ...term.denominator].map((x) => step.states.get(x.key)).find((s) => s?.average && betaKeyOf(s) === c.beta);
        // A number's 1 − β corrects only an average of the term it divides (`m / (1 - 0.9)`).
        const owner = inTerm ?? (numericBetaKey(Number(c.beta)) === c.beta ? undefined : averageWithBeta(step, c.beta));
        const divides = (!c.inDenominator && c.power < 0) || (c.inDenominator && c.power > 0);
        // 1 − β with no step count: a constant, not a bias correction.
        if (c.exp === undefined && owner) {
          const b = show(facts, step, c.beta);
          const decayed = decayedInPlace(facts, step, c.beta);
          if (decayed) {
            const averaged = [...step.states.values()].filter((x) => x.average && betaKeyOf(x) === c.beta);
            const fn = decayed.fn ? ` in ${decayed.fn}` : '';
            push({
              code: 'NB401',
              span: site.span,
              message: `${b} is multiplied by ${decayed.factor}${fn}, so after e calls it holds its first value to the power ${decayed.factor === b ? '2 ** e' : 'e + 1'}, a power meant for the bias correction, yet it also weights the moving average${averaged.length > 1 ? "s" : ""} ${averaged.map((x) => stateText(facts, x)).join(", ")}: ${averaged.length > 1 ? "the averages forget" : "the average forgets"} faster after every call (${decayed.factor === b ? 'a β of 0.9 is 0.43 after three calls' : 'a β of 0.9 is 0.31 after ten calls'}), and the correction ${facts.source(site.span)} counts those calls, not the steps. Keep ${b} fixed for the averages, count the steps, and correct with 1 - ${b} ** t`,
              related: [{ span: decayed.span, message: `${b} is multiplied by ${decayed.factor} here` }, ...averaged.slice(0, 2).map((x) => ({ span: x.eq.spans[0], message: `${stateText(facts, x)} is averaged with ${b} here` }))],
              corrected: biasCorrected(owner.eq.key, c.beta, stepCount(step)),
            });
            continue;
          }
          push({
            code: 'NB401',
            span: site.span,
            message: `the bias correction ${facts.source(site.span)} of ${stateText(facts, owner)} is missing the step count${site.fixedPower ? `: its exponent is the number ${site.fixedPower}, so` : ':'} it divides by the same constant every step, and the early steps stay biased toward 0. Write 1 - ${b} ** t, with t the number of steps taken (1 on the first step)`,
            corrected: biasCorrected(owner.eq.key, c.beta, stepCount(step)),
          });
          continue;
        }
        if (c.exp && !divides) {
          // A correction that multiplies (√(1 − β₂ᵗ) over the step) with the count one behind: the first update is 0.
          // Reported only when no dividing correction of the term reads the same count, which says more.
          const sameCount = (x: typeof c): boolean => x !== c && x.exp !== undefined && JSON.stringify(x.exp) === JSON.stringify(c.exp) && ((!x.inDenominator && x.power < 0) || (x.inDenominator && x.power > 0));
          if (!term.corrections.some(sameCount)) countBehind(facts, step, c, site, owner, p, push, true);
          continue;
        }
        if (!c.exp) continue;
        // 1 − βᵗ + ε is ε at t = 0, not 0: the division by zero below is not there.
        if (c.eps !== undefined) continue;
        // 1 − βᵗ with t = 0 on the first step: a division by zero.
        const t = c.exp.length === 1 && c.exp[0].c === 1 && c.exp[0].fs.length === 1 && c.exp[0].fs[0].n === 1 && c.exp[0].fs[0].atom.k === 'sym' ? c.exp[0].fs[0].atom.key : undefined;
        if (t === undefined) {
          countBehind(facts, step, c, site, owner, p, push);
          continue;
        }
        if (countReset(facts, step, t, site, owner, push)) continue;
        const incremented = step.counters.get(t);
        const inits = step.initial(t);
        const zeroCounter = incremented !== undefined && incremented > site.order && inits.length > 0 && inits.every((v) => v === 0) && !step.corrections.some((x) => x.key === c.key && x.order > incremented);
        const zeroLoop = incremented === undefined && (site.zeroLoops ?? []).includes(t);
        const power = powerOfExponent(t);
        if (incremented === undefined && !zeroLoop && power === undefined) {
          // A count advanced only by a method nothing in the project calls (countNeverAdvanced.ts).
          const never = reportedNever.has(step) && reportedNever.get(step)!.has(t) ? undefined : countNeverAdvanced(facts, step, t);
          if (never) {
            if (!reportedNever.has(step)) reportedNever.set(step, new Set());
            reportedNever.get(step)!.add(t);
            const tt = show(facts, step, t);
            const first = inits.length === 1 ? inits[0] : undefined;
            const by = never.advancers.map((f) => `${f.name}()`).join(' and ');
            const effect =
              first === 0
                ? `every step is corrected with ${tt} = 0: 1 - β⁰ = 0, and the correction divides by zero on every step`
                : `every step is corrected with the same ${first !== undefined ? `${tt} = ${formatNumber(first)}` : tt}, so ${facts.source(site.span)} is one constant and the correction never fades${first === 1 ? ' (with β₁ = 0.9 and β₂ = 0.999, m̂ = 10·m and v̂ = 1000·v for ever: once v has warmed up the steps are about 3 times too short)' : ''}`;
            if (never.advancers.length === 0) {
              push({
                code: 'NB401',
                span: site.span,
                ...(first === 0 ? { severity: 'error' as const } : {}),
                message: `${tt} is set only when the optimizer is constructed, and nothing in this project advances it (${step.fn.name}() reads it, no code writes it again): ${effect}. Count the steps: ${tt} += 1 in ${step.fn.name}() before the corrections`,
                related: never.sets.slice(0, 1).map((w) => ({ span: w, message: `${tt} gets its only value here` })),
              });
              continue;
            }
            push({
              code: 'NB401',
              span: site.span,
              ...(first === 0 ? { severity: 'error' as const } : {}),
              message: `${tt} is advanced only by ${by}, which nothing in this project calls, and ${step.fn.name}() never changes it: ${effect}. Count the steps in the step itself (${tt} += 1 before the corrections), or call ${by} once per step`,
              related: never.writes.slice(0, 2).map((w) => ({ span: w, message: `${tt} is advanced here, in a method no code of the project calls` })),
            });
            continue;
          }
        }
        if (zeroCounter && power !== undefined) {
          // A running power started at 1 and multiplied by β only after the correction reads it: 1 − β⁰.
          const pt = show(facts, step, power);
          push({
            code: 'NB401',
            span: site.span,
            severity: 'error',
            message: `${pt} starts at 1 and is multiplied by ${show(facts, step, c.beta)} only after ${facts.source(site.span)}, so the first bias correction is 1 - 1 = 0 and divides by zero: the first step is NaN. Multiply ${pt} by ${show(facts, step, c.beta)} before the correction, or start it at ${show(facts, step, c.beta)}`,
            related: [{ span: step.powers?.get(power)?.span ?? site.span, message: `${pt} is multiplied by ${show(facts, step, c.beta)} here` }],
            ...(owner ? { corrected: biasCorrected(owner.eq.key, c.beta, stepCount(step)) } : {}),
          });
          continue;
        }
        if (zeroCounter || zeroLoop) {
          const tt = show(facts, step, t);
          push({
            code: 'NB401',
            span: site.span,
            severity: 'error',
            message: zeroLoop
              ? `${tt} is 0 on the first iteration, so ${facts.source(site.span)} is 0 and the bias correction divides by zero: the first step is NaN. Count steps from 1 (range(1, n + 1), or ${tt} + 1 in the exponent)`
              : step.frameworkCounters?.has(t)
                ? frameworkZeroMessage(tt, facts.source(site.span))
                : `${tt} starts at 0 and is incremented only after ${facts.source(site.span)}, so the first bias correction divides by zero and the first step is NaN. Increment ${tt} before the correction (${tt} += 1 first)`,
            // The count of the step being taken, t + 1 where the code still holds t.
            ...(owner ? { corrected: biasCorrected(owner.eq.key, c.beta, add(sym(t), constant(1))) } : {}),
          });
        }
      }
      correctedTwice(facts, step, p, term, push);
      // The wrong β: a state corrected by another state's 1 − βᵗ.
      const outerDividing = term.corrections.filter((c) => c.exp && !c.inDenominator && c.power < 0);
      for (const n of term.numerator) {
        const s = step.states.get(n.key);
        if (!s || !betaKeyOf(s)) continue;
        wrongBeta(facts, step, s, outerDividing, push);
      }
      for (const d of term.denominator) {
        if (!d.sqrt) continue;
        const s = step.states.get(d.key);
        if (!s || !betaKeyOf(s)) continue;
        const own = term.corrections.filter((c) => c.exp && ((c.inDenominator && c.power > 0) || (!c.inDenominator && c.power > 0)));
        wrongBeta(facts, step, s, own, push);
      }
    }
  }
}

/** A monomial of `p` (or of a root or reciprocal inside it) multiplies a state S by 1/(S + …): S/(S + ε). */
function selfRatio(p: Poly, states: Map<string, StateUpdate>, depth: number): boolean {
  if (depth > 4) return false;
  for (const m of p) {
    const own = m.fs.filter((f) => f.n > 0 && f.atom.k === 'sym' && states.has(f.atom.key)).map((f) => (f.atom as { key: string }).key);
    for (const f of m.fs) {
      if (f.atom.k === 'inv') {
        const arg = f.atom.arg;
        if (arg.length > 1 && own.some((k) => mentions(arg, k))) return true;
        if (selfRatio(arg, states, depth + 1)) return true;
      } else if (f.atom.k === 'fn' && f.atom.args.some((a) => selfRatio(a, states, depth + 1))) return true;
    }
  }
  return false;
}

/**
 * Whether `span` runs only under an `if` whose test says the step count `t` is past its first step
 * (`t > 1`, `t >= 2`, `t != 1`, `1 < t`), read off the IR by the count's key.
 */
function pastFirstStep(facts: Facts, span: Span, t: string): boolean {
  let found = false;
  const past = (h: Expr): boolean => {
    if (h.kind !== 'other' || h.ops?.length !== 1 || h.children.length !== 2) return false;
    const [l, r] = h.children;
    const op = h.ops[0];
    const num = (x: Expr): number | undefined => (x.kind === 'num' ? x.value : undefined);
    if (exprKey(l) === t && num(r) !== undefined) return (op === '>' && num(r)! >= 1) || (op === '>=' && num(r)! >= 2) || ((op === '!=' || op === '!==') && num(r) === 1);
    if (exprKey(r) === t && num(l) !== undefined) return (op === '<' && num(l)! >= 1) || (op === '<=' && num(l)! >= 2);
    return false;
  };
  const visit = (body: Stmt[], depth: number): void => {
    if (depth > 60 || found) return;
    for (const st of body) {
      if (st.span.start > span.start || st.span.end < span.end) continue;
      if (st.kind === 'block' && st.label === 'if' && st.heads.length === 1 && past(st.heads[0])) found = true;
      if (st.kind === 'function' || st.kind === 'class' || st.kind === 'for' || st.kind === 'block') visit(st.body, depth + 1);
    }
  };
  visit(facts.module.body, 0);
  return found;
}

/**
 * A correction read with a count copied before its increment that multiplies the update to the power
 * one, so the normal form spreads it over the step's terms and no term carries it (`(1 - b2 ** t) ** 1/2`,
 * which is (1 − β₂ᵗ)/2): β^(T − 1) is then a factor of the update's monomials. Reported when a
 * parameter's step has that power as a factor of positive power only (never divided by it), and no
 * term carries a correction with the same exponent (those the term-by-term reading reports).
 */
function expandedCountBehind(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  if (!step.countCopies) return;
  const carried = new Set(step.params.flatMap((p) => stepTerms(step, p).flatMap((t) => t.corrections.map((c) => c.key))));
  const done = new Set<string>();
  for (const c of step.corrections) {
    if (!c.exp || carried.has(c.key) || done.has(c.key)) continue;
    const counter = c.exp.find((m) => m.fs.length === 1 && m.c === 1 && m.fs[0].n === 1 && m.fs[0].atom.k === 'sym');
    const t = counter?.fs[0].atom.k === 'sym' ? counter.fs[0].atom.key : undefined;
    if (t === undefined || !step.countCopies.has(t)) continue;
    const factorOf = (f: PolyFactor): boolean => f.atom.k === 'pow' && polyEquals(f.atom.exp, c.exp!) && f.atom.base.length === 1 && f.atom.base[0].fs.length === 1 && f.atom.base[0].fs[0].atom.k === 'sym' && f.atom.base[0].fs[0].atom.key === c.beta;
    for (const p of step.params) {
      const multiplied = p.step.some((m) => m.fs.some((f) => factorOf(f) && f.n > 0));
      const divided = p.step.some((m) => m.fs.some((f) => (factorOf(f) && f.n < 0) || (f.atom.k !== 'pow' && atomsOf([{ c: 1, fs: [f] }]).some((a) => a.k === 'pow' && polyEquals(a.exp, c.exp!)))));
      if (!multiplied || divided) continue;
      const site = correctionSite(step, c.key, p.eq.order);
      if (!site) continue;
      done.add(c.key);
      countBehind(facts, step, c, site, undefined, p, push, true, true);
      break;
    }
  }
}

/**
 * 1 − βᵗ with t a count the step sets back to 0 after reading it (resetCount.ts): what t counts
 * between two steps (the samples of a batch), not the steps, so the correction is about the same
 * constant on every step and the early steps are not corrected.
 */
function countReset(facts: Facts, step: OptimizerStep, t: string, site: ReturnType<typeof correctionSite> & object, owner: StateUpdate | undefined, push: (f: OptimizerFinding) => void): boolean {
  const found = countResetByStep(facts, step, t, site);
  if (!found) return false;
  const tt = show(facts, step, t);
  const written = facts.source(site.span);
  const where = found.increments.find((i) => i.fn)?.fn;
  const related = [{ span: found.reset.span, message: `${t} is set back to 0 here, on every step` }, ...found.increments.slice(0, 2).map((i) => ({ span: i.span, message: `${t} is advanced here${i.fn ? `, in ${i.fn}()` : ''}` }))];
  push({
    code: 'NB401',
    span: site.span,
    message: `the exponent of ${written} is ${tt === t ? t : `${tt} (${t})`}, which ${step.fn.name}() sets back to 0 after every step${where ? ` and ${where}() advances in between` : ''}: it counts what happens between two steps, not the steps taken, so the bias correction is about the same constant on every step and the early steps are not corrected. Count the steps in a value the step increments and never resets (t += 1 before the correction), and correct with 1 - ${show(facts, step, site.beta)} ** t`,
    related,
    ...(owner ? { corrected: biasCorrected(owner.eq.key, site.beta, sym('t')) } : {}),
  });
  return true;
}

/**
 * 1 − β^(T − 1) with T a step count started at 0 and incremented before the correction: 1 − β⁰ = 0 on
 * the first step. Mostly a local that copied T before its increment (`t = self.t`, then `self.t += 1`,
 * then `1 - b1 ** t`: the evaluator reads the copy as T − 1), where every later correction lags a step too.
 */
function countBehind(facts: Facts, step: OptimizerStep, c: Omit<StepTerm['corrections'][number], 'power' | 'inDenominator'> & Partial<Pick<StepTerm['corrections'][number], 'power' | 'inDenominator'>>, site: ReturnType<typeof correctionSite> & object, owner: StateUpdate | undefined, p: ParamUpdate | undefined, push: (f: OptimizerFinding) => void, multiplies = false, expanded = false): void {
  const exp = c.exp;
  if (!exp || exp.length !== 2 || c.eps !== undefined) return;
  const power = c.power ?? 0;
  const divides = expanded || (multiplies ? (!c.inDenominator && power > 0) || (c.inDenominator && power < 0) : (!c.inDenominator && power < 0) || (c.inDenominator && power > 0));
  const counter = exp.find((m) => m.fs.length === 1 && m.c === 1 && m.fs[0].n === 1 && m.fs[0].atom.k === 'sym');
  const one = exp.find((m) => m.fs.length === 0 && m.c === -1);
  const t = counter?.fs[0].atom.k === 'sym' ? counter.fs[0].atom.key : undefined;
  if (!divides || !one || t === undefined || powerOfExponent(t) !== undefined || step.frameworkCounters?.has(t)) return;
  const incremented = step.counters.get(t);
  const inits = step.initial(t);
  if (incremented === undefined || incremented > site.order || inits.length === 0 || !inits.every((v) => v === 0)) return;
  // `if group['step'] > 1: p.addcdiv_(…, de_nom)`: the update that reads the lagging correction skips the first step.
  const reading = p ? p.eq.spans.filter((_, i) => { const w = p.eq.writes?.[i]; return w !== undefined && atomsOf(w).some((a) => correctionOf(a, step.epsilon)?.key === c.key); }) : [];
  if (reading.length > 0 && reading.every((span) => pastFirstStep(facts, span, t))) return;
  const tt = show(facts, step, t);
  const copy = step.countCopies?.get(t);
  const written = facts.source(site.span);
  const related: { span: Span; message: string }[] = [];
  if (copy?.copied) related.push({ span: copy.copied, message: `${copy.local} copies ${t} here, before the increment` });
  const at = step.counterSpans?.get(t);
  if (at) related.push({ span: at, message: `${t} is incremented here` });
  push({
    code: 'NB401',
    span: site.span,
    ...(multiplies ? {} : { severity: 'error' as const }),
    message: multiplies
      ? `${copy ? `${copy.local} is copied from ${t} before ${t} is incremented, so ${written} reads the count of the previous step` : `the exponent of ${written} is ${tt} - 1, the count of the previous step`}: 0 on the first step, where the correction is 1 - 1 = 0 and multiplies the update, so the first update is zero, and one step behind on every later step. ${copy ? `Copy the count after incrementing it (${t} += 1 first, then ${copy.local} = ${t})` : `Use ${tt} itself as the exponent`}`
      : copy
      ? `${copy.local} is copied from ${t} before ${t} is incremented, so ${written} reads the count of the previous step: 0 on the first step, where the bias correction is 1 - 1 = 0 and divides by zero (the first step is NaN), and one step behind on every later step. Copy the count after incrementing it (${t} += 1 first, then ${copy.local} = ${t})`
      : `the exponent of ${written} is ${tt} - 1, and ${tt} is 1 on the first step (it starts at 0 and is incremented before the correction), so the first bias correction is 1 - 1 = 0 and divides by zero: the first step is NaN. Use ${tt} itself as the exponent`,
    ...(related.length > 0 ? { related } : {}),
    ...(owner ? { corrected: biasCorrected(owner.eq.key, c.beta, sym(t)) } : {}),
  });
}

/**
 * A step count the bias corrections read, incremented once per pass of an outer loop (an epoch)
 * while the moments and weights are updated on every iteration of an inner one (a batch): the
 * correction 1/(1 − βᵗ) keeps its epoch's value for all of the epoch's updates. The first epoch
 * over-corrects moments that warm up within it (steps too long); afterwards the count is the number
 * of epochs, not of updates, so the second moment's correction stays far above 1 for hundreds of
 * epochs (steps several times too short).
 */
function countPerEpoch(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  const head = (s: Span): string => {
    const text = facts.source(s).split('\n')[0].trim();
    return text.replace(/\s*[:{]\s*$/, '');
  };
  for (const found of countsOutsideLoops(step, (s) => facts.source(s), stepCalls(facts))) {
    // The moments are updated in the same loop as the weights (or in the step that loop calls).
    const moments = [...step.states.values()].filter((s) => s.average && s.beta !== undefined && (found.through !== undefined || s.eq.spans.some((x) => x.start >= found.loop.span.start && x.end <= found.loop.span.end)));
    if (moments.length === 0) continue;
    const t = show(facts, step, found.counter);
    const inner = head(found.loop.span);
    const updated = [...new Set([...moments.map((m) => stateText(facts, m)), ...step.params.map((p) => facts.source(p.eq.target.span))])].join(', ');
    const [pass, per, unit] = found.outer ? [`once per pass of \`${head(found.outer.span)}\``, 'once per epoch', 'epochs'] : [`once per call of ${(found.driver ?? step.fn).name}`, 'once per call', 'calls'];
    push({
      code: 'NB401',
      span: found.increment,
      message: `${t} is incremented ${pass}, but ${updated} are updated on every iteration of \`${inner}\` inside it${found.through ? ` (by \`${facts.source(found.through)}\`)` : ''}: the count moves ${per} while the moments move once per batch, so the bias correction ${facts.source(found.correction)} keeps one value for all the updates in between. The first updates are over-corrected (steps too long), and later ones stay corrected as if the moments were still warming up (steps several times too short, for as many ${unit} as the count should have counted updates). Increment ${t} with every update, inside \`${inner}\``,
      related: [{ span: { start: found.loop.span.start, end: found.loop.span.start + facts.source(found.loop.span).split('\n')[0].trimEnd().length }, message: `the moments and weights are updated on every iteration of this loop` }],
    });
  }
}

/** The methods a step's calls run and the callers of a step, as the program shows them (stepCountLoops.ts). */
function stepCalls(facts: Facts): StepCalls {
  const index = programIndex(facts);
  return {
    methodOf: (call) => resolveCall(facts.program, call, index.scopeAt(call.span.start), call.span.start)?.fn,
    callers: (fn) => index.callsTo(fn).flatMap((site) => {
      const driver = index.enclosingFunction(site.scope);
      return driver ? [{ call: site.call, fn: driver }] : [];
    }),
    baseCallers: (fn) => {
      if (!fn.cls || !fn.isMethod) return [];
      const out: { call: Expr & { kind: 'call' }; fn: FunctionDef }[] = [];
      for (const base of baseClasses(facts.program, fn.cls)) {
        const parsed = facts.program.parsedOf(base.span);
        if (!parsed) continue;
        const baseIndex = programIndex(facts.program.facts(parsed));
        for (const site of baseIndex.callsNamed(fn.name)) {
          const callee = site.call.callee;
          if (callee.kind !== 'attr' || callee.object.kind !== 'name' || !isSelfName(callee.object.name)) continue;
          const driver = baseIndex.enclosingFunction(site.scope);
          if (driver?.cls === base && driver !== fn) out.push({ call: site.call, fn: driver });
        }
      }
      return out;
    },
    projectCallers: (fn) => {
      if (!fn.cls || !fn.isMethod) return [];
      const home = facts.program.parsedOf(fn.span);
      if (!home) return [];
      const bases = new Set(baseClasses(facts.program, fn.cls));
      const out: { call: Expr & { kind: 'call' }; fn: FunctionDef }[] = [];
      for (const parsed of facts.program.filesMentioning(home.file, new RegExp(`(?<![\\w$])${fn.name.replace(/[$]/g, '\\$')}(?![\\w$])`))) {
        if (parsed.file.id === home.file.id) continue;
        // The caller's module reaches the method's (it imports it, or a package that does).
        if (!facts.program.reachable(parsed, 50).some((p) => p.file.id === home.file.id)) continue;
        const other = facts.program.facts(parsed);
        const otherIndex = programIndex(other);
        for (const site of otherIndex.callsNamed(fn.name)) {
          const callee = site.call.callee;
          if (callee.kind !== 'attr' || (callee.object.kind === 'name' && isSelfName(callee.object.name))) continue;
          const target = resolveCall(facts.program, site.call, otherIndex.scopeAt(site.call.span.start), site.call.span.start)?.fn;
          if (target && target !== fn && !(target.name === fn.name && target.cls && bases.has(target.cls))) continue;
          const driver = otherIndex.enclosingFunction(site.scope);
          if (driver) out.push({ call: site.call, fn: driver });
        }
      }
      return out;
    },
  };
}

/**
 * A moment stored bias-corrected: the state's new value, T ← (β·T + (1 − β)·X) / (1 − βᵗ), divides
 * every term by its own β's correction. The next step averages from the corrected value and divides
 * again, so the corrections compound: with β = 0.9 and a constant gradient the stored value is 5.3
 * times the gradient at t = 2 and 47 times at t = 4, and keeps growing until βᵗ < 1 − β.
 */
function correctedStateStored(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const s of step.states.values()) {
    const value = s.eq.value;
    if (!mentions(value, s.eq.key)) continue;
    // The one correction every term divides by.
    let key: string | undefined;
    let beta: string | undefined;
    let exp: Poly | undefined;
    const divided = value.every((m) =>
      m.fs.some((f) => {
        const c = correctionOf(f.atom, step.epsilon);
        if (!c || c.shape.exp === undefined || c.power * f.n >= 0 || (key !== undefined && c.key !== key)) return false;
        key = c.key;
        beta = c.shape.beta;
        exp = c.shape.exp;
        return true;
      }),
    );
    if (!divided || beta === undefined || !atomsOf(value).some((a) => a.k === 'sym' && a.key === beta)) continue;
    // A step size kept on the instance and rescaled from itself (`self.alpha *= √(1 − β₂ᵗ) / (1 − β₁ᵗ)`):
    // every step multiplies the next one's rate by its correction again.
    if (value.length === 1 && /^(?:self|this)\.[\w$]+$/.test(s.eq.key) && value[0].fs.some((f) => f.atom.k === 'sym' && f.atom.key === s.eq.key && f.n === 1)) {
      const site = correctionSite(step, key!);
      const written = site ? facts.source(site.span) : `1 - ${show(facts, step, beta)} ** t`;
      const t = stateText(facts, s);
      push({
        code: 'NB401',
        span: s.eq.spans[s.eq.spans.length - 1],
        message: `${t} is rescaled by the bias correction (divided by ${written}) and stored, on every step: each step's rate carries every earlier step's correction too, so the corrections compound instead of fading (after t steps ${t} holds the product of all of them). Keep ${t} as it is and correct a local copy each step: lr_t = ${t} * … / (${written})`,
      });
      continue;
    }
    // A moving average (its old value and a new term), not a step size rescaled by the correction (`lr_t = lr_t * √(1 − β₂ᵗ) / (1 − β₁ᵗ)`).
    if (value.length < 2 || value.every((m) => !m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === s.eq.key)) || value.every((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === s.eq.key))) continue;
    const t = stateText(facts, s);
    const b = show(facts, step, beta);
    const site = correctionSite(step, key!);
    const written = site ? facts.source(site.span) : `1 - ${b} ** t`;
    // The β's value: the one number the file gives it, or the usual one for the moment it weights
    // (β₁ = 0.9 for an average of g, β₂ = 0.999 for an average of g²); the number alone when neither is known.
    const moment = momentOf(s, beta);
    const { value: bv, given } = betaOrUsual(step, beta, moment === 'second');
    // Only a number the file gives is stated as the code's value; the usual one is said to be taken.
    const withBeta = given ? `with ${b} = ${formatNumber(bv)}` : moment !== undefined ? `with ${b} taken as the usual ${formatNumber(bv)}` : `with a β of ${formatNumber(bv)}`;
    const of = moment === 'second' ? 'the squared gradient' : 'the gradient';
    push({
      code: 'NB401',
      span: s.eq.spans[s.eq.spans.length - 1],
      // The hover's corrected line: the raw average kept, a corrected copy for the step.
      ...(exp ? { corrected: biasCorrected(s.eq.key, beta, exp) } : {}),
      message: `${t} is stored bias-corrected: its new value is divided by its correction ${written}, so the next step averages from the corrected value and divides again, and the corrections compound (${withBeta} and a constant gradient the stored value is ${timesText(compounded(bv, 2))} ${of} at t = 2 and ${timesText(compounded(bv, 4))} at t = 4). Keep the raw average in ${t} and correct a copy: ${moment === 'second' ? 'v_hat' : 'm_hat'} = ${t} / (${written})`,
    });
  }
}

/** Which moment a state averages, by the one tensor it adds: g (the first) or g² (the second); undefined for anything else. */
function momentOf(s: StateUpdate, beta: string): 'first' | 'second' | undefined {
  if (s.adds.length !== 1 || s.adds[0].x.length !== 1) return undefined;
  // The tensor part without the correction it is stored with (g/(1 − βᵗ)).
  const fs = s.adds[0].x[0].fs.filter((f) => f.atom.k === 'sym' || !mentions([{ c: 1, fs: [f] }], beta));
  if (fs.length !== 1 || fs[0].atom.k !== 'sym') return undefined;
  return fs[0].n === 2 ? 'second' : fs[0].n === 1 ? 'first' : undefined;
}

/** The stored value over a constant X after t steps of T ← (β·T + (1 − β)·X) / (1 − βᵏ) from 0 (5.3 and 47 at t = 2, 4 for β = 0.9). */
function compounded(beta: number, t: number): number {
  let v = 0;
  for (let k = 1; k <= t; k++) v = (beta * v + (1 - beta)) / (1 - beta ** k);
  return v;
}

/** The numbers the file gives a β (assigned, or a parameter's default: `beta2=0.999`), strictly between 0 and 1. */
function betaValues(step: OptimizerStep, beta: string): number[] {
  return epsilonValues(step.fn, step.initial, beta).filter((x) => x > 0 && x < 1);
}

/** The β's value: the one number the file gives it (`given`), or else the usual one for its moment (β₂ = 0.999 for the second, β₁ = 0.9 otherwise). */
function betaOrUsual(step: OptimizerStep, beta: string, second: boolean): { value: number; given: boolean } {
  const values = betaValues(step, beta);
  return values.length === 1 ? { value: values[0], given: true } : { value: second ? 0.999 : 0.9, given: false };
}

/** `5 times`, `500 times`, `170 thousand times`, `42 million times`. */

function timesText(x: number): string {
  if (x < 1000) return `${Math.round(x)} times`;
  if (x < 1e6) return `${Number((x / 1e3).toPrecision(2))} thousand times`;
  if (x < 1e9) return `${Number((x / 1e6).toPrecision(2))} million times`;
  return `more than a billion times`;
}

/**
 * A local β power started again on every call of the step and multiplied by β once per parameter in
 * the loop that walks them (stepCountLoops.ts `powersRestartedPerCall`): no step count reaches the
 * corrections, so parameter k is corrected by 1 − β^(k+1) on every step and the corrections never
 * fade (the first parameter's first moment stays divided by 1 − β₁² ≈ 0.19).
 */
function powerRestartedPerCall(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  // `b1_t, b2_t = b1_t * b1, b2_t * b2`: one statement advances both, one finding names both.
  const byStatement = new Map<string, ReturnType<typeof powersRestartedPerCall>>();
  for (const found of powersRestartedPerCall(step)) {
    const k = spanKey(found.advance);
    byStatement.set(k, [...(byStatement.get(k) ?? []), found]);
  }
  for (const group of byStatement.values()) {
    const [first] = group;
    const names = group.map((g) => g.name).join(' and ');
    const b = show(facts, step, first.beta);
    const loop = facts.source(first.loop.span).split('\n')[0].trim().replace(/\s*[:{]\s*$/, '');
    const related = [{ span: { start: first.loop.span.start, end: first.loop.span.start + facts.source(first.loop.span).split('\n')[0].trimEnd().length }, message: 'each iteration of this loop updates another parameter' }];
    for (const g of group) if (g.start) related.unshift({ span: g.start, message: `${g.name} starts again here on every call of ${step.fn.name}` });
    const plural = group.length > 1;
    // The power the first parameter reads: its start (1 or β), times β when the loop advances it before the correction.
    const firstPower = (first.startsAtOne ? 0 : 1) + (first.advance.start < first.correction.start ? 1 : 0);
    const kth = firstPower === 1 ? `${b} ** k` : firstPower === 2 ? `${b} ** (k + 1)` : `${b} ** (k - 1)`;
    const firstText = firstPower === 0 ? `is 1 - 1 = 0, a division by zero` : `stays 1 - ${b}${firstPower === 2 ? ' ** 2' : ''}`;
    push({
      code: 'NB401',
      span: first.advance,
      message: `${names} ${plural ? 'are' : 'is'} started again on every call of ${step.fn.name} and multiplied by β once per parameter in \`${loop}\`: ${plural ? 'they count' : 'it counts'} parameters, not steps, so the bias correction ${facts.source(first.correction)} of the k-th parameter is 1 - ${kth} on every step, whatever the step, and never fades (the first parameter's ${firstText}). Count the steps on the object (self.t += 1 once per step, before the loop) and correct with 1 - ${b} ** self.t`,
      related,
    });
  }
}

/**
 * A moving average started at its first sample, not at zero (`if 'm' not in state: state['m'] =
 * g.clone()`, `if self.v is None: self.v = g * g`), yet divided by its bias correction 1 − βᵗ. The
 * correction undoes the bias of a zero start: m₀ = 0 gives E[mₜ] = (1 − βᵗ)·g. Started at g₁, the
 * average has no such bias (a constant gradient g gives mₜ = g at every t), so the correction
 * inflates it: m̂₁ = g/(1 − β₁), 10 times the gradient, and v̂ = v/(1 − β₂ᵗ) keeps the step
 * √(1 − β₂ᵗ) times too short, about 30 times at first and still 3 times after a hundred steps.
 * Only a state whose every other start in the file is empty (None, `{}`) and whose every overwrite
 * in the step is that first sample: a zero start elsewhere makes such a write a reset.
 */
function firstSampleStart(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  if (!step.overwrites) return;
  const overwrites = step.overwrites;
  // What each average converges to on a constant input: Σ kₓ·X with bₓ = kₓ·(1 − a).
  const samples = new Map<string, Poly>();
  for (const s of step.states.values()) {
    if (!s.average || !s.self || s.adds.length === 0 || !betaKeyOf(s)) continue;
    const oneMinusA = sub(constant(1), s.self);
    let sample: Poly = [];
    let ok = true;
    for (const x of s.adds) {
      const k = proportional(x.b, oneMinusA);
      if (k === undefined) ok = false;
      else sample = add(sample, mulPoly(x.x, constant(k)));
    }
    if (ok && sample.length > 0) samples.set(s.eq.key, sample);
  }
  const startsAt = (key: string, value: Poly): boolean => overwrites.get(key)?.every((w) => w.conditional && polyEquals(w.value, value)) ?? false;
  // Averages started at their own first sample hold it, before and after the first update. Another
  // average's sample may read them (NovoGrad's moment adds g / √v, with v started at ‖g‖²): on the first
  // step that reads their sample (g / ‖g‖).
  const seeded = [...samples].filter(([key, sample]) => startsAt(key, sample));
  for (const s of step.states.values()) {
    const beta = s.average ? betaKeyOf(s) : undefined;
    const writes = overwrites.get(s.eq.key);
    const own = samples.get(s.eq.key);
    if (!beta || !own || !writes || writes.length === 0) continue;
    let sample = own;
    if (!startsAt(s.eq.key, sample)) {
      for (const [key, value] of seeded) if (key !== s.eq.key) sample = substitute(sample, key, value);
      if (sample === own || !startsAt(s.eq.key, sample)) continue;
    }
    if (!startsEmptyElsewhere(facts, step, s, writes)) continue;
    // A correction of its own β that divides it in a parameter's step, with a step count.
    let site: ReturnType<typeof correctionSite>;
    let rooted = false;
    for (const p of step.params) {
      for (const term of stepTerms(step, p)) {
        const num = term.numerator.some((n) => n.key === s.eq.key && n.n === 1);
        const den = term.denominator.some((d) => d.key === s.eq.key && d.sqrt);
        if (!num && !den) continue;
        const c = term.corrections.find((x) => x.beta === beta && x.exp !== undefined && (num ? !x.inDenominator && x.power < 0 : x.power > 0));
        if (!c) continue;
        const found = correctionSite(step, c.key, p.eq.order);
        if (!found) continue;
        // A count that is 0 on the first step divides by zero (reported on its own).
        const t = c.exp!.length === 1 && c.exp![0].fs.length === 1 && c.exp![0].fs[0].atom.k === 'sym' ? c.exp![0].fs[0].atom.key : undefined;
        if (t !== undefined && step.initial(t).includes(0) && (step.counters.get(t) ?? -1) > found.order) continue;
        site = found;
        rooted = den;
        break;
      }
      if (site) break;
    }
    // A second moment that reaches the update only inside another state's sample (NovoGrad's layer norm
    // ‖g‖², by which the moment's input is divided), corrected the way Adam folds it into the step size,
    // lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ): a √(1 − βᵗ) multiplied into a parameter's step, of a β no other state has.
    if (!site && !step.states.has(beta) && ![...step.states.values()].some((o) => o !== s && betaKeyOf(o) === beta)) {
      const direct = step.params.some((p) => stepTerms(step, p).some((term) => term.numerator.some((n) => n.key === s.eq.key) || term.denominator.some((d) => d.key === s.eq.key)));
      for (const p of direct ? [] : step.params) {
        for (const term of stepTerms(step, p)) {
          const c = term.corrections.find((x) => x.beta === beta && x.exp !== undefined && !x.inDenominator && x.power === 0.5);
          const found = c && correctionSite(step, c.key, p.eq.order);
          if (!found) continue;
          const t = c!.exp!.length === 1 && c!.exp![0].fs.length === 1 && c!.exp![0].fs[0].atom.k === 'sym' ? c!.exp![0].fs[0].atom.key : undefined;
          if (t !== undefined && step.initial(t).includes(0) && (step.counters.get(t) ?? -1) > found.order) continue;
          site = found;
          rooted = true;
          break;
        }
        if (site) break;
      }
    }
    if (!site) continue;
    const start = writes[0];
    // The state as its start names it (`state['m']`, not the local `m` its new value passes through).
    const st = facts.source(start.target.span);
    const b = show(facts, step, beta);
    // The file's own β when it gives one number; otherwise the usual one, said to be taken.
    const { value: bv, given } = betaOrUsual(step, beta, rooted);
    const withB = given ? `${b} = ${formatNumber(bv)}` : `${b} taken as the usual ${formatNumber(bv)}`;
    const later = 1 / Math.sqrt(1 - bv ** 100);
    const effect = rooted
      ? `the step is divided by √(${facts.source(site.span)}) too much: with ${withB} about ${timesText(1 / Math.sqrt(1 - bv))} too short at first${later >= 1.5 ? `, and still ${timesText(later)} after a hundred steps` : ''}`
      : `on the first step it is 1/(1 - ${b}) times the gradient, ${timesText(1 / (1 - bv))} for ${withB}`;
    push({
      code: 'NB401',
      span: start.span,
      message: `${st} starts at its first sample (${facts.source(start.span).trim()}), not at 0, yet the step divides it by the bias correction ${facts.source(site.span)}, which undoes the bias of a zero start: started at the first sample, ${st} has no such bias, so the correction inflates it (${effect}). Start ${st} at zeros, or drop its correction`,
      related: [{ span: site.span, message: `${st} is corrected here as if it had started at 0` }],
    });
  }
}

const emptyStarts = new WeakMap<Facts, Map<string, boolean>>();

/**
 * Whether every other plain assignment in the file of the state's key (outside its own writes in the
 * step) gives it an empty value: None, `{}`, `[]`, `dict()`, `[None] * n`. A `state` dict filled in
 * the step has none at all.
 */
function startsEmptyElsewhere(facts: Facts, step: OptimizerStep, s: StateUpdate, writes: { statement: Span }[]): boolean {
  let memo = emptyStarts.get(facts);
  if (!memo) emptyStarts.set(facts, (memo = new Map()));
  const own = [...s.eq.spans, ...writes.map((w) => w.statement)];
  const memoKey = `${s.eq.key}|${own.map((x) => x.start).join(',')}`;
  const known = memo.get(memoKey);
  if (known !== undefined) return known;
  // The instance's own fields are set in its class.
  const cls = /^(?:self|this)\./.test(s.eq.key) ? step.fn.cls : undefined;
  const empty = (e: Expr): boolean =>
    isNoneLiteral(e) ||
    (e.kind === 'object' && e.entries.length === 0) ||
    (e.kind === 'seq' && e.items.every(empty)) ||
    (e.kind === 'call' && isDictConstructor(e.callee) && e.args.length === 0 && e.kwargs.length === 0) ||
    (e.kind === 'binary' && e.op === '*' && (empty(e.left) || empty(e.right)) && (e.left.kind === 'seq' || e.right.kind === 'seq')) ||
    (e.kind === 'comprehension' && empty(e.element));
  let ok = true;
  for (const stmt of programIndex(facts).stmtBySpan.values()) {
    if (!ok) break;
    // The step's own writes are its evaluation's: the average, the first sample, stores of a local holding either.
    if (stmt.kind !== 'assign' || stmt.op || own.some((x) => x.start <= stmt.span.end && stmt.span.start <= x.end) || (stmt.span.start >= step.fn.span.start && stmt.span.end <= step.fn.span.end)) continue;
    if (cls && (stmt.span.start < cls.span.start || stmt.span.end > cls.span.end)) continue;
    const check = (t: Expr, v: Expr | undefined): void => {
      if (exprKey(t) === s.eq.key && (!v || !empty(v))) ok = false;
    };
    for (const t of stmt.targets) {
      if (t.kind === 'seq') t.items.forEach((x, i) => check(x, stmt.value.kind === 'seq' && stmt.value.items.length === t.items.length ? stmt.value.items[i] : undefined));
      else check(t, stmt.value);
    }
  }
  memo.set(memoKey, ok);
  return ok;
}

/**
 * A β of the object multiplied in place outside the step (`self.beta1 *= self.beta1_0` at the end of
 * an epoch), by itself or by a field the file starts at the same value: the code keeps βᵉ in the
 * field that weights the moving averages. The statement, the factor as written and its function.
 */
function decayedInPlace(facts: Facts, step: OptimizerStep, beta: string): { span: Span; factor: string; fn?: string } | undefined {
  if (!/^(?:self|this)\.[\w$]+$/.test(beta)) return undefined;
  const index = programIndex(facts);
  const cls = step.fn.cls;
  for (const stmt of index.stmtBySpan.values()) {
    if (stmt.kind !== 'assign' || stmt.targets.length !== 1 || exprKey(stmt.targets[0]) !== beta) continue;
    if (within(stmt.span, step.fn.span) || (cls && !within(stmt.span, cls.span))) continue;
    let factor: Expr | undefined;
    if (stmt.op === '*') factor = stmt.value;
    else if (!stmt.op && stmt.value.kind === 'binary' && stmt.value.op === '*') {
      const { left, right } = stmt.value;
      factor = exprKey(left) === beta ? right : exprKey(right) === beta ? left : undefined;
    }
    const fk = factor && exprKey(factor);
    if (!factor || fk === undefined) continue;
    if (fk !== beta) {
      // The original β: a field every value of which the file also gives β.
      const given = assignedFrom(facts, beta);
      const from = assignedFrom(facts, fk);
      if (from.size === 0 || ![...from].every((x) => given.has(x))) continue;
    }
    const fn = index.enclosingFunction(index.scopeAt(stmt.span.start));
    return { span: stmt.span, factor: facts.source(factor.span), ...(fn ? { fn: fn.name } : {}) };
  }
  return undefined;
}

/**
 * A step count or running β power advanced once per parameter, inside the loop that walks them (or
 * in a helper it calls per parameter): the k-th parameter of a step sees another count than the
 * first, and the count runs as many times faster than the steps as there are parameters, so the
 * corrections die out K times too early and differ between layers.
 */
function countPerParameter(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const found of countsInsideParameterLoops(step, (s) => facts.source(s), stepCalls(facts))) {
    const t = show(facts, step, found.counter);
    const loop = facts.source(found.loop.span).split('\n')[0].trim().replace(/\s*[:{]\s*$/, '');
    const what = found.kind === 'count' ? `the step count ${t} is incremented` : `the running power ${t} is multiplied by β`;
    const where = found.driver ? `in ${step.fn.name}, which ${found.driver.name} calls on every iteration of \`${loop}\`` : `on every iteration of \`${loop}\``;
    // Where it is advanced, when that is in this file (a helper's statement); else the step's call of the helper.
    const inFile = found.advance.start >= facts.file.base && found.advance.end <= facts.file.base + facts.text.length;
    push({
      code: 'NB401',
      span: inFile ? found.advance : found.increment,
      message: `${what} ${where}, once per parameter, not once per step: ${found.readBy === 'update' ? `each parameter's update reads another count, and with K parameters the count runs K times faster than the steps` : `each parameter's bias correction ${facts.source(found.correction)} reads another count, and with K parameters the count runs K times faster than the steps, so the corrections fade K times too early`}. ${found.holder ? `This loop never rebinds ${found.holder}, so every parameter advances the same entry (the one ${found.holder} held last): look up each parameter's own state in this loop` : `Advance ${t} once per step, ${found.driver ? `in a method ${found.driver.name} calls once, before the loop` : 'before the loop'}`}`,
      related: [
        { span: { start: found.loop.span.start, end: found.loop.span.start + facts.source(found.loop.span).split('\n')[0].trimEnd().length }, message: 'each iteration of this loop updates another parameter' },
        ...(found.readBy === 'update' ? [{ span: found.correction, message: `this update reads ${t}` }] : []),
      ],
    });
  }
}

/**
 * A moment divided by its own bias correction twice: the same 1 − βᵗ squared beside the first
 * moment (m̂ = m/(1 − β₁ᵗ), then a step size lr/(1 − β₁ᵗ) that multiplies m̂), or to the first power
 * beside the root of the second (v̂ = v/(1 − β₂ᵗ) under a root, and √(1 − β₂ᵗ) again in the step
 * size). Early steps are scaled by the correction once more: 1/(1 − β₁) = 10 times too large at first
 * for the first moment, √(1 − β₂) ≈ 1/30 of the right size for the second.
 */
function correctedTwice(facts: Facts, step: OptimizerStep, p: ParamUpdate, term: StepTerm, push: (f: OptimizerFinding) => void): void {
  const report = (s: StateUpdate, c: StepTerm['corrections'][number], first: string): void => {
    const site = correctionSite(step, c.key, p.eq.order);
    if (!site || !c.exp) return;
    const b = show(facts, step, c.beta);
    push({
      code: 'NB401',
      span: site.span,
      message: `${stateText(facts, s)} is bias-corrected twice: the step applies its correction, ${facts.source(site.span)}, in two places, so early steps get the correction once more: the first step is ${first}. Correct it once: divide ${stateText(facts, s)} by 1 - ${b} ** t, or fold the correction into the step size, not both`,
      corrected: biasCorrected(s.eq.key, c.beta, c.exp),
    });
  };
  // The corrections of one β with one exponent, written in one place or in several (m̂'s, the step size's).
  const total = (beta: string): { c: StepTerm['corrections'][number]; power: number } | undefined => {
    const own = term.corrections.filter((x) => x.beta === beta && x.exp !== undefined);
    if (own.length === 0 || !own.every((x) => polyEquals(x.exp!, own[0].exp!))) return undefined;
    return { c: own[0], power: own.reduce((sum, x) => sum + x.power, 0) };
  };
  // `np.clip(step_size * m_hat / denom, -c, c)`: a bound on the whole update keeps how the update was built.
  for (const inner of boundedTerms(step, term)) correctedTwice(facts, step, p, inner, push);
  for (const n of term.numerator) {
    const s = step.states.get(n.key);
    if (!s?.average || !s.beta || n.n !== 1) continue;
    const t = total(s.beta);
    if (t && t.power <= -2) report(s, t.c, 'about 10 times too large (for a β of 0.9)');
    else if (t && near(t.power, -0.5)) firstMomentRooted(facts, step, p, term, s, t.c, push);
  }
  for (const d of term.denominator) {
    const s = d.sqrt ? step.states.get(d.key) : undefined;
    // A second moment that keeps the wrong β of its old value (NB403) is still corrected with its own.
    const beta = s?.average ? s.beta : s && intendedBeta(step, s);
    if (!s || !beta) continue;
    const t = total(beta);
    if (t && t.power >= 1) report(s, t.c, 'about 30 times too small (for a β of 0.999)');
    else if (t && t.power > 0 && !near(t.power, 0.5)) rootedTwice(facts, step, p, s, t.c, t.power, push);
  }
}

/**
 * The second moment's correction under a root of another power than ½: √(v / √(1 − β₂ᵗ)) divides √v
 * by the fourth root of the correction, not its square root. The first step's denominator is then
 * (1 − β₂)^(½ − p) times Adam's: for p = ¼ and β₂ = 0.999, about 5.6 times too small (the step as
 * many times too large).
 */
function rootedTwice(facts: Facts, step: OptimizerStep, p: ParamUpdate, s: StateUpdate, c: StepTerm['corrections'][number], power: number, push: (f: OptimizerFinding) => void): void {
  const site = correctionSite(step, c.key, p.eq.order);
  if (!site || !c.exp) return;
  const b = show(facts, step, c.beta);
  const written = facts.source(site.span);
  const ratio = 0.001 ** (power - 0.5);
  // The first step's length over Adam's: (1 − β)^(p − ½), β = 0.999.
  const size = ratio > 1 ? `about ${ratio.toPrecision(2)} times too large` : `about ${(1 / ratio).toPrecision(2)} times too small`;
  push({
    code: 'NB401',
    span: site.span,
    message: `${stateText(facts, s)}'s bias correction ${written} is ${near(power, 0.25) ? 'taken under a square root twice' : `raised to the power ${powerText(power)} below the bar`}: the step divides √${stateText(facts, s)} by (${written}) ** ${powerText(power)} instead of its square root, so the first step is ${size} (for a β of 0.999). Take the square root once: sqrt(${stateText(facts, s)} / (1 - ${b} ** t))`,
    corrected: biasCorrected(s.eq.key, c.beta, c.exp),
  });
}

/**
 * The first moment's correction under a square root: m·/√(1 − β₁ᵗ) where Adam divides by 1 − β₁ᵗ
 * (`lr * sqrt(1 - b2 ** t) / sqrt(1 - b1 ** t)`, both corrections folded under roots). m̂ is then
 * √(1 − β₁ᵗ) times Adam's: the first step about 0.32 of its length for β₁ = 0.9. Only beside a root
 * of a second moment averaged with another β (with one β for both, √(1 − βᵗ)/(1 − βᵗ) is Adam's own
 * folded step size, whose total power is −½ too).
 */
function firstMomentRooted(facts: Facts, step: OptimizerStep, p: ParamUpdate, term: StepTerm, s: StateUpdate, c: StepTerm['corrections'][number], push: (f: OptimizerFinding) => void): void {
  const beta = s.beta!;
  const roots = term.denominator.filter((d) => d.sqrt).map((d) => step.states.get(d.key));
  if (roots.length === 0 || !roots.every((v) => v?.average && v.beta && v.beta !== beta)) return;
  // The first moment's own correction written as a root: a factor of power −½ (not a reciprocal taken twice).
  const own = term.corrections.filter((x) => x.beta === beta && x.exp !== undefined);
  if (own.length !== 1 || !near(own[0].power, -0.5)) return;
  const site = correctionSite(step, c.key, p.eq.order);
  if (!site || !c.exp) return;
  const b = show(facts, step, beta);
  const { value: bv, given } = betaOrUsual(step, beta, false);
  const at = (t: number): string => String(Number(Math.sqrt(1 - bv ** t).toFixed(2)));
  const withBeta = given ? `${b} = ${formatNumber(bv)}` : `${b} taken as the usual ${formatNumber(bv)}`;
  const m = stateText(facts, s);
  push({
    code: 'NB401',
    span: site.span,
    message: `${m}'s bias correction is taken under a square root: the step divides ${m} by √(${facts.source(site.span)}), not by ${facts.source(site.span)}, so the corrected first moment is √(1 - ${b} ** t) times Adam's: the first step is ${at(1)} of Adam's length, ${at(5)} at t = 5 and ${at(10)} at t = 10 (${withBeta}). Only the second moment's correction goes under the root: sqrt(1 - ${show(facts, step, roots[0]!.beta!)} ** t) / (1 - ${b} ** t)`,
    corrected: biasCorrected(s.eq.key, beta, c.exp),
  });
}

/** Whether the innermost simple statement of the step's function around `span` reads the value keyed `key` (`layer.v_b`). */
function statementReads(step: OptimizerStep, span: Span, key: string): boolean {
  const stmt = innermostStatement(step, span);
  if (!stmt) return false;
  let reads = false;
  walkAll([stmt], (e) => {
    if (!reads && exprKey(e) === key) reads = true;
  });
  return reads;
}

/** Whether a statement the evaluator ran reads the value keyed `key` (`self.v` of `[v / c for v in self.v]`). */
function statementReadsKey(stmt: Stmt | undefined, key: string): boolean {
  if (!stmt) return false;
  let reads = false;
  walkAll([stmt], (e) => {
    if (!reads && exprKey(e) === key) reads = true;
  });
  return reads;
}

/** ¼ as 0.25, ¾ as 0.75: the power as the code would write it. */
function powerText(power: number): string {
  return String(Math.round(power * 1000) / 1000);
}

/**
 * A moving average multiplied by its own correction, m·(1 − βᵗ), where it divides: the product
 * distributes, so the step holds the state times βᵗ outside any reciprocal or root's reciprocal.
 * A correct step only ever has βᵗ inside 1/(1 − βᵗ) or √(1 − βᵗ) (the folded step size).
 */
function invertedCorrection(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  const reported = new Set<string>();
  const ownPower = (m: { fs: { atom: import('../../math/poly').Atom; n: number }[] }, state: string, beta: string): boolean =>
    m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === state && f.n > 0) &&
    m.fs.some((f) => f.n > 0 && f.atom.k === 'pow' && f.atom.base.length === 1 && f.atom.base[0].fs.length === 1 && f.atom.base[0].fs[0].atom.k === 'sym' && f.atom.base[0].fs[0].atom.key === beta && f.atom.base[0].fs[0].n === 1);
  const report = (s: StateUpdate, where: string): void => {
    const beta = s.beta!;
    // Of the corrections with this β, the one written where this state is read (`vb_hat = v_b * (1 - b2 ** t)`
    // beside `vw_hat = v_w * (…)`): each state's own line is its finding.
    const sites = step.corrections.filter((c) => c.beta === beta && c.exp !== undefined);
    const site = sites.find((c) => statementReads(step, c.span, s.eq.key)) ?? sites[0];
    if (!site || reported.has(s.eq.key)) return;
    reported.add(s.eq.key);
    const b = show(facts, step, beta);
    push({
      code: 'NB401',
      span: site.span,
      message: `${stateText(facts, s)} is multiplied by its bias correction ${facts.source(site.span)}${where}, but the correction divides (${stateText(facts, s)} / (${facts.source(site.span)})): multiplying shrinks the early steps toward 0 instead of undoing their bias`,
      related: [{ span: s.eq.spans[0], message: `${stateText(facts, s)} is averaged with ${b} here` }],
      corrected: biasCorrected(s.eq.key, beta, site.exp!),
    });
  };
  for (const p of step.params) {
    for (const mono of p.step) {
      for (const s of step.states.values()) {
        if (!s.average || !s.beta) continue;
        // m·βᵗ as a factor of the step: the first moment multiplied by (1 − βᵗ).
        if (ownPower(mono, s.eq.key, s.beta)) report(s, '');
        // √(v·(1 − βᵗ)) in a denominator: the second moment multiplied under the root.
        for (const f of mono.fs) {
          const roots = f.atom.k === 'fn' && f.atom.fn === 'sqrt' && f.n < 0 ? [f.atom] : f.atom.k === 'inv' && f.n > 0 ? f.atom.arg.flatMap((m) => m.fs.map((g) => g.atom)).filter((a) => a.k === 'fn' && a.fn === 'sqrt') : [];
          for (const r of roots) if (r.k === 'fn' && r.args[0]?.some((m) => ownPower(m, s.eq.key, s.beta!))) report(s, ' under the square root');
        }
      }
    }
  }
}

/**
 * A bias correction of the previous step's moment: the new moment is computed into a local, and the
 * correction the update reads divides the value still stored (`m_hat = self.m[k] / (1 - b1 ** t)`
 * before `self.m[k] = m`). The update then lags the gradient by one step, and on the first step
 * reads the zero the moment started at.
 */
function previousMoment(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const p of step.params) {
    for (const prev of p.previous ?? []) {
      const s = step.states.get(prev.key);
      if (!s?.average || !s.beta) continue;
      const term = stepTerms(step, p).find((t) => [...t.numerator.map((n) => n.key), ...t.denominator.map((d) => d.key)].includes(prev.key) && t.corrections.some((c) => c.beta === s.beta && c.exp !== undefined));
      const c = term?.corrections.find((x) => x.beta === s.beta && x.exp !== undefined);
      if (!c) continue;
      const old = facts.source(prev.read);
      push({
        code: 'NB401',
        span: prev.read,
        message: `the bias correction reads ${old} before its new value is stored: the new moment is in ${prev.local}, so the step corrects the previous step's moment and lags the gradient by one step (the first step reads the 0 it started at). Correct ${prev.local} instead: ${prev.local} / (1 - ${show(facts, step, s.beta)} ** ${exponentText(facts, step, c.exp)})`,
        related: [{ span: prev.computed, message: `the new value of ${old} is computed here, and stored only later` }],
        corrected: biasCorrected(s.eq.key, s.beta, c.exp ?? stepCount(step)),
      });
    }
  }
}

/**
 * A running power multiplied by itself (T ← T·T) where the step corrects a moment with 1 − T: a β
 * power is multiplied by β. Started at 1, T stays 1 and 1 − T is 0 (the step is 0, or divides by
 * zero); started at β, T is β^(2ᵗ), not βᵗ. The moment it should correct is the one average of the
 * term that no other correction of its β covers.
 */
function selfMultipliedPower(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const s of step.states.values()) {
    const [m] = s.eq.value;
    if (s.eq.value.length !== 1 || m.c !== 1 || m.fs.length !== 1 || m.fs[0].n !== 2 || m.fs[0].atom.k !== 'sym' || m.fs[0].atom.key !== s.eq.key) continue;
    if (s.eq.spans.length !== 1) continue;
    const key = s.eq.key;
    for (const p of step.params) {
      const found = stepTerms(step, p).flatMap((term) => term.corrections.filter((c) => c.beta === key && c.exp === undefined).map((c) => ({ term, c })));
      const first = found[0];
      if (!first) continue;
      const { term, c } = first;
      const covered = new Set(term.corrections.filter((x) => x.exp !== undefined).map((x) => x.beta));
      const owners = [...new Set([...term.numerator.map((n) => n.key), ...term.denominator.map((d) => d.key)])]
        .map((k) => step.states.get(k))
        .filter((o): o is StateUpdate => o !== undefined && o.average && o.beta !== undefined && !covered.has(o.beta));
      if (owners.length !== 1) continue;
      const owner = owners[0];
      const b = show(facts, step, owner.beta!);
      const t = facts.source(s.eq.target.span);
      const starts = step.initial(key);
      const atOne = starts.length > 0 && starts.every((v) => v === 1);
      const multiplies = (c.power > 0) !== c.inDenominator;
      const effect = atOne
        ? `it starts at 1 and stays 1, so 1 - ${t} is 0 and ${multiplies ? 'every step is 0' : 'the bias correction divides by zero'}`
        : `it squares every step (β^(2ᵗ), not βᵗ), so 1 - ${t} is not the bias correction of ${stateText(facts, owner)}`;
      push({
        code: 'NB401',
        span: s.eq.spans[0],
        severity: atOne ? 'error' : 'warning',
        message: `${t} is multiplied by itself where a running power of β is multiplied by β: ${effect}. Multiply it by the β of ${stateText(facts, owner)}: ${t} = ${t} * ${b}`,
        related: [{ span: owner.eq.spans[0], message: `${stateText(facts, owner)} is averaged with ${b} here` }],
        corrected: poweredBy(key, owner.beta!),
      });
      break;
    }
  }
}

/**
 * A running β power started at 1 in the function that builds a functional optimizer's state, read by
 * the step's correction before the step multiplies it into the new state (returnedPowers.ts).
 */
function lateReturnedPower(facts: Facts, r: ReturnedPower, push: (f: OptimizerFinding) => void): void {
  const pt = facts.source(r.power);
  const b = facts.source(r.beta);
  push({
    code: 'NB401',
    span: r.correction,
    severity: 'error',
    message: `${pt} starts at 1 and is multiplied by ${b} only after ${facts.source(r.correction)}, for the state the step returns, so the first bias correction is 1 - 1 = 0 and divides by zero: the first step is NaN. Multiply ${pt} by ${b} before the correction, or start it at ${b}`,
    related: [
      { span: r.start, message: `${pt} starts at 1 here` },
      { span: r.advanced, message: `${pt} is multiplied by ${b} here, after the correction` },
    ],
  });
}

/** The zero step count of a framework's counter, which the framework increments after the step. */
function frameworkZeroMessage(counter: string, correction: string): string {
  return `${counter} is 0 on the first step (the optimizer increments it after each step), so ${correction} is 0 and the bias correction divides by zero: the first step is NaN. Use ${counter} + 1 as the step count, as Keras' own optimizers do`;
}

function wrongBeta(facts: Facts, step: OptimizerStep, s: StateUpdate, corrections: { beta: string; key: string; exp?: Poly }[], push: (f: OptimizerFinding) => void): void {
  const beta = betaKeyOf(s);
  if (beta === undefined || corrections.length === 0 || corrections.some((c) => c.beta === beta)) return;
  // A value that only rescales itself (`group["lr"] *= group["lrd"]`, a learning-rate schedule) adds
  // nothing: no average, so no bias from a zero start to correct.
  if (s.adds.length === 0) return;
  for (const c of corrections) {
    const other = averageWithBeta(step, c.beta);
    // Of the places the correction is computed, the one that reads this state (`v_hat = v / (1 - p)` beside `m_hat = m / (1 - p)`).
    const sites = step.corrections.filter((x) => x.key === c.key);
    const site = sites.find((x) => statementReadsKey(x.statement, s.eq.key)) ?? correctionSite(step, c.key);
    if (!other || other === s || !site) continue;
    const e = c.exp?.length === 1 && c.exp[0].fs.length === 1 && c.exp[0].fs[0].atom.k === 'sym' ? c.exp[0].fs[0].atom.key : undefined;
    const power = e === undefined ? undefined : powerOfExponent(e);
    const product = power === undefined ? undefined : step.powers?.get(power);
    // The average of the power's own β that the power also corrects, nearest to this state's line (`mb`
    // beside `vb`, not `mw` of another method).
    const distance = (x: StateUpdate): number => Math.min(...sites.filter((y) => statementReadsKey(y.statement, x.eq.key)).map((y) => Math.abs(y.span.start - site.span.start)));
    const partner = [...step.states.values()]
      .filter((x) => x !== s && x.average && betaKeyOf(x) === c.beta && Number.isFinite(distance(x)))
      .sort((a, b) => distance(a) - distance(b))[0];
    // A running power of the other β that also corrects that β's own average (`m / (1 - b1_pow)`): the
    // power is right, and this state's division by it is what is wrong.
    if (power !== undefined && product && partner) {
      const pt = show(facts, step, power);
      const ownPower = [...(step.powers ?? [])].find(([, p]) => p.beta === beta)?.[0];
      push({
        code: 'NB401',
        span: site.span,
        message: `${stateText(facts, s)} is averaged with ${show(facts, step, beta)} but divided by 1 - ${pt}, the running power of ${show(facts, step, c.beta)}, the β of ${stateText(facts, partner)}: its correction is 1 - ${ownPower !== undefined ? show(facts, step, ownPower) : `${show(facts, step, beta)} ** t`}`,
        related: [
          { span: product.span, message: `${pt} is multiplied by ${show(facts, step, c.beta)} here` },
          { span: s.eq.spans[0], message: `${stateText(facts, s)} is averaged with ${show(facts, step, beta)} here` },
        ],
        corrected: biasCorrected(s.eq.key, beta, stepCount(step)),
      });
      continue;
    }
    // A running power of the other β (`self.pow2 *= self.beta1`): the product is where β is wrong.
    if (power !== undefined && product) {
      const pt = show(facts, step, power);
      push({
        code: 'NB401',
        span: product.span,
        message: `${pt} is a running power of ${show(facts, step, c.beta)}, the β of ${stateText(facts, other)}, but 1 - ${pt} bias-corrects ${stateText(facts, s)}, which is averaged with ${show(facts, step, beta)}: multiply ${pt} by ${show(facts, step, beta)}`,
        related: [
          { span: site.span, message: `1 - ${pt} corrects ${stateText(facts, s)} here` },
          { span: s.eq.spans[0], message: `${stateText(facts, s)} is averaged with ${show(facts, step, beta)} here` },
        ],
        corrected: poweredBy(power, beta),
      });
      continue;
    }
    // A helper handed the other β (`unbias(v, b1, t)`): the argument is wrong, not the helper.
    push({
      code: 'NB401',
      span: site.betaArgument ?? site.span,
      message: `${stateText(facts, s)} is averaged with ${show(facts, step, beta)} but bias-corrected with ${show(facts, step, c.beta)}, the β of ${stateText(facts, other)}: its correction is 1 - ${show(facts, step, beta)} ** ${exponentText(facts, step, c.exp)}`,
      related: [
        { span: s.eq.spans[0], message: `${stateText(facts, s)} is averaged with ${show(facts, step, beta)} here` },
        ...(site.betaArgument ? [{ span: site.span, message: `the helper computes the correction ${facts.source(site.span)} here` }] : []),
      ],
      corrected: biasCorrected(s.eq.key, beta, c.exp ?? stepCount(step)),
    });
  }
}

/** The step count of a correction as its exponent is written (`t` of `t = config['t']`, `s.step`), or `t`. */
function exponentText(facts: Facts, step: OptimizerStep, exp: Poly | undefined): string {
  const f = exp?.length === 1 && exp[0].c === 1 && exp[0].fs.length === 1 && exp[0].fs[0].n === 1 ? exp[0].fs[0].atom : undefined;
  // A running power's exponent is written nowhere: t.
  if (f?.k !== 'sym' || powerOfExponent(f.key) !== undefined) return 't';
  return stepLocals(step.fn).get(f.key) ?? show(facts, step, f.key);
}

// ------------------------------------------------------------------ NB402

function secondMoment(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  squaredInPlaceReused(facts, step, push);
  rootMultiplied(facts, step, push);
  rootStored(facts, step, push);
  for (const p of step.params) {
    for (const term of stepTerms(step, p)) {
      for (const d of term.denominator) {
        const v = step.states.get(d.key);
        // v ← β·v + (1 − β)·v²: it averages its own square, so from its zero start it stays 0.
        const ownWeight = d.sqrt ? ownSquareWeight(v) : undefined;
        if (v && ownWeight !== undefined) {
          const vt = stateText(facts, v);
          const b2 = ownWeight ? show(facts, step, ownWeight) : undefined;
          push({
            code: 'NB402',
            span: v.eq.spans[0],
            message: `${vt} averages its own square, not the gradient's: started at 0 it stays 0, and the step divides by the square root of that, not of the gradient's scale. The second moment must average g², as in ${b2 ? `${vt} = ${b2} * ${vt} + (1 - ${b2}) * g * g` : `${vt} = β₂·${vt} + (1 − β₂)·g·g`}`,
            related: [{ span: p.eq.spans[p.eq.spans.length - 1], message: 'the step divides by its square root here' }],
          });
          break;
        }
        if (v && d.sqrt && (subtractedEpsilon(facts, step, p, d, v, push) || subtractedUnderRoot(facts, step, p, d, v, push))) break;
        if (!v || !v.self || v.adds.length !== 1) continue;
        // Adam's denominator: the one state (scaled, corrected) plus a constant ε; `m² + ρ·s` is another method's.
        if (d.inner && !onlyStatePlusConstant(step, d.factor.atom, d.key)) continue;
        const x = v.adds[0].x;
        const firstMoments = term.numerator.map((n) => step.states.get(n.key)).filter((s): s is StateUpdate => s !== undefined && s !== v);
        // The numerator's own tensor: m's increment, or the gradient itself (AdaGrad, RMSprop).
        const numeratorTensors: Poly[] = firstMoments.flatMap((m) => m.adds.map((a) => a.x));
        const directly = x.length === 1 && x[0].fs.length === 1 && x[0].fs[0].n === 1 && term.mono.fs.some((f) => f.key === x[0].fs[0].key && f.n === 1);
        if (d.sqrt && gradientTimesRatio(facts, step, p, term, v, firstMoments, push)) break;
        if (d.sqrt) {
          const same = numeratorTensors.some((y) => polyEquals(y, x)) || directly;
          const linear = x.length === 1 && x[0].fs.length === 1 && x[0].fs[0].n === 1 && x[0].fs[0].atom.k === 'sym';
          if (!same || !linear) continue;
          // As the code would write it, with the state's own β (`self.rho`, `beta2`).
          const vt = stateText(facts, v);
          // `new_a = rho * a + …` stored by `K.update(a, new_a)`: the average reads the variable `a`, not the local it is written to.
          const old = v.eq.target.kind === 'name' && /^[A-Za-z_$][\w$]*$/.test(v.eq.key) && v.eq.key !== v.eq.target.name ? v.eq.key : vt;
          const b2 = v.beta !== undefined ? show(facts, step, v.beta) : undefined;
          push({
            code: 'NB402',
            span: v.eq.spans[0],
            message: `${vt} accumulates the gradient itself, not its square, yet the step divides by its square root: the second moment must average g², as in ${b2 ? `${vt} = ${b2} * ${old} + (1 - ${b2}) * g * g` : `${vt} = β₂·${old} + (1 − β₂)·g·g`}`,
            related: [{ span: p.eq.spans[p.eq.spans.length - 1], message: 'the step divides by its square root here' }],
            corrected: squared(v),
          });
          continue;
        }
        const base = squaredBase(x);
        if (!base) continue;
        // Adam's shape: a bias-corrected first moment over a bias-corrected average of g². A raw
        // gradient over an average of g² with no root is a diagonal natural-gradient (Fisher) step.
        const readsBase = firstMoments.some((m) => m.average && m.adds.some((a) => a.x.length === 1 && a.x[0].fs.length === 1 && a.x[0].fs[0].key === base && a.x[0].fs[0].n === 1));
        const vCorrected = v.beta !== undefined && term.corrections.some((c) => c.beta === v.beta && c.exp !== undefined);
        if (!readsBase || !vCorrected) continue;
        // `v_hat ** 1/2`: the missing root is said where it was written (halfPowers.ts).
        if (halfPowerFindings(facts, step).some((h) => h.state === v.eq.key)) continue;
        push({
          code: 'NB402',
          span: p.eq.spans[p.eq.spans.length - 1],
          message: `the step divides by ${stateText(facts, v)}, an average of squared gradients, without its square root: the update then scales as 1/g instead of staying near the learning rate. Divide by the square root (np.sqrt(v) + eps, v.sqrt().add_(eps))`,
          related: [{ span: v.eq.spans[0], message: `${stateText(facts, v)} averages squared gradients here` }],
          corrected: rooted(p, v.eq.key),
        });
      }
    }
  }
}

/**
 * 1/(√v − ε): a denominator that is the root of a moving average of squares minus a small constant
 * (a number, or a symbol every value assigned to is one, by data flow). Where v is near 0 the
 * denominator is 0 or negative: the step is infinite or points uphill. ε is added to keep it away from 0.
 */
/**
 * `v.mul_(b2).add_(grad.square_(), alpha=1 - b2)` then `update = v.rsqrt().mul_(grad)`: the in-place
 * square feeds the second moment and leaves g² in grad, which the parameter's step reads after it as
 * if it were g. The update is then g²/√v ≥ 0 elementwise: its direction no longer follows the
 * gradient's sign. Reported where the square is taken (`grad.square()` out of place is the fix).
 */
function squaredInPlaceReused(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const x of step.squaredInPlace ?? []) {
    if (!x.read) continue;
    const held = atomsOf(x.old).filter((a) => a.k === 'sym').map((a) => (a as { key: string }).key);
    if (held.length === 0) continue;
    // The parameter's step reads the tensor (as the gradient it held) after the square was taken.
    const p = step.params.find((q) => held.some((k) => mentions(q.step, k)) && q.eq.spans.some((sp) => sp.end > x.read!.start));
    if (!p) continue;
    const name = facts.source(x.read);
    push({
      code: 'NB402',
      span: x.call,
      message: `${facts.source(x.call)} squares ${name} in place where its square is used, and the step reads ${name} again after it: it now holds ${name}², not ${name}, so the update no longer follows the gradient's sign; square a copy, ${name}.square() or ${name} * ${name}`,
      related: [
        { span: x.read, message: `${name} read here holds its square` },
        { span: p.eq.spans[p.eq.spans.length - 1], message: 'the step that uses it' },
      ],
    });
  }
}

function subtractedEpsilon(facts: Facts, step: OptimizerStep, p: ParamUpdate, d: StepTerm['denominator'][number], v: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const f = d.factor;
  if (f.atom.k !== 'inv' || f.n <= 0 || !v.self || v.adds.length === 0 || v.max) return false;
  const rooted = (m: Mono): boolean => m.fs.some((g) => g.n > 0 && g.atom.k === 'fn' && g.atom.fn === 'sqrt' && g.atom.args.some((a) => mentions(a, d.key)));
  const roots = f.atom.arg.filter(rooted);
  const rest = f.atom.arg.filter((m) => !rooted(m));
  if (roots.length !== 1 || roots[0].c <= 0 || rest.length === 0) return false;
  const small = (x: number): boolean => x > 0 && x <= EPSILON_BOUND;
  let eps: string | undefined;
  for (const m of rest) {
    if (m.c >= 0) return false;
    if (m.fs.length === 0 && small(-m.c)) { eps ??= formatNumber(-m.c); continue; }
    const a = m.fs.length === 1 && m.fs[0].n === 1 ? m.fs[0].atom : undefined;
    if (!a || a.k !== 'sym' || m.c !== -1) return false;
    const values = epsilonValues(step.fn, step.initial, a.key);
    if (values.length === 0 || !values.every(small)) return false;
    eps ??= show(facts, step, a.key);
  }
  if (!eps) return false;
  const vt = stateText(facts, v);
  const statement = p.eq.spans[p.eq.spans.length - 1];
  const written = rootMinusConstant(step, statement);
  push({
    code: 'NB402',
    span: written?.span ?? statement,
    message: `the step divides by ${written ? facts.source(written.span) : `the root of ${vt} minus ${eps}`}: ε is subtracted, so where ${vt} is near 0 (a weight whose gradient stays small) the denominator is 0 or negative and the step is infinite or points uphill. Add ε to keep the denominator away from 0: ${written?.kind === 'binary' ? `${facts.source(written.left.span)} + ${facts.source(written.right.span)}` : `sqrt(…) + ${eps}`}`,
    related: [{ span: v.eq.spans[0], message: `${vt} averages squared gradients here` }],
  });
  return true;
}

/**
 * ε subtracted under the root the step divides by: 1/√(v − ε), or the centred 1/√(v − ḡ² − ε)
 * (`ms.sub(mg.square().add(eps)).sqrt()`). Where the estimate falls below ε the root is of a negative
 * number (NaN), and where it equals ε the step is infinite. The plus sign (√(v − ḡ² + ε)) is the form.
 */
function subtractedUnderRoot(facts: Facts, step: OptimizerStep, p: ParamUpdate, d: StepTerm['denominator'][number], v: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const f = d.factor;
  if (f.n >= 0 || f.atom.k !== 'fn' || f.atom.fn !== 'sqrt' || f.atom.args.length !== 1 || !v.average || v.adds.length === 0) return false;
  const arg = f.atom.args[0];
  const isState = (m: Mono, key: string): boolean => m.fs.length === 1 && m.fs[0].n === 1 && m.fs[0].atom.k === 'sym' && m.fs[0].atom.key === key;
  if (!arg.some((m) => m.c > 0 && isState(m, d.key))) return false;
  const small = (x: number): boolean => x > 0 && x <= EPSILON_BOUND;
  let eps: string | undefined;
  for (const m of arg) {
    if (m.c > 0) {
      if (isState(m, d.key)) continue;
      return false;
    }
    if (m.fs.length === 0 && small(-m.c)) {
      eps ??= formatNumber(-m.c);
      continue;
    }
    const a = m.fs.length === 1 && m.fs[0].n === 1 ? m.fs[0].atom : undefined;
    if (a?.k === 'sym' && m.c === -1 && !step.states.has(a.key)) {
      const values = epsilonValues(step.fn, step.initial, a.key);
      if (values.length === 0 || !values.every(small)) return false;
      eps ??= show(facts, step, a.key);
      continue;
    }
    // The centred form's −ḡ²: another state's square.
    if (m.fs.length === 1 && m.fs[0].n === 2 && m.fs[0].atom.k === 'sym' && step.states.has(m.fs[0].atom.key)) continue;
    return false;
  }
  if (!eps) return false;
  const vt = stateText(facts, v);
  // Reported where the root of a difference is written (`sqrt(v - eps)`, `ms.sub(…).sqrt()`) when the function has one, else at the step.
  const roots: Span[] = [];
  walkAll(step.fn.body, (e) => {
    if (e.kind !== 'call' || !(e.callee.kind === 'name' || e.callee.kind === 'attr') || e.callee.name !== 'sqrt') return;
    const operand = e.args[0] ?? (e.callee.kind === 'attr' ? e.callee.object : undefined);
    const subtracts = (x: Expr): boolean => (x.kind === 'binary' && x.op === '-') || (x.kind === 'call' && facts.analyzer.arithmeticCall(x)?.op === '-');
    if (operand && subtracts(operand)) roots.push(e.span);
  });
  push({
    code: 'NB402',
    span: roots.length === 1 ? roots[0] : p.eq.spans[p.eq.spans.length - 1],
    message: `the step divides by the square root of ${vt}${arg.length > 2 ? ' minus the squared mean' : ''} minus ${eps}: ε is subtracted under the root, so where the estimate falls below ${eps} the root is of a negative number (NaN) and where it equals ${eps} the step is infinite. Add ε under the root: √(… + ${eps})`,
    related: [{ span: v.eq.spans[0], message: `${vt} averages squared gradients here` }],
  });
  return true;
}

/** `sqrt(v_hat) - eps` as written in the step's statement at `span` (a root call minus a name, attribute or number). */
function rootMinusConstant(step: OptimizerStep, span: Span): Expr | undefined {
  const stmt = innermostStatement(step, span);
  if (!stmt) return undefined;
  let found: Expr | undefined;
  const isRoot = (e: Expr): boolean => e.kind === 'call' && ((e.callee.kind === 'attr' && e.callee.name === 'sqrt') || (e.callee.kind === 'name' && e.callee.name === 'sqrt'));
  walkAll([stmt], (e) => {
    if (found || e.kind !== 'binary' || e.op !== '-' || !isRoot(e.left)) return;
    if (e.right.kind === 'name' || e.right.kind === 'attr' || e.right.kind === 'num') found = e;
  });
  return found;
}

/**
 * T ← β·T + (1 − β)·T²: every term of the new value reads the old one, some squared, and nothing
 * else enters. The weight β's key ('' when the old value's weight is a number), or undefined.
 */
function ownSquareWeight(v: StateUpdate | undefined): string | undefined {
  if (!v) return undefined;
  const own = (f: PolyFactor): boolean => f.atom.k === 'sym' && f.atom.key === v.eq.key;
  const powers = v.eq.value.map((m) => m.fs.filter(own).reduce((n, f) => n + f.n, 0));
  // The weights: what multiplies the old value itself (β of β·T), the only other symbols allowed.
  const weights = new Set(v.eq.value.filter((m, i) => powers[i] === 1).flatMap((m) => m.fs.filter((f) => !own(f)).map((f) => f.key)));
  const onlyWeights = v.eq.value.every((m) => m.fs.every((f) => own(f) || (f.atom.k === 'sym' && f.n === 1 && weights.has(f.key))));
  if (!onlyWeights || !powers.every((n) => n === 1 || n === 2) || !powers.includes(1) || !powers.includes(2)) return undefined;
  return weights.size === 1 ? [...weights][0] : '';
}

/**
 * The raw gradient multiplied by Adam's ratio, g·m̂/(√v̂ + ε): a term of the step holds a moving
 * average m of g over the root of an average of g², and g itself as a factor. The ratio is about
 * sign(g) early on (and stays within ±1), so the step is about lr·|g|: every weight moves the same
 * way whatever its gradient's sign. Adam's step is lr·m̂/(√v̂ + ε), with no g beside it.
 */
function gradientTimesRatio(facts: Facts, step: OptimizerStep, p: ParamUpdate, term: StepTerm, v: StateUpdate, firstMoments: StateUpdate[], push: (f: OptimizerFinding) => void): boolean {
  if (!v.average || v.adds.length !== 1) return false;
  const base = squaredBase(v.adds[0].x);
  if (!base) return false;
  const m = firstMoments.find((s) => s.average && s.adds.length === 1 && s.adds[0].x.length === 1 && s.adds[0].x[0].fs.length === 1 && s.adds[0].x[0].fs[0].key === base && s.adds[0].x[0].fs[0].n === 1);
  if (!m || term.numerator.some((n) => n.n !== 1)) return false;
  // g as a factor of the term, beside m: g·m, not m alone.
  const g = term.mono.fs.find((f) => f.key === base && f.atom.k === 'sym' && f.n === 1);
  if (!g) return false;
  const gText = show(facts, step, base);
  push({
    code: 'NB402',
    span: p.eq.spans[p.eq.spans.length - 1],
    message: `the step multiplies the gradient ${gText} by Adam's ratio ${stateText(facts, m)}/(sqrt(${stateText(facts, v)}) + eps): that ratio is about sign(${gText}) on the first steps, so the step is about lr·|${gText}| and moves every weight the same way whatever the sign of its gradient. Adam's step is the ratio alone: lr * ${stateText(facts, m)} / (sqrt(${stateText(facts, v)}) + eps)`,
    related: [
      { span: m.eq.spans[0], message: `${stateText(facts, m)} averages ${gText} here` },
      { span: v.eq.spans[0], message: `${stateText(facts, v)} averages ${gText}² here` },
    ],
    corrected: withoutFactor(p, term.mono, g.key),
  });
  return true;
}

/**
 * √v multiplied into the step where it divides (`lr * g * np.sqrt(cache + eps)`): a term of the
 * parameter's step with no state below the bar holds √(v + c) with a positive power, v a state that
 * accumulates the square of the gradient the term reads (directly, or through a first moment).
 * AdaDelta's √(E[Δx²] + ε) in the numerator averages squared updates, not g², and sits over √(E[g²] + ε).
 */
function rootMultiplied(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const p of step.params) {
    terms: for (const term of stepTerms(step, p)) {
      if (term.denominator.length > 0) continue;
      for (const f of term.mono.fs) {
        if (f.atom.k !== 'fn' || f.atom.fn !== 'sqrt' || f.n <= 0 || f.atom.args.length !== 1) continue;
        const inside = f.atom.args[0];
        const held = inside.filter((m) => m.fs.length === 1 && m.fs[0].n === 1 && m.fs[0].atom.k === 'sym' && step.states.has(m.fs[0].atom.key) && m.c > 0);
        if (held.length !== 1 || !onlyStatePlusConstant(step, f.atom, held[0].fs[0].key)) continue;
        const v = step.states.get(held[0].fs[0].key)!;
        if (!v.self || v.adds.length !== 1) continue;
        const base = squaredBase(v.adds[0].x);
        if (!base) continue;
        // The tensor whose square v accumulates, read by the term itself or averaged by the first moment it reads.
        const direct = term.mono.fs.some((g) => g.atom.k === 'sym' && g.atom.key === base && g.n === 1);
        const throughMoment = term.numerator.some((n) => n.key !== v.eq.key && step.states.get(n.key)?.adds.some((a) => a.x.length === 1 && a.x[0].fs.length === 1 && a.x[0].fs[0].key === base && a.x[0].fs[0].n === 1));
        if (!direct && !throughMoment) continue;
        push({
          code: 'NB402',
          span: p.eq.spans[p.eq.spans.length - 1],
          message: `the step multiplies by the square root of ${stateText(facts, v)}, which accumulates squared gradients, where it should divide by it: the update then grows as g·|g| instead of staying near the learning rate. Divide by the square root instead: g / (sqrt(${stateText(facts, v)}) + eps)`,
          related: [{ span: v.eq.spans[0], message: `${stateText(facts, v)} accumulates squared gradients here` }],
          corrected: rootDivided(p, f.key),
        });
        break terms;
      }
    }
  }
}

/**
 * The root of the running mean square stored as the state (`s = np.sqrt(rho * s + (1 - rho) * g * g)`,
 * `s.mul_(rho).addcmul_(g, g, value=1 - rho).sqrt_()`), and the step divides by it: the next step
 * averages g² with that root, so the state mixes |g|-sized and g²-sized values and the denominator
 * is no longer √(E[g²]). Read off the state's normal form: one √ of a sum that reads the state's
 * old value as a plain factor (a·T) and adds one square (b·X², b ∝ 1 − a, or a sum with a = 1). A
 * root kept on purpose is squared back inside (√(ρ·r² + (1 − ρ)·g²)) and is not this.
 */
function rootStored(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const s of step.states.values()) {
    const value = s.eq.value;
    // `avg.sqrt_().add_(eps)`: the root with ε added after it in place is what is stored.
    const roots = value.filter((m) => m.c === 1 && m.fs.length === 1 && m.fs[0].n === 1 && m.fs[0].atom.k === 'fn' && m.fs[0].atom.fn === 'sqrt' && m.fs[0].atom.args.length === 1);
    if (roots.length !== 1) continue;
    const root = roots[0].fs[0];
    if (root.atom.k !== 'fn') continue;
    const split = splitSelf(root.atom.args[0], s.eq.key);
    if (!split || split.self.length === 0) continue;
    if (startsOverEachPass(step, s)) continue;
    const beta = linearSymbol(split.self);
    // ε inside the root (`acc.add_(eps).sqrt_()`) is a constant term, not a tensor the state averages.
    const groups = groupByTensor(split.rest, new Set(beta !== undefined ? [beta] : [])).filter((a) => a.x.some((m) => m.fs.length > 0));
    const tensors = groups.filter((a) => !constantTerm(step, s, a.x));
    if (tensors.length !== 1) continue;
    const base = squaredBase(tensors[0].x);
    if (!base) continue;
    if (!value.every((m) => m === roots[0] || constantTerm(step, s, [{ c: 1, fs: m.fs }], base))) continue;
    if (!groups.every((a) => a === tensors[0] || constantTerm(step, s, a.x, base))) continue;
    const average = proportional(tensors[0].b, sub(constant(1), split.self)) !== undefined;
    const sum = polyEquals(split.self, constant(1)) && polyEquals(tensors[0].b, constant(1));
    if (!average && !sum) continue;
    // The step divides by the stored root: the root mean square it meant to take.
    const reader = step.params.find((p) => stepTerms(step, p).some((t) => t.denominator.some((d) => d.key === s.eq.key)));
    if (!reader) continue;
    const written = stateText(facts, s);
    // `rms = …` in a helper, stored by `self.rms_prev = rms`: the state is the place that keeps it.
    const vt = s.eq.target.kind === 'name' && s.eq.key !== s.eq.target.name ? show(facts, step, s.eq.key) : written;
    const g = show(facts, step, base);
    const b = beta !== undefined ? show(facts, step, beta) : undefined;
    const kept = average ? (b ? `${vt} = ${b} * ${vt} + (1 - ${b}) * ${g} * ${g}` : `${vt} = β·${vt} + (1 − β)·${g}·${g}`) : `${vt} = ${vt} + ${g} * ${g}`;
    // The write that takes the root (`acc.add_(eps).sqrt_()` after `acc.add_(g * g)`), else the first.
    const rooting = s.eq.writes?.findIndex((w) => w.some((m) => m.fs.some((f) => f.n === 1 && f.atom.k === 'fn' && f.atom.fn === 'sqrt'))) ?? -1;
    push({
      code: 'NB402',
      span: s.eq.spans[rooting >= 0 && rooting < s.eq.spans.length ? rooting : 0],
      message: `${vt} stores the square root of its running ${average ? 'average' : 'sum'} of ${g}²${vt !== written ? ` (computed as ${written})` : ''}, and the next step ${average ? "averages" : "adds"} ${g}² ${average ? "with" : "to"} that root: the state is no longer ${average ? 'an average' : 'a sum'} of squared gradients, and the step does not divide by their root mean square. Keep the ${average ? 'average' : 'sum'} as the state (${kept}) and take the square root where the step divides by it`,
      related: [{ span: reader.eq.spans[reader.eq.spans.length - 1], message: `the step divides by the stored root here` }],
      corrected: [{ kind: 'average', key: s.eq.key, terms: [{ coef: split.self, x: sym(s.eq.key) }, { coef: tensors[0].b, x: tensors[0].x }] }, ...rooted(reader, s.eq.key)],
    });
  }
}

/**
 * A bare local that the loop around its first write (the function, when no loop holds it) gives a new
 * array, unconditionally, before that write (`total = torch.zeros_like(g)`, then `total.add_(g * g)`): it starts from zeros
 * on every pass and carries nothing to the next step, so its root is no stored state.
 */
function startsOverEachPass(step: OptimizerStep, s: StateUpdate): boolean {
  if (s.eq.target.kind !== 'name' || s.eq.target.name !== s.eq.key) return false;
  const first = s.eq.spans[0];
  const loops = loopsAround(step.fn.body, first);
  if (loops === undefined) return false;
  const body = loops.length > 0 ? loops[loops.length - 1].body : step.fn.body;
  // Given on every pass: a statement of the loop's own body, not one under an `if` (a start value on the first pass).
  return body.some((a) => {
    if (a.kind !== 'assign' || a.op || a.targets.length !== 1 || a.targets[0].kind !== 'name' || a.targets[0].name !== s.eq.key || a.span.end > first.start) return false;
    const v = a.value;
    return zeroValue(v) !== undefined || (v.kind === 'call' && v.callee.kind === 'attr' && isShapedLikeCall(v.callee.name)) || (v.kind === 'call' && v.callee.kind === 'name' && isShapedLikeCall(v.callee.name));
  });
}

/**
 * A term added to the stored root, inside or after it, that is a constant: a number, or one symbol to
 * the first power that is no state, not the squared gradient, and no factor of a parameter's step
 * (ε: `acc.add_(eps).sqrt_()`, `avg.sqrt_().add_(eps)`, a group's `group["eps"]`).
 */
function constantTerm(step: OptimizerStep, s: StateUpdate, x: Poly, base?: string): boolean {
  if (x.length !== 1) return false;
  const fs = x[0].fs;
  if (fs.length === 0) return true;
  if (fs.length !== 1 || fs[0].n !== 1 || fs[0].atom.k !== 'sym') return false;
  const key = fs[0].atom.key;
  if (key === s.eq.key || key === base || step.states.has(key)) return false;
  if (step.params.some((p) => p.eq.key === key || p.step.some((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === key)))) return false;
  return true;
}

/** The sum in `1/(…)` has one term that reads state (the state `key`, alone) and others that read none. */
function onlyStatePlusConstant(step: OptimizerStep, atom: Atom, key: string): boolean {
  const arg = atom.k === 'inv' ? atom.arg : atom.k === 'fn' ? atom.args[0] : undefined;
  if (!arg) return true;
  let withState = 0;
  for (const m of arg) {
    const keys = new Set<string>();
    for (const f of m.fs) for (const a of atomsOf([{ c: 1, fs: [f] }])) if (a.k === 'sym' && step.states.has(a.key)) keys.add(a.key);
    if (keys.size === 0) continue;
    if (keys.size > 1 || !keys.has(key)) return false;
    withState++;
  }
  return withState === 1;
}

/** States read in one term of a parameter step together with `s` (m and v of Adam). */
function partners(step: OptimizerStep, s: StateUpdate): StateUpdate[] {
  const out = new Set<StateUpdate>();
  for (const p of step.params)
    for (const t of stepTerms(step, p)) {
      const keys = [...t.numerator.map((n) => n.key), ...t.denominator.map((d) => d.key)];
      if (!keys.includes(s.eq.key)) continue;
      for (const k of keys) {
        const o = step.states.get(k);
        if (o && o !== s) out.add(o);
      }
    }
  return [...out];
}

// ------------------------------------------------------------------ NB403

function averages(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  const states = [...step.states.values()];
  for (const s of states) {
    if (sharedAcrossParameters(facts, step, s, push)) continue;
    if (averagedTwice(facts, step, s, push)) continue;
    if (doubleCounted(facts, step, s, push)) continue;
    if (s.self && !s.average && s.adds.length > 0 && overweighted(facts, step, s, push)) continue;
    if (s.average && learningRateAsDecay(facts, step, s, push)) continue;
    if (s.adds.length === 0 && velocityWithoutGradient(facts, step, s, push)) continue;
    if (s.adds.length > 0 && flippedVelocity(facts, step, s, push)) continue;
    if (!s.self || !s.beta || s.average || s.adds.length === 0) continue;
    const beta = s.beta;
    const others = partners(step, s).filter((o) => o.average && o.beta && o.beta !== beta);
    const corrected = step.corrections.some((c) => c.beta === beta && c.exp !== undefined);
    // β where 1 − β belongs: T = β·T + β·X. Part of an optimizer's averages (another moving average
    // beside it, or its own bias correction), or RMSprop's one cache: squares a parameter's update divides
    // by under a root (a lone first moment β·(m + g) is heavy-ball momentum with its step scaled by β).
    // A β the file gives only as ½ (`decay = 0.5`) is its own 1 − β: the weights sum to 1.
    const given = betaValues(step, beta);
    const half = given.length > 0 && given.every((x) => near(x, 0.5));
    // A β the file gives only as 1 (`self.s = 1.0`): 1·T + 1·g² is a plain sum, Adagrad's accumulator.
    const all = epsilonValues(step.fn, step.initial, beta);
    const unit = all.length > 0 && all.every((x) => near(x, 1));
    if (!half && !unit && s.adds.every((a) => proportional(a.b, s.self!) !== undefined) && (others.length > 0 || corrected || rootedSquares(step, s))) {
      push({
        code: 'NB403',
        span: s.eq.spans[0],
        message: `${stateText(facts, s)} is not a moving average: its old value and what it adds are both weighted by ${show(facts, step, beta)}, so the weights sum to 2·${show(facts, step, beta)}, not 1. The new value takes 1 - ${show(facts, step, beta)}: ${stateText(facts, s)} = ${show(facts, step, beta)} * ${stateText(facts, s)} + (1 - ${show(facts, step, beta)}) * …`,
        corrected: unweighted(s, beta),
      });
      continue;
    }
    // The other state's β: T = β₁·T + (1 − β₂)·X.
    let mixed = false;
    for (const o of others) {
      const oneMinus = sub(constant(1), sym(o.beta!));
      if (!s.adds.some((a) => proportional(a.b, oneMinus) !== undefined)) continue;
      if (mentions(oneMinus, beta)) continue;
      push({
        code: 'NB403',
        span: s.eq.spans[0],
        message: `${stateText(facts, s)} keeps ${show(facts, step, beta)} of its old value but adds 1 - ${show(facts, step, o.beta!)}, the weight of ${stateText(facts, o)}: the weights do not sum to 1. It takes 1 - ${show(facts, step, beta)}`,
        related: [{ span: o.eq.spans[0], message: `${stateText(facts, o)} is averaged with ${show(facts, step, o.beta!)} here` }],
        corrected: unweighted(s, beta),
      });
      mixed = true;
      break;
    }
    if (!mixed) borrowedDecay(facts, step, s, push);
  }
}

/** A state of squares (g², X²) that a parameter's update divides by under a root: RMSprop's cache. */
function rootedSquares(step: OptimizerStep, s: StateUpdate): boolean {
  if (s.max || !s.adds.every((a) => squaredBase(a.x) !== undefined)) return false;
  return step.params.some((p) => stepTerms(step, p).some((t) => t.denominator.some((d) => d.key === s.eq.key && d.sqrt)));
}

/**
 * AdaDelta's E[Δθ²] averaging the parameter's square: D ← ρ·D + (1 − ρ)·θ², with the update of θ
 * scaled by √(D + ε) over √(E[g²] + ε) (squaredWeightAverage.ts). The ratio is meant to be the RMS of
 * past updates over the RMS of past gradients; with θ² the step size follows the weights' magnitude.
 */
function weightSquareAveraged(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const w of squaredWeightAverages(step)) {
    const d = facts.source(w.average.target.span);
    const g = facts.source(w.gradient.target.span);
    const p = show(facts, step, w.param.key);
    const rho = /^[\d.]+$/.test(w.weight) ? w.weight : show(facts, step, w.weight);
    const at = w.average.spans[w.average.spans.length - 1];
    push({
      code: 'NB403',
      span: at,
      message:
        `${d} averages the square of the parameter ${p}, not the square of the step: the update multiplies the gradient by √(${d} + ε)/√(${g} + ε), AdaDelta's ratio of the RMS of past updates to the RMS of past gradients, ` +
        `so with the weights' square in ${d} the step size follows the weights' magnitude (a weight near zero barely moves, a large one takes large steps) instead of the scale of past updates. ` +
        `Average the squared update: delta = -√(${d} + ε)/√(${g} + ε)·g, then ${d} = ${rho} * ${d} + (1 - ${rho}) * delta ** 2`,
      related: [{ span: w.param.spans[w.param.spans.length - 1], message: `${p}'s update is scaled by √(${d} + ε) here` }],
      forms: squaredWeightAverageForms(d, g, p, rho),
    });
  }
}

/**
 * T = β₁·T + (1 − β₂)·X where β₁ is the β another moment of the step averages with (m = β₁·m +
 * (1 − β₁)·g) and β₂ the one T's own bias correction divides by: T keeps the other moment's β of its
 * old value, so the weights sum to 1 + β₁ − β₂. The β T adds with is its own: it keeps β₂.
 */
function borrowedDecay(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const own = intendedBeta(step, s);
  if (!own || own === s.beta) return false;
  const lender = partners(step, s).find((o) => o.average && o.beta === s.beta);
  if (!lender) return false;
  const b = show(facts, step, s.beta!);
  const b2 = show(facts, step, own);
  const t = stateText(facts, s);
  push({
    code: 'NB403',
    span: s.eq.spans[0],
    message: `${t} keeps ${b} of its old value, the weight of ${stateText(facts, lender)}, but adds 1 - ${b2}: the weights sum to 1 + ${b} - ${b2}, not 1, so ${t} decays toward 0 and the steps grow. It keeps ${b2}, the β its bias correction divides by: ${t} = ${b2} * ${t} + (1 - ${b2}) * …`,
    related: [{ span: lender.eq.spans[0], message: `${stateText(facts, lender)} is averaged with ${b} here` }],
    corrected: unweighted(s, own),
  });
  return true;
}

/**
 * The β a state that is not a moving average was meant to average with: every term it adds is
 * weighted by 1 − β′ for one β′ other than the β on its old value, and the step bias-corrects by
 * 1 − β′ᵗ while no moving average of the step has β′ for its own.
 */
function intendedBeta(step: OptimizerStep, s: StateUpdate): string | undefined {
  if (s.average || !s.beta || !s.self || s.adds.length === 0 || s.max) return undefined;
  if (proportional(s.self, sym(s.beta)) === undefined) return undefined;
  let found: string | undefined;
  for (const a of s.adds) {
    const candidates = [...new Set(step.corrections.filter((c) => c.exp !== undefined && c.beta !== s.beta).map((c) => c.beta))];
    const match = candidates.filter((beta) => proportional(a.b, sub(constant(1), sym(beta))) !== undefined);
    if (match.length !== 1 || (found && found !== match[0])) return undefined;
    found = match[0];
  }
  if (!found || [...step.states.values()].some((o) => o.average && o.beta === found)) return undefined;
  return found;
}

/** Two fields the step averages two moments with, both holding one β argument, while another β argument is never read. */
function sharedBetaStored(facts: Facts, w: SharedBetaArgument, push: (f: OptimizerFinding) => void): void {
  const [a, b] = w.averages;
  const self = facts.source(w.span).split('.')[0].trim();
  // In a helper the call fills, the β has the helper's parameter name: name the field beside it.
  const weight = (s: StateUpdate, field: string): string => (s.beta === `${self}.${field}` ? s.beta : `${s.beta} (${self}.${field})`);
  push({
    code: 'NB403',
    span: w.span,
    message: `${self}.${w.field} is given the argument ${w.shared}, which ${self}.${w.otherField} already holds, and the argument ${w.unread} is never read: ${stateText(facts, a)} is averaged with the same β as ${stateText(facts, b)}, and ${w.unread} has no effect. Store ${w.unread}: ${self}.${w.field} = ${w.unread}`,
    related: [
      { span: a.eq.spans[0], message: `${stateText(facts, a)} is averaged with ${weight(a, w.field)} here` },
      { span: b.eq.spans[0], message: `${stateText(facts, b)} is averaged with ${weight(b, w.otherField)} here` },
    ],
  });
}

/**
 * A momentum whose state is overwritten with the raw step (rawStepMomentum.ts): the update applies
 * (1 − β)·X + β·K and K then holds X alone, so K averages nothing across steps.
 */
function rawStepStored(facts: Facts, c: CarriedRawStep, push: (f: OptimizerFinding) => void): void {
  const k = facts.source(c.storeTarget);
  const b = facts.language === 'python' ? c.beta.replace(/"/g, "'") : c.beta;
  const x = c.storedValue ? facts.source(c.storedValue) : 'the new step';
  push({
    code: 'NB403',
    span: c.store,
    message: `${k} is overwritten with ${x} on every call, while the update blends its old value in as a momentum's, ${b} * ${k} + (1 - ${b}) * ${x}: ${k} never reads its own old value, so each update mixes only this call's ${x} with the last call's (${b} of the weight on the stale one) instead of averaging over about 1/(1 - ${b}) steps, and no velocity builds up. Store the blend, ${k} = ${b} * ${k} + (1 - ${b}) * ${x}, and let the update read the new ${k}`,
    related: [{ span: c.param.spans[0], message: `the update reads ${k}'s old value here` }],
    corrected: [{ kind: 'average', key: c.key, terms: [{ coef: sym(c.beta), x: sym(c.key) }, { coef: sub(constant(1), sym(c.beta)), x: c.x }] }],
    forms: rawStepMomentumForms(k, x, b),
  });
}

/** c·X + (1 − c)·X (selfBlend.ts): X itself, so the target never reads its old value. */
function blendOfItself(facts: Facts, b: SelfBlend, push: (f: OptimizerFinding) => void): void {
  const [t, x, c] = [facts.source(b.target.span), facts.source(b.x.span), facts.source(b.weight.span)];
  push({
    code: 'NB403',
    span: b.span,
    message: `${facts.source(b.span)} is ${x}: the blend weighs ${x} against itself, so ${t} never reads its old value and averages nothing (a momentum written this way is plain gradient descent). A moving average blends the old value in: ${t} = ${c} * ${t} + (1 - ${c}) * ${x}`,
  });
}

/** Whether the function's own statements differentiate the value under `key` (`loss.backward()`, `tape.gradient(loss, …)`). */
function differentiatedIn(facts: Facts, fn: FunctionDef, key: string): boolean {
  const autodiff = trainingFacts(facts).autodiffContext();
  let found = false;
  walkAll(fn.body, (e) => {
    if (found || e.kind !== 'call') return;
    const loss = autodiffCall(e, autodiff)?.loss;
    if (loss && exprKey(loss) === key) found = true;
  });
  return found;
}

/**
 * One moving average for several parameters: a state no loop variable picks (`self.m`, `this.velocity`),
 * averaged inside a loop that walks the parameters (`for p, g in zip(params, grads)`) from what that
 * loop picks (each parameter's gradient), and read by the update of the parameter the loop picks.
 * Each parameter's step then mixes the gradients of the parameters before it, and the average is
 * updated once per parameter in one step. Per-parameter state (`self.m[i]`, `self.state[p]['m']`,
 * `layer.m` in `for layer in layers`) is picked by the loop and stays silent.
 */
function sharedAcrossParameters(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  if (!s.average || s.eq.branched || s.adds.length === 0) return false;
  // A place that outlives the iteration (`self.m`), written from its own old value by one statement;
  // a local given the new value of a picked entry (`m = b1 * self.m[k] + …`, stored back later) is not.
  const target = s.eq.target;
  const key = exprKey(target);
  if (/^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(s.eq.key)) return sharedLocalAcrossParameters(facts, step, s, push);
  if ((target.kind !== 'attr' && target.kind !== 'index') || key === undefined) return false;
  const statement = innermostStatement(step, s.eq.spans[0]);
  // `this.v = mu * this.v + …`, or a JS Map's entry `this.state.set('v', mu * this.state.get('v') + …)`.
  const stored = statement?.kind === 'expr' && statement.expr.kind === 'call' ? mapEntryWrite(facts, statement.expr) : undefined;
  const write = statement?.kind === 'assign' && !statement.op ? statement : stored;
  const readsOld = (x: Expr): boolean => x !== target && (exprKey(x) === key || (stored !== undefined && x.kind === 'call' && exprKey(entryReadByGet(x) ?? x) === key));
  if (!write || !someExpr(write.value, readsOld)) return false;
  const body = step.fn.body;
  const source = (x: Span): string => facts.source(x);
  const writes = s.eq.spans;
  for (const p of step.params) {
    if (!mentions(p.step, s.eq.key)) continue;
    const around = loopsAround(body, p.eq.spans[0]);
    if (!around) continue;
    const updateSpans = [...writes, ...p.eq.spans];
    const paramPicked = pickedBy(body, p.eq.target, p.eq.spans, source);
    const statePicked = pickedBy(body, s.eq.target, updateSpans, source);
    for (const loop of around) {
      if (loop.kind !== 'for') continue;
      const vars = namesIn(loop.target);
      if (!vars.some((v) => paramPicked.has(v)) || vars.some((v) => statePicked.has(v))) continue;
      if (!writes.every((w) => within(w, loop.span) && !within(w, loop.iter.span))) continue;
      // What the average adds is the picked parameter's own: its value reads the loop's variables,
      // directly (`grads[i]`) or through locals (`grad = layers[i].grad`).
      if (!vars.some((v) => pickedBy(body, write.value, updateSpans, source).has(v))) continue;
      const t = stateText(facts, s);
      push({
        code: 'NB403',
        span: writes[0],
        message: `${t} is one moving average for every parameter: the loop over ${facts.source(loop.target.span)} updates it once per parameter, so each parameter's step averages the gradients of the parameters before it, not its own over time. Keep one per parameter (indexed by the loop, or in the parameter's own state)`,
        related: [{ span: p.eq.spans[0], message: `the update of ${facts.source(p.eq.target.span)} reads ${t} here` }],
      });
      return true;
    }
  }
  return false;
}

/**
 * The same with the average in a local or an argument the loop carries from one parameter to the next:
 * `for w, g in zip(params, grads): v = beta * v + (1 - beta) * g; new.append(w - lr * v)`, with `v`
 * an argument or started once before the loop. The evaluation reads the loop's `v` as the variable
 * itself only when nothing in the iteration gave it another value first (`v = vs[i]` makes the average
 * that entry's), so the name is carried when the loop body assigns it and the loop does not bind it
 * (`for w, g, v in zip(params, grads, vs)` has a `v` per parameter).
 */
function sharedLocalAcrossParameters(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const name = s.eq.key;
  const body = step.fn.body;
  const writes = s.eq.spans;
  const write = innermostStatement(step, writes[0]);
  if (write?.kind !== 'assign') return false;
  // Every write binds a name (`v = …`, `v_new = …` holding its new value): `vs[i] = v` keys the list.
  const bindsName = (x: Stmt | undefined): boolean => x?.kind === 'assign' && !x.op && x.targets.length === 1 && x.targets[0].kind === 'name';
  if (!writes.every((w) => bindsName(innermostStatement(step, w)))) return false;
  // The average reads the name itself (`beta * v + …`), not an entry of it (`rowsM[node][k]`, keyed by its list).
  const objects = new Set<Expr>();
  someExpr(write.value, (x) => (x.kind === 'attr' || x.kind === 'index') && x.object.kind === 'name' && objects.add(x.object) === undefined);
  if (!someExpr(write.value, (x) => x.kind === 'name' && x.name === name && !objects.has(x))) return false;
  const source = (x: Span): string => facts.source(x);
  const loops = (loopsAround(body, writes[0]) ?? []).filter((l): l is Stmt & { kind: 'for' } => l.kind === 'for');
  for (const p of step.params) {
    // What the average adds is a gradient, not the parameter itself (a running mean of the values the loop walks).
    if (!mentions(p.step, name) || s.adds.every((a) => mentions(a.x, p.eq.key))) continue;
    const updateSpans = [...writes, ...p.eq.spans];
    const paramPicked = pickedBy(body, p.eq.target, p.eq.spans, source);
    const addsPicked = pickedBy(body, write.value, updateSpans, source);
    for (const loop of loops) {
      const vars = namesIn(loop.target);
      if (vars.includes(name) || !vars.some((v) => paramPicked.has(v)) || !vars.some((v) => addsPicked.has(v))) continue;
      if (!writes.every((w) => within(w, loop.span) && !within(w, loop.iter.span)) || !p.eq.spans.every((w) => within(w, loop.span))) continue;
      // Carried: the loop body rebinds the name (`v = Vt`, `v = beta * v + …`).
      if (!ownStatements(loop.body).some((x) => x.kind === 'assign' && x.targets.some((t) => (t.kind === 'name' && t.name === name) || (t.kind === 'seq' && t.items.some((i) => i.kind === 'name' && i.name === name))))) continue;
      // Picked afresh each iteration before the average: `m = self.m.get(k, zeros)`, `v = self.get_slot(p, 'v')`
      // (a value selected by the loop's variables, not from the name itself) is that parameter's own.
      // `self.state.get('m', np.zeros_like(p))` selects one entry for all: p only shapes the default.
      // So is a fresh zero made for it (`m = K.zeros(K.int_shape(p))`, `v = np.zeros_like(w)`) by a statement
      // of the loop's own body that every iteration runs: the name is rebound before the average reads it,
      // and nothing reaches the next parameter. A zero made only under a condition (`if v is None: v = …`,
      // a first-parameter flag) starts the first parameter's average and leaves the rest carried.
      // (Also unpacked with its partner from one entry: `m, v = self.state.get(i, (zeros, zeros))`.)
      const bound = (t: Expr): boolean => (t.kind === 'name' && t.name === name) || (t.kind === 'seq' && t.items.some((i) => i.kind === 'name' && i.name === name));
      const rebound = (x: Stmt): boolean => x.kind === 'assign' && !x.op && x.span.end <= writes[0].start && x.targets.length === 1 && bound(x.targets[0]) && !someExpr(x.value, (e) => e.kind === 'name' && e.name === name);
      // The parameter may be the variable of a loop inside this one (`for group in …: for p in group['params']`):
      // a value selected by the inner loop's variable is that parameter's own too. And its state object may
      // sit in a local (`st = self.state[p]`) read by a method of its own (`st.get('m', zeros)`) or an
      // entry under a condition (`st['m'] if 'm' in st else zeros`): a load of that parameter's own state.
      const inner = loops.slice(loops.indexOf(loop)).flatMap((l) => namesIn(l.target));
      const own = perParameterObjects(facts, loop.body, writes[0], inner);
      if (ownStatements(loop.body).some((x) => rebound(x) && x.kind === 'assign' && (selectedBy(facts, x.value, inner) || loadsOwnState(x.value, own)))) continue;
      if (loop.body.some((x) => rebound(x) && x.kind === 'assign' && zeroValue(x.value) !== undefined)) continue;
      push({
        code: 'NB403',
        span: writes[0],
        message: `\`${name}\` is one moving average for every parameter: the loop over ${facts.source(loop.target.span)} carries it from one parameter to the next and updates it once per parameter, so each parameter's average starts from the previous parameter's and mixes their gradients, not its own over time. Keep one per parameter (a list indexed by the loop, zipped with the parameters, or in the parameter's own state)`,
        related: [{ span: p.eq.spans[0], message: `the update of ${facts.source(p.eq.target.span)} reads \`${name}\` here` }],
      });
      return true;
    }
  }
  return false;
}

/**
 * Whether a value is selected by one of the loop's variables: an entry at it (`self.m[k]`), or a
 * method of a value, not a module, handed it first (`self.m.get(k, zeros)`, `self.get_slot(p, 'v')`);
 * not a value it only shapes (`np.zeros_like(p)`, the default of `.get('m', …)`).
 */
/**
 * Locals holding one parameter's own state object: `st = self.state[p]` (an entry selected by the
 * parameter's variable), assigned once by a statement of the loop's body before the average's write
 * and never rebound.
 */
function perParameterObjects(facts: Facts, body: Stmt[], before: Span, vars: string[]): Set<string> {
  const out = new Set<string>();
  const assigns = new Map<string, number>();
  for (const x of ownStatements(body)) {
    if (x.kind !== 'assign') continue;
    for (const t of x.targets) if (t.kind === 'name') assigns.set(t.name, (assigns.get(t.name) ?? 0) + 1);
  }
  for (const x of ownStatements(body)) {
    if (x.kind !== 'assign' || x.op || x.span.end > before.start || x.targets.length !== 1 || x.targets[0].kind !== 'name') continue;
    const name = x.targets[0].name;
    if (assigns.get(name) !== 1 || vars.includes(name)) continue;
    if (x.value.kind === 'index' && x.value.index.some((i) => someExpr(i, (e) => e.kind === 'name' && vars.includes(e.name))) && !facts.analyzer.isModule(x.value.object)) out.add(name);
  }
  return out;
}

/**
 * A load from one parameter's own state object (perParameterObjects): a method of it (`st.get('m', zeros)`)
 * or an entry of it (`st['m']`, under a condition or not), so the value is that parameter's own.
 */
function loadsOwnState(value: Expr, own: Set<string>): boolean {
  if (own.size === 0) return false;
  const isOwn = (e: Expr): boolean => e.kind === 'name' && own.has(e.name);
  const load = (e: Expr): boolean => (e.kind === 'call' && e.callee.kind === 'attr' && isOwn(e.callee.object)) || (e.kind === 'index' && isOwn(e.object));
  if (load(value)) return true;
  return value.kind === 'cond' && (load(value.then) || load(value.else));
}

function selectedBy(facts: Facts, value: Expr, vars: string[]): boolean {
  const reads = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'name' && vars.includes(x.name));
  return someExpr(value, (e) => (e.kind === 'index' && e.index.some(reads)) || (e.kind === 'call' && e.callee.kind === 'attr' && e.args.length > 0 && reads(e.args[0]) && !facts.analyzer.isModule(e.callee.object)));
}

/**
 * One moving average for several weights one call away (sharedMomentCalls.ts): reported at the call
 * in the loop, where the sharing happens (the helper alone may be right for a caller that hands it
 * one object per weight, and it may sit in another file), with the moment's update beside it.
 */
function sharedThroughCall(facts: Facts, c: SharedMomentCall, push: (f: OptimizerFinding) => void): void {
  const names = c.moments.map((m) => m.text);
  const moment = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const one = names.length === 1 ? 'one moving average' : 'moving averages';
  const where = c.elsewhere ? ` (${c.elsewhere})` : '';
  push({
    code: 'NB403',
    span: c.call,
    message: `${c.helper} keeps ${one} in ${moment}${where} on ${c.onInstance ? 'the object it runs on' : 'the object it is handed'}, and the loop over ${c.loopVars} ${c.onInstance ? 'runs it on' : 'hands it'} ${c.handed} for every weight: all the weights share ${names.length === 1 ? 'that average' : 'those averages'}, so each weight's step averages the gradients of the weights before it, not its own over time. Keep one per weight (indexed by the weight, or on the weight's own object)`,
    ...(c.elsewhere ? {} : { related: c.moments.map((m) => ({ span: m.span, message: `${m.text} is updated here, once per call` })) }),
  });
}

/**
 * A moving average written twice in one step, both writes running (`m.mul_(b1).add_(g, alpha=1 -
 * b1)` in a helper the step calls and again in the step): each write is an average with β, and
 * together they are one with β² (T ← β²·T + (1 − β²)·X), so the average forgets twice as fast and
 * the new gradient weighs 1 − β² instead of 1 − β. Decided on each write's own value: a deliberate
 * average written once with β² (or Adan's differences) is one write, and writes in branches that
 * exclude each other are not composed (`branched`). A write that only stores the value a local
 * computed (`state['m'] = m`) is no average of its own.
 */
function averagedTwice(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const writes = s.eq.writes;
  if (!writes || s.eq.branched || writes.length !== s.eq.spans.length) return false;
  const scalars = new Set(atomsOf(s.eq.value).flatMap((a) => (a.k === 'sym' && a.key !== s.eq.key ? [a.key] : [])));
  const averaging: { beta: string; index: number; adds: { x: Poly; b: Poly }[] }[] = [];
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    if (polyEquals(w, sym(s.eq.key))) continue;
    const split = splitSelf(w, s.eq.key);
    const beta = split && linearSymbol(split.self);
    // Every write averages with one β: its old value weighed by β, what it adds by 1 − β.
    if (!split || !beta || !polyEquals(split.self, sym(beta))) return false;
    const oneMinus = sub(constant(1), sym(beta));
    const adds = groupByTensor(split.rest, new Set([...scalars].filter((k) => k === beta)));
    if (adds.length === 0 || !adds.every((a) => proportional(a.b, oneMinus) === 1 && !mentions(a.x, s.eq.key))) return false;
    averaging.push({ beta, index: i, adds });
  }
  if (averaging.length < 2 || !averaging.every((a) => a.beta === averaging[0].beta)) return false;
  // Each write under the same condition (or none): one under an `if` may be skipped by a return, a
  // `continue` or another branch the normal form does not tell apart.
  // A write in a helper the step calls stands under the condition of that call.
  const conditions = averaging.map((a) => writeCondition(facts, step, s.eq.spans[a.index]));
  if (conditions.some((c) => c === false) || !conditions.every((c) => c === conditions[0])) return false;
  // Entries keyed by two names whose values the step does not know (`v[wkey]`, `v[bkey]`, two
  // arguments) may be two entries: not one average written twice.
  const unknownKeys = new Set(averaging.flatMap((a) => unknownIndexName(facts, s.eq.spans[a.index]) ?? []));
  if (unknownKeys.size > 1) return false;
  // The composed update keeps βᵏ of the old value: the writes all run, one after the other.
  const beta = averaging[0].beta;
  const k = averaging.length;
  const composed = splitSelf(s.eq.value, s.eq.key);
  if (!composed || !polyEquals(composed.self, pow(sym(beta), constant(k)))) return false;
  const b = show(facts, step, beta);
  const t = stateText(facts, s);
  // The same tensor added by every write (the gradient twice), or different ones (g², then |g|).
  const same = averaging.every((a) => a.adds.length === averaging[0].adds.length && a.adds.every((x, i) => polyEquals(x.x, averaging[0].adds[i].x)));
  const last = s.eq.spans[averaging[k - 1].index];
  const times = k === 2 ? 'twice' : `${k} times`;
  push({
    code: 'NB403',
    span: last,
    message: `${t} is averaged ${times} in one step, each time with ${b}: together its old value keeps ${b} ** ${k} and ${same ? `what it adds gets 1 - ${b} ** ${k} instead of 1 - ${b}` : `what the earlier writes add is weighted down again by the later ones`}, so the average forgets as if its β were ${b} ** ${k} (${forgetsAs(step.initial(beta), k)}). Update it once per step`,
    related: averaging.slice(0, -1).map((a) => ({ span: s.eq.spans[a.index], message: `${t} is averaged with ${b} here too, in the same step` })),
    corrected: unweighted({ ...s, adds: averaging[k - 1].adds }, beta),
  });
  return true;
}

/** The name a write's target is indexed by (`v[key] = …`) when that name is not bound to a string there. */
function unknownIndexName(facts: Facts, span: Span): string | undefined {
  const st = programIndex(facts).stmtBySpan.get(spanKey(span));
  const target = st?.kind === 'assign' && st.targets.length === 1 ? st.targets[0] : undefined;
  const index = target?.kind === 'index' && target.index.length === 1 ? target.index[0] : undefined;
  if (index?.kind !== 'name') return undefined;
  const b = programIndex(facts).scopeAt(span.start).lookup(index.name, span.start);
  return b?.kind === 'assign' && b.value && !b.unpacked && stringKey(facts, b.value) !== undefined ? undefined : index.name;
}

/**
 * The condition a write runs under, seen from the step: its own for a write in the step, that of
 * the step's one call of the helper that holds it otherwise; false when that call is not found.
 */
function writeCondition(facts: Facts, step: OptimizerStep, span: Span): Stmt | undefined | false {
  if (step.fn.span.start <= span.start && span.end <= step.fn.span.end) return innermostAround(facts, span, false);
  const helper = enclosingFunction(facts.module.body, span, 0);
  if (!helper) return false;
  const calls: Span[] = [];
  walkAll(step.fn.body, (e) => {
    if (e.kind === 'call' && ((e.callee.kind === 'attr' && e.callee.name === helper) || (e.callee.kind === 'name' && e.callee.name === helper))) calls.push(e.span);
  });
  return calls.length === 1 ? innermostAround(facts, calls[0], false) : false;
}

function enclosingFunction(body: Stmt[], span: Span, depth: number): string | undefined {
  if (depth > 60) return undefined;
  for (const st of body) {
    if (st.span.start > span.start || st.span.end < span.end) continue;
    if (st.kind === 'function') return enclosingFunction(st.body, span, depth + 1) ?? st.name;
    if (st.kind === 'class' || st.kind === 'block' || st.kind === 'for') return enclosingFunction(st.body, span, depth + 1);
  }
  return undefined;
}

/**
 * A moving average that adds one tensor twice under two names: T ← β·T + (1 − β)·(g + u) with u a
 * local alias of g (`u = g`, often then decayed in place, `u.add_(p, alpha=wd)`, which decays g as
 * well). The sum is 2·g (2·(g + λ·p)): the weights sum to β + 2(1 − β), not 1. Read in any step with
 * a moving average (a LARS or SGD momentum as well as Adam's); heavy-ball momentum, which adds g
 * with weight 1, is no average and is not read here.
 */
function doubleCounted(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  if (!s.self || !s.beta || !s.average) return false;
  const oneMinus = sub(constant(1), sym(s.beta));
  for (const d of step.doubleReads ?? []) {
    if (!s.eq.spans.some((x) => x.start <= d.span.start && d.span.end <= x.end)) continue;
    const twice = s.adds.find((a) => a.x.length === 1 && a.x[0].fs.length === 1 && a.x[0].fs[0].atom.k === 'sym' && a.x[0].fs[0].atom.key === d.key && a.x[0].fs[0].n === 1 && proportional(a.b, oneMinus) === 2);
    if (!twice) continue;
    const t = stateText(facts, s);
    const b = show(facts, step, s.beta);
    const sum = facts.source(d.span);
    const decayed = d.inPlace !== undefined && d.inPlace.start > d.aliasSpan.start;
    push({
      code: 'NB403',
      span: s.eq.spans[0],
      message: `${sum} adds the same tensor twice: ${d.alias} is ${d.other} under another name${decayed ? `, and changing it in place changed ${d.other} too` : ''}, so ${t} adds 2·(1 - ${b}) of it and its weights sum to ${b} + 2·(1 - ${b}), not 1${decayed ? '; what the in-place change added counts twice too' : ''}. Add it once: ${t} = ${b} * ${t} + (1 - ${b}) * ${d.alias}`,
      related: [
        { span: d.aliasSpan, message: `${d.alias} is ${d.other} here, not a copy` },
        ...(decayed ? [{ span: d.inPlace!, message: `this changes ${d.other} as well as ${d.alias}` }] : []),
      ],
      corrected: unweighted(s, s.beta),
    });
    return true;
  }
  return false;
}

/**
 * An average whose old value weighs more than 1, read by the parameter's step: T ← (1 + β)·T +
 * (1 − β)·X (`+=` around a whole moving average: the weights sum to 2), or T ← T/β + (1 − β)·X (the
 * reciprocal of β: 1/β > 1 makes T grow as β⁻ᵗ). A sum of gradients (AdaGrad's T ← T + g²) has no
 * 1 − β weight and is not read here.
 */
function overweighted(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const self = s.self!;
  const plus = s.beta !== undefined && polyEquals(self, add(constant(1), sym(s.beta))) ? s.beta : undefined;
  const f = self.length === 1 && near(self[0].c, 1) && self[0].fs.length === 1 ? self[0].fs[0] : undefined;
  const reciprocal = f && f.n === -1 && f.atom.k === 'sym' ? f.atom.key : undefined;
  const beta = plus ?? reciprocal;
  if (beta === undefined) return false;
  const oneMinus = sub(constant(1), sym(beta));
  // β read only as 1/β is no β of the step's: what the state adds is grouped again with β as a scalar.
  const scalars = new Set([beta, ...s.adds.flatMap((a) => atomsOf(a.b)).flatMap((a) => (a.k === 'sym' ? [a.key] : []))]);
  const adds = groupByTensor(splitSelf(s.eq.value, s.eq.key)?.rest ?? [], scalars);
  if (adds.length === 0 || !adds.every((a) => proportional(a.b, oneMinus) !== undefined)) return false;
  // Read by a parameter's step, wherever it sits there (RAdam's √((1 − β₂ᵗ)/v) too).
  if (!step.params.some((p) => mentions(p.step, s.eq.key))) return false;
  const b = show(facts, step, beta);
  const t = stateText(facts, s);
  push({
    code: 'NB403',
    span: s.eq.spans[0],
    message: plus !== undefined
      ? `${t} adds a whole moving average to its old value: it keeps 1 + ${b} of it and adds 1 - ${b} of the new term, so the weights sum to 2, not 1, and ${t} grows every step. Assign the average instead of adding it (= rather than +=): ${assignText(facts, s, `${b} * ${t} + (1 - ${b}) * …`)}`
      : `${t} keeps 1/${b} of its old value where a moving average keeps ${b}: 1/${b} is more than 1, so ${t} grows by that factor every step and the weights sum to more than 1. Multiply by ${b}: ${assignText(facts, s, `${b} * ${t} + (1 - ${b}) * …`)}`,
    corrected: unweighted({ ...s, adds }, beta),
  });
  return true;
}

/**
 * T = η·T + (1 − η)·X where η, the coefficient the average keeps of its old value, is also the
 * scalar every term of a parameter's step is multiplied by: the learning rate used as the
 * average's decay. With η = 10⁻³ the average keeps a thousandth of its past, so it is the last X
 * (RMSprop's cache is the last g², and the step lr·g/√(g²) is lr·sign(g)). Read by data flow: the
 * same symbol weights the old value (exactly, not 1 − η, Robbins–Monro's averaging with the step
 * size) and scales the update that reads the average; its name decides nothing.
 */
function learningRateAsDecay(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  const beta = s.beta;
  if (beta === undefined || !s.self || !polyEquals(s.self, sym(beta)) || s.max) return false;
  // Scales the step: a plain factor of every monomial of an update that reads the average (or a state built from it).
  const readers = new Set([s.eq.key, ...[...step.states.values()].filter((o) => o !== s && mentions(o.eq.value, s.eq.key)).map((o) => o.eq.key)]);
  const scaled = step.params.find(
    (p) => p.step.length > 0 && [...readers].some((k) => mentions(p.step, k)) && p.step.every((m) => m.fs.some((f) => f.n === 1 && f.atom.k === 'sym' && f.atom.key === beta)),
  );
  if (!scaled) return false;
  // Another state of the step averaged with the same symbol is the step's own β (a momentum whose step is its β times the average).
  if ([...step.states.values()].some((o) => o !== s && o.beta === beta && !o.average)) return false;
  const b = show(facts, step, beta);
  const t = stateText(facts, s);
  push({
    code: 'NB403',
    span: s.eq.spans[0],
    message: `${t} keeps ${b} of its old value and adds 1 - ${b} of the new term, and ${b} is also the step size that scales the parameter's update: a learning rate is small (1e-3 keeps a thousandth of the past), so ${t} is about its last term alone and averages nothing (for a squared gradient the step becomes about ${b}·sign(g)). Average with a decay of its own, near 1 (0.9–0.999): ${t} = rho * ${t} + (1 - rho) * …`,
    related: [{ span: scaled.eq.spans[scaled.eq.spans.length - 1], message: `${b} scales the step here` }],
  });
  return true;
}

/**
 * T = β·T with nothing added, read by a parameter's step that moves by T alone, in a function handed
 * an argument it never reads (the gradient): the velocity never takes the gradient in, so from a
 * zero start it stays zero and the weights never move. Only a state kept by the optimizer (on the
 * instance, apart from the parameter), stepping a parameter the caller hands in, and written nowhere
 * else in the class or file but by its start.
 */
function velocityWithoutGradient(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  if (!s.self || s.max || s.eq.branched) return false;
  const n = numeric(s.self);
  const beta = linearSymbol(s.self);
  if (!(n !== undefined ? n > 0 && n < 1 : beta !== undefined && polyEquals(s.self, sym(beta)))) return false;
  const key = s.eq.key;
  const fn = step.fn;
  const args = explicitParams(fn);
  const root = (k: string): string => /^[^.[]*/.exec(k)![0];
  // Every term of the update is scalars times T: a knob (no entry, no state, nothing the caller hands in).
  const scalarOrState = (a: Atom): boolean => a.k === 'sym' && (a.key === key || (!step.states.has(a.key) && !/[[\]]/.test(a.key) && !args.some((x) => x.name === root(a.key))));
  const p = step.params.find(
    (q) =>
      !q.returned &&
      q.eq.key !== key &&
      q.step.length > 0 &&
      q.step.every((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === key && f.n === 1) && m.fs.every((f) => scalarOrState(f.atom))),
  );
  if (!p) return false;
  // The parameter comes from the caller; the velocity is the optimizer's own, not the parameter's object's (a body's velocity beside its position).
  if (!handedIn(fn.body, root(p.eq.key), new Set(args.map((a) => a.name))) || root(key) === root(p.eq.key)) return false;
  // The argument the step is handed and never reads.
  const unread = args.find((a) => !a.rest && !readsName(fn.body, a.name));
  if (!unread) return false;
  if (stateWrittenElsewhere(facts, step, key)) return false;
  const t = stateText(facts, s);
  // A returned step's target is the parameter's name, spanning the `return`.
  const w = p.eq.target.kind === 'name' ? p.eq.key : facts.source(p.eq.target.span);
  push({
    code: 'NB403',
    span: s.eq.spans[0],
    message: `${t} only decays: it keeps ${beta !== undefined ? show(facts, step, beta) : formatNumber(n!)} of its old value and adds nothing, and the step never reads ${unread.name}, the argument it is handed: the gradient never enters the velocity, so from its zero start ${t} stays zero and ${w} never moves. A momentum adds the gradient step: ${t} = ${beta !== undefined ? show(facts, step, beta) : formatNumber(n!)} * ${t} - lr * …`,
    related: [{ span: p.eq.spans[p.eq.spans.length - 1], message: `${w} moves by ${t} alone here` }],
  });
  return true;
}

/**
 * A velocity that keeps −β of its old value: T ← X − β·T (`v = lr * g - beta * v`), read by a
 * parameter's step. The previous velocity is subtracted instead of carried, so successive steps
 * alternate in sign and, with a constant X, T settles at X/(1 + β) (0.53·X for β = 0.9) instead of the
 * X/(1 − β) (10·X) a momentum builds up. Read by data flow on the state's normal form, whatever the
 * helper it is written in (a `delta(key, grad)` the layers subtract): β is a symbol, or a number,
 * between 0 and 1 where the file gives it values; an old value kept with −1 (`v = g - v`) or a
 * coefficient of several terms is not read.
 */
function flippedVelocity(facts: Facts, step: OptimizerStep, s: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  if (!s.self || s.max || s.eq.branched) return false;
  const n = numeric(s.self);
  const negated = n === undefined ? scale(s.self, -1) : undefined;
  const beta = negated && negated.length === 1 && near(negated[0].c, 1) && negated[0].fs.length === 1 && negated[0].fs[0].n === 1 && negated[0].fs[0].atom.k === 'sym' ? negated[0].fs[0].atom.key : undefined;
  if (n !== undefined ? !(n < 0 && n > -1) : beta === undefined) return false;
  if (beta !== undefined) {
    const given = epsilonValues(step.fn, step.initial, beta);
    if (given.length > 0 && !given.every((x) => x > 0 && x < 1)) return false;
    // A step count or a state is no β, nor a loop's variable (`for regex, replacement in table: text = re.sub(…)`).
    if (step.states.has(beta) || step.counters.has(beta)) return false;
    const root = /^[^.[]*/.exec(beta)![0];
    let looped = false;
    const visit = (body: Stmt[], depth: number): void => {
      for (const st of body) {
        if (depth > 40 || looped) return;
        if (st.kind === 'for' && namesIn(st.target).includes(root)) looped = true;
        if (st.kind === 'for' || st.kind === 'block') visit(st.body, depth + 1);
      }
    };
    visit(step.fn.body, 0);
    if (looped) return false;
  }
  // What it adds is the gradient's step: no term of it reads the state itself again, nor another state of the
  // step (`object.weights_grad = -lr * object.weights_grad + self.v[i]`: a gradient turned into the step, not a velocity).
  if (s.adds.some((a) => mentions(a.x, s.eq.key) || atomsOf(a.x).some((x) => x.k === 'sym' && step.states.has(x.key)))) return false;
  // One write both subtracts the old value and adds the new term (`v = lr * g - beta * v`): not a
  // direction scaled in place by a negative rate after it was built (`_foreach_mul_(dirs, -lr)`).
  const flipsAndAdds = (w: Poly): boolean => subtractsOldAndAdds(w, s.eq.key);
  if (!(s.eq.writes ?? [s.eq.value]).some(flipsAndAdds) || !writtenAsArithmetic(facts, s.eq) || !oldValueReadOnce(facts, s.eq)) return false;
  const p = step.params.find((q) => mentions(q.step, s.eq.key));
  if (!p) return false;
  const t = stateText(facts, s);
  const b = beta !== undefined ? show(facts, step, beta) : formatNumber(-n!);
  const value = beta !== undefined ? betaOrUsual(step, beta, false).value : -n!;
  const settles = formatNumber(Number((1 / (1 + value)).toPrecision(2)));
  const builds = formatNumber(Number((1 / (1 - value)).toPrecision(2)));
  push({
    code: 'NB403',
    span: s.eq.spans[0],
    message: `${t} keeps -${b} of its old value: the previous velocity is subtracted instead of carried, so successive steps alternate in sign, and with a steady gradient ${t} settles at ${settles} times the new term (for ${b} = ${formatNumber(value)}) instead of the ${builds} times a momentum builds up. A momentum keeps +${b}: ${assignText(facts, s, `${b} * ${t} + …`)}`,
    related: [{ span: p.eq.spans[p.eq.spans.length - 1], message: p.returned ? `${t} is returned here, the step its callers apply` : `the parameter moves by ${t} here` }],
  });
  return true;
}

/** A name the caller hands in: an argument, or a loop variable over one (`for name, layer in layers.items()`). */
function handedIn(body: Stmt[], name: string, args: Set<string>, depth = 0): boolean {
  if (args.has(name)) return true;
  if (depth > 20) return false;
  const binds = (t: Expr): boolean => (t.kind === 'name' ? t.name === name : t.kind === 'seq' ? t.items.some(binds) : false);
  return body.some((st) => (st.kind === 'for' && binds(st.target) && namesIn(st.iter).some((n) => args.has(n))) || ((st.kind === 'for' || st.kind === 'block') && handedIn(st.body, name, args, depth + 1)));
}

/** Whether any statement of a body (nested ones too) reads the name. */
function readsName(body: Stmt[], name: string): boolean {
  const test = (e: Expr): boolean => e.kind === 'name' && e.name === name;
  const visit = (stmts: Stmt[]): boolean =>
    stmts.some((st) => {
      const exprs = st.kind === 'assign' ? [...st.targets, st.value] : st.kind === 'expr' ? [st.expr] : st.kind === 'return' && st.value ? [st.value] : st.kind === 'for' ? [st.iter] : st.kind === 'block' ? st.heads : [];
      if (exprs.some((e) => someExpr(e, test))) return true;
      // A nested definition or a statement this walk does not read may read it: count it as read.
      if (st.kind === 'function' || st.kind === 'class') return true;
      return (st.kind === 'for' || st.kind === 'block') && visit(st.body);
    });
  return visit(body);
}

/** A write of the state outside the step, in its class (or file), that is not its start: the velocity may take the gradient there. */
function stateWrittenElsewhere(facts: Facts, step: OptimizerStep, key: string): boolean {
  const index = programIndex(facts);
  const base = key.split('[')[0];
  const cls = step.fn.cls;
  const within = cls && cls.bases.length === 0 ? cls.span : { start: facts.file.base, end: facts.file.base + facts.text.length };
  const overlaps = (k: string): boolean => k === base || k.startsWith(`${base}[`) || k.startsWith(`${base}.`) || base.startsWith(`${k}.`) || base.startsWith(`${k}[`);
  for (const stmt of index.stmtBySpan.values()) {
    if (stmt.span.start < within.start || stmt.span.end > within.end) continue;
    if (stmt.span.start >= step.fn.span.start && stmt.span.end <= step.fn.span.end) continue;
    if (stmt.kind === 'assign') {
      for (const t of stmt.targets) {
        const k = exprKey(t);
        if (k === undefined || !overlaps(k)) continue;
        const owner = index.enclosingFunction(index.scopeAt(stmt.span.start));
        if (stmt.op || (!(owner?.isMethod && CONSTRUCTOR_METHODS.includes(owner.name)) && !startValue(stmt.value))) return true;
      }
    } else if (stmt.kind === 'expr') {
      // A call handed the state, or a method of it (`self.v[k].add_(g)`): it may write it.
      if (someExpr(stmt.expr, (e) => (e.kind === 'attr' || e.kind === 'index') && exprKey(e) !== undefined && overlaps(exprKey(e)!))) return true;
    }
  }
  return false;
}

// ------------------------------------------------------------------ NB404

/** The learning rate applied twice (η² in one term, or η in a state that the step multiplies by η again), or not at all. */
function learningRate(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  const betas = new Set([...step.states.values()].map((s) => s.beta).filter((b): b is string => b !== undefined));
  // A state that adds nothing (`self.rate *= self.gamma`) is a decaying scalar, a learning rate's schedule; one that adds is a buffer.
  const accumulates = (key: string): boolean => (step.states.get(key)?.adds.length ?? 0) > 0;
  const lrIn = (m: { fs: { atom: { k: string; key?: string }; n: number }[] }): { key: string; n: number }[] =>
    m.fs.filter((f) => f.atom.k === 'sym' && f.n > 0 && !betas.has(f.atom.key!) && !accumulates(f.atom.key!) && isLearningRateSymbol(f.atom.key!)).map((f) => ({ key: f.atom.key!, n: f.n }));
  let anyLr = false;
  for (const p of step.params) {
    const span = p.eq.spans[p.eq.spans.length - 1];
    const terms = stepTerms(step, p);
    // A term that is another term of the step times the old value's decay coefficient (−ηλ of 1 − ηλ): the
    // product of two writes, the step then a decoupled decay (LaProp's `w += −s·m` then `w += w·(−lr·λ)`),
    // whose η comes from the decay, not from the step.
    const decayed = (term: StepTerm): boolean =>
      p.self.some((d) => d.fs.length > 0 && terms.some((o) => o !== term && proportional(mulPoly([o.mono], [d]), [term.mono]) !== undefined));
    for (const term of terms) {
      const own = lrIn(term.mono);
      if (own.length > 0) anyLr = true;
      // η² in one write (a product of two writes, such as decay then step, holds η² legitimately).
      // Only in the step of a moment (a state with its own β), not in a running statistic (D-Adaptation's Σ(d·lr)²·g²).
      const ofMoment = term.numerator.some((n) => step.states.get(n.key)?.beta !== undefined);
      const twice = p.eq.spans.length === 1 && ofMoment ? own.find((x) => x.n >= 2) : undefined;
      if (twice) {
        push({
          code: 'NB404',
          span,
          message: `the step multiplies by ${show(facts, step, twice.key)} twice (${show(facts, step, twice.key)}²): the learning rate is applied once, as in w -= ${show(facts, step, twice.key)} * update`,
          corrected: learningRateOnce(p, (m) => m === term.mono, twice.key),
        });
        continue;
      }
      // The term is scalars × one decaying buffer (`lr * v`), nothing else that changes.
      const plain = term.numerator.length === 1 && term.mono.fs.every((f) => (f.atom.k === 'sym' && (f.atom.key === term.numerator[0].key || !step.states.has(f.atom.key))) || f.atom.k === 'inv' || f.atom.k === 'pow' || (f.atom.k === 'fn' && f.atom.fn === 'sqrt'));
      for (const n of plain && !decayed(term) ? term.numerator : []) {
        const s = step.states.get(n.key);
        if (!s || s.adds.length === 0 || !s.self || !s.beta) continue;
        const inState = own.find((x) => s.adds.every((a) => a.x.some((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === x.key && f.n > 0))));
        if (!inState) continue;
        push({
          code: 'NB404',
          span,
          message: `${stateText(facts, s)} already accumulates ${show(facts, step, inState.key)}·g, and the step multiplies it by ${show(facts, step, inState.key)} again: the learning rate is applied twice (η²). Apply it once: either in ${stateText(facts, s)} (w += ${stateText(facts, s)}) or in the step (${stateText(facts, s)} accumulates g)`,
          related: [{ span: s.eq.spans[0], message: `${stateText(facts, s)} accumulates ${show(facts, step, inState.key)}·g here` }],
          // The smaller change of the two the message offers: the step adds the buffer as it is.
          corrected: learningRateOnce(p, (m) => m === term.mono, inState.key),
        });
      }
    }
  }
  // No learning rate at all: the step reads none, and its optimizer takes one that nothing reads.
  if (anyLr || step.params.length === 0 || step.params.some((p) => p.returned)) return;
  if ([...step.states.values()].some((s) => s.adds.some((a) => a.x.some((m) => lrIn(m).length > 0)))) return;
  if (!step.params.every((p) => stepTerms(step, p).every((t) => t.numerator.length > 0))) return;
  if (step.inlined || readsLearningRate(step.fn.body)) return;
  // A helper that rewrites a direction its caller hands it, which the caller then scales by the learning rate.
  if (learningRateAppliedByCallers(facts, step)) return;
  const knob = learningRateKnob(step);
  if (!knob) return;
  // A value the function differentiates (`loss = loss + pen; loss.backward()`) is a loss being built,
  // not a parameter being stepped: a framework optimizer applies the rate.
  if (step.params.some((p) => differentiatedIn(facts, step.fn, p.eq.key))) return;
  // And a step needs state that remembers something (a moment, a buffer): values that only rescale
  // themselves (`reg_loss = reg_loss * decay`) then summed into another are no optimizer.
  // A local the function starts at zero on every call (`diffs = np.zeros_like(x)`, then `diffs += f(x)`) is
  // a sum over this call's items, such as an ensemble's mean prediction: it remembers nothing across steps.
  if (![...step.states.values()].some((s) => s.adds.length > 0 && !restartedPerCall(facts, step, s))) return;
  // The step multiplies by a value the file starts at the knob (`self.rate = lr`, then decayed): the learning rate under another name.
  const read = new Set(step.params.flatMap((p) => atomsOf(p.step)).flatMap((a) => (a.k === 'sym' ? [a.key] : [])));
  if ([...read].some((k) => assignedFrom(facts, k).has(knob))) return;
  const p = step.params[0];
  push({
    code: 'NB404',
    span: p.eq.spans[p.eq.spans.length - 1],
    message: `the step never applies the learning rate: ${knob} is taken but nothing in the step reads it, so every update has the size of the raw direction. Multiply the update by it`,
    corrected: learningRateApplied(p, knob),
  });
}

/**
 * A step that sets the weight to the learning-rate-scaled step instead of moving it by it
 * (assignedSteps.ts): the old weight is dropped on every call.
 */
function stepAssigned(facts: Facts, a: AssignedStep, push: (f: OptimizerFinding) => void): void {
  const place = facts.source(a.target);
  const value = facts.source(a.value);
  const op = a.negative ? '+=' : '-=';
  push({
    code: 'NB404',
    span: a.span,
    message: `${place} is set to the step, ${value}, instead of being moved by it: the update does not keep the old weight, so every call replaces the weights with a value about the size of the learning rate and nothing is learned. ${a.sibling.fn} moves ${place} by its step. Apply the step to the weight: ${place} ${op} ${value}`,
    related: [{ span: a.sibling.span, message: `${place} is moved by a step here` }],
  });
}

/**
 * One direction added to a parameter twice in one step, by two writes that each scale it by a
 * learning rate: `p.add_(d, alpha=-lr)` and then `p.add_(d * (-lr / (h.sqrt() + eps)))`. The update is
 * η·d + η/(√h + ε)·d, the learning rate applied twice over. Read from each write's own value (T ← T + X,
 * in terms of the value before it): both add one monomial, one is the other times a positive factor
 * that only rescales it (scalars, reciprocals), the direction reads a moment of the step, and both
 * writes run together (the same loop body and condition, a helper's called once). Writes that shrink
 * the parameter (decoupled decay, `p.mul_(1 - lr * wd)`), average it (Lookahead, a weight EMA), bound it
 * (`clamp_`) or undo an earlier write (SAM's perturbation and restore, opposite signs) are not this.
 */
function steppedTwice(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const p of step.params) {
    const writes = p.eq.writes;
    if (!writes || writes.length < 2 || writes.length !== p.eq.spans.length || p.returned) continue;
    const adds: { mono: Mono; span: Span }[] = [];
    writes.forEach((w, i) => {
      const split = splitSelf(w, p.eq.key);
      if (split && polyEquals(split.self, constant(1)) && split.rest.length === 1) adds.push({ mono: split.rest[0], span: p.eq.spans[i] });
    });
    const tensor = (f: PolyFactor): boolean => [...step.states.keys(), p.eq.key].some((k) => mentions([{ c: 1, fs: [{ ...f, n: 1 }] }], k));
    const lrOf = (m: Mono): string | undefined => m.fs.find((f) => f.atom.k === 'sym' && f.n > 0 && isLearningRateSymbol(f.atom.key))?.key;
    pairs: for (let i = 0; i < adds.length; i++)
      for (let j = i + 1; j < adds.length; j++) {
        const [a, b] = adds[i].mono.fs.length <= adds[j].mono.fs.length ? [adds[i], adds[j]] : [adds[j], adds[i]];
        const q = quotient(b.mono, a.mono);
        // Same sign (every symbol a positive knob), and the factor only rescales: nothing that reads a state or the weights multiplies.
        if (q.c <= 0 || q.fs.some((f) => f.n > 0 && f.atom.k !== 'inv' && tensor(f)) || q.fs.some((f) => f.n < 0 && f.atom.k === 'inv')) continue;
        // The direction is built from the step's moments, and each write carries a learning rate of its own.
        if (!a.mono.fs.some((f) => f.n > 0 && tensor(f) && !mentions([{ c: 1, fs: [{ ...f, n: 1 }] }], p.eq.key))) continue;
        const lr = lrOf(a.mono);
        if (!lr || !lrOf(b.mono)) continue;
        if (!togetherInStep(facts, step, adds[i].span, adds[j].span) || !sameTarget(facts, adds[i].span, adds[j].span)) continue;
        const target = facts.source(p.eq.target.span);
        const [first, second] = [adds[i].span, adds[j].span];
        push({
          code: 'NB404',
          span: second,
          message: `${target} is stepped twice along the same direction in one step: \`${facts.source(first)}\` adds it, and \`${facts.source(second)}\` adds it again${polyEquals([{ c: q.c, fs: q.fs }], constant(1)) ? '' : ' with another step size'}, so the learning rate is applied twice and the update is the sum of both. Apply the direction once, with one step size`,
          related: [{ span: first, message: `${target} is first stepped along the direction here` }],
          corrected: [{ kind: 'param', key: p.eq.key, self: p.self, step: [a.mono] }],
        });
        break pairs;
      }
  }
}

/**
 * Whether two writes of one key write one tensor: in one function, the same target as written
 * (`weights[kernel_key]` and `weights[offset_key]` may be two entries the normal form cannot tell
 * apart); across a helper's parameters, the key the call binds is trusted.
 */
function sameTarget(facts: Facts, a: Span, b: Span): boolean {
  const index = programIndex(facts);
  const fnOf = (s: Span): string | undefined => enclosingFunction(facts.module.body, s, 0);
  if (fnOf(a) !== fnOf(b)) return true;
  const target = (s: Span): string | undefined => {
    const st = index.stmtBySpan.get(spanKey(s));
    if (st?.kind === 'assign') return st.targets.length === 1 ? facts.source(st.targets[0].span) : undefined;
    // `w.add_(…)`, `w.data.mul_(…).add_(…)`: the receiver the chain starts from.
    let e: Expr | undefined = st?.kind === 'expr' ? st.expr : undefined;
    for (let depth = 0; e?.kind === 'call' && e.callee.kind === 'attr' && depth < 20; depth++) e = e.callee.object;
    return e && e.kind !== 'call' ? facts.source(e.span) : undefined;
  };
  const [ta, tb] = [target(a), target(b)];
  return ta !== undefined && ta === tb;
}

/** b / a for two monomials. */
function quotient(b: Mono, a: Mono): Mono {
  const fs = new Map<string, PolyFactor>();
  for (const f of b.fs) fs.set(f.key, f);
  for (const f of a.fs) {
    const known = fs.get(f.key);
    fs.set(f.key, known ? { ...known, n: known.n - f.n } : { ...f, n: -f.n });
  }
  return { c: b.c / a.c, fs: [...fs.values()].filter((f) => f.n !== 0) };
}

/**
 * Whether two writes of a step run together: in the same loop body under the same condition, seen
 * in their own function and, for a write in a helper, at the step's one call of that helper.
 */
function togetherInStep(facts: Facts, step: OptimizerStep, a: Span, b: Span): boolean {
  const site = (s: Span): Span | undefined => {
    if (step.fn.span.start <= s.start && s.end <= step.fn.span.end) return s;
    const helper = enclosingFunction(facts.module.body, s, 0);
    if (!helper) return undefined;
    const calls: Span[] = [];
    walkAll(step.fn.body, (e) => {
      if (e.kind === 'call' && ((e.callee.kind === 'attr' && e.callee.name === helper) || (e.callee.kind === 'name' && e.callee.name === helper))) calls.push(e.span);
    });
    return calls.length === 1 ? calls[0] : undefined;
  };
  const [sa, sb] = [site(a), site(b)];
  if (!sa || !sb) return false;
  // Two writes of one helper: together there. Otherwise each runs where the step runs it (a helper's
  // write at the top of the helper's body), and the two places share their loop and condition.
  if (sa.start === sb.start && sa.end === sb.end) return innermostAround(facts, a, true) === innermostAround(facts, b, true);
  const unconditional = (s: Span, site: Span): boolean => s === site || innermostAround(facts, s, true) === undefined;
  return unconditional(a, sa) && unconditional(b, sb) && innermostAround(facts, sa, true) === innermostAround(facts, sb, true);
}

/**
 * The innermost `if`, `while` or `try` block of its own function around a span (a `with` is no
 * condition), or also a loop when `loops` is set.
 */
function innermostAround(facts: Facts, span: Span, loops: boolean): Stmt | undefined {
  let found: Stmt | undefined;
  const visit = (body: Stmt[], inner: Stmt | undefined, depth: number): void => {
    if (depth > 60) return;
    for (const st of body) {
      if (st.span.start > span.start || st.span.end < span.end) continue;
      if (st.kind === 'function' || st.kind === 'class') visit(st.body, undefined, depth + 1);
      else if (st.kind === 'for') visit(st.body, loops ? st : inner, depth + 1);
      else if (st.kind === 'block') visit(st.body, st.label === 'with' ? inner : st, depth + 1);
      else found = inner;
    }
  };
  visit(facts.module.body, undefined, 0);
  return found;
}

/** Whether a function body mentions a learning rate anywhere (a call the analysis cannot see into may use it). */
function readsLearningRate(body: import('../ir').Stmt[]): boolean {
  let found = false;
  const test = (e: import('../ir').Expr): boolean => {
    const name = e.kind === 'name' ? e.name : e.kind === 'attr' ? e.name : e.kind === 'str' ? e.value : undefined;
    return name !== undefined && mayNameLearningRate(name);
  };
  const visit = (stmts: import('../ir').Stmt[]): void => {
    for (const st of stmts) {
      if (found) return;
      const exprs = st.kind === 'assign' ? [...st.targets, st.value] : st.kind === 'expr' ? [st.expr] : st.kind === 'return' && st.value ? [st.value] : st.kind === 'for' ? [st.iter] : st.kind === 'block' ? st.heads : [];
      if (exprs.some((e) => someExpr(e, test))) found = true;
      if (st.kind === 'for' || st.kind === 'block' || st.kind === 'function') visit(st.body);
    }
  };
  visit(body);
  return found;
}

/**
 * A state that is a local name the step's function binds to zeros before writing it (`acc = np.zeros_like(x)`),
 * and that no loop of the function carries from one step to the next: a loop after the zero start that
 * holds both the state's update and a parameter's step (`velocity = np.zeros_like(W)`, then every epoch
 * in `for epoch in range(epochs)`) runs many steps in one call, with the state remembered between them.
 */
function restartedPerCall(facts: Facts, step: OptimizerStep, s: StateUpdate): boolean {
  const name = s.eq.key;
  if (s.eq.target.kind !== 'name' || s.eq.target.name !== name) return false;
  const at = s.eq.spans[0].start;
  const b = programIndex(facts).scopeAt(at).lookup(name, at);
  if (!(b !== undefined && b.kind === 'assign' && !b.op && b.value !== undefined && zeroValue(b.value) !== undefined && b.span.start >= step.fn.span.start && b.span.end <= step.fn.span.end)) return false;
  const stepped = step.params.flatMap((p) => p.eq.spans);
  const carries = (st: Stmt): boolean =>
    (st.kind === 'for' || (st.kind === 'block' && st.label === 'while')) && !within(b.span, st.span) && within(s.eq.spans[0], st.span) && stepped.some((x) => within(x, st.span));
  return !ownStatements(step.fn.body).some(carries);
}

/** The learning-rate parameter of the step's class constructor (or of the step function itself). */
function learningRateKnob(step: OptimizerStep): string | undefined {
  const own = step.fn.params.find((p) => isLearningRateSymbol(p.name));
  if (own) return own.name;
  const cls = step.fn.cls;
  if (!cls) return undefined;
  for (const name of ['__init__', 'constructor']) {
    const init = cls.scope.functions.get(name);
    const p = init?.params.find((x) => isLearningRateSymbol(x.name));
    if (p) return p.name;
  }
  return undefined;
}

// ------------------------------------------------------------------ NB405

/** A moment scaled by (1 − c) with c a decay strength: the decay meant for the weights is applied to the moment. */
function decayOnMoments(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  decayOnGradient(facts, step, push);
  for (const s of step.states.values()) {
    if (!s.self || s.self.length < 2 || s.average) continue;
    // a = β·(1 − c): every monomial holds the same β once.
    const first = s.self[0].fs.filter((f) => f.atom.k === 'sym' && f.n === 1).map((f) => f.atom.k === 'sym' ? f.atom.key : '');
    for (const beta of first) {
      if (!s.self.every((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === beta && f.n === 1))) continue;
      const rest = divPoly(s.self, sym(beta));
      if (!rest) continue;
      const one = rest.find((m) => m.fs.length === 0);
      if (!one || numeric([one]) !== 1) continue;
      // The moment was an average m ← β·m + (1 − β)·X, then scaled as a whole by (1 − c).
      const scaled = mulPoly(sub(constant(1), sym(beta)), rest);
      const scalars = new Set([beta]);
      for (const a of atomsOf(rest)) if (a.k === 'sym') scalars.add(a.key);
      const split = splitSelf(s.eq.value, s.eq.key);
      const adds = split ? groupByTensor(split.rest, scalars) : [];
      if (adds.length === 0 || !adds.every((a) => proportional(a.b, scaled) !== undefined)) continue;
      if (!partners(step, s).length && !step.params.some((p) => stepTerms(step, p).some((t) => t.numerator.some((n) => n.key === s.eq.key)))) continue;
      const c = sub(constant(1), rest);
      const decay = c.some((m) => m.fs.some((f) => f.atom.k === 'sym' && isDecayStrengthSymbol(f.atom.key)));
      if (!decay) continue;
      // The parameter the moment steps, named as the code names it.
      const stepped = step.params.find((p) => stepTerms(step, p).some((t) => t.numerator.some((n) => n.key === s.eq.key)));
      const w = stepped ? facts.source(stepped.eq.target.span) : 'the parameter';
      // What the moment averages without the decay: X of (1 − β)(1 − c)·X.
      const x = adds.reduce<Poly>((acc, a) => add(acc, mulPoly(a.x, constant(proportional(a.b, scaled)!))), []);
      const coupled = stepped !== undefined && meansL2(step, c);
      push({
        code: 'NB405',
        span: s.eq.spans[s.eq.spans.length - 1],
        message: coupled
          ? `${stateText(facts, s)} is shrunk by the weight decay each step, not the weights: decay applied to a moment only rescales the update, and the weights are never pulled toward 0. The decay is documented as an L2 penalty: add its gradient to what ${stateText(facts, s)} averages instead (g + λ·${w}, coupled decay)`
          : `${stateText(facts, s)} is shrunk by the weight decay each step, not the weights: decay applied to a moment only rescales the update, and the weights are never pulled toward 0. Shrink ${w} by that factor instead, before its step (decoupled decay, as AdamW: w ← (1 − η·λ)·w)`,
        related: [{ span: s.eq.spans[0], message: `${stateText(facts, s)} is averaged here` }],
        corrected: decayMoved(s, beta, x, c, stepped, coupled),
      });
      break;
    }
  }
}

/**
 * A decoupled decay term that multiplies the gradient instead of the weight: beside an adaptive or
 * momentum term, the parameter's step adds c·λ·g, with g the gradient a moment averages, λ a decay
 * strength, and no state but what it may share the adaptive term's denominator with
 * (`lr * m_hat / (sqrt(v_hat) + eps) + wd * g`, `lr * (m_hat + wd * g) / (sqrt(v_hat) + eps)`,
 * meant `wd * w`). NAdam's and QHAdam's raw-gradient terms carry no decay strength.
 */
function decayOnGradient(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  const betas = new Set([...step.states.values()].flatMap((s) => (s.beta !== undefined ? [s.beta] : [])));
  const averaged = new Set([...step.states.values()].flatMap((s) => (s.average ? s.adds : []).flatMap((a) => (a.x.length === 1 && a.x[0].fs.length === 1 && a.x[0].fs[0].n === 1 && a.x[0].fs[0].atom.k === 'sym' ? [a.x[0].fs[0].atom.key] : []))));
  for (const p of step.params) {
    const terms = stepTerms(step, p);
    if (!terms.some((t) => t.numerator.length > 0)) continue;
    for (const t of terms) {
      if (t.numerator.length > 0) continue;
      const g = t.mono.fs.find((f) => f.atom.k === 'sym' && f.n === 1 && averaged.has(f.atom.key));
      const gradientKey = g?.atom.k === 'sym' ? g.atom.key : undefined;
      if (!g || gradientKey === undefined) continue;
      // Besides g: scalars, and whatever the adaptive term divides by too (the root of v̂, its corrections).
      const scalars = t.mono.fs.filter((f) => f !== g && f.atom.k === 'sym');
      if (!scalars.every((f) => f.atom.k === 'sym' && f.n > 0 && !betas.has(f.atom.key) && f.atom.key !== p.eq.key && !step.states.has(f.atom.key))) continue;
      if (t.mono.fs.some((f) => f.atom.k === 'opaque' || (f.atom.k !== 'sym' && mentions([{ c: 1, fs: [f] }], p.eq.key)))) continue;
      const decayKey = scalars.map((f) => (f.atom.k === 'sym' ? f.atom.key : '')).find((k) => k !== '' && isDecayStrengthSymbol(k));
      if (decayKey === undefined) continue;
      // A returned parameter's target stands for the function's parameter it steps, not the `return` it is read off.
      const w = p.eq.target.kind === 'name' ? p.eq.target.name : facts.source(p.eq.target.span);
      const lambda = show(facts, step, decayKey);
      const gradient = show(facts, step, gradientKey);
      push({
        code: 'NB405',
        span: p.eq.spans[p.eq.spans.length - 1],
        message: `the weight decay multiplies the gradient (${lambda} * ${gradient}), not the weight: it only adds a scaled copy of the gradient to the step, and ${w} is never pulled toward 0. Decay the weight: ${lambda} * ${w}`,
        corrected: [{ kind: 'param', key: p.eq.key, self: p.self, step: p.step.reduce<Poly>((acc, m) => add(acc, m === t.mono ? substitute([m], gradientKey, sym(p.eq.key)) : [m]), []) }],
      });
      break;
    }
  }
}

/**
 * Whether the step's decay is L2 the code asks for, so the corrected line couples it (adds λθ to the
 * gradient) instead of shrinking the weights: a factor with no learning rate in it (AdamW's is
 * 1 − η·λ), in a class not named for decoupled decay, whose knob is named or documented (the class
 * constructor's docstring or JSDoc) as an L2 penalty.
 */
function meansL2(step: OptimizerStep, c: Poly): boolean {
  const syms = atomsOf(c).flatMap((a) => (a.k === 'sym' ? [a.key] : []));
  if (syms.some(isLearningRateSymbol)) return false;
  const cls = step.fn.cls;
  if (cls && saysDecoupledDecay(cls.name)) return false;
  const init = cls ? (cls.scope.functions.get('__init__') ?? cls.scope.functions.get('constructor')) : undefined;
  const docs = [init, step.fn].flatMap((f) => (f ? [docstring(f.body)?.value ?? f.doc?.value] : [])).filter((d): d is string => d !== undefined);
  return syms.some((k) => isDecayStrengthSymbol(k) && (decaySymbolSaysL2(k, undefined) || docs.some((d) => decaySymbolSaysL2(k, d))));
}

// ------------------------------------------------------------------ momentum that climbs (NB102)

export interface ClimbingStep {
  span: Span;
  message: string;
  related: { span: Span; message: string }[];
  /** The step turned to descend, for the hover (optimizerCorrected.ts `descending`). */
  corrected?: CorrectedLine[];
}

const climbing = new WeakMap<Facts, ClimbingStep[]>();

/**
 * A momentum buffer that accumulates +c·∇ (the parameter's own gradient, `p.grad`) and a step that
 * adds the buffer with a positive factor: `v.mul_(mu).add_(p.grad, alpha=lr); p.add_(v)`, or
 * `buf.mul_(mu).add_(p.grad); p.add_(buf, alpha=lr)`. The signs are read off the normal form.
 */
export function climbingMomentum(facts: Facts): ClimbingStep[] {
  let found = climbing.get(facts);
  if (found) return found;
  found = [];
  for (const step of optimizerSteps(facts)) {
    for (const p of step.params) {
      if (p.eq.branched || p.returned || !polyEquals(p.self, constant(1))) continue;
      const grads = new Set(parameterGradientKeys(p.eq.key));
      let sign = 0;
      let buffer: StateUpdate | undefined;
      const terms = stepTerms(step, p);
      // Plain momentum only: each term is a scalar times one buffer, no denominators or corrections.
      if (terms.some((term) => term.numerator.length !== 1 || term.denominator.length > 0 || term.corrections.length > 0)) continue;
      for (const term of terms) {
        const s = step.states.get(term.numerator[0].key);
        if (!s || s.eq.branched || !s.beta || !s.self || term.numerator[0].n !== 1) continue;
        const k = signOf([{ c: term.mono.c, fs: [] }]);
        // Every monomial of the buffer's increment that holds p.grad: (positive scalars) · p.grad, all of one sign.
        const split = splitSelf(s.eq.value, s.eq.key);
        const withGrad = (split?.rest ?? []).filter((m) => m.fs.some((f) => f.atom.k === 'sym' && grads.has(f.atom.key)));
        if (withGrad.length === 0 || k === 0) continue;
        if (!withGrad.every((m) => m.fs.every((f) => f.atom.k === 'sym' && (f.n === 1 || !grads.has(f.atom.key))))) continue;
        const signs = new Set(withGrad.map((m) => Math.sign(m.c)));
        if (signs.size !== 1) continue;
        // A write under an `if` the step is not in may not run (`if g * buf < 0: buf *= -0.5`): the
        // buffer's sign must be the same without it.
        if (!sameGradientSign(s.eq, conditionalWrites(step.fn.body, s.eq.spans, p.eq.spans[p.eq.spans.length - 1]), grads, [...signs][0])) continue;
        sign = k * [...signs][0];
        buffer = s;
      }
      if (sign <= 0 || !buffer) continue;
      const pText = facts.source(p.eq.target.span);
      const vText = stateText(facts, buffer);
      found.push({
        span: p.eq.spans[p.eq.spans.length - 1],
        message: `this step moves ${pText} up the loss gradient: ${vText} accumulates +${pText}.grad and the step adds ${vText} with a positive factor, so training climbs the loss. Either the buffer subtracts the gradient (${vText} = μ·${vText} − lr·g, then ${pText} += ${vText}) or the step subtracts the buffer (${pText} -= lr·${vText})`,
        related: [{ span: buffer.eq.spans[0], message: `${vText} accumulates the gradient with a + sign here` }],
        corrected: descending(p, buffer, grads),
      });
    }
  }
  climbing.set(facts, found);
  return found;
}

const bufferDecay = new WeakMap<Facts, ClimbingStep[]>();

/**
 * A weight decay written into a momentum buffer with the sign opposite to the gradient's, by
 * statements the buffer's value is never read from (`buf.mul_(mu).add_(p.grad).add_(p, alpha=-wd)`,
 * or `buf.add_(p, alpha=-wd)` after it) while the step descends along the buffer (`p.add_(buf,
 * alpha=-lr)`): the buffer holds g − λ·θ, so the step adds +lr·λ·θ and the weights grow. The decay
 * must enter as the gradient does (torch's SGD adds +λ·θ to the gradient before the buffer). Read off
 * the normal form: every gradient monomial of the buffer's increment has one sign, every monomial
 * that holds the parameter itself (positive knobs times θ) the other.
 */
export function decayIntoBufferWrongSign(facts: Facts): ClimbingStep[] {
  let found = bufferDecay.get(facts);
  if (found) return found;
  found = [];
  for (const step of optimizerSteps(facts)) {
    for (const p of step.params) {
      if (p.eq.branched || p.returned || !polyEquals(p.self, constant(1))) continue;
      const grads = new Set(parameterGradientKeys(p.eq.key));
      const terms = stepTerms(step, p);
      if (terms.length !== 1) continue;
      const term = terms[0];
      if (term.numerator.length !== 1 || term.numerator[0].n !== 1 || term.denominator.length > 0 || term.corrections.length > 0) continue;
      const s = step.states.get(term.numerator[0].key);
      if (!s || s.eq.branched || !s.beta || !s.self) continue;
      const k = signOf([{ c: term.mono.c, fs: [] }]);
      const rest = splitSelf(s.eq.value, s.eq.key)?.rest ?? [];
      const holds = (m: Mono, keys: Set<string>): boolean => m.fs.some((f) => f.atom.k === 'sym' && keys.has(f.atom.key));
      const onlyKnobs = (m: Mono, keys: Set<string>): boolean => m.fs.every((f) => f.atom.k === 'sym' && (keys.has(f.atom.key) ? f.n === 1 : f.n > 0 && !step.states.has(f.atom.key) && !grads.has(f.atom.key) && f.atom.key !== p.eq.key));
      const withGrad = rest.filter((m) => holds(m, grads));
      const weight = new Set([p.eq.key]);
      const withWeight = rest.filter((m) => holds(m, weight));
      if (withGrad.length === 0 || withWeight.length === 0 || k === 0) continue;
      if (!withGrad.every((m) => onlyKnobs(m, grads)) || !withWeight.every((m) => onlyKnobs(m, weight))) continue;
      const gSigns = new Set(withGrad.map((m) => Math.sign(m.c)));
      const wSigns = new Set(withWeight.map((m) => Math.sign(m.c)));
      if (gSigns.size !== 1 || wSigns.size !== 1) continue;
      const gSign = [...gSigns][0];
      // The step descends along the buffer (a climbing one is climbingMomentum's), and the decay goes against the gradient.
      if (k * gSign >= 0 || [...wSigns][0] === gSign) continue;
      // Every write of the buffer runs whenever the step does (no `if` around one of them alone).
      if (conditionalWrites(step.fn.body, s.eq.spans, p.eq.spans[p.eq.spans.length - 1]).some(Boolean)) continue;
      // The write that brings the weight in.
      const writes = s.eq.writes ?? [];
      const at = writes.findIndex((w) => w.some((m) => holds(m, weight)));
      const span = s.eq.spans[at >= 0 && at < s.eq.spans.length ? at : s.eq.spans.length - 1];
      // A statement of its own: a value the step reads (`d = buf.add_(p, alpha=-wd)`) is the regularization term's (NB102's wrongSignTerms).
      if (programIndex(facts).stmtBySpan.get(spanKey(span))?.kind !== 'expr') continue;
      const pText = facts.source(baseExpr(p.eq.target).span);
      const vText = stateText(facts, s);
      found.push({
        span,
        message: `this decay enters ${vText} with the sign opposite to the gradient's: ${vText} accumulates +${pText}.grad and −λ·${pText}, and the step subtracts ${vText}, so it adds +lr·λ·${pText} and the weights grow instead of decaying. Add the decay as the gradient is added (+λ·${pText}), or decay ${pText} itself (${pText}.mul_(1 − lr·λ))`,
        related: [{ span: p.eq.spans[p.eq.spans.length - 1], message: `the step subtracts ${vText} here` }],
      });
    }
  }
  bufferDecay.set(facts, found);
  return found;
}

/**
 * For each write, whether it sits in an `if` block (a branch of a chain) that holds neither `use`
 * nor every write: `if momentum != 0:` around the whole buffer update is the case the step is about,
 * `if g * buf < 0:` around one of its writes may skip that write.
 */
function conditionalWrites(body: Stmt[], writes: Span[], use: Span): boolean[] {
  const blocks: Span[] = [];
  const holds = (b: Span, x: Span): boolean => b.start <= x.start && x.end <= b.end;
  const visit = (stmts: Stmt[], depth: number): void => {
    if (depth > 40) return;
    for (const st of stmts) {
      if (st.kind === 'block') {
        if (st.label === 'if' && !holds(st.span, use) && !writes.every((w) => holds(st.span, w))) blocks.push(st.span);
        visit(st.body, depth + 1);
      } else if (st.kind === 'for') visit(st.body, depth + 1);
    }
  };
  visit(body, 0);
  return writes.map((w) => blocks.some((b) => holds(b, w)));
}

/**
 * Whether the gradient in a buffer keeps the sign `sign` when the writes that may not run are left
 * out (the others composed in order). Without each write's own value to compose, only a buffer with
 * no such write keeps it.
 */
function sameGradientSign(eq: StateUpdate['eq'], conditional: boolean[], grads: Set<string>, sign: number): boolean {
  if (!conditional.some(Boolean)) return true;
  const writes = eq.writes;
  if (!writes || writes.length !== conditional.length) return false;
  let value: Poly = sym(eq.key);
  writes.forEach((w, i) => {
    if (!conditional[i]) value = substitute(w, eq.key, value);
  });
  const rest = splitSelf(value, eq.key)?.rest ?? [];
  const withGrad = rest.filter((m) => m.fs.some((f) => f.atom.k === 'sym' && grads.has(f.atom.key)));
  // No gradient left: the writes that may not run are the ones that bring it in (`if momentum: buf.mul_(mu).add_(g)`).
  return withGrad.every((m) => Math.sign(m.c) === sign);
}

/**
 * The corrected line of an ascent NB102 reports on a plain momentum step's parameter line (the
 * buffer accumulates a gradient the rule has found, `grads[k]`, `dw`, and the step adds the buffer):
 * the step turned to descend (optimizerCorrected.ts `descending`). For the hover only: NB102 decides
 * that the step climbs; this says how the buffer or the step should read.
 */
export function descendingMomentum(step: OptimizerStep, span: Span): CorrectedLine[] | undefined {
  const p = step.params.find((x) => !x.eq.branched && x.eq.spans.some((s) => s.start <= span.start && span.end <= s.end));
  if (!p || !polyEquals(p.self, constant(1))) return undefined;
  const terms = stepTerms(step, p);
  if (terms.length !== 1 || terms[0].numerator.length !== 1 || terms[0].numerator[0].n !== 1 || terms[0].denominator.length > 0 || terms[0].corrections.length > 0 || terms[0].mono.c <= 0) return undefined;
  const buffer = step.states.get(terms[0].numerator[0].key);
  if (!buffer || buffer.eq.branched || !buffer.beta || !buffer.self || buffer.adds.length === 0) return undefined;
  // What the buffer adds that is neither state nor parameter: the gradient.
  const params = new Set(step.params.map((x) => x.eq.key));
  const gradients = new Set(buffer.adds.flatMap((a) => atomsOf(a.x)).flatMap((a) => (a.k === 'sym' && !step.states.has(a.key) && !params.has(a.key) && !isLearningRateSymbol(a.key) ? [a.key] : [])));
  if (buffer.adds.some((a) => a.b.some((m) => m.c < 0))) return undefined;
  return descending(p, buffer, gradients);
}

/** +1 or −1 when every monomial of a sum of positive symbols has that sign; 0 otherwise. */
function signOf(p: Poly): number {
  if (p.length === 0) return 0;
  const signs = new Set(p.map((m) => Math.sign(m.c)));
  if (signs.size !== 1) return 0;
  // Every symbol is a knob read as positive (a learning rate, a momentum); a power or a reciprocal of one keeps the sign.
  if (p.some((m) => m.fs.some((f) => f.atom.k !== 'sym'))) return 0;
  return [...signs][0];
}

/** β^k for the β the file gives (`0.998 for its 0.999`), or for the two usual ones when it gives no single number. */
function forgetsAs(values: number[], k: number): string {
  const one = values.length === 1 && values[0] > 0 && values[0] < 1 ? values[0] : undefined;
  if (one !== undefined) return `${formatNumber(Number((one ** k).toPrecision(3)))} for its ${formatNumber(one)}`;
  return [0.9, 0.999].map((v) => `${formatNumber(Number((v ** k).toPrecision(3)))} for a β of ${formatNumber(v)}`).join(', ');
}
