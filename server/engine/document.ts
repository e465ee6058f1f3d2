// One analysis of a text — tree, IR, facts, comments — shared by linting and hovers, so a hover
// after the diagnostics costs no second analysis. The trees of the last few texts are kept, so the
// next version of a document is re-parsed incrementally: tree-sitter is told what changed
// (`Tree.edit`) and reuses the rest of the old tree.
import type { Edit, Tree } from 'web-tree-sitter';
import { findCommentMath, type CommentMath } from './commentMath';
import { buildFacts, type Facts } from './facts';
import type { Module } from './ir';
import { LineIndex } from './lineIndex';
import { lower } from './lower';
import { parse } from './parse';
import { runSteps, type Steps } from './stepwise';
import { nablaComments, type Comment } from './suppressions';
import type { LanguageId } from './types';

export interface DocumentAnalysis {
  readonly text: string;
  readonly language: LanguageId;
  /** The IR, with syntax errors and whether deep code was cut off. */
  readonly module: Module;
  readonly facts: Facts;
  readonly lines: LineIndex;
  /** Comments that mention Nabla (suppression directives). */
  readonly directives: Comment[];
  /** `$…$` math in comments and docstrings (hovers). */
  readonly commentMath: CommentMath[];
}

/**
 * Trees kept for incremental re-parsing (a few documents being edited), and of those, how many
 * keep their whole analysis for hovers. Facts are much larger than trees: a language server with
 * hundreds of open documents keeps only the latest.
 */
const KEPT_TREES = 3;
const KEPT_ANALYSES = 1;
const kept: { text: string; language: LanguageId; tree: Tree; analysis?: DocumentAnalysis }[] = [];

/**
 * The analysis of `text`; from the cache when the same text was analysed recently. `text` must be
 * what the rules see (a BOM already blanked). Throws only if the parsers are not initialized.
 */
export function analyzeDocument(text: string, language: LanguageId): DocumentAnalysis {
  return runSteps(analysisSteps(text, language));
}

/**
 * `analyzeDocument` in steps: it yields after parsing and after lowering, so a caller that drives
 * it (the language server) can answer other requests in between or drop a run gone stale. A run
 * that is dropped must be ended with `return()`, which frees its tree.
 */
export function* analysisSteps(text: string, language: LanguageId): Steps<DocumentAnalysis> {
  const hit = kept.findIndex((entry) => entry.analysis && entry.language === language && entry.text === text);
  if (hit >= 0) {
    const [entry] = kept.splice(hit, 1);
    kept.unshift(entry);
    return entry.analysis!;
  }
  const tree = parseIncrementally(text, language);
  let keptTree = false;
  try {
    yield;
    const module = lower(tree, text, language);
    yield;
    const analysis: DocumentAnalysis = {
      text,
      language,
      module,
      facts: buildFacts(module, text, language),
      lines: new LineIndex(text),
      directives: nablaComments(tree, text),
      commentMath: findCommentMath(tree, text, language),
    };
    const same = kept.findIndex((entry) => entry.language === language && entry.text === text);
    if (same >= 0) kept.splice(same, 1)[0].tree.delete(); // its analysis had been dropped; this one replaces it
    kept.unshift({ text, language, tree, analysis });
    keptTree = true;
    for (const evicted of kept.splice(KEPT_TREES)) evicted.tree.delete();
    for (const older of kept.slice(KEPT_ANALYSES)) older.analysis = undefined;
    return analysis;
  } finally {
    // An error, or a run dropped between steps with `return()`: the tree is not kept, so free it.
    if (!keptTree) tree.delete();
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
function parseIncrementally(text: string, language: LanguageId): Tree {
  let base: { tree: Tree; edit: Edit } | undefined;
  for (const entry of kept) {
    if (entry.language !== language) continue;
    const edit = singleEdit(entry.text, text);
    if (edit && (!base || edit.oldEndIndex - edit.startIndex < base.edit.oldEndIndex - base.edit.startIndex)) base = { tree: entry.tree, edit };
  }
  if (!base) return parse(text, language);
  const old = base.tree.copy(); // the kept tree stays as it is: it belongs to its own text
  try {
    old.edit(base.edit);
    return parse(text, language, old);
  } finally {
    old.delete();
  }
}

/** Below this share of unchanged text, a fresh parse is as fast and simpler. */
const MIN_SHARED = 0.5;

/** The one changed region between two texts, as a tree-sitter edit, or undefined when they share little. */
export function singleEdit(before: string, after: string): Edit | undefined {
  const limit = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < limit && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < limit - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  if (prefix + suffix < MIN_SHARED * Math.max(before.length, after.length)) return undefined;
  const oldEnd = before.length - suffix;
  const beforeLines = new LineIndex(before);
  const newEnd = after.length - suffix;
  return {
    startIndex: prefix,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: pointAt(beforeLines, prefix),
    oldEndPosition: pointAt(beforeLines, oldEnd),
    newEndPosition: pointAt(new LineIndex(after), newEnd),
  };
}

/** Tree-sitter's row and column of an offset (UTF-16 code units, as the parser reads JS strings). */
function pointAt(lines: LineIndex, offset: number): { row: number; column: number } {
  const { line, character } = lines.position(offset);
  return { row: line, column: character };
}
