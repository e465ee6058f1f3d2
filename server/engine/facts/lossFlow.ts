// Where a differentiated loss comes from, and reads of the collected regularization losses that
// never get there, for NB301. `reg = tf.reduce_sum(model.losses)` inside a tape says the author
// meant to train the penalties, but when the differentiated loss leaves `reg` out (or `reg` is only
// logged), the layer regularizers still train nothing.
//
// `lossFlow` follows the loss back through the bindings each name sees where it is read (so a
// validation loss built later in the same loop is not the training loss), through the values a
// container was given by a method call (`parts.append(x)`) or an element assignment. A read of the
// collected losses is off the loss when every local it is bound to is outside that flow and is
// only reported (`print`, `logging`, `tf.summary`), bound again to such locals, or, beside the
// differentiation, handed to a method of a local object the loss does not come from
// (`val_metric.update_state(val_loss)`). Anything else (a return, an attribute, a helper's
// argument, a read the IR cannot show, any differentiation's argument) may reach a loss, and the
// read counts.
import type { Expr } from '../ir';
import { exprKey } from './keys';
import type { Binding, BranchPlace, Scope } from './scope';
import { isReportingCall } from './catalogue';
import { pathOf, subExprs, within, type Call, type DiffEvent, type StmtInfo, type TrainingFacts } from './loops';
import { textReads } from './unused';

/** Bindings and keys a loss is computed from; undefined when the flow is too large to follow. */
export interface LossFlow {
  bindings: Set<Binding>;
  keys: Set<string>;
}

const FLOW_BUDGET = 4000;
const flowMemo = new WeakMap<DiffEvent, LossFlow | null>();

/** What a differentiation event's loss is computed from, within its file. */
export function lossFlow(t: TrainingFacts, d: DiffEvent): LossFlow | undefined {
  const hit = flowMemo.get(d);
  if (hit !== undefined) return hit ?? undefined;
  const flow: LossFlow = { bindings: new Set(), keys: new Set() };
  const work: { e: Expr; scope: Scope; at: number }[] = [];
  if (d.loss) work.push({ e: d.loss, scope: d.info.scope, at: d.info.stmt.span.start });
  for (const r of d.returns ?? []) work.push({ e: r.expr, scope: r.scope, at: r.at });
  let steps = 0;
  // What each container key of a scope is given, gathered once per scope.
  const mutations = new Map<Scope, Map<string, { e: Expr; scope: Scope; at: number }[]>>();
  const mutationsIn = (scope: Scope): Map<string, { e: Expr; scope: Scope; at: number }[]> => {
    let found = mutations.get(scope);
    if (found) return found;
    mutations.set(scope, (found = new Map()));
    for (const info of t.infosIn(scope.span)) {
      for (const [key, values] of mutationsOf(info)) {
        const list = found.get(key) ?? [];
        for (const e of values) list.push({ e, scope: info.scope, at: info.stmt.span.start });
        found.set(key, list);
      }
    }
    return found;
  };
  const visit = (b: Binding): void => {
    if (flow.bindings.has(b)) return;
    flow.bindings.add(b);
    flow.keys.add(b.key);
    if (b.value) work.push({ e: b.value, scope: b.scope, at: b.at });
    if (b.unpacked) work.push({ e: b.unpacked.value, scope: b.scope, at: b.at });
    if (b.loop) work.push({ e: b.loop.walks ?? b.loop.iter, scope: b.scope, at: b.at });
    // `reg += p` and `parts.append(x)` build on what the key held before.
    const before = b.scope.lookup(b.key, b.at);
    if (before && before !== b) visit(before);
    for (const m of mutationsIn(b.scope).get(b.key) ?? []) work.push(m);
  };
  while (work.length > 0) {
    if (++steps > FLOW_BUDGET) {
      flowMemo.set(d, null);
      return undefined;
    }
    const { e, scope, at } = work.pop()!;
    for (const x of subExprs(e, true)) {
      if (x.kind !== 'name' && x.kind !== 'attr' && x.kind !== 'index') continue;
      const key = exprKey(x);
      if (key === undefined) continue;
      flow.keys.add(key);
      const b = scope.lookup(key, at);
      if (b) visit(b);
    }
  }
  flowMemo.set(d, flow);
  return flow;
}

/** What a statement puts into containers, by key: `key.append(x)`, `key[i] = x`, `key.x = v`. */
function mutationsOf(info: StmtInfo): [string, Expr[]][] {
  const s = info.stmt;
  const out: [string, Expr[]][] = [];
  if (s.kind === 'assign') {
    for (const x of s.targets) {
      const key = (x.kind === 'index' || x.kind === 'attr') && exprKey(x.object);
      if (key) out.push([key, [s.value]]);
    }
    return out;
  }
  if (s.kind !== 'expr') return out;
  for (const x of subExprs(s.expr)) {
    const key = x.kind === 'call' && x.callee.kind === 'attr' && exprKey(x.callee.object);
    if (key && x.kind === 'call') out.push([key, [...x.args, ...x.kwargs.map((k) => k.value)]]);
  }
  return out;
}

/**
 * Whether a statement that reads the collected regularization losses binds them only to locals
 * that reach no loss (see the header). `flow` is the differentiated loss's, when the statement is
 * in the same function as the differentiation.
 */
export function readOffLoss(t: TrainingFacts, info: StmtInfo, flow: LossFlow | undefined): boolean {
  const s = info.stmt;
  if (s.kind === 'expr') return s.expr.kind === 'call' && reports(t, s.expr);
  return s.kind === 'assign' && unusedTargets(t, info, flow, 0);
}

/** Every target of an assignment is a local that reaches no loss. */
function unusedTargets(t: TrainingFacts, info: StmtInfo, flow: LossFlow | undefined, depth: number): boolean {
  const s = info.stmt;
  if (s.kind !== 'assign' || depth > 4 || s.exported || s.targets.length === 0) return false;
  if (s.value.kind === 'call' && reports(t, s.value)) return true;
  for (const target of s.targets) {
    if (target.kind !== 'name') return false;
    const b = info.scope.allBindings(target.name).find((x) => x.at === s.span.start && x.scope === info.scope);
    if (!b || (flow && flow.bindings.has(b)) || !unusedBinding(t, b, flow, depth)) return false;
  }
  return true;
}

/** Whether every read of a binding is a report, a binding of other such locals, or a method call on an unrelated local. */
function unusedBinding(t: TrainingFacts, b: Binding, flow: LossFlow | undefined, depth: number): boolean {
  const region = b.scope.span;
  if (b.scope.kind === 'module' && t.facts.scopes.root.bindings.has('__all__')) return false;
  const strings: string[] = [];
  for (const info of t.infosIn(region)) {
    const s = info.stmt;
    const exprs = s.kind === 'assign' ? [...s.targets.filter((x) => x.kind !== 'name'), s.value] : (stmtReads(s) ?? []);
    const uses: Expr[] = [];
    for (const root of exprs) {
      for (const x of subExprs(root, true)) {
        if (x.kind === 'str') strings.push(x.value);
        if (x.kind !== 'name' || x.name !== b.key) continue;
        const seen = info.scope.lookup(b.key, info.stmt.span.start);
        if (seen === b || loopCarried(b, seen, info)) uses.push(x);
      }
    }
    if (uses.length === 0) continue;
    // Differentiated, here or by another event (a GAN's other player): the penalties are trained.
    if (uses.some((x) => t.diffs.some((d) => within(x.span, d.call.span)))) return false;
    if (s.kind === 'assign') {
      if (!unusedTargets(t, info, flow, depth + 1)) return false;
    } else if (s.kind === 'expr' && s.expr.kind === 'call') {
      if (!reports(t, s.expr) && !(flow && unrelatedMethodCall(t, s.expr, info, flow))) return false;
    } else return false;
  }
  return !textReads(t.facts, b.key, region, strings);
}

/**
 * A read earlier in a loop that makes `b` sees it on the next iteration, unless what the read sees
 * now was bound, unconditionally, inside the same loop (a validation loss after the training one).
 */
function loopCarried(b: Binding, seen: Binding | undefined, info: StmtInfo): boolean {
  if (b.loops.length === 0 || info.stmt.span.start >= b.at || info.scope !== b.scope) return false;
  if (!seen) return true;
  // A branch `b` is not in too may be skipped on the way to the read.
  const sameBranch = (x: BranchPlace): boolean => !!b.branches?.some((y) => y.branch.start === x.branch.start && y.branch.end === x.branch.end);
  if (seen.branches?.some((x) => !sameBranch(x))) return true;
  return !seen.loops.some((l) => b.loops.includes(l));
}

/** The expressions a statement reads; undefined for a statement kind that holds none. */
function stmtReads(s: StmtInfo['stmt']): Expr[] | undefined {
  switch (s.kind) {
    case 'expr':
      return [s.expr];
    case 'return':
      return s.value ? [s.value] : [];
    case 'for':
      return [s.iter];
    case 'block':
      return s.heads;
    default:
      return undefined;
  }
}

/** `print(...)`, `logging.info(...)`, `tf.summary.scalar(...)`: the value is shown, never trained. */
function reports(t: TrainingFacts, c: Call): boolean {
  const path = pathOf(c.callee);
  if (!path) return false;
  if (path.length === 1) return isReportingCall(path) && t.facts.scopes.root.lookup(path[0], Infinity) === undefined;
  return t.facts.imports.has(path[0]) && isReportingCall(path);
}

/** `metric.update_state(val_loss)` on a local the differentiated loss does not come from. */
function unrelatedMethodCall(t: TrainingFacts, c: Call, info: StmtInfo, flow: LossFlow): boolean {
  if (c.callee.kind !== 'attr' || c.callee.object.kind !== 'name') return false;
  const owner = c.callee.object.name;
  // `opt.minimize(val_loss)` trains what it is given.
  if (flow.keys.has(owner) || t.facts.imports.has(owner) || t.diffs.some((d) => d.call === c)) return false;
  const b = info.scope.lookup(owner, info.stmt.span.start);
  return !!b && b.kind === 'assign' && b.scope === info.scope && !flow.bindings.has(b);
}
