// Shared helpers for the per-language lowerers: spans, depth bounds, error collection.
import type { Node as SyntaxNode, Tree } from 'web-tree-sitter';
import { walkTree } from '../parse';
import type { Expr, Span } from '../ir';

/** Deeper expressions are lowered as opaque `other` nodes: keeps recursion far from the JS stack limit. */
export const MAX_DEPTH = 200;

export function spanOf(node: SyntaxNode): Span {
  return { start: node.startIndex, end: node.endIndex };
}

export function other(node: SyntaxNode, children: Expr[] = []): Expr {
  return { kind: 'other', children, span: spanOf(node) };
}

/** Collects ERROR and MISSING nodes, descending only where the tree has errors. */
export function collectErrors(tree: Tree, limit = 50): Span[] {
  const errors: Span[] = [];
  if (!tree.rootNode.hasError) return errors;
  walkTree(tree, (node) => {
    if (node.type === 'ERROR' || node.isMissing) {
      errors.push(spanOf(node));
      return errors.length >= limit ? 'stop' : false;
    }
    return node.hasError;
  });
  return errors;
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
