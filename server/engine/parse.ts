// Parsing with web-tree-sitter (WASM, no native addons). The only module that knows the
// grammars' files; everything after it sees a tree-sitter Tree.
import { Language, Parser, Query, type Node, type Tree } from 'web-tree-sitter';
import { recoverBracketIndents, recoverMisreadWords } from './parseRecovery';
import type { LanguageId } from './types';

const grammarFiles: Record<LanguageId, string> = {
  python: 'tree-sitter-python.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
};

/**
 * How the engine gets the bytes of a WASM file it needs: `tree-sitter.wasm` (the runtime) and
 * one grammar per language. The engine's only input besides the texts it is given.
 */
export type WasmLoader = (file: string) => Promise<Uint8Array>;

let ready: Promise<void> | undefined;
const languages = new Map<LanguageId, Language>();
const parsers = new Map<LanguageId, Parser>();

/**
 * Loads the parser runtime and all grammars once. Safe to call many times. Without a loader, the
 * files are read from disk (`wasmNode.ts`, imported only then, so a browser bundle leaves it out).
 */
export function initParsers(load?: WasmLoader): Promise<void> {
  ready ??= (async () => {
    // A require (not an import): esbuild keeps the module's body in a closure run on this first call.
    const read = load ?? (require('./wasmNode') as typeof import('./wasmNode')).readWasm;
    await Parser.init({ wasmBinary: await read('tree-sitter.wasm') });
    for (const [id, file] of Object.entries(grammarFiles) as [LanguageId, string][]) {
      const language = await Language.load(await read(file));
      languages.set(id, language);
      const parser = new Parser();
      parser.setLanguage(language);
      parsers.set(id, parser);
    }
  })();
  return ready;
}

/**
 * Thrown when tree-sitter's error recovery runs past its budget. On text far from the grammar
 * (random bytes read as TypeScript) it can build millions of nodes over minutes and then abort the
 * WASM module; real source of the size limit parses in about a second.
 */
export class ParseGaveUp extends Error {
  constructor(readonly language: LanguageId, readonly ms: number) {
    super(`the ${language} parser gave up after ${(ms / 1000).toFixed(1)} s: the text is too far from ${language} to parse`);
    this.name = 'ParseGaveUp';
  }
}

/** Parse time allowed: 2 s plus 10 µs per character, ten times what real code needs. */
export function parseBudgetMs(length: number): number {
  return 2000 + length / 100;
}

/**
 * Parses text; `initParsers()` must have resolved. Tree-sitter recovers from syntax errors; text it
 * cannot parse within its budget throws `ParseGaveUp`. Valid JavaScript the grammar misreads because
 * of one word, and valid Python whose bracketed continuation lines sit left of their statement, are
 * read right (parseRecovery.ts); such a tree is `recovered` and was parsed from scratch.
 */
export function parse(text: string, language: LanguageId, previous?: Tree): Tree {
  const tree = parseWithin(text, language, previous);
  // Past the size of hand-written source, the parses recovery adds cost more than a notice.
  if (!tree.rootNode.hasError || text.length > RECOVERY_MAX_LENGTH) return tree;
  let better: Tree | undefined;
  try {
    better = language === 'python' ? recoverBracketIndents(text, tree, (t, l) => parseWithin(t, l)) : recoverMisreadWords(text, language, tree, (t, l) => parseWithin(t, l));
  } catch (error) {
    if (!(error instanceof ParseGaveUp)) throw error;
  }
  if (!better) return tree;
  tree.delete();
  recovered.add(better);
  return better;
}

/** The longest text misread words are recovered in (each recovery parses it up to three more times, five in TypeScript with a contextual keyword as a name). */
const RECOVERY_MAX_LENGTH = 512 * 1024;

/** Trees `parse` read with recovered words: parsed from another text than the incremental parse's, so their changed ranges mean nothing. */
const recovered = new WeakSet<Tree>();

/** Whether `parse` gave this tree by recovering misread words (it is not the incremental re-parse of the tree it was given). */
export function wasRecovered(tree: Tree): boolean {
  return recovered.has(tree);
}

function parseWithin(text: string, language: LanguageId, previous?: Tree): Tree {
  const parser = parsers.get(language);
  if (!parser) throw new Error('Nabla parsers are not initialized: await initParsers() first');
  const budget = parseBudgetMs(text.length);
  const deadline = Date.now() + budget;
  // The callback's return value cancels the parse (web-tree-sitter 0.25); its type says void.
  const progressCallback = ((): boolean => Date.now() > deadline) as () => void;
  // tree-sitter's lexers take a NUL for the end of the input: a stray one in a comment of a text file
  // (looksBinary lets it through) is read as the space it stands in for, at the same offset.
  const input = text.includes('\u0000') ? text.replace(/\u0000/g, ' ') : text;
  const tree = parser.parse(input, previous, { progressCallback });
  if (!tree) {
    parser.reset(); // a cancelled parse would otherwise resume on the next call
    throw new ParseGaveUp(language, budget);
  }
  return tree;
}

const queries = new Map<Language, Map<string, Query>>();

/**
 * A compiled tree-sitter query for a tree's grammar (`tree.language`), cached. Running a query
 * walks the tree inside WASM, which is far cheaper than visiting every node from JS when only a
 * few kinds of node are wanted, and costs nothing per level of nesting.
 */
export function query(grammar: Language, source: string): Query {
  let byGrammar = queries.get(grammar);
  if (!byGrammar) queries.set(grammar, (byGrammar = new Map()));
  let compiled = byGrammar.get(source);
  if (!compiled) byGrammar.set(source, (compiled = new Query(grammar, source)));
  return compiled;
}

/**
 * Visits a tree's nodes in document order with a cursor, never recursing (files may nest
 * thousands deep). `visit` returns `false` to skip the node's children, `'stop'` to end the walk.
 */
export function walkTree(tree: Tree, visit: (node: Node) => boolean | 'stop'): void {
  const cursor = tree.walk();
  try {
    for (;;) {
      const verdict = visit(cursor.currentNode);
      if (verdict === 'stop') return;
      if (verdict && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) if (!cursor.gotoParent()) return;
    }
  } finally {
    cursor.delete();
  }
}
