// Whether the project runs a Keras layer's `call` eagerly (NB211): then a NumPy draw in it is made
// anew on every call, not frozen into a graph. Keras traces `call` when `fit`/`evaluate`/`predict`
// run the model, or when a `tf.function` wraps the code that calls it; a custom loop under a
// `GradientTape` with neither runs it eagerly. The layer's own module rarely says which: a layer
// defined in `layers.py` is trained from `train.py`. So the files that use the layer are followed:
// the project files that name the class, then those that name what those files define (a model
// builder, a model class), up to `MAX_DEPTH` steps and `MAX_FILES` files. The layer runs eagerly
// when one of them trains with a tape and none of them traces. Unknown users (the host cannot list
// the project, or nothing names the class) leave the answer "traced", as before.
//
// Keras 3 on the torch backend (`os.environ["KERAS_BACKEND"] = "torch"` or
// `keras.config.set_backend("torch")` written in one of those files) runs `fit`/`predict` eagerly
// unless the model is compiled with `jit_compile=True`, and so does a plain torch loop: nothing traces. The JAX
// backend jit-compiles `fit` by default, and a backend chosen outside the code (the shell, `keras.json`)
// is not seen: both stay "traced".
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { Expr } from '../ir';
import type { Facts } from './index';
import type { ClassDef } from './scope';
import { KERAS_BACKEND_VARIABLE, KERAS_JIT_KEYWORD, frameworkPath, isGraphTracingDecorator, isKerasBackendSetter, isKerasEagerBackend, isKerasGraphRun } from './catalogue';
import { programIndex, walkAll } from './program';
import { trainingFacts } from './loops';
import { exportedName, type Definition } from './resolve';

/** How many steps from the layer's class to the files that train with it, and how many files are read. */
const MAX_DEPTH = 3;
const MAX_FILES = 24;
/** Names a model module defines that are followed further (its builders and classes). */
const MAX_NAMES_PER_FILE = 12;

interface FileRuns {
  /** A `tf.function` (decorator or call) or a traced Keras run (`fit`, `predict`…). */
  tfFunction: boolean;
  kerasRuns: boolean;
  tape: boolean;
  /** `KERAS_BACKEND` / `set_backend` with a literal name. */
  backend?: string;
  /** A keyword `jit_compile=True` anywhere. */
  jit: boolean;
}

const cache = new WeakMap<Facts, Map<ClassDef, boolean>>();

/**
 * Whether the layer class `cls` (a Keras layer whose `call` draws on the host) is run eagerly by
 * the project: some file that reaches it trains with a `GradientTape` (or runs it on Keras 3's
 * torch backend) and none traces it.
 */
export function layerRunsEagerly(facts: Facts, cls: ClassDef): boolean {
  let byClass = cache.get(facts);
  if (!byClass) cache.set(facts, (byClass = new Map()));
  let known = byClass.get(cls);
  if (known === undefined) byClass.set(cls, (known = decide(facts, cls)));
  return known;
}

function decide(facts: Facts, cls: ClassDef): boolean {
  const program = facts.program;
  const home = program.parsedOf(cls.span);
  if (!home || home.language !== 'python') return false;
  const files: ParsedFile[] = [home];
  const seen = new Set<number>([home.file.id]);
  // Names to follow, each with the file that defines it: a file counts when it names one and imports its file.
  let names: { name: string; def: ParsedFile }[] = [{ name: cls.name, def: home }];
  for (let depth = 0; depth < MAX_DEPTH && names.length > 0 && files.length < MAX_FILES; depth++) {
    const next: { name: string; def: ParsedFile }[] = [];
    for (const { name, def } of names) {
      // Each search scans the project's files and parses those that match: none once the files are counted out.
      if (files.length >= MAX_FILES) break;
      if (!/^\w+$/.test(name)) continue;
      for (const parsed of program.filesMentioning(home.file, new RegExp(`\\b${name}\\b`))) {
        if (seen.has(parsed.file.id) || files.length >= MAX_FILES || !importsFrom(program, parsed, def, name)) continue;
        seen.add(parsed.file.id);
        files.push(parsed);
        const runs = runsOf(program.facts(parsed));
        // A module that only builds (no loop, no run): what it defines is what the training file names.
        if (!runs.tape && !runs.kerasRuns && !runs.tfFunction) for (const n of definedNames(parsed).slice(0, MAX_NAMES_PER_FILE)) next.push({ name: n, def: parsed });
      }
    }
    names = next;
  }
  const all = files.map((f) => (f === home ? runsOf(facts) : runsOf(program.facts(f))));
  if (all.some((r) => r.tfFunction)) return false;
  const backend = all.find((r) => r.backend !== undefined)?.backend;
  // On the torch backend nothing traces `call` but a jit-compiled run: `fit`, `predict` and a plain torch loop run it eagerly.
  if (backend !== undefined && isKerasEagerBackend(backend)) return !all.some((r) => r.jit);
  if (all.some((r) => r.kerasRuns)) return false;
  return all.some((r) => r.tape);
}

/** Whether `parsed` imports the module `def` (`from nets.noise import FeatureDrop`, `from nets import noise`, `import nets.noise`, or a name a package's `__init__.py` re-exports from it: `from nets import FeatureDrop`). */
function importsFrom(program: Program, parsed: ParsedFile, def: ParsedFile, name: string): boolean {
  for (const imported of parsed.scopes.imports.values()) {
    const target = program.resolveModule(parsed.file, imported.module);
    if (!target) continue;
    if (target === def) return true;
    // `import nets` then `nets.make_regressor(...)`, with the package re-exporting the name from `def`.
    if (imported.name === undefined) {
      if (definedIn(program, exportedName(program, target, name), def)) return true;
      continue;
    }
    if (imported.name === '*') continue;
    const sub = program.submodule(target, imported.name);
    if (sub === def) return true;
    // `from nets import models` then `models.make_regressor(...)`: the subpackage re-exports it.
    if (sub && definedIn(program, exportedName(program, sub, name), def)) return true;
    // `from nets import FeatureDrop` with `nets/__init__.py` re-exporting it from `.noise`: the name's definition is in `def`.
    if (definedIn(program, exportedName(program, target, imported.name), def)) return true;
  }
  return false;
}

/** Whether a module member's definition (a class, a function, a module) is in `def`. */
function definedIn(program: Program, d: Definition | undefined, def: ParsedFile): boolean {
  if (!d) return false;
  if (d.kind === 'module') return d.parsed === def;
  const span = d.kind === 'class' ? d.cls.span : d.kind === 'function' ? d.fn.span : undefined;
  return span !== undefined && program.parsedOf(span) === def;
}

/** The names a file defines at its top level: functions, classes, and names assigned a call's value (`model = build()`). */
function definedNames(parsed: ParsedFile): string[] {
  const out: string[] = [];
  for (const st of parsed.module.body) {
    if ((st.kind === 'function' || st.kind === 'class') && st.name.length >= 4 && !st.name.startsWith('__')) out.push(st.name);
  }
  return out;
}

const runsCache = new WeakMap<Facts, FileRuns>();

function runsOf(facts: Facts): FileRuns {
  let runs = runsCache.get(facts);
  if (runs) return runs;
  runs = { tfFunction: false, kerasRuns: false, tape: trainingFacts(facts).tapeBlocks.length > 0, jit: false };
  const r = runs;
  const index = programIndex(facts);
  const path = (e: Expr): string[] | undefined => frameworkPath(e, index.scopeAt(e.span.start), e.span.start, facts.scopes.imports, 'python');
  // Decorators included: `@tf.function` and `tf.function(step)` both read `tf.function`.
  walkAll(facts.module.body, (e) => {
    if (e.kind === 'call') {
      if (e.callee.kind === 'attr' && isKerasGraphRun(e.callee.name)) r.kerasRuns = true;
      if (e.kwargs.some((k) => k.name === KERAS_JIT_KEYWORD && k.value.kind === 'name' && k.value.name === 'True')) r.jit = true;
      const first = e.args[0];
      if (first?.kind === 'str' && isKerasBackendSetter(path(e.callee))) r.backend = first.value;
      // `os.environ.setdefault("KERAS_BACKEND", "torch")`
      const second = e.args[1];
      if (first?.kind === 'str' && first.value === KERAS_BACKEND_VARIABLE && second?.kind === 'str') r.backend = second.value;
    } else if ((e.kind === 'attr' || e.kind === 'name') && !r.tfFunction && isGraphTracingDecorator(path(e))) r.tfFunction = true;
  });
  // `os.environ["KERAS_BACKEND"] = "torch"`
  for (const st of facts.module.body) {
    if (st.kind !== 'assign' || st.value.kind !== 'str') continue;
    const t = st.targets[0];
    if (t?.kind === 'index' && t.index[0]?.kind === 'str' && t.index[0].value === KERAS_BACKEND_VARIABLE) r.backend = st.value.value;
  }
  runsCache.set(facts, runs);
  return runs;
}
