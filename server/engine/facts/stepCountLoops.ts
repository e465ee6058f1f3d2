// Where a hand-written optimizer step's count moves relative to the loops that run the step
// (NB401): a count incremented once per epoch while the moments and weights are updated once per
// batch. Decided by the loop structure of the step's own function: the loops around each parameter
// update are split into loops that walk the parameters (their variable picks the updated tensor,
// directly, through an inner loop's iterable or through a local set from it) and loops that repeat
// the whole update on the same tensors
// (batches, inner iterations). A count the bias corrections read, incremented outside such a
// repeating loop, keeps one value for all of that loop's updates.
import type { Expr, Span, Stmt } from '../ir';
import { sym, polyEquals } from '../../math/poly';
import { subExprs, within } from './loops';
import { exprKey } from './keys';
import type { OptimizerStep } from './optimizerSteps';

type Loop = Stmt & ({ kind: 'for' } | { kind: 'block'; label: 'while' });

export interface CountOutsideLoop {
  /** The step count's key, as the corrections read it. */
  counter: string;
  /** The statement that increments it. */
  increment: Span;
  /** The loop whose every iteration updates the moments and the weights, which the increment is outside of. */
  loop: Loop;
  /** The innermost loop around the increment, when there is one (the epoch loop). */
  outer?: Loop;
  /** A correction that reads the count, inside `loop`. */
  correction: Span;
}

const isLoop = (s: Stmt): s is Loop => s.kind === 'for' || (s.kind === 'block' && s.label === 'while');

/** The loops around the statement that holds `span` (outermost first), or undefined when no statement of `body` holds it. */
function loopsAround(body: Stmt[], span: Span, depth = 0): Loop[] | undefined {
  if (depth > 60) return undefined;
  for (const s of body) {
    if (!within(span, s.span)) continue;
    // A nested function or class runs on its own schedule: not this function's loops.
    if (s.kind === 'function' || s.kind === 'class') return undefined;
    if (s.kind !== 'for' && s.kind !== 'block') return [];
    const inner = loopsAround(s.body, span, depth + 1);
    // A loop's head (its iterable, its condition) is not its body.
    if (inner === undefined) return undefined;
    return isLoop(s) ? [s, ...inner] : inner;
  }
  return undefined;
}

function names(e: Expr): string[] {
  return subExprs(e).flatMap((x) => (x.kind === 'name' ? [x.name] : []));
}

/** The loops and plain assignments of a body, nested functions and classes left out. */
function loopsAndAssignments(body: Stmt[], out: { loops: Loop[]; assigns: (Stmt & { kind: 'assign' })[] } = { loops: [], assigns: [] }, depth = 0): { loops: Loop[]; assigns: (Stmt & { kind: 'assign' })[] } {
  if (depth > 60) return out;
  for (const s of body) {
    if (s.kind === 'assign') out.assigns.push(s);
    else if (s.kind === 'for' || s.kind === 'block') {
      if (isLoop(s)) out.loops.push(s);
      loopsAndAssignments(s.body, out, depth + 1);
    }
  }
  return out;
}

/** `self.layer` of `self.layer.W`, `layer['W']` of `layer['W'][i]`. */
function isPathPrefix(part: string, whole: string): boolean {
  return whole.startsWith(part + '.') || whole.startsWith(part + '[');
}

/**
 * The names an update's target is picked by: the target's own, then, transitively, the iterable of
 * a loop that binds one (`p` of `for p in group['params']` → group) and the value of a local that
 * holds one (`layer = layers[l]` → l). The update's own writes (`W = W - …`) are left out.
 */
function pickedBy(body: Stmt[], target: Expr, updateSpans: Span[], source: (s: Span) => string): Set<string> {
  const { loops, assigns } = loopsAndAssignments(body);
  // Paths by their keys (`self.layer.W`); the source text only where the IR gives no key.
  const pathOf = (e: Expr): string => {
    const key = exprKey(e);
    return key !== undefined && !key.includes('?') ? key : source(e.span);
  };
  const targetText = pathOf(target);
  const picked = new Set(names(target));
  for (let changed = true, rounds = 0; changed && rounds < 20; rounds++) {
    changed = false;
    const add = (n: string): void => {
      if (picked.has(n)) return;
      picked.add(n);
      changed = true;
    };
    for (const l of loops) if (l.kind === 'for' && names(l.target).some((n) => picked.has(n))) names(l.iter).forEach(add);
    for (const a of assigns) {
      if (updateSpans.some((u) => within(u, a.span) || within(a.span, u))) continue;
      const set = a.targets.flatMap((t) => (t.kind === 'name' || t.kind === 'seq' ? names(t) : []));
      const reads = names(a.value);
      // `self.layer = self.layers[i]` before `self.layer.W -= …`: a part of the target's path set afresh.
      const path = a.targets.some((t) => (t.kind === 'attr' || t.kind === 'index') && isPathPrefix(pathOf(t), targetText));
      if (path || set.some((n) => picked.has(n) && !reads.includes(n))) reads.forEach(add);
    }
  }
  return picked;
}

/**
 * The loops around an update that repeat it on the same tensor: loops whose variable picks none of
 * the tensors it updates (`for xb, yb in batches` around `W -= …`, unlike `for p in params` or
 * `for group in param_groups` around `for p in group['params']`), and while loops that test none.
 */
function repeatingLoops(body: Stmt[], loops: Loop[], target: Expr, updateSpans: Span[], source: (s: Span) => string): Loop[] {
  const picked = pickedBy(body, target, updateSpans, source);
  return loops.filter((l) => (l.kind === 'for' ? !names(l.target).some((n) => picked.has(n)) : !l.heads.some((h) => names(h).some((n) => picked.has(n)))));
}

/** Step counts read by the step's bias corrections that are incremented outside a loop repeating the step's updates. */
export function countsOutsideLoops(step: OptimizerStep, source: (s: Span) => string): CountOutsideLoop[] {
  const found: CountOutsideLoop[] = [];
  if (!step.counterSpans || step.params.length === 0) return found;
  const body = step.fn.body;
  // The step's own writes (moments, parameters) are not locals that pick a tensor.
  const writes = [...[...step.states.values()].flatMap((s) => s.eq.spans), ...step.params.flatMap((p) => p.eq.spans)];
  for (const [counter, increment] of step.counterSpans) {
    if (!within(increment, step.fn.span)) continue;
    const readers = step.corrections.filter((c) => c.exp !== undefined && polyEquals(c.exp, sym(counter)) && within(c.span, step.fn.span));
    if (readers.length === 0) continue;
    const around = loopsAround(body, increment);
    if (around === undefined) continue;
    // Every parameter update is repeated by a loop the increment is outside of: the outermost such loop is reported.
    let loop: Loop | undefined;
    let all = true;
    for (const p of step.params) {
      const spans = p.eq.spans;
      if (spans.length === 0 || !spans.every((s) => within(s, step.fn.span))) {
        all = false;
        break;
      }
      const own = loopsAround(body, spans[0]);
      if (own === undefined || !spans.every((s) => loopsAround(body, s)?.length === own.length && loopsAround(body, s)!.every((l, i) => l === own[i]))) {
        all = false;
        break;
      }
      const repeating = repeatingLoops(body, own, p.eq.target, writes, source).filter((l) => !around.includes(l) && !within(increment, l.span));
      if (repeating.length === 0) {
        all = false;
        break;
      }
      const outermost = repeating[0];
      if (loop === undefined) loop = outermost;
      else if (loop !== outermost) {
        all = false;
        break;
      }
    }
    if (!all || loop === undefined) continue;
    const l = loop;
    const correction = readers.find((c) => within(c.span, l.span));
    if (!correction) continue;
    found.push({ counter, increment, loop: l, outer: around[around.length - 1], correction: correction.span });
  }
  return found;
}
