// Shared by the hover tests: KaTeX checks, and printing a snippet's expressions with real facts.
import assert from 'node:assert/strict';
import katex from 'katex';
import type { Facts } from '../../server/engine/facts';
import { analyzeDocument } from '../../server/engine/document';
import type { Expr, Stmt } from '../../server/engine/ir';
import type { LanguageId } from '../../server/engine/types';
import type { Explanation } from '../../server/engine/explain';
import { ExprPrinter, SymbolTable, type PrintedMath, type PrintOptions } from '../../server/engine/printExpr';

/** TeX that KaTeX rendered in this process: the hovers of many findings share their TeX, and KaTeX gives the same answer for the same string. */
const rendered = new Set<string>();

/** Asserts that KaTeX renders `tex` in strict mode, as the client does. */
export function assertKatex(tex: string): void {
  if (rendered.has(tex)) return;
  assert.doesNotThrow(() => katex.renderToString(tex, { throwOnError: true, strict: 'error' }), `KaTeX rejects: ${tex}`);
  rendered.add(tex);
}

/** Every TeX string of an explanation. */
export function texOf(ex: Explanation): string[] {
  const out: string[] = [];
  if (ex.computed) out.push(ex.computed.tex);
  for (const f of ex.findings) if (f.correctTex) out.push(f.correctTex);
  if (ex.equivalentForms) out.push(ex.equivalentForms.lossTex, ex.equivalentForms.updateTex);
  if (ex.penalty) out.push(ex.penalty.tex, ex.penalty.gradientTex);
  if (ex.optimizer) out.push(...ex.optimizer.tex);
  if (ex.optimizerStep) out.push(...ex.optimizerStep.lines.map((l) => l.tex), ...ex.optimizerStep.corrections.map((c) => c.tex), ...(ex.optimizerStep.textbook?.tex ?? []));
  return out;
}

export function facts(code: string, language: LanguageId = 'python'): Facts {
  return analyzeDocument(code, language).facts;
}

function lastAssign(stmts: Stmt[]): (Stmt & { kind: 'assign' }) | undefined {
  let found: (Stmt & { kind: 'assign' }) | undefined;
  for (const s of stmts) {
    if (s.kind === 'assign') found = s;
    if (s.kind === 'function' || s.kind === 'block' || s.kind === 'for' || s.kind === 'class') found = lastAssign(s.body) ?? found;
  }
  return found;
}

/**
 * Prints the value of the last assignment in `code` (`x = <expr>`), with the analyzer of the file,
 * so parameters, gradients and penalties are recognized as in a real file.
 */
export function printValue(code: string, options: Partial<PrintOptions> & { language?: LanguageId; contextParam?: Expr } = {}): PrintedMath & { legend: SymbolTable['legend'] } {
  const f = facts(code, options.language ?? 'python');
  const stmt = lastAssign(f.module.body);
  if (!stmt) throw new Error('no assignment in the snippet');
  const symbols = options.symbols ?? new SymbolTable();
  const scope = f.scopes.stmtScopes.get(stmt) ?? f.scopes.root;
  const printer = new ExprPrinter({ source: f.source, symbols, analyzer: f.analyzer, scope, at: stmt.span.start, ...options });
  const printed = printer.print(stmt.value);
  return { ...printed, legend: symbols.legend };
}
