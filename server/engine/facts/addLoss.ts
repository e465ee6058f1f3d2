// Keras `add_loss` pitfalls, for NB305. Two ways a weight penalty handed to `add_loss` stops
// regularizing what the author meant:
// - a late-binding closure: `layer.add_loss(lambda: reg(layer.kernel))` in `for layer in ...`
//   reads `layer` when Keras calls it, after the loop, so every lambda sees the last layer. A
//   Python loop variable (and any name the loop body assigns) is one binding for all iterations;
//   a default argument (`lambda layer=layer: ...`) or a helper's own scope binds it per lambda.
// - a constant: `layer.add_loss(l2(c)(layer.kernel))` outside a `call()` method in TF2 Keras is
//   computed once, from the weights' values at that moment; it has no gradient for them later.
//   In `call()` the tensor is computed on every forward pass, and a zero-argument lambda is
//   computed by Keras on every step; both are right. TF1 graph-mode files are left alone (a
//   tensor there is a graph node, recomputed on every run).
// Computed once per Facts object.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { ADD_LOSS_METHOD, FORWARD_METHODS, WEIGHT_SETUP_METHODS, frameworkPath, isGraphModePath, isTensorFlowModule } from './catalogue';
import { programIndex } from './program';
import { stmtExprs, subExprs, trainingFacts, within, type StmtInfo, type TrainingFacts, type Unit } from './loops';

export type AddLossPitfall =
  /** `add_loss(lambda: ...)` inside `loop`, reading `read`, which the loop rebinds on every iteration. */
  | { kind: 'late-binding'; call: Expr; lambda: Expr; read: Expr; name: string; loop: ForStmt; bound: Span }
  /** `add_loss(penalty)`: a weight penalty computed once, outside the forward pass. */
  | { kind: 'constant'; call: Expr; penalty: Expr };

type ForStmt = Extract<Stmt, { kind: 'for' }>;
type Lambda = Extract<Expr, { kind: 'lambda' }>;

const cache = new WeakMap<Facts, AddLossPitfall[]>();

export function addLossPitfalls(facts: Facts): AddLossPitfall[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(trainingFacts(facts))));
  return found;
}

function collect(t: TrainingFacts): AddLossPitfall[] {
  const out: AddLossPitfall[] = [];
  if (t.facts.language !== 'python') return out;
  // A call of the method names it in the file's text: most files never do, and then no expression is walked.
  if (!t.facts.text.includes(ADD_LOSS_METHOD)) return out;
  let eager: boolean | undefined;
  for (const info of t.infos) {
    for (const e of stmtExprs(info.stmt)) {
      for (const call of subExprs(e)) {
        if (call.kind !== 'call' || call.callee.kind !== 'attr' || call.callee.name !== ADD_LOSS_METHOD || call.args.length !== 1 || call.kwargs.length > 0) continue;
        const arg = call.args[0];
        const lambda = lambdaOf(arg, info);
        if (lambda) {
          const late = lateBinding(info, lambda);
          if (late && within(lambda.span, late.loop.span)) out.push({ kind: 'late-binding', call, lambda, ...late });
          continue;
        }
        if (!outsideForwardPass(info.unit)) continue;
        eager ??= isEagerTensorFlow(t.facts);
        if (!eager) continue;
        if (t.penalty(arg, info.scope, info.stmt.span.start)?.kind === 'penalty') out.push({ kind: 'constant', call, penalty: arg });
      }
    }
  }
  return out;
}

/** The lambda an argument is, or the one a name was last assigned (`fn = lambda: ...; add_loss(fn)`). */
function lambdaOf(arg: Expr, info: StmtInfo): Lambda | undefined {
  if (arg.kind === 'lambda') return arg;
  if (arg.kind !== 'name') return undefined;
  const b = info.scope.lookup(arg.name, info.stmt.span.start);
  return b?.kind === 'assign' && !b.op && b.value?.kind === 'lambda' ? b.value : undefined;
}

/** The innermost enclosing `for` whose rebound names the lambda reads free, with the first such read. */
function lateBinding(info: StmtInfo, lambda: Lambda): { read: Expr; name: string; loop: ForStmt; bound: Span } | undefined {
  const loops = info.ancestors.filter((a): a is ForStmt => a.kind === 'for');
  if (loops.length === 0) return undefined;
  const free = freeReads(lambda);
  for (let i = loops.length - 1; i >= 0; i--) {
    const loop = loops[i];
    const rebound = reboundNames(loop);
    const read = free.find((r) => r.kind === 'name' && rebound.has(r.name));
    if (read && read.kind === 'name') return { read, name: read.name, loop, bound: rebound.get(read.name)! };
  }
  return undefined;
}

/** Names a lambda reads that none of its own parameters, nested lambdas' or comprehensions' targets bind. */
function freeReads(lambda: Lambda): Expr[] {
  const bound = new Set(lambda.params.map((p) => p.name));
  const body = lambda.body ? subExprs(lambda.body, true) : lambda.stmts.flatMap((s) => stmtExprs(s).flatMap((x) => subExprs(x, true)));
  for (const x of body) {
    if (x.kind === 'lambda') for (const p of x.params) bound.add(p.name);
    if (x.kind === 'comprehension') for (const g of x.generators) for (const n of subExprs(g.target)) if (n.kind === 'name') bound.add(n.name);
  }
  // Names read inside a lambda statement body that it assigns itself are its own, too.
  for (const s of lambda.stmts) if (s.kind === 'assign') for (const target of s.targets) for (const n of subExprs(target)) if (n.kind === 'name') bound.add(n.name);
  return body.filter((x) => x.kind === 'name' && !bound.has(x.name)).sort((a, b) => a.span.start - b.span.start);
}

/**
 * Names one binding of which serves every iteration: the loop's targets and the names its body
 * assigns (not in nested functions), each with the first place that binds it.
 */
function reboundNames(loop: ForStmt): Map<string, Span> {
  const names = new Map<string, Span>();
  const addTargets = (target: Expr): void => {
    if (target.kind === 'name') {
      if (!names.has(target.name)) names.set(target.name, target.span);
    }
    else if (target.kind === 'seq') target.items.forEach(addTargets);
  };
  addTargets(loop.target);
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'assign') s.targets.forEach(addTargets);
      else if (s.kind === 'for') {
        addTargets(s.target);
        visit(s.body);
      } else if (s.kind === 'block') {
        s.aliases?.forEach((a) => a && addTargets(a));
        visit(s.body);
      }
    }
  };
  visit(loop.body);
  return names;
}

/** Whether code in `unit` runs outside every forward pass: module code, plain functions, a layer's weight setup. */
function outsideForwardPass(unit: Unit): boolean {
  for (let u: Unit | undefined = unit; u; u = u.parent) {
    if (u.kind === 'lambda') return false;
    if (u.kind === 'function' && u.parent?.kind === 'class') {
      if (u.name !== undefined && FORWARD_METHODS.has(u.name)) return false;
      // Other methods may run inside `call()` (a helper it calls): only the weight setup is known to run once.
      return u.name !== undefined && WEIGHT_SETUP_METHODS.has(u.name);
    }
  }
  return true;
}

/** TF2 code: the file imports TensorFlow and calls nothing that only exists in TF1 graph mode. */
function isEagerTensorFlow(facts: Facts): boolean {
  if (![...facts.scopes.imports.values()].some((i) => isTensorFlowModule(i.module))) return false;
  for (const { call, scope, at } of programIndex(facts).calls) {
    if (call.callee.kind !== 'attr' && call.callee.kind !== 'name') continue;
    const path = frameworkPath(call.callee, scope, at, facts.scopes.imports, 'python');
    if (path && isGraphModePath(path)) return false;
  }
  return true;
}
