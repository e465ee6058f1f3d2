// Shared helpers for the per-language lowerers: spans, depth bounds, error collection.
import type { Language, Node as SyntaxNode, Tree } from 'web-tree-sitter';
import { walkTree } from '../parse';
import type { Expr, Span, Stmt } from '../ir';

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

/** Deeper expressions are lowered as opaque `other` nodes: keeps recursion far from the JS stack limit. */
export const MAX_DEPTH = 200;


export function other(span: Span, children: Expr[] = []): Expr {
  return { kind: 'other', children, span };
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
 * `base`). An ERROR node is where recovery wrapped what it could not parse, often with the complete
 * statements before the mistake (an unterminated f-string can make one ERROR of the whole module,
 * from its first line): its span starts where the error does (`errorStart`).
 */
export function collectErrors(tree: Tree, base: number, limit = 50): Span[] {
  const errors: Span[] = [];
  if (!tree.rootNode.hasError) return errors;
  walkTree(tree, (node) => {
    if (node.isMissing || node.type === 'ERROR') {
      errors.push({ start: base + (node.isMissing ? node.startIndex : errorStart(node)), end: base + node.endIndex });
      return errors.length >= limit ? 'stop' : false;
    }
    return node.hasError;
  });
  return errors;
}

/** Node types of a complete statement, which an ERROR node may have swallowed before the mistake. */
const STATEMENT = /statement|definition|declaration|decorated|comment/;

/**
 * Where the mistake in an ERROR node starts: its first part that is not a complete, error-free
 * statement, or, when an error nested in the node starts on that part's line, that error (`Alpha
 * works well` is wrong at `works`, not at `Alpha`). The line is what a user looks for first.
 */
function errorStart(node: SyntaxNode): number {
  let lead: SyntaxNode = node;
  for (let i = 0; i < node.childCount; i++) {
    const c = node.child(i);
    if (!c || (c.isNamed && !c.hasError && STATEMENT.test(c.type))) continue;
    lead = c;
    break;
  }
  const inner = firstError(node, lead === node ? 0 : lead.startIndex, 0);
  if (inner && inner.startPosition.row === lead.startPosition.row) return inner.startIndex;
  // `return (` before JSX the parser could not read: the statement is fine up to the error inside it.
  if (inner && !lead.isNamed && lead.type === 'return' && SCRIPT_GRAMMARS.has(node.tree.language.name ?? '')) return inner.startIndex;
  return lead.startIndex;
}

/** The grammars of TS/JS, whose `return (…)` around JSX is where their errors are often wrapped. */
const SCRIPT_GRAMMARS = new Set(['javascript', 'typescript', 'tsx']);

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
