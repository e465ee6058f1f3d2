// Weight decay applied twice in one step (NB107): two decay terms c·W on the same parameter that
// both run in one step, with the same knob. Coupled decay written into the gradient that feeds the
// step (`grad = grad.add(p, alpha=wd)`, `g = g + wd * w`) and decoupled decay written into the
// step itself (`p.mul_(1 - lr * wd)`, `w -= lr * (g + wd * w)`), or the same decay written twice.
// Also a decay that runs once per parameter group on every group's parameters
// (`for group in self.param_groups: torch._foreach_mul_(all_params, 1 - lr * wd)`).
//
// Everything is decided by data flow on the terms gradients.ts finds: the parameter each term acts
// on, the update it lands in (directly, through variables the analyzer expands, or through
// statements that read the decayed gradient: optimizer state, in-place calls), the loop the update
// runs in, and the `if` branches around each term: terms in two branches of one `if` never run
// together, and terms guarded by two different conditions are taken as alternatives. A step that
// hands a parameter to a method of the same object (`self._shrink(p, lr)`, its own class's or a base
// class's, in any file) decays it once more when that method decays the parameter it is handed.
import type { Expr, Span, Stmt } from '../ir';
import type { Coef } from '../../math/terms';
import { coef as makeCoef, div, sameSymbols } from '../../math/coef';
import type { Env } from './analysis';
import { isSelfName, resolveCall } from './resolve';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { baseExpr, exprKey } from './keys';
import { branchExit, forEachChild, ifChainAt, someExpr, type Binding, type FunctionDef, type Scope } from './scope';
import { regGradientTerms, type RegGradientTerm } from './gradients';
import { frameworkFacts } from './frameworks';
import { canonicalCoef } from './symbols';
import { decayKnobKey, isLearningRateName } from './roles';
import { attributeReadByName, EMPTY_ARGUMENT_NAMES, foreachInPlace, STORAGE_SHARING_METHODS } from './catalogue';
import { numberOf } from './analysis';
import { programIndex, spanKey } from './program';
import { trimSpan } from './steps';
import { InnermostSpan } from './spans';
import { trainingFacts } from './loops';
import { autodiffCall, type AutodiffContext } from './autodiff';

export interface DecayApplication {
  /** Where the decay is written, widened to its call or statement when the term is only `p` (`grad.add(p, alpha=wd)`). */
  span: Span;
  /** `gradient`: added to a gradient that feeds the step; `step`: written into the parameter's own step. */
  kind: 'gradient' | 'step';
  /** The gradient (for `gradient`) or the parameter (for `step`; for a method's decay, the argument handed to it) it is written into. */
  into: Expr;
  /** The statement that applies it: the gradient's definition or update, or the step (the term itself may be read through a variable defined elsewhere). */
  at: Span;
  term: RegGradientTerm;
  /** λ as written, without the learning rate: the term's gradient coefficient, or its step coefficient with the learning rates taken out. */
  strength: Coef;
  /** Applied by a method of the same object the step calls (`span` and `at` are the call; `term` is in the method). */
  via?: Delegated;
  /** The parameter's storage a step writes through an alias (`data -= …` after `data = param.data`): param.data. */
  storage?: Expr;
  /** For a gradient's decay expanded into the step: its coefficient there (`W - lr * (g1 + g2) / 2`: −lr·wd/2). */
  landed?: Coef;
}

/** A decay a method applies to the parameter a step hands it: `self._shrink(p, lr)` with `param.data -= lr * wd * param.data` in `_shrink`. */
export interface Delegated {
  /** The method's name, and its decay statement (in whichever file the method is). */
  method: string;
  decay: Span;
  /** The knobs the decay reads, the method's parameters read as the call's arguments. */
  knobs: Knobs;
  /** Conditions inside the method, those on the knob alone left out: the decay runs only when each of `runsIf` holds, and none of `bailsIf` (`if …: return` before it). */
  runsIf: Expr[];
  bailsIf: Expr[];
}

interface Knobs {
  keys: Set<string>;
  num: number;
}

export interface DoubleDecay {
  /** The parameter, as the second application writes it. */
  param: Expr;
  first: DecayApplication;
  second: DecayApplication;
}

export interface PerGroupDecay {
  /** The decay statement that runs once per iteration of `loop`. */
  span: Span;
  /** The parameters it decays, as written. */
  params: Expr;
  /** The loop over parameter groups, and where the full parameter list is built from that same collection. */
  loop: Stmt & { kind: 'for' };
  built: Span;
}

export interface DoubleDecayFacts {
  twice: DoubleDecay[];
  perGroup: PerGroupDecay[];
}

const cache = new WeakMap<Facts, DoubleDecayFacts>();

export function doubleDecays(facts: Facts): DoubleDecayFacts {
  let found = cache.get(facts);
  if (!found) {
    const shape = fileShape(facts);
    found = { twice: twice(facts, shape), perGroup: perGroup(facts, shape) };
    cache.set(facts, found);
  }
  return found;
}

// ------------------------------------------------------------------ the file's statement shape

/** One branch of an `if` chain: `chain` numbers the chain, `clause` the branch (0 for the `if`). */
interface Clause {
  chain: number;
  clause: number;
  region: Span;
  heads: Expr[];
  /**
   * How the branch ends its path: `return`/`raise` leave the function, so code after the chain does not
   * run with it; `continue`/`break` leave the rest of the loop body, so code after the chain in the same
   * loop does not (Muon's `if p.ndim < 2: …; continue` before the matrix path).
   */
  exit: ReturnType<typeof branchExit>;
  chainEnd: number;
}

/** A statement that reads and writes values (assignment, call statement, return), with its function. */
interface Simple {
  stmt: Stmt;
  fn: number;
}

interface FileShape {
  clauses: Clause[];
  loops: (Stmt & ({ kind: 'for' } | { kind: 'block' }))[];
  simples: Simple[];
  /** Each function's simple statements in file order (by the function's start offset; 0: the module). */
  simplesOf: Map<number, Stmt[]>;
  /** The function around an offset, by the start offset of its statement (0: the module). */
  fnAt(offset: number): number;
  /** The innermost loop around an offset (its start; -1: none). */
  loopAround(offset: number): number;
}

function fileShape(facts: Facts): FileShape {
  const clauses: Clause[] = [];
  const loops: FileShape['loops'] = [];
  const simples: Simple[] = [];
  const fns: Span[] = [];
  let chains = 0;
  const visitList = (list: Stmt[], fn: number, depth: number): void => {
    if (depth > 200) return;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.kind === 'block' && s.label === 'if' && s.heads.length > 0) {
        // The `if`, then its `elif`/`else` clauses: the following blocks written inside its span.
        const chain = chains++;
        const members = ifChainAt(list, i);
        i += members.length - 1;
        const chainEnd = Math.max(...members.map((m) => m.span.end));
        members.forEach((m, clause) => {
          const exit = branchExit(m);
          if (m.body.length > 0 || exit) {
            // A branch holding only its jump (`if p.grad is None: continue`) guards nothing: an empty region.
            const empty = m.heads[0]?.span.end ?? m.span.start;
            const region = m.body.length > 0 ? { start: m.body[0].span.start, end: m.body[m.body.length - 1].span.end } : { start: empty, end: empty };
            clauses.push({ chain, clause, region, heads: m.heads, exit, chainEnd });
          }
          m.heads.forEach((h) => lambdas(h, fn, depth));
          visitList(m.body, fn, depth + 1);
        });
        continue;
      }
      visit(s, fn, depth);
    }
  };
  // Python's lambdas hold one expression and no statements (lower/python.ts): nothing to look for.
  const blockLambdas = facts.language !== 'python';
  const lambdas = (e: Expr, fn: number, depth: number): void => {
    if (!blockLambdas) return;
    someExpr(e, (x) => {
      if (x.kind === 'lambda' && x.stmts.length > 0) visitList(x.stmts, fn, depth + 1);
      return false;
    });
  };
  const visit = (s: Stmt, fn: number, depth: number): void => {
    switch (s.kind) {
      case 'assign':
        simples.push({ stmt: s, fn });
        lambdas(s.value, fn, depth);
        return;
      case 'expr':
        simples.push({ stmt: s, fn });
        lambdas(s.expr, fn, depth);
        return;
      case 'return':
        simples.push({ stmt: s, fn });
        if (s.value) lambdas(s.value, fn, depth);
        return;
      case 'function':
        fns.push(s.span);
        visitList(s.body, s.span.start, depth + 1);
        return;
      case 'class':
        visitList(s.body, fn, depth + 1);
        return;
      case 'for':
        loops.push(s);
        lambdas(s.iter, fn, depth);
        visitList(s.body, fn, depth + 1);
        return;
      case 'block':
        if (s.label === 'while') loops.push(s);
        s.heads.forEach((h) => lambdas(h, fn, depth));
        visitList(s.body, fn, depth + 1);
        return;
      default:
        return;
    }
  };
  visitList(facts.module.body, 0, 0);
  simples.sort((a, b) => a.stmt.span.start - b.stmt.span.start);
  const root = facts.scopes.root.span;
  const fnIndex = new InnermostSpan([{ span: root, id: 0 }, ...fns.map((f) => ({ span: f, id: f.start }))]);
  const loopIndex = new InnermostSpan([{ span: root, id: -1 }, ...loops.map((l) => ({ span: l.span, id: l.span.start }))]);
  const simplesOf = new Map<number, Stmt[]>();
  for (const { stmt, fn } of simples) {
    const list = simplesOf.get(fn);
    if (list) list.push(stmt);
    else simplesOf.set(fn, [stmt]);
  }
  return { clauses, loops, simples, simplesOf, fnAt: (offset) => fnIndex.at(offset).id, loopAround: (offset) => loopIndex.at(offset).id };
}

const within = (inner: Span, outer: Span): boolean => outer.start <= inner.start && inner.end <= outer.end;

/** The innermost loop of the same function around an offset (its start; -1: none). */
function loopAt(shape: FileShape, offset: number, fn: number): number {
  // A loop around the function itself (a `def` inside a loop) is not the step's loop.
  const loop = shape.loopAround(offset);
  return loop >= 0 && shape.fnAt(loop) === fn ? loop : -1;
}

function guardsOf(shape: FileShape, span: Span): Clause[] {
  return shape.clauses.filter((c) => within(span, c.region));
}

/** Can the two places run in one step? Not in two branches of one `if`, nor after a branch that ends its path (return, raise; continue or break in the same loop), nor under two different conditions. */
function together(shape: FileShape, a: Span, b: Span): boolean {
  const ga = guardsOf(shape, a);
  const gb = guardsOf(shape, b);
  for (const x of ga) for (const y of gb) if (x.chain === y.chain && x.clause !== y.clause) return false;
  const [late, gEarly] = a.start <= b.start ? [b, ga] : [a, gb];
  if (gEarly.some((c) => c.exit && late.start >= c.chainEnd && endsPathTo(shape, c, late))) return false;
  const onlyA = ga.filter((x) => !gb.some((y) => y.chain === x.chain));
  const onlyB = gb.filter((y) => !ga.some((x) => x.chain === y.chain));
  if (onlyA.length === 0 || onlyB.length === 0) return true;
  // `if wd != 0 and mode == "L2":` … `if wd != 0 and mode != "L2":`: a conjunct of one is the negation of one of the other's.
  if (onlyA.some((x) => onlyB.some((y) => excludes(x.heads, y.heads)))) return false;
  // Both guarded, by conditions of their own: alternatives (`if decoupled:` … `if not decoupled:`) unless the
  // conditions are the same or one implies the other (`if wd != 0:` … `if wd > 0:`: both run whenever wd > 0).
  return onlyA.every((x) => onlyB.some((y) => relatedHeads(x.heads, y.heads))) && onlyB.every((y) => onlyA.some((x) => relatedHeads(x.heads, y.heads)));
}

/** Does the branch's exit keep `late`, after its chain, from running on the same path? `continue`/`break`: only inside the same loop. */
function endsPathTo(shape: FileShape, c: Clause, late: Span): boolean {
  if (c.exit === 'return' || c.exit === 'raise') return true;
  const at = shape.loopAround(c.region.start);
  const loop = at >= 0 ? shape.loops.find((l) => l.span.start === at) : undefined;
  return loop !== undefined && within(late, loop.span);
}

/** Comparison operators and their negations (`x == c` / `x != c`, `x < c` / `x >= c`). */
const negatedOp: Record<string, string> = { '==': '!=', '!=': '==', '<': '>=', '>=': '<', '>': '<=', '<=': '>', in: 'not in', 'not in': 'in', is: 'is not', 'is not': 'is' };
/** The same comparison with its operands swapped (`c > x` is `x < c`). */
const mirroredOp: Record<string, string> = { '==': '==', '!=': '!=', '<': '>', '>': '<', '<=': '>=', '>=': '<=' };

/** Can the two conditions never both hold? One of them requires, by an `and`ed conjunct, the negation of a conjunct of the other. */
function excludes(a: Expr[], b: Expr[]): boolean {
  if (a.length !== 1 || b.length !== 1) return false;
  const cb = conjuncts(b[0], 0);
  return conjuncts(a[0], 0).some((x) => cb.some((y) => negates(x, y)));
}

function conjuncts(e: Expr, depth: number): Expr[] {
  if (depth < 50 && e.kind === 'other' && e.ops && e.ops.length > 0 && e.ops.every((o) => o === 'and')) return e.children.flatMap((c) => conjuncts(c, depth + 1));
  return [e];
}

/** `flag` / `not flag`, `x == c` / `x != c`, `x < c` / `c <= x`. */
function negates(a: Expr, b: Expr): boolean {
  if (a.kind === 'unary' && a.op === 'not') return sameExpr(a.arg, b);
  if (b.kind === 'unary' && b.op === 'not') return sameExpr(b.arg, a);
  const ca = comparison(a);
  const cb = comparison(b);
  if (!ca || !cb) return false;
  const neg = negatedOp[ca.op];
  if (neg === cb.op && sameExpr(ca.left, cb.left) && sameExpr(ca.right, cb.right)) return true;
  return neg !== undefined && mirroredOp[neg] === cb.op && sameExpr(ca.left, cb.right) && sameExpr(ca.right, cb.left);
}

/** A single binary comparison, `left op right`. */
function comparison(e: Expr): { op: string; left: Expr; right: Expr } | undefined {
  if (e.kind !== 'other' || !e.ops || e.ops.length !== 1 || e.children.length !== 2 || negatedOp[e.ops[0]] === undefined) return undefined;
  return { op: e.ops[0], left: e.children[0], right: e.children[1] };
}

/** Heads of two guards, pairwise the same condition, or one implying the other. */
function relatedHeads(a: Expr[], b: Expr[]): boolean {
  return a.length === b.length && a.every((x, i) => sameExpr(x, b[i]) || implies(x, b[i]) || implies(b[i], x));
}

/** What each comparison operator implies of the same operands: `x > c` gives `x != c` and `x >= c`. */
const impliedOps: Record<string, string[]> = { '>': ['!=', '>='], '<': ['!=', '<='], '==': ['<=', '>='] };

/** Whether comparison `a` holding makes comparison `b` hold: the same operands (either order), a weaker operator. */
function implies(a: Expr, b: Expr): boolean {
  const ca = comparison(a);
  const cb = comparison(b);
  if (!ca || !cb) return false;
  if (sameExpr(ca.left, cb.left) && sameExpr(ca.right, cb.right)) return impliedOps[ca.op]?.includes(cb.op) ?? false;
  const mirrored = mirroredOp[cb.op];
  return mirrored !== undefined && sameExpr(ca.left, cb.right) && sameExpr(ca.right, cb.left) && (impliedOps[ca.op]?.includes(mirrored) ?? false);
}

/** Two expressions written alike: the same structure, names, values and operators (comparisons' too). */
export function sameExpr(a: Expr, b: Expr): boolean {
  if (a.kind !== b.kind) return false;
  const ka = exprKey(a);
  if (ka !== undefined) return ka === exprKey(b);
  if (a.kind === 'num' && b.kind === 'num') return a.value === b.value;
  if (a.kind === 'str' && b.kind === 'str') return a.value === b.value;
  if (a.kind === 'binary' && b.kind === 'binary' && a.op !== b.op) return false;
  if (a.kind === 'unary' && b.kind === 'unary' && a.op !== b.op) return false;
  if (a.kind === 'call' && b.kind === 'call' && a.kwargs.length !== b.kwargs.length) return false;
  // `x != 0` is not `x == 0`: comparisons and `and`/`or` chains keep their operators here.
  if (a.kind === 'other' && b.kind === 'other' && (a.ops ?? []).join() !== (b.ops ?? []).join()) return false;
  const ca: Expr[] = [];
  const cb: Expr[] = [];
  forEachChild(a, (c) => void ca.push(c));
  forEachChild(b, (c) => void cb.push(c));
  if (a.kind === 'other' && ca.length === 0) return false; // a comparison kept only as text: not known to be equal
  return ca.length === cb.length && ca.every((c, i) => sameExpr(c, cb[i]));
}

// ------------------------------------------------------------------ twice in one step

/** The knobs a decay coefficient reads, by their last key (`group["weight_decay"]`, `wd = group["weight_decay"]` → weight_decay); learning rates aside. */
function knobs(facts: Facts, t: RegGradientTerm): Knobs {
  const c = canonicalCoef(facts, t.coef ?? t.stepCoef, t.site.scope, t.site.at);
  const keys = new Set<string>();
  for (const s of c.syms) if (s.pow > 0 && !isLearningRateName(decayKnobKey(s.name))) keys.add(decayKnobKey(s.name));
  return { keys, num: Math.abs(c.num) };
}

function sameKnob(knobsOf: (t: DecayApplication) => Knobs, a: DecayApplication, b: DecayApplication): boolean {
  const ka = knobsOf(a);
  const kb = knobsOf(b);
  if (ka.keys.size === 0 && kb.keys.size === 0) return ka.num === kb.num && a.term.coef !== undefined && b.term.coef !== undefined;
  return [...ka.keys].some((k) => kb.keys.has(k));
}

function strengthOf(t: RegGradientTerm): Coef {
  if (t.coef) return t.coef;
  return makeCoef(Math.abs(t.stepCoef.num), t.stepCoef.syms.filter((s) => !isLearningRateName(decayKnobKey(s.name))));
}

const paramKey = (t: RegGradientTerm): string | undefined => (t.param ? exprKey(baseExpr(t.param.base)) : undefined);

function twice(facts: Facts, shape: FileShape): DoubleDecay[] {
  const fw = frameworkFacts(facts);
  const displaySpan = (t: RegGradientTerm): Span => {
    // A coefficient read through a variable defined elsewhere (`lr = group["lr"]`): show the statement that applies it.
    if (!within(t.span, t.site.span) && t.site.at !== Infinity) return trimSpan(facts, t.site.span);
    let best = t.span;
    for (const h of fw.handDecays) if (within(t.span, h.span) && h.span.end - h.span.start > best.end - best.start) best = h.span;
    // `w.assign(w.mul(1 - lr * wd)…)`: the term is the `lr * wd` beside the 1; the step says what it does.
    if (best === t.span && t.param && !within(t.param.expr.span, t.span) && t.site.at !== Infinity) return trimSpan(facts, t.site.span);
    return best;
  };
  const terms = regGradientTerms(facts).filter((t) => t.kind === 'linear' && !t.foreign && t.param && paramKey(t) !== undefined);
  // Terms that land in an update of their own parameter: group key → applications by span.
  const groups = new Map<string, Map<string, DecayApplication>>();
  const groupOf = (site: UpdateSite, key: string, at: number): string => {
    const fn = shape.fnAt(at);
    if (site.at === Infinity) return `site ${spanKey(site.span)}`; // a returned or mapped update is one step by itself
    return `${fn} ${loopAt(shape, at, fn)} ${key}`;
  };
  const add = (group: string, partial: Omit<DecayApplication, 'strength'>): void => {
    const app: DecayApplication = { ...partial, strength: strengthOf(partial.term) };
    let apps = groups.get(group);
    if (!apps) groups.set(group, (apps = new Map()));
    const k = spanKey(app.via ? app.at : app.term.span);
    const had = apps.get(k);
    if (!had || (had.kind === 'step' && app.kind === 'gradient')) apps.set(k, app);
  };
  const autodiff = trainingFacts(facts).autodiffContext();
  const gradientTerms = new Map<string, RegGradientTerm>();
  for (const t of terms) if (t.site.kind !== 'update' && t.coef && t.coef.num > 0) gradientTerms.set(spanKey(t.span), t);
  const landed = new Set<string>();
  // Groups of a parameter the step writes through an alias of its storage: that storage is a parameter by data flow.
  const stepsThroughAlias = new Set<string>();
  for (const t of terms) {
    if (t.site.kind !== 'update' || t.stepCoef.num >= 0) continue;
    const written = paramKey(t)!;
    if (exprKey(baseExpr(t.site.target)) !== written || !facts.analyzer.isParam(baseExpr(t.site.target))) continue;
    const storage = storageOf(facts, t.site);
    const key = (storage && exprKey(storage)) ?? written;
    const group = groupOf(t.site, key, t.site.span.start);
    if (storage) stepsThroughAlias.add(group);
    // A gradient's term expanded into the step: it is the gradient's decay, written where the gradient is.
    const g = gradientTerms.get(spanKey(t.span));
    if (g) landed.add(spanKey(t.span));
    add(group, g ? { span: displaySpan(g), kind: 'gradient', into: g.site.target, at: g.site.span, term: g, storage, landed: t.stepCoef } : { span: displaySpan(t), kind: 'step', into: t.site.target, at: t.site.span, term: t, storage });
  }
  // Gradients that reach the step through statements the analyzer does not expand (optimizer state, in-place calls).
  for (const [k, g] of gradientTerms) {
    if (landed.has(k)) continue;
    const key = paramKey(g)!;
    const fn = shape.fnAt(g.site.span.start);
    const reached = feeds(shape, g.site, key, fn, autodiff);
    if (!reached) continue;
    add(`${fn} ${loopAt(shape, reached.span.start, fn)} ${key}`, { span: displaySpan(g), kind: 'gradient', into: g.site.target, at: g.site.span, term: g });
  }
  // Parameters handed to a method of the same object that decays them.
  for (const { group, app } of delegatedDecays(facts, shape, stepsThroughAlias)) add(group, app);
  // Each term's knobs once: a group of n applications compares up to n² pairs.
  const knobMemo = new Map<RegGradientTerm, Knobs>();
  const knobsOf = (a: DecayApplication): Knobs => {
    if (a.via) return a.via.knobs;
    let k = knobMemo.get(a.term);
    if (!k) knobMemo.set(a.term, (k = knobs(facts, a.term)));
    return k;
  };
  const arrivals = new Map<DecayApplication, Clause[]>();
  const arrivalOf = (a: DecayApplication): Clause[] => {
    let c = arrivals.get(a);
    if (!c) arrivals.set(a, (c = arrival(shape, a, autodiff)));
    return c;
  };
  const found: DoubleDecay[] = [];
  for (const apps of groups.values()) {
    if (apps.size < 2) continue;
    const list = [...apps.values()].sort((a, b) => a.at.start - b.at.start || a.term.span.start - b.term.span.start);
    let pair: [DecayApplication, DecayApplication] | undefined;
    for (let j = 1; j < list.length && !pair; j++) {
      for (let i = 0; i < j && !pair; i++) {
        const a = list[i];
        const b = list[j];
        if (a.span.start === b.span.start || within(a.span, b.span) || within(b.span, a.span)) continue;
        // Where each decay is written counts as much as where it is applied: `if decoupled: upd = upd + wd * p`
        // and `if not decoupled: grad = grad + wd * p` are alternatives even when one step applies both.
        if (!sameKnob(knobsOf, a, b) || !together(shape, a.at, b.at) || !together(shape, writtenAt(a), writtenAt(b))) continue;
        if ((a.via || b.via) && !delegatedTogether(facts, shape, a, b, knobsOf)) continue;
        // Two decayed directions of which an `if`/`else` sends one into the step: each reaches the update on its own path.
        if (exclusivePaths(arrivalOf(a), arrivalOf(b))) continue;
        if (averagedDecays(list, a, b)) continue;
        pair = [a, b];
      }
    }
    if (pair) found.push({ param: paramAsWritten(pair[1].via && !pair[0].via ? pair[0] : pair[1]), first: pair[0], second: pair[1] });
  }
  return found.sort((a, b) => a.second.span.start - b.second.span.start);
}

/**
 * Are `a` and `b` two decayed gradients the step averages (`W - lr * (g1 + g2 + g3 + g4) / 4`, each gᵢ = ∇Lᵢ + wd·W)?
 * Every gradient's decay landed in the step, over its strength, is the same rate (a symbol: the learning rate) times a
 * weight, and the weights of all the group's decayed gradients sum to at most 1: W shrinks by lr·wd·W once, as the
 * knob says. Summed without weights (`lr * (g1 + g2)`) they still decay it twice.
 */
function averagedDecays(list: DecayApplication[], a: DecayApplication, b: DecayApplication): boolean {
  if (a.kind !== 'gradient' || b.kind !== 'gradient' || !a.landed || !b.landed || a.via || b.via) return false;
  if (exprKey(a.into) === undefined || exprKey(a.into) === exprKey(b.into)) return false;
  const rate = (x: DecayApplication): Coef | undefined => (x.kind === 'gradient' && x.landed && !x.via ? div(x.landed, x.strength) : undefined);
  const first = rate(a)!;
  if (first.syms.length === 0) return false;
  let total = 0;
  const intos = new Set<string>();
  for (const x of list) {
    const r = rate(x);
    if (!r) continue;
    const into = exprKey(x.into);
    if (into === undefined || intos.has(into) || !sameSymbols(r, first)) return false;
    intos.add(into);
    total += Math.abs(r.num);
  }
  return total <= 1 + 1e-9;
}

/**
 * Does the gradient `site.target` reach a step of the parameter `key` later in the same function?
 * Followed through the statements that read it: what they write is read in turn
 * (`exp_avg.mul_(b1).add_(grad)` → `p.addcdiv_(exp_avg, …)`). The statement that writes the parameter.
 */
function feeds(shape: FileShape, site: UpdateSite, key: string, fn: number, autodiff: AutodiffContext): Stmt | undefined {
  const start = exprKey(site.target);
  return start === undefined ? undefined : flow(shape, [start], site.span, key, fn, autodiff, false)?.stmt;
}

/**
 * The value `start` has after the statement `from`, followed forward in its function to the
 * statement that writes the parameter `key`, with the `if` branches it passes through on every way
 * there (`guards`: the branches each way shares; for the first way only, when `allWays` is false).
 * A value written in a branch carries that branch to what reads it: `lookahead = precond_dir` under
 * `if warm:` reaches the step only when `warm` holds.
 */
function flow(shape: FileShape, start: string[], from: Span, key: string, fn: number, autodiff: AutodiffContext, allWays: boolean): { stmt: Stmt; guards: Clause[] } | undefined {
  // Each reached key, with the branches every write of it so far is under.
  const reached = new Map<string, Clause[]>(start.map((k) => [k, guardsOf(shape, from)]));
  const list = shape.simplesOf.get(fn) ?? [];
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].span.start < from.end) lo = mid + 1;
    else hi = mid;
  }
  let first: Stmt | undefined;
  let arrived: Clause[] | undefined;
  const reach = (k: string, guards: Clause[]): void => {
    const had = reached.get(k);
    reached.set(k, had ? had.filter((c) => guards.includes(c)) : guards);
  };
  // Bounded: a gradient read back hundreds of statements later is not this step's.
  for (let i = lo; i < list.length && i < lo + 400; i++) {
    const stmt = list[i];
    const { reads, writes } = readsWrites(stmt, autodiff);
    const pick = stmt.kind === 'assign' ? conditionalArms(stmt.value) : undefined;
    let via: Clause[] | undefined;
    for (const r of reads) {
      const reachedUnder = reached.get(r);
      if (!reachedUnder) continue;
      // `move = a_dir if warm else b_dir`: what one arm alone reads reaches the target only under its condition.
      const arm = pick?.find((p) => p.keys.has(r) && !pick.some((o) => o !== p && o.keys.has(r)));
      const g = arm ? [...reachedUnder, arm.clause] : reachedUnder;
      via = via ? via.filter((c) => g.includes(c)) : g;
    }
    if (!via) continue;
    const here = guardsOf(shape, stmt.span);
    const guards = [...via, ...here.filter((c) => !via!.includes(c))];
    for (const w of writes) {
      const base = exprKey(baseExpr(w));
      if (base === key) {
        first ??= stmt;
        arrived = arrived ? arrived.filter((c) => guards.includes(c)) : guards;
        if (!allWays) return { stmt, guards };
        continue;
      }
      const k = exprKey(w);
      if (k !== undefined) reach(k, guards);
      if (base !== undefined) reach(base, guards);
    }
  }
  return first && arrived ? { stmt: first, guards: arrived } : undefined;
}

/** `x if c else y` (`c ? x : y`): the keys each arm reads (the condition's count as both arms'), each arm a branch of a chain of its own. */
function conditionalArms(e: Expr): { keys: Set<string>; clause: Clause }[] | undefined {
  if (e.kind !== 'cond') return undefined;
  const keysOf = (x: Expr): Set<string> => {
    const keys = new Set<string>();
    someExpr(x, (y) => {
      const k = exprKey(y);
      if (k !== undefined) keys.add(k);
      return false;
    });
    return keys;
  };
  const test = keysOf(e.test);
  const chain = -1 - e.span.start; // apart from the numbers of the `if` chains
  return [e.then, e.else].map((arm, clause) => {
    const keys = keysOf(arm);
    for (const k of test) keys.delete(k);
    return { keys, clause: { chain, clause, region: arm.span, heads: [e.test], exit: undefined, chainEnd: e.span.end } };
  });
}

/** The branches a decay passes through on every way into its parameter's update: where a step's own decay is written, or where a decayed gradient's value goes. */
function arrival(shape: FileShape, a: DecayApplication, autodiff: AutodiffContext): Clause[] {
  const key = a.term.param ? exprKey(baseExpr(a.term.param.base)) : undefined;
  const into = exprKey(a.into);
  if (a.kind === 'gradient' && !a.via && key !== undefined && into !== undefined) {
    const fn = shape.fnAt(a.at.start);
    const reached = flow(shape, [into, ...aliasesDecayedInPlace(shape, a, fn)], a.at, key, fn, autodiff, true);
    if (reached) return reached.guards;
  }
  return guardsOf(shape, a.at);
}

/**
 * A decay written in place (`d.add_(p, alpha=wd)`, `d += wd * p`) into a name that an earlier plain
 * assignment made an alias of another tensor (`d = grad`, `d = grad.detach()`, catalogue.ts) lands in that tensor
 * too: what reads `grad` afterwards reads the decay.
 */
function aliasesDecayedInPlace(shape: FileShape, a: DecayApplication, fn: number): string[] {
  if (a.into.kind !== 'name') return [];
  const stmt = shape.simplesOf.get(fn)?.find((s) => s.span.start === a.at.start);
  if (!stmt || !(stmt.kind === 'expr' || (stmt.kind === 'assign' && stmt.op !== undefined))) return [];
  const out: string[] = [];
  for (const b of a.term.site.scope.allBindings(a.into.name)) {
    if (b.kind !== 'assign' || b.op || !b.value || b.at >= a.at.start || shape.fnAt(b.at) !== fn) continue;
    let v = b.value;
    if (v.kind === 'call' && v.callee.kind === 'attr' && STORAGE_SHARING_METHODS.has(v.callee.name)) v = v.callee.object;
    const k = v.kind === 'name' || v.kind === 'attr' ? exprKey(v) : undefined;
    if (k !== undefined && k !== a.into.name) out.push(k);
  }
  return out;
}

/** Do the two ways into the update lie in two branches of one `if` chain, so that no step takes both? */
function exclusivePaths(a: Clause[], b: Clause[]): boolean {
  return a.some((x) => b.some((y) => x.chain === y.chain && x.clause !== y.clause));
}

/**
 * The keys a statement reads, and what it writes (assignment targets, the receiver of an in-place
 * call chain). A differentiation (`query.backward(grad_query)`, a hand-written autograd's backward
 * pass) hands a gradient on to the tensor's `.grad` and changes no value: it writes nothing.
 */
function readsWrites(stmt: Stmt, autodiff: AutodiffContext): { reads: string[]; writes: Expr[] } {
  const reads: string[] = [];
  const collect = (e: Expr): void => {
    someExpr(e, (x) => {
      const k = exprKey(x);
      if (k !== undefined) reads.push(k);
      return false;
    });
  };
  const writes: Expr[] = [];
  if (stmt.kind === 'assign') {
    collect(stmt.value);
    for (const t of stmt.targets) {
      if (t.kind === 'seq') writes.push(...t.items);
      else writes.push(t);
    }
  } else if (stmt.kind === 'expr') {
    collect(stmt.expr);
    if (stmt.expr.kind === 'call' && autodiffCall(stmt.expr, autodiff)) return { reads, writes };
    let e: Expr = stmt.expr;
    while (e.kind === 'call' && e.callee.kind === 'attr') e = e.callee.object;
    if (e !== stmt.expr && exprKey(e) !== undefined) writes.push(e);
    const fe = stmt.expr.kind === 'call' ? foreachInPlace(stmt.expr) : undefined;
    if (fe) writes.push(fe.list);
  }
  return { reads, writes };
}

// ------------------------------------------------------------------ through a method of the same object

/** Where a decay is written, as the step sees it: the call for one a method applies. */
const writtenAt = (a: DecayApplication): Span => (a.via ? a.at : a.term.span);

/**
 * `self._shrink(p, lr)` written as a statement of a step, where `_shrink` (the class's own method or
 * a base class's, in any file) steps the parameter it is handed by c·param: one decay of `p`, at the
 * call, with the method's parameters read as the call's arguments.
 */
function delegatedDecays(facts: Facts, shape: FileShape, stepsThroughAlias: ReadonlySet<string>): { group: string; app: DecayApplication }[] {
  const found: { group: string; app: DecayApplication }[] = [];
  const index = programIndex(facts);
  for (const { stmt, fn } of shape.simples) {
    if (stmt.kind !== 'expr' || stmt.expr.kind !== 'call') continue;
    const call = stmt.expr;
    if (call.callee.kind !== 'attr' || call.callee.object.kind !== 'name' || !isSelfName(call.callee.object.name)) continue;
    const at = stmt.span.start;
    const scope = index.scopeAt(at);
    const target = resolveCall(facts.program, call, scope, at);
    if (!target || target.constructs || !target.receiver || !target.fn.isMethod || target.fn.span.start === fn) continue;
    const method = target.fn;
    const other = facts.program.factsAt(method.span);
    if (!other) continue;
    const env = facts.analyzer.argumentEnv(call, target, scope, at, undefined);
    const otherIndex = programIndex(other);
    for (const t of regGradientTerms(other)) {
      if (t.kind !== 'linear' || t.foreign || !t.param || t.site.kind !== 'update' || t.stepCoef.num >= 0 || t.site.at === Infinity) continue;
      if (!within(t.site.span, method.span) || otherIndex.enclosingFunction(t.site.scope) !== method) continue;
      // The parameter the method is handed (or a field of it), stepped by a multiple of itself: `param.data -= lr * wd * param.data`.
      const stepped = baseExpr(t.site.target);
      if (paramKey(t) !== exprKey(stepped)) continue;
      const param = handed(stepped, env, 0);
      const key = param && exprKey(param);
      const group = `${fn} ${loopAt(shape, at, fn)} ${key}`;
      if (!param || key === undefined || !(facts.analyzer.isParam(param) || stepsThroughAlias.has(group))) continue;
      const decayKnobs = methodKnobs(other, t, env);
      const { runsIf, bailsIf } = methodConditions(method, t.site.span);
      const onItsOwn = (h: Expr): boolean => !knobOnly(other, h, t.site.scope, t.site.at, decayKnobs.keys, env);
      const via: Delegated = { method: method.name, decay: trimSpan(other, t.site.span), knobs: decayKnobs, runsIf: runsIf.filter(onItsOwn), bailsIf: bailsIf.filter(onItsOwn) };
      const app: DecayApplication = { span: call.span, kind: 'step', into: env.get(rootName(stepped) ?? '')?.expr ?? call, at: stmt.span, term: t, strength: strengthOf(t), via };
      found.push({ group, app });
    }
  }
  return found;
}

/**
 * The parameter's storage a step writes through an alias: `data -= lr * step` after `data = param.data`
 * writes param.data, since Python's augmented assignment changes an array in place (followed back
 * through earlier in-place steps of the same name to the assignment that made the alias).
 * Undefined for any other step: it writes its own target (`data = data - lr * step` only rebinds the local).
 */
function storageOf(facts: Facts, site: UpdateSite): Expr | undefined {
  const target = site.target;
  if (facts.language !== 'python' || target.kind !== 'name' || site.at === Infinity) return undefined;
  const own = site.scope.allBindings(target.name).find((b) => b.kind === 'assign' && b.op !== undefined && within(b.span, site.span));
  if (!own) return undefined;
  let b: Binding | undefined = site.scope.lookup(target.name, own.at);
  for (let hops = 0; b && b.kind === 'assign' && b.op !== undefined && hops < 50; hops++) b = b.scope.lookup(target.name, b.at);
  if (!b || b.kind !== 'assign' || b.op !== undefined || !b.value || (b.value.kind !== 'attr' && b.value.kind !== 'index')) return undefined;
  // The alias is stepped, so what it aliases is (the caller checks that the step's target is a parameter).
  const storage = baseExpr(b.value);
  return exprKey(storage) !== undefined ? storage : undefined;
}

/** The parameter as an application writes it (for one a method applies, the argument handed to it). */
function paramAsWritten(a: DecayApplication): Expr {
  if (a.storage) return a.storage;
  return a.kind === 'step' ? a.into : a.term.param!.base;
}

function rootName(e: Expr): string | undefined {
  let x = e;
  for (let i = 0; i < 20 && (x.kind === 'attr' || x.kind === 'index'); i++) x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/** A method's parameter, or a field of it (`tensor.values`), as the caller's expression: the argument in its place. */
function handed(e: Expr, env: Env, depth: number): Expr | undefined {
  if (depth > 20) return undefined;
  if (e.kind === 'name') {
    const arg = env.get(e.name)?.expr;
    return arg && baseExpr(arg);
  }
  if (e.kind !== 'attr') return undefined;
  const object = handed(e.object, env, depth + 1);
  return object && baseExpr({ ...e, object });
}

/** The knobs a symbol stands for: a method parameter as its argument, a local as each value assigned to it (`wd = param.weight_decay` … `wd = self.weight_decay`). */
function symbolKnobs(facts: Facts, name: string, scope: Scope, at: number, env: Env | undefined, into: Set<string>): void {
  const bound = env?.get(name);
  if (bound) {
    const p = facts.analyzer.classify(bound.expr, bound.scope, bound.at);
    if (p.tensor || p.penalty || p.params.length > 0) return;
    const callerFacts = facts.program.factsAt(bound.expr.span);
    if (!callerFacts) return;
    for (const k of knobKeys(canonicalCoef(callerFacts, p.coef, bound.scope, bound.at))) into.add(k);
    return;
  }
  const b = /^[A-Za-z_$][\w$]*$/.test(name) ? scope.lookup(name, at) : undefined;
  const all = b?.kind === 'assign' ? b.scope.allBindings(name) : [];
  if (all.length <= 1) {
    for (const k of knobKeys(canonicalCoef(facts, makeCoef(1, [{ name, pow: 1 }]), scope, at))) into.add(k);
    return;
  }
  for (const x of all) {
    if (x.kind !== 'assign' || !x.value || x.op || x.at >= at) continue;
    const p = facts.analyzer.classify(x.value, x.scope, x.at);
    if (p.tensor || p.penalty || p.params.length > 0) continue;
    for (const k of knobKeys(canonicalCoef(facts, p.coef, x.scope, x.at))) into.add(k);
  }
}

function knobKeys(c: Coef): string[] {
  return c.syms.filter((s) => s.pow > 0 && !isLearningRateName(decayKnobKey(s.name))).map((s) => decayKnobKey(s.name));
}

function methodKnobs(facts: Facts, t: RegGradientTerm, env: Env): Knobs {
  const c = t.coef ?? t.stepCoef;
  const keys = new Set<string>();
  for (const s of c.syms) if (s.pow > 0) symbolKnobs(facts, s.name, t.site.scope, t.site.at, env, keys);
  return { keys, num: Math.abs(c.num) };
}

/**
 * The conditions inside a method under which a statement runs: the heads of the `if`s around it
 * (and, in an `elif` or `else`, the earlier heads, which must not hold), and the heads of `if`s
 * before it whose branch returns.
 */
function methodConditions(method: FunctionDef, at: Span): { runsIf: Expr[]; bailsIf: Expr[] } {
  const runsIf: Expr[] = [];
  const bailsIf: Expr[] = [];
  const visit = (list: Stmt[], depth: number): void => {
    if (depth > 50) return;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.kind === 'block' && s.label === 'if' && s.heads.length > 0) {
        const members = ifChainAt(list, i);
        i += members.length - 1;
        members.forEach((m, clause) => {
          // A branch before the statement that ends its path (`return`, `raise`, or `continue`/`break` in the loop around both).
          if (m.span.end <= at.start && branchExit(m)) bailsIf.push(...m.heads);
          if (m.body.length === 0 || !within(at, { start: m.body[0].span.start, end: m.body[m.body.length - 1].span.end })) return;
          runsIf.push(...m.heads);
          for (const earlier of members.slice(0, clause)) bailsIf.push(...earlier.heads);
          visit(m.body, depth + 1);
        });
        continue;
      }
      if ((s.kind === 'block' || s.kind === 'for') && within(at, s.span)) visit(s.body, depth + 1);
    }
  };
  visit(method.body, 0);
  return { runsIf, bailsIf };
}

/** Does a condition read the decay's knob and nothing else (`wd == 0.0`, `self.weight_decay > 0`)? A guard on the knob, not a condition of its own. */
function knobOnly(facts: Facts, head: Expr, scope: Scope, at: number, decayKeys: Set<string>, env: Env | undefined): boolean {
  const leaves: string[] = [];
  let opaque = false;
  const visit = (e: Expr, depth: number): void => {
    if (depth > 50) return void (opaque = true);
    if (e.kind === 'num' || e.kind === 'str') return;
    if (e.kind === 'name' && (EMPTY_ARGUMENT_NAMES.has(e.name) || e.name === 'True')) return;
    const named = e.kind === 'call' ? attributeReadByName(e) : undefined;
    const key = named ? exprKey({ kind: 'attr', object: named.object, name: named.name, span: e.span }) : exprKey(e);
    if (key !== undefined) return void leaves.push(key);
    if (e.kind === 'call' || e.kind === 'lambda' || e.kind === 'comprehension') return void (opaque = true);
    forEachChild(e, (c) => visit(c, depth + 1));
  };
  visit(head, 0);
  if (opaque || leaves.length === 0 || decayKeys.size === 0) return false;
  return leaves.every((name) => {
    const keys = new Set<string>();
    symbolKnobs(facts, name, scope, at, env, keys);
    if (keys.size === 0) keys.add(decayKnobKey(name));
    return [...keys].every((k) => decayKeys.has(k));
  });
}

/**
 * Can a decay a method applies run with another decay of the step? The step's side (branches,
 * conditions around the call) is `together`'s; here the method's own conditions: a method that
 * returns when the other decay's condition holds (`if not self.decoupled: return` against
 * `if not self.decoupled: g += wd * p`), a condition that excludes the other's, or both decays
 * under conditions of their own (alternatives, as in one step). Guards on the knob alone count
 * as none: `if wd == 0.0: return` lets the decay run whenever the other one does.
 */
function delegatedTogether(facts: Facts, shape: FileShape, a: DecayApplication, b: DecayApplication, knobsOf: (x: DecayApplication) => Knobs): boolean {
  if (a.via && b.via) {
    // The same method called twice decays twice; two methods with conditions of their own are taken as alternatives.
    if (spanKey(a.via.decay) === spanKey(b.via.decay)) return true;
    return [a.via, b.via].every((v) => v.runsIf.length === 0 && v.bailsIf.length === 0);
  }
  const [d, x] = a.via ? [a, b] : [b, a];
  const via = d.via!;
  // The other decay's own conditions in the step: the `if`s around it that are not around the call too, the knob's guards aside.
  const callGuards = new Set(guardsOf(shape, d.at));
  const index = programIndex(facts);
  const xKnobs = knobsOf(x).keys;
  const heads: Expr[] = [];
  for (const c of [...guardsOf(shape, x.term.span), ...guardsOf(shape, x.at)]) {
    if (callGuards.has(c)) continue;
    for (const h of c.heads) if (!heads.includes(h) && !knobOnly(facts, h, index.scopeAt(h.span.start), h.span.start, xKnobs, undefined)) heads.push(h);
  }
  if (heads.length === 0) return true;
  if (via.runsIf.length === 0 && via.bailsIf.length === 0) return true;
  // The other decay's condition makes the method return before its decay.
  const bailing = (c: Expr): boolean => via.bailsIf.some((bail) => sameExpr(c, bail) || disjuncts(bail, 0).some((part) => sameExpr(c, part)));
  if (heads.some((h) => conjuncts(h, 0).some(bailing))) return false;
  if (heads.some((h) => via.runsIf.some((r) => excludes([h], [r])))) return false;
  // The other decay's condition keeps the method from returning and meets its own: `if self.decoupled: return` against `if not self.decoupled: g += wd * p`.
  const parts = heads.flatMap((h) => conjuncts(h, 0));
  if (via.bailsIf.every((bail) => parts.some((c) => negates(c, bail))) && via.runsIf.every((r) => parts.some((c) => sameExpr(c, r)))) return true;
  // Both under conditions of their own: alternatives unless the conditions are the same.
  return via.bailsIf.length === 0 && heads.every((h) => via.runsIf.some((r) => sameExpr(h, r))) && via.runsIf.every((r) => heads.some((h) => sameExpr(h, r)));
}

function disjuncts(e: Expr, depth: number): Expr[] {
  if (depth < 50 && e.kind === 'other' && e.ops && e.ops.length > 0 && e.ops.every((o) => o === 'or')) return e.children.flatMap((c) => disjuncts(c, depth + 1));
  return [e];
}

// ------------------------------------------------------------------ once per parameter group

function perGroup(facts: Facts, shape: FileShape): PerGroupDecay[] {
  const found: PerGroupDecay[] = [];
  const index = programIndex(facts);
  const decays: { span: Span; list: Expr; at: number }[] = [];
  // `torch._foreach_mul_(params, 1 - lr * wd)`, `torch._foreach_add_(params, params, alpha=-lr * wd)`.
  for (const { stmt } of shape.simples) {
    if (stmt.kind !== 'expr' || stmt.expr.kind !== 'call') continue;
    const fe = foreachInPlace(stmt.expr);
    if (!fe) continue;
    const shrinks =
      fe.op === '*' ? fe.operand.kind === 'binary' && fe.operand.op === '-' && numberOf(fe.operand.left) === 1 : fe.other !== undefined && exprKey(fe.other) !== undefined && exprKey(fe.other) === exprKey(fe.list);
    if (shrinks) decays.push({ span: stmt.span, list: fe.list, at: stmt.span.start });
  }
  // `for p in all_params: p.mul_(1 - lr * wd)` nested in the loop over groups: the inner loop's collection.
  for (const h of frameworkFacts(facts).handDecays) {
    if (h.kind !== 'decoupled' || h.target.kind === 'index') continue;
    const target = baseExpr(h.target);
    if (target.kind !== 'name') continue;
    const b = h.ctx.scope.lookup(target.name, h.span.start);
    if (!b?.loop) continue;
    const loop = shape.loops.find((l) => l.kind === 'for' && l.iter === b.loop!.iter);
    if (loop && loop.kind === 'for') decays.push({ span: h.span, list: loop.iter, at: loop.span.start });
  }
  // The widest first: `p.mul_(1 - lr * wd)` rather than its `lr * wd`.
  decays.sort((a, b) => b.span.end - b.span.start - (a.span.end - a.span.start));
  const taken: Span[] = [];
  for (const d of decays) {
    if (taken.some((t) => within(d.span, t))) continue;
    const fn = shape.fnAt(d.span.start);
    for (const loop of shape.loops) {
      if (loop.kind !== 'for' || !within(d.span, loop.span) || shape.fnAt(loop.span.start) !== fn || loop.span.start >= d.at) continue;
      const collection = exprKey(loop.iter);
      if (collection === undefined) continue;
      const names = namesOf(loop.target, new Set());
      // `if i == 0:`, `if p in group_params:` inside the loop: the decay runs for one group, or for its own parameters.
      const guards = guardsOf(shape, d.span).filter((c) => within(c.region, loop.span));
      const scope = index.scopeAt(d.span.start);
      const perIteration = (name: string): boolean => {
        if (names.has(name)) return true;
        const b = scope.lookup(name, d.span.start);
        if (!b || b.loop?.iter === d.list) return false; // the decayed parameter itself: `if p.grad is not None:`
        return b.at >= loop.span.start && b.at < loop.span.end; // `members = set(group["params"])` in the loop
      };
      if (guards.some((c) => c.heads.some((h) => someExpr(h, (x) => x.kind === 'name' && perIteration(x.name))))) continue;
      const built = allOf(d.list, collection, names, scope, d.at, loop.span.start, 0);
      if (!built) continue;
      taken.push(d.span);
      found.push({ span: d.span, params: d.list, loop, built });
      break;
    }
  }
  return found.sort((a, b) => a.span.start - b.span.start);
}

/**
 * Is `e` a list of every element of every member of `collection` (`[p for g in self.param_groups for p in g["params"]]`),
 * built without the loop's own variables, before the loop? Followed through one assignment.
 */
function allOf(e: Expr, collection: string, loopNames: Set<string>, scope: Scope, at: number, loopStart: number, depth: number): Span | undefined {
  if (depth > 3) return undefined;
  if (e.kind === 'name') {
    const b = scope.lookup(e.name, at);
    if (b?.kind !== 'assign' || !b.value || b.op || b.at >= loopStart || b.scope.allBindings(e.name).length !== 1) return undefined;
    return allOf(b.value, collection, loopNames, b.scope, b.at, loopStart, depth + 1);
  }
  if (e.kind === 'call' && e.callee.kind === 'name' && e.args.length === 1 && e.kwargs.length === 0) return allOf(e.args[0], collection, loopNames, scope, at, loopStart, depth + 1);
  if (e.kind !== 'comprehension' || e.generators.length < 2) return undefined;
  // Built without the loop's own variables (a name the comprehension binds itself is its own).
  const own = new Set<string>();
  for (const g of e.generators) namesOf(g.target, own);
  if (someExpr(e, (x) => x.kind === 'name' && loopNames.has(x.name) && !own.has(x.name))) return undefined;
  const first = e.generators[0];
  if (exprKey(first.iter) !== collection) return undefined;
  // The next generator walks a member of each group: `for p in g["params"]` with g the first generator's variable.
  const groupVars = namesOf(first.target, new Set());
  if (!someExpr(e.generators[1].iter, (x) => x.kind === 'name' && groupVars.has(x.name))) return undefined;
  return e.span;
}


function namesOf(target: Expr, into: Set<string>): Set<string> {
  someExpr(target, (x) => {
    if (x.kind === 'name') into.add(x.name);
    return false;
  });
  return into;
}
