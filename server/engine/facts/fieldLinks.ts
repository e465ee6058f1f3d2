// Gradient terms a layer class writes on its own fields, paired with what other classes and
// modules do with those fields. From-scratch libraries keep a layer's weights and its
// regularization strength on the layer object (`self.weights`, `self.l2`), accumulate the penalty's
// gradient into a field in the layer's backward (`self.dweights += 2 * self.l2 * self.weights`),
// and compute the penalty in a loss class or module from whatever layer it is handed
// (`reg += layer.l2 * np.sum(layer.weights ** 2)`), while an optimizer elsewhere steps the weights
// along that field (`layer.weights += -self.lr * layer.dweights`). No name binds the two sides; the
// objects do: the penalty reads the same two fields of its object (the weights and the strength)
// that the term reads of `self`, and the step reads the weights and the gradient field of one object.
//
// The pairing is made from an entry file over the files it reaches through its imports (the file
// that wires layers, loss and optimizer together), and only for terms their own file pairs with
// no penalty.
import type { Expr, Span, Stmt } from '../ir';
import { someExpr } from './scope';
import type { Coef } from '../../math/terms';
import { coef as makeCoef } from '../../math/coef';
import type { Facts } from './index';
import type { ParsedFile } from '../document';
import type { ClassDef, FunctionDef, Scope } from './scope';
import { loopIterable } from './scope';
import { isSelfName, methodOf, returnsOf } from './resolve';
import type { UpdateSite } from './updates';
import { regGradientTerms, type RegGradientTerm } from './gradients';
import { lossFacts, penaltiesFor, type LossPenalty } from './losses';
import { ROOT_FUNCTIONS } from './catalogue';
import { isSizeSymbol } from './roles';
import { programIndex } from './program';

export interface FieldLink {
  /** A gradient term `c·self.W` whose coefficient is read from `self`'s own fields. */
  term: RegGradientTerm;
  /** The facts of the file the term is in. */
  facts: Facts;
  /** Penalties on `o.W` with a strength read from the same fields of `o`, their coefficients written on `self`. */
  penalties: LossPenalty[];
  /** The sign a correct term has in its gradient field: +1 when every step that applies the field subtracts it. */
  descentSign?: 1 | -1;
  /** A step that applies the gradient field. */
  use?: UpdateSite;
}

const MAX_FILES = 64;
const memo = new WeakMap<Facts, FieldLink[]>();

/** Links for the terms of the files the entry reaches (itself included). */
export function fieldLinks(entry: Facts): FieldLink[] {
  const known = memo.get(entry);
  if (known) return known;
  const links: FieldLink[] = [];
  memo.set(entry, links);
  const program = entry.program;
  const parsed = program.parsedOf(entry.scopes.root.span);
  if (!parsed) return links;
  const files = program.reachable(parsed, MAX_FILES);
  const factsOf = (f: ParsedFile): Facts | undefined => (f === parsed ? entry : program.facts(f));
  // The terms first, from the few files that may hold one (a layer method writing a term on its own
  // fields): most programs have none, and then no other file's facts are built for this.
  const terms: { t: RegGradientTerm; facts: Facts; field: { object: string; name: string }; strength: string[]; cls: ClassDef }[] = [];
  for (const file of files) {
    if (!mayWriteSelfFieldTerm(file)) continue;
    const facts = factsOf(file);
    if (!facts) continue;
    for (const t of regGradientTerms(facts)) {
      if (!t.param || !t.coef || t.foreign || t.site.kind === 'update') continue;
      const field = objectField(t.param.base);
      if (!field || !isSelfName(field.object)) continue;
      const strength = fieldsOf(t.coef, field.object);
      if (!strength) continue;
      const cls = programIndex(facts).enclosingFunction(t.site.scope)?.cls;
      if (cls) terms.push({ t, facts, field, strength, cls });
    }
  }
  if (terms.length === 0) return links;
  const penalties = fieldPenalties(entry);
  const uses = fieldSteps(entry);
  const pairedUses = reachedFacts(entry).flatMap(pairedMethodUses);
  if (penalties.size === 0 && uses.size === 0 && pairedUses.length === 0) return links;

  for (const { t, facts, field, strength, cls } of terms) {
    const link: FieldLink = { term: t, facts, penalties: [] };
    // Penalties only when the term's own file pairs it with none, and from another class.
    if (penaltiesFor(facts, t.ids, t.site.scope).length === 0) {
      link.penalties.push(...linkedFieldPenalties(entry, cls, field.object, field.name, strength));
    }
    const gradient = objectField(t.site.target);
    if (gradient && gradient.object === field.object) {
      const found = [...(uses.get(`${field.name}|${gradient.name}`) ?? []), ...pairedUses.filter((u) => pairsFields(program, cls, u, field.name, gradient.name))];
      const signs = new Set(found.map((u) => u.sign));
      if (signs.size === 1) [link.descentSign, link.use] = [found[0].sign === -1 ? 1 : -1, found[0].site];
    }
    if (link.penalties.length > 0 || link.descentSign !== undefined) links.push(link);
  }
  return links;
}

/** A penalty on another object's fields (`layer.l2 * np.sum(layer.weights ** 2)`), by the fields it reads. */
export interface FieldPenalty {
  p: LossPenalty;
  /** The object whose fields it reads, as written (`layer`). */
  object: string;
  /** For a penalty on `self`'s fields: the method that computes it. */
  definedIn?: FunctionDef;
}

/** A step of another object's weights along another of its fields (`o.W += -lr * o.dW`). */
export interface FieldStep {
  sign: 1 | -1;
  site: UpdateSite;
}

const reachedMemo = new WeakMap<Facts, Facts[]>();

/** The facts of the files the entry reaches through its imports (itself first). */
function reachedFacts(entry: Facts): Facts[] {
  let known = reachedMemo.get(entry);
  if (known) return known;
  const program = entry.program;
  const parsed = program.parsedOf(entry.scopes.root.span);
  known = parsed ? program.reachable(parsed, MAX_FILES).map((f) => (f === parsed ? entry : program.facts(f))) : [entry];
  reachedMemo.set(entry, known);
  return known;
}

const penaltiesMemo = new WeakMap<Facts, Map<string, FieldPenalty[]>>();

/**
 * Penalties on another object's fields in the files the entry reaches, by the fields they read:
 * `weights|l2` for `layer.l2 * np.sum(layer.weights ** 2)`. A penalty on `self`'s fields reaches a
 * loss outside its class through a method called on an instance (`data_loss + sum(layer.penalty()
 * for layer in layers)`): the instance's own penalty, paired only with terms of a class whose
 * instances run that method (its own, or inherited).
 */
export function fieldPenalties(entry: Facts): Map<string, FieldPenalty[]> {
  let penalties = penaltiesMemo.get(entry);
  if (penalties) return penalties;
  penalties = new Map();
  penaltiesMemo.set(entry, penalties);
  const program = entry.program;
  const all = reachedFacts(entry);
  for (const facts of all) {
    for (const p of lossFacts(facts).penalties) {
      const field = objectField(p.param.base);
      if (!field) continue;
      let definedIn: FunctionDef | undefined;
      if (isSelfName(field.object)) {
        const owner = program.parsedOf(p.param.base.span);
        const ownerFacts = owner && all.find((f) => f.file.id === owner.file.id);
        const index = ownerFacts ? programIndex(ownerFacts) : undefined;
        definedIn = index ? index.enclosingFunction(index.scopeAt(p.param.base.span.start)) : undefined;
        if (!definedIn?.cls || classOfPenalty(p) === definedIn.cls) continue;
      }
      const strength = fieldsOf(p.coef, field.object);
      if (!strength) continue;
      const key = `${field.name}|${strength.join(',')}`;
      penalties.set(key, [...(penalties.get(key) ?? []), { p, object: field.object, definedIn }]);
    }
  }
  return penalties;
}

/**
 * The penalties of `fieldPenalties` on `o.<weight>` with the strength `o.<strength>`, for a term of
 * a method of `cls` that reads them on `object` (`self`): those computed outside the class (a
 * penalty method of `self` only when the class's instances run it), their coefficients written on
 * `object` so that they compare with the term's.
 */
export function linkedFieldPenalties(entry: Facts, cls: ClassDef, object: string, weight: string, strength: string[]): LossPenalty[] {
  const out: LossPenalty[] = [];
  for (const { p, object: theirs, definedIn } of fieldPenalties(entry).get(`${weight}|${strength.join(',')}`) ?? []) {
    if (classOfPenalty(p) === cls) continue;
    if (definedIn && methodOf(entry.program, cls, definedIn.name) !== definedIn) continue;
    const copy = { ...p, coef: renamed(p.coef, theirs, object) };
    written.set(copy, p.coef);
    out.push(copy);
  }
  return out;
}

/** The fields of `object` a coefficient is made of (`self.l2` → ['l2']), sorted, when every other symbol is a count of examples. */
export function objectFieldsOf(c: Coef, object: string): string[] | undefined {
  return fieldsOf(c, object);
}

const stepsMemo = new WeakMap<Facts, Map<string, FieldStep[]>>();

/** Steps of another object's weights along another of its fields in the files the entry reaches: `o.W += -lr * o.dW`, by `W|dW`. */
export function fieldSteps(entry: Facts): Map<string, FieldStep[]> {
  let uses = stepsMemo.get(entry);
  if (uses) return uses;
  uses = new Map();
  stepsMemo.set(entry, uses);
  for (const facts of reachedFacts(entry)) {
    for (const site of facts.updates) {
      if (site.kind !== 'update') continue;
      const target = objectField(site.target);
      if (!target || isSelfName(target.object)) continue;
      for (const s of site.increment) {
        const use = fieldUse(facts, s, (e) => {
          const o = objectField(e);
          return o && o.object === target.object ? o.name : undefined;
        }, target.object);
        if (!use) continue;
        const key = `${target.name}|${use.field}`;
        uses.set(key, [...(uses.get(key) ?? []), { sign: use.sign, site }]);
      }
    }
  }
  return uses;
}

const selfFieldTerms = new WeakMap<ParsedFile, boolean>();

/**
 * Whether a file has a method statement that writes a field of its instance from a product of two
 * or more of the instance's fields (`self.dW += 2 * self.l2 * self.W`): what a term `fieldLinks`
 * pairs needs at least, read off the IR once per parse.
 */
function mayWriteSelfFieldTerm(file: ParsedFile): boolean {
  let known = selfFieldTerms.get(file);
  if (known !== undefined) return known;
  const isSelfField = (e: Expr): boolean => e.kind === 'attr' && e.object.kind === 'name' && isSelfName(e.object.name);
  const product = (e: Expr): boolean => {
    let fields = 0;
    let multiplies = false;
    someExpr(e, (x) => {
      if (isSelfField(x)) fields++;
      if (x.kind === 'binary' && x.op === '*') multiplies = true;
      return fields >= 2 && multiplies;
    });
    return fields >= 2 && multiplies;
  };
  const visit = (stmts: readonly Stmt[]): boolean =>
    stmts.some((st) => {
      if (st.kind === 'assign') return st.targets.some(isSelfField) && product(st.value);
      if (st.kind === 'function' || st.kind === 'class' || st.kind === 'for' || st.kind === 'block') return visit(st.body);
      return false;
    });
  known = visit(file.module.body);
  selfFieldTerms.set(file, known);
  return known;
}

const written = new WeakMap<LossPenalty, Coef>();

/** A penalty's coefficient as its code writes it (a linked penalty's is compared written on `self`). */
export function writtenCoef(p: LossPenalty): Coef {
  return written.get(p) ?? p.coef;
}

/** Where a file's span is, for a message read in another file: `line 24 of loss.py`. */
export function placeOf(facts: Facts, span: Span, line: string): string {
  const other = facts.program.parsedOf(span);
  if (!other || other.file.id === facts.file.id) return line;
  return `${line} of ${other.file.path.replace(/^.*\//, '')}`;
}

/** `layer.weights` → { object: 'layer', name: 'weights' }. */
function objectField(e: Expr): { object: string; name: string } | undefined {
  if (e.kind !== 'attr' || e.object.kind !== 'name') return undefined;
  return { object: e.object.name, name: e.name };
}

/**
 * The fields of `object` a coefficient is made of (`layer.l2 / n` → ['l2']), when it holds at least
 * one and every other symbol is a count of examples; undefined otherwise.
 */
function fieldsOf(c: Coef, object: string): string[] | undefined {
  const fields: string[] = [];
  for (const s of c.syms) {
    if (s.name.startsWith(`${object}.`) && /^[A-Za-z_]\w*$/.test(s.name.slice(object.length + 1))) {
      if (s.pow <= 0) return undefined;
      fields.push(s.name.slice(object.length + 1));
    } else if (!isSizeSymbol(s.name)) return undefined;
  }
  return fields.length > 0 ? fields.sort() : undefined;
}

/** The coefficient with `from.x` written as `to.x`, so it compares with the term's. */
function renamed(c: Coef, from: string, to: string): Coef {
  return makeCoef(c.num, c.syms.map((s) => (s.name.startsWith(`${from}.`) ? { name: `${to}.${s.name.slice(from.length + 1)}`, pow: s.pow } : s)));
}

function classOfPenalty(p: LossPenalty): unknown {
  const fn: FunctionDef | undefined = p.site.fn;
  return fn?.cls;
}

/**
 * `for param, inc in zip(layer.params(), layer.param_incs()): param -= lr * inc`: a step of the
 * elements of one object's two lists, taken side by side. Which fields they are is read off the
 * methods of the class whose term is being paired (`pairsFields`).
 */
interface PairedUse {
  params: string;
  grads: string;
  sign: 1 | -1;
  site: UpdateSite;
}

function pairedMethodUses(facts: Facts): PairedUse[] {
  const out: PairedUse[] = [];
  for (const site of facts.updates) {
    if (site.kind !== 'update' || site.target.kind !== 'name') continue;
    const own = zipElement(site.scope, site.target.name, site.at);
    if (!own) continue;
    for (const s of site.increment) {
      const use = fieldUse(facts, s, (e) => {
        if (e.kind !== 'name') return undefined;
        const other = zipElement(site.scope, e.name, site.at);
        return other && other.iter === own.iter && other.object === own.object && other.method !== own.method ? other.method : undefined;
      }, own.object);
      if (use) out.push({ params: own.method, grads: use.field, sign: use.sign, site });
    }
  }
  return out;
}

/** A loop variable that walks `o.m()` (or `o.m`) inside `zip(...)`: the zip call, `o` and `m`. */
function zipElement(scope: Scope, name: string, at: number): { iter: Expr; object: string; method: string } | undefined {
  const b = scope.lookup(name, at);
  if (b?.kind !== 'loop' || !b.loop) return undefined;
  const iter = loopIterable(b.loop);
  if (iter.kind !== 'call' || iter.callee.kind !== 'name' || iter.callee.name !== 'zip') return undefined;
  let arg = iter.args[b.loop.position];
  if (arg?.kind === 'call' && arg.args.length === 0) arg = arg.callee;
  const field = arg && objectField(arg);
  return field && !isSelfName(field.object) ? { iter, object: field.object, method: field.name } : undefined;
}

/**
 * Does the class list `self.<param>` and `self.<grad>` at one place of the two methods a paired
 * step walks (`return self.W, self.b` and `return self.dW, self.db`)?
 */
function pairsFields(program: Facts['program'], cls: ClassDef, use: PairedUse, param: string, grad: string): boolean {
  const params = selfFieldList(program, methodOf(program, cls, use.params));
  const grads = selfFieldList(program, methodOf(program, cls, use.grads));
  if (!params || !grads || params.length !== grads.length) return false;
  const at = params.indexOf(param);
  return at >= 0 && params.lastIndexOf(param) === at && grads[at] === grad;
}

/** The fields a method returns as one tuple or list of `self.x`, in order. */
function selfFieldList(program: Facts['program'], fn: FunctionDef | undefined): string[] | undefined {
  if (!fn) return undefined;
  const returned = returnsOf(program, fn);
  if (returned.length !== 1 || returned[0].expr.kind !== 'seq') return undefined;
  const fields: string[] = [];
  for (const item of returned[0].expr.items) {
    const field = objectField(item);
    if (!field || !isSelfName(field.object)) return undefined;
    fields.push(field.name);
  }
  return fields;
}

/**
 * A summand that is `±c · object.field` (over a root denominator) with c a positive scalar (a learning
 * rate): the field, and
 * the sign with which it enters the step.
 */
function fieldUse(facts: Facts, s: UpdateSite['increment'][number], fieldOf: (e: Expr) => string | undefined, object: string): { field: string; sign: 1 | -1 } | undefined {
  const a = facts.analyzer;
  if (!s.den.every((f) => isRootDenominator(facts, f))) return undefined;
  let field: string | undefined;
  let sign: number = s.sign;
  for (const f of s.num) {
    const own = fieldOf(f.expr);
    if (own !== undefined) {
      if (field !== undefined) return undefined;
      field = own;
      continue;
    }
    // The stepping object's own setting (`self.current_learning_rate`, however it is computed): a rate.
    if (f.expr.kind === 'attr' && f.expr.object.kind === 'name' && isSelfName(f.expr.object.name) && f.expr.object.name !== object) continue;
    const p = a.classify(f.expr, f.scope, f.at, f.env);
    if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length) return undefined;
    // Plain names and attributes are taken as positive (a learning rate), as steps.ts does; not `(1 - mu)`.
    if (!p.coef.syms.every((x) => /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(x.name))) return undefined;
    sign *= Math.sign(p.coef.num);
  }
  if (field === undefined || sign === 0) return undefined;
  return { field, sign: sign > 0 ? 1 : -1 };
}

/** `np.sqrt(cache) + eps`, `sqrt(v)`: an adaptive denominator, positive (a root plus a scalar ε). */
function isRootDenominator(facts: Facts, f: UpdateSite['increment'][number]['den'][number]): boolean {
  const isRoot = (e: Expr): boolean => e.kind === 'call' && (e.callee.kind === 'attr' || e.callee.kind === 'name') && ROOT_FUNCTIONS.has(e.callee.name);
  const e = f.expr;
  if (isRoot(e)) return true;
  if (e.kind !== 'binary' || e.op !== '+') return false;
  const [root, other] = isRoot(e.left) ? [e.left, e.right] : isRoot(e.right) ? [e.right, e.left] : [undefined, undefined];
  if (!root || !other) return false;
  if (other.kind === 'attr' && other.object.kind === 'name' && isSelfName(other.object.name)) return true; // `self.epsilon`
  const p = facts.analyzer.classify(other, f.scope, f.at, f.env);
  return !p.tensor && !p.penalty && p.params.length === 0 && p.coef.num > 0;
}
