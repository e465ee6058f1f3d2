// Penalty-gradient terms that multiply the gradient they are added to: `self.dweights += 2 *
// self.l2 * self.dweights`, `dW = dW + 2 * reg * dW`. The gradient of λ·ΣW² is 2λ·W; 2λ·dW is the
// gradient of no penalty of W (dW is the data's gradient, not a function of W alone), so the term
// only rescales the data gradient by (1 + 2λ) and the penalty never reaches the update. That holds
// whether or not a loss with the penalty is in sight.
//
// Read by data flow: the statement adds to a gradient G a product of scalars and G itself (`G += c·G`,
// `G = G + c·G`, the product written in place or held in a local given it once), with no other
// summand; G is no weight and no optimizer state. The weight W whose gradient G is: a term of W's
// penalty gradient added to the same G (`self.dweights += l1 * np.sign(self.weights)`), a step of
// another object's W along its G (`layer.weights += -lr * layer.dweights`, fieldLinks.ts), or, last,
// the gradient's name (`dW` → `W`, roles.ts). The strength is W's penalty strength:
//
// - `loss`: a penalty of the same model's loss (the same function, class, or a caller of both)
//   carries the same strength on W;
// - `linked`: a loss class or module the entry reaches computes the penalty from whatever layer it
//   is handed, reading the same two fields (`layer.l2 * np.sum(layer.weights ** 2)`, fieldLinks.ts);
// - `named`: no loss in sight, and the strength is named as a regularization strength (roles.ts);
//   the names are the last resort, and the shape (a gradient plus a multiple of itself) is what
//   says the term is wrong.
//
// Not these: `v = mu * v + g` (a buffer blended with something else), `g *= scale` (a rescale written
// as one), `G = (1 - a) * G + a * G2` (a blend of two gradients), a term that multiplies the weight.
import type { Expr, Span, Stmt } from '../ir';
import type { Coef } from '../../math/terms';
import type { Facts } from './index';
import type { ParsedFile } from '../document';
import type { ClassDef, FunctionDef, Scope } from './scope';
import { coef as makeCoef, div, mul } from '../../math/coef';
import { exprKey, lastComponent } from './keys';
import { fileIdOf } from '../source';
import { definedInFile, ownStatements, programIndex, spanKey, type ProgramIndex } from './program';
import { lossFacts, type LossPenalty } from './losses';
import { regGradientTerms } from './gradients';
import { isLearningRateName, isRegularizationStrengthName, isSizeSymbol, isStateLike, parameterOfGradient } from './roles';
import { fieldSteps, linkedFieldPenalties, objectFieldsOf } from './fieldLinks';
import { baseClasses, isSelfName } from './resolve';
import { eligiblePenalty, misreadPenaltyTerms, penaltyPlace, productFactors, sameModel, strengthNames } from './penaltyGradientOperand';

export interface SelfScaledGradient {
  /** The term as written (or the local's value): `2 * self.l2 * self.dweights`. */
  term: Expr;
  /** The gradient as the term reads it. */
  operand: Expr;
  /** The gradient the statement adds the term to. */
  target: Expr;
  /** The term's scalar coefficient (`2·self.l2`), read in `scope` at `at`. */
  coef: Coef;
  scope: Scope;
  at: number;
  /** The weight whose gradient the target is, as written (`self.weights`, `W`). */
  weight: string;
  how: 'loss' | 'linked' | 'named';
  /** For `loss` and `linked`: the penalty whose strength the term carries, and where it is written. */
  penalty?: LossPenalty;
  penaltyAt?: Span;
}

const MAX_FILES = 64;
const cache = new WeakMap<Facts, SelfScaledGradient[]>();

/** The terms of the entry's file (every kind), and of the files it reaches (`linked` only). */
export function selfScaledGradients(entry: Facts): SelfScaledGradient[] {
  let found = cache.get(entry);
  if (found) return found;
  found = [];
  cache.set(entry, found);
  const program = entry.program;
  const parsed = program.parsedOf(entry.scopes.root.span);
  if (!parsed) return found;
  const seen = new Set(misreadPenaltyTerms(entry).map((m) => spanKey(m.term.span)));
  for (const file of program.reachable(parsed, MAX_FILES)) {
    const own = file === parsed;
    if (!mayScaleOwnGradient(file, !own)) continue;
    const facts = own ? entry : program.facts(file);
    const index = programIndex(facts);
    for (const fn of index.functions) {
      if (!definedInFile(facts, fn)) continue;
      for (const c of candidates(facts, fn)) {
        if (seen.has(spanKey(c.term.span))) continue;
        const hit = judge(entry, facts, index, fn, c, own);
        if (!hit) continue;
        seen.add(spanKey(c.term.span));
        found.push(hit);
      }
    }
  }
  return found;
}

interface Candidate {
  stmt: Stmt & { kind: 'assign' };
  target: Expr;
  term: Expr;
  operand: Expr;
  coef: Coef;
  /** The strength symbols as written (`self.l2`), counts of examples aside. */
  strengths: string[];
  scope: Scope;
}

const shapeMemo = new WeakMap<ParsedFile, { any: boolean; fields: boolean }>();

/**
 * Whether a file may hold such a term, read off the IR once per parse: a statement that adds to its
 * target a product that reads the target (or a local). `fieldsOnly`: a target that is a field of the
 * instance, the product written in place (what another file's run looks for).
 */
function mayScaleOwnGradient(file: ParsedFile, fieldsOnly: boolean): boolean {
  let known = shapeMemo.get(file);
  if (!known) {
    known = { any: false, fields: false };
    const visit = (stmts: readonly Stmt[], depth: number): void => {
      if (depth > 60) return;
      for (const s of stmts) {
        if (s.kind === 'assign') {
          const shape = syntacticShape(s);
          if (shape) {
            known!.any = true;
            const t = s.targets[0];
            if (shape === 'inline' && t.kind === 'attr' && t.object.kind === 'name' && isSelfName(t.object.name)) known!.fields = true;
          }
        } else if (s.kind === 'function' || s.kind === 'class' || s.kind === 'for' || s.kind === 'block') visit(s.body, depth + 1);
      }
    };
    visit(file.module.body, 0);
    shapeMemo.set(file, known);
  }
  return fieldsOnly ? known.fields : known.any;
}

/** `G += <product reading G>`, `G = G + <product reading G>` ('inline'), or the same with a local for the product ('local'). */
function syntacticShape(s: Stmt & { kind: 'assign' }): 'inline' | 'local' | undefined {
  if (s.targets.length !== 1) return undefined;
  const key = exprKey(s.targets[0]);
  if (key === undefined) return undefined;
  let added: Expr | undefined;
  if (s.op === '+') added = s.value;
  else if (!s.op && s.value.kind === 'binary' && s.value.op === '+') {
    if (exprKey(s.value.left) === key) added = s.value.right;
    else if (exprKey(s.value.right) === key) added = s.value.left;
  }
  if (!added) return undefined;
  if (added.kind === 'name') return 'local';
  return productOf(added)?.num.some((f) => exprKey(f) === key) ? 'inline' : undefined;
}

/** The factors of a product of `*` and `/` (penaltyGradientOperand.ts); undefined for anything else. */
function productOf(e: Expr): { num: Expr[]; den: Expr[] } | undefined {
  return e.kind === 'binary' && (e.op === '*' || e.op === '/') ? productFactors(e) : undefined;
}

/** The statements of a function that add to a gradient a positive scalar multiple of that gradient. */
function candidates(facts: Facts, fn: FunctionDef): Candidate[] {
  const out: Candidate[] = [];
  const a = facts.analyzer;
  for (const s of ownStatements(fn.body)) {
    if (s.kind !== 'assign' || !syntacticShape(s)) continue;
    const target = s.targets[0];
    const key = exprKey(target)!;
    const scope = facts.scopes.stmtScopes.get(s) ?? fn.scope;
    let added = s.op === '+' ? s.value : s.value.kind === 'binary' ? (exprKey(s.value.left) === key ? s.value.right : s.value.left) : undefined;
    if (!added) continue;
    let at = s.span.start;
    if (added.kind === 'name') {
      // A local given the product once, before: `reg_term = 2 * lam * dW; dW += reg_term`.
      const b = scope.lookup(added.name, at);
      if (!b || b.kind !== 'assign' || b.op || !b.value || b.unpacked || b.scope !== scope) continue;
      added = b.value;
      at = b.at;
    }
    const factors = productOf(added);
    if (!factors) continue;
    const own = factors.num.filter((f) => exprKey(f) === key);
    if (own.length !== 1) continue;
    // Every other factor a scalar: the product is c·G, nothing else of G's shape.
    let c = makeCoef(1, []);
    let scalar = true;
    for (const [list, inverted] of [[factors.num, false], [factors.den, true]] as const) {
      for (const f of list) {
        if (f === own[0]) continue;
        const p = a.classify(f, scope, at);
        if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length) scalar = false;
        c = inverted ? div(c, p.coef) : mul(c, p.coef);
      }
    }
    if (!scalar || c.num <= 0) continue;
    const strengths = c.syms.filter((x) => x.pow > 0 && !isSizeSymbol(x.name)).map((x) => x.name);
    if (strengths.length === 0 || c.syms.some((x) => x.pow < 0 && !isSizeSymbol(x.name))) continue;
    out.push({ stmt: s, target, term: added, operand: own[0], coef: c, strengths, scope });
  }
  return out;
}

/** The weight and the evidence that the candidate's strength is its penalty's; undefined when there is none. */
function judge(entry: Facts, facts: Facts, index: ProgramIndex, fn: FunctionDef, c: Candidate, own: boolean): SelfScaledGradient | undefined {
  const a = facts.analyzer;
  const at = c.stmt.span.start;
  if (a.isParam(c.target, c.scope, at) || isStateLike(c.target)) return undefined;
  const weight = weightOf(entry, facts, fn, c);
  if (!weight) return undefined;
  const base = { term: c.term, operand: c.operand, target: c.target, coef: c.coef, scope: c.scope, at: c.stmt.span.start, weight: weight.text };
  const field = selfField(c.target);
  // Another module's loss, read off the same fields of the layer it is handed.
  if (field && fn.cls && weight.field) {
    const fields = objectFieldsOf(c.coef, field.object);
    if (fields) {
      const linked = linkedFieldPenalties(entry, fn.cls, field.object, weight.field, fields).filter(eligiblePenalty);
      // Named where the loss writes it (`layer.l2 * np.sum(layer.weights ** 2)`), not where a caller's call reads it through.
      const p = linked.find((x) => fileIdOf(x.span.start) === fileIdOf(x.param.expr.span.start)) ?? linked[0];
      if (p) return { ...base, how: 'linked', penalty: p, penaltyAt: p.span };
    }
  }
  if (!own) return undefined;
  // The same model's loss: the same strength on the same weight.
  const names = new Set(c.strengths.map((n) => n.replace(/^.*\./, '')));
  for (const p of lossFacts(facts).penalties) {
    if (!eligiblePenalty(p) || !strengthNames(p).some((n) => names.has(n)) || !sameWeight(p, weight.key)) continue;
    if (!sameModel(index, fn, p)) continue;
    return { ...base, how: 'loss', penalty: p, penaltyAt: penaltyPlace(index, p) };
  }
  // No loss in sight: the strength's name, last.
  if (c.strengths.some(isRegularizationStrengthName) && !c.strengths.some(isLearningRateName)) return { ...base, how: 'named' };
  return undefined;
}

function sameWeight(p: LossPenalty, key: string): boolean {
  const theirs = exprKey(p.param.base);
  if (theirs === undefined) return false;
  const strip = (k: string): string => k.replace(/^(self|this)\./, '');
  return strip(theirs) === strip(key) || p.ids.includes(strip(key));
}

function selfField(e: Expr): { object: string; name: string } | undefined {
  return e.kind === 'attr' && e.object.kind === 'name' && isSelfName(e.object.name) ? { object: e.object.name, name: e.name } : undefined;
}

/**
 * The weight whose gradient the target is: the weight of a penalty-gradient term added to the same
 * target, the one a step elsewhere moves along this field of another object, or the one its name
 * says (`dW`, `self.dweights`), which must be a field of the class or a name in scope.
 */
function weightOf(entry: Facts, facts: Facts, fn: FunctionDef, c: Candidate): { text: string; key: string; field?: string } | undefined {
  const key = exprKey(c.target)!;
  const field = selfField(c.target);
  for (const t of regGradientTerms(facts)) {
    if (!t.param || t.foreign || exprKey(t.site.target) !== key || programIndex(facts).enclosingFunction(t.site.scope) !== fn) continue;
    const k = exprKey(t.param.base);
    if (k === undefined || k === key) continue;
    const w = selfField(t.param.base);
    return { text: facts.source(t.param.base.span), key: k, field: field && w && w.object === field.object ? w.name : undefined };
  }
  if (field && fn.cls) {
    const stepped = new Set<string>();
    for (const [k] of fieldSteps(entry)) if (k.endsWith(`|${field.name}`)) stepped.add(k.slice(0, k.indexOf('|')));
    if (stepped.size === 1) {
      const w = [...stepped][0];
      if (w !== field.name && hasField(facts, fn.cls, `${field.object}.${w}`)) return { text: `${field.object}.${w}`, key: `${field.object}.${w}`, field: w };
    }
  }
  const named = parameterOfGradient(c.target);
  if (!named || named === lastComponent(c.target)) return undefined;
  if (field) {
    if (!fn.cls || !hasField(facts, fn.cls, `${field.object}.${named}`)) return undefined;
    return { text: `${field.object}.${named}`, key: `${field.object}.${named}`, field: named };
  }
  if (c.target.kind !== 'name' || !/^[A-Za-z_]\w*$/.test(named) || !c.scope.lookup(named, c.stmt.span.start)) return undefined;
  return { text: named, key: named };
}

/** Whether a method of the class (or of a base) writes `self.<name>`. */
function hasField(facts: Facts, cls: ClassDef, member: string): boolean {
  return [cls, ...baseClasses(facts.program, cls)].some((k) => (k.scope.members.get(member)?.length ?? 0) > 0);
}
