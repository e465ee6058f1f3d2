// A step count the bias corrections read that nothing that runs advances (NB401): the count is a
// field of the optimizer object (`this.t`, `self.epoch`) and the step never changes it. Either no
// code advances it at all (`self.t = 1` in the constructor, read by 1 − βᵗ and never incremented),
// or the only writes that move it are in other methods of the class (`NextEpoch() { this.epoch++ }`)
// that nothing in the project calls. Every step is then corrected with the count's first value
// (1 − β¹ when it starts at 1): m̂ = m/(1 − β₁), v̂ = v/(1 − β₂) for ever.
//
// A library's public method may be called by its users, outside the project, and a framework base
// class may call a hook it defines (a class with a base the project does not define is not read). So the finding needs
// the project to use the optimizer itself: the class named in code somewhere in the project (constructed,
// or passed as a value). An advancing method must be named nowhere in the project's code but where it is
// defined (a call, a callback passed by reference, a string key `getattr(opt, 'tick')`). A method the language calls by syntax (`__call__`, `__next__`) or
// one with a decorator (a property, a registered hook) is never read as uncalled. A write of the
// count's field through anything but the instance (`opt.t += 1` in a training loop, `setattr(opt, 't', …)`,
// the field's name as a string that may reach an attribute: a key, a value bound or collected, an argument of a
// reflective accessor or of a project function; not a docstring nor a label handed to a library call) keeps it silent, and so does any write of it in a method of a
// project base class or subclass. The project's files are found by text (`Program.filesMentioning`),
// then decided on their IR: a name in a comment or a docstring is not a mention.
import type { Expr, Span, Stmt } from '../ir';
import type { ParsedFile } from '../document';
import type { Facts } from './index';
import type { ClassDef, FunctionDef } from './scope';
import type { OptimizerStep } from './optimizerSteps';
import { CONSTRUCTOR_METHODS, REFLECTIVE_ACCESSORS, isImplicitlyCalledMethod } from './catalogue';
import { ownStatements, walkAll } from './program';
import { advancedKey } from './stepCountLoops';
import { baseClasses } from './resolve';
import { projectSubclasses } from './subclasses';

export interface CountNeverAdvanced {
  /** The count's field, as written (`this.epoch`). */
  count: string;
  /** The methods that advance it, none of them called in the project; empty when nothing advances it at all. */
  advancers: FunctionDef[];
  /** Where each advances it. */
  writes: Span[];
  /** Where a constructor sets it. */
  sets: Span[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const isConstructorOf = (cls: ClassDef, f: FunctionDef | undefined): boolean => f === undefined || CONSTRUCTOR_METHODS.includes(f.name) || f.name === cls.name;
const inside = (span: Span, outer: Span): boolean => outer.start <= span.start && span.end <= outer.end;

/**
 * Is the write at `span`, in class `cls`, run by constructing it: written in one of its constructors' own
 * code or at class level (`t = 0` as a field), not in a function or lambda nested anywhere in the class
 * (`this.tick = () => { this.t++ }` in a constructor, a `tick = () => …` field, a property's setter that
 * shares its getter's name)? Read on the class's own statements, every function and lambda of it.
 */
function setByConstructing(facts: Facts, cls: ClassDef, span: Span): boolean {
  const parsed = facts.program.parsedOf(cls.span);
  if (!parsed) return false;
  let innermost: { span: Span; constructor: boolean } | undefined;
  const consider = (at: Span, constructor: boolean): void => {
    if (inside(span, at) && (!innermost || inside(at, innermost.span))) innermost = { span: at, constructor };
  };
  const visit = (stmts: Stmt[], inClass: ClassDef | undefined): void => {
    for (const s of stmts) {
      if (!inside(span, s.span)) continue;
      if (s.kind === 'class') visit(s.body, s.span.start === cls.span.start ? cls : undefined);
      else if (s.kind === 'function') {
        // A method that constructs, or the constructor function itself (`function Stepper(rate) { this.clock = 1 }`).
        const ctorFunction = s.name === cls.name && cls.outer.functions.get(cls.name)?.span.start === s.span.start;
        consider(s.span, ctorFunction || (inClass !== undefined && (CONSTRUCTOR_METHODS.includes(s.name) || s.name === inClass.name)));
        visit(s.body, undefined);
      } else if (s.kind === 'block' || s.kind === 'for') visit(s.body, undefined);
    }
  };
  visit(parsed.module.body, undefined);
  // Lambdas (arrow functions, function expressions) anywhere: the innermost around the write wins.
  walkAll(parsed.module.body, (e) => {
    if (e.kind === 'lambda') consider(e.span, false);
  });
  return innermost === undefined || innermost.constructor;
}

/** The count `t` of the step's corrections, when it is a field no running code advances; undefined otherwise. */
export function countNeverAdvanced(facts: Facts, step: OptimizerStep, t: string): CountNeverAdvanced | undefined {
  const m = /^(?:self|this)\.(\w+)$/.exec(t);
  const cls = step.fn.cls;
  if (!m || !cls) return undefined;
  const field = m[1];
  // A framework base may call the advancing method itself (a Keras callback's `on_epoch_end`): only
  // classes whose bases are all the project's own (or none, or `object`) are read.
  const bases = baseClasses(facts.program, cls);
  if (cls.bases.filter((b) => !(b.kind === 'name' && b.name === 'object')).length > bases.length) return undefined;
  const methods = [...cls.scope.functions.values()];
  const isConstructor = (f: FunctionDef | undefined): boolean => isConstructorOf(cls, f);
  // The statements of the class's other methods that advance the count by one (`this.t++`, `this.t += 1`).
  const advancing: { fn: FunctionDef; span: Span }[] = [];
  for (const f of methods) {
    if (isConstructor(f)) continue;
    for (const st of ownStatements(f.body)) if (advancedKey(st) === t) advancing.push({ fn: f, span: st.span });
  }
  const advancers = [...new Set(advancing.map((a) => a.fn))];
  // A method the language calls by syntax (`opt()` runs `__call__`, a for loop `__next__`), or one a
  // decorator may register as a hook or turn into a property (`@property`, `@trainer.on(...)`): its
  // calls are not written by name.
  if (advancers.some((f) => isImplicitlyCalledMethod(f.name) || f.decorators.length > 0)) return undefined;
  // The step itself, or a method of its name, advances the count: not this finding.
  if (advancers.some((f) => f === step.fn || f.name === step.fn.name)) return undefined;
  // Any other write of the count outside a constructor (`this.t = step`, a reset) is a setting the analysis does not follow.
  const bindings = cls.scope.members.get(t) ?? [];
  for (const b of bindings) {
    if (setByConstructing(facts, cls, b.span)) continue;
    if (!advancing.some((a) => inside(b.span, a.span))) return undefined;
  }
  // Nothing advances it: the count is one constant only when a constructor gives it its value.
  const setBindings = bindings.filter((b) => setByConstructing(facts, cls, b.span));
  const sets = setBindings.map((b) => b.span);
  if (advancers.length === 0 && sets.length === 0) return undefined;
  // Nothing advances it and the constructor sets it from something other than a number (`self.t = t`, a
  // parameter): each construction may give it its own value (`AdamStep(k).apply(…)` once per step).
  const constant = (e: Expr | undefined): boolean => e !== undefined && (e.kind === 'num' || (e.kind === 'unary' && e.arg.kind === 'num'));
  if (advancers.length === 0 && !setBindings.every((b) => constant(b.value))) return undefined;
  // A project base or subclass that writes the field outside its constructors (its own step counting `self.t += 1`).
  const related = [...bases, ...projectSubclasses(facts.program, cls)];
  for (const c of related) {
    for (const b of c.scope.members.get(t) ?? []) if (!setByConstructing(facts, c, b.span)) return undefined;
  }
  const parsed = facts.program.parsedOf(cls.span);
  if (!parsed) return undefined;
  const files = new Map<number, ParsedFile>([[parsed.file.id, parsed]]);
  const any = new RegExp(`\\b(?:${[...advancers.map((f) => escape(f.name)), escape(field), escape(cls.name)].join('|')})\\b`);
  for (const p of facts.program.filesMentioning(parsed.file, any)) files.set(p.file.id, p);
  const names = new Set(advancers.map((f) => f.name));
  let mentioned = false;
  let writtenOutside = false;
  let used = false;
  /** The file being read (spans are offsets within it). */
  let reading = parsed.file.id;
  // `Opt.prototype.tick = function () {…}`, `this.tick = () => …`: the advancer's own definition, not a mention.
  const definitions = new Set<number>();
  const targetsOf = (e: Expr, out: Expr[]): Expr[] => {
    if (e.kind === 'seq') for (const x of e.items) targetsOf(x, out);
    else if (e.kind === 'other' && e.spread) for (const x of e.children) targetsOf(x, out);
    else out.push(e);
    return out;
  };
  // A write of the field through anything but the method's own receiver (`opt.t += 1`, `self.opt.t = e`).
  // Through the receiver, a write in the class's code the members left out (`tick = () => { this.t++ }` as a class
  // field) counts too, unless it is a constructor's setting or one of the advancing statements.
  const outsideWrite = (e: Expr): boolean =>
    e.kind === 'attr' &&
    e.name === field &&
    (!(e.object.kind === 'name' && e.object.receiver) ||
      (e.object.name === m[0].split('.')[0] && reading === parsed.file.id && inside(e.span, cls.span) && !advancing.some((a) => inside(e.span, a.span)) && !setByConstructing(facts, cls, e.span)));
  const isClass = (x: Expr): boolean => (x.kind === 'name' || x.kind === 'attr') && x.name === cls.name;
  // `module.exports = { Adam }`, `exports.Adam = Adam`: offered to users, not used by the project.
  const exported = new Set<number>();
  const isExports = (x: Expr): boolean => {
    let e = x;
    while (e.kind === 'attr' && e.name !== 'exports') e = e.object;
    return (e.kind === 'attr' && e.name === 'exports' && e.object.kind === 'name' && e.object.name === 'module') || (e.kind === 'name' && e.name === 'exports');
  };
  // Strings that name nothing by data flow: docstrings, and strings handed straight to a non-reflective call.
  const inert = new Set<Expr>();
  const projectFunctions = new Set<string>();
  const collect = (body: Stmt[], depth: number): void => {
    if (depth > 60) return;
    for (const s of body) {
      if (s.kind === 'function') projectFunctions.add(s.name);
      if (s.kind === 'block' || s.kind === 'for' || s.kind === 'function' || s.kind === 'class') collect(s.body, depth + 1);
    }
  };
  for (const p of files.values()) collect(p.module.body, 0);
  const stmt = (s: Stmt): void => {
    if (s.kind === 'expr' && s.expr.kind === 'str') inert.add(s.expr);
    if (s.kind === 'assign') {
      if (s.targets.some(isExports)) exported.add(s.value.span.start);
      else if (isClass(s.value)) used = true;
      for (const target of s.targets) {
        for (const x of targetsOf(target, [])) {
          if (outsideWrite(x)) writtenOutside = true;
          if (x.kind === 'attr' && names.has(x.name) && s.value.kind === 'lambda') definitions.add(x.span.start);
        }
      }
    } else if (s.kind === 'for') {
      if (targetsOf(s.target, []).some(outsideWrite)) writtenOutside = true;
    } else if (s.kind === 'delete') {
      if (s.targets.some(outsideWrite)) writtenOutside = true;
    }
    if (s.kind === 'block' || s.kind === 'for' || s.kind === 'function' || s.kind === 'class') for (const x of s.body) stmt(x);
  };
  const expr = (e: Expr): void => {
    if (e.kind === 'lambda') for (const x of e.stmts) stmt(x);
    else if (e.kind === 'other' && e.ops && (e.ops[0] === '++' || e.ops[0] === '--') && e.children.some(outsideWrite)) writtenOutside = true;
    else if (e.kind === 'str' && (e.value === field || names.has(e.value)) && !inert.has(e)) {
      // The field or an advancer named by a string (`setattr(opt, 't', …)`, `opt['tick']()`, a key or a value that
      // may flow to one): read as written.
      writtenOutside = true;
    }
    // A string handed straight to a call that reaches no attribute by it (`print('t')`, `plt.xlabel('t')`,
    // `logger.info('step')`): a label, not the field. A reflective accessor (`setattr`, `Reflect.set`,
    // catalogue.ts) or a function of the project (which may hand it on to one) keeps it a mention.
    if (e.kind === 'call') {
      const callee = e.callee.kind === 'attr' || e.callee.kind === 'name' ? e.callee.name : undefined;
      if (callee !== undefined && !REFLECTIVE_ACCESSORS.has(callee) && !projectFunctions.has(callee))
        for (const a of [...e.args, ...e.kwargs.map((k) => k.value)]) if (a.kind === 'str') inert.add(a);
    } else if ((e.kind === 'name' || e.kind === 'attr') && names.has(e.name) && !definitions.has(e.span.start)) mentioned = true;
    // The field given a value by its name as a keyword or a key (`replace(opt, t=opt.t + 1)`,
    // `self.__dict__.update(t=…)`, `Object.assign(this, { t: … })`), except as the class's own constructor argument.
    if (e.kind === 'call' && !isClass(e.callee) && (e.kwargs.some((k) => k.name === field) || e.args.some((a) => a.kind === 'object' && a.entries.some((k) => k.name === field)))) writtenOutside = true;
    // Constructed (`Adam(…)`, `new Stepper(…)`, `optim.Adam(…)`), or handed on as a value (`make(Adam)`, `[Adam]`, `{ adam: Adam }`).
    if (e.kind === 'call' && (isClass(e.callee) || e.args.some(isClass) || e.kwargs.some((k) => isClass(k.value)))) used = true;
    else if (!exported.has(e.span.start) && ((e.kind === 'seq' && e.items.some(isClass)) || (e.kind === 'object' && e.entries.some((k) => isClass(k.value))))) used = true;
  };
  for (const p of files.values()) {
    reading = p.file.id;
    for (const s of p.module.body) stmt(s);
    walkAll(p.module.body, expr);
    if (mentioned || writtenOutside) return undefined;
  }
  // The project uses the optimizer: the class named in code (`PlainAdam()`, `new Stepper(…)`, `{ adam: Adam }`). A
  // method of it called on some object is not enough: `.update(` and `.push(` are also a dict's and an array's.
  if (!used) return undefined;
  return { count: t, advancers, writes: advancing.map((a) => a.span), sets };
}
