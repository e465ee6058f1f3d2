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
 * `base`). An ERROR that holds other errors is where recovery wrapped them, often from the file's
 * first line (an unterminated f-string makes one ERROR of the whole module): the errors inside are
 * where the text is wrong, so they are reported instead of it.
 */
export function collectErrors(tree: Tree, base: number, limit = 50): Span[] {
  const errors: Span[] = [];
  if (!tree.rootNode.hasError) return errors;
  walkTree(tree, (node) => {
    if (node.isMissing || (node.type === 'ERROR' && !holdsError(node))) {
      errors.push({ start: base + node.startIndex, end: base + node.endIndex });
      return errors.length >= limit ? 'stop' : false;
    }
    return node.hasError;
  });
  return errors;
}

/** Whether a child of an ERROR node is (or holds) an ERROR or MISSING node. */
function holdsError(node: SyntaxNode): boolean {
  for (let i = 0; i < node.childCount; i++) {
    const c = node.child(i);
    if (c && (c.type === 'ERROR' || c.isMissing || c.hasError)) return true;
  }
  return false;
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
