// Backpropagation through weights stepped entry by entry (NB109, JavaScript/TypeScript): nested loops
// step every entry of a layer's weights (`rows[r][j].w[k] = rows[r][j].w[k] + grad[j] * prev[k]`,
// `W2[j][k] += lr * d2[j] * h[k]`), and a later statement of the same pass sums the error for the
// layer below through the same entries (`e += rows[r][j].w[k] * errs[j]`), now stepped. The usual
// JavaScript from-scratch net, where arrays of numbers are stepped in place one number at a time.
//
// Decided by data flow in the function (or arrow function) that holds the step:
//   - the step is an update site whose target indexes with the variable of a loop around it (an entry
//     of the weights: `[k]`); the loop nest that binds those variables is the stepping loop;
//   - after that loop nest, in the same sequence (an enclosing loop's body or the function's), a product
//     `*` has, on one side, a place written as the step's target with each of those indices replaced by
//     a variable of a loop (or an arrow function's parameter) around the product, and on the other side
//     an entry of an array the step was computed from (the error: `grad` ← `errs`, or `d2` itself), read
//     at one of those variables (`errs[j]` beside `rows[r][j].w[k]`): not a scalar the step also reads
//     (its rate), nor an array read whole;
//   - the product's result (the variable its statement assigns, followed forward through assignments,
//     pushes and an arrow function's return) is the error carried on: it feeds the step of another
//     weight written after it (two layers written out; not a value the first step is computed from,
//     such as a gradient accumulated for the next iteration), or, in a loop over layers whose variable the
//     stepped place reads (`rows[r]`), a value the step itself is computed from (the next iteration's
//     error). A product with the new weights that feeds neither (a prediction logged, the gradient at
//     the new point of one weight vector stepped every iteration) is not reported.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { forEachChild, someExpr } from './scope';
import { within } from './loops';

export interface SteppedElementwise {
  step: UpdateSite;
  /** The stepped place read in the product. */
  read: Expr;
  /** The assignment the product is in. */
  carried: Stmt & { kind: 'assign' };
  /** The error multiplied in (`errs`, `d2`). */
  error: string;
}

/** A statement and the statement sequences above it, outermost first. */
interface Frame {
  stmt: Stmt;
  /** The function or arrow function whose body holds it (undefined: the module). */
  body: readonly Stmt[];
}

const MAX_DEPTH = 40;

export function steppedElementwise(facts: Facts, steps: readonly UpdateSite[]): SteppedElementwise[] {
  const out: SteppedElementwise[] = [];
  // Candidates: a step of an entry (an index anywhere in the target).
  const candidates = steps.filter((s) => s.kind === 'update' && hasIndex(s.target));
  if (candidates.length === 0) return out;
  for (const step of candidates) {
    const path = pathTo(facts.module.body, step.span);
    if (!path) continue;
    const found = fromPath(facts, step, path);
    if (found) out.push(found);
  }
  return out;
}

function hasIndex(e: Expr): boolean {
  for (let x: Expr | undefined = e, d = 0; x && d < 12; d++) {
    if (x.kind === 'index') return true;
    x = x.kind === 'attr' ? x.object : undefined;
  }
  return false;
}

/** The statements from the module down to the innermost simple statement holding `span`, each with the body (function or arrow function) it sits in. */
function pathTo(module: readonly Stmt[], span: { start: number; end: number }): Frame[] | undefined {
  const path: Frame[] = [];
  let seq: readonly Stmt[] = module;
  let body: readonly Stmt[] = module;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const s = seq.find((x) => within(span, x.span));
    if (!s) return path.length > 0 ? path : undefined;
    path.push({ stmt: s, body });
    if (s.kind === 'function') {
      seq = s.body;
      body = s.body;
    } else if (s.kind === 'class' || s.kind === 'block' || s.kind === 'for') seq = s.body;
    else {
      // A simple statement: the step may sit in an arrow function inside it (`X.prototype.f = function () {…}`).
      const lambda = innermostLambda(s, span);
      if (!lambda) return path;
      seq = lambda.stmts;
      body = lambda.stmts;
    }
  }
  return undefined;
}

function innermostLambda(s: Stmt, span: { start: number; end: number }): (Expr & { kind: 'lambda' }) | undefined {
  let hit: (Expr & { kind: 'lambda' }) | undefined;
  const exprs = s.kind === 'assign' ? [...s.targets, s.value] : s.kind === 'expr' ? [s.expr] : s.kind === 'return' && s.value ? [s.value] : [];
  for (const e of exprs)
    someExpr(e, (x) => {
      if (x.kind === 'lambda' && x.stmts.length > 0 && within(span, x.span)) {
        hit = x;
        return true;
      }
      return false;
    });
  return hit;
}

function fromPath(facts: Facts, step: UpdateSite, path: Frame[]): SteppedElementwise | undefined {
  const leaf = path[path.length - 1].stmt;
  if (leaf.kind !== 'assign' || leaf.targets.length !== 1 || leaf.targets[0] !== step.target) return undefined;
  const body = path[path.length - 1].body;
  // The loops of the step's own function around it, outermost first.
  const frames = path.filter((f) => f.body === body);
  const loops = frames.map((f) => f.stmt).filter((s): s is Stmt & { kind: 'for' } => s.kind === 'for' && s.target.kind === 'name');
  const loopVar = (s: Stmt & { kind: 'for' }): string => (s.target as Expr & { kind: 'name' }).name;
  // The indices of the target that are a loop's variable: the stepped entries, or the layer (`rows[r]`).
  const indexNames = targetIndexNames(step.target);
  const container = rootName(step.target);
  const assigns = assignmentsIn(body);
  // Which loops step the entries: the innermost nest first (`for k`), then with the next loop out (`for j`, `for k`).
  for (let c = loops.length - 1; c >= 0; c--) {
    const stepping = loops[c];
    if (!indexNames.has(loopVar(stepping))) continue;
    const elementVars = new Set(loops.slice(c).map(loopVar));
    // A loop over layers: a loop outside the nest whose variable the stepped place reads.
    const layerLoop = [...loops.slice(0, c)].reverse().find((l) => indexNames.has(loopVar(l)));
    // The sequence the stepping loop sits in: the nearest enclosing loop's body, or the function's, with `if` blocks opened.
    const at = frames.findIndex((f) => f.stmt === stepping);
    const parent = [...frames.slice(0, at)].reverse().find((f) => f.stmt.kind === 'for');
    const index = sequenceIndex(parent ? (parent.stmt as Stmt & { kind: 'for' }).body : body);
    const seq = index.seq;
    const from = index.at.get(stepping) ?? -1;
    if (from < 0) continue;
    // What the step is computed from: the names its value reads, through the function's assignments.
    const deps = dependencies(valueNames(leaf.value, elementVars), assigns);
    for (const v of elementVars) deps.delete(v);
    if (container) deps.delete(container);
    // Only statements that read the stepped container can hold the product: the sequence's name index, built once per body.
    const laterAt = container !== undefined && container !== 'this' && container !== 'self' ? (index.byName.get(container) ?? []).filter((k) => k > from) : seq.map((_, k) => k).slice(from + 1);
    for (const k of laterAt) {
      const later = seq[k];
      if (later.kind === 'block') continue;
      const product = findProduct(later, step.target, elementVars, deps);
      if (!product) continue;
      const fed = feeds(assigns, product.carried);
      // Two layers written out: the result feeds the step of another weight after it.
      const nextStep = facts.updates.some(
        (s) => s !== step && s.kind === 'update' && s.span.start > product.carried.span.end && s.target.kind !== 'name' && rootName(s.target) !== container && !deps.has(rootName(s.target) ?? '') && stepReads(facts, s, fed, body),
      );
      // A loop over layers: the result is the error the next iteration's step is computed from.
      const carriedOn = !!layerLoop && within(product.carried.span, layerLoop.span) && [...fed].some((n) => deps.has(n) && n !== product.error);
      if (nextStep || carriedOn) return { step, read: product.read, carried: product.carried, error: product.error };
    }
  }
  return undefined;
}

/** The plain-name indices of a place (`rows[r][j].w[k]`: r, j, k). */
function targetIndexNames(e: Expr): Set<string> {
  const out = new Set<string>();
  for (let x: Expr | undefined = e, d = 0; x && d < 12; d++) {
    if (x.kind === 'index') for (const i of x.index) if (i.kind === 'name') out.add(i.name);
    x = x.kind === 'index' || x.kind === 'attr' ? x.object : undefined;
  }
  return out;
}

function rootName(e: Expr): string | undefined {
  let x: Expr = e;
  for (let d = 0; d < 12 && (x.kind === 'index' || x.kind === 'attr'); d++) x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/** The names an expression reads as values: not in index positions, not `this`/`self`, not the given ones. */
function valueNames(e: Expr, skip: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const walk = (x: Expr): void => {
    if (x.kind === 'name') {
      if (x.name !== 'this' && x.name !== 'self' && !skip.has(x.name)) out.add(x.name);
      return;
    }
    if (x.kind === 'index') {
      walk(x.object);
      return;
    }
    if (x.kind === 'call') {
      // A function called is not a value read (`squashSlope(out[j])` reads `out`); a method's receiver is.
      if (x.callee.kind !== 'name') walk(x.callee);
      for (const a of x.args) walk(a);
      for (const k of x.kwargs) walk(k.value);
      return;
    }
    if (x.kind === 'lambda') {
      if (x.body) walk(x.body);
      walkStmts(x.stmts, (s) => {
        for (const y of exprsOf(s)) walk(y);
      });
      return;
    }
    forEachChild(x, walk);
  };
  walk(e);
  return out;
}

type Assign = Stmt & { kind: 'assign' };

interface SequenceIndex {
  /** The sequence with its `if`/`with`/`try` blocks opened (flatten). */
  seq: Stmt[];
  /** Each statement's position in seq. */
  at: Map<Stmt, number>;
  /** For each name, the positions of the statements that mention it anywhere inside, in order. */
  byName: Map<string, number[]>;
}

const sequenceMemo = new WeakMap<readonly Stmt[], SequenceIndex>();

/**
 * A body's flattened sequence and, for each name, the statements that mention it; once per body, so that
 * each step's scan of the statements after it visits only those that can read its weights (a file of
 * many stepping loops is not walked once per step).
 */
function sequenceIndex(stmts: readonly Stmt[]): SequenceIndex {
  const kept = sequenceMemo.get(stmts);
  if (kept) return kept;
  const seq = flatten(stmts);
  const at = new Map<Stmt, number>();
  const byName = new Map<string, number[]>();
  seq.forEach((s, k) => {
    if (!at.has(s)) at.set(s, k);
    const names = new Set<string>();
    // Arrow functions' statements included (`h.map((hk, k) => { … back += W[k][j] * d[k] … })`).
    const expr = (e: Expr, depth: number): void => {
      someExpr(e, (x) => {
        if (x.kind === 'name') names.add(x.name);
        else if (x.kind === 'lambda') for (const c of x.stmts) stmt(c, depth + 1);
        return false;
      });
    };
    const stmt = (t: Stmt, depth: number): void => {
      if (depth > MAX_DEPTH) return;
      for (const e of exprsOf(t)) expr(e, depth);
      if (t.kind === 'for') {
        expr(t.iter, depth);
        expr(t.target, depth);
      }
      if (t.kind === 'block') t.heads.forEach((h) => expr(h, depth));
      // A block that flatten opened has its statements in seq after it (depth 0); any other's are read here.
      if (t.kind === 'for' || (t.kind === 'block' && (depth > 0 || t.label === 'while'))) for (const c of t.body) stmt(c, depth + 1);
    };
    stmt(s, 0);
    for (const n of names) {
      let list = byName.get(n);
      if (!list) byName.set(n, (list = []));
      list.push(k);
    }
  });
  const index = { seq, at, byName };
  sequenceMemo.set(stmts, index);
  return index;
}

type Assignment = { target: string; stmt: Stmt; reads: Set<string> };
const assignmentMemo = new WeakMap<readonly Stmt[], Assignment[]>();

/** Every assignment to a name in a body, nested loops, blocks and arrow functions included (not nested functions), in order; once per body. */
function assignmentsIn(body: readonly Stmt[]): Assignment[] {
  const kept = assignmentMemo.get(body);
  if (kept) return kept;
  const out: Assignment[] = [];
  assignmentMemo.set(body, out);
  walkStmts(body, (s) => {
    if (s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name') {
      const reads = valueNames(s.value, new Set());
      if (s.op) reads.add(s.targets[0].name);
      out.push({ target: s.targets[0].name, stmt: s, reads });
    } else if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && s.expr.callee.name === 'push' && s.expr.callee.object.kind === 'name') {
      // `below.push(e)`: the array holds what is pushed.
      const reads = new Set<string>();
      for (const a of s.expr.args) for (const n of valueNames(a, new Set())) reads.add(n);
      out.push({ target: s.expr.callee.object.name, stmt: s, reads });
    }
  });
  return out;
}

function dependencies(start: Set<string>, assigns: { target: string; reads: Set<string> }[]): Set<string> {
  const deps = new Set(start);
  const queue = [...start];
  while (queue.length > 0) {
    const n = queue.pop()!;
    for (const a of assigns) {
      if (a.target !== n) continue;
      for (const r of a.reads)
        if (!deps.has(r)) {
          deps.add(r);
          queue.push(r);
        }
    }
  }
  return deps;
}

/** The names the product's statement assigns, followed forward: every assignment or push that reads one of them (and, for an arrow function's returned value, the statement holding the arrow function). */
function feeds(assigns: { target: string; stmt: Stmt; reads: Set<string> }[], carried: Assign): Set<string> {
  const fed = new Set<string>();
  if (carried.targets[0].kind === 'name') fed.add(carried.targets[0].name);
  // Not entirely before the product's statement: later ones, and the ones holding it (`d1 = h.map((hk, k) => { … })`).
  const after = assigns.filter((a) => a.stmt.span.end > carried.span.end);
  for (let pass = 0; pass < 3; pass++) {
    const size = fed.size;
    for (const a of after) if (!fed.has(a.target) && [...a.reads].some((r) => fed.has(r))) fed.add(a.target);
    if (fed.size === size) break;
  }
  return fed;
}

/** Whether a step in the same body reads one of the names (`W1[k][i] += lr * d1[k] * x[i]` for `d1`). */
function stepReads(facts: Facts, s: UpdateSite, fed: ReadonlySet<string>, body: readonly Stmt[]): boolean {
  if (body.length === 0 || !within(s.span, { start: body[0].span.start, end: body[body.length - 1].span.end })) return false;
  const path = pathTo(facts.module.body, s.span);
  const leaf = path?.[path.length - 1];
  if (!leaf || leaf.body !== body || leaf.stmt.kind !== 'assign') return false;
  return [...valueNames(leaf.stmt.value, new Set())].some((n) => fed.has(n));
}

/**
 * In a statement after the stepping loops: an assignment whose value multiplies the stepped place
 * (its entry indices replaced by variables bound around the product) with a value the step was
 * computed from.
 */
function findProduct(stmt: Stmt, target: Expr, elementVars: ReadonlySet<string>, deps: ReadonlySet<string>): { read: Expr; carried: Assign; error: string } | undefined {
  let hit: { read: Expr; carried: Assign; error: string } | undefined;
  const visit = (s: Stmt, bound: ReadonlySet<string>, depth: number): void => {
    if (hit || depth > MAX_DEPTH) return;
    if (s.kind === 'function' || s.kind === 'class') return;
    if (s.kind === 'for') {
      const inner = new Set(bound);
      if (s.target.kind === 'name') inner.add(s.target.name);
      for (const c of s.body) visit(c, inner, depth + 1);
      return;
    }
    if (s.kind === 'block') {
      for (const c of s.body) visit(c, bound, depth + 1);
      return;
    }
    for (const e of exprsOf(s)) visitExpr(e, s, bound, depth);
  };
  const visitExpr = (root: Expr, s: Stmt, bound: ReadonlySet<string>, depth: number): void => {
    const walk = (x: Expr): void => {
      if (hit) return;
      if (x.kind === 'lambda') {
        const inner = new Set(bound);
        for (const p of x.params) inner.add(p.name);
        if (x.body) visitExpr(x.body, s, inner, depth + 1);
        for (const c of x.stmts) visit(c, inner, depth + 1);
        return;
      }
      if (x.kind === 'binary' && x.op === '*' && s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name') {
        for (const [w, other] of [
          [x.left, x.right],
          [x.right, x.left],
        ] as const) {
          const read = placeIn(w, target, elementVars, bound);
          if (!read) continue;
          const error = alignedError(other, read, bound, deps);
          if (error) {
            hit = { read, carried: s, error };
            return;
          }
        }
      }
      forEachChild(x, walk);
    };
    walk(root);
  };
  visit(stmt, new Set(), 0);
  return hit;
}

/**
 * The error in the product's other factor: an entry of an array the step was computed from, read at a
 * variable bound around the product that also indexes the stepped place read (`dOut[r]` beside
 * `Wo[r][c]`), the sum that carries an error through a layer's weights. A scalar the step also reads
 * (a rate: `lr * (fast[r][c] - slow[r][c])`) or an array read whole is no error carried.
 */
function alignedError(other: Expr, read: Expr, bound: ReadonlySet<string>, deps: ReadonlySet<string>): string | undefined {
  const shared = new Set([...targetIndexNames(read)].filter((n) => bound.has(n)));
  if (shared.size === 0) return undefined;
  let found: string | undefined;
  someExpr(other, (x) => {
    if (x.kind !== 'index' || !x.index.some((i) => i.kind === 'name' && shared.has(i.name))) return false;
    found = [...valueNames(x.object, bound)].find((n) => deps.has(n));
    return found !== undefined;
  });
  return found;
}

/** The place in `e` written as the stepped target with its entry indices replaced by variables bound around the product. */
function placeIn(e: Expr, target: Expr, elementVars: ReadonlySet<string>, bound: ReadonlySet<string>): Expr | undefined {
  let found: Expr | undefined;
  someExpr(e, (x) => {
    if (x.kind !== target.kind) return false;
    if (samePlace(x, target, elementVars, bound)) {
      found = x;
      return true;
    }
    return false;
  });
  return found;
}

function samePlace(r: Expr, s: Expr, elementVars: ReadonlySet<string>, bound: ReadonlySet<string>, depth = 0): boolean {
  if (depth > 12 || r.kind !== s.kind) return false;
  if (r.kind === 'name' && s.kind === 'name') return r.name === s.name;
  if (r.kind === 'attr' && s.kind === 'attr') return r.name === s.name && samePlace(r.object, s.object, elementVars, bound, depth + 1);
  if (r.kind === 'index' && s.kind === 'index') {
    if (r.index.length !== s.index.length || !samePlace(r.object, s.object, elementVars, bound, depth + 1)) return false;
    return r.index.every((ri, k) => {
      const si = s.index[k];
      if (si.kind === 'name' && elementVars.has(si.name)) return ri.kind === 'name' && bound.has(ri.name);
      return sameText(ri, si);
    });
  }
  return false;
}

/** Two index expressions written alike: names and numbers, and sums of them (`i`, `r - 1`). */
function sameText(a: Expr, b: Expr, depth = 0): boolean {
  if (depth > 8 || a.kind !== b.kind) return false;
  if (a.kind === 'name' && b.kind === 'name') return a.name === b.name;
  if (a.kind === 'num' && b.kind === 'num') return a.value === b.value;
  if (a.kind === 'str' && b.kind === 'str') return a.value === b.value;
  if (a.kind === 'attr' && b.kind === 'attr') return a.name === b.name && sameText(a.object, b.object, depth + 1);
  if (a.kind === 'binary' && b.kind === 'binary') return a.op === b.op && sameText(a.left, b.left, depth + 1) && sameText(a.right, b.right, depth + 1);
  return false;
}

function exprsOf(s: Stmt): Expr[] {
  switch (s.kind) {
    case 'assign':
      return [...s.targets, s.value];
    case 'expr':
      return [s.expr];
    case 'return':
      return s.value ? [s.value] : [];
    default:
      return [];
  }
}

/** Calls `f` on every statement in `stmts`, loops, blocks and arrow functions' bodies included, not nested functions or classes. */
function walkStmts(stmts: readonly Stmt[], f: (s: Stmt) => void, depth = 0): void {
  if (depth > MAX_DEPTH) return;
  for (const s of stmts) {
    if (s.kind === 'function' || s.kind === 'class') continue;
    f(s);
    if (s.kind === 'for' || s.kind === 'block') walkStmts(s.body, f, depth + 1);
    else
      for (const e of exprsOf(s))
        someExpr(e, (x) => {
          if (x.kind === 'lambda' && x.stmts.length > 0) walkStmts(x.stmts, f, depth + 1);
          return false;
        });
  }
}

/** A loop body's statements in order, with those of its `if`/`with`/`try` blocks (not of nested loops or functions). */
export function flatten(stmts: readonly Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  for (const s of stmts) {
    if (s.kind === 'block' && s.label !== 'while') {
      out.push(s);
      out.push(...flatten(s.body));
    } else out.push(s);
  }
  return out;
}
