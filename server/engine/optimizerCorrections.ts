// The corrected lines of the optimizer-step hover (explainOptimizerStep.ts) and of the Show Update
// Rule panel: for each NB401–NB405 finding on a hand-written step (NB404's Nesterov look-ahead without μ too), and NB102's momentum that climbs,
// what the flagged code should compute (facts/optimizerCorrected.ts), typeset in the symbols of the
// step's own lines, one formula per line of code.
import type { Span } from './ir';
import type { Finding } from './types';
import type { DocumentAnalysis } from './document';
import type { OptimizerStep, StateUpdate } from './facts/optimizerSteps';
import type { CorrectedLine } from './facts/optimizerCorrected';
import { climbingMomentum, descendingMomentum, optimizerFindings } from './facts/optimizerFindings';
import { doubledLookaheads } from './facts/nesterovLookahead';
import { constant, polyEquals, type Poly } from '../math/poly';
import { printFactor, printPoly, type PolyText } from '../math/print/poly';
import { docsUrl } from './index';

export interface OptimizerStepCorrection {
  code: string;
  docsUrl: string;
  message: string;
  tex: string;
  unicode: string;
}

type Namer = (key: string) => PolyText;

/** Whether a span belongs to the step: inside its function, or a line of it in a helper it calls. */
export function inStep(step: OptimizerStep, s: Span): boolean {
  const within = (outer: Span): boolean => outer.start <= s.start && s.end <= outer.end;
  if (within(step.fn.span)) return true;
  const spans = [...[...step.states.values()].flatMap((x) => x.eq.spans), ...step.params.flatMap((p) => p.eq.spans), ...step.corrections.map((c) => c.span)];
  return spans.some(within);
}

/** The corrected lines of the findings the lint reported on `step` (suppressed or deselected ones are not shown). */
export function stepCorrections(a: DocumentAnalysis, step: OptimizerStep, findings: readonly Finding[], name: Namer): OptimizerStepCorrection[] {
  const reported = new Set(findings.map((f) => `${f.code}|${a.lines.offset(f.range.start)}`));
  const climbing = climbingMomentum(a.facts).map((c) => ({ ...c, code: 'NB102' }));
  // NB102's other ascents on a parameter line of this momentum step (`v = mu * v + lr * dw; w += v`).
  const ascents = findings
    .filter((f) => f.code === 'NB102' && !climbing.some((c) => c.span.start === a.lines.offset(f.range.start)))
    .flatMap((f) => {
      const span = { start: a.lines.offset(f.range.start), end: a.lines.offset(f.range.end) };
      const corrected = descendingMomentum(step, span);
      return corrected ? [{ code: 'NB102', span, message: f.message, corrected }] : [];
    });
  // NB404's Nesterov look-ahead without μ (facts/nesterovLookahead.ts).
  const lookaheads = doubledLookaheads(a.facts).map((d) => ({ code: 'NB404', span: d.span, message: findings.find((f) => f.code === 'NB404' && a.lines.offset(f.range.start) === d.span.start)?.message ?? '', corrected: d.corrected }));
  const all = [...optimizerFindings(a.facts), ...climbing, ...ascents, ...lookaheads];
  const out: OptimizerStepCorrection[] = [];
  // In the order of the findings in the file, each finding's lines in the order the code runs them.
  const mine = all.filter((f) => f.corrected && inStep(step, f.span) && reported.has(`${f.code}|${f.span.start}`)).sort((x, y) => x.span.start - y.span.start);
  for (const f of mine) for (const line of f.corrected!) out.push({ code: f.code, docsUrl: docsUrl(f.code), message: f.message, ...printLine(line, name) });
  return out;
}

function printLine(line: CorrectedLine, name: Namer): PolyText {
  const target = name(line.key);
  switch (line.kind) {
    case 'hat': {
      const hat = { tex: `\\widehat{${target.tex}}`, unicode: [...target.unicode].length === 1 ? `${target.unicode}\u0302` : `${target.unicode} (bias-corrected)` };
      const value = printPoly(line.value, name);
      return { tex: `${hat.tex} = ${value.tex}`, unicode: `${hat.unicode} = ${value.unicode}` };
    }
    case 'average':
      return relation(target, grouped(line.terms.map((t) => ({ coef: t.coef, x: printFactor(t.x, name) })), name));
    case 'param':
      return relation(target, parameterValue(target, line.self, line.step, name));
  }
}

export function relation(target: PolyText, value: PolyText): PolyText {
  return { tex: `${target.tex} \\leftarrow ${value.tex}`, unicode: `${target.unicode} ← ${value.unicode}` };
}

function times(a: PolyText, b: PolyText): PolyText {
  return { tex: `${a.tex} \\, ${b.tex}`, unicode: `${a.unicode}·${b.unicode}` };
}

/** a·θ + step, the old value first (θ − η·m/(√v + ε), (1 − η·λ)·θ − …). */
export function parameterValue(target: PolyText, self: Poly, step: Poly, name: Namer): PolyText {
  const own = polyEquals(self, constant(1)) ? target : times(printFactor(self, name), target);
  const rest = printPoly(step, name);
  return rest.unicode.startsWith('−')
    ? { tex: `${own.tex} - ${rest.tex.slice(1)}`, unicode: `${own.unicode} − ${rest.unicode.slice(1)}` }
    : { tex: `${own.tex} + ${rest.tex}`, unicode: `${own.unicode} + ${rest.unicode}` };
}

/** a·T + Σ bₓ·X, grouped as the state update reads it (the old value first). */
export function stateValue(s: StateUpdate, name: Namer): PolyText {
  if (!s.self) return printPoly(s.eq.value, name);
  return grouped([{ coef: s.self, x: name(s.eq.key) }, ...s.adds.map((a) => ({ coef: a.b, x: printFactor(a.x, name) }))], name);
}

/** Σ coef·x with each coefficient kept as one factor: β·m + (1 − β)·g. */
function grouped(terms: { coef: Poly; x: PolyText }[], name: Namer): PolyText {
  const tex: string[] = [];
  const uni: string[] = [];
  terms.forEach(({ coef, x }, i) => {
    const negative = coef.length === 1 && coef[0].c < 0;
    const magnitude: Poly = negative ? [{ c: -coef[0].c, fs: coef[0].fs }] : coef;
    const one = polyEquals(magnitude, constant(1));
    const body = one ? x : times(printFactor(magnitude, name), x);
    if (i === 0) {
      tex.push(negative ? `-${body.tex}` : body.tex);
      uni.push(negative ? `−${body.unicode}` : body.unicode);
    } else {
      tex.push(`${negative ? ' - ' : ' + '}${body.tex}`);
      uni.push(`${negative ? ' − ' : ' + '}${body.unicode}`);
    }
  });
  return { tex: tex.join(''), unicode: uni.join('') };
}
