// A hand-written step that sets the parameter to the step instead of moving it by the step
// (`weight.data = lr * m_hat / (np.sqrt(v_hat) + eps)` where `-=` was meant): the old weight is
// dropped, and every call replaces the weights with a value of the size of the learning rate.
// Read off the normal form (optimizerSteps.ts, `evaluateWithOverwrites`): a persistent place
// written once, unconditionally, with a value that does not read its old value, reads a moving
// average the same function updates (a moment), and is a multiple of one scalar in every term, the
// learning rate. It is reported only when another function of the file moves the same place by a
// step (`weight.data += vel`, `parameter.value -= lr * grad`): the place is a weight being trained.
// A weight legitimately set from a value (a Lookahead or EMA copy, a reset, a projection or a
// proximal step of the old weight, a closed-form solve) reads no moment scaled by a rate, or reads
// the old weight.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef } from './scope';
import { exprKey } from './keys';
import { programIndex, definedInFile } from './program';
import { statementsOf } from './adaptiveDecay';
import { stmtExprs, subExprs } from './loops';
import { isLearningRateSymbol } from './roles';
import { evaluateWithOverwrites, linearSymbol, splitSelf } from './optimizerSteps';
import { PolyOverflow, mentions, numeric, type Poly } from '../../math/poly';

export interface AssignedStep {
  /** The statement that sets the place. */
  span: Span;
  /** The place as written (`weight.data`). */
  target: Span;
  /** The value as written. */
  value: Span;
  /** The value's terms are all negative: the step already carries its sign (`w = -lr * m_hat / …`). */
  negative: boolean;
  /** A write of the same place in another function that moves it by a step. */
  sibling: { span: Span; fn: string };
}

const cache = new WeakMap<Facts, AssignedStep[]>();

export function assignedSteps(facts: Facts): AssignedStep[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  const own = index.functions.filter((fn) => definedInFile(facts, fn) && fn.body.length > 0);
  // Places moved by a step (`P += X`, `P -= X`, `P = P ± X`), by key, with the function that does it.
  const moved = new Map<string, { stmt: Stmt; fn: FunctionDef }[]>();
  for (const fn of own)
    for (const s of statementsOf(fn.body)) {
      const key = movedPlace(s);
      if (key === undefined) continue;
      const list = moved.get(key) ?? [];
      list.push({ stmt: s, fn });
      moved.set(key, list);
    }
  if (moved.size === 0) {
    cache.set(facts, found);
    return found;
  }
  for (const fn of own) {
    // Plain writes of a place that another function moves by a step, with a value that does not name it.
    const candidates: { stmt: Stmt & { kind: 'assign' }; key: string; sibling: { stmt: Stmt; fn: FunctionDef } }[] = [];
    for (const s of statementsOf(fn.body)) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
      const t = s.targets[0];
      if (t.kind !== 'attr' && t.kind !== 'index') continue;
      const key = exprKey(t);
      if (key === undefined) continue;
      if (subExprs(s.value).some((x) => exprKey(x) === key)) continue;
      // A place the function reads again after setting it is a buffer it applies (`upd = lr * m_hat / …; w -= upd`), not the weight.
      if (readAfter(fn, s, key)) continue;
      const sibling = moved.get(key)?.find((m) => m.fn !== fn && sameObject(key, fn, m.fn));
      if (sibling) candidates.push({ stmt: s, key, sibling });
    }
    if (candidates.length === 0) continue;
    let evaluated: ReturnType<typeof evaluateWithOverwrites>;
    try {
      evaluated = evaluateWithOverwrites(facts, fn);
    } catch (e) {
      if (!(e instanceof PolyOverflow)) throw e;
      continue;
    }
    if (!evaluated) continue;
    // The moving averages the function updates: T ← β·T + rest, β one symbol or a number in (0, 1).
    const moments = [...evaluated.equations.values()].filter((e) => {
      if (e.branched) return false;
      const split = splitSelf(e.value, e.key);
      if (!split || split.rest.length === 0) return false;
      const n = numeric(split.self);
      return n !== undefined ? n > 0 && n < 1 : linearSymbol(split.self) !== undefined;
    });
    if (moments.length === 0) continue;
    const betas = new Set(moments.map((m) => linearSymbol(splitSelf(m.value, m.key)!.self)).filter((b): b is string => b !== undefined));
    for (const c of candidates) {
      const writes = [...evaluated.overwrites.values()].find((list) => list.some((o) => within(o.statement, c.stmt.span)));
      if (!writes || writes.length !== 1 || writes[0].conditional) continue;
      const w = writes[0];
      if (evaluated.equations.has(keyOfWrite(evaluated, w.target) ?? '')) continue;
      if (!moments.some((m) => mentions(w.value, m.key))) continue;
      const rate = commonRate(w.value, moments.map((m) => m.key), betas, c.sibling.fn);
      if (rate === undefined) continue;
      found.push({
        span: w.span,
        target: c.stmt.targets[0].span,
        value: c.stmt.value.span,
        negative: w.value.every((m) => m.c < 0),
        sibling: { span: c.sibling.stmt.span, fn: c.sibling.fn.cls ? `${c.sibling.fn.cls.name}.${c.sibling.fn.name}` : c.sibling.fn.name },
      });
    }
  }
  cache.set(facts, found);
  return found;
}

/** The key an overwrite was noted under: the one whose list holds it. */
function keyOfWrite(evaluated: NonNullable<ReturnType<typeof evaluateWithOverwrites>>, target: Expr): string | undefined {
  for (const [key, list] of evaluated.overwrites) if (list.some((o) => o.target === target)) return key;
  return undefined;
}

/** `P += X`, `P -= X`, `P = P ± X` for a place P (an attribute or an entry): P's key. */
function movedPlace(s: Stmt): string | undefined {
  if (s.kind !== 'assign' || s.targets.length !== 1) return undefined;
  const t = s.targets[0];
  if (t.kind !== 'attr' && t.kind !== 'index') return undefined;
  const key = exprKey(t);
  if (key === undefined) return undefined;
  if (s.op) return s.op === '+' || s.op === '-' ? key : undefined;
  const v = s.value;
  if (v.kind !== 'binary' || (v.op !== '+' && v.op !== '-')) return undefined;
  return exprKey(v.left) === key || (v.op === '+' && exprKey(v.right) === key) ? key : undefined;
}

/**
 * Two functions that reach one object under the key's root: the argument both take (`parameter` of
 * two optimizers' `step(self, parameter)`), or the instance of methods of one class.
 */
function sameObject(key: string, a: FunctionDef, b: FunctionDef): boolean {
  const root = /^[A-Za-z_$][\w$]*/.exec(key)?.[0];
  if (root === undefined || key === root) return false;
  if (root === 'self' || root === 'this') return a.isMethod && b.isMethod && a.cls !== undefined && a.cls === b.cls;
  const takes = (fn: FunctionDef): boolean => fn.params.some((p, i) => p.name === root && !(fn.isMethod && i === 0));
  return takes(a) && takes(b);
}

/**
 * The scalar every term of the value is multiplied by, the learning rate: not a moment, not a β, and
 * named as one or read by the step that moves the same place in the other function.
 */
function commonRate(value: Poly, moments: string[], betas: Set<string>, sibling: FunctionDef): string | undefined {
  if (value.length === 0) return undefined;
  const keysOf = (m: Poly[number]): Set<string> => new Set(m.fs.flatMap((f) => (f.atom.k === 'sym' && f.n > 0 ? [f.atom.key] : [])));
  let common = keysOf(value[0]);
  for (const m of value.slice(1)) {
    const ks = keysOf(m);
    common = new Set([...common].filter((k) => ks.has(k)));
  }
  let siblingReads: Set<string> | undefined;
  for (const k of common) {
    if (moments.includes(k) || betas.has(k)) continue;
    if (isLearningRateSymbol(k)) return k;
    siblingReads ??= new Set(statementsOf(sibling.body).flatMap((s) => stmtExprs(s)).flatMap((e) => subExprs(e)).flatMap((x) => { const key = exprKey(x); return key === undefined ? [] : [key]; }));
    if (siblingReads.has(k)) return k;
  }
  return undefined;
}

/** A statement after `write` in the function reads `key` (a write of the place with `=` is not a read). */
function readAfter(fn: FunctionDef, write: Stmt, key: string): boolean {
  for (const s of statementsOf(fn.body)) {
    if (s.span.start < write.span.end) continue;
    const roots = s.kind === 'assign' && !s.op ? [s.value, ...s.targets.filter((t) => exprKey(t) !== key)] : stmtExprs(s);
    if (roots.some((r) => subExprs(r).some((x) => exprKey(x) === key))) return true;
  }
  return false;
}

function within(inner: Span, outer: Span): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}
