// Per-function answers kept from a document's previous version (issue 12: recheck only what changed),
// as salsa keeps a query's value while its inputs are unchanged. A session's document (the language
// server's, `lintDocumentSteps` with its ParseCache) keeps the facts of its last rule run; the next
// version's facts may take a function's answer from them instead of computing it again.
//
// Only "found nothing" is kept: an answer that holds no node and no span, so nothing has to be moved
// or mapped into the new version. A fact keeps it per function with `foundNothing` and asks for it
// with `foundNothingBefore` (today: `unstoredStates`, facts/unstoredState.ts; `optimizerSteps`,
// facts/optimizerSteps.ts). A query whose work reads the file beyond the cone below records those
// lookups with its answer, as plain data, and checks them in the new version (`stillRead`): salsa's
// recorded reads, for the reads the cone does not cover (optimizerSteps: the numbers and plain values
// the whole file assigns to a key it asked for, locals of other functions too, its ε test's included).
//
// The unit is a top-level statement (a function, a class with its methods, a module-level line).
// A previous answer for a function is reused only when all of these hold:
//   0. The answer was found nothing (or reused) in the previous version, and every lookup it recorded
//      answers alike now.
//   1. Both versions are Python, without code nested too deeply, in one lone
//      document with no cells, and the file-wide sets the analysis registered (parameters, local
//      parameters, optimizer state, stepped loop-item fields, imports, dialect, the gradient names a
//      framework call hands back) are the same, positions taken relative to their top-level
//      statement; a set with a position inside a changed statement counts as changed, except the function
//      spans the state and local parameters are registered in (asked only whether an offset lies inside
//      them: one inside a changed statement contains no offset of a reused function).
//   2. The function's top-level statement is the previous one's, shared or moved by the lowering
//      (lower/reuse.ts: same IR, spans moved), so its own code is the same. A statement with a
//      syntax error, or one tree-sitter parsed anew, is lowered again: a changed statement.
//   3. Its cone holds no changed statement: a statement reads the statements that bind, at module
//      level or as a function, class or instance field anywhere (any use of `self.x`, a read too, counts
//      as binding `x`: a class whose bases the file defines has its state read file-wide), a name its text mentions
//      (a comment's or a string's word counts too), and what those read, transitively. And no statement of its cone binds a
//      name a changed statement mentions (a changed caller or reader, which scans by name such as
//      `callsTo` reach); an import binds nothing here (imports are file-wide, condition 1), but a
//      name both imported and assigned is bound by its assignment. Changed statements
//      are those of either version without a counterpart in the other.
// bench/readEdges.ts measured why this is enough to pay: the cones of a 3,000-line training script
// hold 4 % of the file on average (6 % with the callers' step), against 99 % for the undirected
// closure Stop 39 sliced by. test/engine/functionReuse.test.ts compares, after random edits, every
// lint of a session with a fresh one.
import type { ParsedFile } from './document';
import type { Facts } from './facts';
import { catalogueGradientNames } from './facts/gradientDicts';
import type { FunctionDef } from './facts/scope';
import type { Span, Stmt } from './ir';
import { copiedFrom } from './lower/reuse';
import { selfFieldPattern } from './facts/resolve';

/** A version's facts, kept by its session for the next version. */
export interface KeptFacts {
  parsed: ParsedFile;
  facts: Facts;
}

let enabled = true;

/** Turns the reuse on or off (measurements and tests); on by default. */
export function setFunctionReuse(on: boolean): void {
  enabled = on;
}

/** The previous version each new parse may reuse answers of, set before its facts are built. */
const previousOf = new WeakMap<ParsedFile, KeptFacts>();

/** Links a session's new parse to its last version's facts (lintDocumentSteps). */
export function linkVersions(parsed: ParsedFile, previous: KeptFacts | undefined): void {
  if (!enabled) return;
  // A session's version records what it found nothing in (the first one too); nothing else does (the CLI, a project's files).
  sessionParses.add(parsed);
  if (!previous) return;
  // One version back only: an older link would keep every version alive.
  previousOf.delete(previous.parsed);
  previousOf.set(parsed, previous);
}

/** The parses of a session's versions: only their facts record answers for the next version. */
const sessionParses = new WeakSet<ParsedFile>();
/** Per facts: whether it is a session version's (asked once per facts). */
const recording = new WeakMap<Facts, boolean>();

function records(facts: Facts): boolean {
  let on = recording.get(facts);
  if (on === undefined) {
    const parsed = facts.program.parsedOf({ start: facts.file.base, end: facts.file.base });
    recording.set(facts, (on = parsed !== undefined && sessionParses.has(parsed)));
  }
  return on;
}

/**
 * Per query, per top-level statement of this version, the functions (by their place in the statement) that found
 * nothing, each with what its answer read beyond its cone (a query's own record of file-wide lookups, plain data: no
 * node, no span; `true` when it read nothing such).
 */
const nothingFound = new WeakMap<Facts, Map<string, Map<Stmt, Map<string, unknown>>>>();

interface Plan {
  /** What the previous version's facts found nothing in (not the facts: a plan keeps no older version alive). */
  previous: Map<string, Map<Stmt, Map<string, unknown>>> | undefined;
  /** This version's top-level statements whose answers may be reused, with their previous statement. */
  reusable: Map<Stmt, Stmt>;
}

const plans = new WeakMap<Facts, Plan | null>();

/**
 * Whether `query` found nothing in `fn` in the previous version, and nothing its answer reads has changed since: it
 * finds nothing now (and the answer is recorded for the next version, as `foundNothing` would). `stillRead` checks, in this version, the lookups the query recorded with `foundNothing` (reads
 * beyond the cone, such as every number the file assigns to a key: optimizerSteps.ts).
 */
export function foundNothingBefore<R>(facts: Facts, query: string, fn: FunctionDef, stillRead?: (reads: R) => boolean): boolean {
  const counts = (reuseCounts.byQuery[query] ??= { asked: 0, reused: 0, coneChanged: 0, foundBefore: 0, readsChanged: 0 });
  reuseCounts.asked++;
  counts.asked++;
  const plan = planOf(facts);
  if (!plan) return false;
  const place = placeIn(facts.module.body, fn.span);
  if (!place) return false;
  const old = plan.reusable.get(place.unit);
  if (!old) {
    counts.coneChanged++;
    return false;
  }
  const reads = plan.previous?.get(query)?.get(old)?.get(place.key);
  if (reads === undefined) {
    counts.foundBefore++;
    return false;
  }
  const reused = reads === true || (stillRead !== undefined && stillRead(reads as R));
  if (!reused) counts.readsChanged++;
  else {
    reuseCounts.reused++;
    counts.reused++;
    // The answer holds in this version too, with the same reads: kept for the next one.
    foundNothing(facts, query, fn, reads);
  }
  return reused;
}

/**
 * How many answers were asked for and reused, since the process started (bench/keystrokes.ts prints them); per query,
 * why the others were not: the function's statement or cone changed, it found something (or was not asked) before,
 * or a lookup it recorded answers differently now.
 */
export const reuseCounts: { asked: number; reused: number; byQuery: Record<string, { asked: number; reused: number; coneChanged: number; foundBefore: number; readsChanged: number }> } = {
  asked: 0,
  reused: 0,
  byQuery: {},
};

/** Records that `query` found nothing in `fn` (for the next version), with what it read beyond its cone (`reads`: plain data). */
export function foundNothing(facts: Facts, query: string, fn: FunctionDef, reads?: unknown): void {
  if (!enabled || !records(facts)) return;
  const place = placeIn(facts.module.body, fn.span);
  if (!place) return;
  let byQuery = nothingFound.get(facts);
  if (!byQuery) nothingFound.set(facts, (byQuery = new Map()));
  let byUnit = byQuery.get(query);
  if (!byUnit) byQuery.set(query, (byUnit = new Map()));
  let keys = byUnit.get(place.unit);
  if (!keys) byUnit.set(place.unit, (keys = new Map()));
  keys.set(place.key, reads ?? true);
}

/** The top-level statement holding `span`, and `span`'s place relative to it. */
function placeIn(body: readonly Stmt[], span: Span): { unit: Stmt; key: string } | undefined {
  const i = unitAt(body, span.start);
  if (i < 0) return undefined;
  const unit = body[i];
  if (span.end > unit.span.end) return undefined;
  return { unit, key: `${span.start - unit.span.start}:${span.end - unit.span.start}` };
}

function unitAt(body: readonly Stmt[], offset: number): number {
  let lo = 0;
  let hi = body.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (body[mid].span.start <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function planOf(facts: Facts): Plan | undefined {
  let plan = plans.get(facts);
  if (plan === undefined) {
    plan = makePlan(facts) ?? null;
    plans.set(facts, plan);
  }
  return plan ?? undefined;
}

function makePlan(facts: Facts): Plan | undefined {
  if (!enabled) return undefined;
  const parsed = facts.program.parsedOf({ start: facts.file.base, end: facts.file.base });
  const previous = parsed && previousOf.get(parsed);
  if (!parsed || !previous) return undefined;
  previousOf.delete(parsed);
  const old = previous.parsed;
  if (parsed.language !== 'python' || old.language !== 'python' || parsed.file.base !== old.file.base) return undefined;
  if (parsed.module.truncated || old.module.truncated) return undefined;
  // Condition 2: each statement's counterpart in the previous version (shared, or a moved copy, perhaps through versions whose rules did not run).
  const oldBody = old.module.body;
  const oldSet = new Set(oldBody);
  const counterpart = new Map<Stmt, Stmt>();
  const taken = new Set<Stmt>();
  for (const stmt of parsed.module.body) {
    let s: Stmt | undefined = stmt;
    for (let hops = 0; s && !oldSet.has(s) && hops < 8; hops++) s = copiedFrom(s);
    if (s && oldSet.has(s) && !taken.has(s)) {
      counterpart.set(stmt, s);
      taken.add(s);
    }
  }
  const changedNew = parsed.module.body.filter((s) => !counterpart.has(s));
  const changedOld = oldBody.filter((s) => !taken.has(s));
  // Condition 1: the file-wide sets, positions relative to their statement (in the previous version's statements).
  const here = fileWide(facts, parsed.module.body, (unit) => counterpart.get(unit));
  const before = fileWide(previous.facts, oldBody, (unit) => (taken.has(unit) ? unit : undefined));
  if (here === undefined || before === undefined || here !== before) return undefined;
  // Condition 3: the statements whose cone holds a changed one.
  const ownNames = unitNames(parsed);
  const oldNames = unitNames(old);
  const changedBound = new Set<string>();
  const changedMentioned = new Set<string>();
  for (const s of changedNew) {
    const i = parsed.module.body.indexOf(s);
    ownNames.bound[i].forEach((n) => changedBound.add(n));
    ownNames.mentioned[i].forEach((n) => changedMentioned.add(n));
  }
  for (const s of changedOld) {
    const i = oldBody.indexOf(s);
    oldNames.bound[i].forEach((n) => changedBound.add(n));
    oldNames.mentioned[i].forEach((n) => changedMentioned.add(n));
  }
  const body = parsed.module.body;
  const affected = new Set<number>();
  const names = new Set<string>(changedBound);
  const todo: number[] = [];
  const affect = (i: number): void => {
    if (affected.has(i)) return;
    affected.add(i);
    todo.push(i);
  };
  for (let i = 0; i < body.length; i++) {
    if (!counterpart.has(body[i])) continue;
    if (someIn(ownNames.mentioned[i], changedBound)) affect(i);
    // (An import binds nothing here: imports are file-wide, condition 1. A name both imported and assigned,
    // `try: from m import t` / `except ImportError: t = {}`, is bound by its assignment like any other.)
    else for (const n of ownNames.bound[i]) if (changedMentioned.has(n)) affect(i);
  }
  // Readers of affected statements are affected: a statement mentioning a name an affected one binds.
  while (todo.length > 0) {
    const fresh: string[] = [];
    for (const n of ownNames.bound[todo.pop()!]) if (!names.has(n)) names.add(n), fresh.push(n);
    if (fresh.length === 0) continue;
    for (let i = 0; i < body.length; i++) if (!affected.has(i) && fresh.some((n) => ownNames.mentioned[i].has(n))) affect(i);
  }
  const reusable = new Map<Stmt, Stmt>();
  for (let i = 0; i < body.length; i++) {
    const o = counterpart.get(body[i]);
    if (o && !affected.has(i)) reusable.set(body[i], o);
  }
  return { previous: nothingFound.get(previous.facts), reusable };
}

function someIn(set: ReadonlySet<string>, of: ReadonlySet<string>): boolean {
  for (const n of set) if (of.has(n)) return true;
  return false;
}

/** Per top-level statement: the names it binds (module level; functions and classes at any depth) and the words its text holds. */
const namesCache = new WeakMap<ParsedFile, { bound: Set<string>[]; mentioned: Set<string>[] }>();

function unitNames(parsed: ParsedFile): { bound: Set<string>[]; mentioned: Set<string>[] } {
  let names = namesCache.get(parsed);
  if (names) return names;
  const body = parsed.module.body;
  const base = parsed.file.base;
  const bound = body.map(() => new Set<string>());
  const mentioned = body.map((s) => new Set(parsed.text.slice(s.span.start - base, s.span.end - base).match(WORD) ?? []));
  const bind = (name: string, offset: number): void => {
    const i = unitAt(body, offset);
    if (i >= 0) bound[i].add(name);
  };
  const root = parsed.scopes.root;
  // `cache[k] = …` at module level binds `cache` (its key is `cache[k]`).
  for (const [key, list] of root.bindings) for (const b of list) bind(key.split(/[.[]/)[0], b.span.start);
  for (const [name, fn] of root.functions) bind(name, fn.span.start);
  for (const [name, cls] of root.classes) bind(name, cls.span.start);
  // Functions and classes at any depth: a method is found by its name across classes (`methodsNamed`).
  const scopes = new Set([...parsed.scopes.stmtScopes.values(), ...parsed.scopes.lambdaScopes.values()]);
  for (const s of scopes) {
    for (const [name, fn] of s.functions) bind(name, fn.span.start);
    for (const [name, cls] of s.classes) bind(name, cls.span.start);
    // An instance's fields (`self.cache = …` in any method): a class with bases may have its state kept by statements of the whole file.
    for (const [key, list] of s.members) for (const b of list) for (const part of key.split('.').slice(1)) bind(part.split('[')[0], b.span.start);
  }
  // Any use of an instance's field (`self.x`, read or written, `self.x[i] = …` too) counts as binding `x`: NB407's walk of a
  // class whose bases the file defines scans the whole file for the statements that name its state (`onlyStarted`,
  // `unreadBesides`), so a statement that only reads `self.sq_table` decides another class's answer.
  body.forEach((s, i) => {
    for (const m of parsed.text.slice(s.span.start - base, s.span.end - base).matchAll((selfField ??= selfFieldPattern()))) bound[i].add(m[1]);
  });
  names = { bound, mentioned };
  namesCache.set(parsed, names);
  return names;
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/g;
/** `self.x` as written (resolve.ts: the instance's names live beside isSelfName); made on first use (no load-order cycle). */
let selfField: RegExp | undefined;

/**
 * The file-wide sets of a version as one string, each position written as its top-level
 * statement (`unitOf`: the previous version's statement, undefined for a changed one) and its offsets
 * in it; undefined when a position is in a changed statement or spans several statements. A function
 * span that the state or a local parameter is registered in (`StateTargets.has`, the analyzer's
 * `localParamKeys`: questions of whether an offset lies inside it) is written as `changed` when it lies
 * inside a changed statement: no offset of a statement whose answer may be reused lies in it, so only
 * whether the key is registered matters there (`inChanged`).
 */
function fileWide(facts: Facts, body: readonly Stmt[], unitOf: (unit: Stmt) => Stmt | undefined): string | undefined {
  const units = new Map<Stmt, number>();
  let volatile = false;
  const place = (span: Span, inChanged = false): string => {
    const i = unitAt(body, span.start);
    const within = i >= 0 && span.end <= body[i].span.end;
    const unit = within ? unitOf(body[i]) : undefined;
    if (!unit) {
      if (within && inChanged) return 'changed';
      volatile = true;
      return '';
    }
    let id = units.get(unit);
    if (id === undefined) units.set(unit, (id = idOf(unit)));
    return `${id}+${span.start - body[i].span.start}:${span.end - body[i].span.start}`;
  };
  const registered = facts.analyzer.registrationsOf(facts.file);
  const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
  /** Function spans asked only whether an offset lies inside: those in changed statements count once, as `changed`. */
  const places = (spans: readonly Span[]): string => [...new Set(spans.map((x) => place(x, true)))].sort().join(',');
  const out = JSON.stringify({
    params: sorted(registered.params ?? []),
    locals: [...(registered.locals ?? [])].map(([key, spans]) => `${key}@${places(spans)}`).sort(),
    state: (registered.state?.entries() ?? []).map((e) => `${e.key}${e.preconditioner ? '/pre' : ''}@${places(e.spans)}`).sort(),
    stepped: sorted(registered.stepped ?? []),
    factsParams: sorted(facts.params),
    factsState: facts.state.entries().map((e) => `${e.key}${e.preconditioner ? '/pre' : ''}@${places(e.spans)}`).sort(),
    dialect: facts.dialect,
    imports: [...facts.scopes.imports].map(([alias, imported]) => `${alias}=${imported.module}:${imported.name ?? ''}@${place(imported.span)}`).sort(),
    star: [...facts.scopes.starImports].sort(),
    gradients: sorted(catalogueGradientNames(facts.module.body)),
  });
  return volatile ? undefined : out;
}

/** A stable id for a previous version's statement within one comparison. */
const ids = new WeakMap<Stmt, number>();
let nextId = 0;
function idOf(unit: Stmt): number {
  let id = ids.get(unit);
  if (id === undefined) ids.set(unit, (id = nextId++));
  return id;
}
