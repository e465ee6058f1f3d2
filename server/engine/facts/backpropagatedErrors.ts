// A local that a hand-written backward pass carries back into the weights' gradients, whatever it is
// called (NB101's output error, `loss_der_by_act`, `err_by_out`): by data flow in one function, its
// value is multiplied (through plain local assignments, elementwise factors, sums, transposes) into
// a matrix product whose result a step then subtracts from a weight (`grad_w[l] = np.dot(a[l].T,
// err * f'(z))`, `W[l] -= lr * grad_w[l]`), and it is passed backwards: multiplied by a weight the
// function steps (`np.dot(err, W[l].T)`) on its way. Such a value is dLoss/dOutput: a penalty's
// *value* added to it shifts every gradient it reaches.
//
// Both products are the evidence: a scalar loss that weights a probe direction (evolution
// strategies, `w -= lr * cost * eps`, `w += lr * N.T @ A` with noise N) never meets a stepped weight
// in a product, and a loss is never multiplied by a weight on its way to the step. A one-layer model (no weight to pass back through) is left to the gradient's name.
import type { Expr, Stmt } from '../ir';
import { ELEMENTWISE_SUM_FUNCTIONS, MATRIX_PRODUCT_FUNCTIONS, MEAN_FUNCTIONS, PASS_THROUGH_FUNCTIONS, PRODUCT_FUNCTIONS, SUM_FUNCTIONS, transposeOperand } from './catalogue';
import { ownStatements } from './program';
import { forEachChild } from './scope';
import { baseExpr, exprKey } from './keys';

/** Bounded: a body this long is generated code, not a training step. */
const MAX_STATEMENTS = 2000;

interface Flow {
  /** name → the names its value is carried into, whether through a matrix product, and whether one with a stepped weight. */
  edges: Map<string, { to: string; matmul: boolean; weight: boolean }[]>;
  /** The values plain assignments give each name. */
  assigned: Map<string, Expr[]>;
  /** Names carried back into a step through a matrix product: the answer, computed lazily per name. */
  answers: Map<string, boolean>;
}

const flows = new WeakMap<Stmt[], Flow>();
/** The node every step flows into (no name can be empty). */
const STEP = '';

/**
 * Does the function whose statements are `body` carry the value of its local `name` back through a
 * matrix product into a quantity it steps a weight by? `isModule` tells `np` from a value.
 */
export function carriedIntoWeightGradients(body: Stmt[], name: string, isModule: (e: Expr) => boolean): boolean {
  const flow = flowOf(body, isModule);
  const known = flow.answers.get(name);
  if (known !== undefined) return known;
  const answer = decide(flow, name);
  flow.answers.set(name, answer);
  return answer;
}

function decide(flow: Flow, name: string): boolean {
  // Only a value the function defines (a parameter's is its caller's). A summand reduced to one number does
  // not make it a loss: the penalty's value (`alpha / 2 * np.sum(W ** 2)`) is such a summand.
  const defining = (flow.assigned.get(name) ?? []).filter((v) => !readsName(v, name));
  if (defining.length === 0) return false;
  // Breadth first over (name, through a matrix product yet, through a stepped weight yet).
  const seen = new Set<string>([`${name}|false|false`]);
  const queue: [string, boolean, boolean][] = [[name, false, false]];
  for (let i = 0; i < queue.length && i < 2000; i++) {
    const [at, matmul, weight] = queue[i];
    if (matmul && weight && at === STEP) return true;
    for (const e of flow.edges.get(at) ?? []) {
      const next: [string, boolean, boolean] = [e.to, matmul || e.matmul, weight || e.weight];
      const key = next.join('|');
      if (seen.has(key)) continue;
      seen.add(key);
      queue.push(next);
    }
  }
  return false;
}

function readsName(e: Expr, name: string): boolean {
  if (e.kind === 'name') return e.name === name;
  let found = false;
  const visit = (x: Expr): void => {
    if (found) return;
    if (x.kind === 'name' && x.name === name) found = true;
    else if (x.kind !== 'lambda') forEachChild(x, visit);
  };
  visit(e);
  return found;
}

/** The local name an assignment's target writes (`g`, `g[l]`, `g[l][k]`), if any. */
function targetName(e: Expr): string | undefined {
  let x = e;
  while (x.kind === 'index') x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/**
 * The names whose value `e` carries linearly (as a factor, a summand, through a transpose, a reshape, a
 * sum), each with whether a matrix product carries it. A call the catalogue does not know (an
 * activation, a program function) carries nothing.
 */
interface Carried {
  name: string;
  matmul: boolean;
  weight: boolean;
}

function carried(e: Expr, ctx: { isModule: (e: Expr) => boolean; weights: ReadonlySet<string> }, matmul: boolean, out: Carried[], depth = 0, weight = false): void {
  if (depth > 40) return;
  const isModule = ctx.isModule;
  // A matrix product's operands: each carried through it, marked when another operand is a weight the function steps.
  const product = (operands: Expr[]): void => {
    const stepped = operands.map((x) => isSteppedWeight(x, ctx.weights));
    operands.forEach((x, i) => carried(x, ctx, true, out, depth + 1, weight || stepped.some((w, j) => w && j !== i)));
  };
  switch (e.kind) {
    case 'name':
      out.push({ name: e.name, matmul, weight });
      return;
    case 'index':
      carried(e.object, ctx, matmul, out, depth + 1, weight);
      return;
    case 'attr':
      // `x.T`: the transpose keeps x's values.
      if (transposeOperand(e)) carried(e.object, ctx, matmul, out, depth + 1, weight);
      return;
    case 'unary':
      carried(e.arg, ctx, matmul, out, depth + 1, weight);
      return;
    case 'binary':
      if (e.op === '@') product([e.left, e.right]); else if (e.op === '*' || e.op === '+' || e.op === '-') {
        carried(e.left, ctx, matmul, out, depth + 1, weight);
        carried(e.right, ctx, matmul, out, depth + 1, weight);
      } else if (e.op === '/') carried(e.left, ctx, matmul, out, depth + 1, weight);
      return;
    case 'call': {
      const callee = e.callee;
      const fn = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
      if (fn === undefined) return;
      const onModule = callee.kind === 'name' || (callee.kind === 'attr' && isModule(callee.object));
      if (MATRIX_PRODUCT_FUNCTIONS.has(fn)) {
        // `np.dot(a, b)`, and the method form `a.dot(b)`.
        product(!onModule && callee.kind === 'attr' ? [callee.object, ...e.args] : e.args);
        return;
      }
      // Elementwise products, sums and differences (`np.multiply(a, b)`, `a.add(b)`) carry each operand.
      if (ELEMENTWISE_SUM_FUNCTIONS.has(fn) || PRODUCT_FUNCTIONS.has(fn)) {
        if (!onModule && callee.kind === 'attr') carried(callee.object, ctx, matmul, out, depth + 1, weight);
        for (const a of e.args) carried(a, ctx, matmul, out, depth + 1, weight);
        return;
      }
      if (SUM_FUNCTIONS.has(fn) || MEAN_FUNCTIONS.has(fn) || PASS_THROUGH_FUNCTIONS.has(fn)) {
        const operand = onModule ? e.args[0] : callee.kind === 'attr' ? callee.object : undefined;
        if (operand) carried(operand, ctx, matmul, out, depth + 1, weight);
      }
      return;
    }
    default:
      return;
  }
}

function flowOf(body: Stmt[], isModule: (e: Expr) => boolean): Flow {
  let flow = flows.get(body);
  if (flow) return flow;
  flow = { edges: new Map(), assigned: new Map(), answers: new Map() };
  const { edges, assigned } = flow;
  const stmts = ownStatements(body).slice(0, MAX_STATEMENTS);
  // Locals the function writes whole: a step of one of them is no weight's (`total -= x`).
  const locals = new Set<string>();
  for (const s of stmts) if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name') locals.add(s.targets[0].name);
  // The steps: `W[l] -= lr * g[l]`, `self.W = self.W - lr * g` (the weight is no local the function writes whole).
  const steps: { weight: Expr; by: Expr }[] = [];
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const target = s.targets[0];
    const name = targetName(target);
    const root = baseExpr(target);
    const weight = root.kind === 'attr' || (name !== undefined && !locals.has(name));
    if (!weight) continue;
    if (s.op === '-' || s.op === '+') steps.push({ weight: target, by: s.value });
    else if (!s.op && s.value.kind === 'binary' && (s.value.op === '-' || s.value.op === '+') && sameExpr(s.value.left, target)) steps.push({ weight: target, by: s.value.right });
  }
  const weights = new Set<string>();
  for (const st of steps) {
    const key = exprKey(baseExpr(st.weight));
    if (key !== undefined) weights.add(key);
  }
  const ctx = { isModule, weights };
  const edge = (from: Carried, to: string): void => {
    const list = edges.get(from.name) ?? [];
    if (list.length < 50) list.push({ to, matmul: from.matmul, weight: from.weight });
    edges.set(from.name, list);
  };
  // What a step moves a weight by flows into the step (a node of its own).
  for (const st of steps) {
    const names: Carried[] = [];
    carried(st.by, ctx, false, names);
    for (const n of names) edge(n, STEP);
  }
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const target = s.targets[0];
    const to = targetName(target);
    // Only locals carry the error: what flows into a weight (`W = shrink * W - lr * dW`) is an update of it.
    if (to === undefined || !locals.has(to) || s.op === '*' || s.op === '/') continue;
    if (!s.op && target.kind === 'name') {
      const values = assigned.get(to) ?? [];
      if (values.length < 20) values.push(s.value);
      assigned.set(to, values);
    }
    const from: Carried[] = [];
    carried(s.value, ctx, false, from);
    for (const f of from) if (f.name !== to || f.weight) edge(f, to);
  }
  flows.set(body, flow);
  return flow;
}

/** Is `e` (through a transpose, an index, a reshape) a weight the function steps? */
function isSteppedWeight(e: Expr, weights: ReadonlySet<string>): boolean {
  let x = e;
  for (let i = 0; i < 10; i++) {
    const inner = transposeOperand(x);
    if (!inner) break;
    x = inner;
  }
  const key = exprKey(baseExpr(x));
  return key !== undefined && weights.has(key);
}

function sameExpr(a: Expr, b: Expr): boolean {
  const ka = exprKey(a);
  return ka !== undefined && ka === exprKey(b);
}
