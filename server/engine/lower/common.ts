// Shared helpers for the per-language lowerers: spans, depth bounds, error collection.
import type { Language, Node as SyntaxNode, Tree } from 'web-tree-sitter';
import { walkTree } from '../parse';
import type { Expr, Jump, Span, Stmt, SyntaxErrorSpan } from '../ir';
import { python2Backticks, pythonLayoutErrors } from './pythonLayout';
import type { LanguageId } from '../types';

/**
 * What one top-level syntax node lowered to: its place in the file's text (offsets without the
 * file's base), its node type, its statements (spans with the base) and whether depth cut any of it.
 */
export interface LoweredUnit {
  start: number;
  end: number;
  type: string;
  stmts: Stmt[];
  truncated: boolean;
}

const JUMPS: Record<string, Jump> = { continue_statement: 'continue', break_statement: 'break', raise_statement: 'raise', throw_statement: 'raise' };

/**
 * The jump among a branch body's own statements (`if p.ndim < 2: …; continue`, `if (x) continue;`),
 * which the lowered body does not hold: `{ exits }` for the branch's block, or nothing.
 */
export function branchJump(body: SyntaxNode | null): { exits?: Jump } {
  if (!body) return {};
  const own = JUMPS[body.type];
  if (own) return { exits: own };
  if (body.type !== 'block' && body.type !== 'statement_block') return {};
  for (const c of body.namedChildren) {
    const j = c ? JUMPS[c.type] : undefined;
    if (j) return { exits: j };
  }
  return {};
}

/** Deeper expressions are lowered as opaque `other` nodes: keeps recursion far from the JS stack limit. */
export const MAX_DEPTH = 200;


/**
 * A loop's header: from its start to the end of the token before its body (Python's `:`, a JavaScript
 * `for`'s or `while`'s `)`), comments between them left out. `spanOf` is the lowerer's span of a node.
 */
export function loopHead(span: Span, body: SyntaxNode | null, spanOf: (node: SyntaxNode) => Span): { headSpan?: Span } {
  let before = body?.previousSibling;
  while (before && before.type === 'comment') before = before.previousSibling;
  return before ? { headSpan: { start: span.start, end: spanOf(before).end } } : {};
}

export function other(span: Span, children: Expr[] = []): Expr {
  return { kind: 'other', children, span };
}

/**
 * What a parenthesized node `(…)` at `span` lowers to: `inner`, the expression its one child at
 * `innerSpan` lowered to, marked with `parenSpan` when it is that child itself or the child is
 * parentheses around it (`((x))`: the outermost pair); an expression seen through a cast or an
 * `await` (`(x as T)`) is left unmarked, as a fix that rewrote the parentheses would drop the cast.
 */
export function parenthesized(inner: Expr, innerSpan: Span, span: Span): Expr {
  const at = inner.parenSpan ?? inner.span;
  if (at.start === innerSpan.start && at.end === innerSpan.end) inner.parenSpan = span;
  return inner;
}

/**
 * Field ids of one grammar, looked up once per file: `childForFieldName` searches the grammar's
 * field list on every call. A field the grammar lacks gets -1 (see `field`).
 */
export function fieldIds<K extends string>(language: Language, names: readonly K[]): Record<K, number> {
  const ids = {} as Record<K, number>;
  for (const name of names) ids[name] = language.fieldIdForName(name) ?? -1;
  return ids;
}

/** `node.childForFieldName(name)` for an id from `fieldIds`. */
export function field(node: SyntaxNode, id: number): SyntaxNode | null {
  return id > 0 ? node.childForFieldId(id) : null;
}

/**
 * Collects ERROR and MISSING nodes, descending only where the tree has errors (spans offset by
 * `base`), and in TS/JS the words the grammar took for identifiers though JavaScript does not
 * (`misreadIdentifiers`), and in Python the assignments the grammar continues onto the next line
 * (`danglingAssignments`) and the layout errors the tree holds without an ERROR node
 * (`pythonLayoutErrors`: a statement run over a line break, an empty block, two statements glued on
 * one line), sorted by where they start. An ERROR node is where recovery wrapped what
 * it could not parse, often with the complete statements before the mistake (an unterminated
 * f-string can make one ERROR of the whole module, from its first line): its span starts where the
 * error does (`errorStart`), or at an earlier error found inside it. `text` is the text the tree was parsed from.
 */
export function collectErrors(tree: Tree, base: number, text: string, language: LanguageId, limit = 50): SyntaxErrorSpan[] {
  // (Not by `tree.language.name`: the TypeScript grammars' WASM files carry no name.)
  const scriptText = language === 'python' ? undefined : text;
  const misread: SyntaxErrorSpan[] = scriptText !== undefined ? misreadIdentifiers(tree, scriptText) : pythonExtras(tree, text, limit);
  if (!tree.rootNode.hasError && misread.length === 0) return [];
  const errors: SyntaxErrorSpan[] = [];
  const wrapped: Span[] = [];
  if (tree.rootNode.hasError)
    walkTree(tree, (node) => {
      if (node.isMissing || node.type === 'ERROR') {
        if (node.isMissing) errors.push({ start: base + node.startIndex, end: base + node.endIndex });
        else {
          wrapped.push({ start: node.startIndex, end: node.endIndex });
          const start = errorStart(node, misread, scriptText !== undefined);
          // A Python layout error inside the node before its own error is where CPython stops (at the
          // same place, it says what is missing there).
          const earlier = scriptText === undefined ? misread.find((m) => m.start >= node.startIndex && m.start <= start && m.end <= node.endIndex) : undefined;
          errors.push(earlier ? { ...earlier, start: base + earlier.start, end: base + node.endIndex } : { start: base + start, end: base + node.endIndex });
        }
        return errors.length >= limit ? 'stop' : false;
      }
      return node.hasError;
    });
  // A misread word inside an ERROR node is that node's error (errorStart), not one more.
  for (const m of misread) if (!wrapped.some((w) => m.start >= w.start && m.end <= w.end)) errors.push({ ...m, start: base + m.start, end: base + m.end });
  return errors.sort((a, b) => a.start - b.start).slice(0, limit);
}

/**
 * Python's errors without an ERROR node: dangling assignments, the layout errors not on the
 * line of one (the assignment's `=` is the better place: what is missing is its value), and
 * Python 2's backticks.
 */
function pythonExtras(tree: Tree, text: string, limit: number): SyntaxErrorSpan[] {
  const dangling = danglingAssignments(tree, text);
  const layout = pythonLayoutErrors(tree, text, limit).filter((e) => !dangling.some((d) => d.start <= e.start && !text.slice(d.start, e.start).includes('\n')));
  return [...dangling, ...layout, ...python2Backticks(tree, text, limit)].sort((a, b) => a.start - b.start);
}

/**
 * `mask = ` left at the end of a line: Python ends the statement there (a syntax error), but the
 * grammar reads the next line as its value (`x = \n y = 1` as `x = y = 1`), with no error node, so a
 * half-typed assignment would go unnoticed. Found by a scan for `=` before the line's end (only a
 * comment after it), kept when tree-sitter's token there is an assignment's operator whose value
 * starts on a later line; the span is the operator. Keyword arguments and defaults inside brackets
 * are other node types, and a backslash before the line break is no match.
 */
function danglingAssignments(tree: Tree, text: string): SyntaxErrorSpan[] {
  const out: SyntaxErrorSpan[] = [];
  const atLineEnd = /(?:[-+*/%&|^@]|\/\/|\*\*|<<|>>)?=[ \t]*(?:#[^\n]*)?\r?\n/g;
  for (let m = atLineEnd.exec(text); m; m = atLineEnd.exec(text)) {
    const op = m[0].indexOf('=') + 1;
    const token = tree.rootNode.descendantForIndex(m.index, m.index + op);
    const parent = token?.parent;
    if (!token || !parent || token.startIndex !== m.index || token.endIndex !== m.index + op) continue;
    if (parent.type !== 'assignment' && parent.type !== 'augmented_assignment') continue;
    const value = parent.childForFieldName('right');
    if (value && value.startPosition.row > token.startPosition.row) out.push({ start: token.startIndex, end: token.endIndex, reason: `expected a value after '${text.slice(token.startIndex, token.endIndex)}'` });
  }
  return out;
}

/** Identifier node types of the TS/JS grammars. */
const IDENTIFIER_NODES = new Set([
  'identifier', 'property_identifier', 'shorthand_property_identifier', 'shorthand_property_identifier_pattern', 'type_identifier',
  'private_property_identifier', 'statement_identifier', 'nested_identifier',
]);
/** A character JavaScript allows in an identifier (ECMAScript IdentifierPart), and at its start (IdentifierStart). */
const ID_PART = /[\p{ID_Continue}$\u200C\u200D]/u;
const ID_START = /[\p{ID_Start}$_]/u;

/**
 * Where the TS/JS grammars took a word for an identifier that JavaScript rejects: their identifier
 * rule accepts any non-ASCII character, so a string written with typographic quotes, `‘sgd’`, parses
 * as a name while node and browsers stop at the `‘` (`Invalid or unexpected token`). Spans (without
 * the base) start at the first character JavaScript does not allow. Only non-ASCII runs of the text
 * are looked at, so ASCII code costs one regular-expression scan.
 */
function misreadIdentifiers(tree: Tree, text: string): Span[] {
  const out: Span[] = [];
  const seen = new Set<number>();
  const nonAscii = /[^\x00-\x7f]+/g;
  for (let m = nonAscii.exec(text); m; m = nonAscii.exec(text)) {
    const leaf = tree.rootNode.descendantForIndex(m.index, m.index + 1);
    if (!leaf || !IDENTIFIER_NODES.has(leaf.type) || seen.has(leaf.startIndex)) continue;
    seen.add(leaf.startIndex);
    const word = text.slice(leaf.startIndex, leaf.endIndex);
    if (word.includes('\\')) continue; // `\u0041bc`: escapes are JavaScript's to read
    const bad = firstNonIdentifierChar(word.startsWith('#') ? word.slice(1) : word);
    if (bad < 0) continue;
    const start = leaf.startIndex + (word.startsWith('#') ? 1 : 0) + bad;
    out.push({ start, end: leaf.endIndex });
  }
  return out;
}

/** The UTF-16 offset of the first character of `word` an identifier may not have there, or -1. */
function firstNonIdentifierChar(word: string): number {
  let i = 0;
  for (const ch of word) {
    if (!(i === 0 ? ID_START : ID_PART).test(ch)) return i;
    i += ch.length;
  }
  return -1;
}

/** Node types of a complete statement, which an ERROR node may have swallowed before the mistake. */
const STATEMENT = /statement|definition|declaration|decorated|comment/;

/**
 * Where the mistake in an ERROR node starts: its first part that is not a complete, error-free
 * statement, or, when an error nested in the node (or a word JavaScript rejects, `misread`) starts
 * on that part's line, the first of them (`Alpha works well` is wrong at `works`, not at `Alpha`;
 * `import * as tf from ‘@tensorflow/tfjs’` at the `‘`). The line is what a user looks for first.
 */
function errorStart(node: SyntaxNode, misread: readonly Span[], script: boolean, depth = 0): number {
  let lead: SyntaxNode = node;
  for (let i = 0; i < node.childCount; i++) {
    const c = node.child(i);
    if (!c || (c.isNamed && !c.hasError && STATEMENT.test(c.type))) continue;
    lead = c;
    break;
  }
  const inner = firstError(node, lead === node ? 0 : lead.startIndex, 0);
  // A word JavaScript rejects (a typographic quote read as a name) on that line is an error too.
  const from = lead === node ? node.startIndex : lead.startIndex;
  const lineEnd = lineEndAfter(node, from);
  const word = misread.find((m) => m.start >= from && m.start < Math.min(lineEnd, node.endIndex));
  const onLine = inner && inner.startPosition.row === lead.startPosition.row ? inner.startIndex : undefined;
  if (word && (onLine === undefined || word.start < onLine)) return word.start;
  // `translate': 0.1`: a quote that opens a string never closed is the error (Python's "unterminated
  // string literal"), not the name before it.
  const quote = unclosedQuote(node, lead);
  if (quote !== undefined && (onLine === undefined || quote < onLine)) return quote;
  // In Python, an ERROR nested in this one may itself begin with complete statements (`def f():` whose
  // body recovery wrapped whole): its own error is where the mistake is.
  if (onLine !== undefined) return !script && inner?.type === 'ERROR' && depth < 40 ? errorStart(inner, misread, script, depth + 1) : onLine;
  // A Python class or function that recovery kept whole around an error in its body (`return w   if b:`
  // glued on one line): the mistake is that inner error's, lines below the header, not the header.
  if (!script && inner && lead !== node && lead.isNamed && STATEMENT.test(lead.type) && inner.startIndex >= lead.startIndex && inner.endIndex <= lead.endIndex)
    return inner.type === 'ERROR' && depth < 40 ? errorStart(inner, misread, script, depth + 1) : inner.startIndex;
  // `return (` before JSX the parser could not read: the statement is fine up to the error inside it.
  if (inner && !lead.isNamed && lead.type === 'return' && script) return inner.startIndex;
  return lead.startIndex;
}

/** The start of a Python `string_start` the ERROR node holds bare, with no `string_end` after it, on the lead's line. */
function unclosedQuote(node: SyntaxNode, lead: SyntaxNode): number | undefined {
  let quote: SyntaxNode | undefined;
  for (let i = 0; i < node.childCount; i++) {
    const c = node.child(i);
    if (!c) continue;
    if (c.type === 'string_start' && !quote && c.startPosition.row === lead.startPosition.row && c.startIndex >= lead.startIndex) quote = c;
    else if (c.type === 'string_end' && quote) quote = undefined;
  }
  return quote?.startIndex;
}

/** Where the line holding `at` ends in the node's text (the node's end when the line runs past it). */
function lineEndAfter(node: SyntaxNode, at: number): number {
  const text = node.text;
  const nl = text.indexOf('\n', at - node.startIndex);
  return nl < 0 ? node.endIndex : node.startIndex + nl;
}


/** The first ERROR or MISSING node inside `node` (not itself) that starts at or after `from`. */
function firstError(node: SyntaxNode, from: number, depth: number): SyntaxNode | undefined {
  if (depth > 40) return undefined;
  for (let i = 0; i < node.childCount; i++) {
    const c = node.child(i);
    if (!c || c.endIndex <= from) continue;
    if ((c.type === 'ERROR' || c.isMissing) && c.startIndex >= from) return c;
    if (c.hasError) {
      const found = firstError(c, from, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

export function parseNumber(text: string): number {
  const clean = text.replace(/_/g, '').replace(/[jJlLnN]$/, '');
  const value = Number(clean);
  return Number.isFinite(value) ? value : NaN;
}

/** The value of a simple string literal (quotes and prefixes stripped), for dict keys and imports. */
export function stringValue(text: string): string {
  const m = /^[rRbBuUfF]*("""|'''|"|'|`)([\s\S]*)\1$/.exec(text);
  return m ? m[2] : text;
}
