// Finds the places where code changes a parameter or its gradient: `W -= lr * g`, `p.sub_(...)`,
// `w.assign(w.sub(...))`, `tree_map(lambda p, g: p - lr * g, ...)`, `dW += ...`, `dW = X.T @ d + ...`.
import type { Expr, Span, Stmt } from '../ir';
import type { Analyzer, Summand } from './analysis';
import { loopItemField, numberOf, penaltyOfProduct } from './analysis';
import { baseExpr, components, exprKey, lastComponent } from './keys';
import { ExprWalk, explicitParams, forEachChild, loopIterable, someExpr, type Binding, type FunctionDef, type Scope, type ScopeBuilder } from './scope';
import { appliedReturns, returnedReads } from './appliedSteps';
import { isSelfName, resolveCall } from './resolve';
import { VIEW_FUNCTIONS, divisorArgument, inPlaceUpdate, isModuleWrite, isTensorStorage, loopSource, optimizerGradientInputs, zeroValue } from './catalogue';
import { spanKey, type ProgramIndex } from './program';
import { isGradientLike, isLearningRateName, isRunningTotalName, isStateName } from './roles';
import { handsOnAsGradient } from './upstreamGradients';
import { carriedIntoWeightGradients } from './backpropagatedErrors';
import { gradientsBesideLoss } from './lossCompanions';
import { catalogueGradientNames, dictRoot, gradientCopies, gradientDictsBesideLoss, gradientLocalsBesideLoss } from './gradientDicts';
import { growsQueuedEntry } from './gradientQueues';
import { handedGradient, type HandedContext } from './handedGradients';
import { stepAccumulators } from './stepAccumulators';
import { fieldAccumulators } from './fieldAccumulators';
import { isAppliedGradientLocal } from './appliedGradientLocals';

export type UpdateKind =
  /** The parameter itself moves: `W -= lr * dW`. */
  | 'update'
  /** Something is added into a gradient: `dW += reg * W`. */
  | 'accumulate'
  /** A gradient is defined from scratch: `dW = X.T @ dscores + reg * W`. */
  | 'gradient';

export interface UpdateSite {
  kind: UpdateKind;
  /** What is assigned: `W`, `p.data`, `w[i]`, a lambda's parameter. */
  target: Expr;
  /** The summands added to the target: new value = target + Σ increment. */
  increment: Summand[];
  span: Span;
  scope: Scope;
  at: number;
  /** `T = a·T + …`: the factor that scales the target's own term, when it is scaled. */
  selfFactor?: Expr;
  /** `T += c·(X − T)`, `T -= c·(T − X)`: a moving average written as an increment. */
  movingAverage?: true;
  /** The target is the gradient a backward pass is handed to carry back through the layers (upstreamGradients.ts), not one parameter's own gradient. */
  upstream?: true;
  /** A regularizer object's gradient method (regularizerObjects.ts): this is the gradient of that value method's penalty. */
  penaltyGradientOf?: FunctionDef;
}


/** Candidate update statements, found structurally (before the parameter set is known). */
export function findUpdates(body: Stmt[], scopes: ScopeBuilder, analyzer: Analyzer): UpdateSite[] {
  const sites: UpdateSite[] = [];
  // The statements of the function being walked (the module's at the top): where a value goes next.
  let fnBody = body;
  /**
   * Is the target a gradient: by data flow, the one the function hands on to a backward pass to carry
   * back (`G_x = G_y; … G_x = layer.backward(G_x, self)`), whatever its name; or, failing that, by its name.
   */
  const besideLoss = new Map<Stmt[], Set<string>>();
  const gradientRole = (target: Expr, scope: Scope): { upstream?: true } | undefined => {
    if (target.kind === 'name' && handsOnAsGradient(analyzer.program, fnBody, scope, target.name, (e) => analyzer.isModule(e))) return { upstream: true };
    if (isGradientLike(target) || inFlowContainer(target) || isGradientCopy(target)) return {};
    // A field every write starts at zeros or adds to, read into another field's step (fieldAccumulators.ts).
    const field = fieldOf(target);
    if (field && fieldAccumulators(body).has(field)) return {};
    // An error a hand-written backward pass carries through a matrix product into the step (backpropagatedErrors.ts).
    if (target.kind === 'name' && fnBody !== body && carriedIntoWeightGradients(fnBody, target.name, (e) => analyzer.isModule(e))) return { upstream: true };
    // Returned beside a loss that penalizes the weight it is zeros shaped like (lossCompanions.ts).
    const base = baseExpr(target);
    if (base.kind !== 'name' || fnBody === body) return undefined;
    // A parameter every call of the function hands a gradient (handedGradients.ts).
    if (isHanded(base)) return {};
    // A local the function starts, only adds to, and steps another array by (stepAccumulators.ts).
    const accumulators = stepAccumulators(fnBody);
    if (accumulators.started.has(base.name) || (accumulators.handed.has(base.name) && isParameterName(scope, base.name))) return {};
    let names = besideLoss.get(fnBody);
    // Or stored whole under a penalized weight's key of a dict returned beside the loss (gradientDicts.ts).
    if (!names) besideLoss.set(fnBody, (names = new Set([...gradientsBesideLoss(fnBody, scopes, analyzer), ...gradientLocalsBesideLoss(fnBody, scopes, analyzer)])));
    return names.has(base.name) ? {} : undefined;
  };
  /**
   * A gradient container by data flow (gradientDicts.ts): an entry of a dict of gradients returned beside
   * a loss penalizing weights keyed alike, or of the gradients a framework's call hands back.
   */
  const flowContainers = new Map<Stmt[], Set<string>>();
  const inFlowContainer = (e: Expr): boolean => {
    const root = e.kind === 'attr' ? dictRoot(e.object) : e.kind === 'index' ? dictRoot(e) : undefined;
    if (root === undefined) return false;
    if (catalogueGradientNames(body).has(root)) return true;
    if (fnBody === body) return false;
    let names = flowContainers.get(fnBody);
    if (!names) flowContainers.set(fnBody, (names = gradientDictsBesideLoss(fnBody, scopes, analyzer)));
    return names.has(root);
  };
  /** A parameter of the function being walked that every call hands a gradient by data flow (handedGradients.ts). */
  let handedCtx: HandedContext | undefined;
  const isHanded = (e: Expr): boolean => {
    if (fnBody === body) return false;
    const root = e.kind === 'index' ? baseExpr(e) : e;
    if (root.kind !== 'name') return false;
    handedCtx ??= { program: analyzer.program, body, scopes, analyzer, isModule: (x) => analyzer.isModule(x) };
    return handedGradient(handedCtx, fnBody, root.name);
  };
  /** A local copy of a gradient (`g = p.grad.clamp(-c, c)`, `g = grads[k]`), whatever it is called (gradientDicts.ts). */
  const copies = new Map<Stmt[], Set<string>>();
  const isGradientCopy = (e: Expr): boolean => {
    if (e.kind !== 'name' || fnBody === body) return false;
    let names = copies.get(fnBody);
    if (!names) copies.set(fnBody, (names = gradientCopies(fnBody, (x) => isGradientLike(x) || inFlowContainer(x) || isHanded(x), (x) => analyzer.isModule(x))));
    return names.has(e.name);
  };
  const visitStmts = (stmts: Stmt[]): void => {
    for (const stmt of stmts) visitStmt(stmt);
  };
  const visitStmt = (stmt: Stmt): void => {
    const scope = scopes.stmtScopes.get(stmt) ?? scopes.root;
    switch (stmt.kind) {
      case 'assign':
        assignSite(stmt, scope);
        visitExpr(stmt.value, scope, undefined);
        return;
      case 'expr':
        if (stmt.expr.kind === 'call') callSite(stmt.expr, scope, stmt.span);
        statementCall = stmt.expr;
        visitExpr(stmt.expr, scope, undefined);
        statementCall = undefined;
        return;
      case 'function': {
        const outer = fnBody;
        fnBody = stmt.body;
        visitStmts(stmt.body);
        fnBody = outer;
        return;
      }
      case 'class':
      case 'block':
        if (stmt.kind === 'block') stmt.heads.forEach((h) => visitExpr(h, scope, undefined));
        visitStmts(stmt.body);
        return;
      case 'for':
        visitExpr(stmt.iter, scope, undefined);
        visitStmts(stmt.body);
        return;
      case 'return':
        if (stmt.value) {
          // `def leaf_update(p, g): return p - lr * (g + ...)` updates its parameter p.
          for (const [name, bindings] of scope.bindings) if (bindings.some((b) => b.kind === 'param')) elementUpdate(name, stmt.value, scope, stmt.value.span, undefined);
          gradientExpression(stmt.value, scope, stmt.span.start);
          visitExpr(stmt.value, scope, undefined);
        }
        return;
      case 'import':
        return;
    }
  };

  const assignSite = (stmt: Stmt & { kind: 'assign' }, scope: Scope): void => {
    if (stmt.targets.length !== 1 || stmt.targets[0].kind === 'seq') return;
    const target = stmt.targets[0];
    const at = stmt.span.start;
    if (stmt.op === '*') return scaled(target, stmt.value, scope, at, stmt.span);
    if (stmt.op === '+' || stmt.op === '-') {
      const increment = analyzer.summands(stmt.value, scope, at);
      const signed = stmt.op === '-' ? increment.map(flip) : increment;
      const ema = isAverageIncrement(target, stmt.value, stmt.op, scope, at, analyzer) || pullsTowardTarget(target, signed, analyzer);
      const role = gradientRole(target, scope);
      sites.push({ kind: role ? 'accumulate' : 'update', target, increment: signed, span: stmt.span, scope, at, ...role, ...(ema ? { movingAverage: true as const } : {}) });
      return;
    }
    if (stmt.op) return;
    selfUpdate(target, stmt.value, scope, at, stmt.span, true);
  };

  /** `T = <expr containing T as a summand>`; or, for a gradient target, a fresh definition. */
  const selfUpdate = (target: Expr, value: Expr, scope: Scope, at: number, span: Span, allowDefinition: boolean): void => {
    const key = exprKey(baseExpr(target));
    const targetKey = exprKey(target);
    if (key === undefined) return;
    const all = analyzer.summands(value, scope, at);
    const self = all.findIndex((s) => isSelfTerm(s, key, targetKey) || isItemsAlias(s, target, scope, at));
    if (self >= 0) {
      const increment = all.filter((_, i) => i !== self);
      const scaled = all[self].num.filter((f) => !isTargetValue(f, key, targetKey));
      const selfFactor = scaled.length === 1 && all[self].sign === 1 ? scaled[0].expr : undefined;
      // `T = T + c·(X − T)`: the increment holds −c·T beside c·X, a moving average toward X.
      const ema = !selfFactor && all[self].num.length === 1 && pullsTowardTarget(target, increment, analyzer);
      const role = increment.length > 0 ? gradientRole(target, scope) : undefined;
      if (increment.length > 0) sites.push({ kind: role ? 'accumulate' : 'update', target, increment, span, scope, at, ...role, ...(selfFactor ? { selfFactor } : {}), ...(ema ? { movingAverage: true as const } : {}) });
      return;
    }
    // A definition with one term adds nothing to anything; where it is used, the use is checked.
    const definition = allowDefinition && all.length > 1 && value.kind !== 'object' && value.kind !== 'seq';
    const role = definition ? gradientRole(target, scope) : undefined;
    if (role) sites.push({ kind: 'gradient', target, increment: all, span, scope, at, ...role });
    // A local returned in a tuple that a caller steps a parameter by is a gradient too: decided once all sites are found.
    else if (definition && target.kind === 'name' && fnBody !== body) returnedDefinitions.push({ fnBody, site: { kind: 'gradient', target, increment: all, span, scope, at } });
  };

  const callSite = (call: Expr & { kind: 'call' }, scope: Scope, span: Span): void => {
    const update = inPlaceUpdate(call, (e) => analyzer.isModule(e), (e) => analyzer.modulePath(e));
    if (!update) return;
    const { target, operand } = update;
    const at = span.start;
    if (update.op === '+' || update.op === '-') {
      const increment = analyzer.summands(operand, scope, at);
      const ema = isAverageIncrement(target, operand, update.op, scope, at, analyzer);
      const role = gradientRole(target, scope);
      sites.push({ kind: role ? 'accumulate' : 'update', target, increment: update.op === '-' ? increment.map(flip) : increment, span, scope, at, ...role, ...(ema ? { movingAverage: true as const } : {}) });
    } else if (update.op === '=') selfUpdate(target, operand, scope, at, span, false);
    else scaled(target, operand, scope, at, span);
  };

  /** `p.mul_(1 - lr * wd)`, `W *= 1 - lr * wd`: W ← W + (−lr·wd)·W, a step by the terms next to the 1. */
  const scaled = (target: Expr, factor: Expr, scope: Scope, at: number, span: Span): void => {
    const parts = factorTerms(factor, scope, at, analyzer);
    const one = parts.findIndex((s) => s.sign === 1 && s.den.length === 0 && s.num.length === 1 && numberOf(s.num[0].expr) === 1);
    if (one < 0 || parts.length < 2) return;
    const self = { expr: target, scope, at, outer: true };
    sites.push({ kind: 'update', target, increment: parts.filter((_, i) => i !== one).map((s) => ({ ...s, num: [...s.num, self] })), span, scope, at });
  };

  /** Sums defined in a function, not named or used as gradients, for `isAppliedGradientLocal`. */
  const returnedDefinitions: { fnBody: Stmt[]; site: UpdateSite }[] = [];

  /** The call an expression statement is (its write is taken by `callSite` there). */
  let statementCall: Expr | undefined;
  const walk = new ExprWalk<Scope>();
  /** Lambdas and comprehensions that return an updated element: `lambda p, g: p - lr * g`. */
  const visitExpr = (root: Expr, scope: Scope, _parent: Expr | undefined): void => {
    const base = walk.start(root, scope);
    try {
      while (walk.depth() > base) visitNode(walk.pop(), walk.ctx, walk.parent);
    } finally {
      walk.end(base);
    }
  };
  const visitNode = (e: Expr, s: Scope, parent: Expr | undefined): void => {
    if (e.kind === 'lambda') {
      const ls = scopes.lambdaScopes.get(e) ?? s;
      const first = e.params[0];
      if (first && e.body) elementUpdate(first.name, e.body, ls, e.span, parent);
      // `vars.forEach((p, k) => p.assign(p.sub(...)))`: an expression body can be an in-place update.
      if (e.body?.kind === 'call') callSite(e.body, ls, e.body.span);
      for (const st of e.stmts) visitLambdaStmt(st);
      if (e.body) walk.push(e.body, ls, e);
      return;
    }
    if (e.kind === 'comprehension') {
      const cs = scopes.lambdaScopes.get(e) ?? s;
      // `[(w - lr * dw, b - lr * db) for (w, b), (dw, db) in zip(params, grads)]`: each item may update a target.
      const elements = e.element.kind === 'seq' ? e.element.items : [e.element];
      for (const g of e.generators) {
        for (const name of targetNames(g.target)) for (const element of elements) elementUpdate(name, element, cs, element.span, undefined);
        walk.push(g.iter, s, undefined);
      }
      walk.push(e.element, cs, e);
      return;
    }
    // A module's write of a variable made as a value: the update ops Keras 2 and TF1 collect
    // (`self.updates.append(K.update(p, new_p))`, `ops = [tf.assign(w, w - lr * g)]`) run as the step.
    if (e.kind === 'call' && e !== statementCall && isModuleWrite(e, (x) => analyzer.isModule(x), (x) => analyzer.modulePath(x))) callSite(e, s, e.span);
    // Gradients built inside other expressions: `{W1: grads.W1.add(...)}`, `f([g + ..., ...])`.
    if (e.kind === 'object') for (const entry of e.entries) gradientExpression(entry.value, s, Infinity);
    if (e.kind === 'call') {
      // The divisor of `a.div(grad + c)` / `torch.div(a, grad + c)` divides; it adds nothing to a gradient.
      const divisor = divisorArgument(e, (x) => analyzer.isModule(x));
      for (const arg of e.args) if (arg !== divisor) gradientExpression(arg, s, Infinity);
    }
    if (e.kind === 'seq') for (const item of e.items) gradientExpression(item, s, Infinity);
    walk.pushChildren(e, s);
  };

  /** An expression that adds terms to a gradient (`grads.W1.add(X)`, `g + X`) accumulates into it. */
  const gradientExpression = (e: Expr, scope: Scope, at: number): void => {
    if (e.kind !== 'binary' && e.kind !== 'call') return;
    // `norm(grad_naive - grad_vectorized)`: one gradient less another compares them (a gradient check); it accumulates nothing.
    if (e.kind === 'binary' && e.op === '-' && isGradientLike(e.left) && isGradientLike(e.right)) return;
    const all = analyzer.summands(e, scope, at);
    if (all.length < 2) return;
    const self = all.findIndex((s) => s.sign === 1 && s.den.length === 0 && s.num.length === 1 && (isGradientLike(s.num[0].expr) || inFlowContainer(s.num[0].expr)) && exprKey(s.num[0].expr) !== undefined);
    if (self < 0) return;
    sites.push({ kind: 'accumulate', target: all[self].num[0].expr, increment: all.filter((_, i) => i !== self), span: e.span, scope, at });
  };
  const visitLambdaStmt = (stmt: Stmt): void => visitStmt(stmt);

  const elementUpdate = (name: string, body: Expr, scope: Scope, span: Span, parent: Expr | undefined): void => {
    if (body.kind === 'cond') {
      elementUpdate(name, body.then, scope, body.then.span, parent);
      elementUpdate(name, body.else, scope, body.else.span, parent);
      return;
    }
    const all = analyzer.summands(body, scope, Infinity);
    const self = all.findIndex((s) => s.sign === 1 && s.den.length === 0 && s.num.length === 1 && s.num[0].expr.kind === 'name' && s.num[0].expr.name === name);
    if (self < 0 || all.length < 2) return;
    const target: Expr = { kind: 'name', name, span: all[self].site };
    // `grads.map((g, i) => g + ...)` accumulates into a gradient.
    const receiver = parent && parent.kind === 'call' && parent.callee.kind === 'attr' ? parent.callee.object : undefined;
    const kind = isGradientLike(target) || (receiver !== undefined && isGradientLike(receiver)) ? 'accumulate' : 'update';
    sites.push({ kind, target: kind === 'accumulate' && receiver ? receiver : target, increment: all.filter((_, i) => i !== self), span, scope, at: Infinity });
  };

  visitStmts(body);
  // `j_wrt_w = G @ X.T / n + lam * W; return j_wrt_w, gb`, stepped by a caller (appliedGradientLocals.ts).
  const found = sites.length;
  for (const d of returnedDefinitions) if (d.site.target.kind === 'name' && isAppliedGradientLocal(analyzer.program, d.fnBody, d.site.target.name, sites.slice(0, found))) sites.push(d.site);
  // Gradient accumulations by class, for the updates no name or gradient vouches for.
  let byClass: Map<Scope, UpdateSite[]> | undefined;
  const accumulationsOf = (cls: Scope): UpdateSite[] => {
    if (!byClass) {
      byClass = new Map();
      for (const s of sites) {
        const c = s.kind === 'accumulate' ? classScopeOf(s.scope) : undefined;
        const list = c ? byClass.get(c) : undefined;
        if (list) list.push(s);
        else if (c) byClass.set(c, [s]);
      }
    }
    return byClass.get(cls) ?? [];
  };
  const kept = sites.filter((site) => site.kind !== 'update' || looksLikeParameterUpdate(site, analyzer) || decayedByItsClass(site, accumulationsOf, analyzer) || shrinksHandedStorage(site, analyzer));
  if (kept.length === sites.length) return kept;
  const keptSet = new Set(kept);
  const siblings = siblingSteps(sites.filter((s) => s.kind === 'update' && !keptSet.has(s)), kept);
  return siblings.size === 0 ? kept : sites.filter((s) => keptSet.has(s) || siblings.has(s));
}

/**
 * `node.bias -= this.learningRate * node.error` beside `node.w[k] -= this.learningRate * node.error * x[k]`:
 * a field of a unit record (not self/this) stepped by the same field of the same record as a weight of
 * that record the file steps is a parameter too, whatever the names say.
 */
function siblingSteps(rejected: UpdateSite[], kept: UpdateSite[]): Set<UpdateSite> {
  const out = new Set<UpdateSite>();
  if (rejected.length === 0) return out;
  const recordOf = (site: UpdateSite): string | undefined => {
    const base = baseExpr(site.target);
    if (base.kind !== 'attr') return undefined;
    let root: Expr = base.object;
    while (root.kind === 'attr' || root.kind === 'index') root = root.object;
    if (root.kind !== 'name' || isSelfName(root.name)) return undefined;
    return exprKey(base.object);
  };
  const fieldReads = (site: UpdateSite, record: string): Set<string> => {
    const keys = new Set<string>();
    for (const s of site.increment)
      for (const f of [...s.num, ...s.den])
        mentions(f.expr, (e) => {
          if (e.kind === 'attr' && exprKey(e.object) === record) keys.add(e.name);
          return false;
        });
    return keys;
  };
  // A kept step's field reads, once each (many rejected steps may share its record).
  const keptFieldReads = new Map<UpdateSite, Set<string>>();
  const keptReads = (k: UpdateSite, record: string): Set<string> => {
    let reads = keptFieldReads.get(k);
    if (!reads) keptFieldReads.set(k, (reads = fieldReads(k, record)));
    return reads;
  };
  const byRecord = new Map<string, UpdateSite[]>();
  for (const k of kept) {
    if (k.kind !== 'update') continue;
    const record = recordOf(k);
    if (record === undefined) continue;
    const list = byRecord.get(record);
    if (list) list.push(k);
    else byRecord.set(record, [k]);
  }
  for (const r of rejected) {
    const record = recordOf(r);
    const others = record !== undefined ? byRecord.get(record) : undefined;
    if (!record || !others) continue;
    const reads = fieldReads(r, record);
    if (reads.size === 0) continue;
    const fn = functionSpanOf(r.scope);
    if (others.some((k) => functionSpanOf(k.scope).start === fn.start && [...keptReads(k, record)].some((f) => reads.has(f)))) out.add(r);
  }
  return out;
}

/**
 * `p.data -= rate * wd * p.data`, `p.data *= 1 - rate * wd`, `p.data.mul_(1 - rate * wd)` in a
 * function handed `p`: the storage of its argument, written in place (outside autograd), shrunk by a
 * scalar multiple of itself and by nothing else, is the decay of a parameter whatever the names. A
 * running sum or a moving average adds another term; a local or an attribute of `self` is not handed.
 * (Whether the caller hands a parameter is the caller's to check: doubleDecay.ts reads the call.)
 */
function shrinksHandedStorage(site: UpdateSite, analyzer: Analyzer): boolean {
  const target = site.target;
  if (!isTensorStorage(target) || target.object.kind !== 'name' || isSelfName(target.object.name)) return false;
  if (site.movingAverage || site.selfFactor || site.at === Infinity || site.increment.length === 0) return false;
  if (site.scope.lookup(target.object.name, site.at)?.kind !== 'param') return false;
  const key = exprKey(target);
  const baseKey = exprKey(baseExpr(target));
  if (key === undefined || baseKey === undefined) return false;
  return site.increment.every((s) => {
    if (s.sign !== -1 || !s.den.every((f) => isScalarFactor(f, analyzer))) return false;
    const own = s.num.filter((f) => isTargetValue(f, baseKey, key));
    // A scalar beside the target, and nothing else: `p.data -= p.data` zeroes it, `p.data -= mask * p.data` prunes it.
    return own.length === 1 && s.num.length >= 2 && s.num.every((f) => own.includes(f) || isScalarFactor(f, analyzer));
  });
}

/**
 * `self._values += delta` in a class that also adds a term of `self._values`, and nothing else, to
 * a gradient (`g += 2 * self.l2 * self._values`, `g += self.l2 * np.sum(self._values ** 2)`): the
 * class regularizes what it steps, so the attribute is its parameter whatever it is called.
 */
function decayedByItsClass(site: UpdateSite, accumulationsOf: (cls: Scope) => UpdateSite[], analyzer: Analyzer): boolean {
  const target = baseExpr(site.target);
  const key = exprKey(target);
  const cls = classScopeOf(site.scope);
  if (key === undefined || !cls || target.kind !== 'attr' || target.object.kind !== 'name' || !isSelfName(target.object.name)) return false;
  if (site.selfFactor || site.movingAverage) return false;
  // Every term the accumulation adds is a term of the attribute: a penalty's gradient (or value), not
  // a data fit whose residual happens to contain the attribute (`g += -(2 / n) * (y - (m * x + self.b))`).
  return accumulationsOf(cls).some((other) =>
    other.increment.length > 0 &&
    other.increment.every((s) => {
      // One factor reads the attribute (itself, or a reduction of it); every other factor is a scalar.
      const reading = s.num.filter((f) => mentionsKey(f.expr, key));
      return s.den.every((f) => isScalarFactor(f, analyzer)) && reading.length === 1 && s.num.every((f) => reading.includes(f) || isScalarFactor(f, analyzer)) && readsOnly(reading[0].expr, key, analyzer);
    }),
  );
}

/** `self.w`, `self.w ** 2`, `np.sum(self.w ** 2)`, `abs(self.w).sum()`: an expression of the attribute and numbers only. */
function readsOnly(e: Expr, key: string, analyzer: Analyzer, depth = 0): boolean {
  if (depth > 12) return false;
  switch (e.kind) {
    case 'num':
      return true;
    case 'name':
    case 'attr':
    case 'index':
      return exprKey(e) === key;
    case 'unary':
      return readsOnly(e.arg, key, analyzer, depth + 1);
    case 'binary':
      return readsOnly(e.left, key, analyzer, depth + 1) && (numberOf(e.right) !== undefined || readsOnly(e.right, key, analyzer, depth + 1));
    case 'call': {
      const callee = e.callee;
      // A method of the attribute (`self.w.sum()`), or a function (`np.sum(...)`, `sum(...)`) of it.
      const receiverOk = callee.kind === 'name' || (callee.kind === 'attr' && (analyzer.isModule(callee.object) || readsOnly(callee.object, key, analyzer, depth + 1)));
      return receiverOk && e.args.every((a) => numberOf(a) !== undefined || readsOnly(a, key, analyzer, depth + 1));
    }
    default:
      return false;
  }
}

/**
 * `T += E` is a parameter update only with evidence: T is a known parameter, or E steps along a
 * gradient or by a learning rate. Keeps running sums (`pen += w[j] * w[j]`) out of the parameter set.
 */
function looksLikeParameterUpdate(site: UpdateSite, analyzer: Analyzer): boolean {
  const last = lastComponent(baseExpr(site.target));
  if (last !== undefined && isRunningTotalName(last)) return false;
  if (isPenaltySum(site, analyzer)) return false;
  if (analyzer.isParam(site.target)) return true;
  return site.increment.some((s) => [...s.num, ...s.den].some((f) => mentions(f.expr, (e) => isGradientLike(e) || (e.kind === 'name' && isLearningRateName(e.name)))));
}

/** Whether a name, attribute or subscript inside `root` passes `test`. */
function mentions(root: Expr, test: (e: Expr) => boolean): boolean {
  return someExpr(root, (e) => (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && test(e));
}

/**
 * `w = 0` then `w += np.linalg.norm(W)`: a running sum of penalties, whatever it is called. A
 * parameter starts as an array, and a step adds a gradient, never a scalar penalty of the weights.
 */
/** For each `+=`-style binding, the plain assignment its chain of accumulations starts from. */
const chainStarts = new WeakMap<Binding, Binding | null>();

/**
 * The last plain assignment a chain of accumulations (`x += …` after `x = 0`) goes back to. A
 * lookup per step, each answer kept for the bindings walked, so 40,000 rebindings cost linear
 * time; the walk stops on a cycle, which broken code can make (an inner function sees the
 * enclosing scope's final bindings).
 */
function chainStart(first: Binding | undefined, key: string): Binding | undefined {
  const walked: Binding[] = [];
  const seen = new Set<Binding>();
  let b = first;
  let found: Binding | null = null;
  while (b) {
    const known = chainStarts.get(b);
    if (known !== undefined) {
      found = known;
      break;
    }
    if (!(b.kind === 'assign' && b.op)) {
      found = b;
      break;
    }
    if (seen.has(b)) break;
    seen.add(b);
    walked.push(b);
    b = b.scope.lookup(key, b.at);
  }
  for (const w of walked) chainStarts.set(w, found);
  return found ?? undefined;
}

function isPenaltySum(site: UpdateSite, analyzer: Analyzer): boolean {
  const key = exprKey(site.target);
  if (key === undefined || site.target.kind !== 'name') return false;
  const start = chainStart(site.scope.lookup(key, site.at), key);
  if (start?.kind !== 'assign' || start.value === undefined || zeroValue(start.value) !== 'scalar') return false;
  return site.increment.length > 0 && site.increment.every((s) => {
    const p = penaltyOfProduct(analyzer.classifySummand(s));
    return p !== undefined && p.kind !== 'elemsq' && p.kind !== 'elemabs';
  });
}

/** Is this summand the target itself, possibly scaled (`(1 - lr * reg) * W`)? */
function isSelfTerm(s: Summand, baseKey: string, targetKey: string | undefined): boolean {
  if (s.sign !== 1) return false;
  const matches = s.num.filter((f) => isTargetValue(f, baseKey, targetKey));
  return matches.length === 1 && s.den.length === 0 && s.num.length <= 2;
}

/**
 * Does the factor hold the target's current value: the target itself, a copy or view of it
 * (`t.detach()`, `W.copy()`), or a helper's parameter the call binds to it (`def _apply(self, t, up):
 * return t.detach() - up`, called as `tt.assign(self._apply(tt, u))`)?
 */
function isTargetValue(f: Summand['num'][number], baseKey: string, targetKey: string | undefined): boolean {
  let e = f.expr;
  let env = f.env;
  for (let hops = 0; hops < 8; hops++) {
    const arg = e.kind === 'name' ? env?.get(e.name) : undefined;
    if (arg) {
      e = arg.expr;
      env = arg.env;
    } else if (e.kind === 'call' && e.callee.kind === 'attr' && e.args.length === 0 && e.kwargs.length === 0 && VIEW_FUNCTIONS.has(e.callee.name)) e = e.callee.object;
    else break;
  }
  const k = exprKey(e);
  return k !== undefined && (k === targetKey || k === baseKey || exprKey(baseExpr(e)) === baseKey);
}

/** `for k, v in params.items(): params[k] = v - lr * g`: v is the target's current value. */
function isItemsAlias(s: Summand, target: Expr, scope: Scope, at: number): boolean {
  if (s.sign !== 1 || s.den.length > 0 || s.num.length !== 1 || s.num[0].expr.kind !== 'name' || target.kind !== 'index') return false;
  const binding = scope.lookup(s.num[0].expr.name, at);
  const iter = binding?.kind === 'loop' && binding.loop ? loopIterable(binding.loop) : undefined;
  if (!iter || binding?.loop?.position !== 1 || iter.kind !== 'call' || iter.callee.kind !== 'attr' || iter.callee.name !== 'items') return false;
  return exprKey(iter.callee.object) === exprKey(target.object);
}

function targetNames(t: Expr): string[] {
  if (t.kind === 'name') return [t.name];
  if (t.kind === 'seq') return t.items.flatMap(targetNames);
  return [];
}

function flip(s: Summand): Summand {
  return { ...s, sign: s.sign === 1 ? -1 : 1 };
}


// ------------------------------------------------------------------ optimizer state

/**
 * Update targets that are optimizer state, not parameters, judged by data flow (names decide only
 * when this says nothing):
 * - a moving average `T = a·T + b·X` whose coefficients sum to one (`m = b1*m + (1-b1)*g`,
 *   `mean = rho*mean + (1-rho)*g`, an EMA of the weights);
 * - a buffer whose value feeds the step of another target (`v = mu*v - lr*dW; W += v`,
 *   `self.w_updt = ...; self.w -= lr * self.w_updt`, `acc.assign(acc + g)` read by an apply step).
 */
export function stateTargets(sites: UpdateSite[], analyzer: Analyzer, index?: ProgramIndex): StateTargets {
  const state = new StateTargets();
  const updated = new Map<string, UpdateSite[]>();
  const place = (site: UpdateSite, key: string): string => `${functionSpanOf(site.scope).start}|${key}`;
  for (const site of sites) {
    if (site.kind !== 'update') continue;
    const key = exprKey(baseExpr(site.target));
    if (key === undefined) continue;
    const list = updated.get(place(site, key));
    if (list) list.push(site);
    else updated.set(place(site, key), [site]);
    if (isMovingAverage(site, key, analyzer)) state.add(key, functionSpanOf(site.scope));
  }
  // Buffers: another target's step in the same function is the buffer times scalars
  // (`W += v`, `w - lr * w_updt`), or is divided by something made of it (`g / np.sqrt(cache)`).
  const feeds: { from: string; to: string; fn: Span }[] = [];
  for (const site of sites) {
    if (site.kind !== 'update') continue;
    const own = exprKey(baseExpr(site.target));
    if (own === undefined) continue;
    const fn = functionSpanOf(site.scope);
    for (const s of site.increment) {
      const tensors = s.num.filter((f) => !isScalarFactor(f, analyzer));
      if (tensors.length === 1 && !tensors[0].env) {
        const key = exprKey(baseExpr(tensors[0].expr));
        if (key !== undefined && key !== own) feeds.push({ from: key, to: own, fn });
      }
      for (const f of s.den) {
        if (f.env) continue;
        mentions(f.expr, (x) => {
          const key = exprKey(baseExpr(x));
          if (key !== undefined && key !== own) feeds.push({ from: key, to: own, fn });
          return false;
        });
      }
    }
    // `w.value -= w.vel` right after `w.vel = mu * w.vel + lr * w.grad`: the summands read through
    // the buffer's new value, so the buffer the statement applies is taken from what it writes.
    const applied = index ? appliedBuffer(index.stmtBySpan.get(`${site.span.start}:${site.span.end}`), own) : undefined;
    if (applied !== undefined) feeds.push({ from: applied, to: own, fn });
  }
  // What each target's step reads, in a numerator or under its division (`g / np.sqrt(cache)`),
  // through the locals it names (`v_hat = v / (1 - b2**t)`).
  const inNumerator = new Set<string>();
  const inDenominator = new Set<string>();
  const readBy = new Set<string>();
  for (const site of sites) {
    if (site.kind !== 'update') continue;
    const fn = functionSpanOf(site.scope).start;
    const own = exprKey(baseExpr(site.target));
    const note = (into: Set<string>, e: Expr, depth: number): void =>
      valuesRead(e, (x, key) => {
        into.add(`${fn}|${key}`);
        readBy.add(`${fn}|${own}|${key}`);
        const local = x.kind === 'name' && depth < 4 ? site.scope.lookup(x.name, site.at) : undefined;
        if (local?.kind === 'assign' && !local.op && local.value) note(into, local.value, depth + 1);
      });
    for (const s of site.increment) {
      for (const f of s.num) note(inNumerator, f.expr, 0);
      for (const f of s.den) note(inDenominator, f.expr, 0);
    }
  }
  for (const { from, to, fn } of feeds) {
    const fromSites = updated.get(`${fn.start}|${from}`);
    if (!fromSites) continue;
    // An average of the weights reads them; the weights are not its buffer.
    if (state.has(to, fn.start)) continue;
    // `v = mu*v - lr*(dW + l2*W); W += v`: each reads the other (in Adam through `m_hat`, as a
    // scalar factor of the step); the buffer is the one that decays by itself.
    const mutual = feeds.some((f) => f.from === to && f.to === from && f.fn.start === fn.start) || readBy.has(`${fn.start}|${from}|${to}`);
    if (mutual && !fromSites.some((x) => x.selfFactor)) continue;
    state.add(from, fn);
  }
  // Preconditioners: state a step reads only under its division, never in a numerator.
  for (const [place, list] of updated) {
    const key = exprKey(baseExpr(list[0].target))!;
    const fn = functionSpanOf(list[0].scope);
    if (state.has(key, fn.start) && inDenominator.has(place) && !inNumerator.has(place)) state.addPreconditioner(key, fn);
  }
  if (index) {
    // `stored = queue.get(k)`, `queue[k] = g` when missing, else `stored.add_(g)`: a running sum of g (gradientQueues.ts).
    for (const site of sites) {
      const key = growsQueuedEntry(site, index, (f) => isScalarFactor(f, analyzer)) ? exprKey(baseExpr(site.target)) : undefined;
      if (key !== undefined) state.add(key, functionSpanOf(site.scope));
    }
    accumulators(sites, analyzer, index, state);
    appliedBuffers(sites, analyzer, index, state);
    handedGradientBuffers(sites, analyzer, index, state);
  }
  return state;
}

/** The one stored value a step adds or subtracts as it is: `W -= V`, `W += V`, `W = W - V` (V's key). */
function appliedBuffer(stmt: Stmt | undefined, own: string): string | undefined {
  if (stmt?.kind !== 'assign' || stmt.targets.length !== 1) return undefined;
  let operand: Expr | undefined;
  if (stmt.op === '+' || stmt.op === '-') operand = stmt.value;
  else if (!stmt.op && stmt.value.kind === 'binary' && (stmt.value.op === '+' || stmt.value.op === '-') && exprKey(baseExpr(stmt.value.left)) === own) operand = stmt.value.right;
  if (!operand || (operand.kind !== 'attr' && operand.kind !== 'index' && operand.kind !== 'name')) return undefined;
  const key = exprKey(baseExpr(operand));
  return key !== undefined && key !== own ? key : undefined;
}

/**
 * The gradient buffer of a backward pass: a function handed an array that it adds, in place, terms
 * of the other arrays it is handed into (`def flatten_backward(out_grad, out_buffer, shape):
 * out_buffer += out_grad.reshape(shape)`, or element by element through a view, `buf =
 * out_buffer.ravel(); buf[k] += g[k] / (2 * np.sqrt(x[k]))`), with no step size: every scalar is a
 * number or computed from those arrays (`x.shape[0]`), none is handed in as such (`lr`, `self.lr`,
 * `config["lr"]`) or read from elsewhere. The increments never read the array itself, and the
 * function does not return it. That is the chain rule writing an input's gradient, not a step of a
 * weight, whatever the names.
 */
function handedGradientBuffers(sites: UpdateSite[], analyzer: Analyzer, index: ProgramIndex, state: StateTargets): void {
  const byPlace = new Map<string, UpdateSite[]>();
  for (const site of sites) {
    const key = exprKey(baseExpr(site.target));
    if (key === undefined) continue;
    const place = `${functionSpanOf(site.scope).start}|${key}`;
    const list = byPlace.get(place);
    if (list) list.push(site);
    else byPlace.set(place, [site]);
  }
  for (const list of byPlace.values()) {
    const first = list[0];
    const fn = index.enclosingFunction(first.scope);
    const base = baseExpr(first.target);
    if (!fn || base.kind !== 'name' || !functionOwns(fn, first.scope)) continue;
    const handed = handedArray(base.name, first.scope, first.at, fn);
    if (handed === undefined) continue;
    const own = new Set([base.name, handed]);
    if (!list.every((site) => site.kind === 'update' && writesHandedArrays(site, own, fn, analyzer))) continue;
    if (returnsAny(fn.body, own)) continue;
    state.add(base.name, functionSpanOf(first.scope));
  }
}

/** The parameter of `fn` a name is, or is a view of (`buf = out_buffer.ravel()`), before its accumulations. */
function handedArray(name: string, scope: Scope, at: number, fn: FunctionDef): string | undefined {
  const start = chainStart(scope.lookup(name, at), name);
  if (!start || start.scope !== fn.scope) return undefined;
  if (start.kind === 'param') return isInstanceParam(fn, name) ? undefined : name;
  if (start.kind !== 'assign' || start.op || !start.value || scope.allBindings(name).some((b) => b.kind === 'assign' && !b.op && b !== start)) return undefined;
  const v = start.value;
  const object = v.kind === 'call' && v.callee.kind === 'attr' && VIEW_FUNCTIONS.has(v.callee.name) ? v.callee.object : v.kind === 'attr' && VIEW_FUNCTIONS.has(v.name) ? v.object : undefined;
  if (object?.kind !== 'name') return undefined;
  const b = scope.lookup(object.name, start.at);
  return b?.kind === 'param' && b.scope === fn.scope && !isInstanceParam(fn, object.name) ? object.name : undefined;
}

function isInstanceParam(fn: FunctionDef, name: string): boolean {
  return fn.isMethod && fn.params[0]?.name === name;
}

/**
 * `buf += g.reshape(shape)`: every summand reads another array the function is handed, never the
 * buffer itself, and carries no step size (`stepSizeFree`), not even one a method of the instance
 * applies (`g = self.make_step(g)`).
 */
function writesHandedArrays(site: UpdateSite, own: Set<string>, fn: FunctionDef, analyzer: Analyzer): boolean {
  if (site.selfFactor || site.movingAverage || site.increment.length === 0) return false;
  return site.increment.every((s) => {
    const factors = [...s.num, ...s.den];
    if (factors.some((f) => f.env || readsName(f.expr, f.scope, f.at, fn, (n) => own.has(n)))) return false;
    const readsOther = s.num.some((f) => !isScalarFactor(f, analyzer) && readsName(f.expr, f.scope, f.at, fn, (n) => !own.has(n) && !isInstanceParam(fn, n)));
    // An array may be read bare (`buf += g`), a scalar only inside what it is computed from.
    return readsOther && factors.every((f) => stepSizeFree(f.expr, f.scope, f.at, fn, analyzer, !isScalarFactor(f, analyzer), 0));
  });
}

/** Whether `e` reads, directly or through the function's locals, a parameter of `fn` that passes `test`. */
function readsName(e: Expr, scope: Scope, at: number, fn: FunctionDef, test: (name: string) => boolean, depth = 0): boolean {
  if (depth > 4) return false;
  return someExpr(e, (x) => {
    if (x.kind !== 'name') return false;
    const found = scope.lookup(x.name, at);
    const b = found?.kind === 'assign' && found.op ? chainStart(found, x.name) : found;
    if (b?.kind === 'param') return b.scope === fn.scope && test(x.name);
    return b?.kind === 'assign' && b.scope === fn.scope && !b.op && !!b.value && readsName(b.value, b.scope, b.at, fn, test, depth + 1);
  });
}

/**
 * A scalar made of numbers and of what the function computes from the arrays it is handed
 * (`2.0 * np.sqrt(x[k])`, `n = x.shape[0]`), through its locals. A parameter used bare (`lr`,
 * `alpha`, a loop variable `for lr in rates`), an attribute of the instance, an entry read by a
 * string key (`config["lr"]`), a name from outside the function, or a call of nothing handed
 * (`get_lr()`) is a step size.
 */
function stepSizeFree(e: Expr, scope: Scope, at: number, fn: FunctionDef, analyzer: Analyzer, inside: boolean, depth: number): boolean {
  if (depth > 12) return false;
  const next = (x: Expr, within: boolean): boolean => stepSizeFree(x, scope, at, fn, analyzer, within, depth + 1);
  if (numberOf(e) !== undefined) return true;
  switch (e.kind) {
    case 'unary':
      return next(e.arg, inside);
    case 'binary':
      return next(e.left, inside) && next(e.right, inside);
    case 'call': {
      const receiver = e.callee.kind === 'attr' ? e.callee.object : undefined;
      // `np.sqrt(x[k])`, `x.sum()`, `len(x)`: a function of what it is given; `get_lr()` of nothing.
      const onArray = receiver !== undefined && !analyzer.isModule(receiver);
      if (onArray && !next(receiver, true)) return false;
      const args = [...e.args, ...e.kwargs.map((k) => k.value)];
      return (args.length > 0 || onArray) && args.every((a) => next(a, true));
    }
    case 'attr':
      return next(e.object, true);
    case 'index':
      // A subscript selects (`g[idx]`, `x.shape[0]`); an entry read by a string key (`config["lr"]`),
      // or a scalar taken from a handed list (`lrs[i]`), is a setting.
      return next(e.object, inside || e.object.kind !== 'name') && e.index.every((i) => i.kind !== 'str');
    case 'name': {
      const b = scope.lookup(e.name, at);
      if (!b || (b.scope !== fn.scope && !(b.kind === 'loop' && functionOwns(fn, b.scope)))) return false;
      if (b.kind === 'param') return inside && !isInstanceParam(fn, e.name);
      if (b.kind === 'loop') return inside;
      return !b.op && !!b.value && stepSizeFree(b.value, b.scope, b.at, fn, analyzer, inside, depth + 1);
    }
    default:
      return false;
  }
}

/** Whether `scope` lies inside `fn` (a comprehension's loop variable is the function's own). */
function functionOwns(fn: FunctionDef, scope: Scope): boolean {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s === fn.scope) return true;
  return false;
}

/** Whether a `return` of the body (outside nested functions) hands back one of the names. */
function returnsAny(body: Stmt[], names: Set<string>): boolean {
  return body.some((s) => {
    if (s.kind === 'return') return !!s.value && someExpr(s.value, (x) => x.kind === 'name' && names.has(x.name));
    if (s.kind === 'block' || s.kind === 'for') return returnsAny(s.body, names);
    return false;
  });
}

/**
 * Buffers of a method whose returned value a caller applies as the step (`updates = self._step(...)`
 * in a base class's `step()`, then `p.assign(p.detach() - updates[i])`): a target the method
 * updates and reads into what it returns feeds the step, as `v` feeds `W += v`.
 */
function appliedBuffers(sites: UpdateSite[], analyzer: Analyzer, index: ProgramIndex, state: StateTargets): void {
  const program = analyzer.program;
  const isScalar = (f: Summand['num'][number]): boolean => isScalarFactor(f, analyzer);
  const isModule = (e: Expr): boolean => analyzer.isModule(e);
  // The update sites of each method, found once.
  const byMethod = new Map<FunctionDef, UpdateSite[]>();
  for (const site of sites) {
    if (site.kind !== 'update') continue;
    const fn = index.enclosingFunction(site.scope);
    if (!fn?.cls || !fn.isMethod) continue;
    const list = byMethod.get(fn);
    if (list) list.push(site);
    else byMethod.set(fn, [site]);
  }
  for (const [fn, own] of byMethod) {
    const sameFile = program.parsedOf(fn.span);
    const sitesOf = (caller: FunctionDef): readonly UpdateSite[] | undefined => (program.parsedOf(caller.span) === sameFile ? sites : program.factsAt(caller.span)?.updates);
    const applied = appliedReturns(program, fn, sitesOf, isScalar, isModule);
    if (applied.length === 0) continue;
    for (const position of new Set(applied.map((a) => a.position))) {
      const reads = returnedReads(program, fn, position);
      for (const site of own) {
        const base = baseExpr(site.target);
        const key = exprKey(base);
        if (key === undefined || !reads.keys.has(key)) continue;
        // The method's own parameters (and loops over them) are the weights it is handed, not its buffers.
        const b = base.kind === 'name' ? site.scope.lookup(base.name, site.at) : undefined;
        if (b && (b.kind === 'param' || b.kind === 'loop')) continue;
        state.add(key, functionSpanOf(site.scope));
      }
    }
  }
}

/**
 * Gradient accumulators: a target that only ever grows by whole gradients (`acc.add_(p.grad)`,
 * `acc.assign(acc + g)`, `sums[k] += grads[k]`), whose sum is handed to an optimizer as gradients
 * (`optimizer.apply_gradients(zip(sums, vars))`, `p.grad = sums[k] / n`): in its own function, in
 * another method of its class (an attribute), or, when it walks a parameter of its function
 * (`def accumulate(sums, grads): for s, g in zip(sums, grads): s.assign(s + g)`), in every caller.
 */
function accumulators(sites: UpdateSite[], analyzer: Analyzer, index: ProgramIndex, state: StateTargets): void {
  // What each function hands to an optimizer as gradients, by the keys those values mention.
  const fed: { key: string; fn: number; cls?: Scope }[] = [];
  for (const stmt of index.stmtBySpan.values()) {
    const inputs = optimizerGradientInputs(stmt);
    if (inputs.length === 0) continue;
    const scope = index.scopeAt(stmt.span.start);
    const fn = functionSpanOf(scope).start;
    const cls = classScopeOf(scope);
    // `p.grad = p.grad + wd * p`: the parameter that owns the gradient is not what feeds it.
    const owner = stmt.kind === 'assign' && stmt.targets[0].kind === 'attr' ? exprKey(baseExpr(stmt.targets[0].object)) : undefined;
    const add = (e: Expr, hop: boolean): void =>
      void mentions(e, (x) => {
        const key = exprKey(baseExpr(x));
        if (key === undefined || key === owner) return false;
        fed.push({ key, fn, cls });
        const member = memberOfWalkedCollection(key, scope, stmt.span.start);
        if (member) fed.push({ key: member, fn, cls });
        // `averaged = [s / n for s in sums]`, then `apply_gradients(zip(averaged, vars))`: one step back.
        const b = hop && x.kind === 'name' ? scope.lookup(key, stmt.span.start) : undefined;
        if (b?.kind === 'assign' && !b.op && b.value) add(b.value, false);
        return false;
      });
    for (const input of inputs) add(input, true);
  }
  // A function of the program that steps a parameter by one of its own parameters hands what a
  // call passes there to that step: `adjustNeuron(neuron, gradient) { neuron.w[i] += gradient[i] * this.rate }`
  // called as `this.adjustNeuron(neuron, neuron._g)` takes `neuron._g` as its gradients.
  const stepInputs = stepGradientParams(sites);
  if (stepInputs.size > 0) {
    // Only calls by one of those functions' names are resolved.
    const names = new Set(index.functions.filter((f) => stepInputs.has(f.span.start)).map((f) => f.name));
    for (const { call, scope, at } of index.calls) {
      const callee = call.callee.kind === 'name' || call.callee.kind === 'attr' ? call.callee.name : undefined;
      if (callee === undefined || !names.has(callee)) continue;
      const target = resolveCall(analyzer.program, call, scope, at);
      const used = target && stepInputs.get(target.fn.span.start);
      if (!used) continue;
      explicitParams(target.fn).forEach((param, i) => {
        const arg = used.has(param.name) ? (call.args[i] ?? call.kwargs.find((k) => k.name === param.name)?.value) : undefined;
        const key = arg ? exprKey(baseExpr(arg)) : undefined;
        if (key !== undefined) fed.push({ key, fn: functionSpanOf(scope).start, cls: classScopeOf(scope) });
      });
    }
  }
  const subtracted = fieldsSubtractedBySteps(sites);
  if (fed.length === 0 && subtracted.size === 0) return;
  const isFed = (key: string, fn: number, cls: Scope | undefined): boolean => fed.some((f) => f.key === key && (f.fn === fn || (cls !== undefined && f.cls === cls && key.includes('.'))));
  // Targets that only grow by whole gradients, in each function.
  const grows = new Map<string, UpdateSite[]>();
  const impure = new Set<string>();
  for (const site of sites) {
    if (site.kind !== 'update') continue;
    const key = exprKey(baseExpr(site.target));
    if (key === undefined) continue;
    const place = `${functionSpanOf(site.scope).start}|${key}`;
    const pure = !site.selfFactor && site.increment.every((x) => x.sign === 1 && x.num.length > 0 && x.num.every((f) => !isScalarFactor(f, analyzer)));
    if (!pure) impure.add(place);
    const list = grows.get(place);
    if (list) list.push(site);
    else grows.set(place, [site]);
  }
  for (const [place, list] of grows) {
    if (impure.has(place)) continue;
    const site = list[0];
    const key = exprKey(baseExpr(site.target))!;
    const fn = functionSpanOf(site.scope);
    const cls = classScopeOf(site.scope);
    // The key itself, or the collection a loop variable walks (`for acc, p in zip(sums, params)`).
    const b = site.target.kind === 'name' ? site.scope.lookup(key, site.at) : undefined;
    const source = b?.kind === 'loop' && b.loop ? loopSource(loopIterable(b.loop), b.loop.position, (e) => analyzer.isModule(e)) : undefined;
    const collection = source?.kind === 'element' ? exprKey(baseExpr(source.collection)) : undefined;
    const candidates = [key, collection, memberOfWalkedCollection(key, site.scope, site.at)].filter((k): k is string => k !== undefined);
    if (candidates.some((k) => isFed(k, fn.start, cls)) || candidates.some((k) => fedByCallers(k, site.scope, index, isFed))) state.add(key, fn);
    else if (subtracted.size > 0 && subtracted.has(handedObjectField(site.target, site.scope, site.at) ?? '')) state.add(key, fn);
  }
}

/**
 * `.sum` for `param.sum[k]` where `param` is a parameter of its function (not the instance): a field
 * reached through an object handed in, named without the name the function gives the object.
 */
function handedObjectField(e: Expr, scope: Scope, at: number): string | undefined {
  const key = exprKey(baseExpr(e));
  const root = key === undefined ? undefined : /^[A-Za-z_$][\w$]*/.exec(key)?.[0];
  if (!key || !root || root === key || isSelfName(root) || !/^\./.test(key.slice(root.length))) return undefined;
  const b = scope.lookup(root, at);
  return b?.kind === 'param' && b.scope.kind === 'function' ? key.slice(root.length) : undefined;
}

/**
 * Fields of a handed-in object that a step subtracts from another field of the same object:
 * `param.value[k] -= lr * param.sum[k] / n` makes `.sum` what the step applies, so a function that
 * only adds whole gradients into `param.sum` (`param.sum[k] += param.grad[k]`) gathers them for it.
 */
function fieldsSubtractedBySteps(sites: UpdateSite[]): Set<string> {
  const out = new Set<string>();
  for (const site of sites) {
    if (site.kind !== 'update' || site.movingAverage || !site.increment.some((s) => s.sign === -1)) continue;
    // The object the step moves (`param.value[k]` moves `param`), handed in as a parameter of the function.
    const own = exprKey(baseExpr(site.target));
    const root = own === undefined ? undefined : /^[A-Za-z_$][\w$]*/.exec(own)?.[0];
    if (!own || !root || isSelfName(root)) continue;
    const b = site.scope.lookup(root, site.at);
    if (b?.kind !== 'param' || b.scope.kind !== 'function') continue;
    for (const s of site.increment) {
      if (s.sign !== -1) continue;
      for (const f of s.num)
        mentions(f.expr, (x) => {
          if (x.kind !== 'attr' && x.kind !== 'index') return false;
          const key = exprKey(baseExpr(x));
          if (key !== undefined && key !== own && key.startsWith(`${root}.`) && !own.startsWith(key)) out.add(key.slice(root.length));
          return false;
        });
    }
  }
  return out;
}

/**
 * The parameters each function (by its span's start) steps another value by: a parameter its
 * update sites' terms read, other than the one whose member is updated.
 */
function stepGradientParams(sites: UpdateSite[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const site of sites) {
    if (site.kind !== 'update') continue;
    let root: Expr = site.target;
    while (root.kind === 'attr' || root.kind === 'index') root = root.object;
    for (const s of site.increment)
      for (const f of s.num)
        mentions(f.expr, (x) => {
          if (x.kind !== 'name' || (root.kind === 'name' && root.name === x.name)) return false;
          const b = site.scope.lookup(x.name, site.at);
          if (b?.kind !== 'param' || b.scope.kind !== 'function') return false;
          const fn = b.scope.span.start;
          if (!out.has(fn)) out.set(fn, new Set());
          out.get(fn)!.add(x.name);
          return false;
        });
  }
  return out;
}

/**
 * `group['lot_sum']` where `group` is a loop variable over an instance's collection (`for group in
 * self.param_groups`): the same entry of every element, `self.param_groups[*]['lot_sum']`, whichever
 * method walks the collection. Undefined for any other key.
 */
function memberOfWalkedCollection(key: string, scope: Scope, at: number): string | undefined {
  const root = /^[A-Za-z_$][\w$]*/.exec(key)?.[0];
  if (!root || root === key) return undefined;
  const b = scope.lookup(root, at);
  // The element itself (`for group in self.param_groups`), not a part of a tuple it unpacks.
  if (b?.kind !== 'loop' || !b.loop || b.loop.walks || b.loop.position !== 0) return undefined;
  const walked = exprKey(loopIterable(b.loop));
  return walked !== undefined && /^(self|this)\./.test(walked) ? `${walked}[*]${key.slice(root.length)}` : undefined;
}

/** `def accumulate(sums, grads)`: every call in the file passes, for `key`, something its caller feeds to an optimizer. */
function fedByCallers(key: string, scope: Scope, index: ProgramIndex, isFed: (key: string, fn: number, cls: Scope | undefined) => boolean): boolean {
  const fn = index.enclosingFunction(scope);
  if (!fn || scope.lookup(key, Infinity)?.kind !== 'param') return false;
  const calls = index.callsTo(fn);
  if (calls.length === 0) return false;
  return calls.every(({ call, scope: s }) => {
    const params = fn.isMethod && call.callee.kind === 'attr' ? fn.params.slice(1) : fn.params;
    const i = params.findIndex((p) => p.name === key);
    const arg = i < 0 ? undefined : (call.args[i] ?? call.kwargs.find((k) => k.name === key)?.value);
    const argKey = arg ? exprKey(baseExpr(arg)) : undefined;
    return argKey !== undefined && isFed(argKey, functionSpanOf(s).start, classScopeOf(s));
  });
}

function classScopeOf(scope: Scope): Scope | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.kind === 'class') return s;
  return undefined;
}

/** Optimizer state found by data flow: a key is state within the functions (spans) where it was judged so. */
export class StateTargets {
  private readonly where = new Map<string, Span[]>();
  private readonly preconditioners = new Map<string, Span[]>();

  add(key: string, fn: Span): void {
    addSpan(this.where, key, fn);
  }

  /** Is `key` state at `offset` (inside a function where it was judged state)? */
  has(key: string, offset: number): boolean {
    return inSpans(this.where, key, offset);
  }

  /** State the step divides by and never multiplies by (RMSprop's mean square): what it adds is no step direction. */
  addPreconditioner(key: string, fn: Span): void {
    addSpan(this.preconditioners, key, fn);
  }

  isPreconditioner(key: string, offset: number): boolean {
    return inSpans(this.preconditioners, key, offset);
  }

  get size(): number {
    return this.where.size;
  }

  /** Every key with the function spans it is state (or a preconditioner) in: what the file registered (functionReuse.ts compares versions by it). */
  entries(): { key: string; preconditioner: boolean; spans: readonly Span[] }[] {
    const out: { key: string; preconditioner: boolean; spans: readonly Span[] }[] = [];
    for (const [key, spans] of this.where) out.push({ key, preconditioner: false, spans });
    for (const [key, spans] of this.preconditioners) out.push({ key, preconditioner: true, spans });
    return out;
  }
}

/**
 * The values an expression reads, by key: `p.grad` reads p's gradient, not p, and `cache[k]` reads
 * cache (and k), so an attribute's or element's object is not a value read on its own.
 */
function valuesRead(root: Expr, visit: (e: Expr, key: string) => void): void {
  const stack = [root];
  const push = (c: Expr): void => void stack.push(c);
  while (stack.length > 0) {
    const e = stack.pop()!;
    const base = e.kind === 'name' || e.kind === 'attr' || e.kind === 'index' ? baseExpr(e) : undefined;
    const key = base ? exprKey(base) : undefined;
    if (base && key !== undefined) {
      visit(base, key);
      // Subscripts between the value and its base (`cache[k]`) are read too.
      for (let x: Expr = e; x !== base; x = x.kind === 'index' || x.kind === 'attr' ? x.object : base) if (x.kind === 'index') stack.push(...x.index);
      continue;
    }
    forEachChild(e, push);
  }
}

function addSpan(map: Map<string, Span[]>, key: string, fn: Span): void {
  const list = map.get(key);
  if (!list) map.set(key, [fn]);
  else if (!list.some((s) => s.start === fn.start)) list.push(fn);
}

function inSpans(map: Map<string, Span[]>, key: string, offset: number): boolean {
  return map.get(key)?.some((s) => s.start <= offset && offset < s.end) ?? false;
}

/** The span of the function (or module) a scope belongs to, lambdas and comprehensions included in theirs. */
function functionSpanOf(scope: Scope): Span {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.kind === 'function' || s.kind === 'module') return s.span;
  return scope.span;
}

/** `T = a·T + b₁·X₁ + …` with a + Σbᵢ = 1, the coefficients read as sums of numbers and symbols. */
function isMovingAverage(site: UpdateSite, key: string, analyzer: Analyzer): boolean {
  if (site.movingAverage) return true;
  if (!site.selfFactor) return false;
  return weightsSumToOne(site, key, analyzer) || averagesASum(site, key, analyzer);
}

/**
 * `m = b1*m + (1 - b1)*(g + wd*w)`, or the same through `g = dW + wd*W`: every summand of the
 * increment shares the scalar weight (1 − b1), so T averages their sum, whatever else each
 * summand is scaled by.
 */
function averagesASum(site: UpdateSite, key: string, analyzer: Analyzer): boolean {
  if (site.increment.length < 2 || site.increment.some((s) => s.sign !== 1 || s.den.length > 0)) return false;
  const self = scalarLinear(site.selfFactor!, site.scope, site.at, analyzer);
  if (!self) return false;
  const factorKey = (f: Summand['num'][number]): string => `${f.expr.span.start}:${f.expr.span.end}`;
  const scalars = (s: Summand): Summand['num'] => s.num.filter((f) => !mentionsKey(f.expr, key) && isScalarFactor(f, analyzer));
  let shared = scalars(site.increment[0]);
  for (const s of site.increment.slice(1)) {
    const keys = new Set(scalars(s).map(factorKey));
    shared = shared.filter((f) => keys.has(factorKey(f)));
  }
  if (shared.length === 0) return false;
  let weight: Linear | undefined = { constant: 1, terms: new Map() };
  for (const f of shared) weight = weight && timesLinear(weight, scalarLinear(f.expr, f.scope, f.at, analyzer));
  if (!weight) return false;
  const total = plusLinear(self, weight);
  return total.constant === 1 && [...total.terms.values()].every((v) => v === 0);
}

/** `T = a·T + b₁·X₁ + …` with a + Σbᵢ = 1, each summand's scalars read as its weight. */
function weightsSumToOne(site: UpdateSite, key: string, analyzer: Analyzer): boolean {
  let total = scalarLinear(site.selfFactor!, site.scope, site.at, analyzer);
  if (!total) return false;
  const weights = new Set(total.terms.keys());
  for (const s of site.increment) {
    const num = productFactors(s.num);
    let scalars = num.filter((f) => !mentionsKey(f.expr, key) && isScalarFactor(f, analyzer));
    if (s.den.length > 0) return false;
    if (scalars.length === num.length) {
      // Every factor is a scalar (a step on scalars, or parameters the first pass does not know yet:
      // `s = gamma*s + (1 - gamma)*g**2`): the weights are numbers and the self-weight's symbols
      // (gamma), the rest is what is averaged. A term that is all weight averages nothing.
      scalars = num.filter((f) => isWeightOnly(f.expr, weights));
      if (scalars.length === num.length) return false;
    }
    let c: Linear | undefined = { constant: s.sign, terms: new Map() };
    for (const f of scalars) c = c && timesLinear(c, scalarLinear(f.expr, f.scope, f.at, analyzer));
    if (!c) return false;
    total = plusLinear(total, c);
  }
  return total.constant === 1 && [...total.terms.values()].every((v) => v === 0);
}

/**
 * The factors of a summand with products kept whole split apart: `(1 - b1) * g`, where g holds a
 * sum the analyzer left as one term, is the weight (1 − b1) times g.
 */
function productFactors(num: Summand['num']): Summand['num'] {
  const out: Summand['num'] = [];
  const split = (f: Summand['num'][number], e: Expr, depth: number): void => {
    if (depth < 8 && e.kind === 'binary' && e.op === '*') {
      split(f, e.left, depth + 1);
      split(f, e.right, depth + 1);
    } else out.push(e === f.expr ? f : { ...f, expr: e });
  };
  for (const f of num) split(f, f.expr, 0);
  return out;
}

/** A number, or a sum or product of numbers and the given symbols (`1 - gamma`, `0.5 * beta`). */
function isWeightOnly(e: Expr, symbols: Set<string>): boolean {
  if (numberOf(e) !== undefined) return true;
  switch (e.kind) {
    case 'name':
    case 'attr':
    case 'index': {
      const k = exprKey(e);
      return k !== undefined && symbols.has(k);
    }
    case 'unary':
      return e.op === '-' && isWeightOnly(e.arg, symbols);
    case 'binary':
      return (e.op === '+' || e.op === '-' || e.op === '*') && isWeightOnly(e.left, symbols) && isWeightOnly(e.right, symbols);
    default:
      return false;
  }
}

export function isScalarFactor(f: Summand['num'][number], analyzer: Analyzer): boolean {
  const p = analyzer.classify(f.expr, f.scope, f.at, f.env);
  return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
}

function mentionsKey(e: Expr, key: string): boolean {
  return mentions(e, (x) => exprKey(x) === key);
}

/** A scalar as constant + Σ cᵢ·symbolᵢ (numbers, names and attributes, +, −, and products with numbers). */
interface Linear {
  constant: number;
  terms: Map<string, number>;
}

function scalarLinear(e: Expr, scope: Scope, at: number, analyzer: Analyzer, depth = 0): Linear | undefined {
  if (depth > 12) return undefined;
  const n = numberOf(e);
  if (n !== undefined) return { constant: n, terms: new Map() };
  switch (e.kind) {
    case 'name':
    case 'attr':
    case 'index': {
      const key = exprKey(e);
      return key === undefined ? undefined : { constant: 0, terms: new Map([[key, 1]]) };
    }
    case 'unary':
      if (e.op !== '-') return undefined;
      return timesLinear({ constant: -1, terms: new Map() }, scalarLinear(e.arg, scope, at, analyzer, depth + 1));
    case 'binary': {
      const l = scalarLinear(e.left, scope, at, analyzer, depth + 1);
      const r = scalarLinear(e.right, scope, at, analyzer, depth + 1);
      if (!l || !r) return undefined;
      if (e.op === '+') return plusLinear(l, r);
      if (e.op === '-') return plusLinear(l, timesLinear({ constant: -1, terms: new Map() }, r)!);
      if (e.op === '*') return timesLinear(l, r);
      return undefined;
    }
    default:
      return undefined;
  }
}

function plusLinear(a: Linear, b: Linear): Linear {
  const terms = new Map(a.terms);
  for (const [k, v] of b.terms) terms.set(k, (terms.get(k) ?? 0) + v);
  return { constant: a.constant + b.constant, terms };
}

/** A product is linear only when one side is a plain number. */
function timesLinear(a: Linear, b: Linear | undefined): Linear | undefined {
  if (!b) return undefined;
  const scale = (x: Linear, k: number): Linear => ({ constant: x.constant * k, terms: new Map([...x.terms].map(([t, v]) => [t, v * k])) });
  if (a.terms.size === 0) return scale(b, a.constant);
  if (b.terms.size === 0) return scale(a, b.constant);
  return undefined;
}

/**
 * `T += c·(X − T)` (or `T -= c·(T − X)`, `T.add_(X − T, alpha=c)`) with c a scalar that is not a
 * negative number: T ← (1 − c)·T + c·X, a moving average of X written as an increment. The
 * difference must pull T toward X; `T += c·(T − X)` pushes it away and is not one.
 */
function isAverageIncrement(target: Expr, value: Expr, op: '+' | '-', scope: Scope, at: number, analyzer: Analyzer): boolean {
  const key = exprKey(target);
  if (key === undefined) return false;
  let factors: Expr[] = [];
  const split = (e: Expr): void => {
    if (e.kind === 'binary' && e.op === '*') {
      split(e.left);
      split(e.right);
    } else factors.push(e);
  };
  split(value);
  const differences = factors.filter((f) => f.kind === 'binary' && f.op === '-' && (exprKey(f.left) === key || exprKey(f.right) === key));
  if (differences.length !== 1) return false;
  const diff = differences[0] as Expr & { kind: 'binary' };
  const [self, other] = exprKey(diff.right) === key ? [diff.right, diff.left] : [diff.left, diff.right];
  if (mentionsKey(other, key)) return false;
  // The increment must point from T to X: +c·(X − T) or −c·(T − X).
  if ((op === '+') !== (self === diff.right)) return false;
  factors = factors.filter((f) => f !== diff);
  if (factors.length === 0) return false; // `T += X − T` is an assignment, not an average
  for (const f of factors) {
    const n = numberOf(f);
    if (n !== undefined ? n <= 0 || n >= 1 : f.kind === 'unary' || mentionsKey(f, key)) return false;
    const p = analyzer.classify(f, scope, at, undefined);
    if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length) return false;
  }
  return true;
}

/**
 * An increment that is c·(X − T) once expanded, with c scalars (numbers in (0, 1], or symbols that
 * hold no tensor, parameter or penalty): exactly one term is −c·T (the target itself), and every
 * other term carries the same factors c. So T ← (1 − c)·T + c·X, a moving average toward X, whether the difference is written
 * inline or held in a local (`delta = r + gamma * V[s2] - V[s]; V[s] += alpha * delta`, TD
 * learning's step toward its target). X may read other entries of T's table (`V[s2]`), not T.
 */
function pullsTowardTarget(target: Expr, increment: Summand[], analyzer: Analyzer): boolean {
  const key = exprKey(target);
  if (key === undefined || increment.length < 2) return false;
  const selfTerms = increment.filter((s) => s.num.some((f) => exprKey(f.expr) === key));
  if (selfTerms.length !== 1) return false;
  const self = selfTerms[0];
  if (self.sign !== -1 || self.den.length > 0) return false;
  const weight = self.num.filter((f) => exprKey(f.expr) !== key);
  if (weight.length === 0 || weight.length !== self.num.length - 1) return false;
  for (const f of weight) {
    const n = numberOf(f.expr);
    if (n !== undefined ? n <= 0 || n > 1 : f.expr.kind === 'unary' || !isScalarFactor(f, analyzer)) return false;
  }
  const weightKeys = weight.map((f) => exprKey(f.expr));
  if (weightKeys.some((k) => k === undefined)) return false;
  return increment.every((s) => s === self || (s.den.length === 0 && weightKeys.every((k) => s.num.some((f) => exprKey(f.expr) === k)) && !s.num.some((f) => mentionsKey(f.expr, key))));
}

/**
 * The terms of a scaling factor `1 − c₁ − c₂ …` as written: each cᵢ is judged whole. A product such
 * as `(1 − dampening) / (1 − momentum) · lr · wd` is one shrink coefficient; expanded, its pieces
 * (`+dampening·lr·wd`) would each look like growth.
 */
function factorTerms(factor: Expr, scope: Scope, at: number, analyzer: Analyzer): Summand[] {
  const out: Summand[] = [];
  const walk = (e: Expr, sign: 1 | -1): void => {
    if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
      walk(e.left, sign);
      walk(e.right, e.op === '-' ? (sign === 1 ? -1 : 1) : sign);
      return;
    }
    if (e.kind === 'unary' && (e.op === '-' || e.op === '+')) return walk(e.arg, e.op === '-' ? (sign === 1 ? -1 : 1) : sign);
    const parts = analyzer.summands(e, scope, at);
    const whole: Summand[] = parts.length === 1 ? parts : [{ sign: 1, num: [{ expr: e, scope, at }], den: [], site: e.span, via: [] }];
    for (const p of whole) out.push(sign === 1 ? p : { ...p, sign: p.sign === 1 ? -1 : 1 });
  };
  walk(factor, 1);
  return out;
}

/**
 * `for j, u in enumerate(units): u.w -= lr * u.dw`: the target is a field of a loop's item (an element
 * of the collection the loop walks, not a counter or a key), no field on the way is named as state or
 * a gradient, and the step moves it along a gradient. The item is a unit or layer that holds weights,
 * whatever the loop variable is called: `u`, `v`, `m` also name optimizer state, and this data flow
 * outranks that name (an Adamax buffer `layer.u`, or a `u` stepped itself, stays state).
 */
export function stepsLoopItemField(site: UpdateSite, analyzer: Analyzer, index: ProgramIndex): boolean {
  return steppedLoopItemField(site, analyzer, index) !== undefined;
}

/** The `loopItemField` key of a site that `stepsLoopItemField` accepts. */
export function steppedLoopItemField(site: UpdateSite, analyzer: Analyzer, index: ProgramIndex): string | undefined {
  if (site.kind !== 'update') return undefined;
  const base = baseExpr(site.target);
  if (components(base).slice(1).some((c) => isStateName(c)) || isGradientLike(base)) return undefined;
  const field = loopItemField(base, site.scope, site.at, (e) => analyzer.isModule(e));
  if (field === undefined) return undefined;
  // The gradient as written (`u.dw`), or where the step reads it through a variable or helper.
  const stmt = index.stmtBySpan.get(spanKey(site.span));
  const written = stmt?.kind === 'assign' ? stmt.value : stmt?.kind === 'expr' ? stmt.expr : index.exprBySpan.get(spanKey(site.span));
  if (written && mentions(written, isGradientLike)) return field;
  return site.increment.some((s) => [...s.num, ...s.den].some((f) => mentions(f.expr, isGradientLike))) ? field : undefined;
}

/** Is `name` a parameter of the function whose scope is `scope` or encloses it (its nearest bindings of that name)? */
function isParameterName(scope: Scope, name: string): boolean {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const bindings = s.bindings.get(name);
    if (bindings && bindings.length > 0) return bindings.some((b) => b.kind === 'param');
    if (s.kind === 'function' || s.kind === 'lambda') return false;
  }
  return false;
}

/** The field an attribute target writes: `u.acc` and `u.acc[i]` write `acc`. */
function fieldOf(e: Expr): string | undefined {
  while (e.kind === 'index') e = e.object;
  return e.kind === 'attr' ? e.name : undefined;
}
