// A call named like a differentiation (`self.backward(X, Y, lam)`, `self.compute_gradients(X, Y)`,
// `net.backward(dout)`) that runs a function of the project which differentiates nothing: hand-written
// backprop, whose gradients are written out (the penalty's own 2·λ·W among them), not autodiff's.
// Decided by resolution and data flow, not by the method's name: the call resolves to one function of
// the project, and nothing that function runs, through any of the project's own calls (up to 4 deep),
// is a framework's differentiation (a call the autodiff recognizer's names cover, or one of the framework
// differentiations catalogue.ts lists beyond them (`jax.vjp`, `get_gradients`), that resolves to no project
// function, or that is too deep to follow).
// A value of a project autodiff class differentiating itself (micrograd's `loss.backward()`: no
// arguments, nothing returned) stays a differentiation.
import type { Expr } from '../ir';
import type { Program } from '../program';
import type { FunctionDef, Scope } from './scope';
import { programIndex } from './program';
import { readsAutodiff } from './autodiff';
import { isFrameworkDifferentiation } from './catalogue';
import { resolveCall, returnsOf } from './resolve';

type Call = Expr & { kind: 'call' };

/** The depth of project calls followed from the called function. */
const MAX_DEPTH = 4;

/** Is `call` a call of the project's own hand-written gradient code (see the file comment)? */
export function isHandGradientCall(program: Program, call: Call, scope: Scope, at: number): boolean {
  const target = resolveCall(program, call, scope, at);
  if (!target || target.constructs || target.candidates) return false;
  if (call.args.length === 0 && call.kwargs.length === 0 && returnsOf(program, target.fn).length === 0) return false;
  return !differentiates(program, target.fn, 0, new Set());
}

/** Per program: another version of an imported module may differentiate where this one does not. */
const memos = new WeakMap<Program, WeakMap<FunctionDef, boolean>>();

/** Does `fn`, or a project function it calls, run a differentiation (one the project does not define)? */
function differentiates(program: Program, fn: FunctionDef, depth: number, seen: Set<FunctionDef>): boolean {
  let memo = memos.get(program);
  if (!memo) memos.set(program, (memo = new WeakMap()));
  const known = memo.get(fn);
  if (known !== undefined) return known;
  if (seen.has(fn)) return false;
  seen.add(fn);
  const facts = program.factsAt(fn.span);
  // A function whose file is not read: assume it may differentiate.
  if (!facts) return true;
  let found = false;
  for (const c of programIndex(facts).calls) {
    if (c.call.span.start < fn.span.start || c.call.span.end > fn.span.end) continue;
    // Named like the step recognizer's differentiations, or one of the framework's others (`jax.vjp`,
    // `tape.jacobian`, a Keras 2 optimizer's `get_gradients`; catalogue.ts).
    const autodiffNamed = readsAutodiff(c.call);
    const named = autodiffNamed || isFrameworkDifferentiation(c.call, c.scope, c.at, facts.scopes.imports, facts.language === 'python' ? 'python' : 'script');
    const t = depth < MAX_DEPTH ? resolveCall(program, c.call, c.scope, c.at) : undefined;
    // A framework object's method (`.jacobian(...)`, `.get_gradients(...)`) called on a value whose class the
    // code does not show, in a project whose own classes define a method of that name (`self.act.jacobian(P, Y)`
    // with `self.act = ACTIVATIONS[name]()`): the call runs one of those, and differentiates only if one does.
    if (named && !autodiffNamed && !t && depth < MAX_DEPTH && c.call.callee.kind === 'attr') {
      const own = projectMethodsNamed(program, facts.scopes.methodsNamed(c.call.callee.name), fn, c.call.callee.name);
      if (own.length > 0) {
        if (own.some((f) => differentiates(program, f, depth + 1, seen))) {
          found = true;
          break;
        }
        continue;
      }
    }
    // A call named like a differentiation that is no project function (or too deep to follow) is one.
    if (named && (!t || t.constructs || t.candidates)) {
      found = true;
      break;
    }
    // Any other call of the project's own is followed (`def backward(self, loss): self._scaled(loss)`,
    // whose helper runs `loss.backward()`); a call the project does not define (`np.sum`) runs none.
    if (!t) continue;
    if ((t.candidates ?? [t.fn]).some((f) => differentiates(program, f, depth + 1, seen))) {
      found = true;
      break;
    }
  }
  // Only a complete answer is kept (a cycle cut short at `seen` is not one).
  if (depth === 0 || found) memo.set(fn, found);
  return found;
}

/**
 * The methods of that name in the file's classes, or, when it defines none, in the classes of the project's other
 * files that mention the name (a from-scratch library's `optimizers.py` defining `get_gradients`).
 */
function projectMethodsNamed(program: Program, inFile: readonly FunctionDef[], fn: FunctionDef, name: string): readonly FunctionDef[] {
  if (inFile.length > 0) return inFile;
  const here = program.parsedOf(fn.span);
  if (!here) return inFile;
  const out: FunctionDef[] = [];
  for (const parsed of program.filesMentioning(here.file, new RegExp(`\\b${name}\\b`))) if (parsed.file.id !== here.file.id) out.push(...parsed.scopes.methodsNamed(name));
  return out;
}
