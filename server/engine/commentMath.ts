// LaTeX math written in comments and docstrings: `$...$` (inline) and `$$...$$` (display).
// Comments are found with tree-sitter (Python `#` comments and statement-level strings such as
// docstrings; TS/JS `//` and `/* */` comments), so `$` inside ordinary strings and code is ignored.
import type { Tree } from 'web-tree-sitter';
import { query } from './parse';
import type { Span } from './ir';
import type { LanguageId } from './types';

export interface TexSegment {
  /** The TeX between the delimiters, with comment markers (`#`, `*`, `//`) of continued lines removed. */
  tex: string;
  display: boolean;
  /** The segment with its delimiters, as UTF-16 offsets in the document. */
  span: Span;
}

export interface CommentMath {
  /** The comment or docstring. */
  span: Span;
  segments: TexSegment[];
}

/** Most comments a file may contribute; beyond it the rest are ignored (a hover needs one). */
const MAX_COMMENTS = 2000;

/** Comments, and in Python the strings that stand alone as a statement (docstrings). */
const COMMENTS: Record<LanguageId, string> = {
  python: '(comment) @comment (expression_statement . (string) @comment .)',
  typescript: '(comment) @comment',
  tsx: '(comment) @comment',
  javascript: '(comment) @comment',
};

/** Comments and docstrings of a parsed file that contain math, in document order. */
/** Math in the comments of a parsed file; spans are offset by `base` (server/engine/source.ts). */
export function findCommentMath(tree: Tree, text: string, language: LanguageId, base = 0): CommentMath[] {
  const out: CommentMath[] = [];
  if (!text.includes('$')) return out; // most files: no query at all
  const seen = new Set<number>();
  for (const { node } of query(tree.language, COMMENTS[language]).captures(tree.rootNode)) {
    if (out.length >= MAX_COMMENTS) break;
    const { startIndex: start, endIndex: end } = node;
    if (seen.has(start)) continue;
    seen.add(start);
    const source = text.slice(start, end);
    if (!source.includes('$')) continue;
    const segments = findTexSegments(source, base + start);
    if (segments.length > 0) out.push({ span: { start: base + start, end: base + end }, segments });
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}

/** Longest TeX taken from one segment, in characters. */
const MAX_SEGMENT = 2000;

/**
 * `$...$` and `$$...$$` in a comment's text. Inline math follows pandoc's rule: the opening `$` is
 * not followed by a space, the closing `$` not preceded by one nor followed by a digit ("costs $5
 * and $10" is not math); `\$` is a literal dollar. Inline math stays on one line.
 */
export function findTexSegments(text: string, offset = 0): TexSegment[] {
  const segments: TexSegment[] = [];
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at < 0) break;
    if (at > 0 && text[at - 1] === '\\') {
      i = at + 1;
      continue;
    }
    if (text[at + 1] === '$') {
      const close = findClose(text, at + 2, '$$');
      if (close < 0) {
        i = at + 2;
        continue;
      }
      const tex = cleanTex(text.slice(at + 2, close));
      if (tex && tex.length <= MAX_SEGMENT) segments.push({ tex, display: true, span: { start: offset + at, end: offset + close + 2 } });
      i = close + 2;
      continue;
    }
    const first = text[at + 1];
    if (first === undefined || /\s/.test(first)) {
      i = at + 1;
      continue;
    }
    let close = -1;
    for (let j = at + 1; j < text.length; j++) {
      const ch = text[j];
      if (ch === '\n' || ch === '\r') break;
      if (ch === '\\') {
        j++;
        continue;
      }
      if (ch === '$') {
        if (!/\s/.test(text[j - 1]) && !/[0-9]/.test(text[j + 1] ?? '')) close = j;
        break;
      }
    }
    if (close < 0) {
      i = at + 1;
      continue;
    }
    const tex = text.slice(at + 1, close).trim();
    if (tex && tex.length <= MAX_SEGMENT) segments.push({ tex, display: false, span: { start: offset + at, end: offset + close + 1 } });
    i = close + 1;
  }
  return segments;
}

function findClose(text: string, from: number, delimiter: string): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text.startsWith(delimiter, j)) return j;
  }
  return -1;
}

/** Drops comment markers at the start of continued lines (` * `, `# `, `// `) and trims. */
function cleanTex(tex: string): string {
  return tex
    .split(/\r\n|\n|\r/)
    .map((line, i) => (i === 0 ? line : line.replace(/^\s*(\*(?!\*)|#|\/\/)\s?/, '')))
    .join('\n')
    .trim();
}
