// A loss function that returns the loss with a penalty on W next to a hand-written gradient for W
// that has no term for that penalty: `loss += reg * np.sum(W * W)` … `dW = X.T.dot(mask) / N` …
// `return loss, dW`. The caller steps W by dW, so the penalty shapes the reported loss but never
// the weights. (The penalty's factor against a term that is there is NB103's main check.)
//
// Decided by data flow: the function returns a tuple holding the loss (the variable its penalty is
// added to) and a gradient of the penalized weight (named for it, `dW` or `grads['W2']`, or the one
// gradient beside the loss when the loss penalizes one weight), defined in the function from
// scratch with no term in W, with nothing that could add one: no call into the program defines or
// is handed the gradient, the strength is read nowhere else in the function (a helper
// `dW += l2_grad(W, reg)`, an `if reg > 0:`), no autodiff runs in it, no caller in the file adds a
// penalty gradient before using it, and no framework optimizer of the file decays weights.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { baseExpr, exprKey, lastComponent } from './keys';
import { forEachChild, someExpr, type FunctionDef } from './scope';
import { ownStatements, programIndex } from './program';
import { lossFacts, type LossPenalty } from './losses';
import { regGradientTerms } from './gradients';
import { isGradientLike, parameterOfGradient } from './roles';
import { readsAutodiff } from './autodiff';
import { frameworkFacts } from './frameworks';
import { zeroValue } from './catalogue';
import { gradientsBesideLoss } from './lossCompanions';
import { stmtExprs } from './loops';

export interface ReturnedGradientWithoutTerm {
  fn: FunctionDef;
  /** The loss's penalty on the weight. */
  penalty: LossPenalty;
  /** The gradient as returned (`dW` in `return loss, dW`), or an entry of a returned dict where it gets its last value (`grads['W2'] = …`). */
  target: Expr;
  /** The weight as the loss's penalty names it. */
  weight: string;
  /** The return statement that hands the loss and the gradient back. */
  ret: Stmt & { kind: 'return' };
}

const cache = new WeakMap<Facts, ReturnedGradientWithoutTerm[]>();

/** Python builtins a gradient's arithmetic uses (`/ len(y)`, `float(n)`). */
const BUILTINS = new Set(['len', 'float', 'int', 'abs', 'max', 'min', 'sum', 'range', 'round', 'pow']);

export function returnedGradientsWithoutTerm(facts: Facts): ReturnedGradientWithoutTerm[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  cache.set(facts, found);
  const byFn = new Map<FunctionDef, LossPenalty[]>();
  for (const p of lossFacts(facts).penalties) if (p.site.fn) byFn.set(p.site.fn, [...(byFn.get(p.site.fn) ?? []), p]);
  // A framework optimizer that decays weights may be where the penalty's gradient is added.
  if (byFn.size === 0 || frameworkFacts(facts).optimizers.some((o) => !o.decayOff)) return found;
  for (const [fn, penalties] of byFn) {
    if (penalties.some((p) => p.site.autodiff || p.site.scaledLater || p.site.penaltyMethod)) continue;
    // A strength written as a number (`0.5 * 1e-3 * np.sum(W * W)`) is a penalty as a named one is.
    const usable = penalties.filter((p) => (p.kind === 'sumsq' || p.kind === 'l1') && p.site.sign === 1 && p.coef.num > 0 && p.site.key !== undefined);
    if (usable.length === 0 || differentiates(fn)) continue;
    const weights = new Set(penalties.map((p) => weightName(facts, p)));
    const stmts = ownStatements(fn.body);
    const seen = new Set<string>();
    let companions: Set<string> | undefined;
    for (const ret of stmts) {
      if (ret.kind !== 'return' || ret.value?.kind !== 'seq') continue;
      const items = ret.value.items;
      for (const p of usable) {
        if (p.site.span.end > ret.span.start) continue;
        const lossAt = items.findIndex((i) => exprKey(i) === p.site.key);
        if (lossAt < 0) continue;
        const others = items.filter((_, k) => k !== lossAt);
        // A weight taken by a computed key (`self.params[name]` in a loop over names) is no one weight.
        if (p.param.expr.kind === 'index' && lastComponent(p.param.expr) === lastComponent(p.param.expr.object)) continue;
        // Nor is a loop's weight (`for W in self.weights: loss += reg * np.sum(W * W)`).
        if (p.param.base.kind === 'name' && p.site.scope.lookup(p.param.base.name, p.site.at)?.kind === 'loop') continue;
        const weight = weightName(facts, p);
        // Named like a gradient, or by data flow: zeros shaped like the weight returned beside the loss that penalizes it (lossCompanions.ts).
        const isGradient = (e: Expr): boolean => isGradientLike(e) || (e.kind === 'name' && (companions ??= gradientsBesideLoss(fn.body, facts.scopes, facts.analyzer)).has(e.name));
        const gradient = gradientOf(stmts, others, weight, weights.size === 1, isGradient);
        if (!gradient || seen.has(`${weight}|${gradient}`)) continue;
        const definitions = definitionsOf(stmts, gradient, ret);
        if (definitions.length === 0) continue;
        if (!definedByHand(facts, fn, stmts, definitions, gradient, strengthNames(p))) continue;
        if (!readsBeyondWeight(facts, definitions, p)) continue;
        if (hasTerm(facts, fn, gradient)) continue;
        if (readsStrengthElsewhere(facts, fn, stmts, p)) continue;
        if (callerAddsTerm(facts, fn, 0) || termElsewhere(facts, p, byFn)) continue;
        seen.add(`${weight}|${gradient}`);
        const returned = others.find((i) => exprKey(i) === gradient);
        const target = returned ?? targetOf(definitions[definitions.length - 1], gradient)!;
        found.push({ fn, penalty: p, target, weight, ret });
      }
    }
    // One finding per returned gradient: a dict already reported whole (`return loss, grads`) is not reported again by entry.
    const wholes = found.filter((f) => f.fn === fn);
    for (const x of unpackedGradientsWithoutTerm(facts, fn, penalties, stmts, byFn)) if (!wholes.some((f) => f.ret === x.ret)) found.push(x);
  }
  return found;
}

/**
 * Does some definition of the gradient read a value besides the weight (the data, or what the function
 * computed from it)? A gradient only ever given a value of the weight alone was never worked out: an
 * unfinished stub's `dW = np.zero_like(W)` (a misspelt zeros the catalogue does not know) carries no term
 * at all, so no penalty term is missing from it.
 */
function readsBeyondWeight(facts: Facts, definitions: (Stmt & { kind: 'assign' })[], p: LossPenalty): boolean {
  const weight = new Set([exprKey(p.param.expr), exprKey(p.param.base)].filter((k): k is string => k !== undefined));
  const beyond = (e: Expr, depth: number): boolean => {
    if (depth > 100) return true;
    const key = exprKey(e);
    if (key !== undefined && weight.has(key)) return false;
    if (e.kind === 'name') return !facts.analyzer.isModule(e);
    if (e.kind === 'attr' && e.object.kind === 'name' && facts.analyzer.isModule(e.object)) return false;
    if (e.kind === 'call') return [e.callee.kind === 'name' ? undefined : e.callee, ...e.args, ...e.kwargs.map((k) => k.value)].some((x) => x !== undefined && beyond(x, depth + 1));
    let hit = false;
    forEachChild(e, (c) => {
      if (!hit && beyond(c, depth + 1)) hit = true;
    });
    return hit;
  };
  return definitions.some((d) => d.op !== undefined || beyond(d.value, 0));
}

/** The penalty's strength symbols by their last name (`reg`, `self.reg` → `reg`). */
function strengthNames(p: LossPenalty): Set<string> {
  return new Set(p.coef.syms.filter((s) => s.pow > 0).map((s) => s.name.replace(/^.*\./, '')));
}

function weightName(facts: Facts, p: LossPenalty): string {
  return lastComponent(p.param.base) ?? facts.source(p.param.expr.span);
}

/** Whether the function runs autodiff or reads a framework's gradient (`loss.backward()`, `W.grad`). */
export function differentiates(fn: FunctionDef): boolean {
  // Asked once per gradient term of the function by some callers: walk each function once.
  let found = differentiated.get(fn);
  if (found === undefined) differentiated.set(fn, (found = ownStatements(fn.body).some((s) => stmtExprs(s).some((e) => someExpr(e, readsAutodiff)))));
  return found;
}
const differentiated = new WeakMap<FunctionDef, boolean>();

/**
 * The key of the weight's gradient among the returned items: one named for the weight (`dW`), an
 * entry of a returned gradient dict the function fills under the weight's name (`grads['W2']`), or,
 * when the loss penalizes one weight, the one gradient returned beside the loss (`grad`).
 */
function gradientOf(stmts: Stmt[], others: Expr[], weight: string, oneWeight: boolean, isGradient: (e: Expr) => boolean): string | undefined {
  for (const item of others) {
    if (item.kind === 'name' && parameterOfGradient(item) === weight) return item.name;
  }
  for (const item of others) {
    if (item.kind !== 'name' || !isGradientLike(item) || parameterOfGradient(item) !== undefined) continue;
    const entry = `${item.name}[${JSON.stringify(weight)}]`;
    if (stmts.some((s) => s.kind === 'assign' && s.targets.some((t) => keyOfTarget(t) === entry))) return entry;
  }
  // A container filled by key (`grads["W2"] = …`) holds several gradients, not the one weight's.
  const one = others[0];
  if (oneWeight && others.length === 1 && one.kind === 'name' && isGradient(one) && parameterOfGradient(one) === undefined && !stmts.some((s) => s.kind === 'assign' && s.targets.some((t) => t.kind === 'index' && exprKey(t.object) === one.name && t.index[0]?.kind === 'str'))) return one.name;
  return undefined;
}

function keyOfTarget(t: Expr): string | undefined {
  return exprKey(baseExpr(t));
}

/** Whether a target (or an item of a tuple target) writes the gradient or a part of it. */
function writes(t: Expr, gradient: string): boolean {
  if (t.kind === 'seq') return t.items.some((i) => writes(i, gradient));
  return keyOfTarget(t) === gradient;
}

/**
 * The statements before the return that give the gradient a value or add to it; for a dict's entry,
 * also a rebinding of the whole dict to anything but a literal (`grads = self.backward(...)`), which
 * `definedByHand` then refuses.
 */
function definitionsOf(stmts: Stmt[], gradient: string, ret: Stmt): (Stmt & { kind: 'assign' })[] {
  const dict = /^(\w+)\[/.exec(gradient)?.[1];
  return stmts.filter(
    (s): s is Stmt & { kind: 'assign' } =>
      s.kind === 'assign' && s.span.end <= ret.span.start && (s.targets.some((t) => writes(t, gradient)) || (dict !== undefined && !s.op && s.targets.some((t) => t.kind === 'name' && t.name === dict) && s.value.kind !== 'object')),
  );
}

function targetOf(s: Stmt & { kind: 'assign' }, gradient: string): Expr | undefined {
  const visit = (t: Expr): Expr | undefined => (t.kind === 'seq' ? t.items.map(visit).find((x) => x !== undefined) : keyOfTarget(t) === gradient ? t : undefined);
  for (const t of s.targets) {
    const x = visit(t);
    if (x) return x;
  }
  return undefined;
}

/**
 * The gradient is written out in the function from the data term: not handed in, given a value with
 * `=`, not only zeros; every definition is an assignment to it (not a rebinding of the whole dict),
 * none unpacks a call, reads the strength or a value computed from it, calls into the program or
 * calls something opaque (a helper that may add the term); no method is called on it and no call
 * into the program is handed it.
 */
function definedByHand(facts: Facts, fn: FunctionDef, stmts: Stmt[], definitions: (Stmt & { kind: 'assign' })[], gradient: string, strength: Set<string>): boolean {
  const readsStrength = (x: Expr): boolean => (x.kind === 'name' || x.kind === 'attr') && strength.has(x.name);
  const scopeOf = (s: Stmt) => facts.scopes.stmtScopes.get(s) ?? fn.scope;
  const callsProgram = (e: Expr, s: Stmt): boolean => someExpr(e, (x) => x.kind === 'call' && facts.analyzer.callTarget(x, scopeOf(s), s.span.start) !== undefined);
  // A call by a bare name (`eval_numerical_gradient(f, W)`, `backward(dout, cache)`; builtins aside) or handed a function may compute the whole loss's gradient.
  const opaque = (e: Expr): boolean =>
    someExpr(e, (x) => x.kind === 'call' && ((x.callee.kind === 'name' && !BUILTINS.has(x.callee.name)) || x.args.some((a) => a.kind === 'lambda')));
  // Defined from scratch here: not handed in (`def backward(dW, …)`, the caller's gradient), and given a value with `=`.
  const base = gradient.replace(/\[.*$/, '');
  if (fn.params.some((x) => x.name === base) || !definitions.some((d) => !d.op)) return false;
  // Built from the data term's derivative: some definition adds to it or gives it a value that is not zeros (an unfinished `dW = np.zeros_like(W)` is not a gradient yet).
  if (!definitions.some((d) => (d.op === '+' || d.op === '-' || !d.op) && !zeroValue(d.value))) return false;
  // A definition that reads a value computed from the strength (`dW += reg_loss`) is some other mistake.
  const strengthValues = new Set(
    stmts.flatMap((s) => (s.kind === 'assign' && someExpr(s.value, readsStrength) ? s.targets.flatMap((t) => (t.kind === 'name' ? [t.name] : [])) : [])),
  );
  for (const d of definitions) {
    if (someExpr(d.value, (x) => readsStrength(x) || (x.kind === 'name' && strengthValues.has(x.name)))) return false;
    if (!targetOf(d, gradient)) return false; // the dict rebound as a whole
    if (d.targets.some((t) => t.kind === 'seq')) return false;
    if (callsProgram(d.value, d) || opaque(d.value)) return false;
  }
  const handsGradient = (e: Expr): boolean =>
    someExpr(e, (x) => x.kind === 'call' && [...x.args, ...x.kwargs.map((k) => k.value)].some((a) => exprKey(baseExpr(a)) === gradient || exprKey(a) === base));
  // A method called on it (`grads.append(dW)`, `grads.update(extra)`) fills it out of sight.
  const mutated = (e: Expr): boolean => e.kind === 'call' && e.callee.kind === 'attr' && exprKey(baseExpr(e.callee.object)) === base;
  if (stmts.some((s) => s.kind === 'expr' && mutated(s.expr))) return false;
  return !stmts.some((s) => s.kind === 'expr' && handsGradient(s.expr)) && !stmts.some((s) => s.kind === 'assign' && handsGradient(s.value) && callsProgram(s.value, s));
}

/** Whether some penalty-gradient term (of any kind or factor) is added to the gradient in the function. */
function hasTerm(facts: Facts, fn: FunctionDef, gradient: string): boolean {
  const index = programIndex(facts);
  // An entry's term may be added under a computed key (`for k in ("W1", "W2"): grads[k] += reg * params[k]`).
  const dict = /^(\w+)\[/.exec(gradient)?.[1];
  return regGradientTerms(facts).some((t) => {
    const key = keyOfTarget(t.site.target);
    if (index.enclosingFunction(t.site.scope) !== fn || key === undefined) return false;
    return key === gradient || key.startsWith(`${gradient}[`) || (dict !== undefined && (key === dict || (key.startsWith(`${dict}[`) && !/^\w+\["[^"]*"\]$/.test(key))));
  });
}

/**
 * Whether the penalty's strength is read in the function outside its losses and outside the
 * penalty-gradient terms of other weights: a helper handed it, a condition on it, a term the
 * analysis does not read may add the gradient this finding would miss.
 */
function readsStrengthElsewhere(facts: Facts, fn: FunctionDef, stmts: Stmt[], p: LossPenalty): boolean {
  const names = strengthNames(p);
  const index = programIndex(facts);
  const allowed = [
    ...lossFacts(facts).sites.filter((s) => s.fn === fn).map((s) => s.span),
    ...lossFacts(facts).penalties.filter((x) => x.site.fn === fn).flatMap((x) => x.defs.map((d) => d.span)),
    ...regGradientTerms(facts).filter((t) => index.enclosingFunction(t.site.scope) === fn).map((t) => t.span),
  ];
  const inside = (e: Expr): boolean => allowed.some((a) => a.start <= e.span.start && e.span.end <= a.end);
  const reads = (e: Expr): boolean => (e.kind === 'name' || e.kind === 'attr') && names.has(e.name) && !inside(e);
  return stmts.some((s) => stmtExprs(s).some((e) => someExpr(e, reads)));
}

/**
 * Whether another method of the loss's class with no penalized loss of its own (an update method)
 * adds a penalty-gradient term with the penalty's strength, kept on the object: `p -= lr * (g + self.reg * p)`.
 */
function termElsewhere(facts: Facts, p: LossPenalty, lossFunctions: Map<FunctionDef, LossPenalty[]>): boolean {
  const cls = p.site.fn?.cls;
  const fields = new Set(p.coef.syms.filter((s) => s.pow > 0 && /^(self|this)\./.test(s.name)).map((s) => s.name.replace(/^.*\./, '')));
  if (!cls || fields.size === 0) return false;
  const index = programIndex(facts);
  return regGradientTerms(facts).some((t) => {
    const owner = index.enclosingFunction(t.site.scope);
    if (!owner || owner === p.site.fn || owner.cls !== cls || lossFunctions.has(owner)) return false;
    return (t.coef ?? t.stepCoef).syms.some((s) => fields.has(s.name.replace(/^.*\./, '')));
  });
}

/**
 * Whether a function of the file that calls this one (or calls a wrapper that returns its value)
 * adds a penalty-gradient term anywhere: `W -= lr * (dW + 2 * reg * W)` beside the call.
 */
function callerAddsTerm(facts: Facts, fn: FunctionDef, depth: number): boolean {
  if (depth > 3) return false;
  const index = programIndex(facts);
  for (const c of index.callsTo(fn)) {
    const caller = index.enclosingFunction(c.scope);
    if (!caller || caller === fn) continue;
    if (regGradientTerms(facts).some((t) => index.enclosingFunction(t.site.scope) === caller)) return true;
    if (callerAddsTerm(facts, caller, depth + 1)) return true;
  }
  return false;
}

/**
 * A layered net's backward pass (CS231n's `FullyConnectedNet.loss`): the returned gradient dict's
 * entries for the penalized weights are unpacked straight from a layer helper's returned tuple
 * (`dx, grads['W%d' % i], grads['b%d' % i] = affine_relu_backward(dout, cache)`, or through a local
 * so unpacked), the helper (resolved in any file, with what it calls) never reads the strength, and
 * nothing else in the function writes those entries, reads the strength or adds a penalty term.
 * Entries and weights are paired by the key they are stored under (`'W%d' % i`, `'W' + str(i)`,
 * `f'W{i}'` and `'W1'` as the same key pattern). A helper the project does not show counts when it
 * cannot reach the strength (below).
 */
function unpackedGradientsWithoutTerm(facts: Facts, fn: FunctionDef, penalties: LossPenalty[], stmts: Stmt[], byFn: Map<FunctionDef, LossPenalty[]>): ReturnedGradientWithoutTerm[] {
  const out: ReturnedGradientWithoutTerm[] = [];
  // The helper is searched for the strength by name: a strength written as a number is left alone.
  const usable = penalties.filter((p) => (p.kind === 'sumsq' || p.kind === 'l1') && p.site.sign === 1 && p.coef.num > 0 && p.site.key !== undefined && p.coef.syms.some((s) => s.pow > 0));
  if (usable.length === 0) return out;
  const index = programIndex(facts);
  const seen = new Set<string>();
  for (const ret of stmts) {
    if (ret.kind !== 'return' || ret.value?.kind !== 'seq') continue;
    const items = ret.value.items;
    const before = stmts.filter((s) => s.span.end <= ret.span.start);
    for (const p of usable) {
      if (p.site.span.end > ret.span.start) continue;
      const lossAt = items.findIndex((i) => exprKey(i) === p.site.key);
      if (lossAt < 0) continue;
      const weight = weightSlot(facts, p.param.expr, 0);
      if (!weight) continue;
      for (const item of items) {
        if (item === items[lossAt] || item.kind !== 'name' || fn.params.some((x) => x.name === item.name)) continue;
        const dict = item.name;
        const entries = unpackedEntries(facts, fn, before, dict, weight.template);
        if (!entries || entries.length === 0) continue;
        const dedupe = `${dict}|${entries[entries.length - 1].target.span.start}`;
        if (seen.has(dedupe)) continue;
        if (!dictStaysLocal(before, dict)) continue;
        const names = strengthNames(p);
        // A helper the project does not show (cs231n's `layers.py` under a folder whose `setup.py` makes it the root) is read
        // by what it can see: called by its bare name, handed neither the object nor the strength, it cannot reach a strength
        // kept on the object or passed to this function.
        const unseen = (e: UnpackedEntry): boolean => !(moduleName(facts, e.call.callee) && !e.call.args.some(handsObject) && !e.call.kwargs.some((k) => handsObject(k.value)) && strengthOutOfReach(fn, p));
        if (entries.some((e) => (e.helper ? helperReads(facts, e.helper, names, new Set(), 0) : unseen(e)))) continue;
        // A penalty-gradient term in the function, other than on another literal entry of the dict, may be this weight's.
        const ownTerm = regGradientTerms(facts).some((t) => {
          if (index.enclosingFunction(t.site.scope) !== fn) return false;
          const key = t.site.target.kind === 'index' && exprKey(t.site.target.object) === dict ? keyTemplate(facts, t.site.target.index[0], 0) : undefined;
          return key === undefined || key.includes('{}') || templatesMatch(key, weight.template);
        });
        if (ownTerm || readsStrengthElsewhere(facts, fn, stmts, p)) continue;
        if (callerAddsTerm(facts, fn, 0) || termElsewhere(facts, p, byFn)) continue;
        seen.add(dedupe);
        const last = entries[entries.length - 1].target;
        // A weight under a computed key is named by the entry's own key (`self.params[wkey]` beside `grads[wkey]`), which is in scope there.
        const text = weight.text ?? (last.kind === 'index' ? `${weight.owner}[${facts.source(last.index[0].span)}]` : facts.source(p.param.expr.span));
        out.push({ fn, penalty: p, target: last, weight: text.replace(/\s+/g, ' '), ret });
      }
    }
  }
  return out;
}

/** The key pattern of a dict key: `'W%d' % i`, `'W' + str(i)`, `f'W{i}'` and `'W{}'.format(i)` are all `W{}`; a name is read through its one assignment. */
function keyTemplate(facts: Facts, e: Expr | undefined, depth: number): string | undefined {
  if (!e || depth > 8) return undefined;
  switch (e.kind) {
    case 'str':
      return /^[rRbBuU]*[fF]/.test(facts.source(e.span)) ? e.value.replace(/\{[^{}]*\}/g, '{}') : e.value;
    case 'num':
      return String(e.value);
    case 'binary': {
      if (e.op === '%' && e.left.kind === 'str') return e.left.value.replace(/%[-+ #0-9.]*[sdiur]/g, '{}');
      if (e.op !== '+') return undefined;
      const part = (x: Expr): string => (x.kind === 'str' ? x.value : (keyTemplate(facts, x, depth + 1) ?? '{}'));
      const joined = part(e.left) + part(e.right);
      return /[^{}]/.test(joined) ? joined.replace(/(\{\})+/g, '{}') : undefined;
    }
    case 'call':
      if (e.callee.kind === 'name' && e.callee.name === 'str') return '{}';
      if (e.callee.kind === 'attr' && e.callee.name === 'format' && e.callee.object.kind === 'str') return e.callee.object.value.replace(/\{[^{}]*\}/g, '{}');
      return undefined;
    case 'name': {
      const binding = programIndex(facts).scopeAt(e.span.start).lookup(e.name, e.span.start);
      if (!binding || binding.kind !== 'assign' || binding.op || !binding.value || binding.unpacked) return undefined;
      return keyTemplate(facts, binding.value, depth + 1);
    }
    default:
      return undefined;
  }
}

function templatesMatch(a: string, b: string): boolean {
  if (a === b) return true;
  const pattern = (t: string): RegExp => new RegExp(`^${t.split('{}').map((x) => x.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[0-9]+')}$`);
  return (!a.includes('{}') && pattern(b).test(a)) || (!b.includes('{}') && pattern(a).test(b));
}

/** The key a penalized weight is stored under in its dict: `self.params['W%d' % i]`, or `W1` given `self.params['W1']`. */
function weightSlot(facts: Facts, e: Expr, depth: number, name?: string): { template: string; owner: string; text?: string } | undefined {
  if (depth > 4) return undefined;
  if (e.kind === 'index' && e.index.length === 1) {
    const template = keyTemplate(facts, e.index[0], 0);
    if (template === undefined || !/[^{}]/.test(template)) return undefined;
    // A weight under a literal key is named as the code names it (`W1`, or the key).
    return { template, owner: facts.source(e.object.span), text: template.includes('{}') ? undefined : (name ?? template) };
  }
  if (e.kind === 'name') {
    const binding = programIndex(facts).scopeAt(e.span.start).lookup(e.name, e.span.start);
    if (!binding || binding.kind !== 'assign' || binding.op || !binding.value || binding.unpacked) return undefined;
    return weightSlot(facts, binding.value, depth + 1, e.name);
  }
  return undefined;
}

interface UnpackedEntry {
  /** The entry as the unpacking writes it (`grads['W%d' % i]`), or as the copy of an unpacked local writes it. */
  target: Expr;
  /** The call whose returned tuple it comes from, and the layer helper it runs when the project shows it. */
  call: Expr & { kind: 'call' };
  helper?: FunctionDef;
}

/** A bare name no local, parameter or loop variable binds (`backward = layer.backward` may be an object's method that reads its own strength): an import. */
function moduleName(facts: Facts, callee: Expr): boolean {
  return callee.kind === 'name' && programIndex(facts).scopeAt(callee.span.start).lookup(callee.name, callee.span.start) === undefined;
}

/** `self` (or `this`) handed to a call, whole: the callee may read the strength kept on it. */
function handsObject(e: Expr): boolean {
  return someExpr(e, (x) => x.kind === 'name' && (x.name === 'self' || x.name === 'this'));
}

/** Every symbol of the strength is a field of the object (`self.reg`) or a parameter of the loss function: nothing a module-level helper can read. */
function strengthOutOfReach(fn: FunctionDef, p: LossPenalty): boolean {
  return p.coef.syms.filter((s) => s.pow > 0).every((s) => /^(self|this)\.\w+$/.test(s.name) || fn.params.some((x) => x.name === s.name));
}

/**
 * The dict's entries for the weight's key pattern, when every write of them is an unpacking of a
 * call's result (`dx, grads[k], grads[b] = helper(...)`) or a plain copy of a local so unpacked;
 * undefined when some other write (a term added, a computed value, a key that cannot be read) may be the penalty's.
 */
function unpackedEntries(facts: Facts, fn: FunctionDef, stmts: Stmt[], dict: string, template: string): UnpackedEntry[] | undefined {
  const entries: UnpackedEntry[] = [];
  const scopeOf = (s: Stmt) => facts.scopes.stmtScopes.get(s) ?? fn.scope;
  const helperOf = (call: Expr, s: Stmt): FunctionDef | undefined => (call.kind === 'call' ? facts.analyzer.callTarget(call, scopeOf(s), s.span.start)?.fn : undefined);
  const isEntry = (t: Expr): boolean | undefined => {
    if (t.kind !== 'index' || exprKey(t.object) !== dict) return false;
    const key = keyTemplate(facts, t.index[0], 0);
    return key === undefined ? undefined : templatesMatch(key, template);
  };
  for (const s of stmts) {
    if (s.kind !== 'assign') continue;
    for (const t of s.targets) {
      const items = t.kind === 'seq' ? t.items : [t];
      for (const item of items) {
        const hit = isEntry(item);
        if (hit === false) continue;
        if (hit === undefined || s.op) return undefined;
        if (t.kind === 'seq') {
          if (s.value.kind !== 'call') return undefined;
          entries.push({ target: item, call: s.value, helper: helperOf(s.value, s) });
          continue;
        }
        // `grads['W2'] = dw` after `dx, dw, db = affine_backward(dout, cache)`.
        if (s.value.kind !== 'name') return undefined;
        const binding = scopeOf(s).lookup(s.value.name, s.span.start);
        if (!binding?.unpacked || binding.unpacked.value.kind !== 'call' || binding.op) return undefined;
        const unpacking = stmts.find((u) => u.kind === 'assign' && u.span.start === binding.at);
        if (!unpacking) return undefined;
        entries.push({ target: item, call: binding.unpacked.value, helper: helperOf(binding.unpacked.value, unpacking) });
      }
    }
  }
  return entries;
}

/** The dict is built here as a literal (`grads = {}`), never rebound to another value, handed to a call or filled by a method. */
function dictStaysLocal(stmts: Stmt[], dict: string): boolean {
  let built = false;
  for (const s of stmts) {
    if (s.kind === 'assign') {
      for (const t of s.targets) {
        const items = t.kind === 'seq' ? t.items : [t];
        const at = items.findIndex((i) => i.kind === 'name' && i.name === dict);
        if (at < 0) continue;
        const value = t.kind === 'seq' ? (s.value.kind === 'seq' && s.value.items.length === items.length ? s.value.items[at] : undefined) : s.value;
        const empty = value && (value.kind === 'object' || (value.kind === 'call' && value.callee.kind === 'name' && value.callee.name === 'dict' && value.args.length === 0));
        if (!empty || s.op) return false;
        built = true;
      }
    }
    const handed = (e: Expr): boolean =>
      someExpr(e, (x) => x.kind === 'call' && ([...x.args, ...x.kwargs.map((k) => k.value)].some((a) => exprKey(a) === dict) || (x.callee.kind === 'attr' && exprKey(baseExpr(x.callee.object)) === dict)));
    if (stmtExprs(s).some(handed)) return false;
  }
  return built;
}

/**
 * Whether a helper, or a function it calls (resolved, at most six deep), reads the strength by name
 * (`reg`, `self.reg`): a term for the penalty may be added there. (What it calls unresolved sees only
 * what it is handed, and the strength is handed nowhere: `readsStrengthElsewhere`.)
 */
function helperReads(facts: Facts, fn: FunctionDef, names: Set<string>, seen: Set<FunctionDef>, depth: number): boolean {
  if (seen.has(fn)) return false;
  if (depth > 6) return true;
  seen.add(fn);
  const owner = facts.program.factsAt(fn.span);
  for (const s of ownStatements(fn.body)) {
    for (const e of stmtExprs(s)) {
      if (someExpr(e, (x) => (x.kind === 'name' || x.kind === 'attr') && names.has(x.name))) return true;
      const calls: (Expr & { kind: 'call' })[] = [];
      someExpr(e, (x) => {
        if (x.kind === 'call') calls.push(x);
        return false;
      });
      for (const c of calls) {
        const scope = owner ? programIndex(owner).scopeAt(c.span.start) : fn.scope;
        const target = facts.analyzer.callTarget(c, scope, c.span.start);
        if (target && helperReads(facts, target.fn, names, seen, depth + 1)) return true;
      }
    }
  }
  return false;
}
