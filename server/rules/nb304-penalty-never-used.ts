// NB304 penalty-never-used: a penalty is computed in a training step but never reaches the loss.
//
// ## What it does
// Finds penalties that are assigned and never read, overwritten before they are read, or added to
// the loss by an operation whose result is thrown away (`loss.add(penalty)` or
// `tf.add(loss, penalty)` as a statement: tensors are immutable).
//
// ## Why is this bad?
// The author meant to regularize, and the code looks like it does, but the penalty never reaches
// the loss that is differentiated: training runs unregularized.
import { defineRule } from './rule';
import type { Expr, Span, Stmt } from '../engine/ir';
import { exprKey } from '../engine/facts/keys';
import { callName, stmtExprs, subExprs, trainingFacts, within, type StmtInfo, type TrainingFacts } from '../engine/facts/loops';
import { returnsOf } from '../engine/facts/resolve';
import type { FunctionDef } from '../engine/facts/scope';

export const nb304PenaltyNeverUsed = defineRule({
  meta: {
    code: 'NB304',
    name: 'penalty-never-used',
    severity: 'warning',
    summary: 'A penalty is computed but never reaches the loss: unused, overwritten, or the result of an immutable add is discarded',
    fix: 'none',
  },
  check(context) {
    const t = trainingFacts(context.facts);
    const reported = new Set<number>();
    const unread = new Set<string>();
    for (const info of t.infos) {
      const s = info.stmt;
      if (s.kind === 'expr') {
        discarded(t, info, s.expr, (span, message) => context.report({ span, message }));
        continue;
      }
      const name = candidate(t, info);
      if (!name || s.kind !== 'assign') continue;
      const region = info.scope.span;
      const regionKey = `${region.start}:${name}`;
      if (!unread.has(regionKey) && !isRead(t, name, region, info) && trainingContext(t, region)) {
        unread.add(regionKey);
        reported.add(s.targets[0].span.start);
        context.report({
          span: s.targets[0].span,
          message: `the penalty ${name} is computed but never used: it does not reach the loss that is differentiated`,
        });
        continue;
      }
      if (s.op || reported.has(s.targets[0].span.start)) continue;
      const next = overwrite(t, info, name);
      if (next) {
        reported.add(s.targets[0].span.start);
        const line = t.facts.lineOf(next.span);
        context.report({
          span: s.targets[0].span,
          message: `the penalty ${name} is overwritten on line ${line} before it is used: it never reaches the loss`,
          related: [{ span: next.span, message: `${name} is overwritten here` }],
        });
      }
    }
  },
});

/** A single-name assignment of a penalty (`reg = lam * l2`, `reg += p.pow(2).sum()`), outside class bodies. */
function candidate(t: TrainingFacts, info: StmtInfo): string | undefined {
  const s = info.stmt;
  if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name' || info.unit.kind === 'class') return undefined;
  const name = s.targets[0].name;
  if (name.startsWith('_') || (s.op && s.op !== '+')) return undefined;
  // `dW2 += ...` on a parameter (or a name bound outside) mutates the caller's array in place.
  if (s.op) {
    const binding = info.scope.lookup(name, s.span.start);
    if (!binding || binding.kind === 'param' || binding.scope !== info.scope) return undefined;
  }
  if (s.exported) return undefined;
  return t.penalty(s.value, info.scope, s.span.start) ? name : undefined;
}

const hiddenStatement = /^\s*(assert|raise|global|nonlocal|match|case|print|exec|yield|await|del\s+\w+\s*,|@)\b/;
const dynamic = /\b(locals|vars|eval|exec|globals)\s*\(/;

/** Any use of `name` in the region other than assignments to it and its own accumulation. */
function isRead(t: TrainingFacts, name: string, region: Span, self: StmtInfo): boolean {
  const text = t.facts.source(region);
  if (dynamic.test(text)) return true;
  const word = new RegExp(`(?<![\\w.$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
  for (const line of text.split('\n')) if (hiddenStatement.test(line) && word.test(line)) return true;
  for (const info of t.infosIn(region)) if (readsIn(info.stmt, name, word)) return true;
  return self.unit.kind === 'module' && t.facts.scopes.root.bindings.has('__all__');
}

/** Whether a statement's own expressions read `name` (an accumulation into `name` does not). */
function readsIn(s: Stmt, name: string, word: RegExp): boolean {
  const selfAccumulation = s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === name;
  const exprs = s.kind === 'assign' ? [...s.targets.flatMap((x) => (x.kind === 'name' ? [] : [x])), s.value] : stmtExprs(s);
  for (const root of exprs) {
    for (const x of subExprs(root, true)) {
      if (x.kind === 'name' && x.name === name && !(selfAccumulation && root === (s as { value: Expr }).value && isAddend(root, x))) return true;
      if (x.kind === 'str' && /[{}]/.test(x.value) && word.test(x.value)) return true; // f-strings
    }
  }
  return false;
}

/** `reg` in `reg + x` / `reg.add(x)` at the top of the added terms: the accumulator itself. */
function isAddend(root: Expr, x: Expr): boolean {
  let e = root;
  for (;;) {
    if (e === x) return true;
    if (e.kind === 'binary' && e.op === '+') {
      if (e.left === x || e.right === x) return true;
      e = e.left;
    } else if (e.kind === 'call' && callName(e) === 'add' && e.callee.kind === 'attr') e = e.callee.object;
    else return false;
  }
}

/** The function (or script) computes a loss or trains: a backward/gradient call, or a loss variable. */
function trainingContext(t: TrainingFacts, region: Span): boolean {
  if (t.diffs.some((d) => within(d.call.span, region))) return true;
  return t.infosIn(region).some((i) => {
    if (i.stmt.kind === 'assign') return i.stmt.targets.some((x) => /loss|cost|objective/i.test(exprKey(x) ?? ''));
    return i.stmt.kind === 'return' && !!i.stmt.value && /loss|cost|objective/i.test(t.text(i.stmt.value));
  });
}

/** The next statement in the same list that overwrites `name` before anything reads it. */
function overwrite(t: TrainingFacts, info: StmtInfo, name: string): Stmt | undefined {
  const word = new RegExp(`(?<![\\w.$])${name}(?![\\w$])`);
  for (let j = info.index + 1; j < info.list.length; j++) {
    const s = info.list[j];
    const between = t.facts.source({ start: info.stmt.span.end, end: s.span.start }).replace(/(#|\/\/)[^\n]*/g, '');
    if (s.kind === 'assign' && !s.op && s.targets.some((x) => x.kind === 'name' && x.name === name)) {
      if (word.test(between) || word.test(t.text(s.value))) return undefined;
      return s;
    }
    if (word.test(between + t.text(s))) return undefined;
  }
  return undefined;
}

/** A method that leaves its instance as it was and returns a value: `return Value(self.data + other.data, ...)`. */
function returnsNewValue(t: TrainingFacts, fn: FunctionDef): boolean {
  const members = fn.scope.classScope?.members;
  const writes = members ? [...members.values()].flat().some((b) => b.scope === fn.scope || within(b.span, fn.span)) : false;
  if (writes) return false;
  const returns = returnsOf(t.facts.program, fn);
  return returns.length > 0 && returns.every((r) => !(r.expr.kind === 'name' && /^(self|this)$/.test(r.expr.name)));
}

/** `loss.add(reg)`, `tf.add(loss, reg)`, `loss + reg` as a statement: the sum is thrown away. */
function discarded(t: TrainingFacts, info: StmtInfo, e: Expr, report: (span: Span, message: string) => void): void {
  const at = info.stmt.span.start;
  let parts: Expr[] | undefined;
  if (e.kind === 'binary' && e.op === '+') parts = t.addends(e);
  else if (e.kind === 'call') {
    if (e.kwargs.some((k) => k.name === 'out')) return;
    const arith = t.facts.analyzer.arithmeticCall(e);
    const name = callName(e);
    if (arith?.op === '+' && arith.operands[1]) {
      const methodForm = e.callee.kind === 'attr' && !t.facts.analyzer.isModule(e.callee.object);
      // A project class's `add` (a micrograd `Value`) is read: one that updates its instance keeps the sum.
      const own = methodForm ? t.facts.analyzer.callTarget(e, info.scope, at) : undefined;
      if (own && !own.constructs && !returnsNewValue(t, own.fn)) return;
      // `seen.add(x)` on a Python set is not arithmetic: the receiver must be a loss or a penalty.
      if (!own && methodForm && t.facts.language === 'python' && e.callee.kind === 'attr') {
        const receiver = e.callee.object;
        if (!/loss|cost|objective/i.test(t.text(receiver)) && !t.penalty(receiver, info.scope, at)) return;
      }
      parts = t.addends(e);
    } else if (name && /^(add_n|addN)$/.test(name) && e.args[0]?.kind === 'seq') parts = e.args[0].items;
  }
  if (!parts || parts.length < 2) return;
  const penalty = parts.find((p) => t.penalty(p, info.scope, at));
  if (!penalty) return;
  const own = e.kind === 'call' ? t.facts.analyzer.callTarget(e, info.scope, at) : undefined;
  const what = own?.cls ? `${own.cls.name}.${own.fn.name}() returns a new ${own.cls.name} and leaves its operands as they were` : 'tensors are immutable';
  report(e.span, `${t.text(e).replace(/\s+/g, ' ')} computes a new value and throws it away, so ${t.text(penalty)} never reaches the loss: ${what}; assign the result`);
}
