// A torch no-decay group chosen by parameter name that misses the model's own normalization
// layers (NB204): the HF-style `no_decay = ["bias", "LayerNorm.weight"]`, or `name.endswith(".bias")
// or "_bn" in name`, applied to a model whose norm layers are `self.bn1`, `self.norm`, or an entry of
// an `nn.Sequential`. The test matches nothing but the biases, so the norms' scales stay in the
// decayed group.
//
// Decided from the model's own parameter names: the filter is a condition over the name of
// `for n, p in model.named_parameters()` (a loop appending to two lists, or a comprehension in a
// group dict) that routes a parameter to the group whose `weight_decay` is 0, opposite a group
// whose decay is a positive number. The model is followed to where it is built (facts/loops.ts'
// model resolution, any file of the program; a helper's `model` parameter through the call that
// hands it one, with the call's arguments for the helper's knobs), and each normalization layer
// (facts/catalogue.ts `layerDecayExempt`) gets its scale's name from where it is stored: the
// attribute it is assigned to (`self.bn1 = nn.BatchNorm2d(c)` → `….bn1.weight`) or its place in a
// Sequential (`self.proj = nn.Sequential(conv, nn.BatchNorm2d(c))` → `….proj.1.weight`). The
// condition is evaluated on that name with the unknown prefix left open: it is a miss only when
// every test it makes is decided (substring, suffix, membership in a list of strings, `any(...)`
// over such a list, `and`/`or`/`not`) and false. Anything else (a shape test `p.ndim <= 1`, a
// module-type test, an unresolved list, a prefix test) keeps it silent, as does a pattern that an
// attribute name of the model's classes contains (it may select a whole submodule), a model not in
// sight, and a norm stored any other way (a local, a ModuleDict).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { explicitParams, type FunctionDef, type Scope } from './scope';
import { fileBodies, ownStatements, programIndex, type CallSite } from './program';
import { appendSplit, listWrites } from './parameterSplit';
import { resolveCall } from './resolve';
import { callName, subExprs, stmtExprs, trainingFacts, type LayerProbe, type TrainingFacts } from './loops';
import { layerAt, type DecayExemptLayer } from './decayTargets';
import { frameworkFacts } from './frameworks';
import { ALL_BUILTIN, ANY_BUILTIN, STRING_PREFIX_TEST, STRING_SUFFIX_TEST, TORCH_DECAY_GROUP_KEY, TORCH_NAMED_PARAMETERS, TORCH_NORM_SCALE_NAME, TORCH_PARAMS_GROUP_KEY, TORCH_SUBMODULE_NAMING, isSequentialModel } from './catalogue';

type Call = Expr & { kind: 'call' };

export interface MissedNorm {
  /** The condition that sends a parameter to the undecayed group (`name.endswith(".bias") or "_bn" in name`). */
  filter: Expr;
  /** The normalization layer the filter misses. */
  layer: DecayExemptLayer;
  /** Its scale's name as far as the model gives it (`bn1.weight`, `proj.1.weight`). */
  name: string;
  /** The decayed group's `weight_decay`, and its value. */
  decayExpr: Expr;
  decay: number;
  /** The call that hands a helper the model (absent when the filter reads a model of its own scope). */
  call?: Call;
}

/** A name filter found in a function's (or the module's) own statements. */
interface Filter {
  /** The conditions that all hold for an undecayed parameter (negated: none of them... see `undecayedWhen`). */
  cond: Expr;
  /** Whether a parameter is undecayed when `cond` holds (the `if` branch) or when it fails (the `else`). */
  undecayedWhen: boolean;
  nameVar: string;
  /** `model` of `model.named_parameters()`. */
  model: Expr;
  /** The decayed group's `weight_decay` expression. */
  decayExpr: Expr;
  fn?: FunctionDef;
  facts: Facts;
}

/** How a helper's parameters are bound: the call, where it is read, the caller's facts. */
interface Binding {
  fn: FunctionDef;
  call: Call;
  scope: Scope;
  at: number;
  facts: Facts;
}

const filterCache = new WeakMap<object, Filter[]>();
const resultCache = new WeakMap<Facts, MissedNorm[]>();

/** This file's no-decay name filters that miss the model's norm layers (once per filter). */
export function missedNormFilters(facts: Facts): MissedNorm[] {
  let found = resultCache.get(facts);
  if (!found) resultCache.set(facts, (found = collect(facts)));
  return found;
}

function collect(facts: Facts): MissedNorm[] {
  if (facts.language !== 'python') return [];
  const ownText = facts.source(facts.scopes.root.span).includes(TORCH_NAMED_PARAMETERS);
  const out: MissedNorm[] = [];
  const seen = new Set<Expr>();
  const index = programIndex(facts);
  // Filters over a model of their own scope: the module's statements and every function of this file.
  const bodies = fileBodies(facts);
  for (const { stmts, fn } of ownText ? bodies : []) {
    for (const f of filtersOf(facts, stmts, fn)) {
      if (seen.has(f.cond) || isParamOf(f.fn, f.model)) continue;
      const miss = judge(f, undefined);
      if (miss) {
        seen.add(f.cond);
        out.push(miss);
      }
    }
  }
  // A helper (this file's or another module's) handed the model by a call of this file.
  for (const site of index.calls) {
    if (!site.call.args.length && !site.call.kwargs.length) continue;
    const target = resolveCall(facts.program, site.call, site.scope, site.at);
    const fn = target?.fn;
    if (!fn || target.constructs || fn.cls) continue;
    const parsed = facts.program.parsedOf(fn.span);
    if (!parsed) continue;
    const helperFacts = facts.program.facts(parsed);
    if (!readsNames(helperFacts, fn)) continue;
    for (const f of filtersOf(helperFacts, fn.body, fn)) {
      if (seen.has(f.cond) || !isParamOf(fn, f.model)) continue;
      const miss = judge(f, { fn, call: site.call, scope: site.scope, at: site.at, facts });
      if (miss) {
        seen.add(f.cond);
        out.push(miss);
      }
    }
  }
  return out;
}

const namesRead = new WeakMap<FunctionDef, boolean>();

/** Whether a function's text reads `named_parameters` at all (a cheap gate before its statements are read). */
function readsNames(facts: Facts, fn: FunctionDef): boolean {
  let known = namesRead.get(fn);
  if (known === undefined) namesRead.set(fn, (known = facts.source(fn.span).includes(TORCH_NAMED_PARAMETERS)));
  return known;
}

function isParamOf(fn: FunctionDef | undefined, e: Expr): boolean {
  return !!fn && e.kind === 'name' && explicitParams(fn).some((p) => p.name === e.name && !p.rest);
}

// ---------------------------------------------------------------- finding the filters

function filtersOf(facts: Facts, stmts: Stmt[], fn: FunctionDef | undefined): Filter[] {
  const key = fn ?? stmts;
  let found = filterCache.get(key);
  if (!found) filterCache.set(key, (found = findFilters(facts, stmts, fn)));
  return found;
}

interface Group {
  params: Expr;
  decay: Expr;
}

function findFilters(facts: Facts, stmts: Stmt[], fn: FunctionDef | undefined): Filter[] {
  const own = ownStatements(stmts);
  const groups: Group[] = [];
  const assigned = new Map<string, Expr[]>();
  // How often a name is written: assigned (`xs = []`, `a, b = [], []`, `xs += more`) or changed by a method (`xs.append(p)`).
  const writes = listWrites(own);
  const loops: (Stmt & { kind: 'for' })[] = [];
  for (const s of own) {
    if (s.kind === 'for') loops.push(s);
    if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name') {
      const list = assigned.get(s.targets[0].name) ?? [];
      list.push(s.value);
      assigned.set(s.targets[0].name, list);
    }
    for (const e of stmtExprs(s)) {
      for (const x of subExprs(e)) {
        if (x.kind !== 'object') continue;
        const params = x.entries.find((k) => k.name === TORCH_PARAMS_GROUP_KEY)?.value;
        const decay = x.entries.find((k) => k.name === TORCH_DECAY_GROUP_KEY)?.value;
        if (params && decay) groups.push({ params, decay });
      }
    }
  }
  if (groups.length < 2) return [];
  const source = (e: Expr): string => facts.source(e.span);
  const out: Filter[] = [];
  const valueOf = (e: Expr): Expr => {
    if (e.kind !== 'name') return e;
    const values = assigned.get(e.name);
    return values && values.length === 1 ? values[0] : e;
  };
  // Comprehensions: `{"params": [p for n, p in model.named_parameters() if COND], "weight_decay": 0.0}`
  // opposite a group over the same parameters with the opposite condition.
  for (const g of groups) {
    if (!isZero(g.decay)) continue;
    const c = namedComprehension(valueOf(g.params));
    if (!c) continue;
    for (const other of groups) {
      if (other === g || isZero(other.decay)) continue;
      const d = namedComprehension(valueOf(other.params));
      if (!d || source(d.model) !== source(c.model) || !opposite(c.cond, d.cond, source)) continue;
      out.push({ cond: c.cond, undecayedWhen: true, nameVar: c.nameVar, model: c.model, decayExpr: other.decay, fn, facts });
      break;
    }
  }
  // Loops: `for n, p in model.named_parameters(): if COND: a.append(p) else: b.append(p)`.
  for (const loop of loops) {
    const pair = namePair(loop.target);
    const model = namedParametersOf(loop.iter);
    if (!pair || !model) continue;
    // A guard (`if not p.requires_grad: continue`) that does not read the name.
    const split = appendSplit(loop.body, pair.value, (cond) => !mentions(cond, pair.name));
    if (!split) continue;
    // Each list is built by its start and the loop's append alone: a list moved or grown afterwards
    // (`no_decay += [p for p in decay if p.ndim == 1]`) holds more than the filter chose.
    if ((writes.get(split.then) ?? 0) > 2 || (writes.get(split.else) ?? 0) > 2) continue;
    const groupOf = (list: string): Group | undefined => groups.find((g) => g.params.kind === 'name' && g.params.name === list);
    const thenGroup = groupOf(split.then);
    const elseGroup = groupOf(split.else);
    if (!thenGroup || !elseGroup) continue;
    if (isZero(thenGroup.decay) && !isZero(elseGroup.decay)) out.push({ cond: split.cond, undecayedWhen: true, nameVar: pair.name, model, decayExpr: elseGroup.decay, fn, facts });
    else if (isZero(elseGroup.decay) && !isZero(thenGroup.decay)) out.push({ cond: split.cond, undecayedWhen: false, nameVar: pair.name, model, decayExpr: thenGroup.decay, fn, facts });
  }
  return out;
}

function isZero(e: Expr): boolean {
  return e.kind === 'num' && e.value === 0;
}

function namePair(target: Expr): { name: string; value: string } | undefined {
  if (target.kind !== 'seq' || target.items.length !== 2) return undefined;
  const [n, p] = target.items;
  return n.kind === 'name' && p.kind === 'name' ? { name: n.name, value: p.name } : undefined;
}

function namedParametersOf(iter: Expr): Expr | undefined {
  return iter.kind === 'call' && iter.callee.kind === 'attr' && iter.callee.name === TORCH_NAMED_PARAMETERS && iter.args.length === 0 && iter.kwargs.length === 0 ? iter.callee.object : undefined;
}

function namedComprehension(e: Expr): { cond: Expr; nameVar: string; model: Expr } | undefined {
  if (e.kind !== 'comprehension' || e.generators.length !== 1 || e.conditions?.length !== 1) return undefined;
  const pair = namePair(e.generators[0].target);
  const model = namedParametersOf(e.generators[0].iter);
  if (!pair || !model || e.element.kind !== 'name' || e.element.name !== pair.value) return undefined;
  return { cond: e.conditions[0], nameVar: pair.name, model };
}

/** `not C` against `C`, by what is written. */
function opposite(a: Expr, b: Expr, source: (e: Expr) => string): boolean {
  if (a.kind === 'unary' && a.op === 'not') return source(a.arg) === source(b);
  if (b.kind === 'unary' && b.op === 'not') return source(b.arg) === source(a);
  return false;
}

function mentions(e: Expr, name: string): boolean {
  return subExprs(e).some((x) => x.kind === 'name' && x.name === name);
}

// ---------------------------------------------------------------- judging a filter against the model

function judge(f: Filter, bind: Binding | undefined): MissedNorm | undefined {
  const decay = decayValue(f, bind);
  if (decay === undefined || !(decay > 0)) return undefined;
  const index = programIndex(f.facts);
  const scope = index.scopeAt(f.cond.span.start);
  const ev = new Evaluator(f, scope, f.cond.span.start, bind);
  // The condition must be decidable at all: patterns resolved.
  if (!ev.resolvable(f.cond)) return undefined;
  const patterns = ev.substrings(f.cond);
  const misses = (local: string): boolean => {
    const v = ev.test(f.cond, local);
    return v !== undefined && v !== f.undecayedWhen;
  };
  const id = `missed-norm:${f.cond.span.start}:${f.cond.span.end}:${bind ? `${bind.call.span.start}:${bind.call.span.end}` : ''}`;
  const t = trainingFacts(bind ? bind.facts : f.facts);
  const model = bind ? argumentFor(bind.fn, bind.call, (f.model as Expr & { kind: 'name' }).name) : f.model;
  if (!model) return undefined;
  const mScope = bind ? bind.scope : scope;
  const mAt = bind ? bind.at : f.cond.span.start;
  // A pattern an attribute of the model's classes contains may select a whole submodule: silent.
  if (patterns.length > 0) {
    const risky = t.modelProbe(attributeProbe(`${id}:attr`, patterns), model, mScope, mAt);
    if (risky.kind === 'found') return undefined;
  }
  const status = t.modelProbe(missedNormProbe(id, misses), model, mScope, mAt);
  if (status.kind !== 'found') return undefined;
  return { filter: f.cond, layer: status.layer.layer, name: `${status.layer.local}.${TORCH_NORM_SCALE_NAME}`, decayExpr: f.decayExpr, decay, ...(bind ? { call: bind.call } : {}) };
}

function decayValue(f: Filter, bind: Binding | undefined): number | undefined {
  const e = f.decayExpr;
  if (e.kind === 'num') return e.value;
  if (bind && isParamOf(bind.fn, e)) {
    const name = (e as Expr & { kind: 'name' }).name;
    const arg = argumentFor(bind.fn, bind.call, name);
    if (arg) return frameworkFacts(bind.facts).evaluate(arg, { scope: bind.scope, at: bind.at, owner: frameworkFacts(bind.facts).owners[0] });
    // The default only when the call leaves the parameter to it and the helper never rebinds it
    // (`split(model, wd=0.0)` with `if frozen: wd = 0.0` in the helper is not the default).
    const params = explicitParams(bind.fn);
    const param = params.find((p) => p.name === name);
    if (!param || hiddenArgument(bind.call) || bind.call.kwargs.some((k) => k.name === name) || bind.call.args.length > params.indexOf(param)) return undefined;
    if (bind.fn.scope.allBindings(name).some((b) => b.kind !== 'param')) return undefined;
    return param.default?.kind === 'num' ? param.default.value : undefined;
  }
  const fw = frameworkFacts(f.facts);
  return fw.evaluate(e, { scope: programIndex(f.facts).scopeAt(e.span.start), at: e.span.start, owner: fw.owners[0] });
}

/** The argument a call passes for a helper's parameter (keyword or position); undefined when left to its default or hidden. */
function argumentFor(fn: FunctionDef, call: Call, name: string): Expr | undefined {
  const params = explicitParams(fn);
  const position = params.findIndex((p) => p.name === name && !p.rest);
  if (position < 0) return undefined;
  if (fn.scope.allBindings(name).some((b) => b.kind !== 'param')) return undefined;
  const kw = call.kwargs.find((k) => k.name === name);
  if (kw) return kw.value;
  if (call.args.some((a) => a.kind === 'other' && a.spread)) return undefined;
  const a = call.args[position];
  return a && !(a.kind === 'other' && a.spread) ? a : undefined;
}

/** A parameter the call may fill unseen (`*args`, `**cfg`). */
function hiddenArgument(call: Call): boolean {
  return call.args.some((a) => a.kind === 'other' && !!a.spread);
}

/**
 * The filter's condition on a candidate name. `test` gives true/false when every test it makes is
 * decided for a parameter whose name ends in `.<local>.weight` (any prefix), undefined otherwise.
 */
class Evaluator {
  constructor(
    private readonly f: Filter,
    private readonly scope: Scope,
    private readonly at: number,
    private readonly bind: Binding | undefined,
  ) {}

  /** The strings a name or literal holds: a string, a list or tuple of strings; undefined otherwise. */
  strings(e: Expr, locals: Map<string, string>, scope = this.scope, at = this.at, depth = 0): string[] | undefined {
    if (depth > 4) return undefined;
    if (e.kind === 'str') return e.fields?.length ? undefined : [e.value];
    if (e.kind === 'seq') {
      const out: string[] = [];
      for (const item of e.items) {
        if (item.kind !== 'str' || item.fields?.length) return undefined;
        out.push(item.value);
      }
      return out;
    }
    if (e.kind !== 'name') return undefined;
    const local = locals.get(e.name);
    if (local !== undefined) return [local];
    const b = scope.lookup(e.name, at);
    if (!b) return undefined;
    if (b.kind === 'param') {
      const fn = this.bind?.fn ?? this.f.fn;
      const param = fn && explicitParams(fn).find((p) => p.name === e.name);
      if (!param || !this.bind || this.bind.fn !== fn || hiddenArgument(this.bind.call)) return undefined;
      const arg = argumentFor(fn, this.bind.call, e.name);
      if (arg) return this.strings(arg, new Map(), this.bind.scope, this.bind.at, depth + 1);
      // Left to its default by the call.
      const given = this.bind.call.kwargs.some((k) => k.name === e.name) || this.bind.call.args.length > explicitParams(fn).indexOf(param);
      return given || !param.default ? undefined : this.strings(param.default, new Map(), b.scope, b.at, depth + 1);
    }
    if (b.kind !== 'assign' || !b.value || b.op) return undefined;
    // A list that is assigned once and never grown (`no_decay.append(...)`) holds what it was given.
    if (b.scope.allBindings(e.name).length !== 1 || grown(this.f.facts, e.name, b.scope)) return undefined;
    return this.strings(b.value, new Map(), b.scope, b.at, depth + 1);
  }

  /** Whether every test of the condition reads resolved strings. */
  resolvable(e: Expr): boolean {
    return this.test(e, '\u0000') !== undefined;
  }

  /** The patterns the condition looks for inside the name (`"_bn" in name`, `any(nd in n for nd in no_decay)`). */
  substrings(e: Expr): string[] {
    const out: string[] = [];
    const visit = (x: Expr, locals: Map<string, string>): void => {
      if (x.kind === 'other' && x.ops?.length === 1 && (x.ops[0] === 'in' || x.ops[0] === 'not in') && x.children.length === 2 && this.isName(x.children[1])) {
        out.push(...(this.strings(x.children[0], locals) ?? []));
        return;
      }
      if (x.kind === 'call' && x.callee.kind === 'name' && (x.callee.name === ANY_BUILTIN || x.callee.name === ALL_BUILTIN)) {
        const over = this.over(x);
        if (over) for (const s of over.values) visit(over.element, new Map([...locals, [over.variable, s]]));
        return;
      }
      if (x.kind === 'unary') visit(x.arg, locals);
      if (x.kind === 'other') for (const c of x.children) visit(c, locals);
    };
    visit(e, new Map());
    return out;
  }

  private isName(e: Expr): boolean {
    return e.kind === 'name' && e.name === this.f.nameVar;
  }

  private over(x: Call): { element: Expr; variable: string; values: string[] } | undefined {
    const c = x.args.length === 1 ? x.args[0] : undefined;
    if (!c || c.kind !== 'comprehension' || c.generators.length !== 1 || c.conditions?.length) return undefined;
    const v = c.generators[0].target;
    if (v.kind !== 'name') return undefined;
    const values = this.strings(c.generators[0].iter, new Map());
    return values ? { element: c.element, variable: v.name, values } : undefined;
  }

  /** The condition for a name `<prefix>.<local>.weight` (`\u0000` for a name nothing matches: is every test decided?). */
  test(e: Expr, local: string, locals: Map<string, string> = new Map()): boolean | undefined {
    const own = local === '\u0000' ? '\u0000' : `${local}.${TORCH_NORM_SCALE_NAME}`;
    if (e.kind === 'unary' && e.op === 'not') {
      const v = this.test(e.arg, local, locals);
      return v === undefined ? undefined : !v;
    }
    if (e.kind === 'other' && e.ops && e.ops.length > 0 && e.children.length === e.ops.length + 1 && (e.ops.every((o) => o === 'or') || e.ops.every((o) => o === 'and'))) {
      const values = e.children.map((c) => this.test(c, local, locals));
      if (values.some((v) => v === undefined)) return undefined;
      return e.ops[0] === 'or' ? values.some((v) => v) : values.every((v) => v);
    }
    if (e.kind === 'other' && e.ops?.length === 1 && (e.ops[0] === 'in' || e.ops[0] === 'not in') && e.children.length === 2) {
      const [a, b] = e.children;
      let v: boolean | undefined;
      if (this.isName(b) && !this.isName(a)) {
        const s = this.strings(a, locals);
        v = s && s.length === 1 ? contains(own, s[0]) : undefined;
      } else if (this.isName(a) && !this.isName(b) && b.kind !== 'str') {
        const list = this.strings(b, locals);
        v = list ? (local === '\u0000' ? false : list.some((s) => s === own || s.endsWith(`.${own}`)) ? true : false) : undefined;
      }
      return v === undefined ? undefined : e.ops[0] === 'in' ? v : !v;
    }
    if (e.kind === 'call' && e.callee.kind === 'attr' && this.isName(e.callee.object) && e.args.length === 1 && e.kwargs.length === 0) {
      if (e.callee.name === STRING_PREFIX_TEST) return undefined;
      if (e.callee.name !== STRING_SUFFIX_TEST) return undefined;
      const list = this.strings(e.args[0], locals);
      if (!list) return undefined;
      let any = false;
      for (const s of list) {
        const v = endsWith(own, s);
        if (v === undefined) return undefined;
        any ||= v;
      }
      return any;
    }
    if (e.kind === 'call' && e.callee.kind === 'name' && (e.callee.name === ANY_BUILTIN || e.callee.name === ALL_BUILTIN)) {
      const over = this.over(e);
      if (!over) return undefined;
      const values = over.values.map((s) => this.test(over.element, local, new Map([...locals, [over.variable, s]])));
      if (values.some((v) => v === undefined)) return undefined;
      return e.callee.name === ANY_BUILTIN ? values.some((v) => v) : values.every((v) => v);
    }
    return undefined;
  }
}

/**
 * `s in name` for a name that ends in `.<own>` after a prefix nothing here knows: true when the
 * known part holds `s`, undefined when `s` could cross from the prefix into it, false otherwise (the
 * prefix alone is the attribute probe's concern).
 */
function contains(own: string, s: string): boolean | undefined {
  if (s.length === 0) return true;
  if (own === '\u0000') return false;
  const known = `.${own}`;
  if (known.includes(s)) return true;
  for (let k = 1; k < s.length; k++) if (known.startsWith(s.slice(k))) return undefined;
  return false;
}

/** `name.endswith(s)` for a name ending in `.<own>`: decided when `s` is no longer than that known end. */
function endsWith(own: string, s: string): boolean | undefined {
  if (own === '\u0000') return false;
  const known = `.${own}`;
  if (s.length <= known.length) return known.endsWith(s);
  return s.endsWith(known) ? undefined : false;
}

/** Whether a list name is grown in the file (`no_decay.append("norm")`, `.extend`, `+=`). */
const grownCache = new WeakMap<Facts, Set<string>>();

function grown(facts: Facts, name: string, scope: Scope): boolean {
  if (scope.allBindings(name).some((b) => b.op)) return true;
  let names = grownCache.get(facts);
  if (!names) {
    names = new Set();
    for (const site of programIndex(facts).calls) {
      const c = site.call;
      if (c.callee.kind === 'attr' && c.callee.object.kind === 'name' && /^(append|extend|insert|add|update)$/.test(c.callee.name)) names.add(c.callee.object.name);
    }
    grownCache.set(facts, names);
  }
  return names.has(name);
}

// ---------------------------------------------------------------- probes over the model

interface NamedNorm {
  layer: DecayExemptLayer;
  local: string;
}

/** The first normalization layer of a model whose scale's name the filter misses. */
function missedNormProbe(id: string, misses: (local: string) => boolean): LayerProbe<NamedNorm> {
  const inSpan = (t: TrainingFacts, span: Span): NamedNorm | undefined => {
    const sites = t.callsIn(span);
    let names: ((site: CallSite) => string | undefined) | undefined;
    for (const site of sites) {
      const layer = layerAt(t, site);
      if (layer?.kind !== 'norm') continue;
      names ??= localNames(t, span, sites);
      const local = names(site);
      if (local !== undefined && misses(local)) return { layer, local };
    }
    return undefined;
  };
  return { id, inSpan, inUnit: (t, unit) => inSpan(t, unit.span) };
}

/**
 * An attribute of the model's classes whose name holds one of the filter's patterns, or a submodule
 * named by a string that holds one (a `ModuleDict`'s or an `OrderedDict`'s key, `add_module("stem_bn", m)`):
 * either is part of the names of every parameter below it.
 */
function attributeProbe(id: string, patterns: string[]): LayerProbe<Expr> {
  const holds = (name: string): boolean => patterns.some((p) => p.length > 0 && name.includes(p.replace(/^\.+|\.+$/g, '')));
  const keyed = (x: Expr): boolean => {
    if (x.kind === 'object') return x.entries.some((k) => holds(k.name));
    if (x.kind === 'seq') return x.items.length === 2 && x.items[0].kind === 'str' && !x.items[0].fields?.length && holds(x.items[0].value);
    if (x.kind !== 'call') return false;
    const at = TORCH_SUBMODULE_NAMING.get(x.callee.kind === 'attr' || x.callee.kind === 'name' ? x.callee.name : '');
    const named = at === undefined ? undefined : x.args[at];
    return !!named && named.kind === 'str' && !named.fields?.length && holds(named.value);
  };
  const inSpan = (t: TrainingFacts, span: Span): Expr | undefined => {
    for (const info of t.infosIn(span)) {
      const s = info.stmt;
      for (const e of stmtExprs(s)) for (const x of subExprs(e)) if (keyed(x)) return x;
      if (s.kind !== 'assign') continue;
      // A leaf layer (`self.norm1 = nn.GroupNorm(...)`) holds no submodule the pattern could select.
      if (s.value.kind === 'call' && layerAt(t, { call: s.value, scope: info.scope, at: s.span.start })) continue;
      for (const target of s.targets) if (target.kind === 'attr' && target.object.kind === 'name' && target.object.receiver && holds(target.name)) return target;
    }
    return undefined;
  };
  return { id, inSpan, inUnit: (t, unit) => inSpan(t, unit.span) };
}

/**
 * A layer's name inside the probed span: the receiver's attribute it is assigned to (`bn1`), or its
 * place in a Sequential (`proj.1`, `1` for the span's own Sequential); undefined for anything else.
 */
function localNames(t: TrainingFacts, span: Span, sites: CallSite[]): (site: CallSite) => string | undefined {
  const stored = new Map<Expr, string>();
  for (const info of t.infosIn(span)) {
    const s = info.stmt;
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
    const target = s.targets[0];
    if (target.kind === 'attr' && target.object.kind === 'name' && target.object.receiver) stored.set(s.value, target.name);
  }
  const entryOf = new Map<Expr, { outer: Call; position: number }>();
  for (const site of sites) {
    const name = callName(site.call);
    if (!name || !isSequentialModel(name)) continue;
    site.call.args.forEach((a, position) => entryOf.set(a, { outer: site.call, position }));
  }
  const nameOf = (call: Expr, depth: number): string | undefined => {
    if (depth > 6) return undefined;
    const own = stored.get(call);
    if (own !== undefined) return own;
    const entry = entryOf.get(call);
    if (!entry) return undefined;
    if (entry.outer.span.start === span.start && entry.outer.span.end === span.end) return `${entry.position}`;
    const outer = nameOf(entry.outer, depth + 1);
    return outer === undefined ? undefined : `${outer}.${entry.position}`;
  };
  return (site) => nameOf(site.call, 0);
}
