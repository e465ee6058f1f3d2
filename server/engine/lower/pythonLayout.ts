// Python syntax errors that tree-sitter-python's tree holds without an ERROR node, found from the
// layout CPython enforces. The grammar's scanner skips a line break wherever a NEWLINE token is not
// valid, so `for l` followed lines later by `for l in xs:` reads as one statement; a block may be
// empty (`if b:` with no indented body); and two statements may share a line with no `;` between
// (`from m import *   cfg = {`). CPython stops at the first of these, so the notice points there.
// Python 2's backtick repr (`` `x` ``), which the grammar reads as a string, is one more
// (`python2Backticks`). Python 2's statements the grammar reads (`print "x"`, `exec code`,
// `except E, e:`) are left without a notice.
import type { Node as SyntaxNode, Tree, TreeCursor } from 'web-tree-sitter';
import type { SyntaxErrorSpan } from '../ir';

/** Statements that end at the end of their logical line: no line break inside them outside brackets. */
const SIMPLE = new Set([
  'expression_statement', 'return_statement', 'delete_statement', 'raise_statement', 'pass_statement',
  'break_statement', 'continue_statement', 'import_statement', 'import_from_statement',
  'future_import_statement', 'global_statement', 'nonlocal_statement', 'assert_statement',
  'print_statement', 'exec_statement', 'type_alias_statement', 'decorator',
]);

/** Compound statements and clauses, whose header runs to their first own `:`, as CPython names them. */
const HEADER: Record<string, string> = {
  if_statement: "'if' statement", elif_clause: "'elif' statement", else_clause: "'else' statement",
  for_statement: "'for' statement", while_statement: "'while' statement", with_statement: "'with' statement",
  try_statement: "'try' statement", except_clause: "'except' statement", except_group_clause: "'except*' statement",
  finally_clause: "'finally' statement", function_definition: 'function definition', class_definition: 'class definition',
  match_statement: "'match' statement", case_clause: "'case' statement",
};

/** Nodes whose children are statements, clauses or a header: the walk goes into these only. */
const CONTAINER = new Set(['module', 'block', 'ERROR', 'decorated_definition', ...Object.keys(HEADER)]);

/** What the grammar may put anywhere, which is no token of CPython's: comments, and a backslash with its line break. */
const EXTRAS = new Set(['comment', 'line_continuation']);

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

interface Frame {
  type: string;
  start: number;
  /** Statements (not comments) seen in it, and the end and type of the last one (block, module). */
  statements: number;
  lastEnd?: number;
  lastType?: string;
  /** Whether the header was checked (compound statements, at their first own `:`). */
  headerDone?: boolean;
}

/**
 * The layout errors of a Python tree, in text order (offsets without a base). The walk visits
 * statements, not expressions: a statement or header over several lines is read by a small lexer
 * (`bareLineBreak`) and only when it finds a line break outside brackets, strings and comments
 * without a backslash is the statement's tree read token by token (`breakInside`). A break inside
 * an ERROR node is left to that node.
 */
export function pythonLayoutErrors(tree: Tree, text: string, limit = 50): SyntaxErrorSpan[] {
  const out: SyntaxErrorSpan[] = [];
  const stack: Frame[] = [];
  /** Empty blocks waiting for the next token, where CPython reports them. */
  let pending: { header: string; row: number; start: number }[] = [];
  const cursor = tree.walk();
  try {
    for (;;) {
      const type = cursor.nodeType;
      const start = cursor.startIndex;
      const end = cursor.endIndex;
      const parent = stack[stack.length - 1];
      const isExtra = EXTRAS.has(type);
      if (pending.length > 0 && !isExtra && end > start) {
        for (const b of pending) out.push({ start, end: start + 1, reason: `expected an indented block after ${b.header}`, reasonLine: b.row });
        pending = [];
      }
      if (parent && !isExtra && type !== ';' && (parent.type === 'block' || parent.type === 'module')) {
        // A statement directly in a block or module: glued to the one before it on its line?
        if (parent.lastEnd !== undefined && type !== 'ERROR' && parent.lastType !== 'ERROR'
          && start >= parent.lastEnd && /^[ \t]*$/.test(text.slice(parent.lastEnd, start))) {
          out.push({ start, end: start + 1, reason: "expected a line break or ';' before this statement" });
        }
        parent.statements++;
        parent.lastEnd = end;
        parent.lastType = type;
      }
      if (parent && HEADER[parent.type] && !parent.headerDone && type === ':') {
        parent.headerDone = true;
        checkBreaks(cursor, text, parent.start, start, out);
      }
      if (SIMPLE.has(type) && spansLines(text, start, end)) checkBreaks(cursor, text, start, end, out);
      if (out.length >= limit) break;
      if (CONTAINER.has(type) && cursor.gotoFirstChild()) {
        stack.push({ type, start, statements: 0 });
        continue;
      }
      if (type === 'block' && parent && HEADER[parent.type] && !magicLineAfter(text, start)) {
        pending.push({ header: HEADER[parent.type], row: rowAt(text, parent.start), start });
      }
      // Leave the node; close the frames of the parents whose last child it was.
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          for (const b of pending) out.push({ start: text.length, end: text.length, reason: `expected an indented block after ${b.header}`, reasonLine: b.row });
          return out.sort((a, b) => a.start - b.start);
        }
        const frame = stack.pop();
        if (frame?.type === 'block' && frame.statements === 0) {
          const owner = stack[stack.length - 1];
          if (owner && HEADER[owner.type] && !magicLineAfter(text, frame.start)) pending.push({ header: HEADER[owner.type], row: rowAt(text, owner.start), start: frame.start });
        }
      }
    }
  } finally {
    cursor.delete();
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Adds the error of a line break that ends the logical line between `from` and `to` (a simple
 * statement, or a compound statement's header), placed at the end of the line CPython stops on.
 * The node under the cursor holds the range (the statement, or the header's `:` whose parent does).
 */
function checkBreaks(cursor: TreeCursor, text: string, from: number, to: number, out: SyntaxErrorSpan[]): void {
  if (!bareLineBreak(text, from, to)) return;
  const node = cursor.currentNode;
  const owner = node.type === ':' ? node.parent : node;
  if (!owner) return;
  const found = breakInside(owner, text, to);
  if (!found) return;
  // A `for` stopped before its `in` misses the `in`; any other header, its `:`.
  const reason = !HEADER[owner.type] ? 'the statement is incomplete at the end of its line'
    : owner.type === 'for_statement' && !found.sawIn ? "expected 'in' after the 'for' target" : "expected ':'";
  out.push({ start: found.at, end: found.at + 1, reason });
}

/**
 * Whether the text between `from` and `to` has a line break outside brackets, strings and comments
 * that no backslash joins: a quick lexical test, so that most statements over several lines (a call
 * whose arguments wrap) never have their tokens read. It only needs to find every such break; the
 * tree decides (`breakInside`).
 */
function bareLineBreak(text: string, from: number, to: number): boolean {
  let depth = 0;
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0 || nl >= to) return false;
      i = nl - 1;
    } else if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      let j = i + close.length;
      for (; j < to; j++) {
        if (text[j] === '\\') j++;
        else if (text.startsWith(close, j)) break;
        else if (!triple && text[j] === '\n') break; // an unclosed quote ends at the line's end
      }
      i = triple || text[j] !== '\n' ? j + close.length - 1 : j - 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) i += text[i + 1] === '\r' ? 2 : 1;
    else if (c === '\n' && depth === 0 && text.slice(i + 1, to).trim() !== '') return true;
  }
  return false;
}

/**
 * Where the first line break between two tokens of `owner` before `to`, outside brackets and not
 * joined by a backslash, ends its line (and whether an `in` of the owner came before it); undefined when there is none, or when the break is inside an
 * ERROR node of `owner` (recovery's own error is reported there). Strings are read as one token.
 */
function breakInside(owner: SyntaxNode, text: string, to: number): { at: number; sawIn: boolean } | undefined {
  const cursor = owner.walk();
  const stack: { type: string; start: number }[] = [];
  let depth = 0;
  let sawIn = false;
  let prevStart = -1;
  let prevEnd = -1;
  let prevEndRow = -1;
  try {
    for (;;) {
      const type = cursor.nodeType;
      const start = cursor.startIndex;
      if (start >= to) return undefined;
      const atomic = type === 'string' || EXTRAS.has(type);
      if (!atomic && cursor.gotoFirstChild()) {
        stack.push({ type, start });
        continue;
      }
      if (!EXTRAS.has(type) && cursor.endIndex > start) {
        const row = cursor.startPosition.row;
        if (prevEnd >= 0 && row > prevEndRow && depth === 0 && !joinedByBackslash(text, prevEnd, start)) {
          // The lowest node holding both tokens, and the nodes above it up to the owner: an ERROR there is recovery's.
          const lca = stack.findIndex((f) => f.start > prevStart);
          const between = lca < 0 ? stack : stack.slice(0, lca);
          if (!between.some((f) => f.type === 'ERROR')) return { at: lineEnd(text, prevEnd), sawIn };
        }
        if (type === 'in' && stack.length === 1) sawIn = true;
        if (OPEN.has(type)) depth++;
        else if (CLOSE.has(type)) depth = Math.max(0, depth - 1);
        prevStart = start;
        prevEnd = cursor.endIndex;
        prevEndRow = cursor.endPosition.row;
      }
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent() || stack.length <= 1) return undefined;
        stack.pop();
      }
    }
  } finally {
    cursor.delete();
  }
}

function spansLines(text: string, start: number, end: number): boolean {
  const nl = text.indexOf('\n', start);
  return nl >= 0 && nl < end;
}

/** The 0-based line of an offset (for the rare empty block: a count, not an index of lines). */
function rowAt(text: string, at: number): number {
  let row = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) row++;
  return row;
}

/** Whether every line break between `from` and `to` follows a backslash (Python's explicit line joining). */
function joinedByBackslash(text: string, from: number, to: number): boolean {
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) {
    const before = text[i - 1] === '\r' ? i - 2 : i - 1;
    if (text[before] !== '\\') return false;
  }
  return true;
}

/** Where the line holding `at` ends (before its `\r\n` or `\n`, or at the text's end): where CPython's NEWLINE token is. */
function lineEnd(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  const end = nl < 0 ? text.length : nl;
  return text[end - 1] === '\r' ? end - 1 : end;
}

/**
 * Whether a line after `at`, before the next code (comments aside), is only spaces: it may be a
 * notebook's magic or shell line (`    !pip install x`), which the notebook reader blanks, so the block
 * may hold a magic and is not known to be empty.
 */
function magicLineAfter(text: string, at: number): boolean {
  let i = text.indexOf('\n', at);
  while (i >= 0) {
    const next = text.indexOf('\n', i + 1);
    const line = text.slice(i + 1, next < 0 ? text.length : next).replace(/\r$/, '');
    const code = line.trim();
    if (code !== '' && !code.startsWith('#')) return false;
    if (/^ +$/.test(line)) return true;
    if (next < 0) return false;
    i = next;
  }
  return false;
}

/**
 * Python 2's backtick repr, `` `x` `` (`repr(x)`): the grammar reads it as a string whose quote is a
 * backtick, without an ERROR node, but CPython 3 has no backtick token and stops at the first one.
 * Only the text's backticks are looked at (a file without one costs a search), and only one the tree
 * opens a string with counts: a backtick in a string, a docstring or a comment is text.
 */
export function python2Backticks(tree: Tree, text: string, limit = 50): SyntaxErrorSpan[] {
  const out: SyntaxErrorSpan[] = [];
  for (let i = text.indexOf('`'); i >= 0 && out.length < limit; i = text.indexOf('`', i + 1)) {
    const token = tree.rootNode.descendantForIndex(i, i + 1);
    if (!token) continue;
    if (token.type !== 'string_start' || token.startIndex !== i || token.endIndex !== i + 1) {
      // A docstring or comment full of backticks (Markdown) is passed over at once.
      if ((token.type === 'string_content' || token.type === 'comment') && token.endIndex > i + 1) i = token.endIndex - 1;
      continue;
    }
    const string = token.parent;
    out.push({ start: i, end: i + 1, reason: "backticks are Python 2's repr(), which Python 3 removed: write repr(...)" });
    // The string's own closing backtick, and any inside it, are read with it.
    if (string && string.endIndex > i) i = string.endIndex - 1;
  }
  return out;
}
