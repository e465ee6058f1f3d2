// A hand-written dropout layer whose backward leaves out the scale its forward applies (NB209).
//
// Inverted dropout's forward returns x·m/q (m the 0/1 mask, q the keep probability): its derivative
// is m/q, so the backward must return δ·m/q. A backward that returns δ·m alone gives every gradient
// through the layer q times the right one (half at p = 0.5), and the gradient no longer belongs to
// the loss the forward computed.
//
// Read by data flow in one class: a method stores a mask in a field of the instance (`self.mask = …`,
// a value that holds a random draw: catalogue.ts's uniform or Bernoulli draws) and returns a product
// of its own parameter, that field and a scale — a division by something that is not data (`x *
// self.mask / (1 - self.p)`) — while another method of the class returns its own parameter times the
// field and nothing else (`delta * self.mask`). Silent when both scale, when neither does (classic
// dropout, scaled at inference), when the mask is stored already scaled (`self.mask = (r < q) / q`,
// then `x * self.mask` and `delta * self.mask`), when the backward multiplies by anything more, and
// when it rebinds its parameter before the return (`delta = delta / (1 - self.p)`: scaled first),
// when another method already returns its parameter times the mask over the forward's scale (the
// class's scaled backward: an unscaled product elsewhere is kept values for a report), and for a
// method the forward calls on the instance (its helper; a dispatcher calling the backward counts not).
// The receiver is the IR's mark (`self`, `this`), not a name.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { bernoulliProbability, isUnitUniformDraw } from './catalogue';
import { someExpr } from './scope';
import { stmtExprs } from './loops';

export interface DropoutBackwardScale {
  /** The backward's return value, `delta * self.mask`. */
  backward: Expr;
  /** The forward's scaled return, `x * self.mask / (1 - self.p)`. */
  forward: Expr;
  /** The scale the forward divides by (`1 - self.p`). */
  scale: Expr;
  /** Where the mask is drawn and stored. */
  stored: Span;
  field: string;
}

const memo = new WeakMap<Facts, DropoutBackwardScale[]>();

export function dropoutBackwardScales(facts: Facts): DropoutBackwardScale[] {
  let found = memo.get(facts);
  if (found) return found;
  found = [];
  memo.set(facts, found);
  const visit = (stmts: readonly Stmt[], depth: number): void => {
    if (depth > 30) return;
    for (const s of stmts) {
      if (s.kind === 'class') {
        inClass(s, found!);
        visit(s.body, depth + 1);
      } else if (s.kind === 'function' || s.kind === 'block') visit(s.body, depth + 1);
    }
  };
  visit(facts.module.body, 0);
  return found;
}

type Fn = Stmt & { kind: 'function' };

/** A field of the instance: `self.mask`, `this.mask` (the receiver marked by the IR). */
function fieldOf(e: Expr): string | undefined {
  return e.kind === 'attr' && e.object.kind === 'name' && e.object.receiver ? e.name : undefined;
}

/** The factors of a product/quotient chain: `a * b / c` gives num [a, b], den [c]. Undefined for anything else at the top. */
function factors(e: Expr, depth = 0): { num: Expr[]; den: Expr[] } | undefined {
  if (depth > 12) return undefined;
  if (e.kind === 'binary' && e.op === '*') {
    const l = factors(e.left, depth + 1);
    const r = factors(e.right, depth + 1);
    return l && r ? { num: [...l.num, ...r.num], den: [...l.den, ...r.den] } : undefined;
  }
  if (e.kind === 'binary' && e.op === '/') {
    const l = factors(e.left, depth + 1);
    const r = factors(e.right, depth + 1);
    return l && r ? { num: [...l.num, ...r.den], den: [...l.den, ...r.num] } : undefined;
  }
  return { num: [e], den: [] };
}

/** The statements of a function, blocks (ifs) included, not nested functions or classes. */
function statements(stmts: readonly Stmt[], out: Stmt[] = [], depth = 0): Stmt[] {
  if (depth > 20) return out;
  for (const s of stmts) {
    out.push(s);
    if (s.kind === 'block' || s.kind === 'for') statements(s.body, out, depth + 1);
  }
  return out;
}

const isDraw = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'call' && (isUnitUniformDraw(x) || bernoulliProbability(x) !== undefined));

function inClass(cls: Stmt & { kind: 'class' }, out: DropoutBackwardScale[]): void {
  const methods = cls.body.filter((s): s is Fn => s.kind === 'function');
  if (methods.length < 2) return;
  // The method's own parameters, its receiver aside (`self`).
  const paramNames = (fn: Fn): Set<string> => new Set(fn.params.map((p) => p.name));
  const isParam = (x: Expr, params: Set<string>): boolean => x.kind === 'name' && !x.receiver && params.has(x.name);
  // Forwards: a method that stores a drawn mask in a field and returns param · field / scale.
  const forwards: { fn: Fn; field: string; ret: Expr; scale: Expr; stored: Span }[] = [];
  for (const fn of methods) {
    const body = statements(fn.body);
    const masks = new Map<string, Span>();
    for (const s of body) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
      const f = fieldOf(s.targets[0]);
      if (f !== undefined && isDraw(s.value)) masks.set(f, s.span);
    }
    if (masks.size === 0) continue;
    const params = paramNames(fn);
    for (const s of body) {
      if (s.kind !== 'return' || !s.value) continue;
      const fs = factors(s.value);
      if (!fs || fs.den.length !== 1 || fs.num.length !== 2) continue;
      const field = fs.num.map(fieldOf).find((f) => f !== undefined && masks.has(f));
      const data = fs.num.find((x) => isParam(x, params));
      const scale = fs.den[0];
      if (field === undefined || !data) continue;
      // The scale is not data: it reads neither the parameter nor the mask.
      if (someExpr(scale, (x) => isParam(x, params) || fieldOf(x) === field)) continue;
      forwards.push({ fn, field, ret: s.value, scale, stored: masks.get(field)! });
    }
  }
  for (const fw of forwards) {
    // Methods the forward calls on the instance (`self._kept(h)`): its helpers, not a backward. Only the
    // forward's calls: a dispatcher (`__call__` running `self.backward(grad)`) calls the backward too.
    const called = new Set<string>();
    for (const s of statements(fw.fn.body)) {
      for (const e of stmtExprs(s)) {
        someExpr(e, (x) => {
          if (x.kind === 'call' && x.callee.kind === 'attr' && x.callee.object.kind === 'name' && x.callee.object.receiver) called.add(x.callee.name);
          return false;
        });
      }
    }
    // A method besides the forward already returns its parameter times the mask over the same scale: the
    // class has its scaled backward, and an unscaled product elsewhere is something else (kept values for a report).
    const scaledBack = methods.some((fn) => fn !== fw.fn && returnsScaled(fn, fw.field, fw.scale));
    if (scaledBack) continue;
    for (const fn of methods) {
      if (fn === fw.fn || called.has(fn.name)) continue;
      const body = statements(fn.body);
      // The backward does not store the mask itself.
      if (body.some((s) => s.kind === 'assign' && s.targets.some((t) => fieldOf(t) === fw.field))) continue;
      const params = paramNames(fn);
      // A parameter the backward rebinds (`delta = delta / (1 - self.p)`, `grad /= keep`) is no longer the gradient it was handed.
      for (const s of body) {
        if (s.kind !== 'assign') continue;
        for (const t of s.targets) {
          someExpr(t, (x) => {
            if (x.kind === 'name') params.delete(x.name);
            return false;
          });
        }
      }
      for (const s of body) {
        if (s.kind !== 'return' || !s.value) continue;
        const fs = factors(s.value);
        if (!fs || fs.den.length !== 0 || fs.num.length !== 2) continue;
        if (!fs.num.some((x) => fieldOf(x) === fw.field) || !fs.num.some((x) => isParam(x, params))) continue;
        out.push({ backward: s.value, forward: fw.ret, scale: fw.scale, stored: fw.stored, field: fw.field });
      }
    }
  }
}

/** Does the method return its own parameter times the field over a scale written as the forward's (`grad * self.gate / (1 - self.p)`)? */
function returnsScaled(fn: Fn, field: string, scale: Expr): boolean {
  const params = new Set(fn.params.map((p) => p.name));
  const scaleKey = exprText(scale);
  for (const s of statements(fn.body)) {
    if (s.kind !== 'return' || !s.value) continue;
    const fs = factors(s.value);
    if (!fs || fs.den.length !== 1 || fs.num.length !== 2) continue;
    if (!fs.num.some((x) => fieldOf(x) === field) || !fs.num.some((x) => x.kind === 'name' && !x.receiver && params.has(x.name))) continue;
    if (scaleKey !== undefined && exprText(fs.den[0]) === scaleKey) return true;
  }
  return false;
}

/** A structural text of a scale (`1 - self.p`): names, fields, numbers and operators; undefined for anything else. */
function exprText(e: Expr, depth = 0): string | undefined {
  if (depth > 12) return undefined;
  if (e.kind === 'num') return String(e.value);
  if (e.kind === 'name') return e.name;
  if (e.kind === 'attr') {
    const o = exprText(e.object, depth + 1);
    return o === undefined ? undefined : `${o}.${e.name}`;
  }
  if (e.kind === 'binary') {
    const l = exprText(e.left, depth + 1);
    const r = exprText(e.right, depth + 1);
    return l === undefined || r === undefined ? undefined : `(${l} ${e.op} ${r})`;
  }
  return undefined;
}
