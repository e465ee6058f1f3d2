// One parse of a text — tree, IR, scopes, comments — shared by linting and hovers, so a hover
// after the diagnostics costs no second parse. The trees of the last few texts are kept, so the
// next version of a document is re-parsed incrementally: tree-sitter is told what changed
// (`Tree.edit`) and reuses the rest of the old tree. Facts are not kept here: they belong to a
// program (server/engine/program.ts), because they can depend on other files.
import type { Edit, Tree } from 'web-tree-sitter';
import { findCommentMath, type CommentMath } from './commentMath';
import type { Facts } from './facts';
import { ScopeBuilder } from './facts/scope';
import type { Module } from './ir';
import { LineIndex } from './lineIndex';
import { lower } from './lower';
import type { LoweredUnit } from './lower/common';
import { lowerReusing, type PreviousLowering } from './lower/reuse';
import { parse } from './parse';
import { Program } from './program';
import { makeSourceFile, type SourceFile } from './source';
import { runSteps, type Steps } from './stepwise';
import { nablaComments, type Comment } from './suppressions';
import type { LanguageId } from './types';

/** A file parsed and lowered on its own: nothing here depends on any other file. */
export interface ParsedFile {
  readonly file: SourceFile;
  readonly text: string;
  readonly language: LanguageId;
  /** The IR, with syntax errors and whether deep code was cut off. */
  readonly module: Module;
  /** Scopes, bindings, functions, classes, imports and exports. */
  readonly scopes: ScopeBuilder;
  /** Positions of global offsets in this file. */
  readonly lines: LineIndex;
  /** Comments that mention Nabla (suppression directives), at offsets into `text` (not global). */
  readonly directives: Comment[];
  /** `$…$` math in comments and docstrings (hovers). */
  readonly commentMath: CommentMath[];
}

/** A lone document's parse with its facts, for hovers. */
export interface DocumentAnalysis extends ParsedFile {
  readonly facts: Facts;
}

/**
 * Trees kept for incremental re-parsing (a few documents being edited), and of those, how many
 * keep their whole analysis for hovers. Facts are much larger than trees: a language server with
 * hundreds of open documents keeps only the latest.
 */
const KEPT_TREES = 3;
const KEPT_PARSES = 3;
/** `units`: what each top-level node lowered to (Python), for the next version to reuse; `base`: the file's base then. */
const kept: { text: string; language: LanguageId; tree: Tree; parsed?: ParsedFile; units?: LoweredUnit[]; base: number }[] = [];

/**
 * A lone document parsed (as file 0 of its own program) with its facts; from the cache when the
 * same text was parsed recently. `text` must be what the rules see (a BOM already blanked).
 * Throws only if the parsers are not initialized.
 */
export function analyzeDocument(text: string, language: LanguageId): DocumentAnalysis {
  const parsed = runSteps(parseSteps(makeSourceFile(0, '', text, language)));
  const cached = loneFacts.get(parsed);
  if (cached) return cached;
  const program = new Program();
  const analysis = { ...parsed, facts: program.facts(parsed) };
  loneFacts.set(parsed, analysis);
  return analysis;
}

/** The last lone document's facts, so a hover right after the diagnostics reuses them. */
const loneFacts = new WeakMap<ParsedFile, DocumentAnalysis>();

/**
 * Parses and lowers a file in steps: it yields after parsing and after lowering, so a caller that
 * drives it (the language server) can answer other requests in between or drop a run gone stale.
 * A run that is dropped must be ended with `return()`, which frees its tree. The parse of the same
 * text, language and file id is reused.
 */
export function* parseSteps(file: SourceFile): Steps<ParsedFile> {
  const { text, language } = file;
  if (uncached) return parseFile(file);
  const hit = kept.findIndex((entry) => entry.parsed && entry.language === language && entry.text === text && entry.parsed.file.id === file.id && entry.parsed.file.path === file.path);
  if (hit >= 0) {
    const [entry] = kept.splice(hit, 1);
    kept.unshift(entry);
    return entry.parsed!;
  }
  const { tree, previous } = parseIncrementally(text, language);
  let keptTree = false;
  try {
    yield;
    const { module, units } = lowerReusing(tree, text, language, file.base, previous);
    yield;
    const parsed = parsedFile(file, tree, module);
    const same = kept.findIndex((entry) => entry.language === language && entry.text === text);
    if (same >= 0) kept.splice(same, 1)[0].tree.delete(); // the same text (another id, or its parse dropped): this one replaces it
    kept.unshift({ text, language, tree, parsed, units, base: file.base });
    keptTree = true;
    for (const evicted of kept.splice(KEPT_TREES)) evicted.tree.delete();
    for (const older of kept.slice(KEPT_PARSES)) older.parsed = undefined;
    return parsed;
  } finally {
    // An error, or a run dropped between steps with `return()`: the tree is not kept, so free it.
    if (!keptTree) tree.delete();
  }
}

/**
 * Parses a file without keeping its tree for incremental re-parsing: for the files of a project
 * that are read from disk (the documents being edited go through `parseSteps`).
 */
export function parseFile(file: SourceFile): ParsedFile {
  const tree = parse(file.text, file.language);
  try {
    return parsedFile(file, tree, lower(tree, file.text, file.language, file.base));
  } finally {
    tree.delete();
  }
}

function parsedFile(file: SourceFile, tree: Tree, module: Module): ParsedFile {
  return {
    file,
    text: file.text,
    language: file.language,
    module,
    scopes: new ScopeBuilder(module, file),
    lines: new LineIndex(file.text, file.base),
    directives: nablaComments(tree, file.text),
    commentMath: findCommentMath(tree, file.text, file.language, file.base),
  };
}

/** While set, `parseSteps` parses from scratch and keeps nothing (`withoutKeptTrees`). */
let uncached = false;

/**
 * Runs `fn` with every parse made from scratch, leaving the kept trees as they were: the reference
 * a lint from kept trees must equal (test/engine/differential.test.ts).
 */
export function withoutKeptTrees<T>(fn: () => T): T {
  const outer = uncached;
  uncached = true;
  try {
    return fn();
  } finally {
    uncached = outer;
  }
}

/** Frees the kept trees (tests start from a clean slate with it). */
export function forgetDocuments(): void {
  for (const entry of kept.splice(0)) entry.tree.delete();
}

/**
 * Parses `text`, reusing the kept tree of the same language whose text differs from it in the
 * smallest region, when that region is small next to what they share (an earlier version of the
 * same document). The edit is found by comparing the texts, so it is right whatever the caller changed.
 */
function parseIncrementally(text: string, language: LanguageId): { tree: Tree; previous?: PreviousLowering } {
  let best: { entry: (typeof kept)[number]; region: { prefix: number; suffix: number }; replaced: number } | undefined;
  for (const entry of kept) {
    if (entry.language !== language) continue;
    const region = changedRegion(entry.text, text);
    const replaced = region && entry.text.length - region.suffix - region.prefix;
    if (region && (!best || replaced! < best.replaced)) best = { entry, region, replaced: replaced! };
  }
  if (!best) return { tree: parse(text, language) };
  const base = { entry: best.entry, edit: editOf(best.entry.text, text, best.region) };
  const old = base.entry.tree.copy(); // the kept tree stays as it is: it belongs to its own text
  try {
    old.edit(base.edit);
    const tree = parse(text, language, old);
    const { units, base: offset } = base.entry;
    // What the old tree's nodes lowered to is reusable where tree-sitter says the syntax is unchanged.
    return { tree, previous: units && { units, base: offset, edit: base.edit, changed: old.getChangedRanges(tree) } };
  } finally {
    old.delete();
  }
}

/** Below this share of unchanged text, a fresh parse is as fast and simpler. */
const MIN_SHARED = 0.5;

/** The one changed region between two texts, as a tree-sitter edit, or undefined when they share little. */
export function singleEdit(before: string, after: string): Edit | undefined {
  const region = changedRegion(before, after);
  return region && editOf(before, after, region);
}

/** The lengths of the common prefix and suffix of two texts, or undefined when they share little. */
function changedRegion(before: string, after: string): { prefix: number; suffix: number } | undefined {
  const limit = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < limit && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < limit - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  if (prefix + suffix < MIN_SHARED * Math.max(before.length, after.length)) return undefined;
  return { prefix, suffix };
}

function editOf(before: string, after: string, { prefix, suffix }: { prefix: number; suffix: number }): Edit {
  const oldEnd = before.length - suffix;
  const newEnd = after.length - suffix;
  return {
    startIndex: prefix,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: pointAt(before, prefix),
    oldEndPosition: pointAt(before, oldEnd),
    newEndPosition: pointAt(after, newEnd),
  };
}

/**
 * Tree-sitter's row and column of an offset (UTF-16 code units, as the parser reads JS strings),
 * with `LineIndex`'s line breaks, counted up to the offset only: no index of the whole text is built
 * for each keystroke.
 */
function pointAt(text: string, offset: number): { row: number; column: number } {
  let row = 0;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      row++;
      lineStart = i + 1;
    }
  }
  return { row, column: offset - lineStart };
}
