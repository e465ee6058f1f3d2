// The one recognizer of differentiation calls: which call differentiates what, in every framework
// Nabla reads. Everything that asks "is this loss differentiated?" or "is this value a gradient?"
// (loss sites, training steps, framework setups, step directions) asks here.
//
//   loss.backward(), scaler.scale(loss).backward(), accelerator.backward(loss)     'backward'
//   torch.autograd.grad(loss, params)                                               'autograd'
//   tape.gradient(loss, sources)                                                     'tape'
//   tf.gradients(loss, vars), opt.compute_gradients(loss), opt.minimize(loss)       'tf1'
//   slim.learning.create_train_op(loss, opt)                                        'tf1'
//   optimizer.minimize(() => loss), tf.variableGrads(() => loss)                    'closure'
//   jax.grad(loss_fn), jax.value_and_grad(f), tf.grad(f), tf.valueAndGrads(f)       'function'
import type { Expr, Stmt } from '../ir';
import { calleePath, exprKey } from './keys';
import { isBackwardOwnerName } from './roles';
import { isAutodiffModule, isGradientTape } from './catalogue';

type Call = Extract<Expr, { kind: 'call' }>;

export type AutodiffKind = 'backward' | 'autograd' | 'tape' | 'tf1' | 'closure' | 'function';

export interface AutodiffCall {
  kind: AutodiffKind;
  /** The differentiated expression, when it is written at the call (`loss` in `loss.backward()`). */
  loss?: Expr;
  /** For 'closure' and 'function': the function argument (a lambda, or a name of one). */
  fn?: Expr;
  /** `tape.gradient(loss, sources)`, `minimize(..., var_list=...)`: what it is taken with respect to. */
  sources?: Expr;
  /** For 'tape': the tape variable. */
  tapeName?: string;
}

/** What a recognizer needs to know of the call's context. */
export interface AutodiffContext {
  /** Is this expression a module (`torch`, `tf`) rather than a value? */
  isModule(e: Expr): boolean;
  /** Does this name hold a `tf.GradientTape()`? */
  isTape(name: string): boolean;
  language: 'python' | 'script';
  /** The module an imported root name comes from (`scipy` for `from scipy import optimize`). */
  importOf(root: string): string | undefined;
  /** Is the root name a member imported from a module (`from layers import Linear`), not a module itself (`import utils`)? */
  importsMember?(root: string): boolean;
}

/** Function transformations that differentiate their function argument. */
const FUNCTION_GRADS = new Set(['grad', 'value_and_grad', 'valueAndGrad', 'grads', 'valueAndGrads']);

/** Every call name `autodiffCall` and `gradientValue` can recognize, for the CLI's lexical pre-check (prefilter.ts). */
export const AUTODIFF_NAMES: ReadonlySet<string> = new Set(['backward', '_backward', 'manual_backward', 'grad', 'gradient', 'gradients', 'compute_gradients', 'create_train_op', 'minimize', 'variableGrads', ...FUNCTION_GRADS]);

const nameOf = (c: Call): string | undefined => (c.callee.kind === 'attr' ? c.callee.name : c.callee.kind === 'name' ? c.callee.name : undefined);

/**
 * Whether an expression runs autodiff or reads what it left, by the call's name alone (`loss.backward()`,
 * `tape.gradient(…)`) or a framework's gradient attribute (`W.grad`): a lexical test for a whole function
 * body, where `autodiffCall` would need each call's context.
 */
export function readsAutodiff(e: Expr): boolean {
  if (e.kind === 'attr') return e.name === 'grad';
  return e.kind === 'call' && (e.callee.kind === 'attr' || e.callee.kind === 'name') && AUTODIFF_NAMES.has(e.callee.name);
}

/** What a call differentiates, or undefined when it is not a differentiation. */
export function autodiffCall(c: Call, ctx: AutodiffContext): AutodiffCall | undefined {
  const name = nameOf(c);
  if (!name) return undefined;
  const path = calleePath(c.callee) ?? [];
  const module = c.callee.kind === 'attr' && ctx.isModule(c.callee.object);
  const kw = (k: string): Expr | undefined => c.kwargs.find((x) => x.name === k)?.value;
  if (name === 'backward' && c.callee.kind === 'attr') {
    if (path.includes('autograd')) return c.args[0] ? { kind: 'backward', loss: c.args[0] } : undefined;
    if (module) {
      // `Linear.backward(dout, cache)` with `from layers import Linear`: a hand-written layer of the
      // project (found or not), not a framework's differentiation. A project module imported whole
      // (`import train_utils`, `train_utils.backward(loss)`) may wrap `loss.backward()`: still one.
      const root = path[0];
      const from = root !== undefined ? ctx.importOf(root) : undefined;
      if (from !== undefined && !isAutodiffModule(from) && ctx.importsMember?.(root!) !== false) return undefined;
      return c.args[0] ? { kind: 'backward', loss: c.args[0] } : undefined;
    }
    const owner = path.slice(0, -1).join('.');
    if (c.args[0] && isBackwardOwnerName(owner)) return { kind: 'backward', loss: c.args[0] };
    let loss = c.callee.object;
    // `scaler.scale(loss).backward()` (mixed precision) differentiates loss.
    if (loss.kind === 'call' && nameOf(loss) === 'scale' && loss.args.length === 1) loss = loss.args[0];
    return { kind: 'backward', loss };
  }
  if (name === 'manual_backward' && c.args[0]) return { kind: 'backward', loss: c.args[0] };
  if (name === 'grad' && path.includes('autograd')) {
    const loss = c.args[0] ?? kw('outputs');
    return loss ? { kind: 'autograd', loss } : undefined;
  }
  if (name === 'gradient' && c.callee.kind === 'attr' && c.callee.object.kind === 'name' && ctx.isTape(c.callee.object.name)) {
    const loss = c.args[0] ?? kw('target');
    return loss ? { kind: 'tape', loss, sources: c.args[1] ?? kw('sources'), tapeName: c.callee.object.name } : undefined;
  }
  if (ctx.language === 'python' && ((name === 'gradients' && path.length === 2 && module) || name === 'compute_gradients')) {
    return c.args[0] ? { kind: 'tf1', loss: c.args[0] } : undefined;
  }
  // `slim.learning.create_train_op(total_loss, optimizer)`, `tf.contrib.training.create_train_op(...)`: TF1's minimize.
  if (ctx.language === 'python' && name === 'create_train_op' && (module || path.includes('learning') || path.includes('training'))) {
    const loss = c.args[0] ?? kw('total_loss');
    return loss ? { kind: 'tf1', loss, sources: kw('variables_to_train') } : undefined;
  }
  if (name === 'minimize' || name === 'variableGrads') {
    // scipy.optimize.minimize(fun, x0) is numerical optimization, not autodiff.
    const root = path[0];
    if (path.includes('optimize') || root === 'scipy' || (root !== undefined && /^scipy\b/.test(ctx.importOf(root) ?? ''))) return undefined;
    const fnArg = c.args[0] ?? kw('loss');
    if (!fnArg) return undefined;
    const sources = kw('var_list') ?? c.args[2];
    if (fnArg.kind === 'lambda' || name === 'variableGrads' || ctx.language !== 'python') return { kind: 'closure', fn: fnArg, sources };
    return { kind: 'tf1', loss: fnArg, fn: fnArg, sources };
  }
  if (FUNCTION_GRADS.has(name) && c.args[0] && (module || c.callee.kind === 'name')) return { kind: 'function', fn: c.args[0] };
  return undefined;
}

/**
 * The gradient a backward call is handed to carry back: torch's `out.backward(g)` (its `gradient`
 * argument), a hand-written layer's `layer.backward(G_x, optim)`. Not the loss that
 * `accelerator.backward(loss)` or `torch.autograd.backward(loss)` differentiate.
 */
export function upstreamGradientArg(c: Call, isModule: (e: Expr) => boolean): Expr | undefined {
  if (nameOf(c) !== 'backward' || c.callee.kind !== 'attr') return undefined;
  const path = calleePath(c.callee) ?? [];
  if (isModule(c.callee.object) || path.includes('autograd') || isBackwardOwnerName(path.slice(0, -1).join('.'))) return undefined;
  return c.args[0] ?? c.kwargs.find((k) => k.name === 'gradient')?.value;
}

/**
 * A call whose value is a gradient: `jax.grad(loss_fn)(params)`, `tf.grad(f)(x)` (the call of a
 * function transformation), and `tape.gradient(...)` / `torch.autograd.grad(...)` themselves.
 * Returns what is differentiated: the objective expression or function.
 */
export function gradientValue(c: Call, ctx: AutodiffContext): { objective: Expr | undefined } | undefined {
  if (c.callee.kind === 'call') {
    const inner = autodiffCall(c.callee, ctx);
    if (inner?.kind === 'function') return { objective: inner.fn };
  }
  const own = autodiffCall(c, ctx);
  if (own && (own.kind === 'tape' || own.kind === 'autograd')) return { objective: own.loss };
  return undefined;
}

/** `dW, db = tape.gradient(loss, [W, b])`, `gW, gb = torch.autograd.grad(loss, [W, b])`: a call whose whole value is the gradients. */
export function returnsGradients(c: Call): boolean {
  const name = nameOf(c);
  return name === 'gradient' || (name === 'grad' && c.callee.kind === 'attr' && /autograd$/.test(exprKey(c.callee.object) ?? ''));
}

/**
 * A call whose whole value is a gradient, read strictly: `tape.gradient(target, sources)` on a tape (a
 * value, never a module such as `np`), `torch.autograd.grad(loss, W)`, `jax.grad(f)(params)`, `grad(f)(x)`.
 */
export function wholeGradientCall(c: Call, isModule: (e: Expr) => boolean, tapes?: ReadonlySet<string>): boolean {
  if (c.callee.kind === 'call') {
    const inner = c.callee.callee;
    const name = inner.kind === 'attr' ? inner.name : inner.kind === 'name' ? inner.name : undefined;
    return name === 'grad' && (inner.kind === 'name' || (inner.kind === 'attr' && isModule(inner.object)));
  }
  if (c.callee.kind !== 'attr') return false;
  if (c.callee.name === 'grad') return isModule(c.callee.object) && /\bautograd$/.test(exprKey(c.callee.object) ?? '');
  // `tape.gradient(a, b)` on a name the file binds to a tape (`with tf.GradientTape() as tape`, `tape = tf.GradientTape()`), when the caller knows them.
  return c.callee.name === 'gradient' && c.args.length >= 2 && c.callee.object.kind === 'name' && !isModule(c.callee.object) && (!tapes || tapes.has(c.callee.object.name));
}

const tapeMemo = new WeakMap<readonly Stmt[], Set<string>>();

/**
 * The names a file's statements bind to a gradient tape: the target of `with tf.GradientTape() as tape:`
 * (any head of a `with` that calls `GradientTape`) and of `tape = tf.GradientTape(persistent=True)`,
 * in any function of the file. A parameter a caller hands a tape under the same name counts with it.
 */
export function tapeNames(body: readonly Stmt[]): ReadonlySet<string> {
  let names = tapeMemo.get(body);
  if (names) return names;
  names = new Set();
  const out = names;
  const isTape = (e: Expr | undefined): boolean => e?.kind === 'call' && ((e.callee.kind === 'attr' && isGradientTape(e.callee.name)) || (e.callee.kind === 'name' && isGradientTape(e.callee.name)));
  const visit = (stmts: readonly Stmt[], depth: number): void => {
    if (depth > 60) return;
    for (const s of stmts) {
      if (s.kind === 'assign' && !s.op && isTape(s.value)) for (const t of s.targets) if (t.kind === 'name') out.add(t.name);
      if (s.kind === 'block') {
        if (s.label === 'with') s.heads.forEach((h, i) => { const a = s.aliases?.[i]; if (isTape(h) && a?.kind === 'name') out.add(a.name); });
        visit(s.body, depth + 1);
      } else if (s.kind === 'for' || s.kind === 'function' || s.kind === 'class') visit(s.body, depth + 1);
    }
  };
  visit(body, 0);
  tapeMemo.set(body, names);
  return names;
}

/** `jax.value_and_grad(f)(w)`, `tf.valueAndGrad(f)(x)`: a curried call that hands back the value, then the gradient. */
export function curriedValueAndGradient(c: Call, isModule: (e: Expr) => boolean): boolean {
  if (c.callee.kind !== 'call') return false;
  const inner = c.callee.callee;
  const name = inner.kind === 'attr' ? inner.name : inner.kind === 'name' ? inner.name : undefined;
  return (name === 'value_and_grad' || name === 'valueAndGrad') && (inner.kind === 'name' || (inner.kind === 'attr' && isModule(inner.object)));
}

/** tfjs `const { value, grads } = tf.variableGrads(f)`, `tf.valueAndGrads(f)`: the value with its gradients. */
export function returnsValueAndGradients(name: string): boolean {
  return /^(variableGrads|valueAndGrads|valueAndGrad)$/.test(name);
}

/**
 * Whether a file can have a differentiated loss at all: it differentiates something itself, or it
 * imports a framework with autodiff (a loss method whose caller elsewhere calls `backward()`).
 * Hand-written NumPy code does neither: its gradients are written out and its loss is only reported.
 */
export function mayDifferentiate(differentiates: boolean, importedModules: Iterable<string>): boolean {
  if (differentiates) return true;
  for (const m of importedModules) if (isAutodiffModule(m)) return true;
  return false;
}

/**
 * A project class that differentiates its own values: it defines `backward()`, or records a
 * `_backward` closure per value (micrograd's `Value` and its ports). `names` are its methods and
 * its members' last components (`_backward` of `this._backward`).
 */
export function isAutodiffClass(names: Iterable<string>): boolean {
  for (const n of names) if (n === 'backward' || n === '_backward') return true;
  return false;
}
