// The hover of a finding that no update line, penalty or optimizer under the cursor explains, so that
// every squiggle a user hovers shows its math. Two cases:
//   - the rule gave its own forms (`FindingMath.forms`: a penalty's shape, a momentum that stores the
//     raw step, optimizer state that is never written back): they are typeset as what the code computes
//     against what it should;
//   - else the simple statement under the finding is typeset in its own symbols, with a legend, above
//     the rule's section (and the rule's expected form when it gave one).
import type { Explanation, FindingSection } from './explain';
import type { DocumentAnalysis } from './document';
import type { Expr, Span, Stmt } from './ir';
import type { Finding } from './types';
import { ExprPrinter, SymbolTable, addNode, blendWeights, mulNode, relNode, type MathNode } from './printExpr';

/** The explanation of the findings that cover `offset`, or undefined when none does. */
export function explainFindingAt(
  a: DocumentAnalysis,
  offset: number,
  findings: Finding[],
  statements: Stmt[],
  spanOf: (f: Finding) => Span,
  /** A finding's section with the correct form the rule gave (its forms, or its expected form). */
  sectionOf: (f: Finding) => FindingSection,
): Explanation | undefined {
  const here = findings.filter((f) => {
    const r = spanOf(f);
    return r.start <= offset && offset <= r.end;
  });
  if (here.length === 0) return undefined;
  const withForms = here.find((f) => f.math?.forms);
  const forms = withForms?.math?.forms;
  if (withForms && forms) {
    return {
      range: withForms.range,
      kind: 'update',
      title: forms.title,
      computed: { tex: forms.computed.tex, unicode: forms.computed.unicode, legend: forms.legend.filter((l) => l.code !== l.unicode), elided: false },
      // Its own legend defines the symbols: the section keeps the correct form alone.
      findings: [{ ...sectionOf(withForms), correctUnicode: forms.correct.unicode }],
    };
  }
  const first = here[0];
  const span = spanOf(first);
  const stmt = smallestSimpleStatement(statements, span);
  const sections = here.map(sectionOf);
  if (!stmt) return { range: first.range, kind: 'update', title: 'What this line computes', findings: sections };
  const symbols = new SymbolTable();
  // The weight of a blend β·A + (1 − β)·B keeps its own name: a β, not the λ of a decay-like name.
  for (const beta of blendWeights(stmt.kind === 'assign' ? stmt.targets[stmt.targets.length - 1] : undefined, [stmt.kind === 'expr' ? stmt.expr : (stmt.value as Expr)])) symbols.scalar(beta, true);
  const scope = a.facts.scopes.stmtScopes.get(stmt) ?? a.facts.scopes.root;
  const printer = new ExprPrinter({ source: a.facts.source, symbols, analyzer: a.facts.analyzer, scope, at: stmt.span.start });
  const node = statementNode(stmt, printer);
  if (!node) return { range: a.lines.range(stmt.span), kind: 'update', title: titleOf(a, stmt), findings: sections };
  const printed = printer.finish(node);
  return {
    range: a.lines.range(stmt.span),
    kind: 'update',
    title: titleOf(a, stmt),
    computed: { tex: printed.tex, unicode: printed.unicode, legend: symbols.legend, elided: printed.elided },
    findings: sections,
  };
}

/** The innermost assignment, expression statement or return that holds the span (a compound statement is too much to typeset). */
function smallestSimpleStatement(statements: Stmt[], span: Span): (Stmt & { kind: 'assign' | 'expr' | 'return' }) | undefined {
  let best: (Stmt & { kind: 'assign' | 'expr' | 'return' }) | undefined;
  for (const s of statements) {
    if (s.kind !== 'assign' && s.kind !== 'expr' && s.kind !== 'return') continue;
    if (s.kind === 'return' && !s.value) continue;
    if (s.span.start > span.start || span.end > s.span.end) continue;
    if (!best || s.span.end - s.span.start < best.span.end - best.span.start) best = s;
  }
  return best;
}

/** The statement as math; undefined for an augmented assignment whose operator has no typeset form here (`**=`, `//=`). */
function statementNode(s: Stmt & { kind: 'assign' | 'expr' | 'return' }, printer: ExprPrinter): MathNode | undefined {
  if (s.kind === 'expr') return printer.node(s.expr);
  if (s.kind === 'return') return printer.node(s.value as Expr);
  const target = printer.node(s.targets[s.targets.length - 1] ?? s.value);
  const value = printer.node(s.value);
  if (!s.op) return relNode(target, '\\leftarrow', '←', value);
  if (s.op === '+' || s.op === '-') return relNode(target, '\\leftarrow', '←', addNode({ neg: false, m: target }, { neg: s.op === '-', m: value }));
  if (s.op === '*') return relNode(target, '\\leftarrow', '←', mulNode(target, value));
  if (s.op === '/') return relNode(target, '\\leftarrow', '←', { k: 'div', n: target, d: value });
  return undefined;
}

function titleOf(a: DocumentAnalysis, s: Stmt & { kind: 'assign' | 'expr' | 'return' }): string {
  const short = (e: Expr): string => {
    const text = a.facts.source(e.span).replace(/\s+/g, ' ');
    return text.length > 40 ? `${text.slice(0, 39)}…` : text;
  };
  if (s.kind === 'assign') return `Value of \`${short(s.targets[s.targets.length - 1] ?? s.value)}\``;
  if (s.kind === 'return') return 'Returned value';
  const e = s.expr;
  return e.kind === 'call' ? `Call of \`${short(e.callee)}\`` : 'What this line computes';
}
