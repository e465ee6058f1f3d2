// One optimizer moment shared by several weights one call away (NB403): a helper keeps its moving
// average on an object it is handed (`unit.m = b1 * unit.m + (1 - b1) * g`, `this.m` in a method or
// in a function run with `.call(this, …)`), and a loop calls it once per weight, handing the same
// object every time. Each weight's step then reads a moment that mixes the other weights' gradients.
// Decided by data flow at the call: the object the moment lives on is the same place on every
// iteration (no loop variable picks it, the loop does not bind it), the moment is not indexed at all,
// while the weight the helper updates and the gradient its average adds are picked by the loop's
// variable. Per-weight state (`unit.m[i]`, `state[p]`), one object per iteration (`for n of
// neurons`, `new Unit()` in the loop) and a loop that repeats the step on one weight (a training
// loop over batches) stay silent.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { programIndex } from './program';
import { exprKey } from './keys';
import { callArguments, isSelfName, resolveCall } from './resolve';
import { explicitParams, namesIn, someExpr } from './scope';
import { loopsAround, pickedBy } from './stepCountLoops';
import { within } from './loops';
import { mentions } from '../../math/poly';
import { optimizerSteps, type OptimizerStep, type StateUpdate } from './optimizerSteps';
import { innermostStatement } from './adaptiveDecay';

export interface SharedMomentCall {
  /** The call in the loop. */
  call: Span;
  /** The helper's name as written at the call. */
  helper: string;
  /** The moments the helper averages on the handed object: the state as written there and its update. */
  moments: { text: string; span: Span }[];
  /** The object handed every iteration, as written at the call (`this`, `self`, `unit`). */
  handed: string;
  /** The moments live on the instance the helper runs on (`this.m` in a method, or with `.call(this, …)`). */
  onInstance: boolean;
  /** The loop that walks the weights: its variable(s), as written. */
  loopVars: string;
  /** Where the helper is, when it is in another file: `line 4 of netmath.js`. */
  elsewhere?: string;
}

const cache = new WeakMap<Facts, SharedMomentCall[]>();

export function sharedMomentCalls(facts: Facts): SharedMomentCall[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

type Loop = Stmt & { kind: 'for' };

function collect(facts: Facts): SharedMomentCall[] {
  const program = facts.program;
  const entry = program.parsedOf(facts.scopes.root.span);
  if (!entry) return [];
  const index = programIndex(facts);
  const out: SharedMomentCall[] = [];
  const source = (s: Span): string => facts.source(s);
  for (const site of index.calls) {
    // The function the call is in, or the module's own statements (a script's loop).
    const caller = index.enclosingFunction(site.scope);
    if (!caller && site.scope.kind !== 'module') continue;
    const target = resolveCall(program, site.call, site.scope, site.at);
    if (!target || target.constructs) continue;
    const fn = target.fn;
    // A call inside the helper itself (recursion) is no caller's loop.
    if (within(site.call.span, fn.span)) continue;
    const parsed = program.parsedOf(fn.span);
    if (!parsed) continue;
    const helperFacts = parsed === entry ? facts : program.facts(parsed);
    const steps = optimizerSteps(helperFacts).filter((s) => s.fn.span.start === fn.span.start && s.fn.span.end === fn.span.end);
    if (steps.length === 0) continue;
    // Only now the loops around the call: a walk of the caller's body, once per call of an optimizer step
    // (done for every call, it made a function of 40,000 calls quadratic).
    const body = caller ? caller.body : facts.module.body;
    const loops = (loopsAround(body, site.call.span) ?? []).filter((l): l is Loop => l.kind === 'for');
    if (loops.length === 0) continue;
    const params = explicitParams(fn);
    const args = callArguments(site.call, target);
    // `f(*xs)`, `f(...xs)`: which parameter takes which argument is unknown.
    if (params.some((p) => p.rest) || args.some((a) => a.kind === 'other' && a.spread !== undefined)) continue;
    // The caller's expression a helper parameter takes, or undefined (left to its default, unknown).
    const argumentOf = (name: string): Expr | undefined => {
      if (isSelfName(name)) return target.receiver;
      const at = params.findIndex((p) => p.name === name);
      if (at < 0) return undefined;
      return site.call.kwargs.find((k) => k.name === name)?.value ?? args[at];
    };
    const isParam = (name: string): boolean => params.some((p) => p.name === name);
    for (const loop of loops) {
      const vars = namesIn(loop.target);
      if (vars.length === 0) continue;
      const picks = (e: Expr | undefined): boolean => e !== undefined && [...pickedBy(body, e, [], source)].some((n) => vars.includes(n));
      const moments: { text: string; span: Span; handed: Expr; holder: string }[] = [];
      for (const step of steps)
        for (const s of step.states.values()) {
          const m = sharedMoment(helperFacts, step, s, isParam);
          if (!m) continue;
          const handed = argumentOf(m.holder);
          if (!handed || !invariantIn(body, loop, handed, vars, source)) continue;
          // The weight the helper updates and the gradient the average adds differ per iteration: the loop picks them.
          if (!m.weights.some((w) => picks(argumentOf(w))) || !m.adds.some((g) => picks(argumentOf(g)))) continue;
          if (moments.some((x) => x.span.start === s.eq.spans[0].start)) continue;
          moments.push({ text: facts.source(s.eq.target.span), span: s.eq.spans[0], handed, holder: m.holder });
        }
      if (moments.length === 0) continue;
      moments.sort((a, b) => a.span.start - b.span.start);
      const callee = site.call.callee;
      const name = callee.kind === 'attr' && (callee.name === 'call' || callee.name === 'apply') ? source(callee.object.span) : source(callee.span);
      out.push({
        call: site.call.span,
        helper: name,
        moments: moments.map(({ text, span }) => ({ text, span })),
        handed: source(moments[0].handed.span),
        onInstance: isSelfName(moments[0].holder),
        loopVars: source(loop.target.span),
        ...(parsed === entry ? {} : { elsewhere: `${program.lineLabel(moments[0].span)} of ${parsed.file.path.replace(/^.*\//, '')}` }),
      });
      break;
    }
  }
  return out;
}

/**
 * A moving average the helper keeps on an object it is handed (`unit.m`, `self.m`): its target an
 * attribute path with no index, rooted at a parameter or at `self`/`this`; its update reads a
 * parameter of the helper (the gradient, or an index that picks it), and a parameter update of the
 * helper reads it (an EMA of the weights or of the loss beside the step is not the step's moment).
 */
function sharedMoment(facts: Facts, step: OptimizerStep, s: StateUpdate, isParam: (name: string) => boolean): { holder: string; weights: string[]; adds: string[] } | undefined {
  if (!s.average || s.eq.branched || s.adds.length === 0) return undefined;
  if (!s.eq.spans.every((w) => within(w, step.fn.span))) return undefined;
  let root: Expr = s.eq.target;
  for (let depth = 0; root.kind === 'attr' && depth < 20; depth++) root = root.object;
  if (root === s.eq.target || root.kind !== 'name') return undefined;
  const holder = root.name;
  if (!isSelfName(holder) && !isParam(holder)) return undefined;
  const key = exprKey(s.eq.target);
  if (key === undefined || key.includes('[') || key.includes('?')) return undefined;
  const source = (x: Span): string => facts.source(x);
  const body = step.fn.body;
  // What the average adds, traced through the helper's locals to its parameters.
  const write = innermostStatement(step, s.eq.spans[0]);
  if (write?.kind !== 'assign') return undefined;
  const adds = [...pickedBy(body, write.value, s.eq.spans, source)].filter((n) => n !== holder && isParam(n));
  if (adds.length === 0) return undefined;
  const weights = new Set<string>();
  for (const p of step.params) {
    if (!mentions(p.step, s.eq.key)) continue;
    for (const n of namesIn(p.eq.target)) if (n !== holder && isParam(n)) weights.add(n);
  }
  if (weights.size === 0) return undefined;
  return { holder, weights: [...weights], adds };
}

/**
 * The object handed is the same place on every iteration of the loop: a name or an attribute path
 * (no index, no call) that no loop variable picks and whose root the loop does not bind or assign.
 */
function invariantIn(body: Stmt[], loop: Loop, handed: Expr, vars: string[], source: (s: Span) => string): boolean {
  let root: Expr = handed;
  for (let depth = 0; root.kind === 'attr' && depth < 20; depth++) root = root.object;
  if (root.kind !== 'name') return false;
  if (vars.includes(root.name)) return false;
  if ([...pickedBy(body, handed, [], source)].some((n) => vars.includes(n))) return false;
  return !isSelfName(root.name) ? !boundIn(loop.body, root.name) : true;
}

/** Whether a statement of the loop's body binds the name (an assignment, an inner loop's variable). */
function boundIn(stmts: Stmt[], name: string, depth = 0): boolean {
  if (depth > 60) return true;
  for (const st of stmts) {
    if (st.kind === 'assign' && st.targets.some((t) => someExpr(t, (x) => x.kind === 'name' && x.name === name) && (t.kind === 'name' || t.kind === 'seq'))) return true;
    if (st.kind === 'for' && namesIn(st.target).includes(name)) return true;
    if ((st.kind === 'for' || st.kind === 'block') && boundIn(st.body, name, depth + 1)) return true;
  }
  return false;
}
