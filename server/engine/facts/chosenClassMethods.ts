// A class chosen at run time, seen from the entry that chooses it: `model_name = eval(args.model_name)`
// then `model = model_name(...)` in a script that imports every model class it may name, and hands
// the instance to a runner of another module (`runner.train(model)`), whose `model.l2()` its own
// file cannot resolve (the runner imports no model class). The entry knows the candidates: the
// classes it defines or imports from the project. When exactly one method of that name among them
// (own or inherited) returns a value, and that value is a penalty, the runner's call runs it
// whichever candidate is chosen; two candidates with different methods of the name leave it unknown.
// The runner's module is then analysed again in a program of its own whose analyzer takes that
// method as the last resort for such calls (`Program.hinted`), and rules report from the entry's run
// what the hinted analysis adds (NB201: the penalty paired with the runner's optimizer decay).
import type { Facts } from './index';
import type { Expr, Span } from '../ir';
import type { ParsedFile } from '../document';
import { RUN_TIME_NAME_LOOKUPS } from './catalogue';
import { programIndex, type ProgramIndex } from './program';
import { methodOf, resolveImport, returnsOf } from './resolve';
import type { ClassDef, FunctionDef } from './scope';

export interface ChosenClassRun {
  /** The facts of the module holding the unresolved calls, in the hinted program. */
  facts: Facts;
  /** Method name → the one method of that name the entry's candidate classes have. */
  hints: ReadonlyMap<string, FunctionDef>;
  /** The entry's call that builds the instance from the run-time-chosen class. */
  built: Span;
}

/** Candidate modules and calls looked at, at most: the entry is a script, not a package. */
const MAX_MODULES = 40;

const cache = new WeakMap<Facts, ChosenClassRun[]>();

export function chosenClassRuns(facts: Facts): ChosenClassRun[] {
  let runs = cache.get(facts);
  if (!runs) cache.set(facts, (runs = collect(facts)));
  return runs;
}

function collect(facts: Facts): ChosenClassRun[] {
  if (facts.language !== 'python') return [];
  const { program } = facts;
  const parsed = program.parsedById(facts.file.id);
  if (!parsed) return [];
  const built = runTimeConstruction(facts);
  if (!built) return [];
  // What the string may name: the classes of the entry and those it imports from the project.
  const classes: ClassDef[] = [...parsed.scopes.root.classes.values()];
  const modules: ParsedFile[] = [];
  for (const imported of parsed.scopes.imports.values()) {
    const def = resolveImport(program, parsed, imported);
    if (def?.kind === 'class') classes.push(def.cls);
    const module = program.resolveModule(parsed.file, imported.module);
    if (module && module !== parsed && module.language === 'python' && !modules.includes(module) && modules.length < MAX_MODULES) modules.push(module);
  }
  if (classes.length === 0) return [];
  const unique = new Map<string, FunctionDef | undefined>();
  const methodFor = (name: string): FunctionDef | undefined => {
    if (unique.has(name)) return unique.get(name);
    const found = new Set<FunctionDef>();
    for (const cls of classes) {
      const fn = methodOf(program, cls, name);
      if (fn && returnsOf(program, fn).length > 0) found.add(fn);
    }
    let fn = found.size === 1 ? [...found][0] : undefined;
    // Only a penalty: a method returning anything else tells the runner's rules nothing.
    if (fn && !returnsPenalty(facts, fn)) fn = undefined;
    unique.set(name, fn);
    return fn;
  };
  const runs: ChosenClassRun[] = [];
  for (const module of modules) {
    const other = program.facts(module);
    const hints = new Map<string, FunctionDef>();
    for (const site of programIndex(other).calls) {
      const { call, scope, at } = site;
      if (call.callee.kind !== 'attr' || call.callee.object.kind !== 'name') continue;
      const name = call.callee.name;
      if (hints.has(name) || other.scopes.methodsNamed(name).length > 0) continue;
      // The instance reaches the module's function as an argument: its class is the caller's to say.
      if (scope.lookup(call.callee.object.name, at)?.kind !== 'param') continue;
      if (other.analyzer.callTarget(call, scope, at)) continue;
      const fn = methodFor(name);
      if (fn) hints.set(name, fn);
    }
    if (hints.size === 0) continue;
    const hinted = program.hinted(hints);
    runs.push({ facts: hinted.facts(hinted.add(module)), hints, built });
  }
  return runs;
}

/**
 * A call in the entry of `eval(s)`, of a string not written out, or of a name bound to it, whose
 * instance the entry hands to another call: an instance of a class chosen at run time, passed on.
 */
function runTimeConstruction(facts: Facts): Span | undefined {
  const index = programIndex(facts);
  for (const lookup of RUN_TIME_NAME_LOOKUPS) {
    for (const site of index.callsNamed(lookup)) {
      const { call, scope, at } = site;
      // The builtin itself, not a function of the file that shadows it.
      if (call.callee.kind !== 'name' || scope.lookup(lookup, at) || scope.lookupFunction(lookup)) continue;
      if (call.args.length !== 1 || call.args[0].kind === 'str' || call.kwargs.length > 0) continue;
      for (const made of index.calls) {
        let chosen = made.call.callee === call;
        if (!chosen && made.call.callee.kind === 'name') {
          const b = made.scope.lookup(made.call.callee.name, made.at);
          chosen = b?.kind === 'assign' && !b.op && b.value === call;
        }
        if (chosen && handedOn(index, made.call)) return made.call.span;
      }
    }
  }
  return undefined;
}

/** The instance is stored in a name that a call of the entry is handed (`runner.train(model, …)`): it leaves for another function. */
function handedOn(index: ProgramIndex, built: Expr & { kind: 'call' }): boolean {
  for (const site of index.calls) {
    for (const arg of [...site.call.args, ...site.call.kwargs.map((k) => k.value)]) {
      if (arg.kind !== 'name') continue;
      const b = site.scope.lookup(arg.name, site.at);
      if (b?.kind === 'assign' && !b.op && b.value === built) return true;
    }
  }
  return false;
}

function returnsPenalty(facts: Facts, fn: FunctionDef): boolean {
  const returns = returnsOf(facts.program, fn);
  if (returns.length !== 1) return false;
  const r = returns[0];
  try {
    return !!facts.analyzer.classify(r.expr, r.scope, r.at).penalty;
  } catch {
    return false;
  }
}
