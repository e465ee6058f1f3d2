// NB201 double-regularization: the same parameters get an L2 penalty in the loss AND weight
// decay from the optimizer (or written into the update by hand).
//
// ## What it does
// Pairs an L2 penalty c·Σw² that reaches the loss (an explicit sum of squares over parameters,
// `c * tf.nn.l2_loss(w)`, a Keras `kernel_regularizer=l2(c)`) with weight decay of the optimizer
// of the same training setup (torch `weight_decay>0`, Keras `weight_decay=`, optax
// `add_decayed_weights` / `adamw`, tfa `AdamW`) or with λ·w added to autodiff gradients by hand.
//
// ## Why is this bad?
// Both pull the weights to zero; together the decay is stronger than either knob says:
// c·Σw² in the loss is coupled decay 2c (torch convention), so SGD(weight_decay=λ) makes it 2c + λ.
import { isWholeObjective } from '../engine/facts/wholeObjectivePenalties';
import { defineRule, type Report } from './rule';
import { equalCoef, mul, num, sym } from '../math/coef';
import { trainingFacts } from '../engine/facts/loops';
import type { Expr } from '../engine/ir';
import { codeCoef } from '../math/print/code';
import { formatNumber } from '../math/print/format';
import { unicodeCoef, unicodePenalty } from '../math/print/unicode';
import type { Coef } from '../math/terms';
import type { Facts } from '../engine/facts';
import type { Span } from '../engine/ir';
import { helperBuiltConstructions, helperOptimizers } from '../engine/facts/helperOptimizers';
import { kerasL2OffForOptimizer, kerasModelL2 } from '../engine/facts/decayTargets';
import { steppedByOwnGradient } from '../engine/facts/handSteppedTensors';
import { exprKey } from '../engine/facts/keys';
import { zeroAtEveryCall } from '../engine/facts/callerValues';
import { chosenClassRuns } from '../engine/facts/chosenClassMethods';
import { classStepRegularizers } from '../engine/facts/classStepRegularizers';
import { decayReaches, frameworkFacts, type DecaySetting, type FrameworkFacts, type HandDecayFact, type LossPenaltyFact, type OptimizerFact, type Owner, type RegularizerFact } from '../engine/facts/frameworks';

export const nb201DoubleRegularization = defineRule({
  meta: {
    code: 'NB201',
    name: 'double-regularization',
    severity: 'warning',
    summary: 'The same parameters get an L2 penalty in the loss and weight decay from the optimizer',
    fix: 'none',
  },
  check(context) {
    const reported = new Set<string>();
    const report = (r: Report): void => {
      const key = `${r.span.start}:${r.span.end}`;
      if (reported.has(key)) return;
      reported.add(key);
      context.report(r);
    };
    checkFacts(context.facts, report);
    // A runner module whose `model.l2()` only this entry's run-time-chosen class resolves: what the
    // hinted analysis adds, the penalties through that method, reported from here into the runner.
    for (const run of chosenClassRuns(context.facts)) {
      const hinted = [...run.hints.values()];
      const through = (p: LossPenaltyFact): boolean => p.defs.some((d) => hinted.some((fn) => d.span.start >= fn.span.start && d.span.end <= fn.span.end));
      const named = hinted.map((fn) => (fn.cls ? `${fn.cls.name}.${fn.name}` : fn.name)).join(', ');
      const note = { span: run.built, message: `the model is built here from a class chosen at run time: every class this file may name runs ${named}` };
      checkFacts(run.facts, (r) => report({ ...r, related: [...(r.related ?? []), note] }), through);
    }
  },
});

/** NB201 on one file's facts; `keep` narrows the loss penalties it pairs (all by default). */
function checkFacts(facts: Facts, report: (r: Report) => void, keep?: (p: LossPenaltyFact) => boolean): void {
  {
    const fw = frameworkFacts(facts);
    // A quadratic of the weights that is the whole loss is the objective, not a penalty (an optimizer's unit test).
    const lossPenalties = (keep ? fw.lossPenalties.filter(keep) : fw.lossPenalties).filter((p) => !isWholeObjective(facts, p) && !onHandSteppedTensors(facts, p));
    if (keep && lossPenalties.length === 0) return;
    const viaHelper = helperBuiltConstructions(facts);
    for (const opt of fw.optimizers) {
      // Only decays known to be nonzero (or the class default): an unresolvable `weight_decay=cfg.wd` may well be 0.
      const known = opt.decay.filter((d) => d.value !== undefined);
      // A construction in a helper of this file that a call here builds is judged with each call's values below.
      if (opt.framework === 'tfjs' || known.length === 0 || viaHelper.has(opt.call)) continue;
      // A param group's decay counts only for the penalties whose parameters it may hold.
      const penalties = nearestFirst(lossPenalties.filter((p) => fw.linked(p.ctx.owner, opt.call, opt.ctx.owner) && sameModel(p, opt) && known.some((d) => decayReaches(d, p))), opt.ctx.owner, opt.call.span.start);
      const reaching = known.filter((d) => penalties.some((p) => decayReaches(d, p)));
      const setting = reaching.find((d) => d.arg) ?? reaching[0] ?? known.find((d) => d.arg) ?? known[0];
      // A builder's L2 that every compiled model is built with switched off (`build(784, reg=0.0)`) is not there.
      const regs = opt.framework === 'keras' || opt.framework === 'tfa' ? kerasL2(fw, opt.call, opt.ctx.owner).filter((r) => !kerasL2OffForOptimizer(facts, opt, r) && !l2OffAtEveryCall(facts, fw, r)) : [];
      // Layers regularized in the model's builders, one call or one module away from the optimizer's setup.
      if (penalties.length === 0 && regs.length === 0) {
        const reg = kerasModelL2(facts, opt);
        if (reg && !l2OffAtEveryCall(facts, fw, reg)) regs.push(reg);
      }
      if (penalties.length === 0 && regs.length === 0) continue;
      const span = setting.arg?.span ?? opt.nameSpan ?? opt.call.callee.span;
      report(build(facts, fw, span, describeOptimizer(facts, opt, setting), coupledValue(facts, opt, setting), penalties, regs));
    }
    // An optimizer a helper builds and returns, with the decay this call gives it (once per construction: `report` keeps the first).
    for (const helper of helperOptimizers(facts)) {
      const { opt } = helper;
      const known = helper.decay.filter((d) => d.value !== undefined);
      if (known.length === 0) continue;
      const penalties = nearestFirst(
        lossPenalties.filter((p) => fw.linked(p.ctx.owner, helper.call, helper.ctx.owner) && !(p.root && helper.wholeModel && p.root !== helper.wholeModel)),
        helper.ctx.owner,
        helper.call.span.start,
      );
      const regs = opt.framework === 'keras' || opt.framework === 'tfa' ? kerasL2(fw, helper.call, helper.ctx.owner).filter((r) => !l2OffAtEveryCall(facts, fw, r)) : [];
      if (penalties.length === 0 && regs.length === 0) continue;
      const setting = known.find((d) => d.arg) ?? known[0];
      const span = setting.arg?.span ?? opt.nameSpan ?? opt.call.callee.span;
      const r = build(facts, fw, span, describeOptimizer(facts, opt, setting), coupledValue(facts, opt, setting), penalties, regs);
      report({ ...r, related: [{ span: helper.call.span, message: 'the optimizer is built by this call' }, ...(r.related ?? [])] });
    }
    for (const chain of fw.chains) {
      const i = chain.elements.findIndex((e) => e.kind === 'decay' && e.decay && e.decay.value !== 0);
      if (i < 0) continue;
      const element = chain.elements[i];
      const penalties = nearestFirst(lossPenalties.filter((p) => fw.linked(p.ctx.owner, chain.call, chain.ctx.owner)), chain.ctx.owner, chain.call.span.start);
      if (penalties.length === 0) continue;
      const decay = element.decay!;
      const coupled = !chain.elements.slice(0, i).some((e) => e.kind === 'adaptive' || e.kind === 'adaptive-optimizer' || e.kind === 'optimizer' || e.kind === 'flip');
      const amount = decay.value !== undefined ? formatNumber(decay.value) : src(facts, decay.expr.span);
      const what = `${src(facts, element.call!.span)} adds ${amount}·w to the updates${coupled ? ' (coupled)' : ' (decoupled)'}`;
      report(build(facts, fw, element.call!.span, what, coupled ? { text: amount, value: decay.value } : undefined, penalties, []));
    }
    const penaltiesOf = penaltiesByOwner(lossPenalties);
    for (const hand of fw.handDecays) {
      const penalties = nearestFirst(handLinkedPenalties(fw, lossPenalties, penaltiesOf, hand.ctx.owner), hand.ctx.owner, hand.span.start);
      if (penalties.length === 0 && !keep) {
        // The step of the project's own optimizer class, compiled with a model whose layers carry `l2(c)`.
        const beside = classStepRegularizers(facts, hand);
        if (!beside) continue;
        const what = hand.kind === 'coupled' && hand.coef ? `the optimizer's own step also adds ${codeCoef(hand.coef)}·w to the gradient by hand` : "the optimizer's own step also shrinks the weights by hand";
        const r = build(facts, fw, hand.span, what, undefined, [], beside.regs);
        report({ ...r, related: [{ span: beside.built, message: 'the optimizer with this step is built here and compiled with the model' }, ...(r.related ?? [])] });
        continue;
      }
      if (penalties.length === 0 || !fw.autodiff(hand.ctx.owner)) continue;
      if (penaltysOwnGradient(facts, hand, penalties)) continue;
      const what = hand.kind === 'coupled' && hand.coef ? `the update also adds ${codeCoef(hand.coef)}·w to the gradient by hand` : 'the update also shrinks the weights by hand';
      report(build(facts, fw, hand.span, what, hand.kind === 'coupled' && hand.coef ? { text: codeCoef(hand.coef), value: fw.evaluateCoef(hand.coef, hand.ctx) } : undefined, penalties, [], src(facts, hand.span)));
    }
  }
}

/**
 * `grads['W1'] = dW1 + 2 * reg * W1` beside `loss += reg * ΣW1²`, where the only "differentiation" in
 * the function is a hand-written layer's `backward(dout, cache)` whose value is used (`dx, dw, db =
 * layer.backward(dout, cache)`): exactly the penalty's own gradient, written by hand because nothing
 * differentiates the loss. A framework's backward returns nothing (`loss.backward()`,
 * `accelerator.backward(loss)` are statements), and any other differentiation (`torch.autograd.grad`,
 * `tape.gradient`, `jax.grad(f)(p)`) fills gradients that already hold it: adding it again doubles it,
 * whatever the gradient is then called (`g = p.grad`, `[g + 2 * lam * w for g, w in zip(grads, ws)]`).
 */
function penaltysOwnGradient(facts: Facts, hand: HandDecayFact, penalties: readonly LossPenaltyFact[]): boolean {
  if (hand.kind !== 'coupled' || !hand.coef) return false;
  const coef = hand.coef;
  if (!penalties.some((p) => equalCoef(coef, mul(num(2), p.coef)))) return false;
  for (let e: Expr = hand.target; ; ) {
    if (e.kind === 'attr' && e.name === 'grad') return false;
    if (e.kind === 'attr') e = e.object;
    else if (e.kind === 'index') e = e.object;
    else if (e.kind === 'call' && e.callee.kind === 'attr') e = e.callee.object;
    else break;
  }
  const { span } = hand.ctx.owner;
  let handLayers = 0;
  for (const d of trainingFacts(facts).diffs) {
    if (d.call.span.start < span.start || d.call.span.end > span.end) continue;
    const stmt = d.info.stmt;
    const used = (stmt.kind === 'assign' && !stmt.op && stmt.value === d.call) || (stmt.kind === 'return' && stmt.value === d.call);
    if (d.kind !== 'backward' || !used) return false;
    handLayers++;
  }
  return handLayers > 0;
}

/** The penalty, and its weight as written, whose weight the hand-written decay term names (`self.W1` in `2 * lam * self.W1`). */
function ownOccurrence(facts: Facts, penalties: readonly LossPenaltyFact[], decayed: string): { penalty: LossPenaltyFact; text: string } | undefined {
  for (const penalty of penalties) {
    for (const o of penalty.params) {
      const text = src(facts, o.expr.span);
      const at = decayed.indexOf(text);
      if (at >= 0 && !/[\w.[]/.test(decayed[at + text.length] ?? '') && !/[\w.]/.test(decayed[at - 1] ?? '')) return { penalty, text };
    }
  }
  return undefined;
}

interface Strength {
  text: string;
  value?: number;
}

function src(facts: Facts, span: Span): string {
  return facts.source(span).replace(/\s+/g, ' ');
}

/** Positions in the loss penalties by the id of the penalty's owner. */
function penaltiesByOwner(lossPenalties: readonly LossPenaltyFact[]): Map<number, number[]> {
  const byOwner = new Map<number, number[]>();
  lossPenalties.forEach((p, i) => {
    const list = byOwner.get(p.ctx.owner.id);
    if (list) list.push(i);
    else byOwner.set(p.ctx.owner.id, [i]);
  });
  return byOwner;
}

/**
 * The loss penalties, in order, linked to a hand decay in `b`: in one function, or in a helper one
 * of them calls (the penalty's owner mentions b, or b mentions it). Gathered from the owners that
 * qualify rather than by testing every penalty per hand decay.
 */
function handLinkedPenalties(fw: FrameworkFacts, lossPenalties: readonly LossPenaltyFact[], penaltiesOf: Map<number, number[]>, b: Owner): LossPenaltyFact[] {
  const owners = new Set<number>([b.id]);
  if (b.name !== undefined) for (const id of fw.referrers(b.name)) owners.add(id);
  for (const name of fw.namesIn(b)) for (const id of fw.ownersNamed(name)) owners.add(id);
  const positions: number[] = [];
  for (const id of owners) positions.push(...(penaltiesOf.get(id) ?? []));
  return positions.sort((x, y) => x - y).map((i) => lossPenalties[i]);
}

/** A penalty on tensors the code steps by hand with their own gradient (an optimized input): no optimizer's parameters. */
function onHandSteppedTensors(facts: Facts, p: LossPenaltyFact): boolean {
  if (p.root || p.over || p.params.length === 0) return false;
  return p.params.every((o) => {
    const key = exprKey(o.base);
    return key !== undefined && steppedByOwnGradient(facts, key, p.ctx.scope);
  });
}

/** Within one function, a penalty over `net.parameters()` says nothing about `model`'s optimizer. */
function sameModel(p: LossPenaltyFact, opt: OptimizerFact): boolean {
  return !(p.root && opt.wholeModel && p.ctx.owner.id === opt.ctx.owner.id && p.root !== opt.wholeModel);
}

/** `l2(reg)` in a builder whose every call in the file passes `reg=0.0` (or leaves a default of 0): no L2 penalty is built. */
function l2OffAtEveryCall(facts: Facts, fw: FrameworkFacts, r: RegularizerFact): boolean {
  const e = r.l2.expr;
  return r.l2.given && e?.kind === 'name' && zeroAtEveryCall(facts, e.name, r.ctx.scope, r.ctx.at, (x, scope, at) => fw.evaluate(x, { scope, at, owner: r.ctx.owner }));
}

/** Keras regularizers with a nonzero L2 part on layer weights of the setup that uses this optimizer. */
function kerasL2(fw: FrameworkFacts, construction: OptimizerFact['call'], owner: Owner): RegularizerFact[] {
  return fw.regularizers.filter(
    (r) => r.framework === 'keras' && r.l2.value !== 0 && !(r.versionDependent && !r.l2.given) && r.attachments.some((a) => a.weight && fw.linked(a.ctx.owner, construction, owner)),
  );
}

function describeOptimizer(facts: Facts, opt: OptimizerFact, setting: DecaySetting): string {
  const label = opt.framework === 'optax' ? `optax.${opt.name}` : opt.name;
  const written = !setting.arg
    ? `${label} (default weight_decay=${formatNumber(setting.value ?? 0)})`
    : setting.source === 'group'
      ? `${label} (param group ${src(facts, setting.arg.span)})`
      : `${label}(${src(facts, setting.arg.span)})`;
  const amount = setting.value !== undefined ? formatNumber(setting.value) : setting.arg ? src(facts, setting.arg.expr.span) : 'λ';
  if (!opt.decoupled) return `${written} adds ${amount}·w to the gradient`;
  const shrink = opt.framework === 'tfa' ? `(1 − ${amount})` : `(1 − lr·${amount})`;
  return `${written} also shrinks the weights by ${shrink} every step (decoupled)`;
}

function coupledValue(facts: Facts, opt: OptimizerFact, setting: DecaySetting): Strength | undefined {
  if (opt.decoupled) return undefined;
  return { text: setting.value !== undefined ? formatNumber(setting.value) : setting.arg ? src(facts, setting.arg.expr.span) : 'λ', value: setting.value };
}

/** c·Σw² in the loss is coupled decay 2c; the message adds the optimizer's (or the hand-written) decay when coupled. */
/** Most related locations one finding lists. */
const MAX_RELATED = 8;

/** Penalties nearest the optimizer first: the same function, then by distance in the file. */
function nearestFirst(penalties: LossPenaltyFact[], owner: Owner, at: number): LossPenaltyFact[] {
  const rank = (p: LossPenaltyFact): number => (p.ctx.owner.id === owner.id ? 0 : 1);
  return [...penalties].sort((a, b) => rank(a) - rank(b) || Math.abs(a.span.start - at) - Math.abs(b.span.start - at));
}

function build(facts: Facts, fw: FrameworkFacts, span: Span, what: string, coupled: Strength | undefined, penalties: LossPenaltyFact[], regs: RegularizerFact[], decayed?: string): Report {
  let penaltyText: string;
  let c: Coef;
  let cValue: number | undefined;
  if (penalties.length > 0) {
    // A decay written by hand on one weight (`2 * lam * self.W1`) names that weight's penalty, when the loss has one.
    const own = decayed !== undefined ? ownOccurrence(facts, penalties, decayed) : undefined;
    const p = own?.penalty ?? penalties[0];
    c = p.coef;
    cValue = fw.evaluateCoef(p.coef, p.ctx);
    penaltyText = `the loss already has the L2 penalty ${unicodePenalty({ kind: 'sumsq', coef: p.coef, param: own?.text ?? src(facts, p.params[0].expr.span) })}`;
  } else {
    const r = regs[0];
    cValue = r.l2.value;
    const written = r.l2.expr ? src(facts, r.l2.expr.span) : formatNumber(r.l2.value ?? 0.01);
    c = cValue !== undefined ? num(cValue) : sym(written);
    const kwarg = r.attachments.find((a) => a.weight)?.kwarg ?? 'kernel_regularizer';
    penaltyText = `${kwarg}=${src(facts, r.expr.span)} already adds ${unicodeCoef(c)}·Σw² to the loss`;
  }
  const twoC = mul(num(2), c);
  let total = '';
  if (coupled) {
    const value = cValue !== undefined && coupled.value !== undefined ? ` = ${formatNumber(2 * cValue + coupled.value)}` : '';
    total = `; together: weight_decay = ${codeCoef(twoC)} + ${coupled.text}${value}`;
  }
  const message = `Weights regularized twice: ${penaltyText} (gradient ${unicodeCoef(twoC)}·w, the same as weight_decay=${codeCoef(twoC)} in torch's convention), and ${what}${total}. Keep one of the two.`;
  const related = [
    ...penalties.map((p) => ({ span: p.span, message: 'the L2 penalty is added to the loss here' })),
    ...regs.map((r) => ({ span: r.attachments.find((a) => a.weight)?.span ?? r.expr.span, message: 'this regularizer adds an L2 penalty to the loss' })),
  ];
  // A long file can link one optimizer to many penalties; the first few say it, a list of hundreds would not.
  if (related.length > MAX_RELATED) {
    const hidden = related.splice(MAX_RELATED).length;
    const last = related[MAX_RELATED - 1];
    related[MAX_RELATED - 1] = { ...last, message: `${last.message} (and ${hidden} more places)` };
  }
  return { span, message, related, math: coupled ? { computed: `λ_eff = ${unicodeCoef(twoC)} + ${coupled.text}` } : undefined };
}
