// Regularization arguments that never reach a loss or a gradient (NB206), in from-scratch code:
//
// - a layer or model class whose constructor takes a regularizer (`regularizer=L2(1e-4)`,
//   `kernel_regularizer=`, `l2=0.01`, `reg_lambda`), stores it on the instance, and that nothing
//   in the program reads back: not its methods, its bases' or subclasses', nor the model or trainer
//   holding the layers (`layer.regularizer`). Only classes built in the entry file with a value
//   for the knob, whose bases are all visible in the project (a library base class may read it),
//   and only when that file also trains (an update or a differentiation): every file it imports,
//   directly or not, is searched for a read.
// - a function that trains or computes a loss and takes a regularization strength it never reads
//   (`def train(model, X, y, lr, reg=0.0)`).
import type { Expr, Param, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { ClassDef, FunctionDef } from './scope';
import { baseClasses, derivesFrom, resolveCall, resolveExpr } from './resolve';
import { CONSTRUCTOR_METHODS, DYNAMIC_ATTRIBUTE_READS, EMPTY_ARGUMENT_NAMES, INSTANCE_DICT_ATTRIBUTE, NO_INSTANCE_DECORATORS, frameworkPath, isNeutralBasePath } from './catalogue';
import { isRegularizerKnobName } from './roles';
import { programIndex, walkAll } from './program';
import { answerOf, statementQuestion } from './statementAnswers';
import { constructorUses } from './decayKnobs';
import { textReads } from './unused';
import { trainingFacts, within } from './loops';

export interface UnusedRegularizerKnob {
  /** `layer`: a class's constructor argument; `function`: a function's parameter. */
  kind: 'layer' | 'function';
  /** The class or function. */
  owner: string;
  param: Param;
  /** Where the constructor stores it. */
  stored?: Span;
  /** A construction that passes a value for it (`Dense(64, 10, regularizer=L2(1e-4))`). */
  given?: Span;
}

const cache = new WeakMap<Facts, UnusedRegularizerKnob[]>();

export function unusedRegularizerKnobs(facts: Facts): UnusedRegularizerKnob[] {
  let found = cache.get(facts);
  if (!found) {
    found = [...layerKnobs(facts), ...functionKnobs(facts)];
    cache.set(facts, found);
  }
  return found;
}

/** Every base a project class or a neutral one (`object`, `ABC`), all the way up. */
function basesVisible(facts: Facts, cls: ClassDef, depth = 0): boolean {
  if (depth > 8) return false;
  const program = facts.program;
  const resolved = baseClasses(program, cls);
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start);
    if (def?.kind === 'class') {
      if (!resolved.includes(def.cls) || !basesVisible(facts, def.cls, depth + 1)) return false;
      continue;
    }
    const parsed = program.parsedOf(b.span);
    if (!parsed) return false;
    const path = frameworkPath(b, cls.outer, cls.span.start, parsed.scopes.imports, parsed.language === 'python' ? 'python' : 'script') ?? (b.kind === 'name' && b.name === 'object' ? ['object'] : undefined);
    if (!isNeutralBasePath(path)) return false;
  }
  return true;
}

/** The value a construction passes for a constructor parameter, when it passes one. */
function argumentFor(program: Program, call: Expr & { kind: 'call' }, init: FunctionDef, param: Param): Expr | undefined {
  const kw = call.kwargs.find((k) => k.name === param.name);
  if (kw) return kw.value;
  // Python's `self` (a call through the instance does not pass it).
  const offset = init.isMethod && program.parsedOf(init.span)?.language === 'python' && !init.decorators.some((d) => d.kind === 'name' && NO_INSTANCE_DECORATORS.has(d.name)) ? 1 : 0;
  const position = init.params.indexOf(param) - offset;
  if (position < 0) return undefined;
  for (let i = 0; i <= position && i < call.args.length; i++) if (call.args[i].kind === 'other') return undefined; // `*args`
  return call.args[position];
}

/** A value that asks for some regularization: not `None`, `0`, `False`. */
function asksForSome(e: Expr): boolean {
  if (e.kind === 'num') return e.value !== 0;
  if (e.kind === 'name') return !EMPTY_ARGUMENT_NAMES.has(e.name);
  return true;
}

function layerKnobs(facts: Facts): UnusedRegularizerKnob[] {
  const program = facts.program;
  const entry = program.parsedOf(facts.scopes.root.span);
  if (!entry) return [];
  const index = programIndex(facts);
  const candidates: { cls: ClassDef; init: FunctionDef; param: Param; call: Expr & { kind: 'call' } }[] = [];
  const checked = new Set<Param>();
  for (const site of [...index.calls].sort((a, b) => a.call.span.start - b.call.span.start)) {
    if (site.call.kwargs.length === 0 && site.call.args.length === 0) continue;
    const target = resolveCall(program, site.call, site.scope, site.at);
    const cls = target?.constructs;
    if (!cls || !CONSTRUCTOR_METHODS.includes(target.fn.name) || target.fn.cls !== cls) continue;
    const init = target.fn;
    for (const param of init.params) {
      if (checked.has(param) || !isRegularizerKnobName(param.name)) continue;
      const given = argumentFor(program, site.call, init, param);
      if (!given || !asksForSome(given)) continue;
      checked.add(param);
      candidates.push({ cls, init, param, call: site.call });
    }
  }
  if (candidates.length === 0) return [];
  // The file that builds the layers trains them too (a model file read alone may be trained, and
  // its layers' regularizers read, by a trainer it does not import).
  if (facts.updates.length === 0 && trainingFacts(facts).diffs.length === 0) return [];
  const files = program.reachable(entry);
  const out: UnusedRegularizerKnob[] = [];
  for (const c of candidates) {
    if (!basesVisible(facts, c.cls)) continue;
    const uses = constructorUses(facts, c.init, c.param.name);
    // Used beyond storing it (passed on, computed with, rejected), or kept in a dict: not this.
    if (!uses || uses.keys.size > 0 || uses.attrs.size === 0 || !uses.stored) continue;
    if (readAnywhere(program, files, uses.attrs, c.init)) continue;
    out.push({ kind: 'layer', owner: c.cls.name, param: c.param, stored: uses.stored, given: c.call.span });
  }
  return out;
}

/**
 * Whether any file reads one of the attributes, other than the constructor's own stores: the
 * attribute (`layer.regularizer`), its name as a string (`getattr(layer, "regularizer")`), or
 * attributes read by a computed name (`getattr(self, name)`, `vars(self)`, `self.__dict__`).
 */
function readAnywhere(program: Program, files: ParsedFile[], attrs: Set<string>, init: FunctionDef): boolean {
  let read = false;
  const isStore = (e: Expr): boolean => within(e.span, init.span);
  for (const parsed of files) {
    // `tf.keras.regularizers.l2`: an attribute of a library module, not of an instance.
    const ofLibrary = (e: Expr): boolean => {
      let root = e;
      while (root.kind === 'attr') root = root.object;
      const imported = root.kind === 'name' ? parsed.scopes.imports.get(root.name) : undefined;
      return !!imported && imported.name === undefined && !program.resolveModule(parsed.file, imported.module);
    };
    walkAll(parsed.module.body, (e) => {
      if (read) return;
      if (e.kind === 'attr' && attrs.has(e.name) && !isStore(e) && !ofLibrary(e)) read = true;
      else if (e.kind === 'attr' && e.name === INSTANCE_DICT_ATTRIBUTE) read = true;
      else if (e.kind === 'str' && attrs.has(e.value)) read = true;
      else if (e.kind === 'call' && e.callee.kind === 'name' && DYNAMIC_ATTRIBUTE_READS.has(e.callee.name) && !(e.args[1]?.kind === 'str')) read = true;
    });
    if (read) return true;
  }
  return false;
}

function functionKnobs(facts: Facts): UnusedRegularizerKnob[] {
  const program = facts.program;
  const entry = program.parsedOf(facts.scopes.root.span);
  if (!entry) return [];
  const index = programIndex(facts);
  const t = trainingFacts(facts);
  const out: UnusedRegularizerKnob[] = [];
  let values: Set<string> | undefined;
  for (const fn of index.functions) {
    if (!fn.nameSpan || CONSTRUCTOR_METHODS.includes(fn.name)) continue;
    const first = fn.isMethod && !fn.decorators.some((d) => d.kind === 'name' && NO_INSTANCE_DECORATORS.has(d.name)) ? 1 : 0;
    const knobs = fn.params.slice(first).filter((p) => isRegularizerKnobName(p.name));
    if (knobs.length === 0) continue;
    // Decorated functions (abstract methods, CLI commands, registries) and methods that may
    // implement or be implemented by another class's keep a signature they do not choose.
    if (fn.decorators.some((d) => !(d.kind === 'name' && NO_INSTANCE_DECORATORS.has(d.name)))) continue;
    if (fn.cls && (fn.cls.bases.length > 0 || subclassed(facts, fn.cls))) continue;
    // It trains or computes a gradient: an update or a differentiation in its body.
    const body = fn.body;
    if (body.length === 0) continue;
    if (!facts.updates.some((u) => within(u.span, fn.span)) && !t.diffs.some((d) => within(d.call.span, fn.span))) continue;
    // Passed as a value (a callback with a signature to keep).
    values ??= namesUsedAsValues(entry, knobFunctionNames(index.functions));
    if (values.has(fn.name)) continue;
    const calls = index.callsTo(fn);
    for (const param of knobs) {
      // Some regularization asked for: a call in the file passes a value, or none passes it and the default is one.
      const given = calls.map((c) => argumentFor(program, c.call, fn, param)).filter((a): a is Expr => a !== undefined);
      if (given.length > 0 ? !given.some(asksForSome) : !(param.default && asksForSome(param.default))) continue;
      let read = false;
      const strings: string[] = [];
      walkAll(body, (e) => {
        if (e.kind === 'name' && e.name === param.name) read = true;
        else if (e.kind === 'str') strings.push(e.value);
      });
      if (read) continue;
      const region = { start: body[0].span.start, end: fn.span.end };
      if (textReads(facts, param.name, region, strings)) continue;
      out.push({ kind: 'function', owner: fn.name, param });
    }
  }
  return out;
}

/** Another class of the file derives from this one (it may override the method). */
function subclassed(facts: Facts, cls: ClassDef): boolean {
  const index = programIndex(facts);
  for (const scope of index.scopes) for (const other of scope.classes.values()) if (other !== cls && derivesFrom(facts.program, other, cls)) return true;
  return false;
}

/** Names of the functions that take a regularization strength: the only names functionKnobs asks about. */
function knobFunctionNames(functions: FunctionDef[]): Set<string> {
  const names = new Set<string>();
  for (const fn of functions) if (fn.params.some((p) => isRegularizerKnobName(p.name))) names.add(fn.name);
  return names;
}

/** Which of `names` the file uses other than as a callee: functions passed or stored as values. */
function namesUsedAsValues(parsed: ParsedFile, names: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const s of parsed.module.body) for (const n of answerOf(valueNames, s)) if (names.has(n)) out.add(n);
  return out;
}

/** The names one top-level statement reads other than as a callee (a callee is visited after its call), per statement (statementAnswers.ts). */
const valueNames = statementQuestion('namesUsedAsValues', (stmt: Stmt): readonly string[] => {
  const out = new Set<string>();
  const callees = new Set<Expr>();
  walkAll([stmt], (e) => {
    if (e.kind === 'call') {
      if (e.callee.kind === 'name') callees.add(e.callee);
    } else if (e.kind === 'name' && !callees.has(e)) out.add(e.name);
  });
  return [...out];
});
