// Early cut-off for a document being edited, as rust-analyzer cuts off a query whose input changed
// but whose result did not: when an edit leaves the IR as it was (spaces between tokens, a comment
// or blank line's spaces, a comment outside every expression and simple statement), every fact and
// every rule reads the same IR, so the rules find what they found in the previous version, at the
// same places moved by the edit. The lint of an editor document (`lintDocumentSteps`, and
// `lintProjectSteps` for a project file no other file imports) then moves the previous run's
// findings instead of running the facts and rules again; suppressions, ranges and fixes are still
// made from the new text (`outcomeFor`).
//
// The previous run is reused only when all of these hold (else the rules run, as before):
//   1. The same rule options, language and cells; neither text has a syntax error or an expression
//      nested too deeply to analyse. A project file: the same file of the same project, which no
//      other file imports, and no other file of the project changed, appeared or disappeared since.
//   2. The texts differ in one region, with as many line breaks removed as inserted: no line moves,
//      so no message that names a line ("on line 12") goes stale.
//   3. The region is not inside an expression or a simple statement of the old IR (a message or a
//      fix may quote its source text); the spans of functions, classes, loops and blocks may hold it.
//   4. The new IR equals the old one, each old span moved by the edit: same kinds, names, values and
//      structure everywhere (a top-level statement the lowering copied from the old one, whose syntax
//      tree-sitter saw unchanged, is equal by construction).
// test/engine/earlyCutoff.test.ts checks, after random edits, that a moved run equals a fresh lint.
import type { DocumentAnalysis, ParsedFile } from './document';
import type { Facts } from './facts';
import { splitsCode } from './editImpact';
import { copiedFrom } from './lower/reuse';
import type { EntryRun, RawFinding } from './index';
import type { Span } from './ir';
import type { Project } from './project';
import type { LintOptions } from './types';

/** A project file's run: which file of which project, and the project's change stamp when it ran. */
export interface RunOrigin {
  project: Project;
  path: string;
  stamp: number;
  /** The other files the run's program read (unchanged while no other file changed): a moved run's findings may lie in them. */
  files?: ParsedFile[];
}

/** A document's last rule run, kept (in its session's ParseCache) for the next version. */
export interface KeptRun {
  parsed: ParsedFile;
  run: EntryRun;
  /** The rule options it ran with (`runKey`). */
  key: string;
  /** What its hovers read. */
  analysis: DocumentAnalysis;
  /** For a project file's run (a lone document has none). */
  origin?: RunOrigin;
}

/**
 * A moved run's analysis answers hovers from an earlier version whose facts are built (its IR is
 * the same), until a hover needs this version's own facts: building them would cost what the
 * cut-off saved. Lines are the same in both texts (no edit added or removed one), and so are the
 * characters of every line but the edited ones.
 */
export interface MovedFrom {
  analysis: DocumentAnalysis;
  /** Where an offset of this text is in the earlier one; NaN inside an edited region. */
  toBase(offset: number): number;
  /** Lines (0-based) an edit since `analysis` touched: an answer with a range there is not used. */
  editedLines: ReadonlySet<number>;
  /** Whether this version's own facts have been built (then they answer). */
  ownFacts(): boolean;
}

/** What, of the lint options, the rules' findings depend on. */
export function runKey(options: LintOptions): string {
  return JSON.stringify([options.language, options.select ?? [], options.ignore ?? [], options.severity ?? {}, options.cells ?? []]);
}

/**
 * The previous run with its spans moved to `parsed`'s text, when the edit between them changed no
 * IR, with the analysis hovers read (its facts built by `facts` when first asked); else undefined.
 */
export function movedRun(kept: KeptRun | undefined, parsed: ParsedFile, key: string, facts: () => Facts, origin?: RunOrigin): { run: EntryRun; analysis: DocumentAnalysis } | undefined {
  if (!kept || kept.key !== key || kept.origin?.project !== origin?.project || kept.origin?.path !== origin?.path) return undefined;
  if (origin && origin.project.changedSince(kept.origin!.stamp, origin.path)) return undefined;
  const old = kept.parsed;
  if (old === parsed) return { run: kept.run, analysis: kept.analysis };
  if (old.language !== parsed.language || old.file.id !== parsed.file.id) return undefined;
  if (old.module.errors.length > 0 || parsed.module.errors.length > 0 || old.module.truncated || parsed.module.truncated) return undefined;
  const move = editMove(old, parsed);
  if (!move) return undefined;
  if (move.start < move.oldEnd || move.start < move.newEnd) {
    const [start, end] = [old.file.base + move.start, old.file.base + move.oldEnd];
    for (const top of old.module.body) if (top.span.start < end && start < top.span.end && splitsCode(top, start, end)) return undefined;
  }
  const before = old.module.body;
  const after = parsed.module.body;
  if (before.length !== after.length) return undefined;
  // A statement the lowering copied from this one (tree-sitter saw its syntax unchanged) is equal by construction.
  for (let i = 0; i < before.length; i++) if (copiedFrom(after[i]) !== before[i] && !sameShape(before[i], after[i], move)) return undefined;
  const findings: RawFinding[] = [];
  for (const f of kept.run.findings) {
    const moved = movedFinding(f, move);
    // A span that starts or ends inside the region (none the rules make today): run the rules.
    if (!moved) return undefined;
    findings.push(moved);
  }
  return { run: { ...kept.run, entry: parsed, findings }, analysis: movedAnalysis(parsed, facts, kept.analysis, move) };
}

/** `parsed`'s analysis, its facts built when first asked, answering hovers from `previous` until then. */
function movedAnalysis(parsed: ParsedFile, facts: () => Facts, previous: DocumentAnalysis, move: EditMove): DocumentAnalysis {
  // The earlier analysis with facts: the previous one, or the one it was itself moved from.
  const chained = previous.movedFrom && !previous.movedFrom.ownFacts() ? previous.movedFrom : undefined;
  const earlier = chained?.analysis ?? previous;
  const toPrevious = (o: number): number => (o <= move.start ? o : o >= move.newEnd ? o - (move.newEnd - move.oldEnd) : NaN);
  const editedLines = new Set(chained?.editedLines);
  const base = parsed.file.base;
  for (let line = parsed.lines.position(base + move.start).line; line <= parsed.lines.position(base + move.newEnd).line; line++) editedLines.add(line);
  let built: Facts | undefined;
  const movedFrom: MovedFrom = {
    analysis: earlier,
    toBase: chained ? (o) => chained.toBase(toPrevious(o)) : toPrevious,
    editedLines,
    ownFacts: () => built !== undefined,
  };
  return Object.defineProperties({ ...parsed } as DocumentAnalysis, {
    facts: { get: () => (built ??= facts()), enumerable: true },
    movedFrom: { value: movedFrom, enumerable: true },
  });
}

interface EditMove {
  /** The changed region, offsets in the texts: [start, oldEnd) of the old text became [start, newEnd) of the new one. */
  start: number;
  oldEnd: number;
  newEnd: number;
  /**
   * Where an old span's start or end (a global offset) is now: moved by the edit in the edited file,
   * as it was in another file; NaN inside the changed region (it matches nothing).
   */
  startAt: (offset: number) => number;
  endAt: (offset: number) => number;
}

function editMove(old: ParsedFile, now: ParsedFile): EditMove | undefined {
  const before = old.text;
  const after = now.text;
  const oldBase = old.file.base;
  const newBase = now.file.base;
  const limit = Math.min(before.length, after.length);
  let start = 0;
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let suffix = 0;
  while (suffix < limit - start && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  const oldEnd = before.length - suffix;
  const newEnd = after.length - suffix;
  if (lineBreaks(before, start, oldEnd) !== lineBreaks(after, start, newEnd)) return undefined;
  const delta = newEnd - oldEnd;
  const outside = (o: number): boolean => o < oldBase || o > oldBase + before.length;
  return {
    start,
    oldEnd,
    newEnd,
    // Text inserted at a span's start comes before it; at its end, after it.
    startAt: (o) => (outside(o) ? o : ((o -= oldBase), newBase + (o < start ? o : o >= oldEnd ? o + delta : NaN))),
    endAt: (o) => (outside(o) ? o : ((o -= oldBase), newBase + (o <= start ? o : o >= oldEnd ? o + delta : NaN))),
  };
}

function lineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) n++;
  }
  return n;
}

/** The IR's span-valued keys (the same as `copyShifted` in lower/reuse.ts moves). */
const SPAN_KEYS = new Set(['span', 'opSpan', 'nameSpan', 'headSpan', 'parenSpan']);

/** Whether two lowered IR values are equal, an old span equal to a new one when the edit moves it there. */
function sameShape(old: unknown, now: unknown, move: EditMove): boolean {
  const stack: [unknown, unknown][] = [[old, now]];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    if (a === b) continue;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Array.isArray(a)) {
      if (!Array.isArray(b) || a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) stack.push([a[i], b[i]]);
      continue;
    }
    if (Array.isArray(b)) return false;
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    let keys = 0;
    for (const key in x) {
      keys++;
      if (!(key in y)) return false;
      const u = x[key];
      const v = y[key];
      if (SPAN_KEYS.has(key) && u && v) {
        const s = u as Span;
        const t = v as Span;
        if (move.startAt(s.start) !== t.start || move.endAt(s.end) !== t.end) return false;
      } else stack.push([u, v]);
    }
    for (const _ in y) keys--;
    if (keys !== 0) return false;
  }
  return true;
}

/** A finding of the old text at its place in the new one (every span a report holds), or undefined when a span cannot be placed. */
function movedFinding(raw: RawFinding, move: EditMove): RawFinding | undefined {
  let placed = true;
  const at = (span: Span): Span => {
    const moved = { start: move.startAt(span.start), end: move.endAt(span.end) };
    if (Number.isNaN(moved.start) || Number.isNaN(moved.end)) placed = false;
    return moved;
  };
  const r = raw.report;
  // A fix's new text may be made from the text it replaces: not one that spans the edit.
  if (r.fix?.edits.some((e) => e.span.start < Math.max(move.oldEnd, move.start + 1) && move.start < e.span.end)) return undefined;
  const moved: RawFinding = {
    ...raw,
    report: {
      ...r,
      span: at(r.span),
      related: r.related?.map((x) => ({ ...x, span: at(x.span) })),
      fix: r.fix && { ...r.fix, edits: r.fix.edits.map((e) => ({ ...e, span: at(e.span), newText: e.newText })) },
      math: r.math && { ...r.math, site: r.math.site && at(r.math.site), update: r.math.update && at(r.math.update) },
    },
  };
  return placed ? moved : undefined;
}
