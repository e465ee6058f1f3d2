// What a place in a file computes, as math, for hovers and the update-rule panel. Pure data: no LSP
// or VS Code types (server/lsp/hover.ts turns an Explanation into hover markdown).
//
// - On an update or gradient line (correct or not): what it computes, typeset in its own symbols,
//   with a legend; for each finding on it, the correct update (the same line with R(W) replaced by
//   ∇R(W)); and, when an L2 penalty or its gradient is involved, the two equivalent homes of the
//   regularizer (the loss form and the update form) with the framework knobs that give the same.
// - On a penalty definition (`reg_term = reg * np.sum(W * W)`, `def l2(w): ...`, Keras `l2(c)`):
//   R(W) and ∇R(W).
// - On an optimizer built with weight decay: the update it performs (coupled or decoupled,
//   lr-scaled or not), from ../shared/reference/framework-semantics.md §1, §2b, §3, §4.
// - On `$...$` / `$$...$$` in a comment or docstring: that math.
// - On any other finding: the rule's own forms, or the line under it typeset (explainFinding.ts).
import katex from 'katex';
import type { Expr, Module, Span, Stmt } from './ir';
import type { Finding, LanguageId, LintOptions, Range } from './types';
import { lintText, looksBinary, DEFAULT_MAX_FILE_SIZE, ruleByCode, docsUrl } from './index';
import { analyzeDocument, type DocumentAnalysis } from './document';
import { explainMissingTerm } from './explainMissing';
import { explainFindingAt } from './explainFinding';
import { optimizerStepAt, optimizerStepSection, type OptimizerStepSection } from './explainOptimizerStep';
import { regularizerObjects } from './facts/regularizerObjects';
import type { LineIndex } from './lineIndex';
import type { Summand, UpdateSite } from './facts';
import { penaltyOfProduct, type PenaltyTerm, type Product, type Env } from './facts/analysis';
import { children, someExpr, type FunctionDef, type Scope } from './facts/scope';
import { baseExpr, exprKey } from './facts/keys';
import { isGradientLike, isLearningRateName, parameterOfGradient } from './facts/roles';
import { frameworkFacts, type ChainFact, type OptimizerFact, type RegularizerFact } from './facts/frameworks';
import { unusedLearningRates } from './facts/unusedLearningRate';
import { div, isNumber, neg, num, scale, sym, ONE } from '../math/coef';
import { gradientOf } from '../math/derive';
import type { Coef, Gradient, PenaltyKind } from '../math/terms';
import {
  ExprPrinter, SymbolTable, addNode, atom, coefNode, gradientNode, mulNode, normNode, penaltyNode, powNode, relNode,
  renderMath, blendWeights, type Expansion, type LegendEntry, type MathNode, type Substitution,
} from './printExpr';

export type { LegendEntry } from './printExpr';
export type { OptimizerStepSection, OptimizerStepLine, OptimizerStepCorrection } from './explainOptimizerStep';

// ------------------------------------------------------------------ the data

/** One formula in both notations. */
export interface Formula {
  tex: string;
  unicode: string;
}

export interface ComputedSection extends Formula {
  /** Symbols and the code they stand for: η = `lr`, λ = `reg`, ∂L/∂W = `dW`. */
  legend: LegendEntry[];
  /** Part of the line was elided (\dots) to keep the formula short. */
  elided: boolean;
}

export interface FindingSection {
  code: string;
  severity: Finding['severity'];
  message: string;
  /** The rule's one-line explanation. */
  summary: string;
  docsUrl: string;
  range: Range;
  /** The correct update: the line with the wrong term replaced (NB101: R(W) → ∇R(W)). */
  correctTex?: string;
  correctUnicode?: string;
  /** What the correct form is of, when it is not an update: "Correct gradient". */
  correctLabel?: string;
  /** The rule's own Unicode of the correct form (a term, not always a whole update), when no correct update is printed. */
  expected?: string;
  /** A second repair as right as the first (a factor mismatch: change the loss instead of the gradient). */
  alternative?: string;
}

export interface EquivalentForms {
  /** L̃(W) = L(W) + λ‖W‖₂². */
  lossTex: string;
  lossUnicode: string;
  /** W ← (1 − 2ηλ)W − η∇L(W). */
  updateTex: string;
  updateUnicode: string;
  /** Framework settings that give the same regularizer, e.g. "PyTorch `SGD(weight_decay=2λ)`". */
  knobs: string[];
  note: string;
}

export interface PenaltySection {
  kind: PenaltyKind;
  /** R(W) = λΣW². */
  tex: string;
  unicode: string;
  /** ∇R(W) = 2λW (a subgradient for the |·| forms). */
  gradientTex: string;
  gradientUnicode: string;
  subgradient: boolean;
  legend: LegendEntry[];
}

export interface OptimizerSection {
  framework: string;
  /** Canonical path: `torch.optim.AdamW`, `keras.optimizers.SGD`, `optax.adamw`, `optax.add_decayed_weights`. */
  name: string;
  /** The update it performs, one formula per line of TeX. */
  tex: string[];
  unicode: string[];
  /** `coupled`: λθ enters the gradient (and momentum/Adam statistics); `decoupled`: θ is shrunk directly. */
  coupling: 'coupled' | 'decoupled' | 'none';
  /** Whether the decay is multiplied by the learning rate. */
  lrScaled: boolean;
  legend: LegendEntry[];
  notes: string[];
}

export interface CommentFormula {
  tex: string;
  display: boolean;
  range: Range;
  /** KaTeX's message when the TeX does not parse (strict mode); such TeX is shown as code. */
  error?: string;
}

export interface CommentSection {
  formulas: CommentFormula[];
}

export interface Explanation {
  /** Where the explanation applies: the update statement, penalty, optimizer call or formula. */
  range: Range;
  kind: 'update' | 'penalty' | 'optimizer' | 'comment';
  /** A short heading, e.g. "Update of `W`". */
  title: string;
  computed?: ComputedSection;
  findings: FindingSection[];
  equivalentForms?: EquivalentForms;
  penalty?: PenaltySection;
  optimizer?: OptimizerSection;
  /** On a line of a hand-written optimizer step: the algorithm recognized, the step and its textbook form. */
  optimizerStep?: OptimizerStepSection;
  comment?: CommentSection;
}

// ------------------------------------------------------------------ analysis (cached)

type Analysis = DocumentAnalysis;

/** Every statement of an analysis (lambda bodies included), computed on first use. */
const statementLists = new WeakMap<Analysis, Stmt[]>();

/**
 * The explanation for the place at `offset` (UTF-16) in `text`, or undefined when there is nothing
 * to explain there. `initEngine()` must have resolved. Never throws for any input text: an internal
 * error is passed to `onError` and gives no explanation.
 */
export function explainAt(
  text: string,
  options: LintOptions,
  offset: number,
  onError?: (error: unknown) => void,
  /** The document's findings when the caller has them (a project lint sees more than the document alone). */
  findings?: () => Finding[],
): Explanation | undefined {
  if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1);
  if (looksBinary(text) || text.length > DEFAULT_MAX_FILE_SIZE) return undefined;
  let a: DocumentAnalysis;
  try {
    a = analyzeDocument(text, options.language);
  } catch (error) {
    onError?.(error);
    return undefined;
  }
  // Linted at most once, and only when an explanation needs the findings.
  let linted: Finding[] | undefined;
  return explainIn(a, offset, findings ?? (() => (linted ??= lintText(text, options).findings)), onError);
}

/**
 * The explanation at `offset` (in the document's own text) from an analysis a lint already made:
 * the language server's session of the document, with the findings it published. Nothing is
 * parsed or linted again. The analysis may be a project file's (its spans offset by its base).
 */
export function explainIn(a: DocumentAnalysis, offset: number, findings: () => readonly Finding[], onError?: (error: unknown) => void): Explanation | undefined {
  // A version whose edit changed no IR, its facts not built: the earlier analysis answers, off the edited lines.
  const moved = a.movedFrom;
  if (moved && !moved.ownFacts()) {
    const old = moved.toBase(offset);
    if (!Number.isNaN(old)) {
      const answer = explainIn(moved.analysis, old, findings, onError);
      if (!answer || !rangesOnLines(answer, moved.editedLines)) return answer;
    }
  }
  offset += a.file.base;
  const all = findings as () => Finding[];
  try {
    const comment = explainComment(a, offset);
    if (comment) return comment;
    const missing = explainMissingTermAt(a, offset, all);
    // A penalty the analyzer reads as a norm, where a finding with its own forms says it is not one (an
    // array, not a number), is explained by those forms.
    const formsHere = (): boolean => all().some((f) => !!f.math?.forms && contains(spanOfRange(a.lines, f.range), offset));
    const other =
      (missing ? undefined : (explainUpdateAt(a, offset, all) ?? explainReturnedGradientAt(a, offset, all))) ?? (formsHere() ? undefined : explainPenaltyAt(a, offset)) ?? explainOptimizerAt(a, offset);
    // A term that never takes effect leads; the penalty or optimizer under the cursor still shows below it.
    const found = missing ? { ...missing, penalty: other?.penalty, equivalentForms: other?.equivalentForms, optimizer: other?.optimizer } : other;
    // A finding nothing above explains still shows its math: the rule's own forms, or its line typeset.
    const explained = withOptimizerStep(a, offset, found, all) ?? explainFindingAt(a, offset, all(), statementsOf(a), (f) => spanOfRange(a.lines, f.range), sectionWithOwnMath);
    return explained && withFindingsUnder(a, offset, explained, all);
  } catch (error) {
    onError?.(error);
    return undefined; // a hover must never take the server down
  }
}

/** Names every finding under the cursor: an optimizer's or a penalty's explanation may be about the place, not the finding. */
function withFindingsUnder(a: Analysis, offset: number, ex: Explanation, findings: () => Finding[]): Explanation {
  const named = new Set([...ex.findings.map((f) => f.code), ...(ex.optimizerStep?.corrections.map((c) => c.code) ?? [])]);
  const missing = findings().filter((f) => !named.has(f.code) && contains(spanOfRange(a.lines, f.range), offset));
  if (missing.length === 0) return ex;
  return { ...ex, findings: [...ex.findings, ...missing.map(sectionWithOwnMath)] };
}

/** Adds the hand-written optimizer step under the cursor, or explains its line alone when nothing else does. */
function withOptimizerStep(a: Analysis, offset: number, found: Explanation | undefined, findings: () => Finding[]): Explanation | undefined {
  const at = optimizerStepAt(a, offset, findings);
  if (!at) return found;
  const section = optimizerStepSection(a, at.step, at.named, findings());
  if (found) return { ...found, optimizerStep: section };
  const mine = findings().filter((f) => {
    const r = spanOfRange(a.lines, f.range);
    return at.span.start <= r.start && r.end <= at.span.end;
  });
  return { range: a.lines.range(at.span), kind: 'update', title: section.title, findings: mine.map(sectionWithOwnMath), optimizerStep: section };
}

const contains = (span: Span, offset: number): boolean => span.start <= offset && offset <= span.end;
const sameSpan = (a: Span, b: Span): boolean => a.start === b.start && a.end === b.end;

function spanOfRange(lines: LineIndex, range: Range): Span {
  return { start: lines.offset(range.start), end: lines.offset(range.end) };
}

// ------------------------------------------------------------------ comments

/** Formulas per hover from one comment. */
const MAX_COMMENT_FORMULAS = 4;

function explainComment(a: Analysis, offset: number): Explanation | undefined {
  const comment = a.commentMath.find((c) => contains(c.span, offset));
  if (!comment) return undefined;
  const at = comment.segments.filter((s) => contains(s.span, offset));
  const chosen = (at.length > 0 ? at : comment.segments).slice(0, MAX_COMMENT_FORMULAS);
  const formulas = chosen.map((s): CommentFormula => {
    const f: CommentFormula = { tex: s.tex, display: s.display, range: a.lines.range(s.span) };
    const error = katexError(s.tex, s.display);
    if (error) f.error = error;
    return f;
  });
  const range = at.length === 1 ? a.lines.range(at[0].span) : a.lines.range(comment.span);
  return { range, kind: 'comment', title: 'Math in a comment', findings: [], comment: { formulas } };
}

/** KaTeX's complaint about `tex` in the options the client renders with, or undefined when it parses. */
export function katexError(tex: string, displayMode = false): string | undefined {
  try {
    katex.renderToString(tex, { displayMode, throwOnError: true, strict: 'error', trust: false, maxExpand: 200, output: 'mathml' });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// ------------------------------------------------------------------ statements by span

/** Every statement of the file, with lambda bodies' statements, in document order (cached). */
function statementsOf(a: Analysis): Stmt[] {
  let statements = statementLists.get(a);
  if (!statements) statementLists.set(a, (statements = allStatements(a.facts.module)));
  return statements;
}

function allStatements(module: Module): Stmt[] {
  const out: Stmt[] = [];
  const visitExpr = (root: Expr): void => {
    const stack = [root];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (e.kind === 'lambda') visit(e.stmts);
      stack.push(...children(e));
    }
  };
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      out.push(s);
      switch (s.kind) {
        case 'assign':
          visitExpr(s.value);
          break;
        case 'expr':
          visitExpr(s.expr);
          break;
        case 'return':
          if (s.value) visitExpr(s.value);
          break;
        case 'function':
        case 'class':
        case 'for':
        case 'block':
          visit(s.body);
          break;
      }
    }
  };
  visit(module.body);
  return out;
}

/** The sub-expression of `root` with exactly this span. */
function exprAt(root: Expr, span: Span): Expr | undefined {
  const stack = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (sameSpan(e.span, span)) return e;
    if (e.span.start <= span.start && span.end <= e.span.end) stack.push(...children(e));
  }
  return undefined;
}

// ------------------------------------------------------------------ updates

/** The line as an assignment: target ← target op (Π rhs), or target ← value. */
interface UpdateForm {
  target: Expr;
  op?: '+' | '-' | '*' | '/';
  /** Factors of what is combined with the target (one factor, or alpha × tensor for `add_(g, alpha=-lr)`). */
  rhs: Expr[];
  relation: 'update' | 'define';
  /** Where to search for variable uses the step passes through. */
  roots: Expr[];
  /** Uses to print as another expression (`d` in `grads.map((d, i) => d + ...)` is the gradient). */
  aliases?: Map<string, Expansion>;
}

function updateForm(a: Analysis, site: UpdateSite): UpdateForm | undefined {
  const relation = site.kind === 'gradient' ? 'define' : 'update';
  for (const s of statementsOf(a)) {
    if (!sameSpan(s.span, site.span)) {
      if (s.span.start <= site.span.start && site.span.end <= s.span.end) {
        const inner = formInExpressions(s, site, relation);
        if (inner) return inner;
      }
      continue;
    }
    if (s.kind === 'assign') {
      const op = s.op;
      return { target: s.targets[s.targets.length - 1] ?? site.target, op, rhs: [s.value], relation, roots: [s.value] };
    }
    if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr') {
      const call = s.expr;
      const method = s.expr.callee.name;
      const target = s.expr.callee.object;
      const [first, second] = call.args;
      if (!first) return undefined;
      // `buf.mul_(mu).add_(g)`: the buffer is the target, the whole chain its new value.
      let root = target;
      while (root.kind === 'call' && root.callee.kind === 'attr' && /^(add|sub|mul|div)_$/.test(root.callee.name)) root = root.callee.object;
      if (root !== target) return { target: root, rhs: [call], relation, roots: [call] };
      // As updates.ts reads them: `add_(x, alpha=a)` is a·x and old `add_(-lr, g)` is −lr·g, each
      // one term spanning the tensor argument (NB101's site for it).
      const alpha = call.kwargs.find((k) => k.name === 'alpha')?.value;
      const product = (a: Expr, b: Expr): Expr => ({ kind: 'binary', op: '*', left: a, right: b, span: b.span });
      const step = second && /^(add_|sub_)$/.test(method) ? product(first, second) : alpha ? product(alpha, first) : first;
      if (/^(sub_|assign_sub)$/.test(method)) return { target, op: '-', rhs: [step], relation, roots: [step] };
      if (/^(add_|assign_add)$/.test(method)) return { target, op: '+', rhs: [step], relation, roots: [step] };
      // `p.mul_(1 - lr * wd)` scales the tensor in place: p ← p·(1 − ηλ), not p ← 1 − ηλ.
      if (method === 'mul_') return { target, op: '*', rhs: [first], relation, roots: [first] };
      if (method === 'div_') return { target, op: '/', rhs: [first], relation, roots: [first] };
      return { target, rhs: [first], relation, roots: [first] };
    }
  }
  return undefined;
}

/** Lambdas (`lambda p, g: p - lr * g`) and comprehension elements that are update sites. */
function formInExpressions(s: Stmt, site: UpdateSite, relation: UpdateForm['relation']): UpdateForm | undefined {
  const roots: Expr[] = s.kind === 'assign' ? [s.value] : s.kind === 'expr' ? [s.expr] : s.kind === 'return' && s.value ? [s.value] : [];
  for (const root of roots) {
    const e = exprAt(root, site.span);
    if (!e) continue;
    if (e.kind !== 'lambda') return { target: site.target, rhs: [e], relation, roots: [e] };
    const value = e.body;
    const first = e.params[0];
    if (!value || !first) return undefined;
    const param: Expr = { kind: 'name', name: first.name, span: first.span };
    // `lambda p, g: p - lr * g` updates p. `grads.map((d, i) => d + ...)` accumulates into grads: d is its element.
    if (site.kind !== 'accumulate' || isGradientLike(param) || !isGradientLike(site.target)) return { target: param, rhs: [value], relation, roots: [value] };
    const aliases = new Map<string, Expansion>();
    const stack: Expr[] = [value];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x.kind === 'name' && x.name === first.name) aliases.set(`${x.span.start}:${x.span.end}`, { expr: site.target });
      if (x.kind !== 'lambda') stack.push(...children(x));
    }
    return { target: site.target, rhs: [value], relation, roots: [value], aliases };
  }
  return undefined;
}

/**
 * A finding's section with the correct form the rule itself gave, when no update line supplies one.
 * Shown under another explanation, whose legend does not define the forms' symbols, its Unicode line
 * says what they stand for.
 */
function sectionWithOwnMath(f: Finding): FindingSection {
  const forms = f.math?.forms;
  if (forms) {
    const legend = forms.legend.filter((l) => l.code !== l.unicode).map((l) => `${l.unicode} = ${l.code}`);
    const unicode = legend.length > 0 ? `${forms.correct.unicode}, where ${legend.join(', ')}` : forms.correct.unicode;
    return { ...sectionOf(f), correctTex: forms.correct.tex, correctUnicode: unicode, correctLabel: forms.correctLabel };
  }
  return { ...sectionOf(f), ...(f.math?.expected ? { expected: f.math.expected } : {}) };
}

/** A finding's section of the hover, before the math of its line is added. */
function sectionOf(f: Finding): FindingSection {
  return {
    code: f.code,
    severity: f.severity,
    message: f.message,
    summary: ruleByCode(f.code)?.meta.summary ?? f.message,
    docsUrl: docsUrl(f.code),
    range: f.range,
  };
}

function explainMissingTermAt(a: Analysis, offset: number, findings: () => Finding[]): Explanation | undefined {
  return explainMissingTerm(offset, findings(), (f) => spanOfRange(a.lines, f.range), sectionOf);
}

function explainUpdateAt(a: Analysis, offset: number, findings: () => Finding[]): Explanation | undefined {
  const updates = a.facts.updates;
  const smallest = (sites: UpdateSite[]): UpdateSite | undefined =>
    sites.reduce<UpdateSite | undefined>((best, s) => (!best || s.span.end - s.span.start < best.span.end - best.span.start ? s : best), undefined);
  let site = smallest(updates.filter((s) => contains(s.span, offset)));
  const line = a.lines.position(offset).line;
  if (!site) {
    // A finding whose term is written on another line than its update (`step = dW + R(W)`, then
    // `W -= lr * step`) explains that update, shown over the finding.
    const f = findings().find((x) => {
      if (!x.math?.update) return false;
      const r = spanOfRange(a.lines, x.range);
      return contains(r, offset) || x.range.start.line === line;
    });
    const u = f?.math?.update && spanOfRange(a.lines, f.math.update);
    const target = u && updates.find((s) => sameSpan(s.span, u));
    const ex = target && explainUpdate(a, target, findings());
    if (ex && f) return { ...ex, range: f.range };
  }
  if (!site) {
    const onLine = updates.filter((s) => a.lines.position(s.span.start).line <= line && line <= a.lines.position(s.span.end).line);
    site = onLine.sort((x, y) => x.span.start - y.span.start)[0];
  }
  return site ? explainUpdate(a, site, findings()) : undefined;
}

/**
 * A finding on what a regularizer object's gradient method returns (`def grad(self, w): return
 * -self.c * w`): the returned gradient typeset in the method's own symbols, with the rule's expected
 * form. The parameter is the method's first argument after `self`.
 */
function explainReturnedGradientAt(a: Analysis, offset: number, findings: () => Finding[]): Explanation | undefined {
  const ret = statementsOf(a).find((s): s is Stmt & { kind: 'return'; value: Expr } => s.kind === 'return' && !!s.value && contains(s.span, offset));
  if (!ret) return undefined;
  const mine = findings().filter((f) => {
    const r = spanOfRange(a.lines, f.range);
    return ret.value.span.start <= r.start && r.end <= ret.value.span.end;
  });
  if (mine.length === 0) return undefined;
  const scope = a.facts.scopes.stmtScopes.get(ret) ?? a.facts.scopes.root;
  // Only the gradient method of a regularizer object, paired by structure with its penalty method.
  const fn = regularizerObjects(a.facts).flatMap((o) => o.gradients.map((g) => g.fn)).find((g) => g.scope === scope);
  if (!fn) return undefined;
  const weight = (fn.isMethod ? fn.params.slice(1) : fn.params)[0];
  if (!weight) return undefined;
  const symbols = new SymbolTable();
  const printer = new ExprPrinter({ source: a.facts.source, symbols, analyzer: a.facts.analyzer, scope, at: ret.span.start });
  const param = printer.paramNode({ kind: 'name', name: weight.name, span: weight.span });
  const computed = printer.finish(relNode({ k: 'apply', tex: '\\nabla R', uni: '∇R', args: [param] }, '=', '=', printer.node(ret.value)));
  return {
    range: a.lines.range(ret.span),
    kind: 'update',
    title: `Gradient returned by \`${fn.name}\``,
    computed: { tex: computed.tex, unicode: computed.unicode, legend: symbols.legend, elided: computed.elided },
    findings: mine.map(sectionWithOwnMath),
  };
}

/** Formulas per hover: each becomes an image of about 10 kB, and a hover is cut at 100,000 characters. */
export const MAX_FORMULAS = 6;

function explainUpdate(a: Analysis, site: UpdateSite, allFindings: Finding[]): Explanation | undefined {
  const form = updateForm(a, site);
  if (!form) return undefined;
  const facts = a.facts;
  const analyzer = facts.analyzer;
  const siteSpan = site.span;
  const siteRange = a.lines.range(siteSpan);
  const symbols = new SymbolTable();
  // The weight of the target's own old value (`decay_rate` of `cache = decay_rate * cache + …`) is an
  // average's β, not a regularization strength: it keeps its own name, not λ.
  for (const beta of blendWeights(site.target, form.roots)) symbols.scalar(beta, true);
  const contextParam = paramOfSite(a, site, form);
  const base = { source: a.facts.source, symbols, analyzer, scope: site.scope, at: site.at, contextParam, expansions: form.aliases };


  // Findings that belong to this update: by the update range the rule recorded, or by position.
  const mine = allFindings.filter((f) => {
    if (f.math?.update) return sameSpan(spanOfRange(a.lines, f.math.update), siteSpan);
    const r = spanOfRange(a.lines, f.range);
    return siteSpan.start <= r.start && r.end <= siteSpan.end;
  });
  const substitutions: Substitution[] = [];
  const expansions = new Map<string, Expansion>(form.aliases ?? []);
  for (const f of mine) {
    if (!f.math?.site || !f.math.gradient) continue;
    const span = spanOfRange(a.lines, f.math.site);
    const summand = site.increment.find((s) => sameSpan(s.site, span));
    const occurrence = summand && occurrenceOf(a, summand, contextParam);
    // The rule's gradient has the site's coefficient without its sign: a site written `-lr * wd * R`
    // is replaced by −(2·lr·wd·W).
    const written = form.roots.map((r) => exprAt(r, span)).find((e) => e !== undefined);
    const parts = written ? analyzer.summands(written, site.scope, site.at) : [];
    const siteGradient = summand ? withoutOutsideCoef(analyzer, site, summand, f.math.gradient) : f.math.gradient;
    const gradient = parts.length === 1 && parts[0].sign === -1 ? { ...siteGradient, coef: neg(siteGradient.coef) } : siteGradient;
    substitutions.push({ span, gradient, param: occurrence });
    if (summand) addExpansions(site, form, summand, expansions);
  }
  // A gradient defined from another gradient of the same weight (`delta_w = grad_w + l2 * w`) is the
  // step direction: it prints as Δw, and the gradient it is built from keeps ∂L/∂w.
  if (site.kind !== 'update') {
    const probe = new SymbolTable();
    const probePrinter = new ExprPrinter({ ...base, symbols: probe, expansions });
    probePrinter.finish(formNode(form, probePrinter));
    const target = facts.source(site.target.span);
    if (probe.displaced(target)) symbols.markStepDirection(target);
  }
  // What the line computes, with step variables the findings pass through shown as their values.
  const computedPrinter = new ExprPrinter({ ...base, expansions });
  const computed = computedPrinter.finish(formNode(form, computedPrinter));
  let correct: ((f: Finding) => { tex: string; unicode: string } | undefined) | undefined;
  if (substitutions.length > 0) {
    const printer = new ExprPrinter({ ...base, substitutions, expansions });
    const printed = printer.finish(formNode(form, printer));
    if (printed.tex !== computed.tex) correct = () => printed;
    else {
      // The term is written where the printer cannot follow (an accumulated variable): show each finding's ∇R alone.
      correct = (f) => {
        const g = f.math?.site && substitutions.find((s) => sameSpan(s.span, spanOfRange(a.lines, f.math!.site!)));
        if (!g) return undefined;
        const param = g.param ? printer.paramNode(g.param) : atom(symbols.param(g.gradient.param));
        return renderMath(relNode({ k: 'apply', tex: '\\nabla R', uni: '∇R', args: [param] }, '=', '=', gradientNode(g.gradient, param, symbols)));
      };
    }
  }

  // NB404's learning rate taken and never read: the same line with its step multiplied by the rate.
  const withRate = mine.some((f) => f.code === 'NB404') ? rateApplied(a, site, form, mine) : undefined;
  const rateLine = withRate && (() => {
    const printer = new ExprPrinter({ ...base, expansions });
    return printer.finish(formNode(withRate.form, printer));
  })();

  const findingSections = mine.map((f): FindingSection => {
    const section = sectionWithOwnMath(f);
    const line = correct && f.math?.gradient ? correct(f) : f === withRate?.finding ? rateLine : undefined;
    if (line) {
      section.correctTex = line.tex;
      section.correctUnicode = line.unicode;
    }
    if (f.math?.alternative) section.alternative = f.math.alternative;
    return section;
  });

  const equivalentForms = l2Forms(a, site, form, mine, symbols, contextParam);
  // A chain of in-place calls (`vi.mul_(b).add_(…)`) updates its receiver, `vi`.
  const targetText = a.facts.source((site.kind === 'update' ? form.target : site.target).span);
  const title = site.kind === 'update' ? `Update of \`${targetText}\`` : `Gradient \`${targetText}\``;
  return {
    range: siteRange,
    kind: 'update',
    title,
    computed: { tex: computed.tex, unicode: computed.unicode, legend: symbols.legend, elided: computed.elided },
    findings: findingSections,
    equivalentForms,
  };
}

/**
 * NB404's learning rate a training function takes and never reads (facts/unusedLearningRate.ts), on
 * the update it reported: that update with its step multiplied by the rate (`W -= dW` → W ← W − η·dW,
 * `w = w - grad` → w ← w − η·grad), η standing for the rate where the code names it. The finding is
 * the one that points at where the rate is taken.
 */
function rateApplied(a: Analysis, site: UpdateSite, form: UpdateForm, mine: Finding[]): { form: UpdateForm; finding: Finding } | undefined {
  const u = unusedLearningRates(a.facts).find((x) => x.sites.some((s) => sameSpan(s.span, site.span)));
  if (!u) return undefined;
  const finding = mine.find((f) => f.code === 'NB404' && f.related.some((r) => sameSpan(spanOfRange(a.lines, r.range), u.taken)));
  if (!finding || !u.nameSpan) return undefined;
  const rate: Expr = { kind: 'name', name: u.name, span: u.nameSpan };
  if (form.op === '+' || form.op === '-') return { form: { ...form, rhs: [rate, ...form.rhs] }, finding };
  const value = form.rhs.length === 1 && !form.op ? form.rhs[0] : undefined;
  const target = exprKey(form.target);
  if (value?.kind === 'binary' && (value.op === '+' || value.op === '-') && target !== undefined && exprKey(value.left) === target) {
    const step: Expr = { kind: 'binary', op: '*', left: rate, right: value.right, span: value.right.span };
    return { form: { ...form, rhs: [{ ...value, right: step }] }, finding };
  }
  return undefined;
}

/**
 * A coefficient written outside the site (`lam` in `lam * (ΣW1² + ΣW2²)`) stays where it is written and
 * scales what replaces the site: the site is replaced by the gradient without it.
 */
function withoutOutsideCoef(analyzer: Analysis['facts']['analyzer'], site: UpdateSite, summand: Summand, gradient: Gradient): Gradient {
  const inContext = analyzer.penaltyOfSummand(summand, site.increment);
  const atSite = analyzer.penaltyOfSummand(summand);
  if (!inContext || !atSite || inContext.coef.num === 0 || atSite.coef.num === 0) return gradient;
  const outside = div(inContext.coef, atSite.coef);
  return isNumber(outside) && Math.abs(outside.num - 1) < 1e-12 ? gradient : { ...gradient, coef: div(gradient.coef, outside) };
}

/** target ← value as a math tree. */
function formNode(form: UpdateForm, printer: ExprPrinter): MathNode {
  const target = printer.node(form.target);
  let value: MathNode;
  if (form.op) {
    const rhs = mulNode(...form.rhs.map((r) => printer.node(r)));
    if (form.op === '+' || form.op === '-') value = addNode({ neg: false, m: target }, { neg: form.op === '-', m: rhs });
    else if (form.op === '*') value = mulNode(target, rhs);
    else value = { k: 'div', n: target, d: rhs };
  } else value = mulNode(...form.rhs.map((r) => printer.node(r)));
  return form.relation === 'define' ? relNode(target, '=', '=', value) : relNode(target, '\\leftarrow', '←', value);
}

/** The parameter an update is about: its target (`w[j]` stays an element), or the parameter its gradient belongs to. */
function paramOfSite(a: Analysis, site: UpdateSite, form: UpdateForm): Expr | undefined {
  if (site.kind === 'update') {
    if (a.facts.analyzer.isParam(form.target)) return form.target;
    // `v = params[name]` … `v.assign(...)`: an alias of a parameter.
    try {
      const p = a.facts.analyzer.classify(form.target, site.scope, site.at);
      return !p.tensor && !p.penalty && p.params.length === 1 && p.abs.length === 0 ? form.target : undefined;
    } catch {
      return undefined;
    }
  }
  const named = parameterOfGradient(site.target);
  // Not written in the code: an empty span keeps it out of the legend.
  if (named) return { kind: 'name', name: named, span: { start: site.target.span.start, end: site.target.span.start } };
  // `lambda g, p: g + ...`: the parameter that the increment mentions.
  for (const s of site.increment) {
    const p = safeClassify(a, s);
    const occ = p?.penalty?.params[0] ?? p?.params[0];
    if (occ) return occ.base;
  }
  return undefined;
}

function safeClassify(a: Analysis, s: Summand): Product | undefined {
  try {
    return a.facts.analyzer.classifySummand(s);
  } catch {
    return undefined;
  }
}

/** The parameter occurrence of a penalty summand, preferring the parameter this update is about. */
function occurrenceOf(a: Analysis, summand: Summand, param: Expr | undefined): Expr | undefined {
  const found = a.facts.analyzer.penaltyOfSummand(summand);
  if (!found) return undefined;
  const key = param && exprKey(baseExpr(param));
  return (found.params.find((p) => exprKey(p.base) === key) ?? found.params[0])?.expr;
}

/** Step variables the summand passed through (`W -= lr * step`): print each use as its value. */
function addExpansions(site: UpdateSite, form: UpdateForm, summand: Summand, out: Map<string, Expansion>): void {
  let roots = form.roots;
  let scope: Scope = site.scope;
  let at = site.at;
  for (const via of summand.via) {
    const use = roots.map((r) => exprAt(r, via)).find((e) => e !== undefined);
    const key = use && exprKey(use);
    const binding = key !== undefined ? scope.lookup(key, at) : undefined;
    if (!use || !binding || binding.kind !== 'assign' || !binding.value || binding.op) return;
    out.set(`${via.start}:${via.end}`, { expr: binding.value, scope: binding.scope, at: binding.at });
    roots = [binding.value];
    scope = binding.scope;
    at = binding.at;
  }
}

// ------------------------------------------------------------------ the two homes of an L2 term

/**
 * The L2 strength k of a gradient term k·W in this update (∇R = kW, R = (k/2)‖W‖²), found from an
 * NB101 penalty of the ΣW² kind, a k·W summand, or a shrink factor `(1 - lr * reg) * W`; and the
 * learning rate that scales it in an update.
 */
function l2Strength(a: Analysis, site: UpdateSite, form: UpdateForm, findings: Finding[], param: Expr | undefined): { k: Coef; lr?: string } | undefined {
  const analyzer = a.facts.analyzer;
  const paramKey = param ? exprKey(baseExpr(param)) : undefined;
  // Where a finding knows the loss's own penalty, the forms follow the loss, not the faulty line.
  for (const f of findings) {
    const defined = f.math?.lossPenalty;
    if (!defined || (defined.kind !== 'sumsq' && defined.kind !== 'elemsq')) continue;
    const k = gradientOf(defined).coef;
    const lr = site.kind === 'update' ? learningRateIn(form) : undefined;
    return lr ? { k, lr } : { k };
  }
  // G: the coefficient of W in the increment (new value = W + Σ increment), as the correct code has it.
  let G: Coef | undefined;
  for (const f of findings) {
    const pen = f.math?.penalty;
    if (!f.math?.site || !pen || (pen.kind !== 'sumsq' && pen.kind !== 'elemsq')) continue;
    const span = spanOfRange(a.lines, f.math.site);
    const summand = site.increment.find((s) => sameSpan(s.site, span));
    const total = summand && penaltyOfProduct(analyzer.classifySummand(summand));
    if (total) G = scale(total.coef, 2);
    else G = gradientOf(pen).coef;
    break;
  }
  if (!G) {
    for (const s of site.increment) {
      if (s.via.length > 0) continue; // written on another line
      const p = safeClassify(a, s);
      if (!p || p.tensor || p.penalty || p.params.length !== 1 || p.abs.length !== 0) continue;
      if (paramKey !== undefined && exprKey(p.params[0].base) !== paramKey) continue;
      const regularizing = p.coef.syms.some((x) => x.pow > 0 && !isLearningRateName(lastName(x.name))) || (isNumber(p.coef) ? true : Math.abs(p.coef.num) !== 1);
      if (!regularizing) continue;
      G = p.coef;
      break;
    }
  }
  if (!G && site.kind === 'update' && !form.op && form.rhs.length === 1) G = shrinkFactor(a, site, form.rhs[0], paramKey);
  if (!G) return undefined;
  if (site.kind !== 'update') return { k: G };
  // In an update the term is −η·k·W: find η among the symbols.
  const d = neg(G);
  const lrSym = d.syms.find((x) => x.pow === 1 && isLearningRateName(lastName(x.name)));
  if (lrSym) return { k: div(d, sym(lrSym.name)), lr: lrSym.name };
  const lrName = learningRateIn(form);
  return lrName ? { k: div(d, sym(lrName)), lr: lrName } : { k: div(d, sym('\u0000eta')) };
}

/** `(1 - lr * reg) * W`: the W-term of the increment hidden in a shrink factor, here −lr·reg. */
function shrinkFactor(a: Analysis, site: UpdateSite, value: Expr, paramKey: string | undefined): Coef | undefined {
  const analyzer = a.facts.analyzer;
  for (const s of analyzer.summands(value, site.scope, site.at)) {
    if (s.sign !== 1 || s.num.length !== 2 || s.den.length !== 0) continue;
    const selfIndex = s.num.findIndex((f) => exprKey(baseExpr(f.expr)) === paramKey);
    if (selfIndex < 0) continue;
    const factor = s.num[1 - selfIndex];
    const parts = analyzer.summands(factor.expr, factor.scope, factor.at).map((x) => analyzer.classifySummand(x));
    if (parts.length !== 2 || parts.some((p) => p.tensor || p.penalty || p.params.length > 0)) return undefined;
    const one = parts.findIndex((p) => isNumber(p.coef) && p.coef.num === 1);
    if (one < 0) return undefined;
    return parts[1 - one].coef;
  }
  return undefined;
}

function learningRateIn(form: UpdateForm): string | undefined {
  const stack = [...form.rhs];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if ((e.kind === 'name' || e.kind === 'attr') && isLearningRateName(lastName(exprKey(e) ?? ''))) return exprKey(e);
    stack.push(...children(e));
  }
  return undefined;
}

function lastName(source: string): string {
  const m = /([A-Za-z_]\w*)["'`]?\]?$/.exec(source);
  return m ? m[1] : source;
}

function l2Forms(a: Analysis, site: UpdateSite, form: UpdateForm, findings: Finding[], symbols: SymbolTable, param: Expr | undefined): EquivalentForms | undefined {
  let strength: { k: Coef; lr?: string } | undefined;
  try {
    strength = l2Strength(a, site, form, findings, param);
  } catch {
    return undefined;
  }
  // A term that grows the weights (wrong sign) has no regularizer to move: NB102 reports it.
  if (!strength || strength.k.num <= 0) return undefined;
  const printer = new ExprPrinter({ source: a.facts.source, symbols, analyzer: a.facts.analyzer, scope: site.scope, at: site.at });
  const w = param ? printer.paramNode(baseExpr(param)) : atom(symbols.param('W'));
  return equivalentForms(strength.k, w, symbols, strength.lr, a.facts.dialect);
}

const ETA = { tex: '\\eta', unicode: 'η' };

/** Loss form, update form and knobs for an L2 gradient k·W. */
function equivalentForms(k: Coef, w: MathNode, symbols: SymbolTable, lr: string | undefined, dialect: string): EquivalentForms {
  symbols.virtual('\u0000eta', ETA);
  const eta: MathNode = { ...(atom(lr ? symbols.scalar(lr) : ETA) as MathNode & { k: 'atom' }), scalar: true };
  const c = scale(k, 0.5);
  const L = (tex: string, uni: string): MathNode => ({ k: 'apply', tex, uni, args: [w] });
  const loss = renderMath(relNode(L('\\tilde{L}', 'L̃'), '=', '=', addNode({ neg: false, m: L('L', 'L') }, { neg: false, m: mulNode(coefNode(c, symbols), powNode(normNode(w), 2)) })));
  const shrink = addNode({ neg: false, m: { k: 'atom', tex: '1', uni: '1', num: 1 } }, { neg: true, m: mulNode(eta, coefNode(k, symbols)) });
  const update = renderMath(
    relNode(w, '\\leftarrow', '←', addNode({ neg: false, m: mulNode(shrink, w) }, { neg: true, m: mulNode(eta, L('\\nabla L', '∇L')) })),
  );
  const kText = renderMath(coefNode(k, symbols)).unicode;
  const cText = renderMath(coefNode(c, symbols)).unicode;
  const etaText = renderMath(eta).unicode;
  const knobs: Record<string, string> = {
    torch: `PyTorch: \`torch.optim.SGD(params, lr=${etaText}, weight_decay=${kText})\` (coupled: any torch optimizer's \`weight_decay=${kText}\` adds the same ${kText}·W to the gradient)`,
    keras: `Keras: \`kernel_regularizer=keras.regularizers.l2(${cText})\` (a penalty ${cText}·ΣW² in the loss)`,
    tf: `TensorFlow: \`loss += ${kText} * tf.nn.l2_loss(W)\` (tf.nn.l2_loss is ½ΣW²)`,
    optax: `optax: \`optax.chain(optax.add_decayed_weights(${kText}), optax.sgd(${etaText}))\``,
    tfjs: `TensorFlow.js: \`kernelRegularizer: tf.regularizers.l2({l2: ${cText}})\``,
  };
  const order: Record<string, string[]> = {
    torch: ['torch', 'keras', 'optax'],
    tf: ['keras', 'tf', 'torch'],
    jax: ['optax', 'torch', 'keras'],
    tfjs: ['tfjs', 'keras', 'torch'],
    'plain-ts': ['tfjs', 'torch', 'keras'],
  };
  const chosen = (order[dialect] ?? ['torch', 'keras', 'optax']).map((key) => knobs[key]);
  return {
    lossTex: loss.tex,
    lossUnicode: loss.unicode,
    updateTex: update.tex,
    updateUnicode: update.unicode,
    knobs: chosen,
    note:
      `For plain SGD, decoupled weight decay ${kText} is the same (Keras 3 \`SGD(weight_decay=${kText})\`, a shrink by 1 − ${etaText}·${kText} per step); ` +
      'with momentum or Adam, coupled and decoupled decay differ (Loshchilov & Hutter, Prop. 2).',
  };
}

// ------------------------------------------------------------------ penalty definitions

function explainPenaltyAt(a: Analysis, offset: number): Explanation | undefined {
  const stmts = statementsOf(a).filter((s) => contains(s.span, offset));
  // Innermost first.
  stmts.sort((x, y) => x.span.end - x.span.start - (y.span.end - y.span.start));
  for (const s of stmts) {
    if (s.kind === 'assign' && s.value.kind !== 'lambda') {
      const found = penaltyInAssignment(a, s, offset);
      const target = a.facts.source(s.targets[0].span);
      if (found) return penaltyExplanation(a, found.term, found.scope, found.at, s.span, found.whole && !s.op ? `Penalty \`${target}\`` : `Penalty added to \`${target}\``);
    }
    const fn = onHeaderOrReturn(s, offset) ? helperAt(a, s) : undefined;
    if (fn) {
      const found = penaltyOfHelper(a, fn);
      if (found) return penaltyExplanation(a, found, fn.scope, Infinity, s.span, `Penalty \`${fn.name}\``);
    }
  }
  return explainRegularizerAt(a, offset);
}

function penaltyInAssignment(a: Analysis, s: Stmt & { kind: 'assign' }, offset: number): { term: PenaltyTerm; scope: Scope; at: number; whole: boolean } | undefined {
  const scope = a.facts.scopes.stmtScopes.get(s) ?? a.facts.scopes.root;
  const at = s.span.start;
  const analyzer = a.facts.analyzer;
  const isPenalty = (t: PenaltyTerm | undefined): t is PenaltyTerm => !!t && t.params.length > 0 && t.params.every((p) => analyzer.isParam(p.base));
  // The whole value first: `reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))` is one penalty over two weights.
  const all = penaltyOfProduct(analyzer.classify(s.value, scope, at));
  if (isPenalty(all)) return { term: all, scope, at, whole: true };
  let best: PenaltyTerm | undefined;
  for (const summand of analyzer.summands(s.value, scope, at)) {
    const term = penaltyOfProduct(analyzer.classifySummand(summand));
    if (!isPenalty(term)) continue;
    if (contains(summand.site, offset)) return { term, scope, at, whole: false };
    best ??= term;
  }
  return best && { term: best, scope, at, whole: false };
}

/** A function explains itself on its header (up to its first statement) and on its return statement. */
function onHeaderOrReturn(s: Stmt, offset: number): boolean {
  if (s.kind !== 'function') return true;
  const first = s.body.find((b) => !(b.kind === 'expr' && b.expr.kind === 'str'));
  if (!first || offset < first.span.start) return true;
  return s.body.some((b) => b.kind === 'return' && contains(b.span, offset));
}

/** The helper a `def` (or `f = lambda w: ...`) statement defines. */
function helperAt(a: Analysis, s: Stmt): FunctionDef | undefined {
  const scope = a.facts.scopes.stmtScopes.get(s) ?? a.facts.scopes.root;
  if (s.kind === 'function') return scope.functions.get(s.name);
  if (s.kind === 'assign' && s.value.kind === 'lambda' && s.targets[0]?.kind === 'name') return scope.functions.get(s.targets[0].name);
  return undefined;
}

function penaltyOfHelper(a: Analysis, fn: FunctionDef): PenaltyTerm | undefined {
  const ret = fn.returns ?? (fn.body.filter((x) => x.kind === 'return').length === 1 ? (fn.body.find((x) => x.kind === 'return') as { value?: Expr }).value : undefined);
  if (!ret) return undefined;
  const analyzer = a.facts.analyzer;
  const params = fn.isMethod ? fn.params.slice(1) : fn.params;
  const attempt = (env?: Env): PenaltyTerm | undefined => {
    const p = penaltyOfProduct(analyzer.classify(ret, fn.scope, Infinity, env));
    return p && p.params.length >= 1 ? p : undefined;
  };
  const direct = attempt();
  if (direct || params.length === 0) return direct;
  // `def l2(x): return (x ** 2).sum()`: read the first parameter as the weight.
  const first = params[0];
  const env: Env = new Map([[first.name, { expr: { kind: 'name', name: 'W', span: first.span }, scope: fn.scope, at: Infinity }]]);
  return attempt(env);
}

function penaltyExplanation(a: Analysis, term: PenaltyTerm, scope: Scope, at: number, span: Span, title: string): Explanation {
  const symbols = new SymbolTable();
  const printer = new ExprPrinter({ source: a.facts.source, symbols, analyzer: a.facts.analyzer, scope, at });
  const params = term.params.slice(0, 3).map((p) => printer.paramNode(p.expr));
  const section = penaltySection(term.kind, term.coef, params, symbols);
  const explanation: Explanation = { range: a.lines.range(span), kind: 'penalty', title, findings: [], penalty: section };
  if ((term.kind === 'sumsq' || term.kind === 'elemsq') && params.length === 1) {
    explanation.equivalentForms = equivalentForms(scale(term.coef, 2), params[0], symbols, undefined, a.facts.dialect);
    section.legend = symbols.legend;
  }
  return explanation;
}

function penaltySection(kind: PenaltyKind, coef: Coef, params: MathNode[], symbols: SymbolTable): PenaltySection {
  const R = (args: MathNode[]): MathNode => ({ k: 'apply', tex: 'R', uni: 'R', args });
  const core = (p: MathNode): MathNode => penaltyNode(kind, ONE, p, symbols);
  const body: MathNode =
    params.length === 1
      ? penaltyNode(kind, coef, params[0], symbols)
      : mulNode(coefNode(coef, symbols), addNode(...params.map((p) => ({ neg: false, m: core(p) }))));
  const value = renderMath(relNode(R(params), '=', '=', body));
  const g = gradientOf({ kind, coef, param: 'W' });
  const grads = params.map((p) => {
    const lhs: MathNode = params.length === 1 ? { k: 'apply', tex: '\\nabla R', uni: '∇R', args: [p] } : { k: 'apply', tex: `\\nabla_{${renderMath(p).tex}} R`, uni: `∇_${renderMath(p).unicode}R`, args: params };
    return renderMath(relNode(lhs, '=', '=', gradientNode(g, p, symbols)));
  });
  return {
    kind,
    tex: value.tex,
    unicode: value.unicode,
    gradientTex: grads.map((x) => x.tex).join(',\\quad '),
    gradientUnicode: grads.map((x) => x.unicode).join(', '),
    subgradient: kind === 'l1' || kind === 'elemabs',
    legend: symbols.legend,
  };
}

/** Keras / tfjs / TF1 regularizer objects: the penalty they add for the weight they are attached to. */
function explainRegularizerAt(a: Analysis, offset: number): Explanation | undefined {
  let regs: RegularizerFact[];
  try {
    regs = frameworkFacts(a.facts).regularizers;
  } catch {
    return undefined;
  }
  const r = regs.filter((x) => contains(x.expr.span, offset)).sort((x, y) => x.expr.span.end - x.expr.span.start - (y.expr.span.end - y.expr.span.start))[0];
  if (!r) return undefined;
  const symbols = new SymbolTable();
  const w = atom(symbols.virtual('\u0000W', { tex: 'W', unicode: 'W' }));
  // The catalogue's factors: a value already carries the ½ of TF1's l2_regularizer; a symbol gets it here.
  const factor = (f: RegularizerFact['l1']): Coef | undefined => {
    if (f.expr && f.value === undefined) return scale(sym(a.facts.source(f.expr.span)), f.scale);
    if (f.value === undefined || f.value === 0) return undefined;
    return num(f.value);
  };
  const l1 = factor(r.l1);
  const l2 = factor(r.l2);
  const title = `Regularizer \`${a.facts.source(r.expr.span).slice(0, 60)}\``;
  const explanation: Explanation = { range: a.lines.range(r.expr.span), kind: 'penalty', title, findings: [] };
  if (l2 && !l1) {
    explanation.penalty = penaltySection('sumsq', l2, [w], symbols);
    explanation.equivalentForms = equivalentForms(scale(l2, 2), w, symbols, undefined, a.facts.dialect);
    explanation.penalty.legend = symbols.legend;
  } else if (l1 && !l2) explanation.penalty = penaltySection('l1', l1, [w], symbols);
  else if (l1 && l2) {
    const R = renderMath(relNode({ k: 'apply', tex: 'R', uni: 'R', args: [w] }, '=', '=', addNode({ neg: false, m: penaltyNode('l1', l1, w, symbols) }, { neg: false, m: penaltyNode('sumsq', l2, w, symbols) })));
    const G = renderMath(
      relNode({ k: 'apply', tex: '\\nabla R', uni: '∇R', args: [w] }, '=', '=', addNode({ neg: false, m: gradientNode({ kind: 'sign', coef: l1, param: 'W' }, w, symbols) }, { neg: false, m: gradientNode({ kind: 'linear', coef: scale(l2, 2), param: 'W' }, w, symbols) })),
    );
    explanation.penalty = { kind: 'sumsq', tex: R.tex, unicode: R.unicode, gradientTex: G.tex, gradientUnicode: G.unicode, subgradient: true, legend: symbols.legend };
  } else {
    const zero = renderMath(relNode({ k: 'apply', tex: 'R', uni: 'R', args: [w] }, '=', '=', { k: 'atom', tex: '0', uni: '0', num: 0 }));
    explanation.penalty = { kind: 'sumsq', tex: zero.tex, unicode: zero.unicode, gradientTex: '\\nabla R(W) = 0', gradientUnicode: '∇R(W) = 0', subgradient: false, legend: [] };
  }
  if (r.versionDependent) explanation.title += ' (defaults differ: 0.01/0.01 in tf-keras and Keras 2, 0/0 in Keras 3)';
  return explanation;
}

// ------------------------------------------------------------------ optimizers

function explainOptimizerAt(a: Analysis, offset: number): Explanation | undefined {
  let optimizers: OptimizerFact[];
  let chains: ChainFact[];
  try {
    const fw = frameworkFacts(a.facts);
    optimizers = fw.optimizers;
    chains = fw.chains;
  } catch {
    return undefined;
  }
  for (const chain of chains) {
    const el = chain.elements.find((x) => x.kind === 'decay' && x.call && contains(x.call.span, offset));
    if (el?.call) return decayedWeightsExplanation(a, chain, el.call, el.decay?.expr);
  }
  const size = (o: OptimizerFact): number => o.call.span.end - o.call.span.start;
  let opt = optimizers.filter((o) => contains(o.call.span, offset)).sort((x, y) => size(x) - size(y))[0];
  if (!opt) {
    // `opt = torch.optim.SGD(...)` hovered on `opt`: the construction in the statement under the cursor.
    const stmt = statementsOf(a)
      .filter((st) => contains(st.span, offset) && (st.kind === 'assign' || st.kind === 'expr'))
      .sort((x, y) => x.span.end - x.span.start - (y.span.end - y.span.start))[0];
    if (stmt) opt = optimizers.filter((o) => stmt.span.start <= o.call.span.start && o.call.span.end <= stmt.span.end).sort((x, y) => size(y) - size(x))[0];
  }
  return opt ? optimizerExplanation(a, opt) : undefined;
}

type Family = 'sgd' | 'adam' | 'adamax' | 'rmsprop' | 'adagrad' | 'other';

function family(name: string): Family {
  const n = name.toLowerCase();
  if (/^(sgd|sgdw|momentum|asgd)$/.test(n)) return 'sgd';
  if (n === 'adamax') return 'adamax';
  if (/adam|amsgrad|lamb/.test(n)) return 'adam';
  if (/rmsprop/.test(n)) return 'rmsprop';
  if (/^adagrad$/.test(n)) return 'adagrad';
  return 'other';
}

interface Step {
  tex: string;
  unicode: string;
}

/** The optimizer's own step from a gradient g_t (without any decay). */
function stepOf(fam: Family, momentum: boolean): Step {
  switch (fam) {
    case 'sgd':
      return momentum ? { tex: '\\eta\\, b_t', unicode: 'η·bₜ' } : { tex: '\\eta\\, g_t', unicode: 'η·gₜ' };
    case 'adam':
      return { tex: '\\eta\\,\\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon}', unicode: 'η·m̂ₜ/(√v̂ₜ + ε)' };
    case 'adamax':
      return { tex: '\\eta\\,\\frac{\\hat m_t}{u_t}', unicode: 'η·m̂ₜ/uₜ' };
    case 'rmsprop':
      return { tex: '\\eta\\,\\frac{g_t}{\\sqrt{v_t} + \\epsilon}', unicode: 'η·gₜ/(√vₜ + ε)' };
    case 'adagrad':
      return { tex: '\\eta\\,\\frac{g_t}{\\sqrt{s_t} + \\epsilon}', unicode: 'η·gₜ/(√sₜ + ε)' };
    default:
      return { tex: '\\eta\\,\\operatorname{step}(g_t)', unicode: 'η·step(gₜ)' };
  }
}

function optimizerExplanation(a: Analysis, opt: OptimizerFact): Explanation | undefined {
  const src = (e: Expr): string => a.facts.source(e.span);
  const legend: LegendEntry[] = [];
  const notes: string[] = [];
  const lrArg = opt.arg('lr') ?? opt.arg('learning_rate') ?? opt.arg('learningRate') ?? opt.arg('lr', opt.framework === 'torch' ? 1 : opt.framework === 'tfa' ? 1 : 0);
  if (lrArg) legend.push({ tex: '\\eta', unicode: 'η', code: src(lrArg.expr) });
  const setting = opt.decay[0];
  if (setting) legend.push({ tex: '\\lambda', unicode: 'λ', code: setting.arg ? src(setting.arg.expr) : `${setting.value} (the default)` });
  const groups = opt.decay.filter((d) => d.source === 'group').length;
  if (groups > 1) notes.push(`Param groups set ${groups} different decays; λ is the first.`);
  const fam = family(opt.name);
  const momentumArg = fam === 'sgd' ? opt.arg('momentum', opt.framework === 'torch' ? 2 : undefined) : undefined;
  const momentum = !!momentumArg && momentumArg.value !== 0;
  if (momentum && momentumArg) legend.push({ tex: '\\mu', unicode: 'μ', code: src(momentumArg.expr) });
  const step = stepOf(fam, momentum);
  const tex: string[] = [];
  const unicode: string[] = [];
  const gradient = { tex: 'g_t = \\nabla L(\\theta)', unicode: 'gₜ = ∇L(θ)' };
  if (momentum) {
    tex.push('b_t = \\mu\\, b_{t-1} + g_t');
    unicode.push('bₜ = μ·bₜ₋₁ + gₜ');
  }
  if (fam === 'adamax') {
    tex.push('u_t = \\max(\\beta_2\\, u_{t-1},\\ |g_t|)');
    unicode.push('uₜ = max(β₂·uₜ₋₁, |gₜ|)');
  }
  // tfjs reads its optimizers' arguments by position; NB203 reports the ones that look like weight decay.
  const discount = opt.framework === 'tfjs' && opt.name === 'rmsprop' ? opt.arg('decay', 1) : undefined;
  if (discount) {
    legend.push({ tex: '\\rho', unicode: 'ρ', code: src(discount.expr) });
    tex.push('v_t = \\rho\\, v_{t-1} + (1 - \\rho)\\, g_t^2');
    unicode.push('vₜ = ρ·vₜ₋₁ + (1 − ρ)·gₜ²');
    notes.push(`\`${src(discount.expr)}\` is RMSprop's discount ρ of the squared-gradient average (default 0.9), not weight decay: a small ρ forgets the history almost at once. tfjs optimizers have no weight decay.`);
  }
  const lrDecay =
    opt.framework === 'keras' ? opt.arg('decay') : opt.framework === 'torch' && opt.name === 'Adagrad' ? opt.arg('lr_decay', 2) : opt.framework === 'tfjs' && opt.name === 'adamax' ? opt.arg('decay', 4) : undefined;
  if (lrDecay && lrDecay.value !== 0) {
    notes.push(
      opt.framework === 'tfjs'
        ? `\`${src(lrDecay.expr)}\` (the fifth argument, decay) is learning-rate decay, ηₜ = η/(1 + d·t); it is not weight decay, and tfjs optimizers have none.`
        : opt.framework === 'keras'
        ? opt.legacy
          ? `\`decay=${src(lrDecay.expr)}\` is learning-rate decay, ηₜ = η/(1 + d·t) with t counting steps; it is not weight decay.`
          : `\`decay=${src(lrDecay.expr)}\` is learning-rate decay in Keras 2 (ηₜ = η/(1 + d·t)), not weight decay; Keras 3 ignores it with a warning and TF ≥ 2.11 optimizers reject it.`
        : `\`lr_decay=${src(lrDecay.expr)}\` decays the learning rate (ηₜ = η/(1 + (t−1)·d)); it is not weight decay.`,
    );
  }
  let coupling: OptimizerSection['coupling'];
  let lrScaled = true;
  const path = opt.path;
  if (opt.decayOff || !setting) {
    coupling = 'none';
    tex.unshift(gradient.tex);
    unicode.unshift(gradient.unicode);
    tex.push(`\\theta \\leftarrow \\theta - ${step.tex}`);
    unicode.push(`θ ← θ − ${step.unicode}`);
    notes.push('No weight decay: this optimizer does not shrink the weights.');
    if ((!lrDecay || lrDecay.value === 0) && !discount) return undefined;
  } else if (!opt.decoupled) {
    coupling = 'coupled';
    tex.unshift('g_t = \\nabla L(\\theta) + \\lambda\\theta');
    unicode.unshift('gₜ = ∇L(θ) + λθ');
    tex.push(`\\theta \\leftarrow \\theta - ${step.tex}`);
    unicode.push(`θ ← θ − ${step.unicode}`);
    if (fam === 'sgd' && !momentum) {
      tex.push('\\theta \\leftarrow (1 - \\eta\\lambda)\\,\\theta - \\eta\\,\\nabla L(\\theta)');
      unicode.push('θ ← (1 − ηλ)θ − η∇L(θ)');
    }
    notes.push('Coupled L2: the same as adding (λ/2)‖θ‖₂² to the loss (torch `weight_decay=λ` is the λ of L + (λ/2)‖θ‖², so a loss penalty c·‖θ‖² is `weight_decay=2c`).');
    if (fam !== 'sgd') notes.push('λθ is also divided by the adaptive denominator; decoupled decay (AdamW) is a different regularizer here (Loshchilov & Hutter, Prop. 2).');
    else if (momentum) notes.push('λθ enters the momentum buffer, so this differs from decoupled decay with momentum.');
  } else if (opt.framework === 'tfa') {
    coupling = 'decoupled';
    lrScaled = false;
    tex.unshift(gradient.tex);
    unicode.unshift(gradient.unicode);
    tex.push(`\\theta \\leftarrow (1 - \\lambda)\\,\\theta - ${step.tex}`);
    unicode.push(`θ ← (1 − λ)θ − ${step.unicode}`);
    notes.push('λ is an absolute per-step factor, not multiplied by the learning rate: with a learning-rate schedule, schedule λ too (torch AdamW(λ) ≡ tfa AdamW(η·λ) for a constant η).');
  } else {
    coupling = 'decoupled';
    tex.unshift(gradient.tex);
    unicode.unshift(gradient.unicode);
    if (opt.framework === 'optax') {
      tex.push(`\\theta \\leftarrow \\theta - \\eta\\left(\\frac{\\hat m_t}{\\sqrt{\\hat v_t + \\bar\\epsilon} + \\epsilon} + \\lambda\\theta\\right)`);
      unicode.push('θ ← θ − η(m̂ₜ/(√(v̂ₜ + ε̄) + ε) + λθ)');
    } else {
      tex.push(`\\theta \\leftarrow (1 - \\eta\\lambda)\\,\\theta - ${step.tex}`);
      unicode.push(`θ ← (1 − ηλ)θ − ${step.unicode}`);
    }
    notes.push('Decoupled weight decay: the weights shrink by 1 − ηλ per step, apart from the gradient statistics (η is the current learning rate, schedules included).');
    if (fam === 'sgd' && !momentum) notes.push('For plain SGD this equals L2 in the loss: (λ/2)‖θ‖₂², i.e. torch `SGD(weight_decay=λ)` or Keras `l2(λ/2)`.');
    else notes.push('With momentum or an adaptive step this is not L2 in the loss (Loshchilov & Hutter, Prop. 2).');
    if (opt.framework === 'keras' && /^(Adam)$/.test(opt.name)) notes.push('Keras `Adam(weight_decay=λ)` is decoupled (AdamW); torch `Adam(weight_decay=λ)` is coupled L2.');
  }
  if (opt.legacy) notes.push('Keras legacy optimizers have no `weight_decay`: use a regularizer or a new optimizer.');
  const section: OptimizerSection = { framework: opt.framework, name: path, tex, unicode, coupling, lrScaled, legend, notes };
  for (const t of tex) if (katexError(t)) throw new Error(`bad optimizer TeX: ${t}`);
  return { range: a.lines.range(opt.call.span), kind: 'optimizer', title: `\`${path}\``, findings: [], optimizer: section };
}

function decayedWeightsExplanation(a: Analysis, chain: ChainFact, call: Expr & { kind: 'call' }, rate: Expr | undefined): Explanation {
  const legend: LegendEntry[] = [];
  if (rate) legend.push({ tex: '\\lambda', unicode: 'λ', code: a.facts.source(rate.span) });
  const index = chain.elements.findIndex((e) => e.call === call);
  const before = chain.elements.slice(0, index);
  const tex = ['u \\leftarrow u + \\lambda\\theta', '\\theta \\leftarrow \\theta + u'];
  const unicode = ['u ← u + λθ', 'θ ← θ + u'];
  const notes: string[] = [];
  let coupling: OptimizerSection['coupling'] = 'coupled';
  let lrScaled = true;
  if (before.some((e) => e.kind === 'flip' || e.kind === 'optimizer' || e.kind === 'adaptive-optimizer')) {
    notes.push('This sits after the learning-rate scaling (which multiplies by −η): λθ is added with the wrong sign and pushes the weights away from 0. Put `add_decayed_weights` before the optimizer.');
    lrScaled = false;
  } else if (before.some((e) => e.kind === 'adaptive')) {
    coupling = 'decoupled';
    tex.splice(0, 2, '\\theta \\leftarrow \\theta - \\eta\\left(\\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon} + \\lambda\\theta\\right)');
    unicode.splice(0, 2, 'θ ← θ − η(m̂ₜ/(√v̂ₜ + ε) + λθ)');
    notes.push('After the adaptive scaling and before the learning rate: decoupled, lr-scaled weight decay (AdamW).');
  } else {
    tex.splice(0, 2, 'g_t = \\nabla L(\\theta) + \\lambda\\theta', '\\theta \\leftarrow \\theta - \\eta\\,\\operatorname{step}(g_t)');
    unicode.splice(0, 2, 'gₜ = ∇L(θ) + λθ', 'θ ← θ − η·step(gₜ)');
    notes.push('Before the optimizer: coupled L2 (like torch `weight_decay=λ`), the same as (λ/2)‖θ‖₂² in the loss; it also enters momentum and adaptive statistics.');
  }
  const section: OptimizerSection = { framework: 'optax', name: 'optax.add_decayed_weights', tex, unicode, coupling, lrScaled, legend, notes };
  return { range: a.lines.range(call.span), kind: 'optimizer', title: '`optax.add_decayed_weights` in `optax.chain`', findings: [], optimizer: section };
}

/** Whether any range inside a value starts, ends or lies on one of `lines`. */
export function rangesOnLines(value: unknown, lines: ReadonlySet<number>): boolean {
  if (!value || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => rangesOnLines(v, lines));
  const o = value as Record<string, unknown>;
  const start = o.start as { line?: unknown } | undefined;
  const end = o.end as { line?: unknown } | undefined;
  if (start && end && typeof start.line === 'number' && typeof end.line === 'number') {
    for (const line of lines) if (start.line <= line && line <= end.line) return true;
  }
  return Object.values(o).some((v) => rangesOnLines(v, lines));
}

