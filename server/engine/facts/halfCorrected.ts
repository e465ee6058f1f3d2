// NB401, one moment corrected and the other not: a hand-written Adam step whose update divides a
// bias-corrected first moment by the root of an uncorrected second moment (m̂/√v), or the reverse
// (m/√v̂). Read off the normal form (optimizerSteps.ts): the update's term holds a moving average
// in its numerator and the root of another in its denominator, and 1 − βᵗ of one of their β's but
// none of the other's. Folded step sizes (`lr * sqrt(1 - b2 ** t) / (1 - b1 ** t)`) carry both and
// are not matched; a step with no correction at all (RMSprop with momentum, BERT's AdamW) neither,
// unless the function computes both corrections into values nothing reads (`bothUnused`).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { stmtExprs, subExprs, within } from './loops';
import { statementsOf, stepKeys } from './adaptiveDecay';
import { correctionOf, correctionSite, numericBeta, optimizerSteps, squaredBase, stepTerms, type OptimizerStep, type StateUpdate, type StepTerm } from './optimizerSteps';
import { atomsOf, mentions, near, numeric, sym, type Poly } from '../../math/poly';
import { formatNumber } from '../../math/print/format';
import { walkAll } from './program';
import { isTorchOptimizer } from './decayKnobs';
import { biasCorrected } from './optimizerCorrected';
import { DICT_DEFAULT_METHOD, DICT_GET_METHOD } from './catalogue';
import type { OptimizerFinding } from './optimizerFindings';
import { localNameIn } from './optimizerLocals';

export function halfCorrection(facts: Facts, step: OptimizerStep, push: (f: OptimizerFinding) => void): void {
  for (const p of step.params) {
    const terms = stepTerms(step, p);
    // One first moment: AdEMAMix's slow average beside a corrected one is uncorrected by design.
    const numerators = new Set(terms.flatMap((t) => t.numerator.map((n) => n.key)));
    if (numerators.size !== 1) continue;
    for (const term of terms) {
      const den = term.denominator.find((d) => {
        const s = step.states.get(d.key);
        return d.sqrt && s !== undefined && s.average && s.beta !== undefined && s.adds.some((a) => squaredBase(a.x) !== undefined);
      });
      if (!den) {
        numericMoments(facts, step, p, term, push);
        continue;
      }
      const v = step.states.get(den.key)!;
      const m = term.numerator.map((n) => step.states.get(n.key)).find((s): s is StateUpdate => s !== undefined && s !== v && s.average && s.beta !== undefined && s.beta !== v.beta);
      if (!m) continue;
      const of = (s: StateUpdate) => term.corrections.filter((c) => c.beta === s.beta);
      const [mc, vc] = [of(m), of(v)];
      if (mc.length === 0 && vc.length === 0) {
        if (!bothUnused(facts, step, p, m, v, push)) countNeverRead(facts, step, p, m, v, { m: betaName(facts, step, m), v: betaName(facts, step, v) }, push);
        continue;
      }
      if (mc.length > 0 === vc.length > 0) continue;
      const [done, missing, doneCorrections] = mc.length > 0 ? [m, v, mc] : [v, m, vc];
      // A real correction, 1 − βᵗ, on the corrected side; any other β in the term is NB401's wrong-β case.
      if (!doneCorrections.every((c) => c.exp !== undefined) || term.corrections.some((c) => c.beta !== done.beta)) continue;
      // m's β also corrects v where v's correction sits (√(1 − β₁ᵗ) multiplying, or below the bar): NB401's wrong-β case.
      if (done === m && doneCorrections.some((c) => c.inDenominator || c.power > 0)) continue;
      // The other β anywhere in the step is a correction written another way (RAdam's rectifier
      // √((1 − β₂ᵗ)·r), a β₂ᵗ kept in a local); a reciprocal of 1 − x that is no 1 − βᵗ is one of another
      // shape (NAdam's momentum schedule, 1 − Πμ).
      if (mentions(p.step, missing.beta!) || term.mono.fs.some((f) => f.atom.k === 'inv' && f.n > 0 && oneMinus(f.atom.arg) && !correctionOf(f.atom))) continue;
      // Another path through the same function whose update of this parameter reads the other β:
      // branches that exclude each other (RAdam's `if N_sma >= 5` computing the step size and, again,
      // choosing the update) combined into a path the code never runs.
      const paths = optimizerSteps(facts).filter((o) => o !== step && o.fn.span.start === step.fn.span.start && o.fn.span.end === step.fn.span.end);
      if (paths.some((o) => o.params.some((q) => q.eq.key === p.eq.key && mentions(q.step, missing.beta!)))) continue;
      const site = correctionSite(step, doneCorrections[0].key, p.eq.order);
      if (!site) continue;
      // The other moment's correction written in the function: reported as unused only when the
      // value it is stored in is never read again. A value that is read (RAdam's step size, set in
      // branches the normal form does not tell apart) may carry it into the update on another path.
      const all = outermost(step.corrections.filter((c) => c.beta === missing.beta && c.exp !== undefined));
      // The ones that correct this moment (`s["db" + str(l)]`'s is another parameter's), when that is visible.
      const own = all.filter((c) => correctsState(facts, step, c.span, missing));
      const others = own.length > 0 ? own : all;
      if (others.some((c) => readLater(facts, step, c.span))) continue;
      const unused = others[0];
      const name = (s: StateUpdate): string => facts.source(s.eq.target.span);
      const beta = (s: StateUpdate): string => betaName(facts, step, s);
      const [mt, vt] = [name(m), name(v)];
      const why =
        missing === v
          ? `early on ${vt} is about (1 - ${beta(v)} ** t) times the squared gradient, far below it, so the first steps are up to 1/√(1 - ${beta(v)}) times too large (about 32 for a β₂ of 0.999). Divide ${vt} by 1 - ${beta(v)} ** t too`
          : `early on ${mt} is about (1 - ${beta(m)} ** t) times the gradient, so the first steps are about 1 - ${beta(m)} times as long as Adam's (a tenth for a β₁ of 0.9). Divide ${mt} by 1 - ${beta(m)} ** t too`;
      const read = readSpan(facts, step, p.eq.spans, missing);
      push({
        code: 'NB401',
        span: read,
        message: `the step divides ${missing === v ? `the bias-corrected ${mt} by the root of ${vt}, which is not bias-corrected` : `${mt}, which is not bias-corrected, by the root of the bias-corrected ${vt}`}: ${why}, or fold both corrections into the step size (lr * sqrt(1 - ${beta(v)} ** t) / (1 - ${beta(m)} ** t))`,
        related: [
          { span: site.span, message: `${name(done)} is corrected with this` },
          ...(unused ? [{ span: unused.span, message: `${name(missing)}'s correction is computed here, but the step does not use it` }] : []),
        ],
        corrected: biasCorrected(missing.eq.key, missing.beta!, doneCorrections[0].exp!),
      });
    }
  }
}

/**
 * Neither moment corrected in the update, though the function computes both corrections and
 * stores them where nothing reads them: the corrected moments were meant for the step. A step that
 * corrects neither and computes no correction (RMSprop with momentum, BERT's AdamW) stays silent.
 */
function bothUnused(facts: Facts, step: OptimizerStep, p: OptimizerStep['params'][number], m: StateUpdate, v: StateUpdate, push: (f: OptimizerFinding) => void): boolean {
  // The other β anywhere in the update is a correction written another way (a folded step size, RAdam's rectifier).
  if (mentions(p.step, m.beta!) || mentions(p.step, v.beta!)) return false;
  const unusedOf = (s: StateUpdate) => {
    const all = outermost(step.corrections.filter((c) => c.beta === s.beta && c.exp !== undefined));
    // The ones that read the state, when that is visible (a state's new value in a local, `Vd`, is not).
    const own = all.filter((c) => correctsState(facts, step, c.span, s));
    const mine = own.length > 0 ? own : all;
    return mine.length > 0 && !mine.some((c) => readLater(facts, step, c.span)) ? mine[0] : undefined;
  };
  const [mu, vu] = [unusedOf(m), unusedOf(v)];
  if (!mu || !vu || mu.span.start === vu.span.start) return false;
  if (otherPathReadsBetas(facts, step, p, m, v)) return false;
  const name = (s: StateUpdate): string => facts.source(s.eq.target.span);
  const [mt, vt] = [name(m), name(v)];
  push({
    code: 'NB401',
    span: readSpan(facts, step, p.eq.spans, m),
    message: `the step divides ${mt} by the root of ${vt}, neither bias-corrected, though both corrections are computed above and never used: early on ${mt}/√${vt} is (1 - ${betaName(facts, step, m)} ** t)/√(1 - ${betaName(facts, step, v)} ** t) times Adam's ratio, so the first steps are about 3 times too large (β's of 0.9 and 0.999). Use the corrected values in the step`,
    related: [
      { span: mu.span, message: `${mt}'s correction is computed here, but the step does not use it` },
      { span: vu.span, message: `${vt}'s correction is computed here, but the step does not use it` },
    ],
    corrected: [...(biasCorrected(m.eq.key, m.beta!, mu.exp!) ?? []), ...(biasCorrected(v.eq.key, v.beta!, vu.exp!) ?? [])],
  });
  return true;
}

/** Another path through the same function whose update of this parameter reads either β (branches the normal form combined). */
function otherPathReadsBetas(facts: Facts, step: OptimizerStep, p: OptimizerStep['params'][number], m: StateUpdate, v: StateUpdate): boolean {
  const paths = optimizerSteps(facts).filter((o) => o !== step && o.fn.span.start === step.fn.span.start && o.fn.span.end === step.fn.span.end);
  return paths.some((o) => o.params.some((q) => q.eq.key === p.eq.key && (mentions(q.step, m.beta!) || mentions(q.step, v.beta!))));
}

/**
 * The moments averaged with β's written as numbers (`0.9 * m + 0.1 * g`, a course's Adam): a state
 * whose old value is weighed by a number between 0 and 1 and whose every addition by 1 minus it.
 * Only the unread step count is checked for them: with no symbol the normal form places no 1 − βᵗ,
 * so a term that holds any power (`0.9 ** t`) is left alone.
 */
function numericMoments(facts: Facts, step: OptimizerStep, p: OptimizerStep['params'][number], term: StepTerm, push: (f: OptimizerFinding) => void): void {
  const den = term.denominator.find((d) => {
    const s = step.states.get(d.key);
    return d.sqrt && s !== undefined && numericBeta(s) !== undefined && s.adds.some((a) => squaredBase(a.x) !== undefined);
  });
  if (!den) return;
  const v = step.states.get(den.key)!;
  const b2 = numericBeta(v)!;
  const m = term.numerator.map((n) => step.states.get(n.key)).find((s): s is StateUpdate => s !== undefined && s !== v && numericBeta(s) !== undefined && numericBeta(s) !== b2);
  if (!m || term.corrections.length > 0 || atomsOf(p.step).some((a) => a.k === 'pow')) return;
  const b1 = numericBeta(m)!;
  countNeverRead(facts, step, p, m, v, { m: formatNumber(b1), v: formatNumber(b2), values: [b1, b2] }, push);
}

/**
 * How far the uncorrected m/√v strays from Adam's early on, for β's known as numbers: its ratio to
 * the corrected one is (1 − β₁ᵗ)/√(1 − β₂ᵗ), largest (about 6 for 0.9 and 0.999) some tens of steps in.
 */
function earlyRatio(b1: number, b2: number): string {
  let [hi, lo] = [1, 1];
  for (let t = 1; t <= 10000; t++) {
    const r = (1 - b1 ** t) / Math.sqrt(1 - b2 ** t);
    [hi, lo] = [Math.max(hi, r), Math.min(lo, r)];
  }
  const round = (x: number): string => formatNumber(Number(x.toPrecision(2)));
  return hi >= 1 / lo ? `so the early steps are up to ${round(hi)} times too large` : `so the early steps are up to ${round(1 / lo)} times too small`;
}

/**
 * Neither moment corrected and no correction computed, but the step keeps a step count of its own
 * (T ← T + 1, stored with its state) that nothing in the file reads: the count is kept for the
 * bias correction, which was left out (a course's Adam with `config['t'] += 1`). A count read
 * anywhere (a schedule, a log, a warm-up, another method) may be what it is kept for: silent.
 * `betas` are the moments' β's as the message shows them; `values` when they are numbers.
 */
function countNeverRead(facts: Facts, step: OptimizerStep, p: OptimizerStep['params'][number], m: StateUpdate, v: StateUpdate, betas: { m: string; v: string; values?: [number, number] }, push: (f: OptimizerFinding) => void): void {
  if (!betas.values) {
    if (mentions(p.step, m.beta!) || mentions(p.step, v.beta!)) return;
    // Any 1 − βᵗ of either β written in the function: bothUnused's case, or a correction the normal form does not place.
    if (step.corrections.some((c) => c.exp !== undefined && (c.beta === m.beta || c.beta === v.beta))) return;
    if (otherPathReadsBetas(facts, step, p, m, v)) return;
  }
  // A framework optimizer's per-parameter state keeps its count by convention (torch's
  // `state['step']`), for checkpoints and tools the file does not show; LAMB leaves the
  // correction out on purpose and still counts.
  if (step.fn.cls && isTorchOptimizer(facts, step.fn.cls)) return;
  for (const key of step.counters.keys()) {
    if (step.frameworkCounters?.has(key)) continue;
    const increment = unreadCount(facts, step, key, [m.eq.key, v.eq.key]);
    if (!increment) continue;
    const name = (s: StateUpdate): string => facts.source(s.eq.target.span);
    const [mt, vt] = [name(m), name(v)];
    const count = facts.source(increment.target.span);
    const size = betas.values ? earlyRatio(betas.values[0], betas.values[1]) : "so the first steps are about 3 times too large (β's of 0.9 and 0.999)";
    const [b1, b2] = betas.values ?? [m.beta!, v.beta!];
    push({
      code: 'NB401',
      span: readSpan(facts, step, p.eq.spans, m),
      message: `the step divides ${mt} by the root of ${vt}, neither bias-corrected, though it keeps a step count, ${count}, that nothing reads${increment.saved ? ' but a saved copy of the state' : ''}: early on ${mt}/√${vt} is (1 - ${betas.m} ** t)/√(1 - ${betas.v} ** t) times Adam's ratio, ${size}. Divide ${mt} by 1 - ${betas.m} ** t and ${vt} by 1 - ${betas.v} ** t, t being ${count}, or fold both corrections into the step size`,
      related: [{ span: increment.span, message: `${count} is incremented here, and never read${increment.saved ? ' except to be saved' : ''}` }],
      corrected: [...(biasCorrected(m.eq.key, b1, sym(key)) ?? []), ...(biasCorrected(v.eq.key, b2, sym(key)) ?? [])],
    });
    return;
  }
}

/**
 * Where the step increments the count `key`, when nothing in the file reads the count except to
 * increment it: the step's own `t = config['t']`, `t = t + 1`, `config['t'] = t` (its locals), and
 * plain stores of a start value (`self.t = 0`, `config.setdefault('t', 1)`), and a copy returned
 * beside the moments (a `state_dict()` that checkpoints the state). The count is matched
 * by its last field (`.t`, `['t']`) across the file, so another object's field of that name counts
 * as a read too: silence over a guess.
 */
function unreadCount(facts: Facts, step: OptimizerStep, key: string, stateKeys: string[]): { span: Span; target: Expr; saved: boolean } | undefined {
  const field = /\.([A-Za-z_$][\w$]*)$/.exec(key)?.[1] ?? /\["([^"]+)"\]$/.exec(key)?.[1];
  if (field === undefined) return undefined;
  const isCount = (e: Expr): boolean => (e.kind === 'attr' && e.name === field) || (e.kind === 'index' && e.index.length === 1 && e.index[0].kind === 'str' && e.index[0].value === field);
  const stmts = statementsOf(step.fn.body).filter((x) => x.kind === 'assign');
  const pairs = stmts.flatMap((x) => {
    if (x.kind !== 'assign') return [];
    if (x.targets.length === 1 && x.targets[0].kind === 'seq' && x.value.kind === 'seq' && x.targets[0].items.length === x.value.items.length) {
      const values = x.value.items;
      return x.targets[0].items.map((t, i) => ({ stmt: x, target: t, value: values[i] }));
    }
    return x.targets.map((t) => ({ stmt: x, target: t, value: x.value }));
  });
  // The step's locals that hold the count, and the writes that only carry it (`t = t + 1`).
  const locals = new Set<string>();
  const countOnly = (e: Expr, depth = 0): boolean => {
    if (depth > 20) return false;
    if (e.kind === 'num') return true;
    if (e.kind === 'name') return locals.has(e.name);
    if (isCount(e)) return true;
    return e.kind === 'binary' && e.op === '+' && countOnly(e.left, depth + 1) && countOnly(e.right, depth + 1);
  };
  const carries = (q: (typeof pairs)[number]): boolean => countOnly(q.value) && (q.target.kind === 'name' ? locals.has(q.target.name) : isCount(q.target) && stepKeys(facts, q.target).includes(key));
  for (let changed = true, rounds = 0; changed && rounds < 10; rounds++) {
    changed = false;
    for (const q of pairs) {
      // A local given the count (`t = config['t']`), not any local given a number.
      const fromCount = subExprs(q.value).some((e) => isCount(e) || (e.kind === 'name' && locals.has(e.name)));
      if (q.target.kind === 'name' && !locals.has(q.target.name) && fromCount && countOnly(q.value)) {
        locals.add(q.target.name);
        changed = true;
      }
    }
  }
  const chain = pairs.filter(carries);
  // The increment: a write that adds a number to the count.
  const increment = chain.find((q) => (q.stmt.op === '+' && q.value.kind === 'num') || (q.value.kind === 'binary' && q.value.op === '+'));
  if (!increment) return undefined;
  const stored = chain.find((q) => q.target.kind !== 'name') ?? increment;
  const allowed: Span[] = chain.flatMap((q) => [q.target.span, q.value.span]);
  const fnSpan = step.fn.span;
  // Start values stored anywhere in the file (`self.t = 0`, `config.setdefault('t', 1)`): not reads.
  const starts = (body: Stmt[], depth: number): void => {
    if (depth > 50) return;
    for (const s of body) {
      if (s.kind === 'assign' && s.op === undefined && s.value.kind === 'num') for (const t of s.targets) if (isCount(t)) allowed.push(t.span);
      // Another step's own increment of a count of that name (a subclass's `step`, `self.t += 1`) reads nothing either.
      if (s.kind === 'assign' && s.op === '+' && s.value.kind === 'num' && s.targets.every(isCount)) allowed.push(s.span);
      // A count restored from a checkpoint (`self.t = state["t"]`, `self.t = state.get("t", 0)`) is written, not used.
      if (s.kind === 'assign' && s.op === undefined && s.targets.some(isCount) && restored(s.value)) allowed.push(s.span);
      if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && s.expr.callee.name === DICT_DEFAULT_METHOD && s.expr.args[0]?.kind === 'str' && s.expr.args[0].value === field && s.expr.args[1]?.kind === 'num') allowed.push(s.expr.span);
      if (s.kind === 'function' || s.kind === 'class' || s.kind === 'block' || s.kind === 'for') starts(s.body, depth + 1);
    }
  };
  const restored = (e: Expr): boolean =>
    (e.kind === 'index' && e.index.length === 1 && e.index[0].kind === 'str' && e.index[0].value === field) ||
    (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === DICT_GET_METHOD && e.args[0]?.kind === 'str' && e.args[0].value === field && (e.args[1] === undefined || e.args[1].kind === 'num'));
  starts(facts.module.body, 0);
  // The count returned beside the moments (`return {"m": list(self.m), "v": list(self.v), "t": self.t}`,
  // a checkpoint of the state) is saved, not used: the correction it is kept for is still missing.
  const savedAt: Span[] = [];
  const saved = (body: Stmt[], depth: number): void => {
    if (depth > 50) return;
    for (const s of body) {
      if (s.kind === 'function' || s.kind === 'class' || s.kind === 'block' || s.kind === 'for') saved(s.body, depth + 1);
      if (s.kind !== 'return' || !s.value) continue;
      const items = s.value.kind === 'object' ? s.value.entries.map((x) => x.value) : s.value.kind === 'seq' ? s.value.items : [];
      const holdsState = items.some((item) => subExprs(item).some((x) => (x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') && stepKeys(facts, x).some((k) => stateKeys.includes(k))));
      if (holdsState) for (const item of items) if (isCount(item)) savedAt.push(item.span);
    }
  };
  saved(facts.module.body, 0);
  let read = false;
  const inAllowed = (span: Span): boolean => allowed.some((a) => within(span, a)) || savedAt.some((a) => within(span, a));
  walkAll(facts.module.body, (e) => {
    if (read || inAllowed(e.span)) return;
    if (isCount(e) || (e.kind === 'str' && e.value === field) || (e.kind === 'name' && locals.has(e.name) && within(e.span, fnSpan))) read = true;
  });
  return read ? undefined : { span: increment.stmt.span, target: stored.target, saved: savedAt.length > 0 };
}

/** A moment's β as the step writes it. */
function betaName(facts: Facts, step: OptimizerStep, s: StateUpdate): string {
  return localNameIn(step, s.beta!) ?? (facts.language === 'python' ? s.beta!.replace(/"/g, "'") : s.beta!);
}

/** Whether the statement holding a correction reads the state (`s_hat = s / (1 - b2 ** t)`). */
function correctsState(facts: Facts, step: OptimizerStep, span: Span, s: StateUpdate): boolean {
  const stmt = statementsOf(step.fn.body).filter((x) => x.kind !== 'block' && x.kind !== 'for' && within(span, x.span)).pop();
  if (!stmt) return false;
  return stmtExprs(stmt).some((root) => !(stmt.kind === 'assign' && stmt.targets.includes(root)) && subExprs(root).some((e) => (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && stepKeys(facts, e).includes(s.eq.key)));
}

/** Whether the statement holding `span` stores into a name that a later statement of the function reads (or stores nowhere named). */
function readLater(facts: Facts, step: OptimizerStep, span: Span): boolean {
  const stmts = statementsOf(step.fn.body).filter((x) => x.kind !== 'block' && x.kind !== 'for');
  const stmt = stmts.filter((x) => within(span, x.span)).pop();
  if (!stmt || stmt.kind !== 'assign') return true;
  // The values stored, as written: `v_hat`, `s_corrected["dW" + str(l)]` (an entry of a local dictionary).
  const text = (e: Expr): string => facts.source(e.span).replace(/\s+/g, '');
  const stored = stmt.targets.flatMap((t) => (t.kind === 'seq' ? t.items : [t]));
  if (stored.length === 0 || stored.some((t) => t.kind !== 'name' && t.kind !== 'index')) return true;
  const texts = new Set(stored.map(text));
  const readable = (e: Expr): boolean => (e.kind === 'name' || e.kind === 'index') && texts.has(text(e));
  return stmts.some((x) => x.span.start > stmt.span.end && stmtExprs(x).some((root) => !(x.kind === 'assign' && x.targets.includes(root)) && subExprs(root).some(readable)));
}

/** The corrections not written inside another of the list: `1 - b2 ** t + eps`, not the `1 - b2 ** t` in it. */
function outermost<T extends { span: Span }>(list: T[]): T[] {
  return list.filter((c) => !list.some((o) => o !== c && within(c.span, o.span) && (o.span.start !== c.span.start || o.span.end !== c.span.end)));
}

/** 1 − x for one monomial x that is not a number. */
function oneMinus(p: Poly): boolean {
  return p.length === 2 && p.some((m) => m.fs.length === 0 && m.c === 1) && p.some((m) => m.fs.length > 0 && m.c === -1);
}

/** Where the update reads the uncorrected state: in its own statements, else the last statement before it that reads the state. */
function readSpan(facts: Facts, step: OptimizerStep, update: Span[], s: StateUpdate): Span {
  // The local that holds the state's new value, when the step returns it for the caller to store (`s_new = beta2 * s + …`).
  const local = s.eq.target.kind === 'name' ? s.eq.target.name : undefined;
  const stmts = statementsOf(step.fn.body).filter((x) => x.kind !== 'block' && x.kind !== 'for');
  const reads = (span: Span): Span | undefined => {
    const stmt = stmts.filter((x) => within(span, x.span)).pop();
    if (!stmt) return undefined;
    for (const root of stmtExprs(stmt)) {
      if (stmt.kind === 'assign' && stmt.targets.includes(root)) continue;
      // The outermost read: `self.v[k]`, not the `self.v` inside it.
      const hits = subExprs(root).filter((x) => within(x.span, span) && ((x.kind === 'name' && x.name === local) || ((x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') && stepKeys(facts, x).includes(s.eq.key))));
      if (hits.length > 0) return hits.reduce((a, b) => (b.span.end - b.span.start > a.span.end - a.span.start ? b : a)).span;
    }
    return undefined;
  };
  for (const span of update) {
    const hit = reads(span);
    if (hit) return hit;
  }
  const last = s.eq.spans[s.eq.spans.length - 1];
  const before = stmts.filter((x) => x.span.start >= last.end && x.span.end <= update[update.length - 1].start);
  for (let i = before.length - 1; i >= 0; i--) {
    const hit = reads(before[i].span);
    if (hit) return hit;
  }
  return update[update.length - 1];
}
