// Containers of gradients known by data flow, whatever they are called (a `grads` renamed `delta`,
// `upd` or `nabla` is still the dict of gradients):
//
// - a dict a function builds and returns in one tuple with a loss that penalizes weights keyed alike
//   (cs231n's two-layer net: `grads = {}` … `grads['W2'] = h.T @ d + reg * W2` … `return loss, grads`,
//   the loss adding `0.5 * reg * np.sum(W2 * W2)` with `W2 = self.params['W2']`): its entries are the
//   gradients of the weights of the same keys;
// - the gradients a framework's differentiation call hands back by the catalogue (autodiff.ts): tfjs's
//   `const { grads } = tf.variableGrads(f)` and `optimizer.computeGradients(f)`, `tf.valueAndGrads(f)(…)`,
//   under whatever name the destructuring gives them.
//
// Asked by `updates.ts` (`gradientRole`, gradient expressions) after the name-free routes before it and
// before the name. Each half of the dict shape alone says too little: a training function returns its
// loss beside the weights it stepped (`return loss, params`, whose entries are the penalized weights
// themselves, or new weights `params['W'] - lr * g`), and beside its optimizer state (a velocity dict,
// whose entries are scaled by their own old value). So the dict must be built in the function (empty,
// or a copy of a dict it is handed), its entries keyed like the weights the returned loss penalizes
// (the same index as written: `grads['W2']` and `self.params['W2']`, `grads[last]` and
// `self.params[last]`), never subtracted from, never the penalized weights' own dict, never scaled by
// their own old value, and never holding a weight as a plain summand (a step's new value); and some
// entry must be given a term of data or of a gradient (`h.T @ d`, an array a backward call hands
// back): a dict whose entries only collect each weight's penalty value is a report's map.
// Cheap: one pass over a function's own statements (and its lambdas' for the catalogue's names), once
// per function body and pass of `findUpdates` (the caller keeps the answer).
import type { Expr, Stmt } from '../ir';
import type { Analyzer } from './analysis';
import type { Scope, ScopeBuilder } from './scope';
import { exprKey } from './keys';
import { ownStatements } from './program';
import { returnedNameTuples } from './lossCompanions';
import { forEachChild } from './scope';
import { returnsValueAndGradients } from './autodiff';
import { TORCH_GRAD_ATTRIBUTE } from './catalogue';
import { statementQuestion, unionOver } from './statementAnswers';

/** The name a subscript chain starts from: `grads['W'][0]` → `grads`. */
export function dictRoot(e: Expr): string | undefined {
  let x = e;
  while (x.kind === 'index') x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/** The index of a one-part subscript as written (`'W2'`, `last`, `f"W{i}"`), undefined when it is not a key. */
function entryKey(e: Expr): string | undefined {
  if (e.kind !== 'index' || e.index.length !== 1) return undefined;
  const whole = exprKey(e);
  const object = exprKey(e.object);
  if (whole === undefined || object === undefined) return undefined;
  const part = whole.slice(object.length + 1, -1);
  return part === '?' || part === '' ? undefined : part;
}

/** `{}`, `dict()`, `dict(x)`, `x.copy()`, `{**x}`: a dict the function builds, empty or as a copy. */
function builtDict(value: Expr): boolean {
  if (value.kind === 'object') return value.entries.length === 0;
  if (value.kind !== 'call') return false;
  if (value.callee.kind === 'name' && value.callee.name === 'dict') return value.args.length <= 1 && value.kwargs.length === 0;
  return value.callee.kind === 'attr' && value.callee.name === 'copy' && value.args.length === 0 && value.kwargs.length === 0;
}

/** `dict(x)`, `x.copy()`, `{**x}`: a copy of a dict the function is handed, holding what that dict holds. */
function copiedDict(value: Expr): boolean {
  if (value.kind === 'object') return (value.spreads?.length ?? 0) > 0;
  if (value.kind !== 'call') return false;
  if (value.callee.kind === 'name') return value.callee.name === 'dict' && value.args.length === 1;
  return value.callee.kind === 'attr' && value.callee.name === 'copy' && value.args.length === 0;
}

/** Every subscript written by an assignment's targets (tuple targets unpacked). */
function writtenEntries(t: Expr, out: Expr[]): void {
  if (t.kind === 'seq') for (const i of t.items) writtenEntries(i, out);
  else if (t.kind === 'index') out.push(t);
}

/**
 * The names of `body` (a function's statements) that hold a dict of gradients it returns beside a loss
 * penalizing weights keyed like its entries. Empty for most functions: those that return no tuple of names.
 */
export function gradientDictsBesideLoss(body: Stmt[], scopes: ScopeBuilder, analyzer: Analyzer): Set<string> {
  const found = new Set<string>();
  const stmts = ownStatements(body);
  const tuples = returnedNameTuples(stmts);
  if (tuples.length === 0) return found;
  const returned = new Set(tuples.flat());
  // The returned names built as dicts, the keys of their entries written, and every assignment of a returned name.
  const dicts = new Map<string, Set<string>>();
  const rejected = new Set<string>();
  const writes = new Map<string, (Stmt & { kind: 'assign' })[]>();
  const entryWrites: { root: string; target: Expr; stmt: Stmt & { kind: 'assign' } }[] = [];
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind === 'name' && returned.has(t.name)) {
      writes.set(t.name, [...(writes.get(t.name) ?? []), s]);
      if (!s.op && builtDict(s.value) && !dicts.has(t.name)) dicts.set(t.name, new Set());
      else if (dicts.has(t.name)) rejected.add(t.name);
      continue;
    }
    const entries: Expr[] = [];
    writtenEntries(t, entries);
    for (const e of entries) {
      const root = dictRoot(e);
      if (root !== undefined && returned.has(root)) entryWrites.push({ root, target: e, stmt: s });
    }
  }
  if (dicts.size === 0) return found;
  // The dicts some entry of which is given a term of data or of a gradient: a dict whose entries only
  // collect penalty values per weight (`stats['W1'] = l2 * np.sum(W1 ** 2)`, kept for a report) is no gradient.
  // A copy of a dict handed in holds what that dict held (`out = dict(grads)`, then `out[k] += reg * W`).
  const carriesData = new Set<string>();
  for (const [name, ws] of writes) if (dicts.has(name) && ws.some((s) => !s.op && builtDict(s.value) && copiedDict(s.value))) carriesData.add(name);
  for (const { root, target, stmt } of entryWrites) {
    const keys = dicts.get(root);
    if (!keys || rejected.has(root)) continue;
    // Gradients are added to, never subtracted from or scaled (a step, a decay, a moving average).
    if (stmt.op === '-' || stmt.op === '*' || stmt.op === '/') {
      rejected.add(root);
      continue;
    }
    const reads = (f: { expr: Expr }): boolean => dictRoot(f.expr) === root;
    // `dh, grads['W2'], grads['b2'] = affine_backward(d, cache)`: one of the arrays a call hands back.
    if (stmt.targets[0].kind === 'seq') carriesData.add(root);
    else if (stmt.targets[0].kind === 'index' && (!stmt.op || stmt.op === '+') && !carriesData.has(root)) {
      const scope: Scope = scopes.stmtScopes.get(stmt) ?? scopes.root;
      if (analyzer.summands(stmt.value, scope, stmt.span.start).some((p) => !p.num.some(reads) && analyzer.classifySummand(p).tensor)) carriesData.add(root);
    }
    if (stmt.targets[0].kind === 'index' && !stmt.op) {
      const scope: Scope = scopes.stmtScopes.get(stmt) ?? scopes.root;
      const parts = analyzer.summands(stmt.value, scope, stmt.span.start);
      // `v[k] = mu * v[k] - lr * g`: state. `new[k] = params[k] - lr * g`: the weight's new value.
      if (parts.some((p) => [...p.num, ...p.den].some(reads) && (p.num.length > 1 || p.den.length > 0))) {
        rejected.add(root);
        continue;
      }
      if (parts.some((p) => p.num.length === 1 && p.den.length === 0 && analyzer.classifySummand(p).params.length > 0 && !reads(p.num[0]))) {
        rejected.add(root);
        continue;
      }
    }
    const key = entryKey(target);
    if (key !== undefined) keys.add(key);
  }
  const weightKeys = (s: Stmt & { kind: 'assign' }) => penalizedKeys(s, scopes, analyzer);
  for (const names of tuples)
    for (const g of names) {
      const keys = dicts.get(g);
      if (!keys || keys.size === 0 || rejected.has(g) || !carriesData.has(g)) continue;
      const penalizesAlike = names.some(
        (l) => l !== g && !dicts.has(l) && (writes.get(l) ?? []).some((s) => s.op !== '*' && s.op !== '/' && weightKeys(s).some((w) => keys.has(w.key) && w.container !== g)),
      );
      if (penalizesAlike) found.add(g);
    }
  return found;
}

/** The entry key a penalized weight is read through: `self.params['W2']`, or `W2` bound to `net['W2']` in the function. */
function penalizedKeys(s: Stmt & { kind: 'assign' }, scopes: ScopeBuilder, analyzer: Analyzer): { key: string; container: string | undefined }[] {
    const scope: Scope = scopes.stmtScopes.get(s) ?? scopes.root;
    const out: { key: string; container: string | undefined }[] = [];
    for (const x of analyzer.summands(s.value, scope, s.span.start)) {
      const p = analyzer.classifySummand(x).penalty;
      if (!p) continue;
      for (const o of p.params) {
        for (const e of [o.expr, o.base]) {
          let entry: Expr | undefined = e.kind === 'index' ? e : undefined;
          if (!entry && e.kind === 'name') {
            const b = scope.lookup(e.name, s.span.start);
            const v = b?.value;
            if (v && v.kind === 'index') entry = v;
          }
          const key = entry && entryKey(entry);
          if (key !== undefined) out.push({ key, container: entry && dictRoot(entry) });
        }
      }
    }
    return out;
}

/**
 * The locals of `body` (a function's statements) whose value is stored whole under a key of a dict the
 * function builds and returns beside a loss penalizing the weight of that key: `diff_W1 = X.T @ dh` …
 * `diff_W1 += reg * W1` … `grads = {"W1": diff_W1, …}` (or `grads['W1'] = diff_W1`) … `return loss, grads`,
 * the loss adding `reg * torch.sum(W1 * W1)` with `W1 = params['W1']`; also a dict written inside the return
 * (`return loss, {"W1": diff_W1}`). They are that weight's gradient,
 * whatever they are called. Only entries keyed like a penalized weight count (a cache or a statistic the
 * dict also holds is none), and only a local given a term of data (`X.T @ dh`), never subtracted from or
 * scaled (`-=`, `*=`), never a weight as a plain summand (a new weight `W1 - lr * g`) nor its own old
 * value scaled (a moving average). Empty for functions that return no tuple of names.
 */
export function gradientLocalsBesideLoss(body: Stmt[], scopes: ScopeBuilder, analyzer: Analyzer): Set<string> {
  const found = new Set<string>();
  const stmts = ownStatements(body);
  const tuples = returnedNameTuples(stmts);
  /** Per returned dict: the local stored under each key (as written: `"W1"`). */
  const held = new Map<string, Map<string, string>>();
  const hold = (dict: string, key: string, local: string): void => {
    const m = held.get(dict) ?? new Map<string, string>();
    held.set(dict, m);
    m.set(key, local);
  };
  // A dict written inside the return (`return loss, {"W": upd}`): a dict of its own, named by where it is written.
  for (const s of stmts) {
    if (s.kind !== 'return' || s.value?.kind !== 'seq') continue;
    const items = s.value.items;
    if (items.length < 2 || items.length > 16 || !items.some((i) => i.kind === 'object')) continue;
    if (!items.every((i) => i.kind === 'name' || (i.kind === 'object' && !i.spreads?.length))) continue;
    const names = items.map((i, k) => (i.kind === 'name' ? i.name : `{return ${s.span.start}:${k}}`));
    tuples.push(names);
    items.forEach((i, k) => {
      if (i.kind === 'object') for (const e of i.entries) if (e.value.kind === 'name') hold(names[k], JSON.stringify(e.name), e.value.name);
    });
  }
  if (tuples.length === 0) return found;
  const returned = new Set(tuples.flat());
  const assigns = new Map<string, (Stmt & { kind: 'assign' })[]>();
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind === 'name') {
      assigns.set(t.name, [...(assigns.get(t.name) ?? []), s]);
      if (returned.has(t.name) && !s.op && s.value.kind === 'object' && !s.value.spreads?.length)
        for (const e of s.value.entries) if (e.value.kind === 'name') hold(t.name, JSON.stringify(e.name), e.value.name);
    } else if (t.kind === 'index' && !s.op && s.value.kind === 'name') {
      const root = dictRoot(t);
      const key = entryKey(t);
      if (root !== undefined && returned.has(root) && key !== undefined) hold(root, key, s.value.name);
    }
  }
  if (held.size === 0) return found;
  for (const names of tuples)
    for (const g of names) {
      const entries = held.get(g);
      // The dict is the function's own: every assignment of it a literal (`{}` or `{"W1": …}`).
      if (!entries || !(assigns.get(g) ?? []).every((s) => !s.op && s.value.kind === 'object')) continue;
      const keys = new Set<string>();
      for (const l of names) {
        if (l === g || held.has(l)) continue;
        for (const s of assigns.get(l) ?? []) if (s.op !== '*' && s.op !== '/') for (const w of penalizedKeys(s, scopes, analyzer)) if (w.container !== g) keys.add(w.key);
      }
      for (const [key, local] of entries) if (keys.has(key) && !returned.has(local) && gradientLocal(assigns.get(local) ?? [], local, scopes, analyzer)) found.add(local);
    }
  return found;
}

/** Is a local, by its assignments, a gradient the function computes: given a term of data, only added to, never a new weight or a moving average? */
function gradientLocal(writes: (Stmt & { kind: 'assign' })[], name: string, scopes: ScopeBuilder, analyzer: Analyzer): boolean {
  if (writes.length === 0 || writes[0].op) return false;
  let data = false;
  for (const s of writes) {
    if (s.op === '-' || s.op === '*' || s.op === '/') return false;
    const scope: Scope = scopes.stmtScopes.get(s) ?? scopes.root;
    const parts = analyzer.summands(s.value, scope, s.span.start);
    const own = (x: Expr): boolean => x.kind === 'name' && x.name === name;
    if (!s.op && parts.some((p) => [...p.num, ...p.den].some((f) => own(f.expr)) && (p.num.length > 1 || p.den.length > 0))) return false;
    if (!s.op && parts.some((p) => p.num.length === 1 && p.den.length === 0 && !own(p.num[0].expr) && analyzer.classifySummand(p).params.length > 0)) return false;
    if (parts.some((p) => !p.num.some((f) => own(f.expr)) && analyzer.classifySummand(p).tensor && !analyzer.classifySummand(p).penalty)) data = true;
  }
  return data;
}

const catalogueNames = new WeakMap<Stmt[], ReadonlySet<string>>();

/**
 * Names a file binds to the gradients a framework call hands back, by the catalogue: tfjs's
 * `const { grads: delta } = tf.variableGrads(f)` (also `valueAndGrads(f)(…)`, `optimizer.computeGradients(f)`),
 * in any function or lambda of the file. Kept by the module's statement list, and per top-level statement: only a
 * destructuring of such a call names one, and a name a file gives the gradients there is not a weight
 * elsewhere in it.
 */
export function catalogueGradientNames(moduleBody: Stmt[]): ReadonlySet<string> {
  let found = catalogueNames.get(moduleBody);
  if (!found) catalogueNames.set(moduleBody, (found = unionOver(catalogueNamesOf, moduleBody)));
  return found;
}

/** One top-level statement's names bound to the gradients a framework call hands back (statementAnswers.ts). */
const catalogueNamesOf = statementQuestion('catalogueGradientNames', (top: Stmt): readonly string[] => {
  const names = new Set<string>();
  const stmt = (s: Stmt, depth: number): void => {
    if (depth > 200) return;
    switch (s.kind) {
      case 'assign': {
        const t = s.targets.length === 1 ? s.targets[0] : undefined;
        if (t?.kind === 'object' && s.value.kind === 'call') {
          let call: Expr = s.value;
          while (call.kind === 'call' && call.callee.kind === 'call') call = call.callee;
          const name = call.kind === 'call' ? (call.callee.kind === 'attr' ? call.callee.name : call.callee.kind === 'name' ? call.callee.name : undefined) : undefined;
          if (name && (returnsValueAndGradients(name) || name === 'computeGradients'))
            for (const e of t.entries) if ((e.name === 'grads' || e.name === 'grad') && e.value.kind === 'name') names.add(e.value.name);
        }
        expr(s.value, depth);
        return;
      }
      case 'expr':
        return expr(s.expr, depth);
      case 'return':
        if (s.value) expr(s.value, depth);
        return;
      case 'function':
      case 'class':
      case 'block':
      case 'for':
        for (const x of s.body) stmt(x, depth + 1);
        return;
      default:
        return;
    }
  };
  const expr = (e: Expr, depth: number): void => {
    if (depth > 200) return;
    if (e.kind === 'lambda') for (const x of e.stmts) stmt(x, depth + 1);
    forEachChild(e, (c) => expr(c, depth + 1));
  };
  stmt(top, 0);
  return [...names];
});

/** In-place calls that scale a tensor or subtract from it: a copy they change is not only added to. */
const SCALES_OR_SUBTRACTS = new Set(['mul_', 'div_', 'sub_']);

/** Calls on a tensor that keep it the same gradient, reshaped, copied or clipped: `p.grad.clone()`, `g.clamp(-c, c)`. */
const KEEPS_GRADIENT = new Set(['clone', 'detach', 'clamp', 'clip', 'copy', 'float', 'double', 'contiguous', 'to', 'cpu', 'numpy']);

/** The tensor a value copies: `p.grad.data.clone()` → `p.grad`, `np.clip(g, -c, c)` → `g`. */
function copied(e: Expr, isModule: (e: Expr) => boolean): Expr {
  for (let i = 0; i < 8; i++) {
    if (e.kind === 'attr' && (e.name === 'data' || e.name === 'T')) e = e.object;
    else if (e.kind === 'call' && e.callee.kind === 'attr' && KEEPS_GRADIENT.has(e.callee.name)) e = isModule(e.callee.object) && e.args[0] ? e.args[0] : e.callee.object;
    else return e;
  }
  return e;
}

/**
 * The names of a function's own statements that are local copies of a gradient, whatever they are called:
 * every plain assignment of the name gives it a framework's gradient attribute (`g = p.grad`,
 * `g = p.grad.clamp(-c, c)`), an entry of a gradient container (`isGradient`: `g = grads[name]`, an entry
 * of a dict of gradients by data flow), or its own value plus terms (`g = g + wd * w`). A name subtracted
 * from (left to what its name says), or scaled by a factor anywhere in the function (`buf.mul_(mu)`, `v = mu * v + g`) is a state that started as a copy
 * (torch's momentum buffer, `buf = torch.clone(d_p)`), never a gradient here.
 */
export function gradientCopies(body: Stmt[], isGradient: (e: Expr) => boolean, isModule: (e: Expr) => boolean): Set<string> {
  const found = new Set<string>();
  const candidates = new Map<string, boolean>();
  const stmts = ownStatements(body);
  const mentionsName = (e: Expr, name: string): boolean => {
    let hit = false;
    const visit = (x: Expr): void => {
      if (hit) return;
      if (x.kind === 'name' && x.name === name) hit = true;
      else forEachChild(x, visit);
    };
    visit(e);
    return hit;
  };
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const name = s.targets[0].name;
    if (candidates.get(name) === false) continue;
    const source = copied(s.value, isModule);
    if ((source.kind === 'attr' && source.name === TORCH_GRAD_ATTRIBUTE) || ((source.kind === 'index' || source.kind === 'name') && isGradient(source))) {
      candidates.set(name, candidates.get(name) ?? true);
      continue;
    }
    // `g = g + wd * w`: its own value plus terms keeps it what it was; anything else makes it something else.
    const v = s.value;
    const own = v.kind === 'binary' && v.op === '+' && v.left.kind === 'name' && v.left.name === name && !mentionsName(v.right, name);
    if (!own) candidates.set(name, false);
  }
  if (candidates.size === 0) return found;
  for (const s of stmts) {
    // Scaled anywhere: a state, not a gradient. Subtracted from: not only added to (left to its name).
    if (s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && (s.op === '*' || s.op === '/' || s.op === '-')) candidates.set(s.targets[0].name, false);
    if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && SCALES_OR_SUBTRACTS.has(s.expr.callee.name) && s.expr.callee.object.kind === 'name')
      candidates.set(s.expr.callee.object.name, false);
  }
  for (const [name, ok] of candidates) if (ok) found.add(name);
  return found;
}
