// One parse of a text — tree, IR, scopes, comments — shared by linting and hovers, so a hover
// after the diagnostics costs no second parse. The trees of the last few texts are kept, so the
// next version of a document is re-parsed incrementally: tree-sitter is told what changed
// (`Tree.edit`) and reuses the rest of the old tree. Facts are not kept here: they belong to a
// program (server/engine/program.ts), because they can depend on other files.
import type { Edit, Tree } from 'web-tree-sitter';
import { findCommentMath, type CommentMath } from './commentMath';
import type { KeptFacts } from './functionReuse';
import type { KeptRun, MovedFrom } from './earlyCutoff';
import type { Facts } from './facts';
import { ScopeBuilder } from './facts/scope';
import type { Module } from './ir';
import { LineIndex } from './lineIndex';
import { lower } from './lower';
import type { LoweredUnit } from './lower/common';
import { lowerReusing, type PreviousLowering } from './lower/reuse';
import { parse, wasRecovered } from './parse';
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
  /** For a lint whose rules did not run because the edit changed no IR: the earlier analysis that answers hovers (earlyCutoff.ts). */
  readonly movedFrom?: MovedFrom;
}

/** A parse kept with its tree: the tree is the base of the next version's incremental re-parse. */
interface KeptParse {
  text: string;
  language: LanguageId;
  tree: Tree;
  parsed?: ParsedFile;
  /** What each top-level node lowered to (Python), for the next version to reuse, and the file's base then. */
  units?: LoweredUnit[];
  base: number;
}

/**
 * Trees kept for incremental re-parsing, newest first, and of those, how many keep their parse.
 * The engine keeps one shared cache for callers that give none (the CLI, tests, Lint Workspace);
 * the language server gives each open document its own (server/lsp/session.ts), so linting other
 * files never evicts the tree of a document being edited.
 */
export class ParseCache {
  private readonly kept: KeptParse[] = [];
  /** The rules' last run on this document, for the next version to reuse when its edit changed no IR (earlyCutoff.ts). */
  lastRun?: KeptRun;
  /** The facts of the last version whose rules ran, for the next version's per-function answers (functionReuse.ts). */
  lastFacts?: KeptFacts;

  constructor(
    private readonly keptTrees = 3,
    private readonly keptParses = 3,
  ) {}

  /** Whether a parse of this text is kept (tests, and callers that want to know a parse will be free). */
  has(text: string, language: LanguageId): boolean {
    return this.kept.some((entry) => entry.parsed && entry.text === text && entry.language === language);
  }

  /** The kept parse of a file (same text, language, id and path), moved to the front. */
  hit(file: SourceFile): ParsedFile | undefined {
    const { text, language } = file;
    const at = this.kept.findIndex((entry) => entry.parsed && entry.language === language && entry.text === text && entry.parsed.file.id === file.id && entry.parsed.file.path === file.path);
    if (at < 0) return undefined;
    const [entry] = this.kept.splice(at, 1);
    this.kept.unshift(entry);
    return entry.parsed;
  }

  /**
   * Keeps a new parse and its tree (the cache owns the tree from now on), evicting the oldest;
   * `units` are what its top-level nodes lowered to, for the next version to reuse.
   */
  keep(text: string, language: LanguageId, tree: Tree, parsed: ParsedFile, units: LoweredUnit[] | undefined): void {
    const same = this.kept.findIndex((entry) => entry.language === language && entry.text === text);
    if (same >= 0) this.kept.splice(same, 1)[0].tree.delete(); // the same text (another id, or its parse dropped): this one replaces it
    this.kept.unshift({ text, language, tree, parsed, units, base: parsed.file.base });
    for (const evicted of this.kept.splice(this.keptTrees)) evicted.tree.delete();
    for (const older of this.kept.slice(this.keptParses)) older.parsed = undefined;
  }

  /** The kept tree of exactly this text, if any (owned by the cache: valid until the next `keep` or `clear`). */
  treeOf(text: string, language: LanguageId): Tree | undefined {
    return this.kept.find((e) => e.text === text && e.language === language)?.tree;
  }

  /**
   * Calls `use` with the kept tree of exactly this text, or with a fresh parse that is freed
   * afterwards. The tree must not be kept by `use`.
   */
  withTree<T>(text: string, language: LanguageId, use: (tree: Tree) => T): T {
    const entry = this.kept.find((e) => e.text === text && e.language === language);
    if (entry) return use(entry.tree);
    const tree = parse(text, language);
    try {
      return use(tree);
    } finally {
      tree.delete();
    }
  }

  /**
   * Parses `text`, reusing the kept tree of the same language whose text differs from it in the
   * smallest region, when that region is small next to what they share (an earlier version of the
   * same document). The edit is found by comparing the texts, so it is right whatever the caller
   * changed. `previous` is what the old tree's nodes lowered to, reusable where tree-sitter says
   * the syntax is unchanged.
   */
  parseIncrementally(text: string, language: LanguageId): { tree: Tree; previous?: PreviousLowering } {
    let best: { entry: KeptParse; region: { prefix: number; suffix: number }; replaced: number } | undefined;
    for (const entry of this.kept) {
      if (entry.language !== language) continue;
      const region = changedRegion(entry.text, text);
      const replaced = region && entry.text.length - region.suffix - region.prefix;
      if (region && (!best || replaced! < best.replaced)) best = { entry, region, replaced: replaced! };
    }
    if (!best) return { tree: parse(text, language) };
    const edit = editOf(best.entry.text, text, best.region);
    const old = best.entry.tree.copy(); // the kept tree stays as it is: it belongs to its own text
    try {
      old.edit(edit);
      const tree = parse(text, language, old);
      const { units, base } = best.entry;
      // A tree read with recovered words was parsed afresh: nothing of the old one's lowering may be reused.
      if (wasRecovered(tree)) return { tree };
      return { tree, previous: units && { units, base, edit, changed: old.getChangedRanges(tree) } };
    } finally {
      old.delete();
    }
  }

  /** Frees every kept tree (and forgets the last run). */
  clear(): void {
    this.lastRun = undefined;
    this.lastFacts = undefined;
    for (const entry of this.kept.splice(0)) entry.tree.delete();
  }
}

/** The cache of callers that give none: a few documents being edited, and the latest analysis. */
const shared = new ParseCache(3, 3);

/**
 * A lone document parsed (as file 0 of its own program) with its facts; from the cache when the
 * same text was parsed recently. `text` must be what the rules see (a BOM already blanked).
 * Throws only if the parsers are not initialized.
 */
export function analyzeDocument(text: string, language: LanguageId, cache: ParseCache = shared): DocumentAnalysis {
  const parsed = runSteps(parseSteps(makeSourceFile(0, '', text, language), cache));
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
export function* parseSteps(file: SourceFile, cache: ParseCache = shared): Steps<ParsedFile> {
  const { text, language } = file;
  if (uncached) return parseFile(file);
  const hit = cache.hit(file);
  if (hit) return hit;
  const { tree, previous } = cache.parseIncrementally(text, language);
  let keptTree = false;
  try {
    yield;
    const { module, units } = lowerReusing(tree, text, language, file.base, previous);
    yield;
    const parsed = parsedFile(file, tree, module);
    cache.keep(text, language, tree, parsed, units);
    keptTree = true;
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
/**
 * A JavaScript file whose top-level names are globals when a page loads it: it imports and exports
 * nothing (no `import`, even for its side effects, no `export`, no `require` at its top level, no
 * `module.exports`). Read from its scopes and top-level statements, not its text, so a comment
 * or a string that mentions `require(` changes nothing.
 */
export function isClassicScript(parsed: ParsedFile): boolean {
  const s = parsed.scopes;
  if (s.imports.size || s.exports.size || s.exportsAliases.size || s.starImports.length || s.starExports.length) return false;
  for (const st of parsed.module.body) {
    if (st.kind === 'import' || st.kind === 'export') return false;
    if (st.kind === 'expr' && st.expr.kind === 'call' && st.expr.callee.kind === 'name' && st.expr.callee.name === 'require') return false;
  }
  return true;
}

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

/** Frees the trees of the shared cache (tests start from a clean slate with it). */
export function forgetDocuments(): void {
  shared.clear();
}

/** While set, `parseSteps` parses from scratch and keeps nothing (`withoutKeptTrees`). */
let uncached = false;

/** Whether what a session kept of its document's last version may be reused (not inside `withoutKeptTrees`). */
export function reusesKept(): boolean {
  return !uncached;
}

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
