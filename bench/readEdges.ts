// What per-function reuse across keystrokes would have to track (issue 12), measured on one lint
// of a bench file: which top-level statement's analysis reads another top-level statement through
// the name-resolution chokepoints, and whether the file-wide sets the analysis registers change
// while one types.
//
//   node out/bench/readEdges.js script|gen3k|gen10k [edits=30]
//
// Read edges: every answer of `Scope.lookup`, `allBindings`, `lookupFunction`, `lookupClass` and of
// a program index's `callsTo` and `callersOf` is an edge from the unit that asked (the asking
// scope's or position's top-level statement; for the index, the function asked about) to the unit
// of the answer (a binding, function or call site). `uniqueMethod`, `methodsNamed`, `callsNamed`
// and `functionNamed` have no asker: their non-empty answers are counted apart ("unattributed",
// reads of the file's set of names). For an edit in unit G, the units whose analysis may read it
// are those that reach G along the edges; `expectedShare` is that share of the file's characters,
// averaged over edit positions (a unit weighted by its size, as Stop 26 and 39 measured slices).
// It is a lower bound of what a per-unit query would depend on: reads that walk `module.body` or
// `index.functions` whole, and the file-wide sets (parameters, state, dialect, imports), are not
// edges; the second half of the output says how often those sets changed in `edits` keystrokes.
//
// Static cones: a unit reads the units that bind, at module level (definitions, classes, assignments),
// a name its text mentions, and what those read in turn ("reads", directed); names bound by imports
// are file-wide (the import statements), not followed. `readsShare` is the expected share of the file
// (in characters, averaged over edit positions) whose cone holds the edited unit: what a per-unit
// query keyed by its cone would recompute. `withCallers` adds, one step, the units that mention a
// name the cone binds (a caller or reader, which scans by name such as `callsTo` reach): Stop 39's
// undirected closure is that step taken transitively.
//
// The counters wrap prototypes and the index's methods in this process only; nothing else runs here.
import { initEngine, lintDocumentSteps, ParseCache } from '../server/engine';
import type { Facts } from '../server/engine/facts';
import { Scope, ScopeBuilder } from '../server/engine/facts/scope';
import type { ProgramIndex } from '../server/engine/facts/program';
import type { Stmt } from '../server/engine/ir';
import { runSteps } from '../server/engine/stepwise';
import { keystrokeText, typeIntoName } from './keystrokes';

const programModule = require('../server/engine/facts/program') as { programIndex: (facts: Facts) => ProgramIndex };

const reads: number[] = []; // pairs: asker offset, answer offset
let recording = false;
let unattributed = 0;
const calls: Record<string, number> = {};

function count(name: string): void {
  calls[name] = (calls[name] ?? 0) + 1;
}

type Spanned = { span?: { start: number }; nameSpan?: { start: number } };

function wrapMethod(proto: object, name: string, askerOf: ((self: Scope, args: unknown[]) => number | undefined) | undefined): void {
  const table = proto as Record<string, (...args: unknown[]) => unknown>;
  const original = table[name];
  table[name] = function (this: Scope, ...args: unknown[]): unknown {
    const answer = original.apply(this, args);
    if (!recording) return answer;
    count(name);
    const answers = (Array.isArray(answer) ? answer : answer ? [answer] : []) as Spanned[];
    if (!askerOf) {
      if (answers.length > 0) unattributed++;
      return answer;
    }
    const asker = askerOf(this, args);
    for (const a of answers) {
      const span = a.span ?? a.nameSpan;
      if (span && asker !== undefined) reads.push(asker, span.start);
    }
    return answer;
  };
}

const scopeAsker = (s: Scope): number | undefined => (s.kind === 'module' ? undefined : s.span.start);
wrapMethod(Scope.prototype, 'lookup', (s, args) => (s.kind === 'module' ? (args[1] as number) : s.span.start));
wrapMethod(Scope.prototype, 'allBindings', scopeAsker);
wrapMethod(Scope.prototype, 'lookupFunction', scopeAsker);
wrapMethod(Scope.prototype, 'lookupClass', scopeAsker);
wrapMethod(ScopeBuilder.prototype, 'uniqueMethod', undefined);
wrapMethod(ScopeBuilder.prototype, 'methodsNamed', undefined);

const originalIndex = programModule.programIndex;
const wrappedIndexes = new WeakMap<ProgramIndex, ProgramIndex>();
programModule.programIndex = (facts: Facts): ProgramIndex => {
  const index = originalIndex(facts);
  if (!recording) return index;
  let wrapped = wrappedIndexes.get(index);
  if (wrapped) return wrapped;
  const w = Object.create(index) as Record<string, unknown>;
  w.callsTo = (fn: { span: { start: number } }) => {
    const found = index.callsTo(fn as never);
    count('callsTo');
    for (const c of found) reads.push(fn.span.start, c.call.span.start);
    return found;
  };
  w.callersOf = (fn: { span: { start: number } }) => {
    const found = index.callersOf(fn as never);
    count('callersOf');
    for (const f of found) reads.push(fn.span.start, f.span.start);
    return found;
  };
  w.callsNamed = (name: string) => {
    const found = index.callsNamed(name);
    count('callsNamed');
    if (found.length > 0) unattributed++;
    return found;
  };
  w.functionNamed = (name: string) => {
    const found = index.functionNamed(name);
    count('functionNamed');
    if (found) unattributed++;
    return found;
  };
  wrapped = w as unknown as ProgramIndex;
  wrappedIndexes.set(index, wrapped);
  return wrapped;
};

/** The file-wide sets the analysis registers while facts are built (facts/index.ts), as one string. */
function fileWide(facts: Facts): string {
  return JSON.stringify({ params: [...facts.params].sort(), state: facts.state.size, dialect: facts.dialect, imports: [...facts.imports].sort() });
}

async function main(): Promise<void> {
  const [which = 'script', edits = '30'] = process.argv.slice(2);
  await initEngine();
  const lines = keystrokeText(which).split('\n');
  recording = true;
  const first = runSteps(lintDocumentSteps(lines.join('\n'), { language: 'python' }, new ParseCache(1, 1)));
  recording = false;
  const body = first.analysis!.module.body;
  const starts = body.map((s) => s.span.start);
  const unitOf = (offset: number): number => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };
  const readers = body.map(() => new Set<number>());
  let crossUnit = 0;
  for (let i = 0; i < reads.length; i += 2) {
    const a = unitOf(reads[i]);
    const b = unitOf(reads[i + 1]);
    if (a < 0 || b < 0 || a === b) continue;
    crossUnit++;
    readers[b].add(a);
  }
  const size = body.map((s) => s.span.end - s.span.start);
  const total = size.reduce((x, y) => x + y, 0);
  let expected = 0;
  const shares: number[] = [];
  for (let g = 0; g < body.length; g++) {
    const reached = new Set([g]);
    const todo = [g];
    while (todo.length > 0) for (const r of readers[todo.pop()!]) if (!reached.has(r)) reached.add(r), todo.push(r);
    let share = 0;
    for (const u of reached) share += size[u] / total;
    shares.push(share);
    expected += (size[g] / total) * share;
  }
  shares.sort((a, b) => a - b);
  const cones = staticCones(first.analysis!.module.body, first.analysis!.scopes.root, first.analysis!.text, first.analysis!.file.base);
  // The file-wide sets, keystroke after keystroke (the edit bench/lsp.ts types), against the first version's.
  const parses = new ParseCache(1, 1);
  const base = fileWide(runSteps(lintDocumentSteps(lines.join('\n'), { language: 'python' }, parses)).analysis!.facts);
  let changed = 0;
  for (let i = 0; i < Number(edits); i++) {
    typeIntoName(lines, i);
    const lint = runSteps(lintDocumentSteps(lines.join('\n'), { language: 'python' }, parses));
    if (lint.analysis && fileWide(lint.analysis.facts) !== base) changed++;
  }
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    file: which, units: body.length, calls, reads: reads.length / 2, crossUnit, unattributed,
    expectedShare: round(expected), medianShare: round(shares[body.length >> 1]), p90Share: round(shares[Math.floor(body.length * 0.9)]), maxShare: round(shares[body.length - 1]),
    ...cones,
    keystrokes: Number(edits), fileWideChanged: changed, fileWide: JSON.parse(base),
  }));
}

function staticCones(body: Stmt[], root: Scope, text: string, base: number): { readsShare: number; withCallersShare: number; readsMedianCone: number } {
  const starts = body.map((s) => s.span.start);
  const unitOf = (offset: number): number => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };
  // Units binding each module-level name.
  const binders = new Map<string, Set<number>>();
  const bind = (name: string, offset: number): void => {
    const u = unitOf(offset);
    if (u < 0) return;
    const set = binders.get(name) ?? new Set<number>();
    set.add(u);
    binders.set(name, set);
  };
  for (const [key, list] of root.bindings) for (const b of list) bind(key.split('.')[0], b.span.start);
  for (const [name, fn] of root.functions) bind(name, fn.span.start);
  for (const [name, cls] of root.classes) bind(name, cls.span.start);
  const mentions = body.map((s) => new Set(text.slice(s.span.start - base, s.span.end - base).match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []));
  const reads = body.map((_, u) => {
    const out = new Set<number>();
    for (const name of mentions[u]) for (const b of binders.get(name) ?? []) if (b !== u) out.add(b);
    return out;
  });
  const boundBy = body.map(() => new Set<string>());
  for (const [name, units] of binders) for (const u of units) boundBy[u].add(name);
  const size = body.map((s) => s.span.end - s.span.start);
  const total = size.reduce((x, y) => x + y, 0);
  const cone = (u: number): Set<number> => {
    const seen = new Set([u]);
    const todo = [u];
    while (todo.length > 0) for (const r of reads[todo.pop()!]) if (!seen.has(r)) seen.add(r), todo.push(r);
    return seen;
  };
  const cones = body.map((_, u) => cone(u));
  // With callers: the cone, plus every unit that mentions a name some unit of the cone binds.
  const withCallers = cones.map((c) => {
    const names = new Set<string>();
    for (const u of c) for (const n of boundBy[u]) names.add(n);
    const out = new Set(c);
    for (let v = 0; v < body.length; v++) if (!out.has(v)) for (const n of names) if (mentions[v].has(n)) { out.add(v); break; }
    return out;
  });
  // Expected share recomputed after an edit in G: the units whose cone holds G.
  const share = (sets: Set<number>[]): number => {
    let expected = 0;
    for (let g = 0; g < body.length; g++) {
      let hit = 0;
      for (let u = 0; u < body.length; u++) if (sets[u].has(g)) hit += size[u];
      expected += (size[g] / total) * (hit / total);
    }
    return Math.round(expected * 1000) / 1000;
  };
  const coneSizes = cones.map((c) => [...c].reduce((x, u) => x + size[u], 0) / total).sort((a, b) => a - b);
  return { readsShare: share(cones), withCallersShare: share(withCallers), readsMedianCone: Math.round(coneSizes[coneSizes.length >> 1] * 1000) / 1000 };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
