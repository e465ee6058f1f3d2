// A hand-written optimizer whose step walks its parameter groups but takes a setting from the
// constructor's defaults (`lr = self.defaults["lr"]`, `this.defaults.weightDecay`) instead of the
// group it is stepping (NB412). Each group carries its own copy of every default: torch's
// Optimizer fills every group from `defaults` (facts/catalogue.ts PARAM_GROUPS_ATTRIBUTE,
// OPTIMIZER_DEFAULTS_ATTRIBUTE), and a port builds its groups by spreading the defaults into them
// (`this.paramGroups = [{ params, ...defaults }]`, `{ ...this.defaults, ...group }`). A scheduler
// writes the group's value and a group given `weight_decay: 0` asks for no decay; a step that reads
// the defaults ignores both.
//
// Decided by data flow: the step's loop runs over the receiver's groups field; the defaults field is
// the framework's (a torch Optimizer subclass) or the one whose value a method of the class or its
// bases spreads into an element of that groups field. Silent when the step also reads the same key
// from the group (`group.lr ?? this.defaults.lr`), for the `params` key, and for a key a torch subclass
// adds to its defaults after the groups were filled (`self.defaults["ema"] = ema`), or a port after it
// spread them (`this.defaults.clip = clip` after `super(...)`), and for a flag of the whole optimizer
// (a default of True or False, `maximize`; or None handed on under its own keyword, `foreach=...`)
// handed on to a call as it is.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { ClassDef, FunctionDef } from './scope';
import { baseClasses, classWithBases } from './resolve';
import { ownStatements, programIndex, walkAll } from './program';
import { stmtExprs, subExprs } from './loops';
import { isTorchOptimizer } from './decayKnobs';
import { OPTIMIZER_DEFAULTS_ATTRIBUTE, OPTIMIZER_STEP_METHOD, PARAM_GROUPS_ATTRIBUTE, TORCH_PARAMS_GROUP_KEY } from './catalogue';

export interface DefaultsRead {
  cls: ClassDef;
  step: FunctionDef;
  /** The settings' keys, in the order the step first reads them (`lr`, `weightDecay`). */
  keys: string[];
  /** Each key's first read from the defaults in the step, in the same order. */
  reads: Expr[];
  /** `this.defaults` / `self.defaults` as written. */
  defaults: string;
  /** The groups field the step walks (`param_groups`, `paramGroups`). */
  groups: string;
  /** The loop over the groups. */
  loop: Stmt & { kind: 'for' };
  /** Where the groups get the defaults' keys (a spread in a project base), when it is not the framework. */
  spread?: Expr;
}

const cache = new WeakMap<Facts, DefaultsRead[]>();

export function defaultsReadInStep(facts: Facts): DefaultsRead[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

function collect(facts: Facts): DefaultsRead[] {
  const out: DefaultsRead[] = [];
  const classes = new Set<ClassDef>();
  for (const fn of programIndex(facts).functions) if (fn.cls && fn.name === OPTIMIZER_STEP_METHOD && fn.isMethod) classes.add(fn.cls);
  for (const cls of classes) {
    const step = cls.scope.functions.get(OPTIMIZER_STEP_METHOD);
    if (!step || step.span.start < facts.scopes.root.span.start || step.span.end > facts.scopes.root.span.end) continue;
    out.push(...checkStep(facts, cls, step));
  }
  return out;
}

/** `self.x` / `this.x`: the receiver's field `x`. */
function receiverField(e: Expr): string | undefined {
  return e.kind === 'attr' && e.object.kind === 'name' && e.object.receiver ? e.name : undefined;
}

function checkStep(facts: Facts, cls: ClassDef, step: FunctionDef): DefaultsRead[] {
  const own = ownStatements(step.body);
  // The loops over a groups field of the receiver.
  const loops = own.filter((s): s is Stmt & { kind: 'for' } => s.kind === 'for' && receiverField(s.iter) !== undefined && s.target.kind === 'name');
  if (loops.length === 0) return [];
  // Reads of a defaults-like field's entries anywhere in the step (a Python dict's attributes are its methods).
  const python = facts.language === 'python';
  const reads: { field: string; key: string; expr: Expr; object: Expr; stmt: Stmt }[] = [];
  for (const s of own) {
    for (const e of stmtExprs(s)) {
      for (const x of subExprs(e)) {
        const entry = entryRead(x, python);
        if (entry) reads.push({ ...entry, expr: x, stmt: s });
      }
    }
  }
  if (reads.length === 0) return [];
  reads.sort((a, b) => a.expr.span.start - b.expr.span.start);
  const out: DefaultsRead[] = [];
  for (const loop of loops) {
    const groups = receiverField(loop.iter)!;
    const group = (loop.target as Expr & { kind: 'name' }).name;
    const source = defaultsOf(facts, cls, groups);
    if (!source) continue;
    const flags = flagKeys(facts, cls);
    // Keys the step reads from the group itself.
    const fromGroup = new Set<string>();
    for (const r of reads) if (r.object.kind === 'name' && r.object.name === group) fromGroup.add(r.key);
    const keys: string[] = [];
    const first: Expr[] = [];
    let defaults = '';
    for (const r of reads) {
      if (r.field !== source.field || receiverField(r.object) !== source.field) continue;
      if (r.key === TORCH_PARAMS_GROUP_KEY || fromGroup.has(r.key) || keys.includes(r.key) || source.late?.has(r.key)) continue;
      // A flag of the whole optimizer (`maximize`, `foreach`: a default of True, False or None) handed on as it is.
      if (flags.has(r.key) && handedOn(r.expr, own, flags.get(r.key) === 'none' ? r.key : undefined)) continue;
      // The value must reach the groups' loop: read inside it, or into a local the loop reads (a global
      // decay applied after the loop to every tensor at once is another design).
      if (!reachesLoop(r.expr, r.stmt, loop)) continue;
      keys.push(r.key);
      first.push(r.expr);
      defaults ||= facts.source(r.object.span);
    }
    if (keys.length > 0) out.push({ cls, step, keys, reads: first, defaults, groups, loop, ...(source.spread ? { spread: source.spread } : {}) });
  }
  return out;
}

/**
 * An entry read of an object: `o["k"]`, `o.get("k")` (the object `o`), `o.k` where `o` is itself a
 * field or a name (the field name of `o` when it is the receiver's, for matching).
 */
function entryRead(x: Expr, python: boolean): { field: string; key: string; object: Expr } | undefined {
  if (x.kind === 'index' && x.index.length === 1 && x.index[0].kind === 'str') return { field: receiverField(x.object) ?? '', key: x.index[0].value, object: x.object };
  if (x.kind === 'call' && x.callee.kind === 'attr' && x.callee.name === 'get' && x.args.length >= 1 && x.args[0].kind === 'str') return { field: receiverField(x.callee.object) ?? '', key: x.args[0].value, object: x.callee.object };
  if (!python && x.kind === 'attr' && (receiverField(x.object) !== undefined || (x.object.kind === 'name' && !x.object.receiver))) return { field: receiverField(x.object) ?? '', key: x.name, object: x.object };
  return undefined;
}

/**
 * The field whose entries every element of the groups field carries: torch's `defaults` for a
 * subclass of its Optimizer walking `param_groups`; otherwise a field `this.D = X` whose value (`X`
 * or `this.D`) a method of the class or its bases spreads into an object stored in the groups field
 * (`this.G = [{ params, ...X }]`, `this.G.push({ ...this.D, ...g })`, `this.G = gs.map(g => ({ ...this.D, ...g }))`).
 */
function defaultsOf(facts: Facts, cls: ClassDef, groups: string): { field: string; spread?: Expr; late?: Set<string> } | undefined {
  const chain = classWithBases(facts.program, cls);
  if (facts.language === 'python' && groups === PARAM_GROUPS_ATTRIBUTE && isTorchOptimizer(facts, cls)) {
    // torch fills the groups from the defaults the base constructor is given (`super().__init__(params,
    // defaults)`); a wrapper that takes another optimizer's groups or sets its own (`self.param_groups =
    // base.param_groups`, Lookahead) or rebinds the defaults does not.
    // A key the class adds to the defaults afterwards (`self.defaults["ema"] = ema`, `self.defaults.update(ema=ema)`)
    // is in no group: the step can only read it from the defaults.
    let built = false;
    const late = new Set<string>();
    for (const c of chain) {
      for (const fn of c.scope.functions.values()) {
        for (const st of ownStatements(fn.body)) {
          if (st.kind === 'assign' && st.targets.some((t) => { const f = receiverField(t); return f === groups || f === OPTIMIZER_DEFAULTS_ATTRIBUTE; })) return undefined;
          if (st.kind === 'assign') {
            for (const t of st.targets) {
              if (t.kind !== 'index' || receiverField(t.object) !== OPTIMIZER_DEFAULTS_ATTRIBUTE) continue;
              if (t.index.length !== 1 || t.index[0].kind !== 'str') return undefined;
              late.add(t.index[0].value);
            }
          }
          const roots = stmtExprs(st);
          // Indexed loops: every node of every method of a torch optimizer's class chain passes here.
          for (let i = 0; i < roots.length; i++) {
            const nodes = subExprs(roots[i]);
            for (let j = 0; j < nodes.length; j++) {
              const x = nodes[j];
              if (x.kind !== 'call' || x.callee.kind !== 'attr') continue;
              if (x.callee.name === '__init__' && x.args.length + x.kwargs.length >= 2) built = true;
              if (receiverField(x.callee.object) !== OPTIMIZER_DEFAULTS_ATTRIBUTE) continue;
              if (x.callee.name === 'update') {
                if (x.args.length > 0) return undefined;
                for (const k of x.kwargs) late.add(k.name);
              } else if (x.callee.name === 'setdefault') {
                const key = x.args[0];
                if (!key || key.kind !== 'str') return undefined;
                late.add(key.value);
              }
            }
          }
        }
      }
    }
    return built ? { field: OPTIMIZER_DEFAULTS_ATTRIBUTE, late } : undefined;
  }
  for (const c of chain) {
    for (const fn of c.scope.functions.values()) {
      const stmts = ownStatements(fn.body);
      // `this.D = X` in this method: X's name → D.
      const storedAs = new Map<string, string>();
      for (const s of stmts) {
        if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
        const field = receiverField(s.targets[0]);
        if (field && s.value.kind === 'name') storedAs.set(s.value.name, field);
      }
      for (const s of stmts) {
        if (!storesInto(s, groups)) continue;
        for (const e of stmtExprs(s)) {
          for (const x of subExprs(e, true)) {
            if (x.kind !== 'object' || !x.spreads) continue;
            for (const spread of x.spreads) {
              const field = receiverField(spread) ?? (spread.kind === 'name' ? storedAs.get(spread.name) : undefined);
              if (field && field !== groups) return { field, spread, late: portLateKeys(chain, field, s) };
            }
          }
        }
      }
    }
  }
  return undefined;
}

/** `this.G = …`, `this.G.push(…)`: a statement that stores into the groups field. */
function storesInto(s: Stmt, groups: string): boolean {
  if (s.kind === 'assign') return s.targets.some((t) => receiverField(t) === groups);
  if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr') return receiverField(s.expr.callee.object) === groups;
  return false;
}

/** The spans of tests in statements (`if`/`while` heads, a conditional's test), lambdas' bodies included. */
function testSpans(stmts: Stmt[], out: Span[] = [], depth = 0): Span[] {
  if (depth > 40) return out;
  for (const s of stmts) {
    if (s.kind === 'block' && (s.label === 'if' || s.label === 'while')) for (const h of s.heads) out.push(h.span);
    for (const e of stmtExprs(s)) {
      for (const x of subExprs(e, true)) {
        if (x.kind === 'lambda') testSpans(x.stmts, out, depth + 1);
        if (x.kind === 'cond') out.push(x.test.span);
      }
    }
    if (s.kind === 'block' || s.kind === 'for') testSpans(s.body, out, depth + 1);
  }
  return out;
}

function inTest(e: Expr, tests: Span[]): boolean {
  return tests.some((t) => e.span.start >= t.start && e.span.end <= t.end);
}

/**
 * A read inside the loop, or in the value of a local (`lr = self.defaults["lr"]`, `lr, wd = ...`) that the
 * loop reads, used there as a value: a flag only tested (`if verbose:`, `if self.defaults["capturable"]:`)
 * is a setting of the whole step (logging, graph capture), not of a group.
 */
function reachesLoop(read: Expr, stmt: Stmt, loop: Stmt & { kind: 'for' }): boolean {
  const tests = testSpans([loop]);
  if (read.span.start >= loop.span.start && read.span.end <= loop.span.end) return !inTest(read, tests);
  if (stmt.kind !== 'assign' || stmt.op) return false;
  const names = new Set<string>();
  const collect = (t: Expr): void => {
    if (t.kind === 'name') names.add(t.name);
    else if (t.kind === 'seq') t.items.forEach(collect);
  };
  stmt.targets.forEach(collect);
  if (names.size === 0) return false;
  let found = false;
  walkAll(loop.body, (x) => {
    if (!found && x.kind === 'name' && names.has(x.name) && !inTest(x, tests)) found = true;
  });
  return found;
}

/**
 * Keys a port adds to its defaults field after a group was built from them (`this.defaults.clip = clip`
 * in a subclass's constructor after `super(...)`, or in any other method): they are in no group. A
 * write before the spreading statement, in the same method, is spread like the rest.
 */
function portLateKeys(chain: ClassDef[], field: string, spreadAt: Stmt): Set<string> {
  const late = new Set<string>();
  for (const c of chain) {
    for (const fn of c.scope.functions.values()) {
      const inSpreader = fn.span.start <= spreadAt.span.start && spreadAt.span.end <= fn.span.end;
      for (const st of ownStatements(fn.body)) {
        if (st.kind !== 'assign' || (inSpreader && st.span.start < spreadAt.span.start)) continue;
        for (const t of st.targets) {
          if (t.kind === 'attr' && receiverField(t.object) === field) late.add(t.name);
          else if (t.kind === 'index' && receiverField(t.object) === field && t.index.length === 1 && t.index[0].kind === 'str') late.add(t.index[0].value);
        }
      }
    }
  }
  return late;
}

const BOOLEAN_VALUES: ReadonlySet<string> = new Set(['True', 'False', 'true', 'false']);
const UNSET_VALUES: ReadonlySet<string> = new Set(['None', 'null', 'undefined']);

/**
 * Keys of the defaults that hold a flag of the optimizer (a constructor parameter whose default is
 * True, False or None, or such a literal, put in the defaults: `dict(maximize=maximize, foreach=foreach)`,
 * `{"foreach": None}`), in the class or its bases, with the kind of their default. Not per-group settings:
 * the step may take them from the defaults. A default of None is also "computed when unset"
 * (`lr=None`, a relative step): 'none' keys count only when handed on under their own keyword.
 */
function flagKeys(facts: Facts, cls: ClassDef): Map<string, 'bool' | 'none'> {
  const out = new Map<string, 'bool' | 'none'>();
  const kindOf = (v: string): 'bool' | 'none' | undefined => BOOLEAN_VALUES.has(v) ? 'bool' : UNSET_VALUES.has(v) ? 'none' : undefined;
  for (const c of classWithBases(facts.program, cls)) {
    for (const fn of c.scope.functions.values()) {
      const flagParams = new Map<string, 'bool' | 'none'>();
      for (const p of fn.params) {
        const k = p.default?.kind === 'name' ? kindOf(p.default.name) : undefined;
        if (k) flagParams.set(p.name, k);
      }
      const flagOf = (v: Expr): 'bool' | 'none' | undefined => v.kind === 'name' && !v.receiver ? kindOf(v.name) ?? flagParams.get(v.name) : undefined;
      const add = (key: string, v: Expr): void => {
        const k = flagOf(v);
        // A key seen with both kinds of default is read as the stricter one.
        if (k && out.get(key) !== 'none') out.set(key, k);
      };
      for (const st of ownStatements(fn.body)) {
        for (const e of stmtExprs(st)) {
          for (const x of subExprs(e, true)) {
            if (x.kind === 'object') for (const k of x.entries) add(k.name, k.value);
            if (x.kind === 'call' && x.callee.kind === 'name' && x.callee.name === 'dict') for (const k of x.kwargs) add(k.name, k.value);
          }
        }
      }
    }
  }
  return out;
}

/**
 * Is the read handed on as it is: a keyword or positional argument of a call, not part of arithmetic?
 * With `keyword`, only as the keyword argument of that name (`foreach=self.defaults["foreach"]`).
 */
function handedOn(read: Expr, stmts: Stmt[], keyword?: string): boolean {
  let found = false;
  for (const st of stmts) {
    for (const e of stmtExprs(st)) {
      for (const x of subExprs(e, true)) {
        if (x.kind !== 'call') continue;
        if (keyword === undefined ? x.args.includes(read) || x.kwargs.some((k) => k.value === read) : x.kwargs.some((k) => k.value === read && k.name === keyword)) found = true;
      }
    }
  }
  return found;
}
