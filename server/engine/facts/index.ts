// Facts about a file that rules read: its scopes, its update sites, which names are parameters,
// and the code dialect. Built once per lint; rules never walk syntax themselves.
import { weightsBesideLoss } from './tupleLosses';
import type { Expr, Module, Span, Stmt } from '../ir';
import type { LanguageId } from '../types';
import type { Dialect } from '../../math/terms';
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { SourceFile } from '../source';
import type { Analyzer } from './analysis';
import { baseExpr, exprKey } from './keys';
import { forEachChild, type Scope, type ScopeBuilder } from './scope';
import { findUpdates, stateTargets, steppedLoopItemField, stepsLoopItemField, StateTargets, type UpdateSite } from './updates';
import { programIndex } from './program';
import { isGradientLike, isParameterCollectionName, isStateLike, parameterOfGradient } from './roles';
import { PARAMETER_LISTS, GRAPH_VARIABLE_LISTS, dialectOf, isTfjsVariable, isParameterIterator, isTreeLeaves, loopSource } from './catalogue';

export type { UpdateSite, UpdateKind } from './updates';
export type { Summand, PenaltyTerm, Product, ParamOccurrence } from './analysis';

export interface Facts {
  /** The program the file is part of: its other files, the source map, the one analyzer. */
  readonly program: Program;
  readonly file: SourceFile;
  /** The file's whole text (offsets into it are not spans: use `source` for a span's text). */
  readonly text: string;
  readonly language: LanguageId;
  readonly module: Module;
  readonly dialect: Dialect;
  readonly scopes: ScopeBuilder;
  readonly analyzer: Analyzer;
  readonly updates: UpdateSite[];
  /** Optimizer state the updates keep (moving averages, buffers, accumulators), by data flow. */
  readonly state: StateTargets;
  /** Keys of expressions the file treats as parameters. */
  readonly params: Set<string>;
  /** Imported names and the module each comes from (`np` → `numpy`, `compute_loss` → `utils`). */
  readonly imports: Map<string, string>;
  /** The text a span covers, in this file or any other file of the program. */
  source(span: Span): string;
  /**
   * The line a span starts on, as a message names it: `line 12`, or `line 3 of cell 5` in a
   * notebook (server/engine/cellLines.ts). The only way a rule puts a line into a message.
   */
  lineLabel(span: Span): string;
}

export function buildFacts(program: Program, parsed: ParsedFile): Facts {
  const { scopes, module, text, language } = parsed;
  const imports = new Map<string, string>();
  for (const [alias, imported] of scopes.imports) imports.set(alias, imported.module);
  const params = new Set<string>();
  const analyzer = program.analyzer;
  const facts: Facts = {
    program, file: parsed.file, text, language, module, dialect: dialectOf(language, [...imports.values()]), scopes, analyzer, updates: [], state: new StateTargets(), params, imports,
    source: (span) => program.source(span),
    lineLabel: (span) => program.lineLabel(span),
  };
  // Keys stepped only as locals of functions: a parameter inside those functions, not elsewhere.
  const localParams = new Map<string, Span[]>();
  // The analyzer asks for this file's parameter set while the updates are found: register it first.
  analyzer.registerParams(parsed.file, params, localParams);

  // Parameters by how the file treats them: loop variables over parameter collections...
  collectLoopParams(module.body, params, (e) => analyzer.isModule(e));
  if (facts.dialect === 'torch') collectNetworkTensorParams(module.body, params);
  if (facts.dialect === 'tfjs') collectTfjsVariableParams(module.body, params);
  // ...then targets of updates and the parameters that gradients belong to.
  // Two passes: the first finds which targets are parameters; the second analyses the steps
  // knowing them (what counts as a parameter changes how names expand).
  const firstPass = findUpdates(module.body, scopes, analyzer);
  const added: string[] = [];
  // Loop variables over parameter collections are parameters wherever the name is read.
  const global = new Set<string>(params);
  /** `local`: the function whose own variable the key is at this update; undefined for every other parameter. */
  const addParam = (key: string, local?: Span): void => {
    if (!params.has(key)) added.push(key);
    params.add(key);
    if (!local) {
      global.add(key);
      localParams.delete(key);
    } else if (!global.has(key)) {
      const spans = localParams.get(key);
      if (spans) spans.push(local);
      else localParams.set(key, [local]);
    }
  };
  // Moving averages and buffers that feed other steps are optimizer state, whatever they are called.
  const state = stateTargets(firstPass, analyzer, programIndex(facts));
  analyzer.registerState(parsed.file, state);
  (facts as { state: StateTargets }).state = state;
  // `for j, u in enumerate(units): u.w -= lr * u.dw`: a field of a loop's item stepped along a gradient is a
  // weight though the item is named like optimizer state (`u`, `v`, `m`); data flow outranks the name.
  const steppedFields = new Set<string>();
  for (const site of firstPass) {
    if (site.kind !== 'update' || isGradientLike(site.target) || !isStateLike(site.target)) continue;
    const field = steppedLoopItemField(site, analyzer, programIndex(facts));
    if (field !== undefined) steppedFields.add(field);
  }
  analyzer.registerSteppedItemFields(parsed.file, steppedFields);
  for (const site of firstPass) {
    if (site.kind === 'update' && !isGradientLike(site.target) && (!isStateLike(site.target) || stepsLoopItemField(site, analyzer, programIndex(facts)))) {
      const key = exprKey(baseExpr(site.target));
      if (key !== undefined && !state.has(key, site.span.start)) addParam(key, localFunctionOf(baseExpr(site.target), key, site.scope));
    } else {
      const param = parameterOfGradient(site.target);
      if (param) addParam(param);
    }
  }
  // The weight of a loss-and-gradient function nothing here steps: zeros shaped like it returned beside its penalized loss (tupleLosses.ts).
  for (const { key, fn } of weightsBesideLoss(module.body)) if (!params.has(key) || localParams.has(key)) addParam(key, fn.span);
  // The second pass can only differ from the first where isParam said "no" to a key that is now
  // a parameter (names like W already count as parameters); otherwise it would repeat the first
  // pass exactly, cache included.
  let updates = firstPass;
  if (analyzer.dependsOnAny(parsed.file, added) || state.size > 0 || steppedFields.size > 0) {
    analyzer.forgetCache();
    updates = findUpdates(module.body, scopes, analyzer);
  }
  (facts as { updates: UpdateSite[] }).updates = updates;
  return facts;
}

/**
 * The span of the function whose own variable a stepped name is (a local or an argument of it),
 * or undefined for a name of the module, a class member or a subscript. Another function's
 * variable of the same name is another value: two functions' `l` or `g` are not joined.
 */
function localFunctionOf(target: Expr, key: string, scope: Scope): Span | undefined {
  if (target.kind !== 'name') return undefined;
  const own = scope.allBindings(key);
  const owner = own[0]?.scope;
  if (owner?.kind !== 'function') return undefined;
  // Python's `global W` then `W = W - …` rebinds the module's W, though scope.ts (which has no
  // `global`) binds it here: a function whose every binding of the name reads the name before
  // assigning it does not own it. An augmented `W -= …` lands here only when no outer W exists.
  const makes = own.some((b) => b.kind !== 'assign' || b.op !== undefined || !b.value || !reads(b.value, key));
  return makes ? owner.span : undefined;
}

/** Whether `e` reads the name `key` anywhere in it. */
function reads(e: Expr, key: string): boolean {
  const stack = [e];
  for (let n = 0; stack.length > 0 && n < 10_000; n++) {
    const x = stack.pop()!;
    if (x.kind === 'name' && x.name === key) return true;
    forEachChild(x, (c) => void stack.push(c));
  }
  return false;
}

/**
 * torch: `model.decoder.data` in a function that calls `model(...)` reads a tensor attribute of a
 * network (a module has no `.data`): `model.decoder` is one of its parameters, whatever it is called.
 */
function collectNetworkTensorParams(body: Stmt[], params: Set<string>): void {
  const inFunction = (stmts: Stmt[]): void => {
    const called = new Set<string>();
    const dataReads: Expr[] = [];
    const stack: Expr[] = [];
    const walkStmts = (list: Stmt[]): void => {
      for (const s of list) {
        if (s.kind === 'function') inFunction(s.body);
        else if (s.kind === 'class') walkStmts(s.body.filter((c) => c.kind === 'function'));
        else forEachStmtPart(s, stack, walkStmts);
      }
    };
    walkStmts(stmts);
    for (let n = 0; stack.length > 0 && n < 100_000; n++) {
      const x = stack.pop()!;
      if (x.kind === 'call' && x.callee.kind === 'name') called.add(x.callee.name);
      if (x.kind === 'attr' && x.name === 'data' && x.object.kind === 'attr') dataReads.push(x.object);
      forEachChild(x, (c) => void stack.push(c));
    }
    for (const tensor of dataReads) {
      const root = baseName(tensor);
      const key = exprKey(tensor);
      if (root && called.has(root) && key !== undefined && !isGradientLike(tensor) && !isStateLike(tensor)) params.add(key);
    }
  };
  for (const s of body) {
    if (s.kind === 'function') inFunction(s.body);
    else if (s.kind === 'class') for (const m of s.body) if (m.kind === 'function') inFunction(m.body);
  }
}

/**
 * tfjs: a name bound to `tf.variable(x)` (trainable unless told otherwise) is what
 * `optimizer.minimize` trains, whatever it is called (`const fullyConnectedWeights = tf.variable(...)`).
 */
function collectTfjsVariableParams(body: Stmt[], params: Set<string>): void {
  const visit = (stmts: Stmt[], depth: number): void => {
    if (depth > 32) return;
    for (const s of stmts) {
      if (s.kind === 'assign' && !s.op && s.value.kind === 'call' && isTfjsVariable(s.value)) {
        for (const t of s.targets) {
          const key = t.kind === 'name' || t.kind === 'attr' ? exprKey(t) : undefined;
          if (key !== undefined) params.add(key);
        }
      } else if (s.kind === 'function' || s.kind === 'class' || s.kind === 'for' || s.kind === 'block') visit(s.body, depth + 1);
    }
  };
  visit(body, 0);
}

/** The expressions of a statement onto `stack`, and its nested statements to `walk`. */
function forEachStmtPart(s: Stmt, stack: Expr[], walk: (list: Stmt[]) => void): void {
  if (s.kind === 'assign') stack.push(s.value);
  else if (s.kind === 'expr') stack.push(s.expr);
  else if (s.kind === 'return' && s.value) stack.push(s.value);
  else if (s.kind === 'for') {
    stack.push(s.iter);
    walk(s.body);
  } else if (s.kind === 'block') {
    stack.push(...s.heads);
    walk(s.body);
  }
}

/** The name an attribute chain starts from: `model.enc.w` → `model`. */
function baseName(e: Expr): string | undefined {
  let x = e;
  for (let i = 0; i < 16 && x.kind === 'attr'; i++) x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/** `for p in model.parameters()`, `for name, p in model.named_parameters()`, `for w, g in zip(weights, grads)`. */
function collectLoopParams(body: Stmt[], params: Set<string>, isModule: (e: Expr) => boolean): void {
  const elementIsParam = (iter: Expr): boolean => {
    // `jax.tree_util.tree_leaves(params)`, `jax.tree.leaves(params)`: the leaves of a parameter tree.
    if (iter.kind === 'call' && (iter.callee.kind === 'attr' || iter.callee.kind === 'name') && isTreeLeaves(iter.callee.name) && iter.args[0])
      return elementIsParam(iter.args[0]);
    if (iter.kind === 'call' && iter.callee.kind === 'attr') {
      if (isParameterIterator(iter.callee.name)) return isParameterCollectionName(exprKey(iter.callee.object) ?? '') || PARAMETER_LISTS.has(iter.callee.name);
      // TF1 `tf.trainable_variables()`: the graph's variables.
      if (GRAPH_VARIABLE_LISTS.has(iter.callee.name) && iter.args.length === 0 && iter.kwargs.length === 0) return true;
    }
    const key = exprKey(iter);
    return key !== undefined && isParameterCollectionName(key) && !isGradientLike(iter);
  };
  /** Each name of a loop target with its position in the tuple: `for i, (w, g) in ...` gives w and g positions 1. */
  const bindLoop = (target: Expr, iter: Expr): void => {
    // `for i, (w, g) in enumerate(zip(ws, gs))`: the second item walks the enumerated iterable.
    if (target.kind === 'seq' && target.items[1]?.kind === 'seq' && iter.kind === 'call' && iter.callee.kind === 'name' && iter.callee.name === 'enumerate' && iter.args[0]) {
      bindLoop(target.items[1], iter.args[0]);
      return;
    }
    const names = target.kind === 'seq' ? target.items.map((item, i) => ({ item, i })) : [{ item: target, i: 0 }];
    for (const { item, i } of names) {
      if (item.kind !== 'name') continue;
      const source = loopSource(iter, i, isModule);
      if (source?.kind === 'element' && elementIsParam(source.collection)) params.add(item.name);
    }
  };
  const visitExpr = (e: Expr): void => {
    const stack = [e];
    const push = (c: Expr): void => void stack.push(c);
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x.kind === 'comprehension') for (const g of x.generators) bindLoop(g.target, g.iter);
      if (x.kind === 'lambda') visit(x.stmts);
      forEachChild(x, push);
    }
  };
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'for') {
        bindLoop(s.target, s.iter);
        visit(s.body);
      } else if (s.kind === 'function' || s.kind === 'class' || s.kind === 'block') visit(s.body);
      else if (s.kind === 'assign') visitExpr(s.value);
      else if (s.kind === 'expr') visitExpr(s.expr);
      else if (s.kind === 'return' && s.value) visitExpr(s.value);
    }
  };
  visit(body);
}
