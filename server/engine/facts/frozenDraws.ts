// Random draws made on the host (NumPy's `np.random.*`, Python's `random.*`) inside code TensorFlow
// traces into a graph (NB211): a Keras layer's or model's `call` (and a Keras model's `train_step`,
// `test_step`, `predict_step`), which `fit`, `predict`, a Functional model and `tf.function` all trace,
// and a `@tf.function`. Tracing runs the Python once: the draw's value becomes a constant of the
// graph, so a dropout mask, a DropBlock or a noise drawn this way is the same on every step.
// Methods of the file the traced method calls on `self` are read too (two calls deep). Silent for
// `tf.random.*`, for a draw inside a function handed to `tf.numpy_function` / `tf.py_function` (a
// nested function, not read), for `build` (run once on purpose), for a layer built with
// `dynamic=True` (Keras runs it eagerly), for PyTorch modules and for plain eager code: a layer's `call`
// in a file that trains with a `GradientTape` and never traces (no `tf.function`, no `fit`/`predict`)
// runs eagerly, a new draw each call, and so does a layer of one module that the project trains from
// another in such a loop, with nothing that traces it (eagerLayers.ts).
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { forEachChild, type ClassDef, type FunctionDef } from './scope';
import { KERAS_EAGER_KEYWORD, frameworkPath, isGraphTracingDecorator, isHostRandomDraw, isKerasCallBase, isKerasGraphRun, isKerasTracedMethod } from './catalogue';
import { definedInFile, ownStatements, programIndex, walkAll } from './program';
import { trainingFacts } from './loops';
import { layerRunsEagerly } from './eagerLayers';
import { baseClasses, methodOf, resolveCall } from './resolve';

export interface FrozenDraw {
  /** The draw (`np.random.binomial(1, rate, size=…)`). */
  draw: Expr & { kind: 'call' };
  /** The traced function whose run makes it (the layer's `call`, the `@tf.function`). */
  traced: FunctionDef;
  /** The function the draw is written in (`traced`, or a method it calls). */
  fn: FunctionDef;
  /** Why `traced` is traced. */
  why: 'keras' | 'tf.function';
}

const cache = new WeakMap<Facts, FrozenDraw[]>();

export function frozenDraws(facts: Facts): FrozenDraw[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

const MAX_HOPS = 6;
/** How many method calls deep from the traced function a draw is looked for. */
const MAX_CALL_DEPTH = 2;

function collect(facts: Facts): FrozenDraw[] {
  if (facts.language !== 'python' || !/\brandom\b/.test(facts.text)) return [];
  const index = programIndex(facts);
  const out: FrozenDraw[] = [];
  let eager: boolean | undefined;
  for (const fn of index.functions) {
    if (!definedInFile(facts, fn)) continue;
    let why: FrozenDraw['why'] | undefined;
    if (fn.decorators.some((d) => isGraphTracingDecorator(frameworkPath(d.kind === 'call' ? d.callee : d, fn.scope.parent ?? fn.scope, fn.span.start, facts.scopes.imports, 'python')))) why = 'tf.function';
    else if (fn.cls && isKerasTracedMethod(fn.name) && derivesFromKeras(facts, fn.cls, 0) && !builtDynamic(facts, fn.cls)) why = 'keras';
    if (!why) continue;
    const found = drawIn(facts, fn, 0, new Set());
    if (!found) continue;
    if (why === 'keras' && fn.name === 'call' && ((eager ??= trainsEagerly(facts)) || layerRunsEagerly(facts, fn.cls!))) continue;
    out.push({ draw: found.draw, traced: fn, fn: found.fn, why });
  }
  return out;
}

/**
 * The file trains with a `GradientTape` and nothing in it traces: no `@tf.function` or `tf.function(…)`,
 * no Keras run that traces the model (`fit`, `predict`…). A layer's `call` then runs eagerly, a new draw
 * each step.
 */
function trainsEagerly(facts: Facts): boolean {
  if (trainingFacts(facts).tapeBlocks.length === 0) return false;
  const index = programIndex(facts);
  let traces = false;
  // Decorators included: `@tf.function` and `tf.function(step)` both read `tf.function`.
  walkAll(facts.module.body, (e) => {
    if (traces) return;
    if (e.kind === 'call' && e.callee.kind === 'attr' && isKerasGraphRun(e.callee.name)) traces = true;
    else if ((e.kind === 'attr' || e.kind === 'name') && isGraphTracingDecorator(frameworkPath(e, index.scopeAt(e.span.start), e.span.start, facts.scopes.imports, 'python'))) traces = true;
  });
  return !traces;
}

function derivesFromKeras(facts: Facts, cls: ClassDef, hops: number): boolean {
  if (hops > MAX_HOPS) return false;
  const parsed = facts.program.parsedOf(cls.span);
  if (!parsed || parsed.language !== 'python') return false;
  if (cls.bases.some((b) => isKerasCallBase(frameworkPath(b, cls.outer, cls.span.start, parsed.scopes.imports, 'python')))) return true;
  return baseClasses(facts.program, cls).some((base) => base !== cls && derivesFromKeras(facts, base, hops + 1));
}

/** `super().__init__(dynamic=True, …)` in the class's constructor: Keras runs the layer eagerly, never traced. */
function builtDynamic(facts: Facts, cls: ClassDef): boolean {
  const init = methodOf(facts.program, cls, '__init__');
  if (!init) return false;
  let dynamic = false;
  visitOwn(init.body, (e) => {
    if (e.kind === 'call' && e.kwargs.some((k) => k.name === KERAS_EAGER_KEYWORD && k.value.kind === 'name' && k.value.name === 'True')) dynamic = true;
  });
  return dynamic;
}

/** Every expression of a function's own statements: not nested functions', classes' or lambdas'. */
function visitOwn(body: Stmt[], visit: (e: Expr, stmt: Stmt) => void): void {
  for (const st of ownStatements(body)) {
    const expr = (e: Expr): void => {
      if (e.kind === 'lambda') return;
      visit(e, st);
      forEachChild(e, expr);
    };
    switch (st.kind) {
      case 'assign':
        st.targets.forEach(expr);
        expr(st.value);
        break;
      case 'expr':
        expr(st.expr);
        break;
      case 'return':
        if (st.value) expr(st.value);
        break;
      case 'for':
        expr(st.iter);
        break;
      case 'block':
        st.heads.forEach(expr);
        break;
      default:
        break;
    }
  }
}

/** The first host draw whose value is used in `fn`, or in a method of this file it calls on `self`. */
function drawIn(facts: Facts, fn: FunctionDef, depth: number, seen: Set<FunctionDef>): { draw: Expr & { kind: 'call' }; fn: FunctionDef } | undefined {
  if (seen.has(fn)) return undefined;
  seen.add(fn);
  const index = programIndex(facts);
  let found: { draw: Expr & { kind: 'call' }; fn: FunctionDef } | undefined;
  const helpers: FunctionDef[] = [];
  visitOwn(fn.body, (e, st) => {
    if (found || e.kind !== 'call') return;
    // A bare statement's value is thrown away (`np.random.shuffle(idx)` aside, which changes its argument in place).
    if (st.kind === 'expr' && st.expr === e) return;
    const scope = index.scopeAt(e.span.start);
    if (isHostRandomDraw(frameworkPath(e.callee, scope, e.span.start, facts.scopes.imports, 'python'))) {
      found = { draw: e, fn };
      return;
    }
    if (depth < MAX_CALL_DEPTH && e.callee.kind === 'attr' && e.callee.object.kind === 'name' && e.callee.object.receiver) {
      const target = resolveCall(facts.program, e, scope, e.span.start);
      if (target && !target.constructs && target.fn.cls && definedInFile(facts, target.fn)) helpers.push(target.fn);
    }
  });
  if (found) return found;
  for (const h of helpers) {
    const inner = drawIn(facts, h, depth + 1, seen);
    if (inner) return inner;
  }
  return undefined;
}
