// The local names a hand-written optimizer step gives the values its normal form reads by key
// (optimizerSteps.ts): `beta1, beta2 = group['betas']` names `group["betas"][0]` beta1, `lr =
// group['lr']` names `group["lr"]` lr, `exp_avg = state['exp_avg']` names the state exp_avg. The
// messages of NB401–NB405 and the hover's lines use these names, as the code reads them, rather
// than the key a local was read from.
//
// A name counts only when the step function (its nested blocks and callbacks included) binds it
// exactly once, to a plain reference (a name, attribute or subscript), and no other name is bound
// to the same value: a rebound local (`m = config['m']`, then `m = b1 * m + …`) stops being that value.
import { VALUE_ATTRIBUTES } from './catalogue';
import type { Expr, Stmt } from '../ir';
import type { FunctionDef } from './scope';
import { exprKey } from './keys';
import { forEachChild } from './scope';
import type { OptimizerStep } from './optimizerSteps';

const cache = new WeakMap<FunctionDef, Map<string, string>>();

/** Key → the one local name bound to it in `fn` (keys as the normal form writes them). */
export function stepLocals(fn: FunctionDef): Map<string, string> {
  let found = cache.get(fn);
  if (found) return found;
  const bound = new Map<string, (string | undefined)[]>();
  const bind = (name: string, key: string | undefined): void => {
    const list = bound.get(name);
    if (list) list.push(key);
    else bound.set(name, [key]);
  };
  const targets = (t: Expr, key: string | undefined): void => {
    if (t.kind === 'name') bind(t.name, key);
    else if (t.kind === 'seq') t.items.forEach((x) => targets(x, undefined));
  };
  const lambdas = (e: Expr): void => {
    const stack = [e];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x.kind === 'lambda') {
        for (const p of x.params) bind(p.name, undefined);
        visit(x.stmts);
      }
      forEachChild(x, (c) => void stack.push(c));
    }
  };
  const visit = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      switch (st.kind) {
        case 'assign': {
          lambdas(st.value);
          if (st.targets.length !== 1 || st.op) {
            for (const t of st.targets) targets(t, undefined);
            break;
          }
          const t = st.targets[0];
          if (t.kind === 'name') bind(t.name, persistentKey(st.value));
          else if (t.kind === 'seq') {
            // `b1, b2 = group['betas']`: each name is that element; `m, v = state['m'], state['v']` item by item.
            const base = persistentKey(st.value);
            t.items.forEach((x, i) => {
              if (x.kind !== 'name') return targets(x, undefined);
              if (st.value.kind === 'seq' && st.value.items.length === t.items.length) bind(x.name, persistentKey(st.value.items[i]));
              else bind(x.name, base === undefined ? undefined : `${base}[${i}]`);
            });
          }
          break;
        }
        case 'expr':
          lambdas(st.expr);
          break;
        case 'for':
          targets(st.target, undefined);
          visit(st.body);
          break;
        case 'block':
          for (const h of st.heads) lambdas(h);
          visit(st.body);
          break;
        default:
          break;
      }
    }
  };
  for (const p of fn.params) bind(p.name, undefined);
  visit(fn.body);
  const byKey = new Map<string, string[]>();
  for (const [name, keys] of bound) {
    if (keys.length !== 1 || keys[0] === undefined || keys[0] === name) continue;
    const list = byKey.get(keys[0]);
    if (list) list.push(name);
    else byKey.set(keys[0], [name]);
  }
  found = new Map([...byKey].filter(([, names]) => names.length === 1).map(([key, names]) => [key, names[0]]));
  cache.set(fn, found);
  return found;
}

/**
 * The key the normal form gives a plain reference, as optimizerSteps.ts's `Evaluator.keyOf` does:
 * `p.data` is p, an element `m[i]` with a loop index is m.
 */
function persistentKey(e: Expr): string | undefined {
  if (e.kind === 'attr' && VALUE_ATTRIBUTES.has(e.name)) return persistentKey(e.object);
  if (e.kind === 'index' && e.index.length === 1 && (e.index[0].kind === 'name' || e.index[0].kind === 'other')) return persistentKey(e.object);
  if (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index') return undefined;
  return exprKey(e);
}

/**
 * The local name to show for `key` in a step, or undefined to keep the key: a step count or a
 * parameter keeps its own (a local copy of a count is stale once the count is incremented), and a
 * state takes a local only when the step writes the state through that local (`exp_avg.mul_(beta1)`,
 * `mi[j] = …` with `mi = this.gsum[i]`).
 */
export function localNameIn(step: OptimizerStep, key: string): string | undefined {
  const local = stepLocals(step.fn).get(key);
  if (local === undefined || step.counters.has(key) || step.params.some((p) => p.eq.key === key)) return undefined;
  const state = step.states.get(key);
  if (state && persistentKey(state.eq.target) !== local) return undefined;
  return local;
}
