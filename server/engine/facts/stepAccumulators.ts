// A local that is the gradient a function steps by, whatever it is called: the function starts it
// (zeros, `[0, 0]`, `new Array(n).fill(0)`, a typed array, or what a call hands back, such as a
// backward pass's gradient), afterwards only adds to it (`g[j] += r * x[j]`, `g[j] += lam * w[j]`),
// never scales it, subtracts from it, adds its own old value to it or overwrites its entries (a momentum
// buffer `v[j] = mu * v[j] + g[j]`, a moving average `m += c * (g - m)`,
// Adam's moments and a value being stepped all do), and subtracts it, scaled, from another array in
// the same function (`a[j] -= lr * g[j]`, `w[i] -= rate * g[i]`). Plain scalar-loop code (JS above
// all) names such a local `g`, `grad` or `delta`; the data flow says what it is. Asked by `updates.ts`
// (`gradientRole`) after the name-free routes before it.
import type { Expr, Stmt } from '../ir';
import { forEachChild, someExpr } from './scope';
import { ownStatements } from './program';
import { ADDING_METHODS, zeroTypedArray, zeroValue } from './catalogue';
import { numberOf } from './analysis';
import { baseExpr, exprKey } from './keys';

export interface StepAccumulators {
  /** Locals the function starts, only adds to and steps another array by. */
  started: ReadonlySet<string>;
  /** Names the function never assigns but only adds to and steps another array by: a parameter handed in (`dW += l1 * pen; W -= lr * dW`). */
  handed: ReadonlySet<string>;
}

const found = new WeakMap<Stmt[], StepAccumulators>();

/** The names of the function whose statements are `body` that it steps another array by (see above). */
export function stepAccumulators(body: Stmt[]): StepAccumulators {
  let names = found.get(body);
  if (names) return names;
  names = decide(body);
  found.set(body, names);
  return names;
}

/** The root name of `g`, `g[j]`, `g[j][k]`; undefined for attributes and calls. */
function rootName(e: Expr): string | undefined {
  while (e.kind === 'index') e = e.object;
  return e.kind === 'name' ? e.name : undefined;
}

function mentions(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'name' && x.name === name);
}

/** Zeros: `np.zeros_like(w)`, `new Array(n).fill(0)`, `new Float64Array(n)`, `[0, 0]`. */
function zeroStart(v: Expr): boolean {
  return zeroValue(v) === 'array' || zeroTypedArray(v) || (v.kind === 'seq' && v.items.length > 0 && v.items.every((i) => numberOf(i) === 0));
}

function startValue(v: Expr): boolean {
  return zeroStart(v) || v.kind === 'call';
}

function decide(body: Stmt[]): StepAccumulators {
  const out = new Set<string>();
  const handed = new Set<string>();
  const stmts = ownStatements(body);
  if (stmts.length > 2000) return { started: out, handed };
  /** Names added to (`g[j] += …`, `g += …`). */
  const added = new Set<string>();
  /** Candidates: started by a plain assignment of the whole name, by what it was started with. */
  const starts = new Map<string, Expr[]>();
  const spoiled = new Set<string>();
  for (const s of stmts) {
    if (s.kind === 'for') {
      const t = s.target;
      if (t.kind === 'name') spoiled.add(t.name);
      else forEachChild(t, (c) => void (c.kind === 'name' && spoiled.add(c.name)));
      continue;
    }
    if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr') {
      // `g.fill(0)`, `g.mul_(c)`, `g.sub_(x)`: changed other than by adding.
      const root = rootName(s.expr.callee.object);
      if (root !== undefined && !ADDING_METHODS.has(s.expr.callee.name)) spoiled.add(root);
      continue;
    }
    if (s.kind !== 'assign') continue;
    if (s.targets.length !== 1) {
      for (const t of s.targets) {
        const r = rootName(t);
        if (r !== undefined) spoiled.add(r);
      }
      continue;
    }
    const t = s.targets[0];
    if (t.kind === 'seq' || t.kind === 'object') {
      forEachChild(t, (c) => void (c.kind === 'name' && spoiled.add(c.name)));
      continue;
    }
    const root = rootName(t);
    if (root === undefined) continue;
    if (s.op === '+') {
      // `m += (1 - b1) * (g - m)`: a moving average written as an increment reads its own old value (state).
      if (mentions(s.value, root)) spoiled.add(root);
      else added.add(root); // only added to
      continue;
    }
    if (s.op) {
      spoiled.add(root);
      continue;
    }
    if (t.kind !== 'name' || !startValue(s.value)) {
      spoiled.add(root);
      continue;
    }
    const list = starts.get(root) ?? [];
    list.push(s.value);
    starts.set(root, list);
  }
  if (starts.size === 0 && added.size === 0) return { started: out, handed };
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const target = rootName(s.targets[0]) ?? exprKey(baseExpr(s.targets[0]));
    if (target === undefined) continue;
    // `a[j] -= lr * g[j]`; `w = w - lr * g`.
    let stepped: Expr | undefined;
    if (s.op === '-') stepped = s.value;
    else if (!s.op && s.value.kind === 'binary' && s.value.op === '-' && rootName(s.value.left) === target && s.targets[0].kind === s.value.left.kind) stepped = s.value.right;
    if (!stepped) continue;
    const byEntry = s.targets[0].kind === 'index';
    for (const [name, values] of starts) {
      if (name === target || spoiled.has(name) || out.has(name)) continue;
      // A start that reads the stepped array (other than for its size) is a copy of it, not a gradient.
      if (values.some((v) => !zeroStart(v) && mentions(v, target))) continue;
      if (scaledUse(stepped, name, byEntry)) out.add(name);
    }
    for (const name of added) {
      if (name === target || starts.has(name) || spoiled.has(name) || handed.has(name)) continue;
      if (scaledUse(stepped, name, byEntry)) handed.add(name);
    }
  }
  return { started: out, handed };
}

/**
 * Does the step read `name` as a term or a factor of one (`lr * g[j]`, `g[j]`, `rate * (g[i] + c)`,
 * `lr * g[j] / n`), not inside a call's argument? In a product the name is the one array scaled: besides
 * it the numerator holds numbers and at most one plain scalar read (`lr`, `this.rate`). A scalar that
 * multiplies another array (`lr / sigma * cost * eps`, `lr * (up - down) * dir[j] / (2 * h)`: evolution
 * strategies, finite differences) is a loss weighting a direction, not the step's gradient. An entry
 * stepped (`w[j] -= …`) is stepped by an entry of the gradient (`acc[j]`), never by a whole scalar; and
 * the gradient is subtracted: `c[j] -= rate * (c[j] - pull[j])` moves c toward pull, a target.
 */
function scaledUse(e: Expr, name: string, byEntry: boolean, positive = true): boolean {
  if (rootName(e) === name) return positive && (!byEntry || e.kind === 'index');
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) return scaledUse(e.left, name, byEntry, positive) || scaledUse(e.right, name, byEntry, e.op === '+' ? positive : !positive);
  if (e.kind === 'unary') return scaledUse(e.arg, name, byEntry, e.op === '-' ? !positive : positive);
  if (e.kind !== 'binary' || (e.op !== '*' && e.op !== '/')) return false;
  const numerator: Expr[] = [];
  let sign = positive;
  const collect = (x: Expr): void => {
    if (x.kind === 'binary' && x.op === '*') {
      collect(x.left);
      collect(x.right);
    } else if (x.kind === 'binary' && x.op === '/') collect(x.left);
    else if (x.kind === 'unary') {
      if (x.op === '-') sign = !sign;
      collect(x.arg);
    } else {
      if ((numberOf(x) ?? 0) < 0) sign = !sign;
      numerator.push(x);
    }
  };
  collect(e);
  const mine = numerator.filter((f) => someExpr(f, (x) => rootName(x) === name));
  if (mine.length !== 1 || !scaledUse(mine[0], name, byEntry, sign)) return false;
  const others = numerator.filter((f) => f !== mine[0] && numberOf(f) === undefined);
  return others.length <= 1 && others.every((f) => f.kind === 'name' || f.kind === 'attr');
}
