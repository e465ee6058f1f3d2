// A weight stepped and then read, in the same iteration of a loop over layers, to send the error back
// to the layer below (NB109): `weights['W' + str(l)] -= alpha * dW`, then `dZ = np.matmul(W.T, dZ)`
// with `W = weights['W' + str(l)]` bound before the step. A NumPy `-=` changes the array in place, so
// `W` names the new weights too; so does an entry of a shallow copy of the weights' dict
// (`old = weights.copy()`, meant to keep the old ones), and the stepped entry itself read again.
// In a loop down the layers (`range(L, 0, -1)`, `reversed(…)`), the entry of the layer above
// (`weights['W' + str(i + 1)]`, or a name bound to it) is the one the iteration before stepped.
// Backpropagation needs the weights the forward pass used: every layer below gets its gradient
// through the weights after their step.
//
// Decided by data flow in one loop body (the statements of `if`s in it included, in order):
//   - the step is an update site whose target reads the loop's own variable (each iteration steps
//     another layer; a loop of iterations stepping one `w`, then the gradient at the new `w`, is
//     gradient descent, not backpropagation);
//   - after it, an assignment `D = …` multiplies the stepped weight (the entry, or an alias of its
//     storage after an in-place step) with the error: `D` itself, or a value derived from `D` before
//     the step (`dZ = dA * g'(Z)`), where `D` is read itself or read in the loop body before the step
//     (the error carried to the next layer), or is handed to such a value later (`dA_prev = W.T @ dZ;
//     dZ = dA_prev * g`). A sum of the new weights (a penalty logged after the step) is not a product
//     with the error.
// Python, and in JS/TS only the layer above's entry (`previousLayerRead`) after a step that rebinds
// the entry to a new matrix (`this.weights[k] = math.subtract(this.weights[k], …)`) in a `for (…; i <= n; i++)`
// loop whose index runs down the layers (`this.weights[last - i]`, then `this.weights[last - i + 1]`):
// a JavaScript `-=` on an array element is a number's.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { PRODUCT_FUNCTIONS, ELEMENTWISE_SUM_FUNCTIONS, transposeOperand, arithmeticPlacement, inPlaceReceiver, isMetadataAttribute, isShapeAttribute, shallowContainerCopy } from './catalogue';
import { writtenAlike } from './entries';
import { baseExpr, exprKey } from './keys';
import { walkAll } from './program';
import { forEachChild, someExpr } from './scope';
import { within } from './loops';
import { flatten, steppedElementwise } from './steppedElementwise';
import { statementQuestion, unionOver } from './statementAnswers';

export interface SteppedThenPropagated {
  /** The step of the weight. */
  step: StepPlace;
  /** The weight read after it, in the product. */
  read: Expr;
  /** The assignment that carries the error back through it. */
  carried: Stmt & { kind: 'assign' };
  /** The variable carried (the error `dZ`). */
  error: string;
  /**
   * How the read reaches the new weights: the stepped entry itself, a name bound to it before an
   * in-place step, an entry of a shallow copy of its container, or the layer above's entry, which the
   * iteration before stepped.
   */
  through: 'entry' | 'alias' | 'copy' | 'previous' | 'list' | 'elements' | 'carried' | 'unrolled';
  /** For `unrolled`: the step of another weight the carried error then feeds. */
  next?: StepPlace;
  /** For `list`: the list the loop stores the stepped array in before its in-place step (`kept` of `kept.append(W[k])`). */
  list?: string;
  /** For `carried`: the variable that holds the layer from one iteration to the next (`above = layer`). */
  holder?: string;
}

type Through = SteppedThenPropagated['through'];
/** Where a weight is stepped: an update site, or (unrolled layers) a statement that adds to the weight (`W = add(W, D)`, `W += D`). */
export type StepPlace = Pick<UpdateSite, 'target' | 'span'>;
/** Two places written alike (entries.ts `writtenAlike`). */
type Alike = (a: Expr, b: Expr) => boolean;

const memo = new WeakMap<Facts, SteppedThenPropagated[]>();

export function steppedThenPropagated(facts: Facts): SteppedThenPropagated[] {
  let found = memo.get(facts);
  if (found) return found;
  found = [];
  memo.set(facts, found);
  const steps = facts.updates.filter((s) => s.kind === 'update');
  const alike: Alike = writtenAlike;
  // A place an unrolled run adds to is a weight when the file treats it as a parameter or multiplies it
  // (a matrix product's operand, or transposed: `Matrix.multiply(this.wIH, x)`): a counter or a running
  // statistic (`self.seen += 1`, `self.total += np.sum(back ** 2)`) is no step.
  let multiplied: Set<string> | undefined;
  const isWeight = (e: Expr): boolean => {
    if (facts.analyzer.isParam(baseExpr(e))) return true;
    const key = exprKey(e);
    return key !== undefined && (multiplied ??= productOperandKeys(facts.module.body)).has(key);
  };
  const visit = (stmts: readonly Stmt[], fnBody: readonly Stmt[], depth: number): void => {
    if (depth > 60) return;
    for (const s of stmts) {
      if (s.kind === 'function') {
        visit(s.body, s.body, depth + 1);
        unrolledRead(s.body, alike, found!, isWeight);
      }
      else if (s.kind === 'class' || s.kind === 'block') visit(s.body, fnBody, depth + 1);
      else if (s.kind === 'for') {
        const inLoop = steps.filter((st) => within(st.span, s.span));
        if (inLoop.length === 0) {
          // nothing stepped in this loop
        } else if (facts.language === 'python') loopFindings(s, fnBody, inLoop, alike, found!);
        else jsLayerLoop(s, inLoop, facts, found!);
        if (inLoop.length > 0) carriedLayerRead(s, inLoop, facts, found!);

        visit(s.body, fnBody, depth + 1);
        unrolledRead(s.body, alike, found!, isWeight);
      }
    }
  };
  visit(facts.module.body, facts.module.body, 0);
  // JS/TS: entries stepped one number at a time, then the error summed through them (steppedElementwise.ts).
  if (facts.language !== 'python') {
    const reported = new Set(found.map((f) => f.step));
    for (const e of steppedElementwise(facts, steps)) if (!reported.has(e.step)) found.push({ ...e, through: 'elements' });
  }
  return found;
}

/**
 * Two layers written out in one straight run of statements (a function's body, or a loop's over
 * samples), the output layer stepped first: `W2 += eta * np.outer(d2, h)`, then the hidden error
 * sent back through the stepped weights (`e_h = W2.T @ d2`; JS `Matrix.multiply(Matrix.transpose(this.w2), err)`,
 * or a transposed copy taken after the step), and that error feeds the step of another weight
 * after it (`W1 += eta * np.outer(e_h * g'(h), x)`). Decided by data flow: the error in the product
 * is a value computed in the run before the step and read, through the run's assignments, by the
 * step itself (the gradient the output layer was stepped with, or the error it came from), not
 * rebound since; the weights are read transposed (the backward direction: the forward pass reads
 * `W2 @ h`), as the stepped place itself, a name bound to it or to its transpose after the step, or
 * (NumPy, an in-place step) a view `W2.T` bound before it. Loops over layers are read above.
 */
function unrolledRead(body: readonly Stmt[], alike: Alike, out: SteppedThenPropagated[], isWeight: (e: Expr) => boolean): void {
  const seq = flatten(body);
  // The statements that add to a place: `W += D`, `W -= D`, `W = W + D`, `W = add(W, D)`.
  const stepAt = new Map<number, StepPlace>();
  for (let k = 0; k < seq.length; k++) {
    const s = seq[k];
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind !== 'name' && t.kind !== 'attr' && t.kind !== 'index') continue;
    if ((s.op === '+' || s.op === '-' || (!s.op && addsTo(s.value, t, alike))) && isWeight(t)) stepAt.set(k, { target: t, span: s.span });
  }
  if (stepAt.size < 2) return;
  // No transpose in the run: nothing to report (the backward direction reads one).
  if (!seq.some((s) => s.kind === 'assign' && someExpr(s.value, (x) => transposeOperand(x) !== undefined))) return;
  let budget = 64;
  const simpleAssign = (s: Stmt): s is Stmt & { kind: 'assign' } => s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name';
  const assignedName = (s: Stmt): string | undefined => (simpleAssign(s) ? (s.targets[0] as Expr & { kind: 'name' }).name : undefined);
  for (const [at, step] of stepAt) {
    if (budget-- <= 0) break;
    if (out.some((f) => f.step.span.start === step.span.start)) continue;
    const stepStmt = seq[at] as Stmt & { kind: 'assign' };
    const target = step.target;
    const inPlace = stepStmt.op !== undefined;
    // The locals the step is computed from, closed backwards through the run's assignments before it.
    const sources = new Set<string>();
    const assignedBefore = new Set<string>();
    for (let k = 0; k < at; k++) {
      const n = assignedName(seq[k]);
      if (n) assignedBefore.add(n);
    }
    const addReads = (e: Expr): void => {
      someExpr(e, (x) => {
        if (x.kind === 'name' && assignedBefore.has(x.name)) sources.add(x.name);
        return false;
      });
    };
    addReads(stepStmt.value);
    for (let k = at - 1; k >= 0; k--) {
      const n = assignedName(seq[k]);
      if (n && sources.has(n)) addReads((seq[k] as Stmt & { kind: 'assign' }).value);
    }
    for (const n of namesIn(target)) sources.delete(n);
    if (sources.size === 0) continue;
    // Names bound to the stepped weights' transpose: a view before an in-place NumPy step, or any after the step.
    const transposedNames = new Set<string>();
    const isTransposeOfNew = (e: Expr): boolean => {
      const inner = transposeOperand(e);
      return inner !== undefined && alike(inner, target);
    };
    if (inPlace) for (let k = 0; k < at; k++) {
      const s = seq[k];
      const n = assignedName(s);
      if (n && s.kind === 'assign' && s.value.kind === 'attr' && isTransposeOfNew(s.value)) transposedNames.add(n);
      else if (n) transposedNames.delete(n);
      // `W = W.copy()` (or any new array bound to the weight): a view taken before shows the old array.
      if (s.kind === 'assign' && !s.op && s.targets.some((t) => alike(t, target))) transposedNames.clear();
    }
    // The run reads the transpose in a product before the step (`h = X @ W.T`, a forward pass of weights
    // stored the other way round, or the error sent back before the step): a transposed read after the
    // step is then no longer the backward direction.
    if (readsTransposedBefore(seq, at, target, alike)) continue;
    const plainNames = new Set<string>();
    const rebound = new Set<string>();
    for (let k = at + 1; k < seq.length; k++) {
      const s = seq[k];
      if (s.kind === 'assign' && s.targets.some((t) => alike(t, target))) break;
      const name = assignedName(s);
      if (!name || s.kind !== 'assign') {
        if (s.kind === 'assign') for (const t of s.targets) for (const n of namesIn(t)) rebound.add(n);
        continue;
      }
      const value = s.value;
      if (alike(value, target)) {
        plainNames.add(name);
        rebound.add(name);
        continue;
      }
      const inner = transposeOperand(value);
      if (inner !== undefined && (alike(inner, target) || (inner.kind === 'name' && plainNames.has(inner.name)))) {
        transposedNames.add(name);
        rebound.add(name);
        continue;
      }
      const errors = new Set([...sources].filter((n) => !rebound.has(n)));
      const newWeights = (e: Expr): Through | undefined => {
        if (e.kind === 'name' && transposedNames.has(e.name)) return 'unrolled';
        const t = transposeOperand(e);
        if (t !== undefined && (alike(t, target) || (t.kind === 'name' && plainNames.has(t.name)))) return 'unrolled';
        return undefined;
      };
      const product = errors.size > 0 ? productOf(value, newWeights, errors) : undefined;
      transposedNames.delete(name);
      plainNames.delete(name);
      rebound.add(name);
      if (!product) continue;
      const next = feedsStep(seq, k, name, stepAt, step, alike);
      if (next) {
        out.push({ step, read: product.read, carried: s, error: name, through: 'unrolled', next });
        break;
      }
    }
  }
}

/**
 * Whether a statement before `at` multiplies the transpose of `target` (`X @ W.T`, `np.dot(x, W.T)`,
 * `Matrix.multiply(Matrix.transpose(w), x)`, or a name bound to that transpose before) with something.
 */
function readsTransposedBefore(seq: readonly Stmt[], at: number, target: Expr, alike: Alike): boolean {
  const names = new Set<string>();
  const isT = (e: Expr): boolean => {
    if (e.kind === 'name' && names.has(e.name)) return true;
    const inner = transposeOperand(e);
    return inner !== undefined && alike(inner, target);
  };
  const operand = (e: Expr): boolean => someExpr(e, isT);
  const product = (x: Expr): boolean => {
    if (x.kind === 'binary' && (x.op === '*' || x.op === '@')) return operand(x.left) || operand(x.right);
    if (x.kind !== 'call') return false;
    const callee = x.callee;
    const name = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
    return name !== undefined && PRODUCT_FUNCTIONS.has(name) && (callee.kind === 'attr' ? [callee.object, ...x.args] : x.args).some(operand);
  };
  for (let k = 0; k < at; k++) {
    const s = seq[k];
    if (s.kind !== 'assign') continue;
    if (someExpr(s.value, product)) return true;
    if (!s.op && s.targets.length === 1 && s.targets[0].kind === 'name') {
      if (isT(s.value)) names.add(s.targets[0].name);
      else names.delete(s.targets[0].name);
    }
  }
  return false;
}

/** The step of another weight, after statement `k` of the run, computed from `name` (through the run's assignments after `k`). */
function feedsStep(seq: readonly Stmt[], k: number, name: string, stepAt: ReadonlyMap<number, StepPlace>, first: StepPlace, alike: Alike): StepPlace | undefined {
  const derived = new Set([name]);
  const reads = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'name' && derived.has(x.name));
  for (let j = k + 1; j < seq.length; j++) {
    const s = seq[j];
    if (s.kind !== 'assign') continue;
    const other = stepAt.get(j);
    if (other && !alike(other.target, first.target) && reads(s.value)) return other;
    if (!s.op && s.targets.length === 1 && s.targets[0].kind === 'name') {
      if (reads(s.value)) derived.add(s.targets[0].name);
      else derived.delete(s.targets[0].name);
    }
  }
  return undefined;
}

/** `T + D`, `D + T`, `T - D`, or a two-matrix sum call (`Matrix.add(T, D)`, `math.subtract(T, D)`) with `T` the target itself. */
function addsTo(value: Expr, target: Expr, alike: Alike): boolean {
  if (value.kind === 'binary' && (value.op === '+' || value.op === '-')) return alike(value.left, target) || (value.op === '+' && alike(value.right, target));
  if (value.kind !== 'call' || value.args.length !== 2 || value.kwargs.length > 0) return false;
  const callee = value.callee;
  const name = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
  return name !== undefined && ELEMENTWISE_SUM_FUNCTIONS.has(name) && (alike(value.args[0], target) || (name === 'add' && alike(value.args[1], target)));
}

/**
 * The layer object of the iteration before, carried in a variable: the loop steps this iteration's
 * layer (`layer.weight = add(layer.weight, …)`, `layer.W -= …`, with `layer` the loop's item or
 * `layer = this.layers[i]`), keeps it after the step (`above = layer`), and the next iteration carries
 * the error through its weights (`err = dot(delta, T(above.weight))`), which that step replaced.
 */
function carriedLayerRead(loop: Stmt & { kind: 'for' }, steps: UpdateSite[], facts: Facts, out: SteppedThenPropagated[]): void {
  const seq = flatten(loop.body);
  const loopNames = namesIn(loop.target);
  for (const step of steps) {
    const target = step.target;
    if (target.kind !== 'attr' || target.object.kind !== 'name' || out.some((f) => f.step === step)) continue;
    const at = seq.findIndex((s) => within(step.span, s.span));
    if (at < 0) continue;
    const layer = target.object.name;
    // This iteration's layer: the loop's item, or a name bound in the iteration before the step to the entry the loop's variable picks.
    let source: Expr | undefined;
    if (!loopNames.has(layer)) {
      for (const s of seq.slice(0, at)) {
        if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === layer) source = s.value;
      }
      if (!source || source.kind !== 'index' || source.index.length !== 1 || source.index[0].kind !== 'name' || !loopNames.has(source.index[0].name)) continue;
    }
    const text = (e: Expr): string => facts.source(e.span);
    const isLayer = (e: Expr): boolean => (e.kind === 'name' && e.name === layer) || (!!source && e.kind === 'index' && text(e) === text(source));
    // The variable that keeps it after the step, for the next iteration.
    const c = seq.findIndex((s, k) => k > at && s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name !== layer && !loopNames.has(s.targets[0].name) && isLayer(s.value));
    if (c < 0) continue;
    const holder = ((seq[c] as Stmt & { kind: 'assign' }).targets[0] as Expr & { kind: 'name' }).name;
    const carried = (name: string): boolean => readBefore(seq, at, name);
    const held = (e: Expr): Through | undefined => (e.kind === 'attr' && e.name === target.name && e.object.kind === 'name' && e.object.name === holder ? 'carried' : undefined);
    for (let k = 0; k < c; k++) {
      const s = seq[k];
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
      // The holder rebound in the iteration before this read: not the layer the last iteration kept.
      if (s.targets[0].name === holder) break;
      const name = s.targets[0].name;
      const error = readsName(s.value, name) || readBefore(seq, k - 1, name) ? name : laterCarrier(seq, k, name, carried);
      if (!error) continue;
      const product = productOf(s.value, held, errorsBefore(seq, k, error));
      if (product) {
        out.push({ step, read: product.read, carried: s, error, through: 'carried', holder });
        break;
      }
    }
  }
}

function loopFindings(loop: Stmt & { kind: 'for' }, fnBody: readonly Stmt[], steps: UpdateSite[], alike: Alike, out: SteppedThenPropagated[]): void {
  const seq = flatten(loop.body);
  const loopNames = namesIn(loop.target);
  for (const step of steps) {
    const at = seq.findIndex((s) => within(step.span, s.span));
    if (at < 0) continue;
    const stepStmt = seq[at];
    const target = step.target;
    if (![...namesIn(target)].some((n) => loopNames.has(n))) continue;
    const inPlace = (stepStmt.kind === 'assign' && stepStmt.op !== undefined) || stepStmt.kind === 'expr';
    // Shallow copies of the stepped entry's container, made in the function before the loop.
    const copies = new Set<string>();
    if (target.kind === 'index' && target.index.length === 1 && stringKeyed(target.index[0])) {
      for (const s of fnBody) {
        if (s.span.start >= loop.span.start) break;
        if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
        const copied = shallowContainerCopy(s.value);
        if (copied && alike(copied, target.object)) copies.add(s.targets[0].name);
      }
    }
    // Names bound to the stepped storage before the step, in this iteration: the entry, or a shallow copy's entry.
    const copyEntry = (e: Expr): boolean => e.kind === 'index' && e.object.kind === 'name' && copies.has(e.object.name) && target.kind === 'index' && e.index.length === 1 && alike(e.index[0], target.index[0]);
    const aliases = new Set<string>();
    for (const s of seq.slice(0, at)) {
      if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && (alike(s.value, target) || copyEntry(s.value))) aliases.add(s.targets[0].name);
    }
    const newWeights = (e: Expr): Through | undefined => {
      if (alike(e, target)) return 'entry';
      if (!inPlace) return undefined;
      if (e.kind === 'name' && aliases.has(e.name)) return 'alias';
      if (copyEntry(e)) return 'copy';
      return undefined;
    };
    let reported = false;
    // The errors carried into the next iteration: read by the loop body before the step (`dZ`, `dA`).
    const carried = (name: string): boolean => readBefore(seq, at, name);
    for (let k = at + 1; k < seq.length && !reported; k++) {
      const s = seq[k];
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
      // A statement of the step's own block (an `if` and its other branch) that comes before the step
      // in the source runs before it, or instead of it, in this iteration: never after it.
      if (s.span.start < step.span.end) continue;
      const name = s.targets[0].name;
      // The product's own target carried (`dZ = W.T @ dZ`), or a value a later statement hands to one (`dA_prev = W.T @ dZ; dZ = dA_prev * g`).
      const error = readsName(s.value, name) || carried(name) ? name : laterCarrier(seq, k, name, carried);
      if (!error) continue;
      const product = productOf(s.value, newWeights, errorsBefore(seq, at, error));
      if (product) {
        out.push({ step, read: product.read, carried: s, error, through: product.through });
        reported = true;
      }
    }
    if (!reported) previousLayerRead(loop, seq, step, inPlace ? copies : new Set(), alike, out);
    if (!reported) {
      // The step's own statement (`seq[at]` is the outermost block holding it when it sits in an `if`).
      let own = at;
      for (let k = at + 1; k < seq.length && seq[k].span.start <= step.span.start; k++) if (within(step.span, seq[k].span)) own = k;
      const ownStmt = seq[own];
      if (changesInPlace(ownStmt, target, alike)) keptListRead(loop, fnBody, seq, own, step, alike, out);
    }
  }
}

/**
 * A list the loop stores the stepped array in before stepping it in place (`kept = []` before the
 * loop, `kept.append(W[k])` in it, `W[k] -= …` after), read at an entry an earlier iteration stored:
 * `delta @ kept[-2].T` after this iteration's append, or `kept[j - 1]` with `j` counting the
 * iterations from 0. The list holds the arrays themselves, so that entry is the array the earlier
 * iteration stepped. Reported once per read.
 */
function keptListRead(loop: Stmt & { kind: 'for' }, fnBody: readonly Stmt[], seq: readonly Stmt[], at: number, step: UpdateSite, alike: Alike, out: SteppedThenPropagated[]): void {
  const target = step.target;
  // `kept.append(<the stepped entry>)` before the step, in this iteration.
  let list: string | undefined;
  let appendAt = -1;
  for (let k = 0; k < at; k++) {
    const s = seq[k];
    const call = s.kind === 'expr' && s.expr.kind === 'call' ? s.expr : undefined;
    if (!call || call.callee.kind !== 'attr' || call.callee.name !== 'append' || call.callee.object.kind !== 'name' || call.args.length !== 1 || !alike(call.args[0], target)) continue;
    list = call.callee.object.name;
    appendAt = k;
  }
  if (list === undefined) return;
  const name = list;
  // A fresh list made in the function before the loop, which the loop changes by that append only.
  if (!madeEmptyBefore(fnBody, loop, name)) return;
  if (listChanges(loop.body, name) !== 1) return;
  const v = loop.target.kind === 'name' ? loop.target.name : undefined;
  const order = v !== undefined ? iterationOrder(loop.iter) : undefined;
  const earlier = (e: Expr, readAt: number): boolean => {
    if (e.kind !== 'index' || e.object.kind !== 'name' || e.object.name !== name || e.index.length !== 1) return false;
    const appended = appendAt < readAt;
    const idx = e.index[0];
    // `kept[-2]` after this iteration's append, `kept[-1]` before it.
    const literal = idx.kind === 'unary' && idx.op === '-' && idx.arg.kind === 'num' ? -idx.arg.value : idx.kind === 'num' ? idx.value : undefined;
    if (literal !== undefined) return literal < 0 && literal <= (appended ? -2 : -1);
    // A count of the iterations from 0, minus at least one: the entry of an earlier iteration.
    if (v === undefined || !order) return false;
    const l = linearIn(idx, v, seq, readAt, 0);
    if (!l || l.coef * order.step !== 1) return false;
    const first = linearIn(order.first, v, seq, -1, 0);
    if (!first || first.coef !== 0) return false;
    const terms = new Map(l.terms);
    for (const [t, c] of first.terms) terms.set(t, (terms.get(t) ?? 0) + l.coef * c);
    const offset = l.constant + l.coef * first.constant;
    return [...terms.values()].every((c) => c === 0) && offset <= -1;
  };
  for (let k = 0; k < seq.length; k++) {
    const s = seq[k];
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const error = s.targets[0].name;
    // The error carried: the product's own target read in it (`delta = (delta @ kept[-2].T) * g`), or read by the loop body before the step.
    if (!readsName(s.value, error) && !readBefore(seq, at, error)) continue;
    const product = productOf(s.value, (e) => (earlier(e, k) ? 'list' : undefined), errorsBefore(seq, k, error));
    if (product && !out.some((f) => f.read.span.start === product.read.span.start && f.read.span.end === product.read.span.end)) {
      out.push({ step, read: product.read, carried: s, error, through: 'list', list: name });
      return;
    }
  }
}

/**
 * The list's last binding in the function's statements before the loop is `kept = []`, and nothing
 * between it and the loop changes the list: when the loop starts, it holds only what the loop appends.
 */
function madeEmptyBefore(fnBody: readonly Stmt[], loop: Stmt, name: string): boolean {
  let made = -1;
  for (let k = 0; k < fnBody.length && fnBody[k].span.end <= loop.span.start; k++) {
    const s = fnBody[k];
    if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === name) made = s.value.kind === 'seq' && s.value.items.length === 0 ? k : -1;
  }
  if (made < 0) return false;
  const between = fnBody.slice(made + 1).filter((s) => s.span.end <= loop.span.start);
  return listChanges(between, name) === 0;
}

/**
 * The step's own statement changes the stepped array in place: an augmented assignment of it
 * (`W[k] -= …`), or a call the catalogue says changes its receiver (`W[k].sub_(…)`, `np.subtract(…, out=W[k])`).
 */
function changesInPlace(stmt: Stmt, target: Expr, alike: Alike): boolean {
  if (stmt.kind === 'assign') return stmt.op !== undefined && stmt.targets.length === 1 && alike(stmt.targets[0], target);
  if (stmt.kind !== 'expr' || stmt.expr.kind !== 'call') return false;
  const call = stmt.expr;
  if (arithmeticPlacement(call) !== 'in-place' && !inPlaceReceiver(call, () => false)) return false;
  const out = call.kwargs.find((k) => k.name === 'out');
  const changed = out ? out.value : call.callee.kind === 'attr' ? call.callee.object : undefined;
  return changed !== undefined && alike(changed, target);
}

const LIST_CHANGES = new Set(['append', 'extend', 'insert', 'pop', 'remove', 'clear', 'reverse', 'sort']);

/** How many statements of the loop (nested ones included) change the list: calls of its mutating methods, assignments to it or its entries. */
function listChanges(stmts: readonly Stmt[], name: string, depth = 0): number {
  if (depth > 30) return Infinity;
  let n = 0;
  const isList = (e: Expr): boolean => (e.kind === 'name' && e.name === name) || (e.kind === 'index' && e.object.kind === 'name' && e.object.name === name);
  for (const s of stmts) {
    if (s.kind === 'assign') {
      if (s.targets.some((t) => someExpr(t, isList))) n++;
      if (someExpr(s.value, (x) => x.kind === 'call' && x.callee.kind === 'attr' && LIST_CHANGES.has(x.callee.name) && isList(x.callee.object))) n++;
    } else if (s.kind === 'expr') {
      if (someExpr(s.expr, (x) => x.kind === 'call' && x.callee.kind === 'attr' && LIST_CHANGES.has(x.callee.name) && isList(x.callee.object))) n++;
    } else if (s.kind === 'for' || s.kind === 'block') n += listChanges(s.body, name, depth + 1);
    else if (s.kind === 'delete' && s.targets.some((t) => someExpr(t, isList))) n++;
  }
  return n;
}

/** The loop variable's first value and its change per iteration: `range(n)` 0, +1; `range(a, b, -1)` a, −1; `reversed(range(n))` n − 1, −1. */
function iterationOrder(iter: Expr): { first: Expr; step: 1 | -1 } | undefined {
  if (iter.kind !== 'call' || iter.callee.kind !== 'name' || iter.kwargs.length > 0) return undefined;
  const zero: Expr = { kind: 'num', value: 0, span: iter.span } as Expr;
  const one: Expr = { kind: 'num', value: 1, span: iter.span } as Expr;
  if (iter.callee.name === 'reversed' && iter.args.length === 1) {
    const inner = iter.args[0];
    if (inner.kind !== 'call' || inner.callee.kind !== 'name' || inner.callee.name !== 'range' || inner.kwargs.length > 0 || inner.args.length < 1 || inner.args.length > 2) return undefined;
    const end = inner.args[inner.args.length - 1];
    return { first: { kind: 'binary', op: '-', left: end, right: one, span: end.span } as Expr, step: -1 };
  }
  if (iter.callee.name !== 'range') return undefined;
  if (iter.args.length === 1) return { first: zero, step: 1 };
  if (iter.args.length === 2) return { first: iter.args[0], step: 1 };
  if (iter.args.length === 3) {
    const st = iter.args[2];
    const value = st.kind === 'num' ? st.value : st.kind === 'unary' && st.op === '-' && st.arg.kind === 'num' ? -st.arg.value : undefined;
    return value === 1 || value === -1 ? { first: iter.args[0], step: value } : undefined;
  }
  return undefined;
}

/**
 * An integer expression as c·v + Σ terms + constant, names assigned once in the loop body before
 * `readAt` (`j = n - 1 - i`) read through their value; other names are terms. Undefined when not linear.
 */
function linearIn(e: Expr, v: string, seq: readonly Stmt[], readAt: number, depth: number): { coef: number; constant: number; terms: Map<string, number> } | undefined {
  if (depth > 6) return undefined;
  if (e.kind === 'num') return { coef: 0, constant: e.value, terms: new Map() };
  if (e.kind === 'unary' && e.op === '-') {
    const a = linearIn(e.arg, v, seq, readAt, depth + 1);
    return a && { coef: -a.coef, constant: -a.constant, terms: new Map([...a.terms].map(([t, c]) => [t, -c])) };
  }
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
    const l = linearIn(e.left, v, seq, readAt, depth + 1);
    const r = linearIn(e.right, v, seq, readAt, depth + 1);
    if (!l || !r) return undefined;
    const sign = e.op === '+' ? 1 : -1;
    const terms = new Map(l.terms);
    for (const [t, c] of r.terms) terms.set(t, (terms.get(t) ?? 0) + sign * c);
    return { coef: l.coef + sign * r.coef, constant: l.constant + sign * r.constant, terms };
  }
  if (e.kind === 'name') {
    if (e.name === v) return { coef: 1, constant: 0, terms: new Map() };
    const assigned = seq.filter((s) => s.kind === 'assign' && s.targets.some((t) => someExpr(t, (x) => x.kind === 'name' && x.name === e.name)));
    if (assigned.length === 0) return { coef: 0, constant: 0, terms: new Map([[e.name, 1]]) };
    const def = assigned[0];
    if (assigned.length !== 1 || def.kind !== 'assign' || def.op || def.targets.length !== 1 || def.targets[0].kind !== 'name' || readAt < 0 || seq.indexOf(def) >= readAt) return undefined;
    return linearIn(def.value, v, seq, readAt, depth + 1);
  }
  return undefined;
}

/**
 * The same weights' entry of the layer above, read anywhere in the iteration of a loop that goes down
 * the layers: `dZ = np.matmul(weights['W' + str(i + 1)].T, dZ)` while the iteration steps
 * `weights['W' + str(i)]`. The iteration before stepped that entry (its `i` was this `i + 1`).
 */
function previousLayerRead(loop: Stmt & { kind: 'for' }, seq: readonly Stmt[], step: UpdateSite, copies: ReadonlySet<string>, alike: Alike, out: SteppedThenPropagated[]): void {
  const target = step.target;
  if (loop.target.kind !== 'name' || !descending(loop.iter) || target.kind !== 'index' || target.index.length !== 1 || !stringKeyed(target.index[0])) return;
  const v = loop.target.name;
  // The entry itself, or that of a shallow copy when the step is in place (`copies` is empty otherwise: a rebinding step leaves the copy's old array).
  const above = (e: Expr): boolean =>
    e.kind === 'index' && e.index.length === 1 && (alike(e.object, target.object) || (e.object.kind === 'name' && copies.has(e.object.name))) && alikeOneAbove(e.index[0], target.index[0], v, alike);
  // Names bound in the iteration to that entry, before they are read.
  const aliases = new Set<string>();
  for (let k = 0; k < seq.length; k++) {
    const s = seq[k];
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    if (above(s.value)) {
      aliases.add(s.targets[0].name);
      continue;
    }
    const error = s.targets[0].name;
    if (!readsName(s.value, error) && !readBefore(seq, k - 1, error)) continue;
    const product = productOf(s.value, (e) => (above(e) || (e.kind === 'name' && aliases.has(e.name)) ? 'previous' : undefined), errorsBefore(seq, k, error));
    if (product) {
      out.push({ step, read: product.read, carried: s, error, through: 'previous' });
      return;
    }
  }
}

/**
 * JS/TS: `for (let i = 1; i <= last; i++)` stepping `W[last - i] = f(W[last - i], …)` (a new matrix
 * bound to the entry) and carrying the error back through `W[last - i + 1]`, the entry the iteration
 * before stepped (`err = multiply(transpose(W[last - i + 1]), delta); delta = dotMultiply(err, …)`).
 * The loop's direction is read off its condition (`i < n`, `i <= n` count up; `i > 0`, `i >= 0` down).
 */
function jsLayerLoop(loop: Stmt & { kind: 'for' }, steps: UpdateSite[], facts: Facts, out: SteppedThenPropagated[]): void {
  if (loop.target.kind !== 'name') return;
  const v = loop.target.name;
  const dir = conditionDirection(loop.iter, v);
  if (dir === 0) return;
  const seq = flatten(loop.body);
  const text = (e: Expr): string => facts.source(e.span);
  for (const step of steps) {
    const target = step.target;
    const at = seq.findIndex((s) => within(step.span, s.span));
    if (at < 0 || target.kind !== 'index' || target.index.length !== 1) continue;
    const stepStmt = seq[at];
    // A rebinding of the entry itself to its new value (not `-=` on a number, not a store elsewhere).
    if (stepStmt.kind !== 'assign' || stepStmt.op || stepStmt.targets.length !== 1 || stepStmt.targets[0] !== target) continue;
    const stepped = linear(target.index[0], v, text);
    if (!stepped || stepped.coef === 0) continue;
    const container = text(target.object);
    // The entry the iteration before stepped: the index at v − dir, i.e. the stepped index minus coef·dir.
    const above = (e: Expr): boolean => {
      if (e.kind !== 'index' || e.index.length !== 1 || text(e.object) !== container) return false;
      const l = linear(e.index[0], v, text);
      return !!l && l.coef === stepped.coef && sameTerms(l.terms, stepped.terms) && l.constant - stepped.constant === -stepped.coef * dir;
    };
    const carried = (name: string): boolean => readBefore(seq, at, name);
    // Names bound in the iteration to that entry or its transpose (`let wT = math.transpose(W[last - i + 1])`).
    const aliases = new Set<string>();
    const viaAlias = (e: Expr): boolean => above(e) || (e.kind === 'name' && aliases.has(e.name));
    for (let k = 0; k < seq.length; k++) {
      const s = seq[k];
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
      const name = s.targets[0].name;
      if (above(s.value) || (s.value.kind === 'call' && s.value.args.length === 1 && above(s.value.args[0]))) {
        aliases.add(name);
        continue;
      }
      aliases.delete(name);
      const error = readsName(s.value, name) || readBefore(seq, k - 1, name) ? name : laterCarrier(seq, k, name, carried);
      if (!error) continue;
      const product = productOf(s.value, (e) => (viaAlias(e) ? 'previous' : undefined), errorsBefore(seq, k, error));
      if (product) {
        out.push({ step, read: product.read, carried: s, error, through: 'previous' });
        break;
      }
    }
  }
}

/** +1 when a C-style loop's condition bounds `v` from above (`v < n`, `v <= n`, `n > v`), −1 from below, 0 otherwise. */
function conditionDirection(cond: Expr, v: string): number {
  if (cond.kind !== 'other' || cond.children.length !== 2 || cond.ops?.length !== 1) return 0;
  const [a, b] = cond.children;
  const op = cond.ops[0];
  const isV = (e: Expr): boolean => e.kind === 'name' && e.name === v;
  const up = op === '<' || op === '<=';
  const down = op === '>' || op === '>=';
  if (isV(a) && !readsName(b, v)) return up ? 1 : down ? -1 : 0;
  if (isV(b) && !readsName(a, v)) return up ? -1 : down ? 1 : 0;
  return 0;
}

/** An index as c·v + Σ terms + constant, with terms the source text of what is not `v` or a number: `last - i + 1`. */
function linear(e: Expr, v: string, text: (e: Expr) => string, depth = 0): { coef: number; constant: number; terms: Map<string, number> } | undefined {
  if (depth > 8) return undefined;
  if (e.kind === 'num') return { coef: 0, constant: e.value, terms: new Map() };
  if (e.kind === 'name' && e.name === v) return { coef: 1, constant: 0, terms: new Map() };
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
    const l = linear(e.left, v, text, depth + 1);
    const r = linear(e.right, v, text, depth + 1);
    if (!l || !r) return undefined;
    const sign = e.op === '+' ? 1 : -1;
    const terms = new Map(l.terms);
    for (const [t, c] of r.terms) terms.set(t, (terms.get(t) ?? 0) + sign * c);
    return { coef: l.coef + sign * r.coef, constant: l.constant + sign * r.constant, terms };
  }
  if ((e.kind === 'name' || e.kind === 'attr') && !readsName(e, v)) return { coef: 0, constant: 0, terms: new Map([[text(e), 1]]) };
  return undefined;
}

function sameTerms(a: Map<string, number>, b: Map<string, number>): boolean {
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) if ((a.get(k) ?? 0) !== (b.get(k) ?? 0)) return false;
  return true;
}

/** The carried error a statement after `k` assigns from `name` (`dZ = dA_prev * g` for `dA_prev`), or undefined. */
function laterCarrier(seq: readonly Stmt[], k: number, name: string, carried: (n: string) => boolean): string | undefined {
  for (const s of seq.slice(k + 1)) {
    if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && readsName(s.value, name) && carried(s.targets[0].name)) return s.targets[0].name;
  }
  return undefined;
}

/** What a product may take the error as: `error` itself, or a value derived from it before statement `at` (`dZ = dA * g'(Z)`). */
function errorsBefore(seq: readonly Stmt[], at: number, error: string): Set<string> {
  const errors = new Set([error]);
  for (const b of seq.slice(0, at)) if (b.kind === 'assign' && !b.op && b.targets.length === 1 && b.targets[0].kind === 'name' && readsName(b.value, error)) errors.add(b.targets[0].name);
  return errors;
}

/** A loop that walks its range downwards: `range(L, 0, -1)`, `reversed(range(L))`. */
function descending(iter: Expr): boolean {
  if (iter.kind !== 'call' || iter.callee.kind !== 'name') return false;
  if (iter.callee.name === 'reversed') return iter.args.length === 1;
  if (iter.callee.name !== 'range' || iter.args.length !== 3) return false;
  const stepArg = iter.args[2];
  return (stepArg.kind === 'unary' && stepArg.op === '-' && stepArg.arg.kind === 'num' && stepArg.arg.value > 0) || (stepArg.kind === 'num' && stepArg.value < 0);
}

/** `a` written as `b` with the loop variable `v` one higher: `'W' + str(i + 1)` for `'W' + str(i)`, `'W{}'.format(i + 1)` for `'W{}'.format(i)`. */
function alikeOneAbove(a: Expr, b: Expr, v: string, alike: Alike): boolean {
  if (b.kind === 'name' && b.name === v) {
    return a.kind === 'binary' && a.op === '+' && ((a.left.kind === 'name' && a.left.name === v && a.right.kind === 'num' && a.right.value === 1) || (a.right.kind === 'name' && a.right.name === v && a.left.kind === 'num' && a.left.value === 1));
  }
  if (a.kind !== b.kind) return false;
  if (a.kind === 'binary' && b.kind === 'binary') return a.op === b.op && alikeOneAbove(a.left, b.left, v, alike) && alikeOneAbove(a.right, b.right, v, alike);
  if (a.kind === 'call' && b.kind === 'call') return a.args.length === b.args.length && a.kwargs.length === 0 && b.kwargs.length === 0 && alike(a.callee, b.callee) && a.args.every((x, i) => alikeOneAbove(x, b.args[i], v, alike));
  return alike(a, b) && !readsName(a, v);
}

/**
 * A product in `value` with the new weights on one side and the error on the other: `W.T @ dZ`,
 * `np.matmul(W.T, dZ)`, `np.dot(W.T, dZ) * g`, `dZ.dot(W.T)`.
 */
function productOf(value: Expr, newWeights: (e: Expr) => Through | undefined, errors: ReadonlySet<string>): { read: Expr; through: Through } | undefined {
  let found: { read: Expr; through: Through } | undefined;
  const weightIn = (e: Expr): { read: Expr; through: Through } | undefined => {
    let hit: { read: Expr; through: Through } | undefined;
    const walk = (x: Expr): void => {
      if (hit) return;
      // `W.shape[0]` reads no value of W.
      if (x.kind === 'attr' && (isShapeAttribute(x.name) || isMetadataAttribute(x.name))) return;
      const through = newWeights(x);
      if (through) {
        hit = { read: x, through };
        return;
      }
      forEachChild(x, walk);
    };
    walk(e);
    return hit;
  };
  const check = (sides: Expr[]): void => {
    for (const side of sides) {
      const w = weightIn(side);
      if (w && sides.some((other) => other !== side && someExpr(other, (x) => x.kind === 'name' && errors.has(x.name)))) {
        found = w;
        return;
      }
    }
  };
  const walk = (x: Expr): void => {
    if (found) return;
    if (x.kind === 'binary' && (x.op === '*' || x.op === '@')) check([x.left, x.right]);
    else if (x.kind === 'call') {
      const callee = x.callee;
      const name = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
      if (name !== undefined && PRODUCT_FUNCTIONS.has(name)) check(callee.kind === 'attr' ? [callee.object, ...x.args] : x.args);
    }
    if (!found) forEachChild(x, walk);
  };
  walk(value);
  return found;
}

/** Whether a statement of the loop body up to the step (included) reads `name` before any assigns it: the value carried in from the last iteration. */
function readBefore(seq: readonly Stmt[], at: number, name: string): boolean {
  for (const s of seq.slice(0, at + 1)) {
    if (s.kind === 'assign') {
      if (readsName(s.value, name)) return true;
      if (!s.op && s.targets.some((t) => t.kind === 'name' && t.name === name)) return false;
    } else if (s.kind === 'expr' && readsName(s.expr, name)) return true;
    else if (s.kind === 'block' && s.heads.some((h) => readsName(h, name))) return true;
  }
  return false;
}

function readsName(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'name' && x.name === name);
}

function namesIn(e: Expr): Set<string> {
  const out = new Set<string>();
  someExpr(e, (x) => {
    if (x.kind === 'name') out.add(x.name);
    return false;
  });
  return out;
}

/** A key of a dict written with a string (`'W' + str(l)`, `f'W{l}'`, `"W1"`): the container is a dict of arrays, not an array. */
function stringKeyed(index: Expr): boolean {
  return someExpr(index, (x) => x.kind === 'str');
}

/** The keys of what the file multiplies as a matrix (`W @ x`, `np.dot(W, x)`, `Matrix.multiply(this.w, x)`, `w.matmul(x)`) or transposes. */
function productOperandKeys(body: Stmt[]): Set<string> {
  return unionOver(productOperands, body);
}

/** One top-level statement's matrix-product and transpose operands' keys (statementAnswers.ts). */
const productOperands = statementQuestion('productOperandKeys', (stmt: Stmt): readonly string[] => {
  const out = new Set<string>();
  const add = (x: Expr): void => {
    const k = exprKey(x);
    if (k !== undefined) out.add(k);
  };
  walkAll([stmt], (x) => {
    if (x.kind === 'binary' && x.op === '@') {
      add(x.left);
      add(x.right);
    } else if (x.kind === 'call') {
      const callee = x.callee;
      const name = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
      if (name !== undefined && PRODUCT_FUNCTIONS.has(name)) {
        x.args.forEach(add);
        if (callee.kind === 'attr') add(callee.object);
      }
    }
    const t = transposeOperand(x);
    if (t) add(t);
  });
  return [...out];
});
