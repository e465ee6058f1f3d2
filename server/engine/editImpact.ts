// Whether the analysis of a document's previous version still answers a hover in its current
// version: the first hover after an edit need not wait for the new lint when nothing the hovered
// statement depends on was touched. Pure: the language server calls it with the analysis its last
// lint published (server/lsp/session.ts) and the tree kept for that text.
//
// The early answer is the previous analysis's explanation at the hovered place, given only when
// all of these hold (else the caller waits for the lint, as before):
//   1. The two texts differ in one region on one line, whose removed and inserted characters are
//      names, numbers, spaces and operators: no bracket, quote, comment mark, backslash, colon,
//      semicolon or line break, so the edit cannot open or close anything that spans other lines.
//      It is not in the line's indentation (spaces on a blank line aside), not on a line that continues with a backslash, and not
//      inside a string, comment or template (the old tree says), no word it touches is a keyword
//      before or after it (`def` cut to `de` is a syntax error the parser may recover from across
//      statements), and the old text had no syntax error. Such an edit changes one top-level
//      statement E and leaves every other statement's syntax as it was, on the same lines.
//   2. The hovered place is in another top-level statement H, on other lines than the edit.
//   3. Either the edit only adds or removes spaces between tokens, outside every expression and
//      simple statement (the old tree's tokens and E's IR say so): then every statement lowers as
//      before, and nothing the analysis reads has changed. Or E is not among the statements H
//      depends on, by data flow: the closure of H over the names
//      that link top-level statements (names bound at module level, attributes some code of the
//      file writes or defines, string keys and flags, definitions' names), none of which E mentions, before
//      or after the edit (every word of the edited line counts as mentioned, so a new reference or
//      binding typed there is seen). Names bound only by imports do not link two statements, unless
//      the edited line mentions them (framework facts of the whole file, such as an Adam-versus-AdamW
//      comparison, follow the framework's names). An edit inside an import statement always waits: the
//      imports decide the file's dialect, which orders the framework forms of every hover.
//   4. No range of the answer lies on the edited line (the only line whose positions moved).
// test/engine/editImpact.test.ts checks, after random edits, that every early answer equals the
// answer of the new version's lint.
import type { Node, Tree } from 'web-tree-sitter';
import type { DocumentAnalysis } from './document';
import { explainIn, rangesOnLines, type Explanation } from './explain';
import type { Expr, Stmt } from './ir';
import { children, type Scope } from './facts/scope';
import type { Finding } from './types';

/** What a top-level statement mentions that can link it to another. */
interface Mentions {
  stmt: Stmt;
  /** Names used or bound here that resolve to no local binding of a function or lambda inside it. */
  names: Set<string>;
  /** Attribute names read or written. */
  attrs: Set<string>;
  /** Attribute names written (`x.a = …`), methods and classes defined: what an attribute read can reach. */
  defines: Set<string>;
  /** String literals' values, and their spelling as a name (`'--weight-decay'` → `weight_decay`). */
  strings: Set<string>;
  /** Every identifier and attribute name, local or not (what an edit of this statement may change). */
  all: Set<string>;
}

interface StatementIndex {
  mentions: Mentions[];
  /** Names bound at module level other than by an import (assignments, functions, classes). */
  moduleBound: Set<string>;
  /** Attribute names some statement writes or defines. */
  defined: Set<string>;
  /**
   * String keys some statement uses (`config["m"]`): the Analyzer's parameters are the file's, keyed by
   * their last component, so a key `"m"` stepped in one function can make a local `m` elsewhere a parameter.
   */
  keyed: Set<string>;
}

const indexes = new WeakMap<DocumentAnalysis, StatementIndex>();

function indexOf(a: DocumentAnalysis): StatementIndex {
  let index = indexes.get(a);
  if (!index) {
    const mentions = a.module.body.map((stmt) => mentionsOf(a, stmt));
    const root = a.scopes.root;
    const moduleBound = new Set<string>([...root.bindings.keys(), ...root.functions.keys(), ...root.classes.keys()]);
    const defined = new Set<string>();
    const keyed = new Set<string>();
    for (const m of mentions) {
      for (const d of m.defines) defined.add(d);
      for (const k of m.strings) keyed.add(k);
    }
    index = { mentions, moduleBound, defined, keyed };
    indexes.set(a, index);
  }
  return index;
}

/**
 * Builds what `explainAfterEdit` reads of an analysis (each top-level statement's names), so the
 * first hover after the next edit does not pay for it: the language server calls it once its lint
 * has published. Only a lone document's analysis is indexed (a project file's hovers always wait).
 */
export function prepareExplainAfterEdit(a: DocumentAnalysis): void {
  if (a.file.base === 0 && a.module.errors.length === 0) indexOf(a);
}

/** A string that can be a key, an attribute's name or a command-line flag (a syntax test, not a name list). */
const KEY_LIKE = /^-{0,2}[A-Za-z_$][\w$.-]*$/;

/** A string's spelling as a name: `'--weight-decay'` → `weight_decay`. */
function asName(value: string): string {
  return value.replace(/^-+/, '').replace(/-/g, '_');
}

function mentionsOf(a: DocumentAnalysis, top: Stmt): Mentions {
  const m: Mentions = { stmt: top, names: new Set(), attrs: new Set(), defines: new Set(), strings: new Set(), all: new Set() };
  const scopes = a.scopes;
  const isLocal = (name: string, scope: Scope | undefined): boolean => {
    for (let s = scope; s && s.kind !== 'module'; s = s.parent) if (s.bindings.has(name) || s.functions.has(name) || s.classes.has(name)) return true;
    return false;
  };
  const expr = (root: Expr, scope: Scope | undefined, written: boolean): void => {
    const stack: { e: Expr; scope: Scope | undefined; written: boolean }[] = [{ e: root, scope, written }];
    while (stack.length > 0) {
      const { e, scope: sc, written: w } = stack.pop()!;
      switch (e.kind) {
        case 'name':
          m.all.add(e.name);
          if (!isLocal(e.name, sc)) m.names.add(e.name);
          break;
        case 'attr':
          m.all.add(e.name);
          m.attrs.add(e.name);
          if (w) m.defines.add(e.name);
          stack.push({ e: e.object, scope: sc, written: false });
          continue;
        case 'str':
          // Keys and flags (`params['W1']`, `'--weight-decay'`) carry data between statements; prose does not.
          if (KEY_LIKE.test(e.value)) {
            m.strings.add(e.value);
            m.strings.add(asName(e.value));
          }
          m.all.add(e.value);
          break;
        case 'call':
          for (const k of e.kwargs) m.all.add(k.name);
          break;
        case 'object':
          for (const k of e.entries) {
            m.strings.add(k.name);
            m.all.add(k.name);
          }
          break;
        case 'lambda': {
          const inner = scopes.lambdaScopes.get(e) ?? sc;
          for (const p of e.params) m.all.add(p.name);
          if (e.body) stack.push({ e: e.body, scope: inner, written: false });
          for (const s of e.stmts) stmt(s);
          continue;
        }
        case 'comprehension':
          for (const c of e.conditions ?? []) stack.push({ e: c, scope: sc, written: false });
          break;
        case 'other':
        default:
          break;
      }
      const sub = e.kind === 'seq' && w; // tuple targets: each item is written
      for (const c of children(e)) stack.push({ e: c, scope: sc, written: sub });
    }
  };
  const stmt = (s: Stmt): void => {
    const scope = scopes.stmtScopes.get(s);
    switch (s.kind) {
      case 'assign':
        for (const t of s.targets) expr(t, scope, true);
        expr(s.value, scope, false);
        return;
      case 'expr':
        expr(s.expr, scope, false);
        return;
      case 'function':
        m.all.add(s.name);
        m.defines.add(s.name);
        if (!isLocal(s.name, scope)) m.names.add(s.name);
        for (const p of s.params) {
          m.all.add(p.name);
          if (p.default) expr(p.default, scope, false);
        }
        for (const d of s.decorators) expr(d, scope, false);
        for (const b of s.body) stmt(b);
        return;
      case 'class':
        m.all.add(s.name);
        m.defines.add(s.name);
        if (!isLocal(s.name, scope)) m.names.add(s.name);
        for (const b of s.bases) expr(b, scope, false);
        for (const d of s.decorators) expr(d, scope, false);
        for (const b of s.body) {
          // A class body's assignments define attributes of its instances.
          if (b.kind === 'assign') for (const t of b.targets) if (t.kind === 'name') m.defines.add(t.name);
          stmt(b);
        }
        return;
      case 'for':
        expr(s.target, scope, true);
        expr(s.iter, scope, false);
        for (const b of s.body) stmt(b);
        return;
      case 'block':
        for (const h of s.heads) expr(h, scope, false);
        for (const al of s.aliases ?? []) if (al) expr(al, scope, true);
        for (const b of s.body) stmt(b);
        return;
      case 'return':
        if (s.value) expr(s.value, scope, false);
        return;
      case 'delete':
        for (const t of s.targets) expr(t, scope, true);
        return;
      case 'import':
      case 'export':
        if (s.module) m.strings.add(s.module);
        for (const n of s.names) {
          m.all.add(n.name);
          m.all.add(n.alias);
          m.names.add(n.alias);
          m.names.add(n.name);
        }
        return;
    }
  };
  stmt(top);
  return m;
}

/** Characters an edit may remove or insert and stay on its line and in its statement. */
const CONFINED_PYTHON = /^[A-Za-z0-9_ \t.,+\-*/%@=<>!&|^~]*$/;
const CONFINED_SCRIPT = /^[A-Za-z0-9_$ \t.,+\-*%=!&|^~]*$/;
/** Tree-sitter node types of text that is not code: an edit inside one changes a string or a comment. */
const NOT_CODE = /string|comment|template|regex|jsx_text|heredoc|escape/;

const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'case', 'class', 'continue', 'def', 'del', 'elif',
  'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'match', 'nonlocal', 'not', 'or',
  'pass', 'raise', 'return', 'try', 'type', 'while', 'with', 'yield',
]);
const SCRIPT_KEYWORDS = new Set([
  'as', 'async', 'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'declare', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'from', 'function', 'get', 'if', 'implements', 'import', 'in',
  'instanceof', 'interface', 'let', 'namespace', 'new', 'null', 'of', 'private', 'protected', 'public', 'readonly', 'return',
  'set', 'static', 'super', 'switch', 'this', 'throw', 'true', 'try', 'type', 'typeof', 'using', 'var', 'void', 'while', 'with', 'yield',
]);

/** The words of a text that overlap [start, end), whole. */
function wordsAround(text: string, start: number, end: number): string[] {
  let from = start;
  while (from > 0 && /[\w$]/.test(text[from - 1])) from--;
  let to = end;
  while (to < text.length && /[\w$]/.test(text[to])) to++;
  return wordsOf(text.slice(from, to));
}

/** Identifier-like words of a piece of code. */
function wordsOf(text: string): string[] {
  return text.match(/[A-Za-z_$][\w$]*/g) ?? [];
}

/** Whether the edit at [start, end) of the old text is inside (or at the end of) a string, comment or template. */
function touchesText(tree: Tree, start: number, end: number, length: number): boolean {
  const probes = new Set([Math.max(0, start - 1), Math.min(start, length - 1), Math.max(0, Math.min(end, length - 1)), Math.max(0, end - 1)]);
  for (const at of probes) {
    for (let node: Node | null = tree.rootNode.descendantForIndex(at, at); node; node = node.parent) {
      if (NOT_CODE.test(node.type) && node.startIndex < Math.max(start, end) && node.endIndex >= start) return true;
      if (node.type === 'ERROR' || node.isMissing) return true;
    }
  }
  return false;
}

/**
 * The explanation at `offset` of `newText` from the analysis of the previous text, when the edit
 * between them cannot change it (see the top of this file); undefined when the caller must wait
 * for the lint of `newText`. `explanation` is itself undefined when there is nothing to explain there.
 * `tree` must be the tree of exactly `a.text`.
 */
export function explainAfterEdit(
  a: DocumentAnalysis,
  tree: Tree,
  newText: string,
  offset: number,
  findings: () => readonly Finding[],
): { explanation: Explanation | undefined } | undefined {
  const oldText = a.text;
  // A lone document (file 0; a project's files are 1 and up): a project file's answer may depend on other files, whose state this does not see.
  if (a.file.base !== 0 || a.module.errors.length > 0 || a.module.truncated) return undefined;
  // The one changed region: a common prefix and suffix.
  const limit = Math.min(oldText.length, newText.length);
  let prefix = 0;
  while (prefix < limit && oldText.charCodeAt(prefix) === newText.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < limit - prefix && oldText.charCodeAt(oldText.length - 1 - suffix) === newText.charCodeAt(newText.length - 1 - suffix)) suffix++;
  const oldEnd = oldText.length - suffix;
  const newEnd = newText.length - suffix;
  if (prefix === oldEnd && prefix === newEnd) return { explanation: explainIn(a, offset, findings) };
  const removed = oldText.slice(prefix, oldEnd);
  const inserted = newText.slice(prefix, newEnd);
  const confined = a.language === 'python' ? CONFINED_PYTHON : CONFINED_SCRIPT;
  if (!confined.test(removed) || !confined.test(inserted)) return undefined;
  // The edited line, in the old text (the edit holds no line break, so it is one line in both).
  let lineStart = prefix;
  while (lineStart > 0 && oldText[lineStart - 1] !== '\n' && oldText[lineStart - 1] !== '\r') lineStart--;
  let lineEnd = oldEnd;
  while (lineEnd < oldText.length && oldText[lineEnd] !== '\n' && oldText[lineEnd] !== '\r') lineEnd++;
  const oldLine = oldText.slice(lineStart, lineEnd);
  // Spaces added to or removed from a blank line: no token changes anywhere.
  const blank = /^[ \t]*$/.test(oldLine) && /^[ \t]*$/.test(inserted);
  if (!blank && (/^[ \t]*$/.test(oldText.slice(lineStart, prefix)) || oldLine.includes('\\'))) return undefined;
  // In TS/JS a slash next to another slash or a star opens a comment: no edit on a line with one.
  if (a.language !== 'python' && oldLine.includes('/')) return undefined;
  if (touchesText(tree, prefix, oldEnd, oldText.length)) return undefined;
  // A keyword made or unmade (`def` cut to `de`) changes the statement's syntax, and the parser's
  // recovery from the error can carry that into the statements after it.
  // Words the edit leaves as they were (a space typed after `return`) make or unmake nothing.
  const keywords = a.language === 'python' ? PYTHON_KEYWORDS : SCRIPT_KEYWORDS;
  const wordsBefore = wordsAround(oldText, prefix, oldEnd);
  const wordsAfter = wordsAround(newText, prefix, newEnd);
  const sameWords = wordsBefore.length === wordsAfter.length && wordsBefore.every((w, i) => w === wordsAfter[i]);
  if (!sameWords && [...wordsBefore, ...wordsAfter].some((w) => keywords.has(w))) return undefined;
  // The hovered place in the old text: before the edit it has not moved; after it, by the change in length.
  let old: number;
  if (offset <= prefix) old = offset;
  else if (offset >= newEnd) old = offset - (newEnd - oldEnd);
  else return undefined;
  if (old >= lineStart && old <= lineEnd) return undefined;
  // E: the top-level statement the edit is in; H: the one hovered.
  const body = a.module.body;
  const at = (o: number): number => body.findIndex((s) => s.span.start <= o && o <= s.span.end);
  const edited = at(prefix);
  if (blank) {
    // Unless the blank line is inside an expression or a simple statement (whose quoted text would change).
    if (edited >= 0 && splitsCode(body[edited], prefix, oldEnd)) return undefined;
    return answer(a, old, findings, a.lines.position(lineStart).line);
  }
  const hovered = at(old);
  if (edited < 0 || hovered < 0 || edited === hovered) return undefined;
  const e = body[edited];
  const first = lineStart + (oldLine.length - oldLine.trimStart().length);
  const last = lineStart + oldLine.trimEnd().length;
  if (e.span.start > first || e.span.end < last) return undefined; // the whole line is in E
  const h = body[hovered];
  if (!(h.span.end < lineStart || h.span.start > lineEnd)) return undefined;

  if (!spacesOnly(oldText, prefix, oldEnd, inserted, removed, tree) || splitsCode(e, prefix, oldEnd)) {
    // The edit changes code of E: H must not depend on E. An import decides facts of the whole file
    // (its dialect: which frameworks' forms a hover lists first), whatever H mentions.
    if (e.kind === 'import') return undefined;
    if (dependsOnEdit(a, edited, hovered, new Set([...wordsOf(oldLine), ...wordsOf(oldText.slice(lineStart, prefix) + inserted + oldText.slice(oldEnd, lineEnd))]))) return undefined;
  }
  return answer(a, old, findings, a.lines.position(lineStart).line);
}

/** The old analysis's explanation at `old`, unless a range of it is on the edited line (whose positions moved). */
function answer(a: DocumentAnalysis, old: number, findings: () => readonly Finding[], editedLine: number): { explanation: Explanation | undefined } | undefined {
  const explanation = explainIn(a, old, findings);
  if (explanation && rangesOnLines(explanation, new Set([editedLine]))) return undefined;
  return { explanation };
}

/**
 * Whether the edit only adds or removes spaces between tokens: no token is split or joined (the
 * old tree's tokens say where they are), so every statement lowers as before, its spans after the
 * edit moved along the line.
 */
function spacesOnly(oldText: string, start: number, end: number, inserted: string, removed: string, tree: Tree): boolean {
  if (!/^[ \t]*$/.test(inserted) || !/^[ \t]*$/.test(removed)) return false;
  // A deletion leaves a space (or the line's end) between the tokens on either side.
  if (removed !== '' && !/[ \t]/.test(oldText[start - 1] ?? '') && !/[ \t\r\n]/.test(oldText[end] ?? '\n')) return false;
  // Not inside a token.
  for (const at of [start, end]) {
    const leaf = tree.rootNode.descendantForIndex(Math.max(0, at - 1), at);
    if (leaf && leaf.childCount === 0 && leaf.startIndex < at && at < leaf.endIndex) return false;
  }
  return true;
}

/**
 * Whether [start, end] lies strictly inside the span of an expression or a simple statement of
 * `top` (whose source text a message may quote); the spans of compound statements (functions,
 * classes, loops, blocks) may contain it.
 */
export function splitsCode(top: Stmt, start: number, end: number): boolean {
  const inside = (span: { start: number; end: number }): boolean => span.start < end && start < span.end;
  const exprs: Expr[] = [];
  const stmts: Stmt[] = [top];
  while (stmts.length > 0) {
    const s = stmts.pop()!;
    if (!inside(s.span)) continue;
    switch (s.kind) {
      case 'function':
        exprs.push(...s.decorators, ...s.params.flatMap((p) => (p.default ? [p.default] : [])));
        if (inside(s.nameSpan) || s.params.some((p) => inside(p.span))) return true;
        stmts.push(...s.body);
        break;
      case 'class':
        exprs.push(...s.bases, ...s.decorators);
        stmts.push(...s.body);
        break;
      case 'for':
        exprs.push(s.target, s.iter);
        stmts.push(...s.body);
        break;
      case 'block':
        exprs.push(...s.heads, ...(s.aliases ?? []).filter((x): x is Expr => x !== undefined));
        stmts.push(...s.body);
        break;
      default:
        return true; // a simple statement
    }
  }
  return exprs.some((x) => inside(x.span));
}

/** Whether the hovered top-level statement depends, by data flow, on the edited one (before or after the edit). */
function dependsOnEdit(a: DocumentAnalysis, edited: number, hovered: number, words: Set<string>): boolean {
  const index = indexOf(a);
  // What E mentions, before and after the edit.
  const mentionedByE = new Set<string>(words);
  const me = index.mentions[edited];
  for (const set of [me.all, me.names, me.attrs, me.strings, me.defines]) for (const x of set) mentionedByE.add(x);
  // What links two statements: names bound at module level (or named on the edited line), names any
  // statement also uses as a string key, attributes someone defines (or named there), string keys.
  const links = (m: Mentions): string[] => {
    const out: string[] = [];
    for (const n of m.names) if (index.moduleBound.has(n) || words.has(n)) out.push(n);
    // Locals too: a local `m` and a key `"m"` are one parameter to the Analyzer.
    for (const n of m.all) if (index.keyed.has(n) || me.strings.has(n)) out.push(n);
    for (const n of m.attrs) if (index.defined.has(n) || words.has(n)) out.push(n);
    for (const n of m.defines) out.push(n);
    for (const n of m.strings) out.push(n);
    return out;
  };
  // The closure of H: statements sharing a link with what is reached so far.
  const byLink = new Map<string, number[]>();
  index.mentions.forEach((m, i) => {
    if (i === edited) return;
    for (const n of links(m)) {
      const list = byLink.get(n);
      if (list) list.push(i);
      else byLink.set(n, [i]);
    }
  });
  const reached = new Set<number>([hovered]);
  const queue = [hovered];
  const seenLinks = new Set<string>();
  while (queue.length > 0) {
    const i = queue.pop()!;
    for (const n of links(index.mentions[i])) {
      if (mentionedByE.has(n)) return true;
      if (seenLinks.has(n)) continue;
      seenLinks.add(n);
      for (const j of byLink.get(n) ?? []) {
        if (reached.has(j)) continue;
        reached.add(j);
        queue.push(j);
      }
    }
  }
  return false;
}
