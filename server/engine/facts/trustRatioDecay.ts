// Weight decay added beside a LARS trust ratio instead of inside it (NB202): the ratio
// r = c·‖p‖ / (‖g‖ + λ·‖p‖) is the local learning rate of the direction g + λ·p (its denominator is
// that direction's norm bound), yet the step scales only g by it and adds λ·p unscaled:
// `v = mu * v + (local_lr * g + wd * p)`. Relative to the gradient, the decay is then 1/r times
// (≈ 10³·‖g‖/‖p‖ with c = 10⁻³) stronger than in LARS, `lr * local_lr * (g + wd * p)`.
//
// Read off the normal form of the step (optimizerSteps.ts), where the ratio's local is substituted:
// a state's new value or a parameter's step holds a monomial c·Np·X/(Ng + λ·Np + ε) and a monomial
// b·λ·P without that reciprocal, where, in the step's function, Np is a local holding the norm of P
// (`param_norm = np.linalg.norm(p)`, `p.norm()`), Ng a local holding the norm of X, and λ is the
// same symbol in the ratio and in the decay. LAMB's ratio over the whole update (‖p‖/‖u‖ with u
// already holding λ·p), `lr * local_lr * (g + wd * p)`, and plain SGD with decay and no ratio have no
// such pair and stay silent.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { NORM_FUNCTIONS, VALUE_ATTRIBUTES } from './catalogue';
import { optimizerSteps, type OptimizerStep } from './optimizerSteps';
import { innermostStatement } from './adaptiveDecay';
import { localNameIn } from './optimizerLocals';
import { atomKey, type Atom, type Mono, type Poly } from '../../math/poly';

export interface TrustRatioDecay {
  /** The statement whose value adds the decay beside the ratio (the state's write, or the parameter's update). */
  span: Span;
  /** The decay strength λ, the parameter P, the gradient X and the ratio's norms, as the code names them. */
  decay: string;
  param: string;
  gradient: string;
  paramNorm: string;
  gradNorm: string;
  /** Where the ratio's norms are taken (the parameter's norm). */
  normSpan?: Span;
}

const cache = new WeakMap<Facts, TrustRatioDecay[]>();

export function trustRatioDecays(facts: Facts): TrustRatioDecay[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const seen = new Set<string>();
  for (const step of optimizerSteps(facts)) {
    const params = new Set(step.params.map((p) => p.eq.key));
    const places: { value: Poly; span: Span }[] = [...[...step.states.values()].map((s) => ({ value: s.eq.value, span: s.eq.spans[0] })), ...step.params.map((p) => ({ value: p.step, span: p.eq.spans[0] }))];
    let norms: Map<string, { of: string; span: Span }> | undefined;
    for (const place of places) {
      for (const shape of ratioShapes(place.value, params)) {
        norms ??= normLocals(step);
        const pn = norms.get(shape.paramNorm);
        const gn = norms.get(shape.gradNorm);
        if (!pn || !gn || pn.of !== shape.param || gn.of !== shape.gradient) continue;
        const statement = innermostStatement(step, place.span)?.span ?? place.span;
        const key = `${statement.start}:${statement.end}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Keys as the code names them: `wd` for `group["weight_decay"]` read into it.
        const named = (k: string): string => localNameIn(step, k) ?? (facts.language === 'python' ? k.replace(/"/g, "'") : k);
        found.push({ span: statement, decay: named(shape.decay), param: named(shape.param), gradient: named(shape.gradient), paramNorm: named(shape.paramNorm), gradNorm: named(shape.gradNorm), normSpan: pn.span });
      }
    }
  }
  cache.set(facts, found);
  return found;
}

interface Shape {
  decay: string;
  param: string;
  gradient: string;
  paramNorm: string;
  gradNorm: string;
}

const symKey = (a: Atom): string | undefined => (a.k === 'sym' ? a.key : undefined);

/** Plain symbols of a monomial with power 1, and its other factors. */
function symbolsOf(m: Mono): { syms: string[]; others: Atom[] } {
  const syms: string[] = [];
  const others: Atom[] = [];
  for (const f of m.fs) {
    const k = symKey(f.atom);
    if (k !== undefined && f.n === 1) syms.push(k);
    else others.push(f.atom);
  }
  return { syms, others };
}

/**
 * The ratio c·Np·X/(Ng + λ·Np + ε) in one monomial of `value`, with a decay λ·P beside it (a monomial
 * holding λ and a parameter P, and not the reciprocal), as names; the norms are checked by the caller.
 */
function ratioShapes(value: Poly, params: Set<string>): Shape[] {
  const out: Shape[] = [];
  for (const m of value) {
    for (const f of m.fs) {
      if (f.atom.k !== 'inv' || f.n !== 1) continue;
      const denominator = f.atom.arg;
      // Ng + λ·Np (+ ε): one bare norm, one norm times the decay, the rest numbers.
      const bare = denominator.filter((d) => d.fs.length === 1 && d.fs[0].n === 1 && d.fs[0].atom.k === 'sym' && d.c > 0);
      const scaled = denominator.filter((d) => d.fs.length === 2 && d.fs.every((x) => x.n === 1 && x.atom.k === 'sym') && d.c > 0);
      const numbers = denominator.filter((d) => d.fs.length === 0);
      if (bare.length !== 1 || scaled.length !== 1 || bare.length + scaled.length + numbers.length !== denominator.length) continue;
      const gradNorm = symKey(bare[0].fs[0].atom)!;
      const [a, b] = scaled[0].fs.map((x) => symKey(x.atom)!);
      const invKey = atomKey(f.atom);
      const { syms } = symbolsOf(m);
      for (const [paramNorm, decay] of [[a, b], [b, a]] as const) {
        // The ratio's numerator holds the same norm; the tensor it scales is what the monomial holds besides.
        if (!syms.includes(paramNorm) || paramNorm === gradNorm) continue;
        for (const gradient of syms) {
          if (gradient === paramNorm || gradient === decay || params.has(gradient)) continue;
          // The decay beside it: λ·P (times scalars), without the ratio.
          for (const d of value) {
            if (d === m || d.fs.some((x) => atomKey(x.atom) === invKey)) continue;
            const ds = symbolsOf(d);
            if (ds.others.length > 0 || !ds.syms.includes(decay)) continue;
            const param = ds.syms.find((s) => params.has(s));
            if (param === undefined || ds.syms.includes(paramNorm) || ds.syms.includes(gradient)) continue;
            out.push({ decay, param, gradient, paramNorm, gradNorm });
          }
        }
      }
    }
  }
  return out;
}

/** Locals of the step's function given a norm of one place: `param_norm = np.linalg.norm(p)`, `gn = g.norm()`. */
function normLocals(step: OptimizerStep): Map<string, { of: string; span: Span }> {
  const out = new Map<string, { of: string; span: Span }>();
  const visit = (stmts: readonly Stmt[], depth: number): void => {
    if (depth > 40) return;
    for (const s of stmts) {
      if (s.kind === 'block' || s.kind === 'for') visit(s.body, depth + 1);
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
      const t = s.targets[0];
      if (t.kind === 'name') {
        const of = normedKey(s.value);
        if (of !== undefined) out.set(t.name, { of, span: s.span });
      } else if (t.kind === 'seq' && s.value.kind === 'seq' && t.items.length === s.value.items.length) {
        t.items.forEach((item, k) => {
          const of = item.kind === 'name' ? normedKey((s.value as Expr & { kind: 'seq' }).items[k]) : undefined;
          if (of !== undefined && item.kind === 'name') out.set(item.name, { of, span: s.span });
        });
      }
    }
  };
  visit(step.fn.body, 0);
  return out;
}

/** The key of what a norm call measures: `np.linalg.norm(p)`, `torch.norm(p.data)`, `p.norm()`, `p.norm(2)`; value attributes (`.data`, `.value`, catalogue.ts) dropped. */
function normedKey(e: Expr): string | undefined {
  if (e.kind !== 'call') return undefined;
  const callee = e.callee;
  const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
  if (name === undefined || !NORM_FUNCTIONS.has(name)) return undefined;
  const first = e.args[0];
  const measured = first && (first.kind === 'name' || first.kind === 'attr' || first.kind === 'index') ? first : callee.kind === 'attr' && (!first || first.kind === 'num') ? callee.object : undefined;
  if (!measured) return undefined;
  // The tensor behind its value attributes (`p.data`, `w.value`), as the step's keys read it (optimizerSteps.ts `keyOf`).
  let tensor: Expr = measured;
  while (tensor.kind === 'attr' && VALUE_ATTRIBUTES.has(tensor.name)) tensor = tensor.object;
  return exprKey(tensor);
}

