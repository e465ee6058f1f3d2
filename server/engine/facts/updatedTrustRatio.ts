// A LAMB/LARS trust ratio taken over the updated weights instead of the update (NB404): the ratio
// ‖p‖ / ‖u‖ is the layer-wise learning rate that scales the update u, but the code divides ‖p‖ by the
// norm of a copy of the parameter with the step already added to it:
//
//     proposal = p.clone(); proposal.addcdiv_(m, denom, value=-lr)     # p − η·u, not u
//     trust = p.norm() / proposal.norm()                                # ≈ 1
//     p.addcdiv_(m, denom, value=-lr * trust)
//
// For a small step ‖p − η·u‖ ≈ ‖p‖, so the ratio is about 1 on every layer and the layer-wise
// adaptation never happens. Read in the IR of each optimizer step's function, in order, by data flow:
// a local that is a copy of a tensor (`clone`, `copy`, `np.copy`) then moved by an in-place add
// (`add_`, `sub_`, `addcdiv_`, `addcmul_`, `+=`, `-=`) of something that reads neither the tensor nor
// the copy, or set out of place to that tensor plus or minus such a term; a division whose numerator
// is a norm of the tensor (`p.norm()`, `torch.norm(p)`, `p.pow(2).sum().sqrt()`, clamped or not) and
// whose denominator is a norm of that copy (plus a constant at most); and the ratio reaching, through
// locals, a write that adds a step to the same tensor (an in-place add or `p -= …`), never one that
// scales the whole new weight (a norm-preserving projection `p.copy_(new * ‖p‖ / ‖new‖)`). A ratio only
// logged or stored stays silent, and so do LAMB over ‖u‖ and LARS over ‖g‖ + λ‖p‖.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { CAST_METHODS, IN_PLACE_TERM_ADDS, NORM_FUNCTIONS, NORM_KEEPING_WRAPPERS, NORM_MENTION, ROOT_FUNCTIONS, SUM_FUNCTIONS, VALUE_ATTRIBUTES, copiedArray, squareBase } from './catalogue';
import { calleeName } from './direction';
import { overlapsAny } from './spans';
import { optimizerSteps } from './optimizerSteps';
import { programIndex, spanKey } from './program';
import type { FunctionDef } from './scope';
import { statementsOf } from './adaptiveDecay';
import { someExpr } from './scope';
import { subExprs } from './loops';

export interface UpdatedTrustRatio {
  /** The division ‖p‖ / ‖copy‖. */
  span: Span;
  /** The parameter and the copy, as written. */
  param: string;
  copy: string;
  /** Where the copy is made, and where the step is added to it. */
  copied: Span;
  moved: Span;
  /** The write of the parameter that the ratio scales. */
  update: Span;
  /** As written, for the hover: the numerator's other factor (`self.coeff`), the denominator's constant (`1e-9`), the local the ratio is given to. */
  coef?: string;
  eps?: string;
  ratio?: string;
}

const cache = new WeakMap<Facts, UpdatedTrustRatio[]>();

export function updatedTrustRatios(facts: Facts): UpdatedTrustRatio[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  // The functions that step something: optimizer steps, and the update sites' functions (NumPy loops).
  const fns = new Map<FunctionDef, Span[]>();
  for (const step of optimizerSteps(facts)) {
    if (step.params.length === 0) continue;
    let spans = fns.get(step.fn);
    if (!spans) fns.set(step.fn, (spans = []));
    for (const p of step.params) spans.push(...p.eq.spans);
  }
  if (facts.updates.length > 0) {
    const index = programIndex(facts);
    for (const u of facts.updates) {
      const fn = index.enclosingFunction(u.scope);
      if (!fn) continue;
      let spans = fns.get(fn);
      if (!spans) fns.set(fn, (spans = []));
      spans.push(u.span);
    }
  }
  const seen = new Set<string>();
  for (const [fn, updateSpans] of fns) {
    // A cheap gate: the function takes a norm and copies a tensor or subtracts.
    const text = facts.source(fn.span);
    if (!NORM_MENTION.test(text)) continue;
    for (const r of inFunction(facts, statementsOf(fn.body), updateSpans)) {
      const key = spanKey(r.span);
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(r);
    }
  }
  cache.set(facts, found);
  return found;
}

interface Copy {
  of: string;
  name: string;
  /** The tensor copied, as written. */
  source: Expr;
  copied: Span;
  moved?: Span;
}

function inFunction(facts: Facts, stmts: readonly Stmt[], updateSpans: Span[]): UpdatedTrustRatio[] {
  // Each local's tensor (`p_fp32 = p.data.float()` is p) and each copy, in the order of the statements.
  const alias = new Map<string, string>();
  const copies = new Map<string, Copy>();
  const norms = new Map<string, NormOf>();
  const out: UpdatedTrustRatio[] = [];
  const baseOf = (e: Expr): string | undefined => tensorKey(e, alias);
  const isModule = (x: Expr): boolean => facts.analyzer.isModule(x);
  const isUpdate = overlapsAny(updateSpans);
  const readsAny = (e: Expr, names: Set<string>): boolean => someExpr(e, (x) => x.kind === 'name' && names.has(x.name));
  // The names whose tensor is `of` (itself, its aliases, its copies).
  const namesOf = (of: string): Set<string> => {
    const s = new Set<string>([of.split(/[.[]/)[0]]);
    for (const [n, b] of alias) if (b === of) s.add(n);
    for (const [n, c] of copies) if (c.of === of) s.add(n);
    return s;
  };
  const ratios: { expr: Expr; stmt: Stmt; copy: Copy; moved: Span; param: string; coef?: string; eps?: string; ratio?: string }[] = [];
  for (const s of stmts) {
    // Ratios first: the statement's own division reads the values before its write.
    for (const root of s.kind === 'assign' ? [s.value] : s.kind === 'expr' ? [s.expr] : s.kind === 'return' && s.value ? [s.value] : []) {
      for (const x of subExprs(root)) {
        if (x.kind !== 'binary' || x.op !== '/') continue;
        const num = normOf(scaledNorm(x.left, norms, alias, copies), norms, alias, copies);
        const den = denominatorNorm(x.right, norms, alias, copies);
        if (!num || !den || num.copy || !den.copy || !den.moved || num.of !== den.copy.of) continue;
        ratios.push({ expr: x, stmt: s, copy: den.copy, moved: den.moved, param: num.of, ...ratioParts(facts, x, s, norms, alias, copies) });
      }
    }
    if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && IN_PLACE_TERM_ADDS.has(s.expr.callee.name)) {
      // `proposal.addcdiv_(m, denom, value=-lr)`: the copy moves by a term that reads neither it nor its tensor.
      const recv = s.expr.callee.object;
      const copy = recv.kind === 'name' ? copies.get(recv.name) : undefined;
      if (copy) {
        const names = namesOf(copy.of);
        const args = [...s.expr.args, ...s.expr.kwargs.map((k) => k.value)];
        if (!args.some((a) => readsAny(a, names))) copy.moved ??= s.span;
        else copies.delete(copy.name);
      }
      continue;
    }
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind !== 'name') continue;
    const name = t.name;
    if (s.op) {
      const copy = copies.get(name);
      if (copy && (s.op === '+' || s.op === '-') && !readsAny(s.value, namesOf(copy.of))) copy.moved ??= s.span;
      else {
        copies.delete(name);
        norms.delete(name);
      }
      continue;
    }
    // A plain assignment rebinds the name.
    alias.delete(name);
    copies.delete(name);
    norms.delete(name);
    const v = s.value;
    const copied = copySource(v, isModule);
    if (copied) {
      const of = baseOf(copied);
      if (of !== undefined) copies.set(name, { of, name, source: copied, copied: s.span });
      continue;
    }
    if (v.kind === 'binary' && (v.op === '+' || v.op === '-')) {
      // `new_p = p - lr * u`: the tensor plus a term that does not read it.
      const of = v.left.kind === 'name' || v.left.kind === 'attr' || v.left.kind === 'index' ? baseOf(v.left) : undefined;
      if (of !== undefined && !readsAny(v.right, namesOf(of)) && !someExpr(v.right, (x) => baseOfRead(x, alias) === of)) {
        copies.set(name, { of, name, source: v.left, copied: s.span, moved: s.span });
        continue;
      }
    }
    const n = normOf(v, norms, alias, copies);
    if (n) {
      norms.set(name, n);
      continue;
    }
    const b = v.kind === 'name' || v.kind === 'attr' || v.kind === 'index' || v.kind === 'call' ? baseOf(v) : undefined;
    if (b !== undefined && b !== name) alias.set(name, b);
  }
  if (ratios.length === 0) return out;
  // The ratio reaches a write that adds a step to its tensor: through the locals given a value that reads it.
  for (const r of ratios) {
    const carriers = new Set<string>();
    const updates = stmts.filter((s) => s.span.start >= r.stmt.span.start);
    if (r.stmt.kind === 'assign' && r.stmt.targets.length === 1 && r.stmt.targets[0].kind === 'name') carriers.add(r.stmt.targets[0].name);
    let update: Stmt | undefined;
    for (const s of updates) {
      const holdsRatio = (e: Expr): boolean => someExpr(e, (x) => x === r.expr || (x.kind === 'name' && carriers.has(x.name)));
      const step = addedStep(s, alias);
      if (step && step.of === r.param && step.terms.some(holdsRatio) && isUpdate(s.span)) {
        update = s;
        break;
      }
      if (s !== r.stmt && s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && holdsRatio(s.value)) carriers.add(s.targets[0].name);
    }
    if (!update) continue;
    const parts = { ...(r.coef !== undefined ? { coef: r.coef } : {}), ...(r.eps !== undefined ? { eps: r.eps } : {}), ...(r.ratio !== undefined ? { ratio: r.ratio } : {}) };
    out.push({ span: r.expr.span, param: facts.source(r.copy.source.span), copy: r.copy.name, copied: r.copy.copied, moved: r.moved, update: update.span, ...parts });
  }
  return out;
}

/** The pieces of a ratio c·‖p‖ / (‖copy‖ + ε) besides the norms, as written (`updatedTrustRatioForms`). */
function ratioParts(facts: Facts, x: Expr & { kind: 'binary' }, s: Stmt, norms: Map<string, NormOf>, alias: Map<string, string>, copies: Map<string, Copy>): { coef?: string; eps?: string; ratio?: string } {
  const text = (e: Expr): string => facts.source(e.span).replace(/\s+/g, ' ');
  const other = (e: Expr, isNorm: (y: Expr) => boolean): string | undefined => {
    if (e.kind !== 'binary') return undefined;
    if (isNorm(e.left) && !isNorm(e.right)) return text(e.right);
    if (isNorm(e.right) && !isNorm(e.left)) return text(e.left);
    return undefined;
  };
  const isNorm = (y: Expr): boolean => normOf(y, norms, alias, copies) !== undefined;
  const coef = x.left.kind === 'binary' && x.left.op === '*' ? other(x.left, isNorm) : undefined;
  const eps = x.right.kind === 'binary' && x.right.op === '+' ? other(x.right, isNorm) : undefined;
  const ratio = s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && s.value === x ? s.targets[0].name : undefined;
  return { ...(coef !== undefined ? { coef } : {}), ...(eps !== undefined ? { eps } : {}), ...(ratio !== undefined ? { ratio } : {}) };
}

interface NormOf {
  of: string;
  copy?: Copy;
  /** The copy's move before the norm was taken. */
  moved?: Span;
}

/** The norm factor of a scaled norm, `eta * w_norm` (the other factor not a norm), else the expression. */
function scaledNorm(e: Expr, norms: Map<string, NormOf>, alias: Map<string, string>, copies: Map<string, Copy>): Expr {
  if (e.kind !== 'binary' || e.op !== '*') return e;
  const l = normOf(e.left, norms, alias, copies);
  const r = normOf(e.right, norms, alias, copies);
  return l && !r ? e.left : r && !l ? e.right : e;
}

/** The norm of a denominator: a norm, or a norm plus ε (`u_norm + eps`, `eps + u_norm`) whose other side is no norm. */
function denominatorNorm(e: Expr, norms: Map<string, NormOf>, alias: Map<string, string>, copies: Map<string, Copy>): NormOf | undefined {
  const direct = normOf(e, norms, alias, copies);
  if (direct || e.kind !== 'binary' || e.op !== '+') return direct;
  const l = normOf(e.left, norms, alias, copies);
  const r = normOf(e.right, norms, alias, copies);
  return l && !r ? l : r && !l ? r : undefined;
}

/** What a norm expression measures: a norm local, `x.norm()`, `torch.norm(x)`, `x.pow(2).sum().sqrt()`, through clamps. */
function normOf(e: Expr, norms: Map<string, NormOf>, alias: Map<string, string>, copies: Map<string, Copy>): NormOf | undefined {
  for (let depth = 0; depth < 6; depth++) {
    if (e.kind === 'name') return norms.get(e.name);
    if (e.kind !== 'call') return undefined;
    const c = e.callee;
    const name = c.kind === 'attr' ? c.name : c.kind === 'name' ? c.name : undefined;
    if (name === undefined) return undefined;
    if (NORM_KEEPING_WRAPPERS.has(name)) {
      // `w.norm().clamp(0, 10)` (method) or `float(w.norm())` (function).
      e = c.kind === 'attr' && c.object.kind === 'call' ? c.object : e.args[0] ?? e;
      if (e.kind !== 'call' && e.kind !== 'name') return undefined;
      continue;
    }
    let measured: Expr | undefined;
    if (NORM_FUNCTIONS.has(name)) measured = tensorOperand(e);
    else if (ROOT_FUNCTIONS.has(name)) {
      // √Σx²: `x.pow(2).sum().sqrt()`, `torch.sqrt(torch.sum(x ** 2))`.
      const inner = tensorOperand(e);
      const summed = inner && inner.kind === 'call' && SUM_FUNCTIONS.has(calleeName(inner) ?? '') ? tensorOperand(inner) : undefined;
      measured = summed && squared(summed);
    }
    if (!measured) return undefined;
    const copy = measured.kind === 'name' ? copies.get(measured.name) : undefined;
    if (copy) return { of: copy.of, copy, ...(copy.moved ? { moved: copy.moved } : {}) };
    const of = tensorKey(measured, alias);
    return of === undefined ? undefined : { of };
  }
  return undefined;
}

/** The tensor a reduction or norm call reads: its first argument (`torch.norm(x)`), else its receiver (`x.norm(2)`). */
function tensorOperand(e: Expr & { kind: 'call' }): Expr | undefined {
  const first = e.args[0];
  if (first && first.kind !== 'num' && first.kind !== 'str') return first;
  return e.callee.kind === 'attr' ? e.callee.object : undefined;
}

/** x of `x * x`, or of a square written as one (catalogue.ts `squareBase`: `x ** 2`, `x.pow(2)`, `torch.square(x)`, `x.square()`). */
function squared(e: Expr): Expr | undefined {
  if (e.kind === 'binary' && e.op === '*' && exprKey(e.left) !== undefined && exprKey(e.left) === exprKey(e.right)) return e.left;
  return squareBase(e);
}

/** X of a copy: `X.clone()`, `X.copy()`, `np.copy(X)`, `torch.clone(X)`, `X.detach().clone()`, `X.clone().detach()`, `copy.deepcopy(X)`. */
function copySource(e: Expr, isModule: (x: Expr) => boolean): Expr | undefined {
  if (e.kind !== 'call') return undefined;
  const name = calleeName(e);
  if (e.callee.kind === 'attr' && (name === 'detach' || CAST_METHODS.has(name ?? '')) && e.callee.object.kind === 'call') return copySource(e.callee.object, isModule);
  const viaModule = copiedArray(e, isModule);
  if (viaModule) return viaModule;
  if ((name === 'clone' || name === 'deepcopy') && e.args.length === 1) return e.args[0];
  return undefined;
}

/** The tensor an expression names: `.data` and casts stripped (`p.data.float()` is p), through local aliases. */
function tensorKey(e: Expr, alias: Map<string, string>): string | undefined {
  for (let depth = 0; depth < 8; depth++) {
    if (e.kind === 'attr' && VALUE_ATTRIBUTES.has(e.name)) {
      e = e.object;
      continue;
    }
    if (e.kind === 'call' && e.callee.kind === 'attr' && (CAST_METHODS.has(e.callee.name) || e.callee.name === 'detach') && e.args.every((a) => a.kind !== 'call')) {
      e = e.callee.object;
      continue;
    }
    break;
  }
  if (e.kind === 'name') return alias.get(e.name) ?? e.name;
  if (e.kind !== 'attr' && e.kind !== 'index') return undefined;
  return exprKey(e);
}

/** A read of a tensor inside an expression, as its key (for "does not read the tensor"). */
function baseOfRead(e: Expr, alias: Map<string, string>): string | undefined {
  return e.kind === 'name' || e.kind === 'attr' || e.kind === 'index' ? tensorKey(e, alias) : undefined;
}

/** A write that adds a step to a tensor: `p.add_(u, alpha=-lr * r)`, `p -= lr * r * u`, `p = p - lr * r * u`; the tensor and the added terms. */
function addedStep(s: Stmt, alias: Map<string, string>): { of: string; terms: Expr[] } | undefined {
  if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && IN_PLACE_TERM_ADDS.has(s.expr.callee.name)) {
    const of = tensorKey(s.expr.callee.object, alias);
    return of === undefined ? undefined : { of, terms: [...s.expr.args, ...s.expr.kwargs.map((k) => k.value)] };
  }
  if (s.kind !== 'assign' || s.targets.length !== 1) return undefined;
  const of = tensorKey(s.targets[0], alias);
  if (of === undefined) return undefined;
  if (s.op === '+' || s.op === '-') return { of, terms: [s.value] };
  if (!s.op && s.value.kind === 'binary' && (s.value.op === '+' || s.value.op === '-') && tensorKey(s.value.left, alias) === of) return { of, terms: [s.value.right] };
  return undefined;
}
