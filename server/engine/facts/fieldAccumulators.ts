// A field of the program's objects that is a step accumulator, whatever it is called: every write of
// the field (on any object, `u.acc = np.zeros(...)`, `self.layers[-1].acc += dw`) either starts it at
// zeros or adds to it (`+=`), and its value is read into the step of another field
// (`u.w = u.w + eta * u.acc`, or through a local: `dw = lr * layer.acc + …; layer.w = layer.w + dw`).
// A course-style delta rule keeps its per-epoch sum of −∇ (`current_delta_weight`, `sumw`) in such a
// field: adding the sample's delta to it is not a step of a weight (NB102 judges the step it feeds).
// A weight started at zeros and stepped with `+=` is read by the forward pass: a matrix product's operand
// (`X @ self.w`, `np.dot(x, u.w)`), even when a moving average's step reads it too
// (`self.w_avg = 0.9 * self.w_avg + 0.1 * self.w`); an accumulator never is. Module-wide, by field name, once per module body.
import type { Expr, Stmt } from '../ir';
import { ARRAY_HOLDERS, MATRIX_PRODUCT_FUNCTIONS, MATRIX_PRODUCT_METHODS, zeroValue } from './catalogue';
import { someExpr } from './scope';
import { numberOf } from './analysis';
import { walkAll } from './program';

const found = new WeakMap<Stmt[], ReadonlySet<string>>();

/** The names of the fields of the module `body` that are step accumulators (see above). */
export function fieldAccumulators(body: Stmt[]): ReadonlySet<string> {
  let names = found.get(body);
  if (!names) found.set(body, (names = decide(body)));
  return names;
}

/** The field an assignment target writes: `u.acc` and `u.acc[i]` write `acc`. */
function writtenField(e: Expr): string | undefined {
  while (e.kind === 'index') e = e.object;
  return e.kind === 'attr' ? e.name : undefined;
}

/** An array's zero start: `np.zeros(s)`, `np.matrix(np.zeros(s))`, `np.zeros_like(w)` (a scalar 0 starts a counter or a total). */
function zeroStart(e: Expr): boolean {
  if (zeroValue(e) === 'array') return true;
  if (e.kind !== 'call') return false;
  const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
  return fn !== undefined && ARRAY_HOLDERS.has(fn) && e.args.length === 1 && zeroStart(e.args[0]);
}

function readsField(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'attr' && x.name === name);
}

function readsName(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'name' && x.name === name);
}

interface Assign {
  stmt: Stmt & { kind: 'assign' };
  /** The statements of the function (or module) the assignment is in. */
  fnBody: Stmt[];
}

function collect(body: Stmt[], fnBody: Stmt[], out: Assign[], depth: number): void {
  if (depth > 60) return;
  for (const s of body) {
    if (s.kind === 'assign') out.push({ stmt: s, fnBody });
    else if (s.kind === 'function') collect(s.body, s.body, out, depth + 1);
    else if (s.kind === 'class') collect(s.body, s.body, out, depth + 1);
    else if (s.kind === 'block' || s.kind === 'for') collect(s.body, fnBody, out, depth + 1);
  }
}

function decide(body: Stmt[]): ReadonlySet<string> {
  const assigns: Assign[] = [];
  collect(body, body, assigns, 0);
  const writes = new Map<string, Assign[]>();
  for (const a of assigns) {
    if (a.stmt.targets.length !== 1) continue;
    const field = writtenField(a.stmt.targets[0]);
    if (!field) continue;
    const list = writes.get(field);
    if (list) list.push(a);
    else writes.set(field, [a]);
  }
  const out = new Set<string>();
  for (const [field, list] of writes) {
    const added = list.filter((a) => a.stmt.op === '+');
    if (added.length === 0) continue;
    // Added to with values, never with a constant (`self.t += 1` counts steps).
    if (!list.every((a) => (a.stmt.op === '+' && !readsField(a.stmt.value, field) && numberOf(a.stmt.value) === undefined) || (a.stmt.op === undefined && zeroStart(a.stmt.value)))) continue;
    if (fedIntoAnotherStep(assigns, field) && !multipliedWithData(body, field)) out.add(field);
  }
  return out;
}

/** A read of the field as a matrix product's operand (`X @ self.w`, `np.dot(x, u.w)`, `h.dot(u.w)`): a forward pass reads a weight so. */
function multipliedWithData(body: Stmt[], field: string): boolean {
  const isField = (e: Expr): boolean => writtenField(e) === field;
  let found = false;
  walkAll(body, (e) => {
    if (found) return;
    if (e.kind === 'binary' && e.op === '@') found = isField(e.left) || isField(e.right);
    else if (e.kind === 'call' && e.callee.kind === 'attr') {
      if (MATRIX_PRODUCT_METHODS.has(e.callee.name) && (isField(e.callee.object) || e.args.some(isField))) found = true;
      else if (MATRIX_PRODUCT_FUNCTIONS.has(e.callee.name) && e.callee.name !== 'outer' && e.args.some(isField)) found = true;
    }
  });
  return found;
}

/** Is the field read into the step of another field: `X.g = X.g + … X.f …`, `X.g += … X.f …`, directly or through one local? */
function fedIntoAnotherStep(assigns: Assign[], field: string): boolean {
  for (const a of assigns) {
    const target = a.stmt.targets[0];
    const stepped = a.stmt.targets.length === 1 ? writtenField(target) : undefined;
    if (!stepped || stepped === field) continue;
    const value = a.stmt.value;
    // `X.g = X.g + …`: the stepped field's own value carried on; `+=`/`-=` carry it implicitly.
    const own = a.stmt.op === '+' || a.stmt.op === '-' || (a.stmt.op === undefined && readsField(value, stepped));
    if (!own) continue;
    if (readsField(value, field)) return true;
    // Through a local of the same function: `dw = lr * layer.acc + …; layer.w = layer.w + dw`.
    for (const b of assigns) {
      if (b.fnBody !== a.fnBody || b.stmt.targets.length !== 1 || b.stmt.targets[0].kind !== 'name') continue;
      if (b.stmt.span.start < a.stmt.span.start && readsField(b.stmt.value, field) && readsName(value, b.stmt.targets[0].name)) return true;
    }
  }
  return false;
}
