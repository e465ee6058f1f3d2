// A moving average's β set to a value of its own and overwritten before anything reads it (NB403):
// `beta1, beta2 = group["betas"]`, then `beta2 = self.sched.beta2_for(p, group)` (a dynamic β₂),
// then, under another condition, `beta1, beta2 = group["betas"]` again (to compute a bias
// correction), and the second moment averages with `beta2`: whenever that branch runs, the static β
// replaces the dynamic one before the average reads it, and the helper's value is lost.
//
// Decided by data flow in one function:
// - a name is set three times in order: a first value I, another value D, and again I's value R
//   (the same expression, or the same item of the same unpacked expression: `group["betas"]`, 1);
// - nothing reads the name between D and R, and R's value does not read it;
// - D and R are not in two branches of one `if … elif … else` chain (the re-read only on the other
//   branch keeps D);
// - after R, a moving average the step keeps is scaled by the name (`v.mul_(beta2)`, `v = beta2 * v + …`:
//   an update site whose own term's factor reads it, facts/updates.ts).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { Binding, FunctionDef } from './scope';
import { definedInFile, programIndex } from './program';
import { exprKey } from './keys';
import { stmtExprs, subExprs, within } from './loops';
import { inPlaceBlendWeight, inPlaceUpdate } from './catalogue';
import { resolveCall, resolveExpr } from './resolve';
import { exclusiveOf, explicitParams } from './scope';

export interface OverwrittenBeta {
  fn: FunctionDef;
  name: string;
  /** The value set and lost. */
  lost: Binding;
  /** The statement that sets the name again to its first value. */
  overwrite: Binding;
  /** The moving average that reads the name after it (its statement, or the call handing the name to the function that keeps it). */
  average: Span;
  /** The function the name is handed to, when the average is in it. */
  through?: string;
}

const cache = new WeakMap<Facts, OverwrittenBeta[]>();

export function overwrittenBetas(facts: Facts): OverwrittenBeta[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): OverwrittenBeta[] {
  const index = programIndex(facts);
  const out: OverwrittenBeta[] = [];
  for (const fn of index.functions) {
    if (!fn.nameSpan || !definedInFile(facts, fn)) continue;
    for (const [name, all] of fn.scope.bindings) {
      const own = all.filter((b) => b.scope === fn.scope);
      if (own.length < 3 || own.some((b) => b.kind !== 'assign' || b.op)) continue;
      const found = check(facts, fn, name, [...own].sort((a, b) => a.at - b.at));
      if (found) out.push(found);
    }
  }
  return out;
}

/** What a binding sets the name to: the value's key, with the item of an unpacked value. */
function sourceOf(b: Binding): string | undefined {
  if (b.unpacked) {
    const key = exprKey(b.unpacked.value);
    return key === undefined ? undefined : `${key}#${b.unpacked.position}`;
  }
  return b.value ? exprKey(b.value) : undefined;
}

function check(facts: Facts, fn: FunctionDef, name: string, own: Binding[]): OverwrittenBeta | undefined {
  let reads: number[] | undefined;
  for (let r = 2; r < own.length; r++) {
    const R = own[r];
    const src = sourceOf(R);
    if (src === undefined) continue;
    const readsSelf = (e: Expr | undefined): boolean => !!e && subExprs(e, true).some((x) => x.kind === 'name' && x.name === name);
    if (readsSelf(R.unpacked?.value ?? R.value)) continue;
    const first = own.findIndex((b) => sourceOf(b) === src);
    if (first < 0 || first >= r - 1) continue;
    // The value set between them, closest to R first.
    for (let d = r - 1; d > first; d--) {
      const D = own[d];
      if (sourceOf(D) === src || D.value?.kind === 'num' || exclusiveOf(D, R.at)) continue;
      reads ??= readsOf(fn, name);
      if (reads.some((at) => at > D.span.end && at < R.span.start)) break;
      const average = averageAfter(facts, fn, name, R.span);
      if (!average) return undefined;
      return { fn, name, lost: D, overwrite: R, average: average.span, ...(average.through ? { through: average.through } : {}) };
    }
  }
  return undefined;
}

/** Where the function reads the name (assignment targets are writes), nested functions included. */
function readsOf(fn: FunctionDef, name: string): number[] {
  const out: number[] = [];
  const targets = new Set<Expr>();
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'assign' && !s.op) for (const t of s.targets) for (const x of subExprs(t)) if (x.kind === 'name') targets.add(x);
      if (s.kind === 'for') for (const x of subExprs(s.target)) if (x.kind === 'name') targets.add(x);
      for (const root of stmtExprs(s)) for (const x of subExprs(root, true)) if (x.kind === 'name' && x.name === name && !targets.has(x)) out.push(x.span.start);
      if (s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') visit(s.body);
    }
  };
  visit(fn.body);
  return out;
}

/**
 * A moving average after `after` in the function whose own term is scaled by the name: `v.mul_(beta2)…`
 * (catalogue.ts `inPlaceUpdate`), `m.lerp_(g, 1 - beta1)`, `v *= beta2`, `v = beta2 * v + …` (an update
 * site whose own term's factor reads it, facts/updates.ts); or one in a function of the program the
 * name is handed to (`adam_step(p, grad, state, beta1, beta2)`, also through a local bound to it).
 */
function averageAfter(facts: Facts, fn: FunctionDef, name: string, after: Span, depth = 0): { span: Span; through?: string } | undefined {
  const reads = (e: Expr | undefined): boolean => !!e && subExprs(e).some((x) => x.kind === 'name' && x.name === name);
  if (depth === 0) {
    const site = facts.updates.find((s) => s.span.start >= after.end && within(s.span, fn.span) && reads(s.selfFactor));
    if (site) return { span: site.span };
  }
  if ((fn.scope.bindings.get(name) ?? []).some((b) => b.scope === fn.scope && b.kind !== 'param' && b.at >= after.end)) return undefined;
  const visit = (stmts: Stmt[]): { span: Span; through?: string } | undefined => {
    for (const s of stmts) {
      if (s.span.end <= after.end) continue;
      if (s.kind === 'for' || s.kind === 'block') {
        const inner = visit(s.body);
        if (inner) return inner;
        continue;
      }
      if (s.kind === 'assign' && s.op === '*' && s.targets.length === 1 && reads(s.value)) return { span: s.span };
      for (const root of stmtExprs(s)) {
        for (const x of subExprs(root)) {
          if (x.kind !== 'call') continue;
          const scaled = inPlaceUpdate(x, (e) => facts.analyzer.isModule(e), (e) => facts.analyzer.modulePath(e));
          if ((scaled?.op === '*' && reads(scaled.operand)) || reads(inPlaceBlendWeight(x))) return { span: s.span };
          const through = depth === 0 ? handsOn(facts, fn, x, name, s.span.start) : undefined;
          if (through) return { span: s.span, through };
        }
      }
    }
    return undefined;
  };
  return visit(fn.body);
}

/** Is the name handed to a function of the program (resolved, or through a local bound to one) whose parameter scales a moving average? */
function handsOn(facts: Facts, fn: FunctionDef, call: Expr & { kind: 'call' }, name: string, at: number): string | undefined {
  const position = call.args.findIndex((a) => a.kind === 'name' && a.name === name);
  const keyword = call.kwargs.find((k) => k.value.kind === 'name' && k.value.name === name)?.name;
  if (position < 0 && keyword === undefined) return undefined;
  if (position >= 0 && call.args.slice(0, position).some((a) => a.kind === 'other')) return undefined;
  const scope = programIndex(facts).scopeAt(at);
  const callees: FunctionDef[] = [];
  const target = resolveCall(facts.program, call, scope, at);
  if (target?.fn && !target.constructs) callees.push(target.fn);
  else if (call.callee.kind === 'name') {
    for (const b of fn.scope.bindings.get(call.callee.name) ?? []) {
      if (b.scope !== fn.scope || b.kind !== 'assign' || b.op || !b.value || (b.value.kind !== 'attr' && b.value.kind !== 'name')) continue;
      const d = resolveExpr(facts.program, b.value, b.scope, b.at);
      if (d?.kind === 'function') callees.push(d.fn);
    }
  }
  for (const callee of callees) {
    const params = target?.fn === callee && target.receiver ? explicitParams(callee) : callee.params;
    const param = keyword !== undefined ? params.find((p) => p.name === keyword) : params[position];
    if (!param || param.rest) continue;
    if (averageAfter(facts, callee, param.name, { start: callee.span.start, end: callee.span.start }, 1)) return callee.name;
  }
  return undefined;
}
