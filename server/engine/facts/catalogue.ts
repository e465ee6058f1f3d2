// Framework knowledge, in one place: which calls reduce, which functions of the array libraries
// keep, scale or drop a value's sign, which values are zero, which methods update a tensor in
// place or cut its gradient, what each regularizer computes (with its defaults and its ½
// convention), and the optimizers, layers and models of torch, Keras, TF1, optax and
// TensorFlow.js. Names of the libraries' APIs only: naming conventions are roles.ts's. Every
// formula is from ../shared/reference/framework-semantics.md, which cites the frameworks'
// documentation. Facts modules ask here; rules never hold framework tables of their own.
import { table } from '../table';
import type { Expr, Stmt } from '../ir';
import type { LanguageId } from '../types';
import type { Dialect } from '../../math/terms';
import type { ImportedName, Scope } from './scope';

const numberOf = (e: Expr): number | undefined => (e.kind === 'num' ? e.value : e.kind === 'unary' && e.op === '-' && e.arg.kind === 'num' ? -e.arg.value : undefined);

// ------------------------------------------------------------------ reductions

/** Reductions of a tensor or a list to its sum: `np.sum`, `x.sum()`, `tf.reduce_sum`, builtin `sum`, `math.fsum`. */
export const SUM_FUNCTIONS: ReadonlySet<string> = new Set(['sum', 'reduce_sum', 'nansum', 'fsum']);
/** Reductions to the mean. */
export const MEAN_FUNCTIONS: ReadonlySet<string> = new Set(['mean', 'reduce_mean', 'nanmean']);
/** The smaller of two values: builtin `min(1, c)`, `np.minimum(1, c)`, `torch.minimum`. */
export const MIN_FUNCTIONS: ReadonlySet<string> = new Set(['min', 'minimum']);
/** Sums of a list of tensors: `tf.add_n([...])`, `tf.addN([...])`. */
export const LIST_SUMS: ReadonlySet<string> = new Set(['add_n', 'addN']);

export function isSumFunction(name: string): boolean {
  return SUM_FUNCTIONS.has(name) || LIST_SUMS.has(name);
}

/** Keyword arguments that make a reduction partial (`np.sum(W, axis=0)`): the result is no longer a scalar. */
export const REDUCTION_KEYWORDS: ReadonlySet<string> = new Set(['axis', 'dim', 'axes', 'keepdims', 'keepdim']);
/** Keyword arguments of a reduction that only keep the reduced axes as length one: the entries summed are the same. */
export const KEEP_DIMS_KEYWORDS: ReadonlySet<string> = new Set(['keepdims', 'keepdim']);
/**
 * Sums that iterate their operand rather than reduce it: builtin `sum(x)` and `math.fsum(x)` add a
 * 2-D array's rows, and fail on a scalar. `bare` is a call by a bare name (`sum(x)`, not `np.sum(x)`).
 */
export function iteratingSum(name: string, bare: boolean): boolean {
  return name === 'fsum' || (bare && name === 'sum');
}
/** Reductions that keep a loss's sign: `loss.mean()`, `tf.reduce_sum(loss)`, `loss.item()`, `loss.squeeze()`. */
export function isSignPreservingReduction(name: string): boolean {
  return /^(mean|sum|reduce_mean|reduce_sum|item|squeeze|asScalar|as_scalar)$/.test(name);
}

// ------------------------------------------------------------------ tensor math

/** Names that are modules, not values, even when a file's imports were not seen (`np`, `F`, `K`, `Math`). */
export const MODULE_ROOTS: ReadonlySet<string> = new Set(['np', 'numpy', 'torch', 'tf', 'jnp', 'jax', 'math', 'K', 'keras', 'F', 'nn', 'optax', 'onp', 'scipy', 'Math', 'tfjs', 'lax']);
/** Arithmetic as calls: `a.add(b)`, `tf.sub(a, b)`, `torch.mul(a, b)`, `a.neg()`. */
export const ARITHMETIC_CALLS: Readonly<Record<string, '+' | '-' | '*' | '/' | 'neg'>> = table({
  add: '+', sub: '-', subtract: '-', mul: '*', multiply: '*', div: '/', divide: '/', true_divide: '/', neg: 'neg', negative: 'neg',
});
/**
 * Which of those calls leave their receiver as it was and return a new tensor (torch's `add`, `sub`,
 * `mul`, `div`, `neg`; NumPy, TF, tfjs and JAX arrays alike), and which change it in place and return
 * it: torch's forms ending in `_` (`add_`, `sub_`, `mul_`, `div_`, `neg_`). TF's in-place forms are
 * `assign_add`/`assign_sub` (ADDS, SUBTRACTS below), never an arithmetic call's name; a call given
 * `out=` (`torch.add(a, b, out=c)`) writes c, whatever its name.
 */
export function arithmeticPlacement(call: Expr & { kind: 'call' }): 'out-of-place' | 'in-place' | undefined {
  if (call.callee.kind !== 'attr') return undefined;
  const name = call.callee.name;
  if (call.kwargs.some((k) => k.name === 'out')) return 'in-place';
  if (ARITHMETIC_CALLS[name]) return 'out-of-place';
  if (name.endsWith('_') && ARITHMETIC_CALLS[name.slice(0, -1)] && TORCH_IN_PLACE_ARITHMETIC.has(name)) return 'in-place';
  return undefined;
}
/** torch's in-place arithmetic methods: each returns its receiver, changed (`buf.mul_(m).add_(g)` is the new buf). */
const TORCH_IN_PLACE_ARITHMETIC: ReadonlySet<string> = new Set(['add_', 'sub_', 'subtract_', 'mul_', 'multiply_', 'div_', 'divide_', 'true_divide_', 'neg_', 'negative_']);
/** torch's in-place scalings of a tensor by a factor: `g.mul_(c)`, `g.multiply_(c)`. */
export const IN_PLACE_SCALES: ReadonlySet<string> = new Set(['mul_', 'multiply_']);
/** torch's in-place adds of a term: the receiver moves by a term of the arguments (`p.add_(u, alpha=-lr)`, `p.addcdiv_(m, d)`). */
export const IN_PLACE_TERM_ADDS: ReadonlySet<string> = new Set(['add_', 'sub_', 'addcdiv_', 'addcmul_']);
/** Wrappers that keep a norm's value for a ratio of norms: a clamp of the weight norm, `.item()`, `float(…)`, `.detach()`, `.abs()`. */
export const NORM_KEEPING_WRAPPERS: ReadonlySet<string> = new Set(['clamp', 'clip', 'clamp_', 'item', 'float', 'detach', 'abs']);
/** Elementwise squares (`np.square(W)`); `pow`/`power` with exponent 2 are read separately. */
export const SQUARE_FUNCTIONS: ReadonlySet<string> = new Set(['square']);
/** Powers with the exponent as an argument: `x.pow(2)`, `np.power(x, 2)`. */
export const POWER_FUNCTIONS: ReadonlySet<string> = new Set(['pow', 'power']);
/**
 * The x of an elementwise square written as one: `x ** 2`, `np.square(x)`, `x.square()`, `x.pow(2)`,
 * `torch.pow(x, 2)`, `np.power(x, 2)` (a product `x * x` is left to the caller, which knows its keys).
 */
export function squareBase(e: Expr): Expr | undefined {
  if (e.kind === 'binary' && e.op === '**') return e.right.kind === 'num' && e.right.value === 2 ? e.left : undefined;
  if (e.kind !== 'call') return undefined;
  const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
  const receiver = e.callee.kind === 'attr' ? e.callee.object : undefined;
  if (name !== undefined && SQUARE_FUNCTIONS.has(name)) return e.args.length === 1 ? e.args[0] : e.args.length === 0 ? receiver : undefined;
  if (name === undefined || !POWER_FUNCTIONS.has(name)) return undefined;
  const exp = e.args.length === 2 ? e.args[1] : e.args[0];
  if (exp?.kind !== 'num' || exp.value !== 2) return undefined;
  return e.args.length === 2 ? e.args[0] : receiver;
}
/** The square root: `np.sqrt(v)`, `v.sqrt()`, `Math.sqrt(v)`. */
export const ROOT_FUNCTIONS: ReadonlySet<string> = new Set(['sqrt']);
/** Methods that bound a tensor's values and keep its sign: `x.clamp(min=eps)`, `x.clip(eps, None)`. */
export const CLAMP_METHODS: ReadonlySet<string> = new Set(['clamp', 'clip', 'clamp_min']);
/** Elementwise absolute values: `np.abs`, `np.absolute`, `math.fabs`, `W.abs()`. */
export const ABS_FUNCTIONS: ReadonlySet<string> = new Set(['abs', 'absolute', 'fabs']);
/** Logarithms: negated, the mark of a negative log-likelihood (a loss); not negated, of a likelihood to climb. */
export const LOG_FUNCTIONS: ReadonlySet<string> = new Set(['log', 'log1p', 'log2', 'log10', 'log_softmax', 'logsumexp', 'log_sigmoid', 'logsigmoid']);
/** Elementwise signs, the subgradient of |W|: `np.sign`, `torch.sgn`. */
export const SIGN_FUNCTIONS: ReadonlySet<string> = new Set(['sign', 'sgn']);
/**
 * Joins of tensors that keep every entry of every piece once: `np.concatenate((W, b))`, `torch.cat([W, b])`,
 * `tf.concat([W, b], 0)`, `np.hstack((W, b))`, `np.vstack`, `np.stack`. A reduction over all the entries
 * of the result, or an elementwise function of it, is one over the pieces: Σ concat(W, b)² = ΣW² + Σb².
 */
const CONCAT_FUNCTIONS: ReadonlySet<string> = new Set(['concatenate', 'cat', 'concat', 'hstack', 'vstack', 'stack']);

/**
 * The pieces a module's join call is given as a tuple or list written out (two or more), its axis
 * aside; undefined for anything else (a method `a.concat(b)`, a list held in a variable, `out=`).
 */
export function concatenatedPieces(e: Expr, isModule: (x: Expr) => boolean): Expr[] | undefined {
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || !CONCAT_FUNCTIONS.has(e.callee.name) || !isModule(e.callee.object)) return undefined;
  const list = e.args[0];
  if (list?.kind !== 'seq' || list.items.length < 2 || e.args.length > 2) return undefined;
  if (e.kwargs.some((k) => k.name !== 'axis' && k.name !== 'dim')) return undefined;
  if (list.items.some((item) => item.kind === 'other')) return undefined; // a starred item
  return list.items;
}

/**
 * The pieces numpy's index-syntax joins are given: `np.c_[a, b]` (side by side, as columns) and
 * `np.r_[a, b]` (one after the other); undefined for anything else.
 */
export function indexJoinPieces(e: Expr, isModule: (x: Expr) => boolean): Expr[] | undefined {
  if (e.kind !== 'index' || e.object.kind !== 'attr' || (e.object.name !== 'c_' && e.object.name !== 'r_') || !isModule(e.object.object)) return undefined;
  return e.index.length >= 2 && e.index.every((i) => i.kind !== 'other' || i.children.length > 0) ? e.index : undefined;
}

/**
 * The nonzero constant an array is filled with: `np.ones(shape)`, `np.ones_like(W)`, `torch.ones(n, 1)`
 * (1), `np.full(shape, c)`, `np.full_like(W, c)` (c), a number; undefined for anything else (a zero too).
 */
export function nonzeroFill(e: Expr): number | undefined {
  const n = numberOf(e);
  if (n !== undefined) return n !== 0 ? n : undefined;
  if (e.kind !== 'call') return undefined;
  const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
  if (fn === 'ones' || fn === 'ones_like') return 1;
  if (fn === 'full' || fn === 'full_like') {
    const c = numberOf(e.args[1] ?? e.kwargs.find((k) => k.name === 'fill_value')?.value ?? e);
    return c !== undefined && c !== 0 ? c : undefined;
  }
  return undefined;
}

/** The array a copy call copies: `W.copy()`, `W.clone()`, `np.copy(W)`, `np.array(W)`; undefined for anything else. */
export function copiedArray(e: Expr, isModule: (x: Expr) => boolean): Expr | undefined {
  if (e.kind !== 'call' || e.callee.kind !== 'attr') return undefined;
  if ((e.callee.name === 'copy' || e.callee.name === 'clone') && e.args.length === 0 && !isModule(e.callee.object)) return e.callee.object;
  if ((e.callee.name === 'copy' || e.callee.name === 'array') && isModule(e.callee.object) && e.args.length === 1 && e.kwargs.every((k) => k.name === 'dtype' || k.name === 'copy')) return e.args[0];
  return undefined;
}

/** Methods that return the same entries flattened to one axis: `x.flatten()`, `x.ravel()`. */
export const FLATTENING_METHODS: ReadonlySet<string> = new Set(['flatten', 'ravel']);

/** Norms: `np.linalg.norm`, `torch.linalg.vector_norm`, `tf.linalg.global_norm`. */
export const NORM_FUNCTIONS: ReadonlySet<string> = new Set(['norm', 'vector_norm', 'global_norm']);
/**
 * Calls that reduce a tensor to one size number (`w.pow(2).mean()`, `torch.norm(w)`, `w.abs().sum()`), and
 * the scalar read-outs around them (`.item()`): a guard that compares such a number with a stored target
 * reads a weight's size (normRestoration.ts).
 */
export const SIZE_REDUCTIONS: ReadonlySet<string> = new Set(['mean', 'sum', 'norm', 'vector_norm', 'std', 'var']);
export const SCALAR_READOUTS: ReadonlySet<string> = new Set(['item', 'numpy', 'float']);

/**
 * The order a norm call's `ord` / `p` argument asks for, and whether the norm is ‖W‖₂ = √ΣW² of the
 * flattened tensor (`frobenius`). Absent, `None`, `'fro'` and `'euclidean'` are, in every framework
 * (`np.linalg.norm(W)`, `np.linalg.norm(W, 'fro')`, `torch.norm(W)`, `tf.norm(W)`). An explicit `2`
 * depends on the function: `torch.norm(W, p=2)`, `W.norm(2)` (torch and tfjs tensors),
 * `torch.linalg.vector_norm` and `tf.norm` (with no axis) flatten the tensor, so it is √ΣW² again; but
 * `np.linalg.norm(W, 2)`, `jnp.linalg.norm` and `torch.linalg.norm(W, 2)` of a matrix are its
 * spectral norm (the largest singular value). `path` is the callee's canonical path (frameworkPath),
 * `method` whether it is a tensor's method.
 */
export function normOrder(ordArg: Expr | undefined, path: readonly string[] | undefined, method: boolean): { ord: number | undefined; frobenius: boolean } {
  if (ordArg === undefined || (ordArg.kind === 'name' && ordArg.name === 'None')) return { ord: 2, frobenius: true };
  if (ordArg.kind === 'str') return ordArg.value === 'fro' || ordArg.value === 'euclidean' ? { ord: 2, frobenius: true } : { ord: undefined, frobenius: false };
  const ord = numberOf(ordArg);
  if (ord !== 2) return { ord, frobenius: false };
  const flattens = method || (path !== undefined && (path.at(-1) === 'vector_norm' || ['tensorflow', 'tfjs'].includes(path[0]) || (path[0] === 'torch' && path.length === 2 && path[1] === 'norm')));
  return { ord, frobenius: flattens };
}

/**
 * A norm of an autodiff framework's tensor: `torch.norm`, `torch.linalg.norm`, `tf.norm`,
 * `jnp.linalg.norm`, or a tensor's `.norm()` method (torch, tfjs; NumPy arrays have none). Its
 * gradient is the framework's, not one written by hand.
 */
export function isAutodiffNorm(path: readonly string[] | undefined, method: boolean): boolean {
  return method || (path !== undefined && ['torch', 'tensorflow', 'tfjs', 'jax', 'keras'].includes(path[0]));
}
/** Inner products of two tensors: `np.vdot(W, W)`, `np.dot(w, w)`, `torch.inner`. */
export const DOT_FUNCTIONS: ReadonlySet<string> = new Set(['vdot', 'dot', 'inner', 'tensordot']);
/** Calls whose value is a scalar when their argument is: `len`, `float`, `sqrt`, `exp`, `Number`. */
export const SCALAR_FUNCTIONS: ReadonlySet<string> = new Set(['len', 'float', 'int', 'sqrt', 'exp', 'log', 'min', 'max', 'round', 'pow', 'Number', 'parseFloat']);
/**
 * A number cast to an array of one value: `np.array(wd, dtype=np.float32)`, `xp.asarray(lr)`,
 * `torch.tensor(beta)`, `tf.constant(0.1)`, `np.float32(eps)`, `K.variable(lr, name='lr')`. The operand; the caller decides whether
 * it is a number (a cast of anything else keeps its old reading).
 */
export function scalarCastOperand(call: Expr & { kind: 'call' }, modulePath?: ModulePath): Expr | undefined {
  if (call.callee.kind !== 'attr' || !SCALAR_CASTS.has(call.callee.name) || call.callee.object.kind === 'call') return undefined;
  // `variable` only on Keras's backend by the file's imports (`K.variable`, `keras.backend.variable`), not any object's method.
  if (call.callee.name === 'variable' && !isKerasBackend(call.callee.object, modulePath)) return undefined;
  if (call.kwargs.some((k) => !CAST_KEYWORDS.has(k.name))) return undefined;
  // NumPy's dtype may be the second positional argument: `np.array(wd, np.float32)`.
  const positional = call.callee.name === 'array' || call.callee.name === 'asarray' ? 2 : 1;
  if (call.args.length < 1 || call.args.length > positional) return undefined;
  return call.args[0];
}
// `variable`: Keras 2's backend `K.variable(lr, name='lr')`, where its optimizers keep their rate and decay.
const SCALAR_CASTS: ReadonlySet<string> = new Set(['array', 'asarray', 'tensor', 'as_tensor', 'constant', 'variable', 'float16', 'float32', 'float64', 'bfloat16']);
const CAST_KEYWORDS: ReadonlySet<string> = new Set(['dtype', 'device', 'requires_grad', 'copy', 'name']);
/** A value cast to a dtype, which keeps it: `tf.cast(lr, v.dtype)`, Keras 3's `ops.cast(wd, "float32")`, `K.cast(x, K.floatx())`. The operand. */
export function dtypeCastOperand(call: Expr & { kind: 'call' }): Expr | undefined {
  if (call.callee.kind !== 'attr' || call.callee.name !== 'cast' || call.callee.object.kind === 'call') return undefined;
  if (call.kwargs.some((k) => k.name !== 'dtype') || call.args.length < 1 || call.args.length > 2) return undefined;
  return call.args[0];
}
/** Products of two tensors, whose sign is the product of their signs: `np.dot`, `torch.matmul`, `tf.multiply`, `einsum`. */
export const PRODUCT_FUNCTIONS: ReadonlySet<string> = new Set(['dot', 'matmul', 'mm', 'outer', 'matMul', 'multiply', 'mul', 'inner', 'bmm', 'mv', 'einsum']);
/** Matrix products (contractions), whose operands cannot be one number broadcast: `np.dot`, `torch.matmul`, `a.mm(b)`, `np.outer`, `tf.matMul`. */
export const MATRIX_PRODUCT_FUNCTIONS: ReadonlySet<string> = new Set(['dot', 'matmul', 'mm', 'outer', 'matMul', 'bmm', 'mv', 'tensordot', 'einsum', 'inner']);
/** Magnitudes, nonnegative whatever their argument: `sqrt`, `abs`, `exp`, `norm`, `softplus`. */
export const MAGNITUDE_FUNCTIONS: ReadonlySet<string> = new Set(['sqrt', 'abs', 'absolute', 'fabs', 'exp', 'norm', 'square', 'hypot', 'rsqrt', 'softplus']);
/** Counts written as a call, positive whatever their argument: `len(y)`, `float(n)`, `numel(x)`. */
export const COUNT_FUNCTIONS: ReadonlySet<string> = new Set(['len', 'size', 'float', 'int', 'numel']);
/** Attributes that read a tensor's or variable's value in place: torch's `p.data`, Keras and tfjs `v.value`. */
export const VALUE_ATTRIBUTES: ReadonlySet<string> = new Set(['data', 'value']);
/**
 * A tensor's values read or written through a field: `VALUE_ATTRIBUTES`, and `_data`, where the
 * from-scratch autograd libraries written after torch keep a tensor's storage (`p._data = p.add(u)._data`).
 * `_data` on a method's receiver (`self._data`, `this._data`: the IR's `receiver`) is an object's own
 * field (a dataset's rows), not a tensor's storage.
 */
export function isStorageAttribute(e: Expr & { kind: 'attr' }): boolean {
  if (VALUE_ATTRIBUTES.has(e.name)) return true;
  return e.name === '_data' && !(e.object.kind === 'name' && e.object.receiver);
}
/** Transposes written as an attribute: NumPy's and torch's `W.T`, JAX's and torch's `W.mT`. */
export const TRANSPOSE_ATTRIBUTES: ReadonlySet<string> = new Set(['T', 'mT']);
/** Attributes that are a tensor's own entries seen another way: its value or storage (`p.data`, `v.value`) or its transpose (`W.T`). */
export function isEntriesView(name: string): boolean {
  return VALUE_ATTRIBUTES.has(name) || TRANSPOSE_ATTRIBUTES.has(name);
}
/**
 * Fields a framework gives a tensor or variable (torch's `p.grad`, `.data`, `.T`, JAX's `.mT`, sizes):
 * read through the object itself, never a field a hand-written net keeps on its units (fieldWrites.ts).
 */
export function isFrameworkField(name: string): boolean {
  return name === 'grad' || name === 'val' || isEntriesView(name) || isSizeAttribute(name);
}
/** Counts written as a method without arguments: `X.size()`, `x.numel()`. */
export const COUNT_METHODS: ReadonlySet<string> = new Set(['size', 'numel']);
/** Functions (not methods) whose value is a positive scalar: sizes, counts, magnitudes. */
export function isSizeFunction(name: string): boolean {
  return /^(len|float|int|size|numel|Number|sqrt|abs|exp|norm|square|fabs|hypot|max|min|maximum|minimum)$/.test(name);
}
/** Methods that cast an array to another dtype and keep its values (`mask.astype(int)`, `m.float()`). */
export const CAST_METHODS: ReadonlySet<string> = new Set(['astype', 'float', 'double', 'int', 'long', 'type']);
/** Calls that keep their first operand's value and sign: reshapes, copies, casts, clipping, reductions, host copies. */
export const PASS_THROUGH_FUNCTIONS: ReadonlySet<string> = new Set([
  'T', 'transpose', 'reshape', 'flatten', 'ravel', 'copy', 'clone', 'detach', 'view', 'squeeze', 'unsqueeze', 'expand_dims',
  'array', 'asarray', 'tensor', 'sum', 'mean', 'reduce_sum', 'reduce_mean', 'nansum', 'nanmean', 'astype', 'float', 'double',
  'item', 'dataSync', 'arraySync', 'data', 'clip', 'clamp', 'clip_by_value', 'clipByValue', 'contiguous', 'to', 'cpu', 'numpy', 'squeeze_', 'average',
]);
/** Activations and forward passes of the frameworks (`sigmoid`, `softmax`, `model.forward`, `predict_proba`, flax `apply`): their value is a prediction. */
export function isActivationOrForward(name: string): boolean {
  return /^(sigmoid|softmax|tanh|relu|forward|predict|logistic|expit|predict_proba|apply|__call__)$/i.test(name);
}
/** Reshapes, views and copies that keep a tensor's elements: `W.flatten()`, `W.view(-1)`, `p.detach()`, `W.T`. */
export const VIEW_FUNCTIONS: ReadonlySet<string> = new Set(['flatten', 'ravel', 'reshape', 'view', 'detach', 'clone', 'copy', 'T', 'flat']);
/** Views that share a tensor's storage (`p.grad.view(-1)`, `g.data`): a write through one is a write to the other. */
export const SHARED_STORAGE_VIEWS: ReadonlySet<string> = new Set(['view', 'view_as', 'reshape', 'flatten', 'ravel', 'detach', 'data', 'T']);
/** In-place writes that erase what a tensor held: `g.zero_()`, `g.fill_(0)`. */
export const IN_PLACE_RESETS: ReadonlySet<string> = new Set(['zero_', 'fill_']);
/**
 * `x.data`: a tensor's storage, which torch (and the from-scratch autograd libraries written after it)
 * writes in place to step a parameter outside autograd.
 */
export function isTensorStorage(e: Expr): e is Expr & { kind: 'attr' } {
  return e.kind === 'attr' && e.name === 'data';
}
/** Tensor attributes that are sizes: `W.shape`, `x.size`, `arr.length`, `t.ndim`. */
export function isSizeAttribute(name: string): boolean {
  return /^(shape|size|length|ndim)$/.test(name);
}
/**
 * The tensor whose number of dimensions `e` is: torch's `p.ndim`, `p.dim()`, `p.ndimension()`, and
 * `len(p.shape)`, `len(p.size())` (NumPy's `p.ndim` too). Undefined for anything else.
 */
export function tensorRankOf(e: Expr): Expr | undefined {
  if (e.kind === 'attr' && e.name === 'ndim') return e.object;
  if (e.kind === 'call' && e.args.length === 0 && e.kwargs.length === 0 && e.callee.kind === 'attr' && (e.callee.name === 'dim' || e.callee.name === 'ndimension')) return e.callee.object;
  if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'len' && e.args.length === 1 && e.kwargs.length === 0) {
    const a = e.args[0];
    if (a.kind === 'attr' && a.name === 'shape') return a.object;
    if (a.kind === 'call' && a.args.length === 0 && a.kwargs.length === 0 && a.callee.kind === 'attr' && a.callee.name === 'size') return a.callee.object;
  }
  return undefined;
}
/** torch's `Module.parameters()`: every parameter of a module, with no names. */
export const TORCH_PARAMETERS = 'parameters';
/** Tensor attributes that describe it without its values: sizes, `t.dtype`, `t.device`. */
export function isMetadataAttribute(name: string): boolean {
  return isSizeAttribute(name) || /^(dtype|device)$/.test(name);
}
/** List methods that add their arguments to the list: `ret.append(g)`, `out.extend(gs)`, `updates.push(u)`. */
export const LIST_APPEND_METHODS: ReadonlySet<string> = new Set(['append', 'extend', 'push']);
/** Calls that build an array shaped like their first argument, reading nothing of it but its shape: `np.zeros_like(p)`, `torch.ones_like(p)`. */
export function isShapedLikeCall(name: string): boolean {
  return /_like$/.test(name);
}
/** Attributes that unpack into dimensions: `N, D = X.shape`, `n, m = x.size`. */
export function isShapeAttribute(name: string): boolean {
  return /^(shape|size)$/.test(name);
}

// ------------------------------------------------------------------ zeros

/**
 * What kind of zero a value is: a scalar zero that starts a running sum (`0`, `0.0`,
 * `torch.tensor(0.)`, `tf.constant(0.0)`, `tf.scalar(0)`, `np.zeros(())`, `torch.zeros(1)`,
 * micrograd's `Value(0)`), or an array of zeros that starts a gradient (`np.zeros_like(W)`,
 * `torch.zeros(shape)`, `[0] * n`, `w.fill(0)`).
 */
export function zeroValue(e: Expr): 'scalar' | 'array' | undefined {
  if (numberOf(e) === 0) return 'scalar';
  if (e.kind === 'binary' && e.op === '*' && e.left.kind === 'seq' && e.left.items.length > 0 && e.left.items.every((i) => numberOf(i) === 0)) return 'array';
  if (e.kind === 'comprehension') return zeroValue(e.element) ? 'array' : undefined;
  if (e.kind !== 'call') return undefined;
  const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
  if (!fn) return undefined;
  const first = e.args[0];
  if (/^(tensor|constant|scalar|array|float32|Variable|as_tensor|Value)$/.test(fn) && first && numberOf(first) === 0) return 'scalar';
  if (fn === 'zeros') {
    const scalarShape = e.args.length === 0 || (e.args.length === 1 && (numberOf(e.args[0]) === 1 || (e.args[0].kind === 'seq' && e.args[0].items.length <= 1)));
    return scalarShape ? 'scalar' : 'array';
  }
  if (/^(zeros_like|zerosLike|empty_like|zeroes)$/.test(fn)) return 'array';
  if (fn === 'fill' && first && numberOf(first) === 0) return 'array';
  return undefined;
}

/** Calls that hold the one array they are given: `np.matrix(np.zeros(s))` is still that array of zeros. */
export const ARRAY_HOLDERS: ReadonlySet<string> = new Set(['matrix', 'array', 'asarray']);

/** JavaScript's typed arrays: `new Float64Array(n)` is n zeros. */
const TYPED_ARRAYS: ReadonlySet<string> = new Set(['Float64Array', 'Float32Array', 'Int32Array', 'Int16Array', 'Int8Array', 'Uint32Array', 'Uint16Array', 'Uint8Array']);

/** `new Float64Array(n)`, `new Float32Array(w.length)`: a typed array of zeros (a length, not an array to copy, as far as the call shows). */
export function zeroTypedArray(e: Expr): boolean {
  if (e.kind !== 'call' || e.callee.kind !== 'name' || !TYPED_ARRAYS.has(e.callee.name) || e.args.length !== 1 || e.kwargs.length > 0) return false;
  const n = e.args[0];
  return n.kind === 'num' || n.kind === 'name' || (n.kind === 'attr' && n.name === 'length');
}

/** `new Array(n)`, `Array(n)`, `new Array()`: JavaScript's array of n empty slots (the argument is a length; nothing flows from it). */
export function emptyJsArray(e: Expr): boolean {
  if (e.kind !== 'call' || e.callee.kind !== 'name' || e.callee.name !== 'Array' || e.args.length > 1 || e.kwargs.length > 0) return false;
  const n = e.args[0];
  return !n || (n.kind !== 'lambda' && n.kind !== 'seq' && n.kind !== 'str');
}

// ------------------------------------------------------------------ arrays built

/** Array libraries whose constructors `builtArray` reads (canonical import paths' roots). */
const ARRAY_LIBRARIES: ReadonlySet<string> = new Set(['numpy', 'torch', 'jax', 'tensorflow']);
/** Random arrays whose positional arguments are the shape: `np.random.randn(3, 4)`, `torch.rand(n, m)`. */
const SHAPED_BY_ARGUMENTS: ReadonlySet<string> = new Set(['randn', 'rand', 'standard_normal', 'random_sample', 'random', 'empty', 'zeros', 'ones']);
/** Random arrays that are one number unless given a size: `np.random.normal(0, s, size=(n, m))`; TF's take the shape first. */
const SIZED_SAMPLES: ReadonlySet<string> = new Set(['normal', 'uniform', 'laplace', 'truncated_normal', 'randint']);
/** Wrappers that hold the array they are given: `nn.Parameter(torch.randn(n))`, `tf.Variable(...)`, `np.asarray(x)`. */
const ARRAY_WRAPPERS: ReadonlySet<string> = new Set(['Parameter', 'Variable', 'asarray', 'array', 'tensor', 'as_tensor', 'from_numpy', 'copy', 'zeros_like', 'ones_like', 'randn_like', 'rand_like', 'empty_like', 'full_like']);

/**
 * What an array library's call builds, given its canonical path (`['numpy', 'random', 'randn']`):
 * `'array'` for an array of several entries by its shape arguments (`np.random.randn(3, 4)`,
 * `torch.zeros(n, m)`, `np.random.normal(0, 1, size=(n, m))`, `tf.random.normal([n, m])`),
 * `'wraps'` for a call whose value is its first argument's shape (`nn.Parameter(x)`, `np.zeros_like(W)`),
 * else undefined (`np.random.randn()` and `np.zeros(())` are one number; anything else is not known).
 */
export function builtArray(path: readonly string[] | undefined, e: Expr & { kind: 'call' }): 'array' | 'wraps' | undefined {
  if (!path || path.length < 2 || !ARRAY_LIBRARIES.has(path[0])) return undefined;
  const fn = path[path.length - 1];
  const shapeArg = (x: Expr | undefined): boolean => !!x && numberOf(x) !== 1 && !(x.kind === 'seq' && (x.items.length === 0 || x.items.every((i) => numberOf(i) === 1)));
  if (path[0] === 'tensorflow') {
    if (SIZED_SAMPLES.has(fn) || fn === 'zeros' || fn === 'ones') return e.args[0]?.kind === 'seq' && shapeArg(e.args[0]) ? 'array' : undefined;
    return fn === 'Variable' && e.args.length >= 1 ? 'wraps' : undefined;
  }
  if (SHAPED_BY_ARGUMENTS.has(fn)) return e.args.length >= 1 && e.args.some(shapeArg) ? 'array' : undefined;
  if (SIZED_SAMPLES.has(fn)) return e.kwargs.some((k) => k.name === 'size' && shapeArg(k.value)) || (path[0] === 'numpy' && shapeArg(e.args[2])) ? 'array' : undefined;
  return ARRAY_WRAPPERS.has(fn) && e.args.length >= 1 ? 'wraps' : undefined;
}

/**
 * The shape an array library's call builds, when its dimensions are written out: `np.random.randn(n, m)`
 * and `np.zeros((n, m))` → [n, m], `np.random.uniform(lo, hi, (n, m))` and `size=(n, m)` → [n, m],
 * `tf.random.normal([n, m])` → [n, m]; a wrapper's (`nn.Parameter(x)`) is its argument's, read by the caller.
 */
export function builtArrayShape(path: readonly string[] | undefined, e: Expr & { kind: 'call' }): Expr[] | undefined {
  const built = builtArray(path, e);
  if (built !== 'array' || !path) return undefined;
  const fn = path[path.length - 1];
  const dims = (x: Expr | undefined): Expr[] | undefined => (!x ? undefined : x.kind === 'seq' ? x.items : [x]);
  if (path[0] === 'tensorflow') return dims(e.args[0]);
  if (SHAPED_BY_ARGUMENTS.has(fn)) return e.args.length === 1 ? dims(e.args[0]) : e.args.some((a) => a.kind === 'seq') ? undefined : [...e.args];
  if (SIZED_SAMPLES.has(fn)) return dims(e.kwargs.find((k) => k.name === 'size')?.value ?? (path[0] === 'numpy' ? e.args[2] : undefined));
  return undefined;
}

/** A scalar one: `1`, `1.0`, `jnp.ones(())`, `np.ones([])`, `jnp.array(1.0)`, `torch.tensor(1.)` (a running product's start). */
export function oneValue(e: Expr): boolean {
  if (numberOf(e) === 1) return true;
  if (e.kind !== 'call') return false;
  const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
  if (!fn) return false;
  const first = e.args[0];
  if (/^(tensor|constant|scalar|array|asarray|float32|Variable|as_tensor)$/.test(fn)) return first !== undefined && numberOf(first) === 1;
  if (fn === 'ones') return e.args.length === 0 || (e.args.length === 1 && (numberOf(first) === 1 || (first.kind === 'seq' && first.items.length === 0)));
  return false;
}

// ------------------------------------------------------------------ in-place updates

/** A method call that changes its receiver: `p.sub_(g, alpha=lr)`, `w.assign_add(d)`, `p.mul_(1 - lr * wd)`, `v.copy_(x)`. */
export interface InPlaceUpdate {
  target: Expr;
  /** `+` and `-` add or subtract `operand`; `=` sets the target to it; `*` scales the target by it. */
  op: '+' | '-' | '=' | '*';
  /** What is added, subtracted, assigned or multiplied, with an `alpha=` or a leading scalar folded in as a product. */
  operand: Expr;
}

const ADDS = new Set(['add_', 'assign_add']);
const SUBTRACTS = new Set(['sub_', 'assign_sub']);
const SETS = new Set(['assign', 'copy_', 'set_']);
const SCALES = new Set(['mul_']);
/**
 * Module functions that write their first argument with their second: Keras 2's backend
 * `K.update(x, v)` / `update_add` / `update_sub`, TF1's `tf.assign(x, v)` / `assign_add` / `assign_sub`.
 */
const MODULE_WRITES: Record<string, '+' | '-' | '='> = table({ update: '=', update_add: '+', update_sub: '-', assign: '=', assign_add: '+', assign_sub: '-' });

/**
 * The canonical path of a module expression: `K.update`'s receiver of `from keras import backend as K`
 * is keras.backend; a root used without an import by its usual meaning (`tf`, `K`).
 */
export type ModulePath = (e: Expr) => string[] | undefined;

/** Keras's backend by the file's imports: `from keras import backend as K`, `tf.keras.backend`, the bare `K` of Keras code. */
function isKerasBackend(e: Expr, modulePath: ModulePath | undefined): boolean {
  const path = modulePath?.(e);
  if (!path) return false;
  const i = path.indexOf('keras');
  return i >= 0 && path[i + 1] === 'backend' && path.length === i + 2;
}

/** Whether a module writes variables by `MODULE_WRITES`: Keras's backend or TensorFlow, not a project module with its own `update(a, b)`. */
function writesVariables(target: Expr, modulePath: ModulePath | undefined): boolean {
  const root = modulePath?.(target)?.[0];
  return root === 'keras' || root === 'tensorflow';
}

/** `K.update(p, v)`, `tf.assign_sub(w, d)`: a module's write of its first argument with its second. */
export function isModuleWrite(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean, modulePath: ModulePath): boolean {
  return call.callee.kind === 'attr' && MODULE_WRITES[call.callee.name] !== undefined && call.args.length === 2 && isModule(call.callee.object) && writesVariables(call.callee.object, modulePath);
}

/** The in-place update a call makes (receivers that are modules, `torch.add(...)`, are not updates, but their writes `K.update(p, v)` are). */
export function inPlaceUpdate(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean, modulePath?: ModulePath): InPlaceUpdate | undefined {
  if (call.callee.kind !== 'attr') return undefined;
  const method = call.callee.name;
  // The method first: most calls are none of these, and `isModule` (a path and a lookup) is then not asked.
  const moduleWrite = MODULE_WRITES[method];
  const adds = ADDS.has(method) || SUBTRACTS.has(method);
  if (!adds && !SETS.has(method) && !SCALES.has(method) && moduleWrite === undefined) return undefined;
  const target = call.callee.object;
  const [first, second] = call.args;
  if (!first) return undefined;
  if (isModule(target)) {
    // `K.update(p, new_p)`, `K.update_sub(p, lr * g)`, `tf.assign(p, new_p)`: the module's write of its first argument.
    if (moduleWrite === undefined || !second || call.args.length !== 2 || !writesVariables(target, modulePath)) return undefined;
    return { target: first, op: moduleWrite, operand: second };
  }
  if (moduleWrite !== undefined && !adds && !SETS.has(method)) return undefined;
  const product = (a: Expr, b: Expr): Expr => ({ kind: 'binary', op: '*', left: a, right: b, span: b.span });
  if (adds) {
    const alpha = call.kwargs.find((k) => k.name === 'alpha')?.value;
    // The old torch signature `p.data.add_(-lr, grad)` (and `add_(scalar, tensor)`) puts the scalar first.
    const operand = second && (numberOf(first) !== undefined || method === 'add_') ? product(first, second) : alpha ? product(alpha, first) : first;
    return { target, op: ADDS.has(method) ? '+' : '-', operand };
  }
  if (SETS.has(method)) return { target, op: '=', operand: first };
  if (SCALES.has(method) && call.args.length === 1) return { target, op: '*', operand: first };
  return undefined;
}

/** The weight of an in-place blend toward a value, `m.lerp_(g, w)` (m ← m + w·(g − m)): a moving average with β = 1 − w. */
export function inPlaceBlendWeight(call: Expr & { kind: 'call' }): Expr | undefined {
  if (call.callee.kind !== 'attr' || call.callee.name !== 'lerp_') return undefined;
  return call.args[1] ?? call.kwargs.find((k) => k.name === 'weight')?.value;
}

/**
 * JAX's functional scatter-add `x.at[idx].add(v)`: a copy of x with v added at idx (JAX arrays are
 * immutable, so `x = x.at[idx].add(v)` is how an accumulation into a slice is written).
 */
export function functionalScatterAdd(e: Expr): { array: Expr; added: Expr } | undefined {
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || e.callee.name !== 'add' || e.args.length !== 1 || e.kwargs.length > 0) return undefined;
  const at = e.callee.object;
  if (at.kind !== 'index' || at.object.kind !== 'attr' || at.object.name !== 'at') return undefined;
  return { array: at.object.object, added: e.args[0] };
}

/**
 * torch's multi-tensor in-place calls on a list of tensors: `torch._foreach_mul_(params, f)` scales
 * each by f; `torch._foreach_add_(params, others, alpha=a)` adds a·others (`_foreach_sub_` subtracts).
 */
export interface ForeachInPlace {
  list: Expr;
  op: '*' | '+' | '-';
  /** The factor (for `*`) or the scalar of an added list (`alpha=`), when given. */
  operand: Expr;
  /** The list added (for `+` / `-`). */
  other?: Expr;
}

const FOREACH = new Map<string, ForeachInPlace['op']>([
  ['_foreach_mul_', '*'],
  ['_foreach_add_', '+'],
  ['_foreach_sub_', '-'],
]);

export function foreachInPlace(call: Expr & { kind: 'call' }): ForeachInPlace | undefined {
  if (call.callee.kind !== 'attr' || call.callee.object.kind !== 'name' || call.callee.object.name !== 'torch') return undefined;
  const op = FOREACH.get(call.callee.name);
  const [list, second] = call.args;
  if (!op || !list || !second) return undefined;
  if (op === '*') return { list, op, operand: second };
  const alpha = call.kwargs.find((k) => k.name === 'alpha')?.value;
  return { list, op, operand: alpha ?? second, other: second };
}

// ------------------------------------------------------------------ iteration

/**
 * What the loop variable at `position` of a loop target walks: an element of a collection, an index
 * or a key. `for g, p in zip(grads, params)` → element of grads / params; `for i, w in
 * enumerate(ws)` → counter / element of ws; `for k, v in d.items()` (`Object.entries(d)`,
 * `d.entries()`, `named_parameters()`) → key / element of d; `for p in m.parameters()` → element of
 * m.parameters(); `for i in range(n)` → counter; `xs.forEach((x) => ...)` → element of xs.
 */
/** Python's `range(…)`: its arguments are integer counts (bounds of an index), never arrays (NB102's counters.ts). */
export function isCountingCall(name: string): boolean {
  return name === 'range';
}

export type LoopSource = { kind: 'element'; collection: Expr } | { kind: 'counter' } | { kind: 'key' };

export function loopSource(iter: Expr, position: number, isModule: (e: Expr) => boolean): LoopSource | undefined {
  if (iter.kind === 'call') {
    const callee = iter.callee;
    const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
    if (callee.kind === 'name' && name === 'enumerate' && iter.args[0]) return position === 0 ? { kind: 'counter' } : loopSource(iter.args[0], position - 1, isModule);
    if (callee.kind === 'name' && name === 'zip') return iter.args[position] ? loopSource(iter.args[position], 0, isModule) : undefined;
    if (callee.kind === 'name' && name === 'range') return { kind: 'counter' };
    if (callee.kind === 'attr' && (name === 'items' || name === 'entries' || name === 'named_parameters')) {
      if (position === 0) return { kind: 'key' };
      if (position !== 1) return undefined;
      // `Object.entries(d)` and `np.ndenumerate`-like module functions take the collection as an argument.
      const owner = isModule(callee.object) || (callee.object.kind === 'name' && callee.object.name === 'Object') ? iter.args[0] : callee.object;
      if (!owner) return undefined;
      return { kind: 'element', collection: name === 'named_parameters' ? { ...iter, callee: { ...callee, name: 'parameters' } } : owner };
    }
    if (callee.kind === 'attr' && name === 'values' && position === 0) return { kind: 'element', collection: callee.object };
  }
  return position === 0 ? { kind: 'element', collection: iter } : undefined;
}

/**
 * The iterable whose items a nested tuple at `position` of a loop target unpacks: `for i, (p, g) in
 * enumerate(zip(ps, gs))` → `zip(ps, gs)` for position 1; `for (a, b), (c, d) in zip(xs, ys)` → xs, ys.
 */
export function nestedIterable(iter: Expr, position: number): Expr | undefined {
  if (iter.kind !== 'call' || iter.callee.kind !== 'name') return undefined;
  if (iter.callee.name === 'enumerate') return position === 1 ? iter.args[0] : undefined;
  if (iter.callee.name === 'zip') return iter.args[position];
  return undefined;
}

/** Functions that map a function over a pytree or a list: `jax.tree_util.tree_map(f, params, grads)`, `map(f, xs)`. */
export function isTreeMap(name: string): boolean {
  return /^(tree_map|map|tree_multimap|map_structure|starmap)$/.test(name);
}
/** The leaves of a pytree: `jax.tree_util.tree_leaves(params)`, `jax.tree.leaves(params)`. */
export function isTreeLeaves(name: string): boolean {
  return /^(tree_leaves|leaves|tree_flatten)$/.test(name);
}

// ------------------------------------------------------------------ parameters and models

/** Methods that list a model's parameters (torch, micrograd and its ports). */
export const PARAMETER_LISTS: ReadonlySet<string> = new Set(['parameters']);
/** TF1 functions listing the graph's trainable variables: `tf.trainable_variables()`. */
export const GRAPH_VARIABLE_LISTS: ReadonlySet<string> = new Set(['trainable_variables']);
/** `model.parameters()`, `model.named_parameters()`: the model's parameters. */
export function isParametersMethod(name: string): boolean {
  return /^(parameters|named_parameters)$/.test(name);
}
/**
 * A list comprehension a module's array constructor turns into one array of its items:
 * `np.array([np.sum(w ** 2) for w in ws])`, `np.asarray(...)`, `torch.stack([...])`, `torch.tensor([...])`.
 * A total sum of that array is the sum of the items. The comprehension; undefined for anything else
 * (a method, an axis, another keyword than a dtype).
 */
export function listArrayComprehension(e: Expr, isModule: (x: Expr) => boolean): (Expr & { kind: 'comprehension' }) | undefined {
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || !LIST_ARRAYS.has(e.callee.name) || !isModule(e.callee.object)) return undefined;
  if (e.args.length !== 1 || e.kwargs.some((k) => k.name !== 'dtype')) return undefined;
  return e.args[0].kind === 'comprehension' ? e.args[0] : undefined;
}
const LIST_ARRAYS: ReadonlySet<string> = new Set(['array', 'asarray', 'stack', 'tensor', 'as_tensor']);
/** Linear solves and inverses (`np.linalg.solve`, `inv`, `pinv`, `lstsq`): a Newton or least-squares step, which needs no learning rate. */
export function isLinearSolve(name: string): boolean {
  return /^(solve|inv|pinv|lstsq|cho_solve|lu_solve|solve_triangular|cholesky_solve|linalg_solve)$/.test(name);
}
/** `np.array(xs)`, `np.asarray(xs)`: the list an array is made of (the same entries), or undefined. */
export function listArrayOperand(e: Expr, isModule: (x: Expr) => boolean): Expr | undefined {
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || (e.callee.name !== 'array' && e.callee.name !== 'asarray') || !isModule(e.callee.object)) return undefined;
  return e.args.length === 1 && e.kwargs.every((k) => k.name === 'dtype') ? e.args[0] : undefined;
}
/**
 * A shallow copy of a container: `d.copy()`, `dict(d)`, `copy.copy(d)`. The container copied, or
 * undefined. Its entries are the same objects as the original's (an array changed in place through
 * one is changed in the other); `copy.deepcopy(d)` copies them. On an array, `.copy()` copies the
 * data: callers ask only of a container whose entries are keyed by strings.
 */
export function shallowContainerCopy(e: Expr): Expr | undefined {
  if (e.kind !== 'call' || e.kwargs.length !== 0) return undefined;
  const callee = e.callee;
  if (callee.kind === 'attr' && callee.name === 'copy' && e.args.length === 0) return callee.object.kind === 'name' && callee.object.name === 'copy' ? undefined : callee.object;
  if (e.args.length !== 1) return undefined;
  if (callee.kind === 'name' && callee.name === 'dict') return e.args[0];
  if (callee.kind === 'attr' && callee.name === 'copy' && callee.object.kind === 'name' && callee.object.name === 'copy') return e.args[0];
  return undefined;
}
/** Builtins that copy an iterable into a sequence of the same items: `list(model.parameters())`. */
export function isSequenceCopy(name: string): boolean {
  return name === 'list' || name === 'tuple';
}
/** Methods whose elements are parameters when the receiver is a parameter collection: `model.parameters()`, `params.values()`. */
export function isParameterIterator(name: string): boolean {
  return /^(parameters|values)$/.test(name);
}
/** Methods and attributes that list a container's tensors: `parameters()`, `values()`, `items()`, `trainable_variables`, `weights`. */
export function isTensorListMethod(name: string): boolean {
  return /^(parameters|values|items|trainable_variables|trainable_weights|weights)$/.test(name);
}
/** Attributes that list the weights a Keras/tfjs model trains: `model.trainable_variables`, `model.trainableWeights`. */
export const TRAINABLE_WEIGHT_LISTS: ReadonlySet<string> = new Set(['trainable_variables', 'trainable_weights', 'trainableWeights']);
/** Attributes that list a Keras/tfjs model's weights: `model.trainable_variables`, `model.trainableWeights`. */
export function isWeightListAttribute(name: string): boolean {
  return /^(trainable_variables|trainable_weights|variables|weights|trainableWeights)$/.test(name);
}
/** tfjs `model.getWeights(true)`: a method that lists a model's (trainable) weights. */
export function isWeightListMethod(name: string): boolean {
  return name === 'getWeights';
}
/** The optimizer a compiled Keras/tfjs model keeps: `model.optimizer.minimize(...)` trains `model`. */
export const MODEL_OPTIMIZER_ATTRIBUTE = 'optimizer';
/** Methods that run a model on inputs: `model.predict(x)`, flax `model.apply(...)`, tfjs `execute`, `predictOnBatch`. */
export function isModelRunMethod(name: string): boolean {
  return /^(predict|apply|call|execute|predictOnBatch)$/.test(name);
}
/** `keras.Sequential(...)`, `tf.sequential(...)`: a model built from the layers given or added. */
export function isSequentialModel(name: string): boolean {
  return /^(Sequential|sequential)$/.test(name);
}
/** `keras.Model(inputs, outputs)`, `tf.model({...})`, `Functional`: the Functional API. */
export function isFunctionalModel(name: string): boolean {
  return /^(Model|model|Functional)$/.test(name);
}
/**
 * A Functional-API constructor as a framework defines it (`keras.Model`, `tf.keras.models.Model`,
 * tfjs `tf.model`), by its canonical path (frameworkPath), or by the module of a star import
 * that brought the name in (`from keras.models import *`).
 */
export function isFrameworkFunctionalModel(path: string[] | undefined, name: string, starImports: readonly string[]): boolean {
  const frameworkModel = (p: string[]) => (p[0] === 'keras' || p[0] === 'tfjs') && isFunctionalModel(p[p.length - 1]);
  if (path) return frameworkModel(path);
  return starImports.some((module) => frameworkModel(canonicalPath([...splitModule(module), name])));
}
/** `keras.models.clone_model(m)`: a copy of a model with its layers' configuration. */
export function isModelCopy(name: string): boolean {
  return /^(clone_model)$/.test(name);
}
/** torch: `model.to(device)`, `model.cuda()`, `model.float()` return the same module (its parameters moved or cast). */
export function isModuleMoveMethod(name: string): boolean {
  return /^(to|cuda|cpu|float|double|half|bfloat16|train|eval|requires_grad_|to_empty)$/.test(name);
}
/** torch wrappers whose parameters are the wrapped module's: `nn.DataParallel(model)`, `DistributedDataParallel(model)`. */
export function isModuleWrapper(name: string): boolean {
  return /^(DataParallel|DistributedDataParallel)$/.test(name);
}
/** Python modules of the ML frameworks (a call into one is not a project helper). */
export function isFrameworkModule(module: string): boolean {
  return /^(tensorflow|keras|tf_keras|torch|numpy|jax|optax|flax|math|@tensorflow\/)/.test(module);
}

/** `tensorflow`, `tensorflow.contrib.slim`: a module whose graph collections a file may fill or read. */
export function isTensorflowModule(module: string): boolean {
  return /^tensorflow(\.|$)/.test(module);
}

/**
 * Modules of frameworks with automatic differentiation: a file that imports one can build a loss
 * that is differentiated (here or by a caller elsewhere). NumPy, SciPy and math cannot.
 */
export function isAutodiffModule(module: string): boolean {
  return /^(torch|tensorflow|keras|tf_keras|jax|flax|autograd|mxnet|paddle|chainer|tinygrad|@tensorflow\/tfjs)(\b|$)/.test(module);
}

/** The array dialect of a file, by the modules it imports (fixes are written in it). */
export function dialectOf(language: LanguageId, modules: string[]): Dialect {
  const has = (re: RegExp): boolean => modules.some((m) => re.test(m));
  if (language !== 'python') return has(/^@tensorflow\/tfjs/) ? 'tfjs' : 'plain-ts';
  if (has(/^torch\b/)) return 'torch';
  if (has(/^jax\b|^flax\b|^optax\b/)) return 'jax';
  if (has(/^tensorflow\b|^keras\b|^tf_keras\b/)) return 'tf';
  if (has(/^numpy\b/)) return 'numpy';
  return 'plain-py';
}

// ------------------------------------------------------------------ autograd

/** The method that makes a tensor a leaf autograd tracks again (`ref.requires_grad_()`), and the attribute that does it (`ref.requires_grad = True`). */
export const TRACKING_METHOD = 'requires_grad_';
export const TRACKING_ATTRIBUTE = 'requires_grad';

/** tfjs `tf.variable(x)`: a variable `optimizer.minimize` trains unless told otherwise. */
export function isTfjsVariable(call: Expr & { kind: 'call' }): boolean {
  return call.callee.kind === 'attr' && call.callee.name === 'variable' && startsTrackedLeaf(call);
}

/** Methods whose result shares the receiver's storage, so an in-place write to it changes the receiver: torch `g.detach()`. */
export const STORAGE_SHARING_METHODS: ReadonlySet<string> = new Set(['detach']);
/** Methods that return a tensor's value without its autograd history: `detach()`, `item()`, `numpy()`, tfjs `dataSync()`. */
export const DETACH_METHODS: ReadonlySet<string> = new Set(['detach', 'item', 'numpy', 'tolist', 'dataSync', 'arraySync']);
/**
 * A call whose result is a new leaf that autograd tracks, whatever value it copies:
 * `x.requires_grad_()` / `x.requires_grad_(True)`, any `requires_grad=True` (`torch.tensor(x, ...)`,
 * torch's old `Variable`), `nn.Parameter(x)`, `tf.Variable(x)`, tfjs `tf.variable(x)`. A penalty
 * built on it has a gradient (to that leaf), even when the copied value was detached first.
 */
export function startsTrackedLeaf(call: Expr & { kind: 'call' }): boolean {
  const { callee, args, kwargs } = call;
  const last = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
  if (!last) return false;
  // The callee's dotted path from its root name (`tf.Variable` → tf, Variable), when it has one.
  const path: string[] = [];
  for (let e: Expr = callee; ; e = e.object) {
    if (e.kind === 'name') {
      path.unshift(e.name);
      break;
    }
    if (e.kind !== 'attr') {
      path.length = 0;
      break;
    }
    path.unshift(e.name);
  }
  const kw = (name: string): boolean | undefined => {
    const k = kwargs.find((x) => x.name === name);
    return k ? literalFlag(k.value) : undefined;
  };
  if (last === 'requires_grad_') return (args[0] ? literalFlag(args[0]) : kw('requires_grad') ?? true) === true;
  const requires = kw('requires_grad');
  if (requires !== undefined) return requires;
  // `nn.Parameter(data, requires_grad=True)`: trainable unless told otherwise.
  if (last === 'Parameter') return (args[1] ? literalFlag(args[1]) : true) !== false;
  // `tf.Variable(x, trainable=True)` (the tape watches trainable variables); tfjs `tf.variable(x, trainable = true)`.
  if (last === 'Variable' && path.length > 1 && /^(tf|tensorflow)$/.test(path[0])) return kw('trainable') !== false;
  if (last === 'variable' && path.length === 2 && path[0] === 'tf') return (args[1] ? literalFlag(args[1]) : true) !== false;
  return false;
}

/** `True`/`true` → true, `False`/`false` → false, anything else → undefined. */
export function literalFlag(e: Expr): boolean | undefined {
  if (e.kind !== 'name') return undefined;
  if (e.name === 'True' || e.name === 'true') return true;
  if (e.name === 'False' || e.name === 'false') return false;
  return undefined;
}

/** `tf.GradientTape()`: a tape that records the operations run in its `with` block. */
export function isGradientTape(name: string | undefined): boolean {
  return name === 'GradientTape';
}
/** `with torch.no_grad():`, `@torch.inference_mode()`: contexts and decorators that turn autograd off. */
export function isNoGradContext(name: string): boolean {
  return /^(no_grad|inference_mode)$/.test(name);
}

// ------------------------------------------------------------------ collected regularization losses

/** Calls whose value is the collected regularization losses: `tf.losses.get_regularization_loss()`, tfjs `model.calculateLosses()`. */
export function isCollectedRegularization(name: string): boolean {
  return /^(get_regularization_loss|get_regularization_losses|calculateLosses|scale_regularization_loss)$/.test(name);
}
/** Places that read the collected regularization losses, or compute a loss that includes them (`get_total_loss`, Keras `compute_loss`). */
export function readsCollectedRegularization(name: string): boolean {
  return /^(get_regularization_loss|get_regularization_losses|get_total_loss|calculateLosses|compute_loss|scale_regularization_loss|apply_regularization|get_losses_for)$/.test(name);
}
/**
 * Calls that only show a value: `print(x)`, `logging.info(...)`, `tf.summary.scalar('l2', x)`,
 * `tf.print(x)`. A penalty handed only to them is never trained.
 */
export function isReportingCall(path: readonly string[]): boolean {
  if (path.length === 1) return path[0] === 'print';
  if (path[0] === 'logging' || path.includes('summary')) return true;
  return path.length === 2 && (path[0] === 'tf' || path[0] === 'tensorflow') && (path[1] === 'print' || path[1] === 'Print');
}
/** Keras's collected layer penalties, an attribute of a model or layer: `model.losses`. */
export const COLLECTED_LOSSES_ATTRIBUTE = 'losses';
/** Calls whose value is the list of collected penalties (not their sum): tfjs `model.calculateLosses()`, TF1 `tf.losses.get_regularization_losses()`. */
export function listsCollectedRegularization(name: string): boolean {
  return name === 'calculateLosses' || name === 'get_regularization_losses';
}
/** `tf.get_collection(key)`: a TF1 graph collection, read by its key. */
export function isCollectionGetter(name: string): boolean {
  return name === 'get_collection';
}
/** The TF1 collection's key as a string (`tf.get_collection('regularization_losses')`), and the keyword that hands a call those penalties. */
export const REGULARIZATION_LOSSES_KEY = 'regularization_losses';
/** Calls that combine a list of losses into one: the sums, and `tf.stack` (summed afterwards). */
export function combinesLossList(name: string): boolean {
  return isSumFunction(name) || name === 'stack';
}
/** `tf.GraphKeys.REGULARIZATION_LOSSES`: the TF1 collection's key, by its attribute name. */
export function isRegularizationCollectionKey(name: string): boolean {
  return name === 'REGULARIZATION_LOSSES';
}
/** `tf.get_collection('regularization_losses')`: the TF1 collection's key, as a string. */
export function namesRegularizationCollection(text: string): boolean {
  return /regularization_loss/.test(text);
}

// ------------------------------------------------------------------ optimizer use

/**
 * What a statement hands to an optimizer as gradients: the first of each pair in
 * `optimizer.apply_gradients(zip(grads, vars))`, tfjs `optimizer.applyGradients(grads)`, and the
 * value written into PyTorch's `p.grad = ...` for `optimizer.step()` to read.
 */
export function optimizerGradientInputs(stmt: Stmt): Expr[] {
  if (stmt.kind === 'assign' && !stmt.op && stmt.targets.length === 1 && stmt.targets[0].kind === 'attr' && stmt.targets[0].name === 'grad') return [stmt.value];
  if (stmt.kind !== 'expr' || stmt.expr.kind !== 'call' || stmt.expr.callee.kind !== 'attr') return [];
  const call = stmt.expr;
  const first = call.args[0] ?? call.kwargs.find((k) => k.name === 'grads_and_vars')?.value;
  if (!first || !(call.callee.kind === 'attr' && /^(apply_gradients|applyGradients)$/.test(call.callee.name))) return [];
  if (first.kind === 'call' && first.callee.kind === 'name' && first.callee.name === 'zip') return first.args[0] ? [first.args[0]] : [];
  return first.kind === 'call' ? [] : [first];
}

/** Methods that use an optimizer (or an optax transformation) in a training setup. */
export const OPTIMIZER_USE_METHODS: ReadonlySet<string> = new Set(['step', 'zero_grad', 'update', 'apply_gradients', 'applyGradients', 'minimize', 'init', 'exclude_from_weight_decay']);
/** `parser.add_argument(...)`, absl `flags.DEFINE_float(...)`: a command-line option with its default. */
export function isOptionDefinition(method: string): boolean {
  return method === 'add_argument' || /^DEFINE_(float|integer|string)$/.test(method);
}
/** `parser.parse_args()`, `parser.parse_known_args()`: the parsed command-line options. */
export function isArgumentParse(method: string): boolean {
  return /^parse(_known)?_args$/.test(method);
}

// ------------------------------------------------------------------ regularizers

export type RegularizerFramework = 'keras' | 'tfjs' | 'tf1';

/**
 * What a regularizer call computes, as c₁·Σ|W| + c₂·ΣW² (framework-semantics.md §4, §5):
 * - Keras `l2(c)` / `L2(c)`: c·ΣW², default c = 0.01 (no ½); `l1(c)`: c·Σ|W|, default 0.01;
 *   `L1L2(l1=0, l2=0)`; `l1_l2()` defaults to 0.01 and 0.01 in Keras 2 and tf.keras, but is an
 *   alias of `L1L2` (0 and 0) in Keras 3 — version dependent.
 * - tfjs `tf.regularizers.l2({l2: c})`: c·ΣW², default 0.01; `l1l2()` defaults 0.01 and 0.01.
 * - TF1 `tf.contrib.layers.l2_regularizer(scale)` = scale·`tf.nn.l2_loss(W)` = scale·ΣW²/2, so
 *   the coefficient of ΣW² is scale/2; `l1_regularizer(scale)`: scale·Σ|W|.
 */
export interface RegularizerSemantics {
  framework: RegularizerFramework;
  /** Coefficient of Σ|W| and of ΣW²: the expression written (when given), or the default. */
  l1: RegularizerFactor;
  l2: RegularizerFactor;
  /** `l1_l2` with no arguments means 0.01/0.01 or 0/0 depending on the Keras version. */
  versionDependent: boolean;
}

export interface RegularizerFactor {
  given: boolean;
  /** The written argument (for a literal or a symbol). */
  expr?: Expr;
  /** The value when it is a literal or the default (after the ½ of TF1's l2_regularizer). */
  value?: number;
  /** Multiply the written argument by this to get the coefficient of the penalty (½ for TF1's l2_regularizer). */
  scale: number;
}

const KERAS_REGULARIZER_NAMES = new Set(['l1', 'l2', 'L1', 'L2', 'L1L2', 'l1_l2']);
const TFJS_REGULARIZER_NAMES = new Set(['l1', 'l2', 'l1l2']);

/** The framework of a regularizer constructor, by its canonical path (`keras.regularizers.l2`), or undefined. */
export function regularizerFramework(path: string[]): RegularizerFramework | undefined {
  const name = path[path.length - 1];
  if (path[0] === 'keras' && path.includes('regularizers') && KERAS_REGULARIZER_NAMES.has(name)) return 'keras';
  if (path[0] === 'tfjs' && path[1] === 'regularizers' && TFJS_REGULARIZER_NAMES.has(name)) return 'tfjs';
  if (path[0] === 'tensorflow' && (name === 'l2_regularizer' || name === 'l1_regularizer')) return 'tf1';
  return undefined;
}

/** A regularizer by the short name of its constructor (a bare `l2(5e-4)` imported from a regularizers module). */
export function regularizerByName(name: string, language: 'python' | 'script'): RegularizerFramework | undefined {
  if (name === 'l2_regularizer' || name === 'l1_regularizer') return 'tf1';
  if (language === 'python') return KERAS_REGULARIZER_NAMES.has(name) ? 'keras' : undefined;
  return TFJS_REGULARIZER_NAMES.has(name) ? 'tfjs' : undefined;
}

/** What a regularizer call computes. `arg(name, position)` reads a keyword, an object entry or a positional argument. */
export function regularizerSemantics(framework: RegularizerFramework, fn: string, arg: (name: string, position?: number) => Expr | undefined): RegularizerSemantics {
  const factor = (name: string, position: number | undefined, def: number, scale = 1): RegularizerFactor => {
    const e = arg(name, position);
    if (!e) return { given: false, value: def * scale, scale };
    const n = numberOf(e);
    return { given: true, expr: e, value: n === undefined ? undefined : n * scale, scale };
  };
  const absent: RegularizerFactor = { given: false, value: 0, scale: 1 };
  if (framework === 'tf1') {
    // l2_regularizer(scale) = scale · l2_loss(W) = scale · ΣW²/2.
    if (fn === 'l2_regularizer') return { framework, l1: absent, l2: factor('scale', 0, NaN, 0.5), versionDependent: false };
    return { framework, l1: factor('scale', 0, NaN), l2: absent, versionDependent: false };
  }
  const position = framework === 'keras' ? 0 : undefined;
  if (fn === 'l2' || fn === 'L2') return { framework, l1: absent, l2: factor('l2', position, 0.01), versionDependent: false };
  if (fn === 'l1' || fn === 'L1') return { framework, l1: factor('l1', position, 0.01), l2: absent, versionDependent: false };
  // Keras 3: L1L2 and l1_l2 default to 0 and 0; tfjs l1l2: 0.01 and 0.01.
  const def = framework === 'tfjs' ? 0.01 : 0;
  return {
    framework,
    l1: factor('l1', framework === 'keras' ? 0 : undefined, def),
    l2: factor('l2', framework === 'keras' ? 1 : undefined, def),
    versionDependent: framework === 'keras' && fn === 'l1_l2',
  };
}

/** `kernel_regularizer='l2'`: the regularizer a string identifier names (Keras 3 and tfjs). */
export function regularizerByIdentifier(id: string, framework: 'keras' | 'tfjs'): RegularizerSemantics | undefined {
  const f = (v: number | undefined): RegularizerFactor => ({ given: false, value: v, scale: 1 });
  if (id === 'l2') return { framework, l1: f(0), l2: f(0.01), versionDependent: false };
  if (id === 'l1') return { framework, l1: f(0.01), l2: f(0), versionDependent: false };
  if (id === 'l1l2') return framework === 'keras' ? { framework, l1: f(0), l2: f(0), versionDependent: false } : { framework, l1: f(0.01), l2: f(0.01), versionDependent: false };
  if (id === 'l1_l2' && framework === 'keras') return { framework, l1: f(undefined), l2: f(undefined), versionDependent: true };
  return undefined;
}

/** Layer keyword arguments (Keras) and config entries (tfjs) that take a regularizer. */
export const REGULARIZER_ARGUMENT = /^(kernel|bias|depthwise|pointwise|recurrent|embeddings|beta|gamma|alpha|activity)_regularizer$|^(kernel|bias|depthwise|pointwise|recurrent|embeddings|beta|gamma|alpha|activity)Regularizer$/;
/** TF1 layer, slim and `get_variable` keyword arguments that take a regularizer. */
export const TF1_REGULARIZER_ARGUMENT = /^(regularizer|weights_regularizer|biases_regularizer|kernel_regularizer|bias_regularizer)$/;
/** Keras layer classes (the regularizers of their weights go to `model.losses`). */
export const KERAS_LAYER = /^(Dense|Conv[123]D|Conv[123]DTranspose|SeparableConv[12]D|DepthwiseConv[12]D|LSTM|GRU|SimpleRNN|Embedding|BatchNormalization|LayerNormalization|EinsumDense|MultiHeadAttention|LocallyConnected[12]D|ConvLSTM2D)$/;

/**
 * A framework layer's constructor by its canonical path: a Keras layer class (`keras.layers.Dropout`,
 * TF1's `tf.layers.Dropout`, `tensorflow.compat.v1.layers.Dropout`) or a tfjs layer factory
 * (`tf.layers.dropout`). A regularizer argument given one (`kernel_regularizer=Dropout(0.5)`) holds a
 * layer, not a penalty: the layer it configures calls it on its weight and adds what it returns, the
 * weight itself, to its losses. A `Lambda` layer computes whatever its function does (a penalty, too): not one.
 */
export function isLayerConstructorPath(path: string[]): boolean {
  const name = path[path.length - 1] ?? '';
  if (path.includes('regularizers') || path.includes('initializers') || path.includes('constraints')) return false;
  if (path[0] === 'tfjs') return path[1] === 'layers' && path.length === 3 && /^[a-z]/.test(name);
  return (path[0] === 'keras' || path[0] === 'tensorflow') && path.includes('layers') && /^[A-Z][A-Za-z0-9]*$/.test(name) && name !== 'Layer' && name !== 'Lambda';
}

// ------------------------------------------------------------------ dropout rates

/**
 * Where a framework's dropout takes the share of units it DROPS: the keyword and, when the signature
 * allows it, the position. Keras layers (`Dropout(rate)`, `SpatialDropout2D(rate)`, `AlphaDropout(rate)`),
 * TF1's `tf.layers.Dropout(rate)` and `tf.layers.dropout(inputs, rate)`, torch's `nn.Dropout(p)` and
 * `F.dropout(input, p)`, tfjs's `tf.layers.dropout({rate})` and `tf.dropout(x, rate)`. `tf.nn.dropout`
 * counts by its keyword `rate=` only: its second positional argument is TF1's `keep_prob` (the share
 * KEPT) and TF2's `rate`, so a positional value says nothing (TF1's `keep_prob=` keyword is the keep
 * probability and is never a rate).
 */
export interface DropoutRateParameter {
  /** `rate`, `p`: the keyword (or the tfjs config entry). */
  keyword: string;
  /** The positional index, when a positional value is the drop rate in every version. */
  position?: number;
  /** tfjs layer factories take one config object: the rate is its entry. */
  config?: boolean;
}
const KERAS_DROPOUT_LAYERS: ReadonlySet<string> = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'AlphaDropout']);
const TORCH_DROPOUT_MODULES: ReadonlySet<string> = new Set(['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout']);
const TORCH_DROPOUT_FUNCTIONS: ReadonlySet<string> = new Set(['dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout', 'feature_alpha_dropout']);
/** Names of the dropout APIs above, for the CLI's fast path (FRAMEWORK_NAMES). */
export const DROPOUT_NAMES: readonly string[] = [...KERAS_DROPOUT_LAYERS, ...TORCH_DROPOUT_MODULES, ...TORCH_DROPOUT_FUNCTIONS, 'spatialDropout1d'];

/** Uniform random draws a hand-written dropout compares with its probability (`np.random.rand(*A.shape) < keep_prob`). */
/** Their names, for the CLI's fast path (a hand-written dropout's mask: prefilter.ts). */
export const UNIFORM_DRAW_NAMES: readonly string[] = ['rand', 'random', 'random_sample', 'uniform', 'rand_like', 'randomUniform', 'random_uniform'];
const UNIFORM_DRAWS: ReadonlySet<string> = new Set(UNIFORM_DRAW_NAMES);
export function isUniformDrawName(name: string): boolean {
  return UNIFORM_DRAWS.has(name);
}

/** A callee whose last name may be a framework dropout (the gate before `dropoutRateParameter` resolves the path). */
export function mayNameDropoutApi(name: string): boolean {
  return /dropout/i.test(name);
}

/**
 * A draw of a uniform number in [0, 1) that a hand-written dropout compares with its probability:
 * `np.random.rand(*A.shape)`, `Math.random()`, `torch.rand_like(x)`, `rng.random(shape)`, and
 * `np.random.uniform(0, 1, shape)` / `rng.uniform(size=…)` only over [0, 1) (other bounds draw something else).
 */
export function isUnitUniformDraw(call: Expr & { kind: 'call' }): boolean {
  const callee = call.callee;
  const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
  if (name === undefined || !UNIFORM_DRAWS.has(name)) return false;
  if (name !== 'uniform' && name !== 'random_uniform' && name !== 'randomUniform') return true;
  // `uniform(low, high, size)`: only [0, 1). tf's `random_uniform(shape)`/tfjs `randomUniform(shape)` default to it.
  const low = name === 'uniform' ? call.args[0] ?? call.kwargs.find((k) => k.name === 'low')?.value : call.args[1] ?? call.kwargs.find((k) => k.name === 'minval')?.value;
  const high = name === 'uniform' ? call.args[1] ?? call.kwargs.find((k) => k.name === 'high')?.value : call.args[2] ?? call.kwargs.find((k) => k.name === 'maxval')?.value;
  const is = (e: Expr | undefined, v: number): boolean => e === undefined || (e.kind === 'num' && e.value === v);
  return is(low, 0) && is(high, 1);
}

/**
 * The probability of a one-trial Bernoulli draw (its value is 1 with that probability):
 * `np.random.binomial(1, p, size)`, `x.bernoulli_(p)`, `torch.bernoulli(torch.full_like(x, p))`.
 */
/** The Bernoulli draws' names, for the CLI's fast path (prefilter.ts): `binomial` counts only with n = 1. */
export const BERNOULLI_DRAW_NAMES: readonly string[] = ['bernoulli', 'bernoulli_'];
export const BINOMIAL_DRAW_NAME = 'binomial';
export function bernoulliProbability(call: Expr & { kind: 'call' }): Expr | undefined {
  const callee = call.callee;
  const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
  const kw = (k: string): Expr | undefined => call.kwargs.find((a) => a.name === k)?.value;
  if (name === BINOMIAL_DRAW_NAME) {
    const n = call.args[0] ?? kw('n');
    return n?.kind === 'num' && n.value === 1 ? call.args[1] ?? kw('p') : undefined;
  }
  if (name === 'bernoulli_') return call.args[0] ?? kw('p');
  if (name === 'bernoulli') {
    const p = kw('p') ?? call.args[1];
    if (p) return p;
    const filled = call.args[0];
    const fill = filled?.kind === 'call' && filled.callee.kind === 'attr' ? filled.callee.name : undefined;
    return filled?.kind === 'call' && (fill === 'full_like' || fill === 'full') ? filled.args[1] ?? filled.kwargs.find((a) => a.name === 'fill_value')?.value : undefined;
  }
  return undefined;
}

/** Calls on a tensor that keep it the same gradient, copied or moved (handedGradients.ts): `p.grad.clone()`, `g.detach()`, `g.numpy()`. */
export const GRADIENT_KEEPING_METHODS: ReadonlySet<string> = new Set(['clone', 'detach', 'copy', 'float', 'double', 'contiguous', 'to', 'cpu', 'numpy']);

/** In-place calls that only add to their receiver (stepAccumulators.ts): torch's `g.add_(x)`, a JS array's `push`. */
/**
 * A Keras/TF optimizer's slot factories: what they return is the optimizer's own state for one variable
 * (a momentum or moment buffer), made in `build` and read back in `update_step` (optimizerSlots.ts).
 */
export const OPTIMIZER_SLOT_FACTORIES: ReadonlySet<string> = new Set(['add_variable_from_reference', 'add_slot', 'get_slot']);

export const ADDING_METHODS: ReadonlySet<string> = new Set(['add_', 'push']);

/**
 * Calls whose value is their receiver's (or first argument's) values unchanged, for reading what a
 * dropout outputs: copies and casts (`x.slice()`, `x.copy()`, `x.clone()`, `mask.astype(float)`,
 * `np.array(x)`, `tf.cast(mask, tf.float32)`, `Number(b)`).
 */
const VALUE_METHODS: ReadonlySet<string> = new Set(['slice', 'copy', 'clone', 'astype', 'float', 'double', 'detach', 'type', 'to', 'type_as', 'cpu', 'toFloat', 'asType', 'cast']);
const VALUE_FUNCTIONS: ReadonlySet<string> = new Set(['array', 'asarray', 'copy', 'cast', 'Number', 'float', 'Float32Array', 'Float64Array', 'from']);
export function valueKeptBy(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): Expr | undefined {
  const callee = call.callee;
  if (callee.kind === 'attr' && VALUE_METHODS.has(callee.name) && !isModule(callee.object)) return callee.object;
  const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
  return name !== undefined && VALUE_FUNCTIONS.has(name) && call.args.length >= 1 ? call.args[0] : undefined;
}

/** `np.where(c, a, b)`, `torch.where(c, a, b)`, `tf.where(c, a, b)`: a selection by a boolean mask. */
export function isWhereCall(call: Expr & { kind: 'call' }): boolean {
  const callee = call.callee;
  return callee.kind === 'attr' && callee.name === 'where' && call.args.length === 3;
}

/** `np.multiply(a, b)`, `torch.mul(a, b)`, `tf.multiply(a, b)`: an elementwise product. */
export function isMultiplyCall(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): boolean {
  const callee = call.callee;
  return callee.kind === 'attr' && (callee.name === 'multiply' || callee.name === 'mul') && call.args.length === 2 && isModule(callee.object);
}

/** `t.set(i, v)`, `a.itemset(i, v)`: a store of its last argument into an element of the receiver. */
export function isElementStoreMethod(name: string): boolean {
  return name === 'set' || name === 'itemset';
}

/**
 * Comparisons written as calls: `u.less(keep)` (tfjs), `u.lt(p)` (torch), `tf.less(u, keep)`,
 * `np.less(u, keep)`: the operator, and the two sides (receiver and argument, or the two arguments).
 */
const COMPARISON_CALLS: Readonly<Record<string, '<' | '<=' | '>' | '>='>> = table({
  less: '<', lt: '<', less_equal: '<=', lessEqual: '<=', le: '<=', greater: '>', gt: '>', greater_equal: '>=', greaterEqual: '>=', ge: '>=',
});
/** Their names, for the CLI's fast path (prefilter.ts). */
export const COMPARISON_CALL_NAMES: readonly string[] = Object.keys(COMPARISON_CALLS);
export function comparisonCall(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): { op: '<' | '<=' | '>' | '>='; left: Expr; right: Expr } | undefined {
  const callee = call.callee;
  if (callee.kind !== 'attr' || call.kwargs.length > 0) return undefined;
  const op = COMPARISON_CALLS[callee.name];
  if (!op) return undefined;
  if (call.args.length === 1) return { op, left: callee.object, right: call.args[0] };
  if (call.args.length === 2 && isModule(callee.object)) return { op, left: call.args[0], right: call.args[1] };
  return undefined;
}

/**
 * Calls that compare arrays numerically, the way tests check a result against a reference:
 * `np.allclose(a, b)`, `torch.allclose`, `np.testing.assert_allclose`, `torch.testing.assert_close`,
 * `np.testing.assert_array_almost_equal`, `self.assertAlmostEqual`. By the callee's last name.
 */
const NUMERIC_COMPARISONS: ReadonlySet<string> = new Set(['allclose', 'isclose', 'assert_allclose', 'assert_close', 'assert_almost_equal', 'assert_array_almost_equal', 'assert_array_equal', 'assertAlmostEqual', 'assert_equal']);
export function isNumericComparison(call: Expr & { kind: 'call' }): boolean {
  const callee = call.callee;
  const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
  return name !== undefined && NUMERIC_COMPARISONS.has(name);
}

/**
 * Arithmetic written as calls: `x.mul(m)`, `x.div(keep)`, `tf.mul(x, m)`, torch's in-place `x.mul_(m)`
 * (ARITHMETIC_CALLS): the operator and the two operands; `inPlace` when the receiver takes the result.
 */
export function arithmeticCall(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): { op: '+' | '-' | '*' | '/'; left: Expr; right: Expr; inPlace: boolean } | undefined {
  const callee = call.callee;
  if (callee.kind !== 'attr' || call.kwargs.length > 0) return undefined;
  const inPlace = callee.name.endsWith('_') && TORCH_IN_PLACE_ARITHMETIC.has(callee.name);
  const op = ARITHMETIC_CALLS[inPlace ? callee.name.slice(0, -1) : callee.name];
  if (!op || op === 'neg') return undefined;
  if (call.args.length === 1) return { op, left: callee.object, right: call.args[0], inPlace };
  if (call.args.length === 2 && isModule(callee.object) && !inPlace) return { op, left: call.args[0], right: call.args[1], inPlace };
  return undefined;
}

/**
 * The divisor of a division written as a call, a/b: `a.div(b)`, `a.div_(b)`, `a.true_divide(b)`,
 * `torch.div(a, b)`, `np.divide(a, b)`, `tf.divide(a, b)` (keywords such as `rounding_mode=` or
 * `out=` aside); undefined for any other call. What is written there divides; it is never a term
 * added to anything, as the right side of `/` is not.
 */
export function divisorArgument(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): Expr | undefined {
  const callee = call.callee;
  if (callee.kind !== 'attr') return undefined;
  const inPlace = callee.name.endsWith('_') && TORCH_IN_PLACE_ARITHMETIC.has(callee.name);
  if (ARITHMETIC_CALLS[inPlace ? callee.name.slice(0, -1) : callee.name] !== '/') return undefined;
  const other = call.kwargs.find((k) => k.name === 'other')?.value;
  if (isModule(callee.object) && !inPlace) return call.args.length === 2 ? call.args[1] : call.args.length === 1 ? other : undefined;
  return call.args.length === 1 ? call.args[0] : call.args.length === 0 ? other : undefined;
}

/** `xs.map(f)`: a new array of f's value on each element (its first parameter). */
export function isElementMapMethod(name: string): boolean {
  return name === 'map';
}

/** The drop-rate parameter of the dropout API at a canonical path, or undefined for any other call. */
export function dropoutRateParameter(path: readonly string[] | undefined): DropoutRateParameter | undefined {
  if (!path || path.length < 2) return undefined;
  const name = path[path.length - 1];
  const root = path[0];
  if (root === 'keras') return path.includes('layers') && KERAS_DROPOUT_LAYERS.has(name) ? { keyword: 'rate', position: 0 } : undefined;
  if (root === 'tensorflow') {
    // `tf.contrib.layers.dropout(inputs, keep_prob)` and slim's take the keep probability.
    if (path.includes('contrib') || path.includes('slim')) return undefined;
    if (path.includes('layers') && name === 'Dropout') return { keyword: 'rate', position: 0 };
    if (path.includes('layers') && name === 'dropout') return { keyword: 'rate', position: 1 };
    if (path.includes('nn') && name === 'dropout') return { keyword: 'rate' };
    return undefined;
  }
  if (root === 'torch') {
    if (path.includes('nn') && TORCH_DROPOUT_MODULES.has(name)) return { keyword: 'p', position: 0 };
    if (TORCH_DROPOUT_FUNCTIONS.has(name) && (path.includes('functional') || path.length === 2)) return { keyword: 'p', position: 1 };
    return undefined;
  }
  if (root === 'tfjs') {
    if (path[1] === 'layers' && path.length === 3 && (name === 'dropout' || name === 'spatialDropout1d')) return { keyword: 'rate', config: true };
    if (path.length === 2 && name === 'dropout') return { keyword: 'rate', position: 1 };
  }
  return undefined;
}

/** `activity_regularizer`, `activityRegularizer`: penalizes a layer's outputs, not its weights. */
export function isActivityRegularizerArgument(name: string): boolean {
  return /^activity/.test(name);
}
/** TF1 layers, slim and variable helpers (lower-case `tf.layers.dense`, `slim.conv2d`, `tf.get_variable`), whose regularizers go to a graph collection. */
export function isTf1LayerCall(path: string[]): boolean {
  const name = path[path.length - 1] ?? '';
  return /^[a-z]/.test(name) && (path.includes('layers') || path.includes('slim') || path.includes('contrib') || name === 'get_variable' || name === 'arg_scope' || name === 'variable_scope');
}
/** Keras layers by the short name of their class (`Dense`), or any capitalized class under a `layers` module. */
export function isKerasLayerCall(path: string[]): boolean {
  const name = path[path.length - 1] ?? '';
  return KERAS_LAYER.test(name) || (path.includes('layers') && /^[A-Z]/.test(name));
}

// ------------------------------------------------------------------ layers with biases and normalization weights

// Which layer constructors own a bias or a normalization scale/shift (the parameters weight
// decay is usually kept off, NB204), with the argument that turns them off and its default.
// `position` is the positional index of that argument where the signature allows it.
interface DecayExemptSpec {
  kind: 'bias' | 'norm';
  flag: string;
  position?: number;
  /** The flag's default: torch's InstanceNorm has `affine=False`. */
  on: boolean;
  /** Keras normalization layers: `center` (β) and `scale` (γ) are separate flags, both on by default. */
  flag2?: string;
}
const TORCH_BIAS = (position?: number): DecayExemptSpec => ({ kind: 'bias', flag: 'bias', position, on: true });
const TORCH_NORM = (flag: string, position: number | undefined, on = true): DecayExemptSpec => ({ kind: 'norm', flag, position, on });
/** torch.nn modules: bias=True by default (Linear, Conv*, RNNs, attention); norm layers with affine weights. */
const TORCH_LAYERS: Record<string, DecayExemptSpec> = table({
  Linear: TORCH_BIAS(2), Bilinear: TORCH_BIAS(3), LazyLinear: TORCH_BIAS(1),
  Conv1d: TORCH_BIAS(7), Conv2d: TORCH_BIAS(7), Conv3d: TORCH_BIAS(7),
  ConvTranspose1d: TORCH_BIAS(7), ConvTranspose2d: TORCH_BIAS(7), ConvTranspose3d: TORCH_BIAS(7),
  LazyConv1d: TORCH_BIAS(), LazyConv2d: TORCH_BIAS(), LazyConv3d: TORCH_BIAS(),
  RNN: TORCH_BIAS(), LSTM: TORCH_BIAS(), GRU: TORCH_BIAS(), RNNCell: TORCH_BIAS(2), LSTMCell: TORCH_BIAS(2), GRUCell: TORCH_BIAS(2),
  MultiheadAttention: TORCH_BIAS(),
  BatchNorm1d: TORCH_NORM('affine', 3), BatchNorm2d: TORCH_NORM('affine', 3), BatchNorm3d: TORCH_NORM('affine', 3), SyncBatchNorm: TORCH_NORM('affine', 3),
  LazyBatchNorm1d: TORCH_NORM('affine', 2), LazyBatchNorm2d: TORCH_NORM('affine', 2), LazyBatchNorm3d: TORCH_NORM('affine', 2),
  InstanceNorm1d: TORCH_NORM('affine', 3, false), InstanceNorm2d: TORCH_NORM('affine', 3, false), InstanceNorm3d: TORCH_NORM('affine', 3, false),
  GroupNorm: TORCH_NORM('affine', 3), LayerNorm: TORCH_NORM('elementwise_affine', 2), RMSNorm: TORCH_NORM('elementwise_affine', 2),
  // Their sublayers include LayerNorm, whatever `bias` says.
  Transformer: TORCH_NORM('', undefined), TransformerEncoderLayer: TORCH_NORM('', undefined), TransformerDecoderLayer: TORCH_NORM('', undefined),
});
const KERAS_BIAS: DecayExemptSpec = { kind: 'bias', flag: 'use_bias', on: true };
const KERAS_NORM: DecayExemptSpec = { kind: 'norm', flag: 'center', flag2: 'scale', on: true };
/** Keras layers: `use_bias=True` by default; normalization layers with `center`/`scale` on by default. */
const KERAS_LAYERS: Record<string, DecayExemptSpec> = table({
  Dense: KERAS_BIAS, Conv1D: KERAS_BIAS, Conv2D: KERAS_BIAS, Conv3D: KERAS_BIAS,
  Conv1DTranspose: KERAS_BIAS, Conv2DTranspose: KERAS_BIAS, Conv3DTranspose: KERAS_BIAS,
  SeparableConv1D: KERAS_BIAS, SeparableConv2D: KERAS_BIAS, DepthwiseConv1D: KERAS_BIAS, DepthwiseConv2D: KERAS_BIAS,
  LocallyConnected1D: KERAS_BIAS, LocallyConnected2D: KERAS_BIAS, SimpleRNN: KERAS_BIAS, LSTM: KERAS_BIAS, GRU: KERAS_BIAS,
  ConvLSTM1D: KERAS_BIAS, ConvLSTM2D: KERAS_BIAS, ConvLSTM3D: KERAS_BIAS, MultiHeadAttention: KERAS_BIAS,
  BatchNormalization: KERAS_NORM, LayerNormalization: KERAS_NORM, GroupNormalization: KERAS_NORM,
});

/** Keras: `model.compile(optimizer=...)` gives an optimizer a model's weights (keyword, or position 0). */
export const KERAS_COMPILE = { method: 'compile', optimizer: 'optimizer', position: 0 } as const;
/** Keras optimizer methods given the variables they update: the argument that lists them (keyword, position). */
export const KERAS_OPTIMIZER_VARIABLES: Record<string, { name: string; position: number }> = table({
  apply_gradients: { name: 'grads_and_vars', position: 0 },
  minimize: { name: 'var_list', position: 1 },
  build: { name: 'var_list', position: 0 },
});

/** A layer constructor Nabla knows the biases and normalization weights of: torch.nn modules, Keras layers. */
const FLAX_BIAS: DecayExemptSpec = { kind: 'bias', flag: 'use_bias', on: true };
const FLAX_NORM: DecayExemptSpec = { kind: 'norm', flag: 'use_scale', flag2: 'use_bias', on: true };
/** flax.linen modules: `use_bias=True` by default; normalization with `use_scale`/`use_bias` on by default. */
const FLAX_LAYERS: Record<string, DecayExemptSpec> = table({
  Dense: FLAX_BIAS, DenseGeneral: FLAX_BIAS, Conv: FLAX_BIAS, ConvTranspose: FLAX_BIAS, ConvLocal: FLAX_BIAS,
  LayerNorm: FLAX_NORM, BatchNorm: FLAX_NORM, GroupNorm: FLAX_NORM, RMSNorm: { kind: 'norm', flag: 'use_scale', on: true },
  MultiHeadDotProductAttention: FLAX_BIAS, SelfAttention: FLAX_BIAS,
});
/** Haiku modules: `with_bias=True` by default; `LayerNorm`/`BatchNorm` scale and offset as their flags say. */
const HAIKU_LAYERS: Record<string, DecayExemptSpec> = table({
  Linear: { kind: 'bias', flag: 'with_bias', position: 1, on: true },
  Conv1D: { kind: 'bias', flag: 'with_bias', on: true }, Conv2D: { kind: 'bias', flag: 'with_bias', on: true }, Conv3D: { kind: 'bias', flag: 'with_bias', on: true },
  LayerNorm: { kind: 'norm', flag: 'create_scale', position: 1, flag2: 'create_offset', on: true },
  BatchNorm: { kind: 'norm', flag: 'create_scale', position: 0, flag2: 'create_offset', on: true },
});

/** A flax or Haiku layer with a bias or normalization weights (the parameters an optax decay without a mask reaches). */
export function isJaxLayerPath(path: string[]): boolean {
  return (path[0] === 'flax' && path.includes('linen')) || path[0] === 'haiku';
}

/** `jnp.zeros(n)`, `jnp.ones((n,))`, `jnp.full(n, v)`: a one-dimensional array (a bias or a scale as a pytree leaf), from its shape argument. */
export function isJaxVectorConstructor(path: string[], shape: Expr | undefined): boolean {
  if (path[0] !== 'jax' || !path.includes('numpy') || !['zeros', 'ones', 'full'].includes(path[path.length - 1]) || !shape) return false;
  if (shape.kind === 'seq') return shape.items.length === 1;
  return shape.kind === 'num' || shape.kind === 'name' || shape.kind === 'attr';
}

export function knownLayerSpec(path: string[]): DecayExemptSpec | undefined {
  const name = path[path.length - 1] ?? '';
  if (path[0] === 'flax' && path.includes('linen')) return FLAX_LAYERS[name];
  if (path[0] === 'haiku') return HAIKU_LAYERS[name];
  if (path[0] === 'torch' && path.includes('nn') && !path.includes('functional')) return TORCH_LAYERS[name];
  if (path[0] === 'keras' && path.includes('layers')) return KERAS_LAYERS[name];
  return undefined;
}

/**
 * Whether a layer construction owns a bias (`nn.Linear(4, 2)`, `Dense(10)`) or normalization
 * weights (`nn.BatchNorm2d(64)`, `BatchNormalization()`), reading the argument that turns them
 * off (`bias=False`, `use_bias=False`, `affine=False`, `center=False, scale=False`). Only a literal
 * flag turns them off or on; a flag that is not a literal leaves the answer unknown (undefined).
 */
export function layerDecayExempt(path: string[], arg: (name: string, position?: number) => Expr | undefined): 'bias' | 'norm' | undefined {
  const spec = knownLayerSpec(path);
  if (!spec) return undefined;
  if (!spec.flag) return spec.kind;
  const flagOn = (name: string, position?: number): boolean | undefined => {
    const e = arg(name, position);
    if (!e) return spec.on;
    if (e.kind === 'name' && /^(True|true)$/.test(e.name)) return true;
    if (e.kind === 'name' && /^(False|false)$/.test(e.name)) return false;
    if (e.kind === 'num') return e.value !== 0;
    return undefined;
  };
  const on = flagOn(spec.flag, spec.position);
  const on2 = spec.flag2 ? flagOn(spec.flag2) : false;
  return on === true || on2 === true ? spec.kind : undefined;
}

/** TF1 `tf.trainable_variables()` (`tf.compat.v1.trainable_variables()`): every variable of the default graph. */
export function isTf1TrainableVariables(path: string[]): boolean {
  return path[0] === 'tensorflow' && path[path.length - 1] === 'trainable_variables';
}

/** TF1 `tf.layers.*`: `use_bias=True` by default; `batch_normalization` with `center`/`scale` on. */
const TF1_LAYERS: Record<string, DecayExemptSpec> = table({
  dense: { kind: 'bias', flag: 'use_bias', on: true },
  conv1d: { kind: 'bias', flag: 'use_bias', on: true }, conv2d: { kind: 'bias', flag: 'use_bias', on: true }, conv3d: { kind: 'bias', flag: 'use_bias', on: true },
  conv2d_transpose: { kind: 'bias', flag: 'use_bias', on: true }, separable_conv2d: { kind: 'bias', flag: 'use_bias', on: true },
  batch_normalization: { kind: 'norm', flag: 'center', flag2: 'scale', on: true },
});
/** slim / `tf.contrib.layers`: a bias from `biases_initializer` (zeros by default) unless a `normalizer_fn` replaces it. */
const TF1_SLIM_BIAS_LAYERS: ReadonlySet<string> = new Set(['fully_connected', 'conv2d', 'convolution2d', 'conv2d_transpose', 'convolution2d_transpose', 'conv1d', 'conv3d']);

/**
 * Whether a TF1 layer call creates a bias or normalization variables with its defaults:
 * `tf.layers.dense(x, 10)`, `slim.conv2d(x, 64, [3, 3])`, `tf.layers.batch_normalization(x)`.
 * Any argument that may turn them off and is not a literal leaves the answer unknown.
 */
export function tf1LayerDecayExempt(path: string[], arg: (name: string, position?: number) => Expr | undefined): 'bias' | 'norm' | undefined {
  if (path[0] !== 'tensorflow') return undefined;
  const name = path[path.length - 1] ?? '';
  if ((path.includes('slim') || path.includes('contrib')) && TF1_SLIM_BIAS_LAYERS.has(name)) {
    return arg('biases_initializer') || arg('normalizer_fn') ? undefined : 'bias';
  }
  if (!path.includes('layers') || path.includes('keras') || path.includes('contrib')) return undefined;
  const spec = TF1_LAYERS[name];
  if (!spec) return undefined;
  const off = (flag: string): boolean | undefined => {
    const e = arg(flag);
    if (!e) return false;
    if (e.kind === 'name' && /^(False)$/.test(e.name)) return true;
    if (e.kind === 'name' && /^(True)$/.test(e.name)) return false;
    return undefined;
  };
  const a = off(spec.flag);
  const b = spec.flag2 ? off(spec.flag2) : true;
  return a === false || b === false ? spec.kind : undefined;
}

/** TF1 variable creation and the argument holding its shape: `tf.get_variable(name, shape)`. */
const TF1_VARIABLE_SHAPE: Record<string, { name: string; position: number }> = table({ get_variable: { name: 'shape', position: 1 } });
/** `tf.Variable(...)`, `tf.get_variable(...)`: a TF1 graph variable. */
export function isTf1VariableCall(path: string[]): boolean {
  const name = path[path.length - 1] ?? '';
  return path[0] === 'tensorflow' && (name === 'Variable' || name in TF1_VARIABLE_SHAPE);
}
/** `tf.Variable(initial_value)`: the argument holding the initial value. */
const TF1_VARIABLE_VALUE = { name: 'initial_value', position: 0 } as const;
/** Tensor constructors and the argument holding their shape: `tf.zeros([n])`, `tf.truncated_normal([n])`, `tf.constant(0.1, shape=[n])`. */
const TF_TENSOR_SHAPE: Record<string, { name: string; position?: number }> = table({
  zeros: { name: 'shape', position: 0 }, ones: { name: 'shape', position: 0 }, random_normal: { name: 'shape', position: 0 },
  truncated_normal: { name: 'shape', position: 0 }, random_uniform: { name: 'shape', position: 0 }, constant: { name: 'shape' },
});

/**
 * The shape argument of a TF1 variable's creation (`tf.get_variable('b', [10])`), or of the
 * tensor constructor of its initial value (`tf.Variable(tf.zeros([10]))`); the caller reads its
 * rank. `valueCall` gives the initial value's call and path for `tf.Variable`.
 */
export function tf1VariableShape(
  path: string[],
  arg: (name: string, position?: number) => Expr | undefined,
  valueCall: (e: Expr) => { path: string[]; arg: (name: string, position?: number) => Expr | undefined } | undefined,
): Expr | undefined {
  if (path[0] !== 'tensorflow') return undefined;
  const name = path[path.length - 1] ?? '';
  const spec = TF1_VARIABLE_SHAPE[name];
  if (spec) return arg(spec.name, spec.position);
  if (name !== 'Variable') return undefined;
  const init = arg(TF1_VARIABLE_VALUE.name, TF1_VARIABLE_VALUE.position);
  const v = init && valueCall(init);
  if (!v || v.path[0] !== 'tensorflow') return undefined;
  const t = TF_TENSOR_SHAPE[v.path[v.path.length - 1] ?? ''];
  return t && v.arg(t.name, t.position);
}

// ------------------------------------------------------------------ optimizers

// Optimizer constructors and their weight-decay knobs (framework-semantics.md §1–§3): torch's
// `weight_decay` is coupled L2 (added to the gradient) except in AdamW and with
// `decoupled_weight_decay=True`; Keras 3 and tfa `weight_decay` is decoupled; optax's `*w` aliases
// decay decoupled; tfjs optimizers have no weight decay.

export interface TorchOptimizerSpec {
  wd: number;
  lrDecay?: number;
  default: number;
  decoupled?: boolean;
}
/** Positional index of `weight_decay` (after `params`, which is index 0) and the class default. */
export const TORCH_OPTIMIZERS: Record<string, TorchOptimizerSpec> = table({
  SGD: { wd: 4, default: 0 },
  Adam: { wd: 4, default: 0 },
  AdamW: { wd: 4, default: 1e-2, decoupled: true },
  Adamax: { wd: 4, default: 0 },
  NAdam: { wd: 4, default: 0 },
  RAdam: { wd: 4, default: 0 },
  RMSprop: { wd: 4, default: 0 },
  Adagrad: { wd: 3, lrDecay: 2, default: 0 },
  Adadelta: { wd: 4, default: 0 },
  ASGD: { wd: 5, default: 0 },
});
/**
 * The keys each torch optimizer's step reads from a parameter group: the names of its `defaults`
 * (every one a constructor argument), with `params`. `Optimizer.add_param_group` fills a group's
 * missing keys from the defaults and keeps any other key without a word, so a misspelled
 * `weight_decay` in a group dict is silently ignored (torch/optim/optimizer.py, `add_param_group`).
 */
const TORCH_GROUP_COMMON = ['params', 'lr', 'weight_decay', 'foreach', 'maximize', 'capturable', 'differentiable', 'fused'];
export const TORCH_GROUP_KEYS: Record<string, readonly string[]> = table({
  SGD: [...TORCH_GROUP_COMMON, 'momentum', 'dampening', 'nesterov'],
  Adam: [...TORCH_GROUP_COMMON, 'betas', 'eps', 'amsgrad', 'decoupled_weight_decay'],
  AdamW: [...TORCH_GROUP_COMMON, 'betas', 'eps', 'amsgrad'],
  Adamax: [...TORCH_GROUP_COMMON, 'betas', 'eps'],
  NAdam: [...TORCH_GROUP_COMMON, 'betas', 'eps', 'momentum_decay', 'decoupled_weight_decay'],
  RAdam: [...TORCH_GROUP_COMMON, 'betas', 'eps', 'decoupled_weight_decay'],
  RMSprop: [...TORCH_GROUP_COMMON, 'alpha', 'eps', 'momentum', 'centered'],
  Adagrad: [...TORCH_GROUP_COMMON, 'lr_decay', 'initial_accumulator_value', 'eps'],
  Adadelta: [...TORCH_GROUP_COMMON, 'rho', 'eps'],
  ASGD: [...TORCH_GROUP_COMMON, 'lambd', 'alpha', 't0'],
});
/** A cheap lexical gate: text that cannot build a torch optimizer (rebuiltOptimizers.ts asks before its walk). */
export const TORCH_OPTIMIZER_MENTION = /\boptim\b|\bAdam|RMSprop|Adagrad|SGD/;
/** A cheap lexical gate: text that takes no norm (`norm`, `np.linalg.norm`, `sqrt`): no trust ratio (updatedTrustRatio.ts). */
export const NORM_MENTION = /norm|sqrt/;
/** A cheap lexical gate: text that draws no random sign (`isRademacherDraw`'s calls; deadRandomSigns.ts). */
export const RANDOM_SIGN_MENTION = /choice|rademacher|sign|randint|bernoulli/;

/**
 * Whether a torch optimizer keeps state across steps (moments, accumulators, step counts) that a new
 * construction starts from zero: every class but SGD, and SGD with a momentum (keyword `momentum` or
 * third positional argument) that is not zero. `momentum` is its value when it resolves, `undefined`
 * when it is not written, `NaN` when written and unresolved (not judged: silent).
 */
export function torchOptimizerKeepsState(name: string, momentum: number | undefined): boolean {
  if (TORCH_OPTIMIZERS[name] === undefined) return false;
  if (name !== 'SGD') return true;
  return momentum !== undefined && !Number.isNaN(momentum) && momentum !== 0;
}
/** torch optimizers whose step divides by bias corrections 1 − βᵗ (a fresh one takes its corrected first steps again). */
export function torchOptimizerBiasCorrected(name: string): boolean {
  return /^(Adam|AdamW|Adamax|NAdam|RAdam|SparseAdam)$/.test(name);
}
/** Methods that put a module's weights back to a start (`model.load_state_dict(init)`, `layer.reset_parameters()`, `model.apply(init_fn)`). */
export function isModuleResetMethod(name: string): boolean {
  return /^(load_state_dict|reset_parameters|apply|init_weights|initialize|reset)$/.test(name);
}
/** A torch optimizer's method that takes a step. */
export const OPTIMIZER_STEP_METHOD = 'step';

/** The group key that sets a torch optimizer's weight decay. */
export const TORCH_DECAY_GROUP_KEY = 'weight_decay';
/** The group key that lists a torch param group's tensors. */
export const TORCH_PARAMS_GROUP_KEY = 'params';
/** `model.named_parameters()`: (dotted name, tensor) pairs, a submodule's attribute path then the tensor's own name. */
export const TORCH_NAMED_PARAMETERS = 'named_parameters';
/** The name a torch normalization layer gives its scale γ (`bn1.weight`); its shift β is `bias`. */
export const TORCH_NORM_SCALE_NAME = 'weight';
/** Calls that name a submodule by a string, the part of its parameters' names it gives: `self.add_module("stem_bn", m)`, `setattr(self, "stem_bn", m)` (position of the name). */
export const TORCH_SUBMODULE_NAMING: ReadonlyMap<string, number> = new Map([['add_module', 0], ['register_module', 0], ['setattr', 1]]);
/** `name.endswith(s)` / `name.startswith(s)`: Python's suffix and prefix tests on a string. */
export const STRING_SUFFIX_TEST = 'endswith';
export const STRING_PREFIX_TEST = 'startswith';
/** Python's `any(...)` / `all(...)` over an iterable of truth values. */
export const ANY_BUILTIN = 'any';
export const ALL_BUILTIN = 'all';
/** torch optimizers whose `weight_decay` is added to the gradient before the adaptive scaling (coupled L2). */
export const TORCH_COUPLED_ADAPTIVE: ReadonlySet<string> = new Set(['Adam', 'Adamax', 'NAdam', 'RAdam', 'RMSprop', 'Adagrad']);
/** torch optimizers that take `decoupled_weight_decay=True` (Adam takes it too, but AdamW is the usual fix). */
export const TORCH_DECOUPLED_FLAG: ReadonlySet<string> = new Set(['NAdam', 'RAdam']);
export const KERAS_OPTIMIZERS: ReadonlySet<string> = new Set(['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam', 'Ftrl', 'Lion', 'Adafactor', 'Lamb', 'Muon']);
/**
 * Keras 2's lowercase aliases of its optimizer classes (`keras.optimizers.adam = Adam`, `sgd = SGD`,
 * removed in tf.keras and Keras 3): the class each one names.
 */
const KERAS2_OPTIMIZER_ALIASES: Readonly<Record<string, string>> = table({ sgd: 'SGD', rmsprop: 'RMSprop', adagrad: 'Adagrad', adadelta: 'Adadelta', adam: 'Adam', adamax: 'Adamax', nadam: 'Nadam' });
/** The Keras optimizer class a name under `keras.optimizers` builds (`Adam`, or Keras 2's alias `adam`); undefined for any other name. */
export function kerasOptimizerClass(name: string): string | undefined {
  return KERAS_OPTIMIZERS.has(name) ? name : KERAS2_OPTIMIZER_ALIASES[name];
}
/**
 * The setting a Keras optimizer takes second by position, right after the learning rate, the same in
 * Keras 2 (`Adam(lr=0.001, beta_1=0.9, …, decay=0.)`), tf.keras (legacy and new) and Keras 3: β₁ of
 * Adam, Adamax, Nadam and Lion, SGD's momentum, ρ of RMSprop and Adadelta, with its default. AdamW
 * (`weight_decay` second in tf.keras and Keras 3), Adagrad (its second argument differs between
 * versions) and the others are not listed. `Adam(lr, decay)` passes the decay the code names as β₁.
 */
export function kerasSecondPositional(cls: string): { keyword: 'beta_1' | 'momentum' | 'rho'; default: number } | undefined {
  return KERAS_SECOND_POSITIONAL[cls];
}
const KERAS_SECOND_POSITIONAL: Readonly<Record<string, { keyword: 'beta_1' | 'momentum' | 'rho'; default: number }>> = table({
  Adam: { keyword: 'beta_1', default: 0.9 }, Adamax: { keyword: 'beta_1', default: 0.9 }, Nadam: { keyword: 'beta_1', default: 0.9 }, Lion: { keyword: 'beta_1', default: 0.9 },
  SGD: { keyword: 'momentum', default: 0 }, RMSprop: { keyword: 'rho', default: 0.9 }, Adadelta: { keyword: 'rho', default: 0.95 },
});
export const TFA_OPTIMIZERS: ReadonlySet<string> = new Set(['AdamW', 'SGDW']);
/** optax aliases with a decoupled `weight_decay` and its default. */
export const OPTAX_DECAYED: Record<string, number> = table({ adamw: 1e-4, adamaxw: 1e-4, nadamw: 1e-4 });
export const OPTAX_ADAPTIVE_ALIAS: ReadonlySet<string> = new Set(['adam', 'adamw', 'adamax', 'adamaxw', 'amsgrad', 'nadam', 'nadamw', 'radam', 'rmsprop', 'adagrad', 'adabelief', 'yogi', 'adafactor', 'lamb', 'novograd']);
export const OPTAX_OTHER_ALIAS: ReadonlySet<string> = new Set(['sgd', 'noisy_sgd', 'lars', 'lion', 'sm3', 'fromage', 'adadelta', 'polyak_sgd', 'optimistic_gradient_descent']);
export const OPTAX_ADAPTIVE_TRANSFORM: ReadonlySet<string> = new Set([
  'scale_by_adam', 'scale_by_adamax', 'scale_by_amsgrad', 'scale_by_rms', 'scale_by_stddev', 'scale_by_belief',
  'scale_by_yogi', 'scale_by_radam', 'scale_by_rss', 'scale_by_novograd', 'scale_by_factored_rms',
]);
/**
 * Framework optimizers whose `weight_decay` is decoupled (w ← w − η·λ·w beside the step) and whose
 * step divides by the root of a second moment: where decoupled decay and L2 are different regularizers.
 * Keras 3 decouples every optimizer's `weight_decay` (`Adam(weight_decay=λ)` too); torch only
 * AdamW's, or another adaptive optimizer's with `decoupled_weight_decay=True`.
 */
export function isDecoupledAdaptive(framework: string, name: string): boolean {
  switch (framework) {
    case 'torch':
      return name === 'AdamW' || TORCH_COUPLED_ADAPTIVE.has(name);
    case 'keras':
      return ['Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adamax', 'Nadam', 'Adafactor', 'Lamb'].includes(name);
    case 'tfa':
      return name === 'AdamW';
    case 'optax':
      return name in OPTAX_DECAYED;
    default:
      return false;
  }
}
/** optax's transformation type: `GradientTransformation(init_fn, update_fn)` (gradientTransformationParts). */
export const GRADIENT_TRANSFORMATION_NAMES = ['GradientTransformation', 'GradientTransformationExtraArgs'];
export const TFJS_OPTIMIZERS: ReadonlySet<string> = new Set(['sgd', 'momentum', 'adam', 'adamax', 'rmsprop', 'adagrad', 'adadelta']);
export const TFJS_OPTIMIZER_CLASSES: Record<string, string> = table({
  SGDOptimizer: 'sgd', MomentumOptimizer: 'momentum', AdamOptimizer: 'adam', AdamaxOptimizer: 'adamax',
  RMSPropOptimizer: 'rmsprop', AdagradOptimizer: 'adagrad', AdadeltaOptimizer: 'adadelta',
});

/**
 * Where a framework optimizer's constructor takes its learning rate, by its canonical path: torch's
 * `lr` (after `params`), Keras' `learning_rate` (`lr` in Keras 2), TF1's `tf.train.*Optimizer`
 * `learning_rate`, optax's aliases and tfjs' `tf.train.*` factories (first argument). The value is
 * read once, when the optimizer is built: rebinding the variable afterwards changes nothing the
 * optimizer reads (a schedule goes through `param_groups`, a scheduler, or a variable the optimizer holds).
 */
export function optimizerRateArgument(path: readonly string[]): { keywords: readonly string[]; position: number } | undefined {
  const name = path[path.length - 1];
  const root = path[0];
  if (root === 'torch' && path[1] === 'optim' && path.length <= 4 && TORCH_OPTIMIZERS[name]) return { keywords: ['lr'], position: 1 };
  if (root === 'keras' && path.includes('optimizers') && !path.includes('schedules') && KERAS_OPTIMIZERS.has(name)) return { keywords: ['learning_rate', 'lr'], position: 0 };
  if (root === 'tensorflow' && path.includes('train') && /^[A-Z]\w*Optimizer$/.test(name) && name !== 'Optimizer') return { keywords: ['learning_rate'], position: 0 };
  if (root === 'optax' && path.length === 2 && (OPTAX_ADAPTIVE_ALIAS.has(name) || OPTAX_OTHER_ALIAS.has(name))) return { keywords: ['learning_rate'], position: 0 };
  if (root === 'tfjs' && path[1] === 'train' && path.length === 3 && TFJS_OPTIMIZERS.has(name)) return { keywords: [], position: 0 };
  return undefined;
}

/**
 * The keyword arguments of a framework optimizer whose 0 is a setting of its own (NB210): torch's
 * `momentum` (SGD, RMSprop: 0 is no momentum buffer) and `weight_decay` (0: no decay), Keras'
 * `momentum` (SGD, RMSprop) and `weight_decay`. By keyword only: a positional one is not a default.
 */
export function zeroMeaningfulOptimizerKeywords(path: readonly string[]): readonly string[] {
  const name = path[path.length - 1];
  const root = path[0];
  if (root === 'torch' && path[1] === 'optim' && path.length <= 4 && TORCH_OPTIMIZERS[name])
    return TORCH_GROUP_KEYS[name]?.includes(MOMENTUM_KEYWORD) ? [MOMENTUM_KEYWORD, DECAY_KEYWORD] : [DECAY_KEYWORD];
  if (root === 'keras' && path.includes('optimizers') && !path.includes('schedules') && KERAS_OPTIMIZERS.has(name))
    return name === 'SGD' || name === 'RMSprop' ? [MOMENTUM_KEYWORD, DECAY_KEYWORD] : [DECAY_KEYWORD];
  return [];
}
const MOMENTUM_KEYWORD = 'momentum';
const DECAY_KEYWORD = 'weight_decay';
/**
 * What 0 means for a keyword `zeroMeaningfulOptimizerKeywords` may answer (no momentum, no decay), by the
 * keyword alone: undefined for any other keyword (a cheap test before the call's path is resolved).
 */
export function zeroMeaningfulKeyword(keyword: string | undefined): 'momentum' | 'decay' | undefined {
  return keyword === MOMENTUM_KEYWORD ? 'momentum' : keyword === DECAY_KEYWORD ? 'decay' : undefined;
}

/**
 * Where a dropout layer takes the shape of its random mask, by the layer's canonical path: Keras'
 * `Dropout(rate, noise_shape=None, seed=None)` and `AlphaDropout(rate, noise_shape=None, seed=None)`,
 * tfjs' `tf.layers.dropout({rate, noiseShape})`. A layer's input always has a batch axis first, and
 * the mask is broadcast against the input from the last axis, so a shape without that axis shares one
 * mask over the whole batch.
 */
/** A callee name that may be a dropout layer with a noise shape (the gate before `dropoutNoiseShapeArgument` resolves the path). */
export function mayBeDropoutLayer(name: string): boolean {
  return name === 'Dropout' || name === 'AlphaDropout' || name === 'dropout';
}

export function dropoutNoiseShapeArgument(path: readonly string[]): { keyword: string; position?: number } | undefined {
  const name = path[path.length - 1];
  if (path[0] === 'keras' && path.includes('layers') && (name === 'Dropout' || name === 'AlphaDropout')) return { keyword: 'noise_shape', position: 1 };
  if (path[0] === 'tfjs' && path[1] === 'layers' && path.length === 3 && name === 'dropout') return { keyword: 'noiseShape' };
  return undefined;
}

// ------------------------------------------------------------------ framework paths

/** Python roots used without an import (notebook fragments) and what they stand for. */
const PY_FALLBACK: Record<string, string> = table({ torch: 'torch', optax: 'optax', keras: 'keras', tf: 'tensorflow', tfa: 'tensorflow_addons' });

/** Canonical form of an import path: tf.keras → keras, tf_keras → keras, @tensorflow/tfjs-node → tfjs. */
export function canonicalPath(path: string[]): string[] {
  if (path.length === 0) return path;
  const [root] = path;
  if (/^@tensorflow\/tfjs/.test(root)) return ['tfjs', ...path.slice(1)];
  if (root === 'tensorflow_addons') return ['tfa', ...path.slice(1)];
  if (root === 'tf_keras') return ['keras', ...path.slice(1)];
  if (root === 'tensorflow') {
    const k = path.indexOf('keras');
    if (k > 0) return ['keras', ...path.slice(k + 1)];
    if (path[1] === 'optimizers') return ['keras', ...path.slice(1)];
  }
  return path;
}

function splitModule(module: string): string[] {
  return module.startsWith('@') || module.includes('/') ? [module] : module.split('.');
}

/** The canonical path of a dotted module path through a file's imports (`K` → keras.backend); a Python root used without an import by `PY_FALLBACK` (and `K`, Keras's backend). */
export function importedModulePath(path: readonly string[], imports: ReadonlyMap<string, ImportedName>): string[] | undefined {
  if (path.length === 0) return undefined;
  const imported = imports.get(path[0]);
  const root = imported ? importedPath(imported) : PY_FALLBACK[path[0]] ? [PY_FALLBACK[path[0]]] : path[0] === 'K' ? ['keras', 'backend'] : undefined;
  return root && canonicalPath([...root, ...path.slice(1)]);
}

/** The path an imported name stands for: `from torch.optim import Adam` → torch.optim.Adam. */
export function importedPath(imported: ImportedName): string[] {
  if (imported.name === undefined || imported.name === '*' || imported.name === 'default') return splitModule(imported.module);
  return [...splitModule(imported.module), ...imported.name.split('.')];
}

/**
 * The canonical dotted path of a callee through the file's imports and aliases: `optim.Adam` →
 * torch.optim.Adam, `regularizers.l2` → keras.regularizers.l2, `tf.train.adam` (tfjs) → tfjs.train.adam.
 */
export function frameworkPath(e: Expr, scope: Scope, at: number, imports: ReadonlyMap<string, ImportedName>, language: 'python' | 'script', depth = 0): string[] | undefined {
  if (depth > 6) return undefined;
  if (e.kind === 'name') {
    const binding = scope.lookup(e.name, at);
    if (binding) {
      if (binding.kind === 'assign' && binding.value && !binding.op && (binding.value.kind === 'name' || binding.value.kind === 'attr'))
        return frameworkPath(binding.value, binding.scope, binding.at, imports, language, depth + 1);
      if (!(binding.kind === 'assign' && binding.value?.kind === 'call' && binding.value.callee.kind === 'name' && binding.value.callee.name === 'require')) return undefined;
    }
    const imported = imports.get(e.name);
    if (imported) return canonicalPath(importedPath(imported));
    if (language === 'python') return PY_FALLBACK[e.name] ? canonicalPath([PY_FALLBACK[e.name]]) : undefined;
    return e.name === 'tf' ? ['tfjs'] : undefined;
  }
  if (e.kind === 'attr') {
    const p = frameworkPath(e.object, scope, at, imports, language, depth + 1);
    return p && canonicalPath([...p, e.name]);
  }
  // `optax.inject_hyperparams(optax.adamw)(...)` builds an adamw.
  if (e.kind === 'call' && e.args[0] && (e.callee.kind === 'attr' || e.callee.kind === 'name')) {
    const inner = frameworkPath(e.callee, scope, at, imports, language, depth + 1);
    if (inner && inner[0] === 'optax' && inner[inner.length - 1] === 'inject_hyperparams') return frameworkPath(e.args[0], scope, at, imports, language, depth + 1);
  }
  return undefined;
}

/**
 * Calls that reach an object's attribute by a name given as a string: Python's `setattr` / `getattr` /
 * `hasattr` / `delattr` and the dunder forms, `operator.attrgetter` / `methodcaller`, JavaScript's
 * `Reflect.get` / `Reflect.set` / `Reflect.apply`, `Object.defineProperty`; and `get` / `set` / `update` /
 * `pop` / `setdefault`, which may be a mapping's over an instance's `__dict__` / `vars(...)`.
 */
export const REFLECTIVE_ACCESSORS: ReadonlySet<string> = new Set([
  'setattr', 'getattr', 'hasattr', 'delattr', '__setattr__', '__getattribute__', '__getattr__', '__delattr__', 'attrgetter', 'methodcaller',
  'get', 'set', 'apply', 'defineProperty', 'deleteProperty', 'update', 'pop', 'setdefault',
]);

/**
 * Differentiations of the frameworks beyond the names the step recognizer reads (autodiff.ts
 * `AUTODIFF_NAMES`): function transformations of an autodiff module (`jax.vjp`, `jax.jacrev`, `jax.hessian`,
 * `jax.linearize`, `torch.func.vjp`, `torch.func.grad_and_value`, `torch.autograd.functional.jacobian`, tfjs
 * `tf.grads`, `tf.customGrad`), and methods of framework objects that differentiate a loss: a GradientTape's
 * `jacobian` / `batch_jacobian`, a Keras 2 optimizer's `get_gradients(loss, params)`, `K.gradients` (named).
 */
const DIFFERENTIATION_FUNCTIONS = new Set(['vjp', 'jvp', 'jacfwd', 'jacrev', 'jacobian', 'hessian', 'hvp', 'vhp', 'linearize', 'grad_and_value', 'grads', 'customGrad', 'get_gradients']);
const DIFFERENTIATION_METHODS = new Set(['get_gradients', 'jacobian', 'batch_jacobian']);

/**
 * Whether a call is one of those differentiations: a module function whose path, through the file's imports,
 * starts at an autodiff module; or, when the callee's root is no module, a differentiating method of a
 * framework object (the caller checks that the project defines no function the call runs instead).
 */
export function isFrameworkDifferentiation(call: Expr & { kind: 'call' }, scope: Scope, at: number, imports: ReadonlyMap<string, ImportedName>, language: 'python' | 'script'): boolean {
  const callee = call.callee;
  const name = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
  if (!name || !(DIFFERENTIATION_FUNCTIONS.has(name) || DIFFERENTIATION_METHODS.has(name))) return false;
  const path = frameworkPath(callee, scope, at, imports, language);
  if (path) return DIFFERENTIATION_FUNCTIONS.has(name) && (path[0] === 'tfjs' || isAutodiffModule(path[0]));
  return callee.kind === 'attr' && DIFFERENTIATION_METHODS.has(name);
}

/**
 * Python's fold, `functools.reduce(f, xs, start)` (or `reduce` imported from functools): f(…f(f(start, x₀), x₁)…),
 * so a two-parameter `lambda acc, x: acc + g(x)` over xs is Σₓ g(x). Its function, items and start value.
 */
export function foldCall(call: Expr & { kind: 'call' }, scope: Scope, at: number, imports: ReadonlyMap<string, ImportedName>): { fn: Expr; items: Expr; start?: Expr } | undefined {
  if (call.args.length < 2 || call.args.length > 3 || call.kwargs.length > 0 || call.args.some((a) => a.kind === 'other')) return undefined;
  const path = frameworkPath(call.callee, scope, at, imports, 'python');
  if (path?.join('.') !== 'functools.reduce') return undefined;
  return { fn: call.args[0], items: call.args[1], start: call.args[2] };
}

// ------------------------------------------------------------------ optimizer classes

/** Framework optimizer base classes a hand-written optimizer derives from (they read no decay knob themselves). */
const OPTIMIZER_BASES = new Set(['torch.optim.Optimizer', 'torch.optim.optimizer.Optimizer', 'tfjs.Optimizer', 'tfjs.train.Optimizer']);

/**
 * The methods a framework calls on its optimizer subclasses to update the variables: the optimizer's
 * own update, whose decay is its definition (NB108). torch's `Optimizer.step`; Keras 3's and tf.keras
 * ≥ 2.11's `update_step(gradient, variable[, learning_rate])`, reached from `apply_gradients`/`apply`;
 * Keras 2's legacy `_resource_apply_dense`/`_resource_apply_sparse`; TensorFlow.js's `applyGradients`.
 */
export const OPTIMIZER_UPDATE_METHODS: { readonly torch: ReadonlySet<string>; readonly keras: ReadonlySet<string>; readonly tfjs: ReadonlySet<string> } = {
  torch: new Set(['step']),
  keras: new Set(['update_step', 'apply_gradients', 'apply', '_resource_apply_dense', '_resource_apply_sparse', '_apply_dense', '_apply_sparse']),
  tfjs: new Set(['applyGradients']),
};

/**
 * A Keras optimizer base class (`keras.optimizers.Optimizer`, `tf.keras.optimizers.Optimizer`,
 * `optimizer_v2.OptimizerV2`, the legacy ones): its subclasses' steps read the framework's step counter.
 */
export function isKerasOptimizerBasePath(path: string[] | undefined): boolean {
  if (!path || path[0] !== 'keras') return false;
  const last = path[path.length - 1];
  if (last !== 'Optimizer' && last !== 'OptimizerV2') return false;
  return path.length === 2 || path.includes('optimizers') || path.includes('optimizer_v2');
}

/**
 * The decay a Keras optimizer base applies itself, before it runs a subclass's step. Keras 3's
 * `BaseOptimizer.apply` (and `apply_gradients`, which calls it) and tf.keras ≥ 2.11's
 * `Optimizer.apply_gradients` call `_apply_weight_decay(variables)` and then `update_step` for each
 * variable; `_apply_weight_decay` returns when `self.weight_decay` is None and otherwise shrinks every
 * variable not excluded by `exclude_from_weight_decay` by lr·weight_decay·variable. The base's
 * `__init__` sets `self.weight_decay` from its `weight_decay` argument (default None in Keras 3, 0 in
 * tf.keras), so a subclass sets the strength by passing it up or by assigning the attribute after
 * `super().__init__`. The step the subclass writes is `update_step(gradient, variable[, learning_rate])`.
 * Keras 2's legacy optimizers (`optimizer_v2.OptimizerV2`, `optimizers.legacy.*`, whose subclasses
 * write `_resource_apply_dense`) and the 2.9/2.10 `experimental` optimizer apply no such decay.
 */
export const KERAS_BASE_DECAY = {
  /** The attribute `_apply_weight_decay` reads, and the base constructor's keyword that sets it. */
  attribute: 'weight_decay',
  keyword: 'weight_decay',
  /** The per-variable step the base runs after the decay, and its arguments after `self`. */
  step: 'update_step',
  gradientArg: 0,
  variableArg: 1,
  /** A subclass that defines this method replaces the base's decay (often with `pass`). */
  decayMethod: '_apply_weight_decay',
  /** Methods on the way from `apply_gradients` to the decay: an override that does not call the base's may skip it. */
  applyMethods: ['apply_gradients', 'apply', '_backend_apply_gradients', '_internal_apply_gradients'],
} as const;

/**
 * A test of whether Keras has its `optimizers.legacy` namespace (added in TF 2.9, when the new
 * optimizers began to replace the Keras 2 ones): `hasattr(tf.keras.optimizers, "legacy")`, also
 * negated with `not`. Where the namespace is missing, `keras.optimizers.SGD(...)` is the Keras 2
 * optimizer the legacy namespace holds later, whose `decay` is learning-rate decay; code that
 * builds `optimizers.legacy.X(...)` when the test holds and `optimizers.X(...)` otherwise asks for
 * the same optimizer on every version. `true`: the test holds when the namespace exists; `false`:
 * when it is missing; `undefined`: not such a test. `pathOf` gives a module expression's canonical path.
 */
export function kerasLegacyTest(test: Expr, pathOf: (e: Expr) => string[] | undefined): boolean | undefined {
  if (test.kind === 'unary' && test.op === 'not') {
    const inner = kerasLegacyTest(test.arg, pathOf);
    return inner === undefined ? undefined : !inner;
  }
  if (test.kind !== 'call' || test.callee.kind !== 'name' || test.callee.name !== 'hasattr' || test.args.length !== 2) return undefined;
  const [module, attr] = test.args;
  if (attr.kind !== 'str' || attr.value !== 'legacy') return undefined;
  const path = pathOf(module);
  return path && path[0] === 'keras' && path[path.length - 1] === 'optimizers' ? true : undefined;
}

/** Is `path` a Keras optimizer base that decays every variable before its subclass's `update_step` (KERAS_BASE_DECAY)? */
export function kerasBaseDecays(path: string[] | undefined): boolean {
  if (!path || path[0] !== 'keras') return false;
  if (path.some((p) => p === 'legacy' || p === 'experimental' || p === 'optimizer_experimental' || p === 'optimizer_v1' || p === 'optimizer_v2')) return false;
  const last = path[path.length - 1];
  if (last === 'Optimizer' || last === 'BaseOptimizer') return path.length === 2 || path.includes('optimizers');
  // Keras 3's and tf.keras's own optimizers pass `weight_decay` up to the base.
  return KERAS_OPTIMIZERS.has(last) && path.includes('optimizers');
}

/**
 * Keras variable writes, as methods of the variable (`v.assign_sub(x)`) or of a Keras 3 optimizer
 * (`self.assign_sub(v, x)`): how the value given enters the new value (0: it replaces it).
 */
export const KERAS_VARIABLE_WRITES: Record<string, -1 | 0 | 1> = table({ assign: 0, assign_add: 1, assign_sub: -1 });

/**
 * A Keras optimizer's step count, `self.iterations`: 0 on the first step, and incremented by the
 * framework after each step (`apply_gradients` in tf.keras and Keras 3; Keras 2's `get_updates`
 * increments it with `K.update_add(self.iterations, 1)`, an op that runs with the step's other
 * updates, so the step reads the count before it). A correction 1 − βᵗ takes t = iterations + 1.
 */
export const KERAS_STEP_COUNTER = 'iterations';

/** Bases that add no behaviour an optimizer's knobs could go through: `abc.ABC`, `object`, `typing.Generic`. */
const NEUTRAL_BASES = new Set(['abc.ABC', 'object', 'typing.Generic', 'ABC']);

export function isNeutralBasePath(path: string[] | undefined): boolean {
  return path !== undefined && NEUTRAL_BASES.has(path.join('.'));
}

/**
 * Framework base classes whose `__call__` runs a method the subclass defines: calling an instance of
 * a torch `nn.Module` runs its `forward`, of a Keras `Layer`, `Model` or `Loss` its `call`.
 */
const CALL_RUNS_METHOD = table({
  'torch.nn.Module': 'forward',
  'torch.nn.modules.module.Module': 'forward',
  'keras.layers.Layer': 'call',
  'keras.Layer': 'call',
  'keras.Model': 'call',
  'keras.models.Model': 'call',
  'keras.losses.Loss': 'call',
});

/** The method an instance's call runs when its class derives from the framework base at `path`. */
export function methodCallRuns(path: string[] | undefined): string | undefined {
  return path ? CALL_RUNS_METHOD[path.join('.')] : undefined;
}

/** Whether a framework base at `path` is Keras's (a `Layer`, `Model` or `Loss` whose `call` Keras traces into a graph). */
export function isKerasCallBase(path: string[] | undefined): boolean {
  return path !== undefined && path[0] === 'keras' && methodCallRuns(path) === 'call';
}

/** A decorator that traces its function into a TensorFlow graph: `@tf.function`, `@tf.function(jit_compile=True)`. */
export function isGraphTracingDecorator(path: string[] | undefined): boolean {
  return path !== undefined && path.length === 2 && path[0] === 'tensorflow' && path[1] === 'function';
}

/** The Keras methods `fit` / `evaluate` / `predict` run inside the graph they trace: a layer's or model's `call`, `train_step`… */
const KERAS_TRACED_METHODS = new Set(['call', 'train_step', 'test_step', 'predict_step']);
export function isKerasTracedMethod(name: string): boolean {
  return KERAS_TRACED_METHODS.has(name);
}
/** The Keras layer keyword that makes Keras run `call` eagerly, never traced: `dynamic=True`. */
export const KERAS_EAGER_KEYWORD = 'dynamic';

/** Conversions that keep 0 as 0 (`float(x or 0.9)`, `Number(opts.m || 0.5)`): still the value converted. */
const NUMERIC_CONVERSIONS = new Set(['float', 'Number', 'parseFloat']);
export function isNumericConversion(name: string): boolean {
  return NUMERIC_CONVERSIONS.has(name);
}
/** Reads of an option that may be absent: a mapping's `d.get("k")`, Python's `getattr(o, "k")`. */
export const OPTION_GET_METHOD = 'get';
export const OPTION_GET_FUNCTION = 'getattr';
/** The accessor pair of a matrix-like class (`m.set(i, j, v)` stores what `m.get(i, j)` reads). */
export const ENTRY_SETTER = 'set';
export const ENTRY_GETTER = 'get';

/**
 * Keras 3's backend as the code chooses it (NB211): the environment variable read when `keras` is
 * imported (`os.environ["KERAS_BACKEND"] = "torch"`) and `keras.config.set_backend("torch")`. On the
 * torch backend `fit`/`predict` run `call` eagerly unless the model is compiled with
 * `jit_compile=True`; JAX jit-compiles them by default and TensorFlow traces them with `tf.function`.
 */
export const KERAS_BACKEND_VARIABLE = 'KERAS_BACKEND';
export function isKerasBackendSetter(path: string[] | undefined): boolean {
  return path !== undefined && path.length === 3 && path[0] === 'keras' && path[1] === 'config' && path[2] === 'set_backend';
}
const KERAS_EAGER_BACKENDS = new Set(['torch']);
export function isKerasEagerBackend(name: string): boolean {
  return KERAS_EAGER_BACKENDS.has(name);
}
/** The keyword of `model.compile(…)` (and `tf.function`) that compiles the run with XLA / `torch.compile`. */
export const KERAS_JIT_KEYWORD = 'jit_compile';

/** Keras model methods that run the model inside a graph they trace (unless `run_eagerly`): `model.fit(…)`, `model.predict(…)`. */
const KERAS_GRAPH_RUNS = new Set(['fit', 'evaluate', 'predict', 'train_on_batch', 'test_on_batch', 'predict_on_batch', 'fit_generator', 'evaluate_generator', 'predict_generator']);
export function isKerasGraphRun(method: string): boolean {
  return KERAS_GRAPH_RUNS.has(method);
}

/** NumPy's `np.random` functions that draw nothing (state, seeding, generator constructors). */
const NUMPY_RANDOM_NON_DRAWS = new Set(['seed', 'get_state', 'set_state', 'default_rng', 'RandomState', 'Generator', 'SeedSequence', 'PCG64', 'MT19937', 'BitGenerator', 'bit_generator']);
/** Python's `random` module functions that draw nothing. */
const PY_RANDOM_NON_DRAWS = new Set(['seed', 'getstate', 'setstate', 'Random', 'SystemRandom']);

/**
 * A random draw made on the host, in Python, not by a TensorFlow op (NB211): NumPy's module-level
 * `np.random.*` draws (`binomial`, `rand`, `normal`, `choice`, …) and Python's `random.*`. Traced into
 * a graph, such a draw runs once and its value is a constant of the graph; `tf.random.*` draws anew.
 */
export function isHostRandomDraw(path: readonly string[] | undefined): boolean {
  if (!path) return false;
  if (path.length === 3 && path[0] === 'numpy' && path[1] === 'random') return !NUMPY_RANDOM_NON_DRAWS.has(path[2]);
  if (path.length === 2 && path[0] === 'random') return !PY_RANDOM_NON_DRAWS.has(path[1]);
  return false;
}

export function isOptimizerBasePath(path: string[] | undefined): boolean {
  return path !== undefined && OPTIMIZER_BASES.has(path.join('.'));
}

/**
 * A framework's own optimizer whose step applies the gradients it finds: torch's (`torch.optim.Adam`,
 * reading each parameter's `.grad`) and TensorFlow.js's classes (`tf.AdamOptimizer`, reading the map
 * `applyGradients` is handed). A subclass that calls the base step applies those gradients, not a
 * local it computed beside them.
 */
export function isFrameworkOptimizerClassPath(path: string[] | undefined): boolean {
  if (!path || path.length < 2) return false;
  const last = path[path.length - 1];
  if (path[0] === 'torch') return path[1] === 'optim' && TORCH_OPTIMIZERS[last] !== undefined;
  return path[0] === 'tfjs' && TFJS_OPTIMIZER_CLASSES[last] !== undefined;
}
/** Where torch keeps a parameter's gradient, which the base step reads: `p.grad`. */
export const TORCH_GRAD_ATTRIBUTE = 'grad';
/** The method a framework optimizer runs once per training step: torch's `step`, TensorFlow.js's `applyGradients`. */
export const OPTIMIZER_STEP_METHODS = ['step', 'applyGradients'];
/**
 * Calls that apply an optimizer's update to the parameters it holds: torch's `optimizer.step()`
 * (AMP's `scaler.step(optimizer)`), Keras/TensorFlow's `apply_gradients` and `minimize`,
 * TensorFlow.js's `applyGradients` and `minimize`, optax's `apply_updates`. `step` also names other
 * things (`scheduler.step()`, `env.step(action)`): callers confirm it with a differentiation nearby.
 */
export function optimizerApplyCall(call: Expr & { kind: 'call' }): 'step' | 'apply' | undefined {
  const name = call.callee.kind === 'attr' ? call.callee.name : call.callee.kind === 'name' ? call.callee.name : undefined;
  if (name === 'step' && call.callee.kind === 'attr' && call.args.length <= 1 && call.kwargs.length === 0) return 'step';
  if (name === 'apply_gradients' || name === 'applyGradients' || name === 'apply_updates') return 'apply';
  if (name === 'minimize' && call.callee.kind === 'attr') return 'apply';
  return undefined;
}
/** Methods a hand-written optimizer object applies its update with: `optimizer.update(layers)`, `opt.step(params)`. */
export const HANDWRITTEN_OPTIMIZER_METHODS: ReadonlySet<string> = new Set(['update', 'step']);
/** A class's constructor: Python's `__init__`, JavaScript's `constructor`. */
export const CONSTRUCTOR_METHODS = ['__init__', 'constructor'];
/**
 * A method the language calls without its name written at the call: Python's special methods
 * (`__call__` by `opt()`, `__next__` by a for loop or `next(it)`, `__enter__` by `with`), and
 * JavaScript's `[Symbol.iterator]`-style computed keys.
 */
export function isImplicitlyCalledMethod(name: string): boolean {
  return /^__\w+__$/.test(name) || name.startsWith('[');
}
/** The attribute holding a torch optimizer's parameter groups (each group a dict of its settings). */
export const PARAM_GROUPS_ATTRIBUTE = 'param_groups';
/** The attribute holding a torch optimizer's default settings. */
export const OPTIMIZER_DEFAULTS_ATTRIBUTE = 'defaults';
/** Methods that walk a whole dict: a group's settings read without naming them. */
export const DICT_WALKS = new Set(['items', 'values', 'keys', 'copy', 'update']);
/** A TensorFlow variable's name (`v.name`, 'dense/bias:0'), which filters of trainable variables test. */
export const VARIABLE_NAME_ATTRIBUTE = 'name';
/** Literals that pass nothing: an argument given one of them asks for no regularization. */
export const EMPTY_ARGUMENT_NAMES = new Set(['None', 'False', 'null', 'undefined', 'false']);
/** Python builtins that turn a string known only at run time into a definition of the module: `eval(args.model_name)`. */
export const RUN_TIME_NAME_LOOKUPS = ['eval'];
/** Builtins that read an object's attributes by a computed name (`getattr(layer, name)`, `vars(self)`). */
export const DYNAMIC_ATTRIBUTE_READS = new Set(['getattr', 'vars']);

/**
 * Python's `getattr(obj, "name")` or `getattr(obj, "name", default)` with a literal name reads
 * `obj.name` (the default only stands in when the attribute is missing): the object and the name.
 */
export function attributeReadByName(e: Expr & { kind: 'call' }): { object: Expr; name: string } | undefined {
  if (e.callee.kind !== 'name' || e.callee.name !== 'getattr' || e.kwargs.length > 0 || e.args.length < 2 || e.args.length > 3) return undefined;
  const [object, name] = e.args;
  return name.kind === 'str' && /^[A-Za-z_]\w*$/.test(name.value) ? { object, name: name.value } : undefined;
}
/** JS's `Map#set`: `map.set(k, v)` writes the entry `map[k]`. */
export const MAP_SET_METHOD = 'set';
/**
 * JS's `map.set(k, v)`: the entry `map[k]` it writes (a node sharing the call's span) and the value.
 * Only for JS/TS code; whether the receiver is a container (and not a module) is the caller's to judge.
 */
export function entryWriteBySet(e: Expr & { kind: 'call' }): { entry: Expr & { kind: 'index' }; value: Expr } | undefined {
  if (e.callee.kind !== 'attr' || e.callee.name !== MAP_SET_METHOD || e.args.length !== 2 || e.kwargs.length > 0) return undefined;
  return { entry: { kind: 'index', object: e.callee.object, index: [e.args[0]], span: e.span }, value: e.args[1] };
}
/**
 * `d.get(k)` or `d.get(k, default)` (Python's dict, JS's Map): the entry `d[k]` it reads, as a node
 * sharing the call's span (the default, when given, is the call's second argument). Whether `d` is
 * a container (and not `requests`) is the caller's to judge.
 */
export function entryReadByGet(e: Expr & { kind: 'call' }): (Expr & { kind: 'index' }) | undefined {
  if (e.callee.kind !== 'attr' || e.callee.name !== DICT_GET_METHOD || e.args.length < 1 || e.args.length > 2 || e.kwargs.length > 0) return undefined;
  return { kind: 'index', object: e.callee.object, index: [e.args[0]], span: e.span };
}
/**
 * Python's `setattr(obj, name, value)` writes `obj.<name>`: the object, the name expression (a
 * literal, or a variable holding one) and the value.
 */
export function attributeWriteByName(e: Expr & { kind: 'call' }): { object: Expr; name: Expr; value: Expr } | undefined {
  if (e.callee.kind !== 'name' || e.callee.name !== 'setattr' || e.kwargs.length > 0 || e.args.length !== 3) return undefined;
  const [object, name, value] = e.args;
  return { object, name, value };
}
/**
 * Layers whose call looks rows up in their weight (`emb(ids)` is `emb.weight[ids]`): the weight's
 * attribute and the argument holding the indices, by canonical constructor path.
 */
const LOOKUP_LAYERS: Record<string, { weight: string; indices: number }> = table({
  'torch.nn.Embedding': { weight: 'weight', indices: 0 },
  'torch.nn.modules.sparse.Embedding': { weight: 'weight', indices: 0 },
});

/** The weight a layer built by this constructor reads rows of when called, and where the indices go. */
export function lookupLayer(path: string[]): { weight: string; indices: number } | undefined {
  return LOOKUP_LAYERS[path.join('.')];
}
/** The attribute holding a Python object's attributes (`self.__dict__`). */
export const INSTANCE_DICT_ATTRIBUTE = '__dict__';
/** Python decorators that make a method take no instance. */
export const NO_INSTANCE_DECORATORS = new Set(['staticmethod']);

// ------------------------------------------------------------------ Keras add_loss

/** The Keras method that adds a loss to a layer or a model: `layer.add_loss(x)`. */
export const ADD_LOSS_METHOD = 'add_loss';
/** The method Keras runs on every forward pass of a layer or model: a tensor given to `add_loss` there is computed anew each call. */
export const FORWARD_METHODS: ReadonlySet<string> = new Set(['call']);
/** Where a Keras layer creates its weights, once: a tensor computed there from them is a constant. */
export const WEIGHT_SETUP_METHODS: ReadonlySet<string> = new Set(['build']);
/** The methods Keras itself runs on every layer or model it builds and calls: an `add_loss` on the instance there is every instance's. */
export const KERAS_RUN_METHODS: ReadonlySet<string> = new Set(['__init__', ...WEIGHT_SETUP_METHODS, ...FORWARD_METHODS]);
/**
 * Attributes that list a Keras model's or layer's sublayers (`model.layers`, `model.submodules`):
 * `model.losses` collects the `add_loss` terms of every one of them.
 */
export const SUBLAYER_LISTS: ReadonlySet<string> = new Set(['layers', 'submodules', '_layers']);
/** Methods that return one of a model's sublayers (`model.get_layer("conv1")`) or list them (`model._flatten_layers()`). */
export const SUBLAYER_METHODS: ReadonlySet<string> = new Set(['get_layer', '_flatten_layers']);
/** Builtins that hand on the items of a list unchanged, in another order or container (`reversed(model.layers)`). */
export const ITEM_PRESERVING_CALLS: ReadonlySet<string> = new Set(['reversed', 'list', 'tuple', 'sorted', 'iter']);

/** A module of TensorFlow (`tensorflow`, `tensorflow.keras`), whose Keras runs eagerly in TF2. */
export function isTensorFlowModule(module: string): boolean {
  return /^tensorflow(\.|$)/.test(module);
}

/** TF1 graph-mode calls (`tf.compat.v1.*`, `tf.Session`, `tf.placeholder`, `K.get_session`): code that builds a graph, where a tensor is recomputed on every run. */
export function isGraphModePath(path: string[]): boolean {
  if (path[0] === 'tensorflow') return (path[1] === 'compat' && path[2] === 'v1') || ['Session', 'InteractiveSession', 'placeholder', 'disable_v2_behavior', 'disable_eager_execution', 'get_variable', 'variable_scope'].includes(path[1]);
  return path[0] === 'keras' && path[1] === 'backend' && (path[2] === 'get_session' || path[2] === 'set_session');
}

// ------------------------------------------------------------------ the CLI's lexical pre-check

/**
 * Framework names whose presence in a file's text may start an analysis by themselves: in-place
 * updates, optimizers and optimizer bases, regularizers and layer regularizer arguments, parameter
 * and weight lists, `add_loss`, pytree maps. server/engine/prefilter.ts keeps every file that names
 * one (with the autodiff names and the role names of roles.ts), so a file skipped before parsing
 * can name none of them.
 */
export const FRAMEWORK_NAMES: ReadonlySet<string> = new Set([
  ...ADDS, ...SUBTRACTS, ...SETS, ...SCALES, ...FOREACH.keys(),
  ...Object.keys(TORCH_OPTIMIZERS), ...KERAS_OPTIMIZERS, ...TFA_OPTIMIZERS, ...Object.keys(OPTAX_DECAYED), ...OPTAX_ADAPTIVE_ALIAS, ...OPTAX_OTHER_ALIAS,
  ...OPTAX_ADAPTIVE_TRANSFORM, ...TFJS_OPTIMIZERS, ...Object.keys(TFJS_OPTIMIZER_CLASSES), 'Optimizer', 'optim', 'optimizers', 'optax',
  ...KERAS_REGULARIZER_NAMES, ...TFJS_REGULARIZER_NAMES, 'regularizers', 'l2_regularizer', 'l1_regularizer', 'l1_l2_regularizer',
  ...PARAMETER_LISTS, 'named_parameters', ...GRAPH_VARIABLE_LISTS, ...TRAINABLE_WEIGHT_LISTS, PARAM_GROUPS_ATTRIBUTE,
  ...DROPOUT_NAMES,
  ADD_LOSS_METHOD, 'tree_map', 'tree_multimap', ...GRADIENT_TRANSFORMATION_NAMES, 'map_structure', 'apply_gradients', 'applyGradients', 'minimize', 'add_decayed_weights',
  // A TF1 script that only builds a model and calls a trainer in another module (NB301: one graph).
  'tensorflow',
]);


// ------------------------------------------------------------------ optimizer step arithmetic

/** The math functions an optimizer step is normalized with (optimizerSteps.ts); anything else is opaque. */
export type StepFunction = 'sqrt' | 'abs' | 'sign' | 'max' | 'min' | 'exp' | 'log';

/** A call's value as arithmetic on its operands: what `m.mul_(b1).add_(g, alpha=1 - b1)` computes. */
export type StepMath =
  | { op: 'expr'; expr: Expr }
  | { op: 'num'; value: number }
  | { op: '+' | '-' | '*' | '/' | '**'; left: StepMath; right: StepMath }
  | { op: 'neg'; arg: StepMath }
  | { op: 'fn'; fn: StepFunction; args: StepMath[] };

export interface StepCall {
  value: StepMath;
  /** The tensor the call overwrites with its value (`m.mul_(b1)`, `v.assign(...)`, `torch.max(a, b, out=a)`, `torch._foreach_mul_(ms, b1)`). */
  writes?: Expr;
  /**
   * torch's in-place math that maps its receiver to a function of itself alone, not linear in it:
   * `g.square_()`, `g.pow_(2)`, `v.sqrt_()`, `g.abs_()`, `g.sign_()`, `g.mul_(g)`. Where used, the call's
   * value is that function of the old value (`acc.add_(g.square_())` adds g²), and the receiver holds it after.
   */
  selfMap?: boolean;
}

/** torch's in-place calls whose new value is a nonlinear function of the receiver alone (StepCall.selfMap); pow_ and mul_ are read by their argument. */
const IN_PLACE_SELF_MAPS: ReadonlySet<string> = new Set(['square_', 'sqrt_', 'rsqrt_', 'abs_', 'absolute_', 'sign_', 'sgn_', 'exp_', 'log_']);

const STEP_METHODS = new Set([
  'add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'addcmul', 'addcdiv', 'lerp', 'sqrt', 'rsqrt', 'reciprocal', 'pow', 'square',
  'abs', 'sign', 'neg', 'negative', 'maximum', 'minimum', 'exp', 'log', 'clone', 'detach', 'copy', 'float', 'double', 'contiguous', 'astype',
  // Keras 2's `new_p = p.constraint(new_p)`: the variable's constraint (max-norm, non-negativity)
  // projects the stepped value; the step is its argument.
  'constraint',
  // torch's `t.item()`: the tensor's one number, as a Python scalar (a step count read as `state["step"].item()`).
  'item',
]);
const STEP_IN_PLACE = new Set(['assign', 'assign_add', 'assign_sub', 'copy_', 'set_']);
/** Module functions whose first argument plays the receiver's part: `torch.add(a, b, alpha=c)`, `np.sqrt(v)`, `tf.square(g)`. */
const STEP_FUNCTIONS = new Set([
  'add', 'subtract', 'sub', 'multiply', 'mul', 'divide', 'div', 'true_divide', 'addcmul', 'addcdiv', 'lerp', 'sqrt', 'rsqrt', 'reciprocal', 'power', 'pow',
  'square', 'abs', 'absolute', 'fabs', 'sign', 'negative', 'neg', 'maximum', 'minimum', 'max', 'min', 'exp', 'log', 'scalar', 'asarray',
  // `tf.cast(x, dtype)`, `K.cast(x, K.floatx())`: the value itself.
  'cast',
  // `torch.clone(g)`, `np.copy(g)`: a copy holds the value.
  'clone', 'copy',
]);
/**
 * Module functions that overwrite their first argument: TF's `state_ops.assign(m, v)` /
 * `assign_add` / `assign_sub`, and Keras 2's backend `K.update(m, v)` / `update_add` / `update_sub`.
 */
const STEP_MODULE_WRITES: Record<string, string> = table({ assign: 'assign', assign_add: 'assign_add', assign_sub: 'assign_sub', update: 'assign', update_add: 'assign_add', update_sub: 'assign_sub' });
/** Python builtins with the same meaning: `max(a, b)`, `abs(x)`, `pow(b, t)`. */
const STEP_BUILTINS = new Set(['max', 'min', 'abs', 'pow', 'float']);

/**
 * The tensor a torch call changes in place, whatever its arithmetic: the receiver of a method named
 * with a trailing `_` (`u.clamp_(max=c)`, `x.reciprocal_()`), the list of `torch._foreach_X_(xs, …)`.
 * Undefined for any other call (dunder methods included).
 */
export function inPlaceReceiver(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): Expr | undefined {
  const callee = call.callee;
  if (callee.kind !== 'attr' || !callee.name.endsWith('_') || callee.name.endsWith('__')) return undefined;
  if (isModule(callee.object)) return callee.name.startsWith('_foreach_') ? call.args[0] : undefined;
  return callee.object;
}

/** JavaScript's `Math` and Python's `math`: the builtin math functions' object, imported or not. */
export function isMathObject(e: Expr): boolean {
  return e.kind === 'name' && (e.name === 'Math' || e.name === 'math');
}

/** Every name `stepCall`'s switch reads (its `case` labels): a call whose name becomes none of these is no step math. */
const STEP_CALL_NAMES = new Set([
  'add', 'sub', 'subtract', 'assign_add', 'assign_sub', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'addcmul',
  'addcdiv', 'lerp', 'sqrt', 'rsqrt', 'reciprocal', 'pow', 'power', 'square', 'abs', 'absolute', 'fabs', 'sign',
  'neg', 'negative', 'exp', 'log', 'maximum', 'minimum', 'max', 'min', 'copy', 'zero', 'fill', 'cast', 'constraint',
  'clone', 'detach', 'item', 'float', 'double', 'contiguous', 'scalar', 'asarray', 'astype', 'assign', 'set',
]);

/**
 * Whether a method name can become one of `STEP_CALL_NAMES` the ways `stepCall` rewrites it: one
 * trailing `_` dropped, after `_foreach_` is dropped or a module's write is renamed (`update_add`).
 */
function mayNameStepMath(raw: string): boolean {
  const named = (n: string): boolean => STEP_CALL_NAMES.has(n.endsWith('_') ? n.slice(0, -1) : n);
  if (named(raw)) return true;
  if (raw.startsWith('_foreach_') && named(raw.slice('_foreach_'.length))) return true;
  const write = STEP_MODULE_WRITES[raw];
  return write !== undefined && named(write);
}

/**
 * The arithmetic of a call in an optimizer step, torch's in-place forms and `_foreach_` lists, NumPy,
 * TF, tfjs, JAX and `Math` alike. Undefined for anything else (the step reads it as opaque).
 */
export function stepCall(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean, pathOf?: (callee: Expr) => string[] | undefined): StepCall | undefined {
  const callee = call.callee;
  const kw = (name: string): Expr | undefined => call.kwargs.find((k) => k.name === name)?.value;
  let name: string;
  let receiver: Expr | undefined;
  let args = call.args;
  let inPlace = false;
  let foreach = false;
  if (callee.kind === 'name') {
    // `from math import sqrt; sqrt(1 - b2 ** t)`, `from numpy import exp`: the module's function, imported by name.
    const path = STEP_BUILTINS.has(callee.name) ? undefined : pathOf?.(callee);
    const imported = path && path.length >= 2 && MODULE_ROOTS.has(path[0]) && STEP_FUNCTIONS.has(path[path.length - 1]) ? path[path.length - 1] : undefined;
    if (!STEP_BUILTINS.has(callee.name) && !imported) return undefined;
    name = imported ?? callee.name;
    receiver = args[0];
    args = args.slice(1);
  } else if (callee.kind === 'attr') {
    // A method whose name the switch below does not read, however the receiver is read, is no step math:
    // answered before `isModule` and the argument readings are made for it (most calls of a file).
    if (!mayNameStepMath(callee.name)) return undefined;
    const module = isModule(callee.object) || isMathObject(callee.object);
    name = callee.name;
    if (module && name.startsWith('_foreach_')) {
      name = name.slice('_foreach_'.length);
      foreach = true;
      receiver = args[0];
      args = args.slice(1);
    } else if (module && STEP_MODULE_WRITES[name]) {
      name = STEP_MODULE_WRITES[name];
      receiver = args[0];
      args = args.slice(1);
    } else if (module) {
      if (!STEP_FUNCTIONS.has(name)) return undefined;
      receiver = args[0];
      args = args.slice(1);
    } else receiver = callee.object;
    if (name.endsWith('_') && !module) inPlace = true;
    if (name.endsWith('_') && module) inPlace = true;
    if (STEP_IN_PLACE.has(name)) inPlace = true;
    name = name.replace(/_$/, '');
  } else return undefined;
  if (!receiver) return undefined;
  const r: StepMath = { op: 'expr', expr: receiver };
  const e = (x: Expr | undefined): StepMath | undefined => (x ? (numberOfExpr(x) !== undefined ? { op: 'num', value: numberOfExpr(x)! } : { op: 'expr', expr: x }) : undefined);
  const times = (a: StepMath | undefined, b: StepMath): StepMath => (a ? { op: '*', left: a, right: b } : b);
  const [a0, a1, a2] = args.map(e);
  let value: StepMath | undefined;
  switch (name) {
    case 'add':
    case 'sub':
    case 'subtract':
    case 'assign_add':
    case 'assign_sub': {
      if (!a0) return undefined;
      // The old torch signature `p.data.add_(-lr, grad)` puts the scalar first.
      const operand = a1 ? times(a0, a1) : times(e(kw('alpha')), a0);
      value = { op: name === 'add' || name === 'assign_add' ? '+' : '-', left: r, right: operand };
      break;
    }
    case 'mul':
    case 'multiply':
      value = a0 && { op: '*', left: r, right: a0 };
      break;
    case 'div':
    case 'divide':
    case 'true_divide':
      value = a0 && { op: '/', left: r, right: a0 };
      break;
    case 'addcmul':
    case 'addcdiv': {
      // `addcmul_(t1, t2, value=v)`; the old `addcmul_(v, t1, t2)`; `_foreach_addcmul_(vs, t1s, t2s, v)`.
      const old = a2 !== undefined && !foreach;
      const [t1, t2, v] = old ? [a1, a2, a0] : [a0, a1, a2 ?? e(kw('value'))];
      if (!t1 || !t2) return undefined;
      value = { op: '+', left: r, right: times(v, { op: name === 'addcmul' ? '*' : '/', left: t1, right: t2 }) };
      break;
    }
    case 'lerp': {
      const w = a1 ?? e(kw('weight'));
      if (!a0 || !w) return undefined;
      value = { op: '+', left: r, right: { op: '*', left: w, right: { op: '-', left: a0, right: r } } };
      break;
    }
    case 'sqrt':
      value = { op: 'fn', fn: 'sqrt', args: [r] };
      break;
    case 'rsqrt':
      value = { op: '/', left: { op: 'num', value: 1 }, right: { op: 'fn', fn: 'sqrt', args: [r] } };
      break;
    case 'reciprocal':
      value = { op: '/', left: { op: 'num', value: 1 }, right: r };
      break;
    case 'pow':
    case 'power':
      value = a0 && { op: '**', left: r, right: a0 };
      break;
    case 'square':
      value = { op: '*', left: r, right: r };
      break;
    case 'abs':
    case 'absolute':
    case 'fabs':
      value = { op: 'fn', fn: 'abs', args: [r] };
      break;
    case 'sign':
      value = { op: 'fn', fn: 'sign', args: [r] };
      break;
    case 'neg':
    case 'negative':
      value = { op: 'neg', arg: r };
      break;
    case 'exp':
    case 'log':
      value = { op: 'fn', fn: name, args: [r] };
      break;
    case 'maximum':
    case 'minimum':
    case 'max':
    case 'min':
      // `torch.max(a, b, out=a)`, `np.maximum(a, b)`, `a.maximum(b)`; `x.max()` alone is a reduction.
      value = a0 && { op: 'fn', fn: name.startsWith('max') ? 'max' : 'min', args: [r, a0] };
      break;
    case 'copy':
      value = args.length === 0 ? r : a0;
      break;
    case 'zero':
      value = inPlace && args.length === 0 ? { op: 'num', value: 0 } : undefined;
      break;
    case 'fill':
      value = inPlace ? a0 : undefined;
      break;
    case 'cast':
      value = r;
      break;
    case 'constraint':
      value = args.length === 1 ? a0 : undefined;
      break;
    case 'clone':
    case 'detach':
    case 'item':
    case 'float':
    case 'double':
    case 'contiguous':
    case 'scalar':
    case 'asarray':
    case 'astype':
      // `x.astype(t.dtype)`: a cast keeps the value.
      value = args.length === 0 || name === 'scalar' || name === 'asarray' || name === 'astype' ? r : undefined;
      break;
    case 'assign':
    case 'set':
      value = a0;
      break;
    default:
      return undefined;
  }
  if (!value) return undefined;
  const out = kw('out');
  if (out) return { value, writes: out };
  if (inPlace) return { value, writes: receiver, ...(inPlaceSelfMap(call, receiver, args) ? { selfMap: true } : {}) };
  return STEP_METHODS.has(name) || STEP_FUNCTIONS.has(name) || STEP_BUILTINS.has(name) || name === 'assign' ? { value } : undefined;
}

function inPlaceSelfMap(call: Expr & { kind: 'call' }, receiver: Expr, args: Expr[]): boolean {
  if (call.callee.kind !== 'attr' || call.callee.name.startsWith('_foreach_') || call.kwargs.length > 0) return false;
  const name = call.callee.name;
  if (IN_PLACE_SELF_MAPS.has(name)) return args.length === 0;
  if (name === 'pow_') return args.length === 1 && numberOfExpr(args[0]) !== undefined && numberOfExpr(args[0]) !== 1;
  if (name === 'mul_' || name === 'multiply_') {
    return args.length === 1 && sameReference(args[0], receiver);
  }
  return false;
}

/**
 * torch's in-place elementwise math as a method (`g.square_()`, `g.pow_(2)`, `g.abs_()`, `g.sign_()`,
 * `v.sqrt_()`): the out-of-place name whose value the call returns (its receiver, changed to it).
 */
export function inPlaceMathName(call: Expr & { kind: 'call' }): string | undefined {
  if (call.callee.kind !== 'attr' || call.kwargs.some((k) => k.name === 'out')) return undefined;
  const name = call.callee.name;
  return IN_PLACE_SELF_MAPS.has(name) || name === 'pow_' ? name.slice(0, -1) : undefined;
}

/** `g` and `g`, `p.grad` and `p.grad`: the same name or attribute chain. */
function sameReference(a: Expr, b: Expr): boolean {
  if (a.kind === 'name' && b.kind === 'name') return a.name === b.name;
  if (a.kind === 'attr' && b.kind === 'attr') return a.name === b.name && sameReference(a.object, b.object);
  return false;
}

/**
 * A bound on both sides of a tensor's values in an optimizer step: `np.clip(x, lo, hi)`,
 * `x.clip(lo, hi)`, `torch.clamp(x, min=lo, max=hi)`, `tf.clip_by_value(x, lo, hi)`. The bounded value
 * and its two bounds; undefined for anything else, a bound on one side included (it stays opaque).
 * The step reads it as clip(x, lo, hi), not as x: a bound can be the algorithm itself (AdaBound's step size).
 */
export function boundCall(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): { value: Expr; lower: Expr; upper: Expr } | undefined {
  const callee = call.callee;
  const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
  if (name === undefined || !BOUND_FUNCTIONS.has(name)) return undefined;
  const method = callee.kind === 'attr' && !isModule(callee.object);
  if (!method && callee.kind !== 'attr') return undefined;
  const value = method ? (callee as { object: Expr }).object : call.args[0];
  const positional = method ? call.args : call.args.slice(1);
  const kw = (names: string[]): Expr | undefined => call.kwargs.find((k) => names.includes(k.name))?.value;
  const lower = kw(['min', 'a_min', 'clip_value_min']) ?? positional[0];
  const upper = kw(['max', 'a_max', 'clip_value_max']) ?? positional[1];
  const given = (e: Expr | undefined): e is Expr => e !== undefined && !isNoneLiteral(e);
  if (!value || !given(lower) || !given(upper) || positional.length > 2) return undefined;
  return { value, lower, upper };
}
const BOUND_FUNCTIONS: ReadonlySet<string> = new Set(['clip', 'clamp', 'clip_by_value', 'clipByValue']);

/**
 * The largest value a framework's own fuzz factor, read at run time, can have; undefined when `e` is
 * not one. Keras `K.epsilon()`, `keras.backend.epsilon()`, `tf.keras.backend.epsilon()`,
 * `keras.config.epsilon()`: 1e-7 unless `set_epsilon` changes it
 * (https://www.tensorflow.org/api_docs/python/tf/keras/backend/epsilon). TensorFlow.js
 * `tf.backend().epsilon()`, `ENGINE.backend.epsilon()`: the backend's, 1e-7 in float32 and 1e-4 in
 * float16 (tfjs-core `KernelBackend.epsilon`). Either way small beside a squared-gradient average.
 */
export function frameworkEpsilon(e: Expr): number | undefined {
  if (e.kind !== 'call' || e.args.length !== 0 || e.kwargs.length !== 0 || e.callee.kind !== 'attr' || e.callee.name !== 'epsilon') return undefined;
  const owner = e.callee.object;
  const ownerName = owner.kind === 'name' || owner.kind === 'attr' ? owner.name : owner.kind === 'call' && owner.args.length === 0 && (owner.callee.kind === 'name' || owner.callee.kind === 'attr') ? owner.callee.name : undefined;
  return ownerName !== undefined && EPSILON_OWNERS.has(ownerName) ? 1e-4 : undefined;
}
const EPSILON_OWNERS: ReadonlySet<string> = new Set(['K', 'backend', 'config']);

// ------------------------------------------------------------------ JAX pytrees and optax transformations

/**
 * `jax.tree_util.tree_map(f, a, b)`, `jax.tree.map(f, a, b)`, `tree_map(f, a)`, `tree_multimap`:
 * f applied leaf by leaf, so in an optimizer step's math it is f(a, b) on one element. The function
 * and the trees; undefined for any other call.
 */
export function treeMapCall(call: Expr & { kind: 'call' }, isModule: (e: Expr) => boolean): { fn: Expr; trees: Expr[] } | undefined {
  const callee = call.callee;
  const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
  if (name === undefined || call.args.length < 2) return undefined;
  if (name === 'map') {
    // `jax.tree.map`; the builtin `map` and a receiver's `.map` are other functions.
    if (callee.kind !== 'attr' || !isModule(callee.object)) return undefined;
  } else if (!/^(tree_map|tree_multimap)$/.test(name)) return undefined;
  else if (callee.kind === 'attr' && !isModule(callee.object)) return undefined;
  return { fn: call.args[0], trees: call.args.slice(1) };
}

/** Python's `dict(m=m, v=v)`: a dict whose keys are the keyword names. */
export function isDictConstructor(callee: Expr): boolean {
  return callee.kind === 'name' && callee.name === 'dict';
}

/** Python's `d.setdefault(key, value)`: the entry's first value, kept when the key is already there. */
export const DICT_DEFAULT_METHOD = 'setdefault';

/** Python's `dict.get(key, default)`: reads an entry, or the default when it is missing. */
export const DICT_GET_METHOD = 'get';

/** `cfg.get('reg', 1e-3)`, `params.setdefault('reg_strength', 1e-3)`: a setting read by key with a number for its default. */
export function numberSettingRead(e: Expr): boolean {
  return (
    e.kind === 'call' && e.callee.kind === 'attr' && (e.callee.name === DICT_GET_METHOD || e.callee.name === DICT_DEFAULT_METHOD) &&
    e.args.length === 2 && e.kwargs.length === 0 && e.args[0].kind === 'str' && e.args[1].kind === 'num'
  );
}

/** `None` (Python), `null`, `undefined`: a leaf `tree_map` skips (`None if g is None else f(g)`). */
/** Methods that read a container or tensor without changing which entries it has or whether it is empty. */
export const READING_METHODS: ReadonlySet<string> = new Set(['get', 'keys', 'values', 'items', 'copy', 'clone', 'detach', 'size', 'dim', 'numel', '__contains__', 'count', 'index']);
/** Builtins that read their arguments and change none of them. */
export const READING_CALLS: ReadonlySet<string> = new Set(['len', 'isinstance', 'print', 'id', 'type', 'hasattr', 'str', 'repr', 'float', 'int', 'bool']);

export function isNoneLiteral(e: Expr): boolean {
  return e.kind === 'name' && (e.name === 'None' || e.name === 'null' || e.name === 'undefined');
}

/**
 * optax's pytree helpers as arithmetic on one leaf (optax/tree_utils, `optax.tree.*`, and
 * `numerics.safe_increment`): `tree_update_moment(g, m, decay, order)` = (1 − decay)·g^order +
 * decay·m; `tree_bias_correction(m, decay, count)` = m / (1 − decay^count); `safe_increment(c)` =
 * c + 1 (capped at the dtype's maximum, which a step count never reaches); `tree_mul`, `tree_add`,
 * `tree_scale`, casts. Read only when the call does not resolve to code of the project that says
 * more. `correction`: the operand that is a bias correction 1 − β^t.
 */
export function optaxTreeCall(call: Expr & { kind: 'call' }): { value: StepMath; correction?: StepMath } | undefined {
  const callee = call.callee;
  const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
  if (name === undefined) return undefined;
  // `optax.tree.update_moment` and `optax.tree_utils.tree_update_moment` are one function.
  const short = name.replace(/^tree_/, '');
  const qualified = name !== short || (callee.kind === 'attr' && callee.object.kind === 'attr' && (callee.object.name === 'tree' || callee.object.name === 'tree_utils'));
  const arg = (i: number, kw: string): StepMath | undefined => {
    const x = call.args[i] ?? call.kwargs.find((k) => k.name === kw)?.value;
    if (!x) return undefined;
    const n = numberOfExpr(x);
    return n !== undefined ? { op: 'num', value: n } : { op: 'expr', expr: x };
  };
  const one: StepMath = { op: 'num', value: 1 };
  if (name === 'safe_increment' || name === 'safe_int32_increment') {
    const c = arg(0, 'count');
    return c && { value: { op: '+', left: c, right: one } };
  }
  if (!qualified) return undefined;
  switch (short) {
    case 'update_moment':
    case 'update_moment_per_elem_norm': {
      const [g, m, decay, order] = [arg(0, 'updates'), arg(1, 'moments'), arg(2, 'decay'), arg(3, 'order')];
      if (!g || !m || !decay || !order) return undefined;
      const power: StepMath = { op: '**', left: g, right: order };
      return { value: { op: '+', left: { op: '*', left: { op: '-', left: one, right: decay }, right: power }, right: { op: '*', left: decay, right: m } } };
    }
    case 'update_infinity_moment': {
      const [g, m, decay, eps] = [arg(0, 'updates'), arg(1, 'moments'), arg(2, 'decay'), arg(3, 'eps')];
      if (!g || !m || !decay || !eps) return undefined;
      return { value: { op: 'fn', fn: 'max', args: [{ op: '+', left: { op: 'fn', fn: 'abs', args: [g] }, right: eps }, { op: '*', left: decay, right: m }] } };
    }
    case 'bias_correction': {
      const [m, decay, count] = [arg(0, 'moment'), arg(1, 'decay'), arg(2, 'count')];
      if (!m || !decay || !count) return undefined;
      const correction: StepMath = { op: '-', left: one, right: { op: '**', left: decay, right: count } };
      return { value: { op: '/', left: m, right: correction }, correction };
    }
    case 'mul':
    case 'add':
    case 'sub':
    case 'div': {
      const [a, b] = [arg(0, 'tree_x'), arg(1, 'tree_y')];
      const op = short === 'mul' ? '*' : short === 'add' ? '+' : short === 'sub' ? '-' : '/';
      return a && b && call.args.length === 2 ? { value: { op, left: a, right: b } } : undefined;
    }
    case 'scale':
    case 'scalar_mul': {
      const [s, t] = [arg(0, 'scalar'), arg(1, 'tree')];
      return s && t ? { value: { op: '*', left: s, right: t } } : undefined;
    }
    case 'add_scale':
    case 'add_scalar_mul': {
      const [a, s, b] = [arg(0, 'tree_x'), arg(1, 'scalar'), arg(2, 'tree_y')];
      return a && s && b ? { value: { op: '+', left: a, right: { op: '*', left: s, right: b } } } : undefined;
    }
    case 'cast':
    case 'cast_like': {
      const t = arg(0, 'tree');
      return t && { value: t };
    }
    default:
      return undefined;
  }
}

/** optax's function that adds updates to the parameters, w ← w + u. */
export const APPLY_UPDATES = 'apply_updates';
/** `optax.apply_updates(params, updates)`: the parameters and the updates added to them. */
export function appliedUpdates(call: Expr & { kind: 'call' }): { params: Expr; updates: Expr } | undefined {
  const callee = call.callee;
  const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
  if (name !== APPLY_UPDATES) return undefined;
  const kw = (k: string): Expr | undefined => call.kwargs.find((x) => x.name === k)?.value;
  const params = call.args[0] ?? kw('params');
  const updates = call.args[1] ?? kw('updates');
  return params && updates ? { params, updates } : undefined;
}

/**
 * `optax.GradientTransformation(init_fn, update_fn)` (and `GradientTransformationExtraArgs`, a
 * NamedTuple of the same name defined by the code): its init and update functions as written. The
 * update takes (updates, state, params) and returns (updates, new state); the updates it returns are
 * added to the parameters by `optax.apply_updates` (w ← w + u), after the chain's `scale(-η)`.
 */
export function gradientTransformationParts(call: Expr & { kind: 'call' }): { init?: Expr; update?: Expr } | undefined {
  const callee = call.callee;
  const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
  if (name === undefined || !GRADIENT_TRANSFORMATION_NAMES.includes(name)) return undefined;
  const kw = (k: string): Expr | undefined => call.kwargs.find((x) => x.name === k)?.value;
  return { init: call.args[0] ?? kw('init'), update: call.args[1] ?? kw('update') };
}

function numberOfExpr(e: Expr): number | undefined {
  if (e.kind === 'num') return e.value;
  if (e.kind === 'unary' && e.op === '-' && e.arg.kind === 'num') return -e.arg.value;
  return undefined;
}

/** The keys a parameter's own gradient is read by in torch (`p.grad`; `p.grad.data` reads the same): the gradient backward() leaves on it. */
export function parameterGradientKeys(paramKey: string): string[] {
  return [`${paramKey}.grad`];
}

// ------------------------------------------------------------------ optimizer families (textbook forms)

/**
 * The textbook update of each optimizer family the recognizer of hand-written steps names
 * (optimizerSteps.ts `familyOf`), one line per state and one for the parameter, in TeX and Unicode.
 * g is the gradient, η the learning rate, t the step count from 1. Sources: Kingma & Ba 2015 (Adam,
 * Adamax), Loshchilov & Hutter 2019 (AdamW), Reddi et al. 2018 (AMSGrad), Hinton's lecture 6e
 * (RMSprop), Duchi et al. 2011 (AdaGrad), Zeiler 2012 (AdaDelta), Chen et al. 2023 (Lion), the PyTorch docs (momentum,
 * centred RMSprop).
 */
export interface OptimizerTextbook {
  tex: string[];
  unicode: string[];
  source: string;
}

const ADAM_MOMENTS = {
  tex: ['m \\leftarrow \\beta_1 m + (1 - \\beta_1)\\,g', 'v \\leftarrow \\beta_2 v + (1 - \\beta_2)\\,g^2'],
  unicode: ['m ← β₁m + (1 − β₁)g', 'v ← β₂v + (1 − β₂)g²'],
};

export const OPTIMIZER_TEXTBOOK: Readonly<Record<string, OptimizerTextbook>> = {
  'SGD with momentum': {
    tex: ['v \\leftarrow \\mu v + g', '\\theta \\leftarrow \\theta - \\eta v'],
    unicode: ['v ← μv + g', 'θ ← θ − ηv'],
    source: 'Polyak 1964; PyTorch SGD (the form v ← μv − ηg, θ ← θ + v is the same update)',
  },
  Adam: {
    tex: [...ADAM_MOMENTS.tex, '\\theta \\leftarrow \\theta - \\eta\\,\\frac{m / (1 - \\beta_1^t)}{\\sqrt{v / (1 - \\beta_2^t)} + \\epsilon}'],
    unicode: [...ADAM_MOMENTS.unicode, 'θ ← θ − η·(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)'],
    source: 'Kingma & Ba, Adam (2015), Algorithm 1',
  },
  AdamW: {
    tex: [...ADAM_MOMENTS.tex, '\\theta \\leftarrow (1 - \\eta\\lambda)\\,\\theta - \\eta\\,\\frac{m / (1 - \\beta_1^t)}{\\sqrt{v / (1 - \\beta_2^t)} + \\epsilon}'],
    unicode: [...ADAM_MOMENTS.unicode, 'θ ← (1 − ηλ)θ − η·(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)'],
    source: 'Loshchilov & Hutter, Decoupled Weight Decay Regularization (2019), Algorithm 2; PyTorch AdamW',
  },
  AMSGrad: {
    tex: [...ADAM_MOMENTS.tex, '\\hat v \\leftarrow \\max(\\hat v, v)', '\\theta \\leftarrow \\theta - \\eta\\,\\frac{m / (1 - \\beta_1^t)}{\\sqrt{\\hat v / (1 - \\beta_2^t)} + \\epsilon}'],
    unicode: [...ADAM_MOMENTS.unicode, 'v̂ ← max(v̂, v)', 'θ ← θ − η·(m/(1 − β₁ᵗ)) / (√(v̂/(1 − β₂ᵗ)) + ε)'],
    source: 'Reddi, Kale & Kumar, On the Convergence of Adam and Beyond (2018); PyTorch Adam(amsgrad=True)',
  },
  Adamax: {
    tex: [ADAM_MOMENTS.tex[0], 'u \\leftarrow \\max(\\beta_2 u, |g|)', '\\theta \\leftarrow \\theta - \\frac{\\eta}{1 - \\beta_1^t}\\,\\frac{m}{u}'],
    unicode: [ADAM_MOMENTS.unicode[0], 'u ← max(β₂u, |g|)', 'θ ← θ − η/(1 − β₁ᵗ)·m/u'],
    source: 'Kingma & Ba, Adam (2015), Algorithm 2',
  },
  RMSprop: {
    tex: ['v \\leftarrow \\rho v + (1 - \\rho)\\,g^2', '\\theta \\leftarrow \\theta - \\eta\\,\\frac{g}{\\sqrt{v} + \\epsilon}'],
    unicode: ['v ← ρv + (1 − ρ)g²', 'θ ← θ − η·g / (√v + ε)'],
    source: 'Tieleman & Hinton, Lecture 6e (2012); PyTorch RMSprop',
  },
  'RMSprop with momentum': {
    tex: ['v \\leftarrow \\rho v + (1 - \\rho)\\,g^2', 'b \\leftarrow \\mu b + \\frac{g}{\\sqrt{v} + \\epsilon}', '\\theta \\leftarrow \\theta - \\eta b'],
    unicode: ['v ← ρv + (1 − ρ)g²', 'b ← μb + g / (√v + ε)', 'θ ← θ − ηb'],
    source: 'PyTorch RMSprop(momentum=μ)',
  },
  'RMSprop (centred)': {
    tex: ['v \\leftarrow \\rho v + (1 - \\rho)\\,g^2', '\\bar g \\leftarrow \\rho \\bar g + (1 - \\rho)\\,g', '\\theta \\leftarrow \\theta - \\eta\\,\\frac{g}{\\sqrt{v - \\bar g^2} + \\epsilon}'],
    unicode: ['v ← ρv + (1 − ρ)g²', 'ḡ ← ρḡ + (1 − ρ)g', 'θ ← θ − η·g / (√(v − ḡ²) + ε)'],
    source: 'Graves, Generating Sequences with Recurrent Neural Networks (2013); PyTorch RMSprop(centered=True)',
  },
  AdaDelta: {
    tex: [
      'E[g^2] \\leftarrow \\rho\\,E[g^2] + (1 - \\rho)\\,g^2',
      '\\Delta\\theta \\leftarrow -\\frac{\\sqrt{E[\\Delta\\theta^2] + \\epsilon}}{\\sqrt{E[g^2] + \\epsilon}}\\,g',
      'E[\\Delta\\theta^2] \\leftarrow \\rho\\,E[\\Delta\\theta^2] + (1 - \\rho)\\,\\Delta\\theta^2',
      '\\theta \\leftarrow \\theta + \\eta\\,\\Delta\\theta',
    ],
    unicode: ['E[g²] ← ρE[g²] + (1 − ρ)g²', 'Δθ ← −√(E[Δθ²] + ε)/√(E[g²] + ε)·g', 'E[Δθ²] ← ρE[Δθ²] + (1 − ρ)Δθ²', 'θ ← θ + ηΔθ'],
    source: 'Zeiler, ADADELTA: An Adaptive Learning Rate Method (2012), Algorithm 1 (η = 1); PyTorch Adadelta',
  },
  AdaGrad: {
    tex: ['G \\leftarrow G + g^2', '\\theta \\leftarrow \\theta - \\eta\\,\\frac{g}{\\sqrt{G} + \\epsilon}'],
    unicode: ['G ← G + g²', 'θ ← θ − η·g / (√G + ε)'],
    source: 'Duchi, Hazan & Singer, Adaptive Subgradient Methods (2011); PyTorch Adagrad',
  },
  Lion: {
    tex: ['\\theta \\leftarrow (1 - \\eta\\lambda)\\,\\theta - \\eta\\,\\operatorname{sign}(\\beta_1 m + (1 - \\beta_1)\\,g)', 'm \\leftarrow \\beta_2 m + (1 - \\beta_2)\\,g'],
    unicode: ['θ ← (1 − ηλ)θ − η·sign(β₁m + (1 − β₁)g)', 'm ← β₂m + (1 − β₂)g'],
    source: 'Chen et al., Symbolic Discovery of Optimization Algorithms (2023), Algorithm 2',
  },
};

// ------------------------------------------------------------------ linear algebra

/** Calls whose first argument is a matrix the call inverts or solves with: a closed-form least-squares fit's. */
const MATRIX_SOLVES = new Set([
  'numpy.linalg.inv', 'numpy.linalg.solve', 'numpy.linalg.pinv', 'scipy.linalg.inv', 'scipy.linalg.solve', 'scipy.linalg.pinv',
  'torch.inverse', 'torch.linalg.inv', 'torch.linalg.solve', 'torch.linalg.pinv', 'jax.numpy.linalg.inv', 'jax.numpy.linalg.solve',
  'jax.numpy.linalg.pinv', 'tensorflow.linalg.inv', 'tensorflow.linalg.solve', 'tensorflow.linalg.pinv',
]);

/** Calls that build an identity matrix. */
const IDENTITY_MATRICES = new Set(['numpy.eye', 'numpy.identity', 'torch.eye', 'jax.numpy.eye', 'jax.numpy.identity', 'tensorflow.eye', 'tensorflow.linalg.eye']);

/** Matrix products written as calls: `np.dot(A, B)`, `torch.matmul(A, B)`. */
const MATRIX_PRODUCTS = new Set(['numpy.dot', 'numpy.matmul', 'torch.matmul', 'torch.mm', 'jax.numpy.dot', 'jax.numpy.matmul', 'tensorflow.matmul', 'tensorflow.linalg.matmul']);

/** Transposes written as calls: `np.transpose(X)`, `torch.t(X)`. */
const TRANSPOSES = new Set(['numpy.transpose', 'torch.t', 'torch.transpose', 'jax.numpy.transpose', 'tensorflow.transpose']);

export function isMatrixSolvePath(path: string[] | undefined): boolean {
  return !!path && MATRIX_SOLVES.has(path.join('.'));
}

export function isIdentityMatrixPath(path: string[] | undefined): boolean {
  return !!path && IDENTITY_MATRICES.has(path.join('.'));
}

export function isMatrixProductPath(path: string[] | undefined): boolean {
  return !!path && MATRIX_PRODUCTS.has(path.join('.'));
}

export function isTransposePath(path: string[] | undefined): boolean {
  return !!path && TRANSPOSES.has(path.join('.'));
}

/** Transposes written as a tensor's attribute or method: `X.T`, `X.mT`, `X.transpose()`, `X.t()`. */
export const TRANSPOSE_MEMBERS: ReadonlySet<string> = new Set(['T', 'mT', 'transpose', 't']);
/**
 * The matrix a transpose is taken of, read syntactically (no import resolution): `X.T`, `X.mT`,
 * `X.transpose()`, `X.t()`, `np.transpose(X)`, and the JS helpers `Matrix.transpose(X)`,
 * `math.transpose(X)`, `tf.transpose(X)`, `transpose(X)`.
 */
export function transposeOperand(e: Expr): Expr | undefined {
  if (e.kind === 'attr' && (e.name === 'T' || e.name === 'mT')) return e.object;
  if (e.kind !== 'call' || e.kwargs.length > 0) return undefined;
  const callee = e.callee;
  if (callee.kind === 'attr' && (callee.name === 'transpose' || callee.name === 't') && e.args.length === 0) return callee.object;
  if ((callee.kind === 'attr' || callee.kind === 'name') && callee.name === 'transpose' && e.args.length === 1) return e.args[0];
  return undefined;
}
/** Element-wise sums and differences written as a call of two matrices (JS matrix helpers, math.js, tfjs, NumPy): `Matrix.add(W, dW)`, `math.subtract(W, G)`. */
export const ELEMENTWISE_SUM_FUNCTIONS: ReadonlySet<string> = new Set(['add', 'subtract', 'sub', 'plus', 'minus']);
/** Matrix products written as a tensor's method: `X.dot(Y)`, `X.matmul(Y)`, `X.mm(Y)`. */
export const MATRIX_PRODUCT_METHODS: ReadonlySet<string> = new Set(['dot', 'matmul', 'mm']);

/**
 * Keras layer arguments that give a Sequential its input shape: the first layer added with one is
 * built on `add`, and so is every later one (its regularizers are read then, in `build()`).
 */
export const KERAS_INPUT_SHAPE_ARGUMENT = /^(input_shape|input_dim|batch_input_shape|batch_shape)$/;
/** Keras layers that give a Sequential its input: `Sequential([Input(shape=(4,)), ...])`. */
export const KERAS_INPUT_LAYER = /^(Input|InputLayer)$/;
/** Keras's pretrained models (`tf.keras.applications.ResNet50(...)`), which come built. */
/** Modules a Keras model can come from (`keras`, `tensorflow.keras`, `tf_keras`). */
export const KERAS_MODULE = /^(keras|tensorflow|tf_keras)(\.|$)/;
export const KERAS_APPLICATIONS_MODULE = /(^|\.)applications(\.|$)/;
/** Keras functions that return a built model: `load_model(path)`. */
export const KERAS_LOADED_MODEL = /^(load_model)$/;
/**
 * Keras calls that rebuild a model from its config (a layer attribute set since then, like
 * `kernel_regularizer`, is read again): `model_from_json(model.to_json())`, `clone_model(model)`.
 */
export const KERAS_REBUILD_CALL = /^(model_from_json|model_from_yaml|model_from_config|from_config|clone_model)$/;
/** Calls that save a model, which `load_model` can then rebuild. */
export const KERAS_SAVE_CALL = /^(save|save_model)$/;
/** Layer attributes Keras reads only when the layer is built (`add_weight` registers the penalty then). */
export const KERAS_BUILD_TIME_REGULARIZER = /^(kernel|bias|depthwise|pointwise|recurrent|embeddings|beta|gamma)_regularizer$/;

/**
 * A draw of random signs ±1 (Rademacher), the probe vector of Hutchinson's estimator:
 * `np.random.choice([-1, 1], size=…)`, `jax.random.rademacher(key, shape)`, `torch.sign(torch.randn(…))`,
 * `torch.randn_like(p).sign()`, `torch.randint(0, 2, shape) * 2 - 1`, `2 * np.random.randint(0, 2, n) - 1`
 * (a cast such as `.float()` on the integers kept).
 */
export function isRademacherDraw(e: Expr): boolean {
  const callName = (x: Expr): string | undefined => (x.kind === 'call' ? (x.callee.kind === 'attr' ? x.callee.name : x.callee.kind === 'name' ? x.callee.name : undefined) : undefined);
  const isNum = (x: Expr | undefined, v: number): boolean => x !== undefined && ((x.kind === 'num' && x.value === v) || (v < 0 && x.kind === 'unary' && x.op === '-' && x.arg.kind === 'num' && x.arg.value === -v));
  const stripCast = (x: Expr): Expr => (x.kind === 'call' && x.callee.kind === 'attr' && (CAST_METHODS.has(x.callee.name) || x.callee.name === 'to') ? x.callee.object : x);
  if (e.kind === 'call') {
    const name = callName(e);
    if (name === 'rademacher') return true;
    if (name === 'choice') {
      const pool = e.args[0];
      return pool?.kind === 'seq' && pool.items.length === 2 && ((isNum(pool.items[0], -1) && isNum(pool.items[1], 1)) || (isNum(pool.items[0], 1) && isNum(pool.items[1], -1)));
    }
    if (name === 'sign') {
      // `torch.sign(torch.randn(…))` or `torch.randn_like(p).sign()`: the sign of a symmetric draw.
      const inner = e.args[0] ?? (e.callee.kind === 'attr' ? e.callee.object : undefined);
      const innerName = inner ? callName(inner) : undefined;
      return innerName !== undefined && /^(randn|randn_like|normal|standard_normal|uniform)$/.test(innerName) && (innerName !== 'uniform' || (inner!.kind === 'call' && isNum(inner!.args[0], -1)));
    }
    return false;
  }
  // `randint(0, 2, …) * 2 - 1` or `2 * randint(0, 2, …) - 1`.
  if (e.kind !== 'binary' || e.op !== '-' || !isNum(e.right, 1) || e.left.kind !== 'binary' || e.left.op !== '*') return false;
  const { left, right } = e.left;
  const draw = stripCast(isNum(right, 2) ? left : isNum(left, 2) ? right : left);
  if (draw === left && !isNum(right, 2)) return false;
  const name = callName(draw);
  if (draw.kind !== 'call' || (name !== 'randint' && name !== 'randint_like' && name !== 'bernoulli')) return false;
  if (name === 'randint') return (isNum(draw.args[0], 0) && isNum(draw.args[1], 2)) || (isNum(draw.args[0], 2) && (draw.args.length === 1 || draw.args[1].kind !== 'num'));
  if (name === 'randint_like') return draw.args.slice(1).some((a) => isNum(a, 2));
  return true;
}

/** JavaScript's `Map` constructor: `new Map([[key, value], …])` holds the pairs written in it. */
export function isMapConstructor(name: string): boolean {
  return name === 'Map';
}
