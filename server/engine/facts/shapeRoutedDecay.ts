// A torch parameter split whose shape test sends the one-dimensional tensors (biases, normalization
// scales and shifts) to the optimizer or param group that decays them (NB204): `for n, p in
// model.named_parameters(): if p.ndim == 2 and …: matrices.append(p) else: rest.append(p)` with
// `AdamW(rest, weight_decay=0.1)`, or `rest = [p for p in model.parameters() if p.ndim < 2]` handed
// to a decayed optimizer. The hybrid Muon/AdamW setup is the common shape: the matrices go to an
// optimizer with no decay, the rest to the decayed fallback.
//
// Decided by the condition's value for a tensor of one dimension: a shape test (`p.ndim == 2`,
// `p.dim() >= 2`, `len(p.shape) > 1`; catalogue.ts `tensorRankOf`) is evaluated, every other test
// (a name, `requires_grad`) is unknown, and `and`/`or`/`not` combine them in three values. Only a
// condition decided by its shape tests alone routes the 1-D tensors, and only one that may send a
// matrix elsewhere (`p.ndim == 0`, `p.dim() == 4` deal both to one list: no split of vectors); guards
// before the split must not read the tensor's size (`if p.ndim < 2: continue`). The list that receives them
// must be the whole `params` of a torch optimizer with an explicit positive `weight_decay`, or of a
// param group with one. A decay written but not resolved (`config.weight_decay` of a config handed
// in) counts for a loop that splits the parameters into two lists (the split chose the 1-D tensors
// for the knob) unless the other list has a decay too, not for a lone comprehension. Nothing else is followed: a list grown afterwards, a list passed
// anywhere else, or a decay known to be 0 stays silent.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { fileBodies, ownStatements, programIndex } from './program';
import { appendSplit, listWrites } from './parameterSplit';
import { frameworkFacts, type Arg, type OptimizerFact } from './frameworks';
import { TORCH_NAMED_PARAMETERS, TORCH_PARAMETERS, isSizeAttribute, tensorRankOf } from './catalogue';
import { forEachChild } from './scope';

export interface ShapeRoutedDecay {
  /** The condition that decides where a parameter goes. */
  cond: Expr;
  /** The list that receives the one-dimensional tensors, as written. */
  list: string;
  /** The other list (the matrices), when the split is a loop with two branches. */
  other?: string;
  /** The optimizer that decays `list`, and the decay as written and its value. */
  opt: OptimizerFact;
  decay: Arg;
  /** Undefined when the decay is written but not resolved (reported for a two-list split only). */
  value?: number;
  /** The optimizer the other list goes to, when its decay is off. */
  undecayed?: OptimizerFact;
}

const cache = new WeakMap<Facts, ShapeRoutedDecay[]>();

export function shapeRoutedDecays(facts: Facts): ShapeRoutedDecay[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

function collect(facts: Facts): ShapeRoutedDecay[] {
  if (facts.language !== 'python') return [];
  const text = facts.source(facts.scopes.root.span);
  if (!text.includes(TORCH_PARAMETERS)) return [];
  const optimizers = frameworkFacts(facts).optimizers.filter((o) => o.framework === 'torch');
  if (optimizers.length === 0) return [];
  const out: ShapeRoutedDecay[] = [];
  for (const { stmts, fn } of fileBodies(facts)) {
    const own = ownStatements(stmts);
    const span: Span = fn ? fn.span : facts.scopes.root.span;
    const local = optimizers.filter((o) => o.call.span.start >= span.start && o.call.span.end <= span.end && (fn || !programIndex(facts).functions.some((f) => o.call.span.start >= f.span.start && o.call.span.end <= f.span.end)));
    if (local.length === 0) continue;
    for (const split of splitsOf(own)) {
      const undecayed = split.other ? local.find((o) => o.params?.kind === 'name' && o.params.name === split.other && o.decayOff) : undefined;
      // A decay written but not resolved to a number (a config's field handed in) counts for a split into two lists:
      // the knob is there to decay, and the split chose the 1-D tensors for it.
      const decayed = decayOf(local, split.oneD, !!split.other);
      if (!decayed) continue;
      // An unresolved decay written on both lists is one knob for the whole model, whatever the split was for
      // (a learning rate per list): NB204's plain form stays silent on an unresolved decay too.
      if (decayed.value === undefined && split.other && decayOf(local, split.other, true)) continue;
      out.push({ cond: split.cond, list: split.oneD, ...(split.other ? { other: split.other } : {}), opt: decayed.opt, decay: decayed.arg, ...(decayed.value !== undefined ? { value: decayed.value } : {}), ...(undecayed ? { undecayed } : {}) });
    }
  }
  return out;
}

interface Split {
  cond: Expr;
  /** The list the one-dimensional tensors are appended to. */
  oneD: string;
  other?: string;
}

/** Parameter splits among a body's own statements: an if/else loop over a module's parameters, or a filtered comprehension. */
function splitsOf(own: Stmt[]): Split[] {
  const out: Split[] = [];
  // How often each name is written: a list changed after the split holds more than the split chose.
  const writes = listWrites(own);
  for (const s of own) {
    if (s.kind === 'for') {
      const value = loopValue(s.target);
      if (!value || !parametersCall(s.iter)) continue;
      const split = appendSplit(s.body, value, (guard) => !readsSize(guard, value));
      if (!split) continue;
      const r = rankTest(split.cond, value, 1);
      if (r === undefined) continue;
      // The test must set the vectors apart from the matrices: `p.ndim == 0` or `p.dim() == 4` sends both
      // to one list, which is then no more than the model's parameters (NB204's plain form).
      if (rankTest(split.cond, value, 2) === r) continue;
      const [oneD, other] = r ? [split.then, split.else] : [split.else, split.then];
      if (oneD === other || (writes.get(oneD) ?? 0) > 2) continue;
      out.push({ cond: split.cond, oneD, other });
    }
    if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.value.kind === 'comprehension') {
      const c = s.value;
      if (c.generators.length !== 1 || c.conditions?.length !== 1 || !parametersCall(c.generators[0].iter)) continue;
      const value = loopValue(c.generators[0].target);
      if (!value || c.element.kind !== 'name' || c.element.name !== value) continue;
      // The list holds the vectors and not every matrix (`p.ndim != 0` keeps them all).
      if (rankTest(c.conditions[0], value, 1) !== true || rankTest(c.conditions[0], value, 2) === true) continue;
      if ((writes.get(s.targets[0].name) ?? 0) > 1) continue;
      out.push({ cond: c.conditions[0], oneD: s.targets[0].name });
    }
  }
  return out;
}

/** The tensor's name in `for p in …` or `for n, p in …`. */
function loopValue(target: Expr): string | undefined {
  if (target.kind === 'name') return target.name;
  if (target.kind === 'seq' && target.items.length === 2 && target.items[1].kind === 'name') return target.items[1].name;
  return undefined;
}

/** `model.parameters()` or `model.named_parameters()`. */
function parametersCall(iter: Expr): boolean {
  return iter.kind === 'call' && iter.callee.kind === 'attr' && (iter.callee.name === TORCH_PARAMETERS || iter.callee.name === TORCH_NAMED_PARAMETERS) && iter.args.length === 0 && iter.kwargs.length === 0;
}

/**
 * Whether a guard reads the tensor's size (`p.ndim`, `p.shape`, `p.numel()`, `len(p)`): such a guard
 * (`if p.ndim < 2: continue`) may keep the one-dimensional tensors from both lists. Flags
 * (`p.requires_grad`, `p.grad is None`) and the tensor itself (`p in seen`) are not its size.
 */
function readsSize(e: Expr, value: string): boolean {
  const isValue = (x: Expr): boolean => x.kind === 'name' && x.name === value;
  if (e.kind === 'attr' && isValue(e.object)) return isSizeAttribute(e.name);
  if (e.kind === 'call' && ((e.callee.kind === 'attr' && isValue(e.callee.object)) || e.args.some(isValue))) return true;
  let found = false;
  forEachChild(e, (c) => {
    if (!found && readsSize(c, value)) found = true;
  });
  return found;
}

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };

/**
 * The condition's value for a tensor `value` of `rank` dimensions: decided by its shape tests, in three
 * values (undefined: unknown). Any test that is not a shape test of `value` is unknown.
 */
export function rankTest(e: Expr, value: string, rank: number): boolean | undefined {
  if (e.kind === 'unary' && e.op === 'not') {
    const v = rankTest(e.arg, value, rank);
    return v === undefined ? undefined : !v;
  }
  if (e.kind === 'other' && e.ops && e.ops.length > 0 && e.children.length === e.ops.length + 1 && (e.ops.every((o) => o === 'or') || e.ops.every((o) => o === 'and'))) {
    const values = e.children.map((c) => rankTest(c, value, rank));
    if (e.ops[0] === 'and') return values.some((v) => v === false) ? false : values.every((v) => v === true) ? true : undefined;
    return values.some((v) => v === true) ? true : values.every((v) => v === false) ? false : undefined;
  }
  if (e.kind === 'other' && e.ops?.length === 1 && FLIP[e.ops[0]] && e.children.length === 2) {
    let [a, b] = e.children;
    let op = e.ops[0];
    if (!isRankOf(a, value)) {
      [a, b] = [b, a];
      op = FLIP[op];
    }
    if (!isRankOf(a, value) || b.kind !== 'num') return undefined;
    const n = b.value;
    switch (op) {
      case '<': return rank < n;
      case '<=': return rank <= n;
      case '>': return rank > n;
      case '>=': return rank >= n;
      case '==': return rank === n;
      case '!=': return rank !== n;
    }
  }
  return undefined;
}

function isRankOf(e: Expr, value: string): boolean {
  const t = tensorRankOf(e);
  return t?.kind === 'name' && t.name === value;
}

/** The optimizer (or param group) whose `params` are the list `list` and whose decay is written and positive. */
function decayOf(optimizers: OptimizerFact[], list: string, unresolved: boolean): { opt: OptimizerFact; arg: Arg; value?: number } | undefined {
  for (const opt of optimizers) {
    for (const d of opt.decay) {
      if (d.value === undefined ? !unresolved || d.arg?.expr.kind === 'num' : !(d.value > 0)) continue;
      const value = d.value !== undefined ? { value: d.value } : {};
      if (d.source === 'argument' && d.arg && opt.params?.kind === 'name' && opt.params.name === list) return { opt, arg: d.arg, ...value };
      if (d.source === 'group' && d.arg && d.group?.params.kind === 'name' && d.group.params.name === list) return { opt, arg: d.arg, ...value };
    }
  }
  return undefined;
}
