// A decay written by hand in the step of the project's own optimizer class (a Keras 2 / TF1 custom
// optimizer: `updates.append(K.update(p, p - lr * (g + wd * p)))`), and the Keras L2 regularizers of a
// model compiled with an instance of that class (NB201). Keras adds every layer's regularization loss
// to the loss the optimizer differentiates, so the weights get the penalty's gradient and the decay.
//
// Decided by data flow: the method holding the decay belongs to a class; an instance built here
// (`SGDW(lr=0.05, weight_decay=5e-4)`) is handed to `compile` (as `optimizer=` or first, directly or
// through a local); the regularizers' layers belong to that setup (`linked`). The decay's strength is
// read at that construction: each factor of the decay term, followed through locals, `self.x` fields
// the constructor stores and the construction's arguments (or the constructor's defaults), must be a
// known nonzero number (an unresolved or zero knob may well mean no decay).
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { ownStatements, programIndex } from './program';
import { explicitParams, type FunctionDef, type Scope } from './scope';
import { isSelfName, methodOf, resolveCall } from './resolve';
import { KERAS_COMPILE, scalarCastOperand, dtypeCastOperand } from './catalogue';
import { InnermostSpan } from './spans';
import { REGULARIZED_PROBE, trainingFacts } from './loops';
import { frameworkFacts, type HandDecayFact, type Owner, type RegularizerFact } from './frameworks';
import { l2AtModelBuild } from './regularizerAtBuild';

export interface ClassStepRegularizers {
  regs: RegularizerFact[];
  /** The construction handed to `compile`. */
  built: Span;
}

const MAX_DEPTH = 6;

/** The Keras L2 regularizers beside a hand decay in a project optimizer class's step, with the instance that links them. */
export function classStepRegularizers(facts: Facts, hand: HandDecayFact): ClassStepRegularizers | undefined {
  const fw = frameworkFacts(facts);
  const candidates = fw.regularizers.filter((r) => r.framework === 'keras' && r.l2.value !== 0 && !(r.versionDependent && !r.l2.given) && r.attachments.some((a) => a.weight));
  if (candidates.length === 0) return undefined;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(hand.ctx.scope);
  const cls = fn?.isMethod ? fn.cls : undefined;
  if (!fn || !cls || fn.name === '__init__') return undefined;
  const init = methodOf(facts.program, cls, '__init__');
  const owners = new InnermostSpan<Owner>(fw.owners);
  for (const site of index.callsNamed(cls.name)) {
    const target = resolveCall(facts.program, site.call, site.scope, site.at);
    if (!target?.constructs || target.constructs.span.start !== cls.span.start || target.constructs.span.end !== cls.span.end) continue;
    // The model compiled with it: one the code shows built without a regularized layer is not that setup's
    // (a regularized teacher fitted beside a plain student trained with this optimizer, in one function).
    const models = compiledModels(facts, site.call);
    if (models.length === 0) continue;
    const t = trainingFacts(facts);
    if (models.every((m) => m !== undefined && t.modelProbe(REGULARIZED_PROBE, m.model, m.scope, m.at).kind === 'plain')) continue;
    const strength = (e: Expr, scope: Scope, at: number, depth: number): number | undefined => knob(facts, init, site.call, e, scope, at, depth);
    const values = hand.coefFactors.map((f) => strength(f.expr, f.scope, f.at, 0));
    if (values.length === 0 || values.some((v) => v === undefined || v === 0)) continue;
    const owner = owners.at(site.call.span.start);
    // A regularizer whose strength every model compiled here is built with is 0 (`build(784, reg=0.0)`) is switched off.
    const off = (r: RegularizerFact) => models.every((m) => m !== undefined && l2AtModelBuild(facts, r, r.expr.span, m.model, m.scope, m.at) === 0);
    const regs = candidates.filter((r) => r.attachments.some((a) => a.weight && fw.linked(a.ctx.owner, site.call, owner)) && !off(r));
    if (regs.length > 0) return { regs, built: site.call.span };
  }
  return undefined;
}

/**
 * The `compile(...)` calls the construction is handed to as their optimizer, directly or through a local of
 * the same scope: each with the model it compiles (`model.compile(...)`), undefined when not written so.
 */
function compiledModels(facts: Facts, built: Expr & { kind: 'call' }): ({ model: Expr; scope: Scope; at: number } | undefined)[] {
  const out: ({ model: Expr; scope: Scope; at: number } | undefined)[] = [];
  for (const site of programIndex(facts).callsNamed(KERAS_COMPILE.method)) {
    const given = site.call.kwargs.find((k) => k.name === KERAS_COMPILE.optimizer)?.value ?? site.call.args[KERAS_COMPILE.position];
    if (!given) continue;
    let handed = given === built;
    if (!handed && given.kind === 'name') {
      const b = site.scope.lookup(given.name, site.at);
      handed = b?.kind === 'assign' && !b.op && b.value === built;
    }
    if (!handed) continue;
    const callee = site.call.callee;
    out.push(callee.kind === 'attr' ? { model: callee.object, scope: site.scope, at: site.at } : undefined);
  }
  return out;
}

/** The number a factor of the step's decay holds for this construction, or undefined when not known. */
function knob(facts: Facts, init: FunctionDef | undefined, built: Expr & { kind: 'call' }, e: Expr, scope: Scope, at: number, depth: number): number | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const fw = frameworkFacts(facts);
  if (e.kind === 'num') return e.value;
  if (e.kind === 'call') {
    const inner = scalarCastOperand(e, (x) => facts.analyzer.modulePath(x)) ?? dtypeCastOperand(e);
    return inner ? knob(facts, init, built, inner, scope, at, depth + 1) : undefined;
  }
  if (e.kind === 'name') {
    const b = scope.lookup(e.name, at);
    if (b?.kind === 'assign' && !b.op && b.value) return knob(facts, init, built, b.value, b.scope, b.at, depth + 1);
    // A constructor parameter: the construction's argument, or the default it leaves.
    if (b?.kind === 'param' && init && scope === init.scope) {
      const params = explicitParams(init);
      const i = params.findIndex((p) => p.name === e.name);
      if (i < 0 || params[i].rest) return undefined;
      // `SGDW(**cfg)`, `SGDW(*args)`: what the parameter gets is not written here.
      if (built.args.some((a) => a.kind === 'other' && a.spread)) return undefined;
      const arg = built.kwargs.find((k) => k.name === e.name)?.value ?? built.args[i];
      if (arg) return fw.evaluate(arg, { scope: programIndex(facts).scopeAt(built.span.start), at: built.span.start, owner: { id: -1, span: built.span } });
      return params[i].default ? knob(facts, init, built, params[i].default!, init.scope.parent ?? init.scope, init.span.start, depth + 1) : undefined;
    }
    return undefined;
  }
  if (e.kind === 'attr' && e.object.kind === 'name' && isSelfName(e.object.name) && init) {
    // The constructor's last write of the field, in its own statements.
    let value: Expr | undefined;
    let where = init.span.start;
    for (const s of ownStatements(init.body)) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
      const t = s.targets[0];
      if (t.kind === 'attr' && t.name === e.name && t.object.kind === 'name' && isSelfName(t.object.name)) {
        value = s.value;
        where = s.span.start;
      }
    }
    return value ? knob(facts, init, built, value, programIndex(facts).scopeAt(where), where, depth + 1) : undefined;
  }
  return undefined;
}
