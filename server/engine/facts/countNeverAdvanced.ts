// A step count the bias corrections read that nothing that runs advances (NB401): the count is a
// field of the optimizer object (`this.t`, `self.epoch`), the step never changes it, and the only
// writes that move it are in other methods of the class (`NextEpoch() { this.epoch++ }`) that
// nothing in the project calls. Every step is then corrected with the count's first value (1 − β¹
// when it starts at 1): m̂ = m/(1 − β₁), v̂ = v/(1 − β₂) for ever.
//
// A library's public method may be called by its users, outside the project, and a framework base
// class may call a hook it defines (a class with a base the project does not define is not read). So the finding needs
// the project to use the optimizer itself: the class constructed somewhere in the project. And the
// advancing method must be mentioned nowhere in the project but where it is defined (a call, a
// callback passed by reference, a string key): a textual test over the project's files, which can
// only keep the finding silent. A method the language calls by syntax (`__call__`, `__next__`) or
// one with a decorator (a property, a registered hook) is never read as uncalled. A write of the
// count's field from outside the class (`opt.t += 1` in a training loop) keeps it silent too.
import type { Span } from '../ir';
import type { Facts } from './index';
import type { FunctionDef } from './scope';
import type { OptimizerStep } from './optimizerSteps';
import { CONSTRUCTOR_METHODS, isImplicitlyCalledMethod } from './catalogue';
import { ownStatements } from './program';
import { advancedKey } from './stepCountLoops';
import { baseClasses } from './resolve';

export interface CountNeverAdvanced {
  /** The count's field, as written (`this.epoch`). */
  count: string;
  /** The methods that advance it, none of them called in the project. */
  advancers: FunctionDef[];
  /** Where each advances it. */
  writes: Span[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The count `t` of the step's corrections, when it is a field no running code advances; undefined otherwise. */
export function countNeverAdvanced(facts: Facts, step: OptimizerStep, t: string): CountNeverAdvanced | undefined {
  const m = /^(?:self|this)\.(\w+)$/.exec(t);
  const cls = step.fn.cls;
  if (!m || !cls) return undefined;
  const field = m[1];
  // A framework base may call the advancing method itself (a Keras callback's `on_epoch_end`): only
  // classes whose bases are all the project's own (or none, or `object`) are read.
  const own = baseClasses(facts.program, cls).length;
  if (cls.bases.filter((b) => !(b.kind === 'name' && b.name === 'object')).length > own) return undefined;
  const methods = [...cls.scope.functions.values()];
  const isConstructor = (f: FunctionDef | undefined): boolean => f === undefined || CONSTRUCTOR_METHODS.includes(f.name) || f.name === cls.name;
  // The statements of the class's other methods that advance the count by one (`this.t++`, `this.t += 1`).
  const advancing: { fn: FunctionDef; span: Span }[] = [];
  for (const f of methods) {
    if (isConstructor(f)) continue;
    for (const st of ownStatements(f.body)) if (advancedKey(st) === t) advancing.push({ fn: f, span: st.span });
  }
  if (advancing.length === 0) return undefined;
  const advancers = [...new Set(advancing.map((a) => a.fn))];
  // A method the language calls by syntax (`opt()` runs `__call__`, a for loop `__next__`), or one a
  // decorator may register as a hook or turn into a property (`@property`, `@trainer.on(...)`): its
  // calls are not written by name.
  if (advancers.some((f) => isImplicitlyCalledMethod(f.name) || f.decorators.length > 0)) return undefined;
  // The step itself, or a method of its name, advances the count: not this finding.
  if (advancers.some((f) => f === step.fn || f.name === step.fn.name)) return undefined;
  // Any other write of the count outside a constructor (`this.t = step`, a reset) is a setting the analysis does not follow.
  const inside = (span: Span, f: FunctionDef): boolean => f.span.start <= span.start && span.end <= f.span.end;
  for (const b of cls.scope.members.get(t) ?? []) {
    const f = methods.find((x) => inside(b.span, x));
    if (isConstructor(f)) continue;
    if (!advancing.some((a) => a.span.start <= b.span.start && b.span.end <= a.span.end)) return undefined;
  }
  const parsed = facts.program.parsedOf(cls.span);
  if (!parsed) return undefined;
  const others = methods.filter((f) => !advancers.includes(f) && !isConstructor(f)).map((f) => escape(f.name));
  const files = new Map<number, string>([[parsed.file.id, parsed.file.text]]);
  const any = new RegExp(`\\b(?:${[...advancers.map((f) => escape(f.name)), escape(field), escape(cls.name), ...others].join('|')})\\b`);
  for (const p of facts.program.filesMentioning(parsed.file, any)) files.set(p.file.id, p.file.text);
  // The advancing methods: mentioned only where they are defined (one mention each, in the whole project).
  for (const f of advancers) {
    const mention = new RegExp(`\\b${escape(f.name)}\\b`, 'g');
    let count = 0;
    for (const text of files.values()) count += (text.match(mention) ?? []).length;
    if (count > 1) return undefined;
  }
  // The count's field written through anything but the instance (`opt.t += 1`, `opt.epoch = e` in a training loop).
  const fieldWrite = new RegExp(`(?<!\\b(?:this|self))\\.${escape(field)}\\s*(?:\\+\\+|--|[-+*/]?=(?!=))`);
  for (const text of files.values()) if (fieldWrite.test(text)) return undefined;
  // The project uses the optimizer: the class constructed (`PlainAdam()`, `new Stepper(…)`). A method of
  // it called on some object is not enough: `.update(` and `.push(` are also a dict's and an array's.
  const use = new RegExp(`(?<!\\b(?:function|class|def)\\s+)\\b${escape(cls.name)}\\s*\\(`);
  if (![...files.values()].some((text) => use.test(text))) return undefined;
  return { count: t, advancers, writes: advancing.map((a) => a.span) };
}
