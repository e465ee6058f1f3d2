// Places where tree-sitter's JavaScript and TypeScript grammars reject valid code a word decides, and their
// recovery. The word is replaced, in a copy of the text, by an identifier of the same length, so
// every offset stays where it was, and the copy is parsed again; the lowerer slices names out of
// the original text, so nothing downstream sees the stand-in. A replacement is kept only when the
// new tree reads the word as the node it is in valid code; otherwise the first tree stands.
//
// - A JSX attribute named with a reserved word (`<div class="card">`, `<Fade in={open}>`): valid
//   JSX (an attribute name is a JSXIdentifier, which has no reserved words) that
//   tree-sitter-javascript 0.25 reads as an error, often swallowing the whole `return (…)`
//   (tree-sitter/tree-sitter-javascript#387). The tsx grammar reads these attributes; its tree
//   only says where they may be, the JavaScript tree after the replacement decides.
// - A variable named `using` at the start of a statement (`using = f(x)`, `using[i] = v`): since
//   explicit resource management, the grammar starts a `using` declaration there
//   (tree-sitter/tree-sitter-javascript#350), but a declaration needs a binding identifier after
//   `using` on the same line; anything else makes `using` an identifier (ECMA-262, UsingDeclaration).
//
// - An identifier starting with `in` (or `instanceof`) and then a digit, `_` or `$` (`in_cache`,
//   `in2`) at the start of a line, after a statement with no semicolon: the grammar's scanner decides
//   whether a line break ends a statement by peeking at the next line, takes `in` not followed by a
//   letter for the operator `a in b` continuing the statement, and inserts no semicolon, so both
//   statements fall apart into an error. Its stand-in changes the first character (`_n_cache`).
//
// - A bare `&` in JSX text (`<b>Train & Predict</b>`): valid JSX (a `&` that starts no character
//   reference is text, as Babel and TypeScript read it) that the grammars read as an error, since their
//   JSX text stops at every `&` for an entity. Its stand-in is `_`, and the reparsed tree must read it
//   inside JSX text.
//
// - A TypeScript import type followed by `[]` or type arguments (`inputs: import("./t").Tensor[]`):
//   the grammar reads `import("./t").Tensor` in a type as a member expression, which nothing may
//   follow there. Its stand-in turns the whole reference into one identifier of the same length
//   (`import_____t__Tensor[]`), and the reparsed tree must read it as a type name. The same for
//   `typeof import('fs')` in type arguments (`importOriginal<typeof import('fs')>()`), read as a type query.
//
// - A generator member (`*[Symbol.iterator]()`) on the line after a class member written without a
//   semicolon (`abstract get length(): number`): the scanner inserts no semicolon before a `*`. The
//   blank before the `*` becomes `;` (`standIn`), and the reparsed tree must read a class body's
//   separator there followed by a method that starts at the `*`.
//
// - A type-only star export (`export type * from './x'`, `export type * as ns from './x'`, TypeScript 5.0):
//   the grammar knows `export type { A } from` but not `type` before `*`, and reads an error. The word
//   `type` becomes blanks in the copy (it exports types only, which carry nothing the analysis reads),
//   and the reparsed tree must read an export statement around it.
//
// - A reserved word as a module's export name (`export { default as const } from './const.js'`,
//   `import { if as check } from './ops.js'`): valid since ES2015 (an export name is an IdentifierName,
//   which has reserved words too), but tree-sitter-javascript 0.25 (and the TypeScript grammars) read
//   only identifiers and strings there. Its stand-in makes the last character `_`, and the reparsed
//   tree must read an identifier in an export or import specifier.
//
// - A TypeScript contextual keyword as a variable (`let as = input.w;`, `let satisfies = x`, `i < keyof.length`,
//   `abstract = 1` at the start of a statement): valid (these words are reserved in no mode; ECMA-262 and
//   TypeScript read them as identifiers wherever their keyword reading does not fit), but the TypeScript grammars
//   take `let as` for `let` cast with `as`, `<` before `keyof`, `infer`, `unique`, `unknown`, `never`, `readonly`
//   or `abstract` for type arguments, and `abstract` at a statement's start for a class modifier. Its stand-in
//   makes the last character `_`, and the reparsed tree must read an identifier whose whole statement has no error.
//
// And one place where tree-sitter-python rejects valid code its layout decides: a line continuing a
// bracketed expression indented left of its statement (`recoverBracketIndents`), which CPython reads
// whatever its indentation; its leading whitespace is made tabs in the copy, again at the same offsets.
import type { Node as SyntaxNode, Tree } from 'web-tree-sitter';
import type { LanguageId } from './types';

/** Reserved words of JavaScript (strict mode included), which the grammar will not read as a JSX attribute name. */
const RESERVED = new Set([
  'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'implements', 'import', 'in', 'instanceof',
  'interface', 'let', 'new', 'null', 'package', 'private', 'protected', 'public', 'return', 'static', 'super', 'switch',
  'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
]);

/** A tag-like `<Name ` followed, before the next `<` or `>` (an arrow's `=>` aside), by a reserved word and `=`: where a JSX attribute may be named with one. */
const RESERVED_ATTRIBUTE = new RegExp(`<[A-Za-z_$][\\w$.:-]*\\s(?:[^<>]|=>)*?(?<![\\w$.:-])(?:${[...RESERVED].join('|')})\\s*=(?!=)`);

/** A word in the text: its offsets and what the reparsed tree must read there. */
interface Replacement {
  start: number;
  end: number;
  /** The node types the word may be after the replacement, with its parent's type when that matters. */
  accept: (node: SyntaxNode) => boolean;
  /**
   * Which characters the stand-in makes `_`: the last (default), the first (a word whose start
   * misleads the scanner), or every one that cannot be in an identifier (an import type's path).
   */
  changes?: 'first' | 'all' | 'blank';
  /** The character the replaced one becomes instead of `_` (one character: offsets stay). */
  standIn?: string;
  /** The reparsed node may be larger than the word (a character inside JSX text). */
  inside?: boolean;
}

/** Parses a text with one grammar from scratch (parse.ts's parsers). */
export type ParseWith = (text: string, language: LanguageId) => Tree;

/**
 * A tree of `text` in which the words above are read as what they are, or undefined when `tree`
 * (a parse of `text` with errors) has none of them or replacing them does not give the reading
 * valid code has. The caller owns the tree returned.
 */
export function recoverMisreadWords(text: string, language: LanguageId, tree: Tree, parseWith: ParseWith): Tree | undefined {
  if (language === 'python' || !tree.rootNode.hasError) return undefined;
  const contextual = contextualKeywordNames(text, tree, language);
  // Alone first: another word's stand-in (an `&&` taken for JSX text) may break the statement a contextual word is in.
  if (contextual.length > 0) {
    const alone = confirmedTree(text, language, contextual, parseWith);
    if (alone && !alone.rootNode.hasError) return alone;
    alone?.delete();
  }
  const replacements = [...reservedModuleNames(text, tree), ...usingIdentifiers(text, tree), ...inPrefixedIdentifiers(text, tree), ...jsxTextAmpersands(text, tree, language), ...importTypes(text, tree, language), ...typeStarExports(text, tree, language), ...generatorMembersAfterSignatures(text, tree, language), ...contextual];
  // The tsx parse is the costly part (seconds on some garbage): only where a tag names a reserved word before `=`.
  if (language === 'javascript' && RESERVED_ATTRIBUTE.test(text)) replacements.push(...reservedJsxAttributes(text, parseWith));
  return confirmedTree(text, language, replacements, parseWith);
}

/** The parse of `text` with the replacements the reparsed tree confirms (all of those it keeps), or undefined. */
function confirmedTree(text: string, language: LanguageId, replacements: Replacement[], parseWith: ParseWith): Tree | undefined {
  if (replacements.length === 0) return undefined;
  replacements.sort((a, b) => a.start - b.start);
  let kept = replacements;
  // At most twice: a second parse without the replacements the first one did not confirm.
  for (let attempt = 0; attempt < 2 && kept.length > 0; attempt++) {
    const candidate = parseWith(standIns(text, kept), language);
    const confirmed = kept.filter((r) => {
      const node = candidate.rootNode.descendantForIndex(r.start, r.end);
      if (node === null || !r.accept(node)) return false;
      return r.inside ? node.startIndex <= r.start && r.end <= node.endIndex : node.startIndex === r.start && node.endIndex === r.end;
    });
    if (confirmed.length === kept.length) return candidate;
    candidate.delete();
    kept = confirmed;
  }
  return undefined;
}

/** `text` with each replaced word's last character made `_`: an identifier of the same length that no keyword is. */
function standIns(text: string, replacements: readonly Replacement[]): string {
  let out = '';
  let at = 0;
  for (const r of replacements) {
    if (r.start < at) continue;
    if (r.standIn !== undefined) out += text.slice(at, r.start) + r.standIn + text.slice(r.start + 1, r.end);
    else if (r.changes === 'first') out += text.slice(at, r.start) + '_' + text.slice(r.start + 1, r.end);
    else if (r.changes === 'all') out += text.slice(at, r.start) + text.slice(r.start, r.end).replace(/[^\w$]/g, '_');
    else if (r.changes === 'blank') out += text.slice(at, r.start) + ' '.repeat(r.end - r.start);
    else out += text.slice(at, r.end - 1) + '_';
    at = r.end;
  }
  return out + text.slice(at);
}

const isIdentifierStart = /[\p{L}_$\\]/u;

/**
 * Each reserved word written as a module export name in an export or import clause, where the tree
 * has an error at it: after `as` in `export { x as const }`, before `as` in `import { const as c }`
 * (also a re-export's `export { if } from`). The reparsed tree must read an identifier of a specifier.
 */
function reservedModuleNames(text: string, tree: Tree): Replacement[] {
  if (!/\b(?:export|import)\b/.test(text)) return [];
  const out: Replacement[] = [];
  const words = [...RESERVED].join('|');
  const pattern = new RegExp(`(?<=[{,][ \\t\\r\\n]*(?:[\\w$]+[ \\t\\r\\n]+as[ \\t\\r\\n]+)?)(?:${words})(?=[ \\t\\r\\n]*(?:[,}]|as[ \\t\\r\\n]))`, 'g');
  for (const match of text.matchAll(pattern)) {
    const start = match.index;
    const end = start + match[0].length;
    // `{ let as = x` is a declaration of a variable named `as` (contextualKeywordNames), not `import { let as x }`.
    if (match[0] === 'let' && /^[ \t\r\n]+(?:as|satisfies)[ \t]*[=:;]/.test(text.slice(end, end + 40))) continue;
    let n: SyntaxNode | null = tree.rootNode.descendantForIndex(start, end);
    let broken = false;
    for (let depth = 0; n && depth < 4 && !broken; depth++, n = n.parent) broken = n.type === 'ERROR' || n.isMissing;
    if (!broken) continue;
    out.push({ start, end, accept: moduleNameSpecifier });
    if (out.length >= 64) break;
  }
  return out;
}

/**
 * TypeScript's contextual keywords the grammars misread as a variable (`let as`, `i < keyof`, `abstract = 1`).
 * `as` and `satisfies` only right after `let` (elsewhere the grammars read them as names, and a cast's `as` is left alone).
 */
const CONTEXTUAL_NAMES = /(?<=\blet[ \t\r\n]+)(?:as|satisfies)(?![\w$])|(?<![\w$.#])(?:abstract|infer|keyof|never|unique|unknown|readonly)(?![\w$])/g;

/**
 * Each TypeScript contextual keyword written where its statement has an error near it (the word's
 * node or one of its four nearest ancestors has an error below it), or read as a name already. The reparsed tree must read an
 * identifier there, inside a statement with no error: a real syntax error next to a cast's `as`
 * stays one, and its replacement is dropped.
 */
function contextualKeywordNames(text: string, tree: Tree, language: LanguageId): Replacement[] {
  if (language === 'javascript') return [];
  const out: Replacement[] = [];
  for (const match of text.matchAll(CONTEXTUAL_NAMES)) {
    const start = match.index;
    const end = start + match[0].length;
    let n: SyntaxNode | null = tree.rootNode.descendantForIndex(start, end);
    // A word read as a name is replaced too: its neighbours' stand-ins may change how the grammar reads it.
    let broken = n?.type === 'identifier';
    for (let depth = 0; n && depth < 5 && !broken; depth++, n = n.parent) broken = n.type === 'ERROR' || n.isMissing || (depth > 0 && n.hasError);
    if (!broken) continue;
    out.push({ start, end, accept: (node) => node.type === 'identifier' && !statementOf(node).hasError });
    if (out.length >= 64) break;
  }
  return out;
}

/** The statement, class member or parameter `node` is in: its ancestor whose parent is a block, a class body, a parameter list or the program. */
function statementOf(node: SyntaxNode): SyntaxNode {
  let n = node;
  while (n.parent && !['program', 'statement_block', 'class_body', 'switch_case', 'switch_default', 'formal_parameters'].includes(n.parent.type)) n = n.parent;
  return n;
}

/**
 * Whether `node` is an identifier where a module export name may be a reserved word: an export's
 * `as` name (`export { x as if }`), an import's name before `as` (`import { if as check }`), or a
 * re-export's name (`export { if } from`). A binding or local reference (`import { if }`,
 * `export { if };`) must be an identifier, and stays a syntax error.
 */
function moduleNameSpecifier(node: SyntaxNode): boolean {
  const spec = node.parent;
  if (node.type !== 'identifier' || !spec) return false;
  const name = spec.childForFieldName('name');
  const alias = spec.childForFieldName('alias');
  const is = (n: SyntaxNode | null): boolean => n !== null && n.startIndex === node.startIndex && n.endIndex === node.endIndex;
  if (spec.type === 'import_specifier') return is(name) && alias !== null;
  if (spec.type !== 'export_specifier') return false;
  if (is(alias)) return true;
  const statement = spec.parent?.parent;
  return is(name) && statement?.type === 'export_statement' && statement.childForFieldName('source') !== null;
}

/**
 * Each `using` that the tree reads as a keyword or inside an error while no identifier follows it
 * on its line: there it can only be a variable (`using = 1`, `using[0]`, `using.x`, `using\n(f)`).
 */
function usingIdentifiers(text: string, tree: Tree): Replacement[] {
  const out: Replacement[] = [];
  for (const match of text.matchAll(/(?<![\w$.])using(?![\w$])/g)) {
    const start = match.index;
    const end = start + 5;
    const node = tree.rootNode.descendantForIndex(start, end);
    const type = node?.type;
    // The keyword token, an error that starts at the word, or the word read as a name inside an error.
    if (!(type === 'using' || (type === 'ERROR' && node?.startIndex === start) || (type === 'identifier' && node?.parent?.type === 'ERROR'))) continue;
    const rest = /^[ \t]*(.?)/.exec(text.slice(end, end + 200));
    const next = rest?.[1] ?? '';
    if (next !== '' && isIdentifierStart.test(next)) continue;
    out.push({ start, end, accept: (n) => n.type === 'identifier' });
  }
  return out;
}

/**
 * Each identifier at the start of a line that begins with `in` or `instanceof` followed by a digit,
 * `_` or `$` (`in_cache = 2` after `var g = 1` with no semicolon), where the tree reads no identifier
 * there: the scanner took the line break for the middle of an `in` expression.
 */
function inPrefixedIdentifiers(text: string, tree: Tree): Replacement[] {
  const out: Replacement[] = [];
  for (const match of text.matchAll(/(?<=(?:^|[\r\n\u2028\u2029])[ \t\f\v]*)(?:instanceof|in)[\d_$][\w$]*/g)) {
    const start = match.index;
    const end = start + match[0].length;
    const node = tree.rootNode.descendantForIndex(start, end);
    // Read right already: it starts its statement, and the statement before it ends without an error.
    const statement = node && node.startIndex === start && node.endIndex === end ? statementStartedBy(node) : undefined;
    if (statement && !statement.previousSibling?.hasError) continue;
    out.push({ start, end, accept: (n) => statementStartedBy(n) !== undefined, changes: 'first' });
  }
  return out;
}

/**
 * Each `&` that starts no character reference (`&amp;`, `&#38;`, `&#x26;`) where the tree has an
 * error: inside JSX text it is text. Operators (`a & b`, `a && b`) parse, so they never qualify;
 * the reparsed tree decides the rest (the `_` must land in JSX text).
 */
function jsxTextAmpersands(text: string, tree: Tree, language: LanguageId): Replacement[] {
  // A .ts file has no JSX (its `&` inside an error is an operator `&&` a misread word broke).
  if (language === 'typescript' || !text.includes('&') || !text.includes('<')) return [];
  const out: Replacement[] = [];
  for (const match of text.matchAll(/&(?!#?\w+;)/g)) {
    const start = match.index;
    const node = tree.rootNode.descendantForIndex(start, start + 1);
    if (!node || !(node.type === 'ERROR' || node.parent?.type === 'ERROR' || node.isMissing)) continue;
    out.push({ start, end: start + 1, accept: (n) => n.type === 'jsx_text', inside: true });
    if (out.length >= 64) break;
  }
  return out;
}

/**
 * Each TypeScript import type (`import("./tensor").Tensor`) where the tree has an error around it:
 * the grammar reads `import("./t").Tensor` in a type as a member expression and fails on what may
 * follow a type there (`[]`, `<T>`). Its stand-in is one identifier of the same length
 * (`import_____t__Tensor`), which the reparsed tree must read as a type name: a dynamic `import()`
 * in an expression reads as an identifier there, not a type, and is left alone.
 */
function importTypes(text: string, tree: Tree, language: LanguageId): Replacement[] {
  if (language === 'javascript' || !text.includes('import(')) return [];
  const out: Replacement[] = [];
  // With members (`import("./t").Tensor[]`), or none after `typeof` (`importOriginal<typeof import('fs')>()`).
  for (const match of text.matchAll(/(?<![\w$.])import\((['"])[^'"\r\n]*\1\)(?:\.[A-Za-z_$][\w$]*)+|(?<=(?<![\w$.])typeof[ \t]+)import\((['"])[^'"\r\n]*\2\)(?![ \t]*\.)/g)) {
    const start = match.index;
    const end = start + match[0].length;
    let n: SyntaxNode | null = tree.rootNode.descendantForIndex(start, start + 6);
    let broken = false;
    for (let depth = 0; n && depth < 12 && !broken; depth++, n = n.parent) broken = n.type === 'ERROR' || n.hasError;
    if (!broken) continue;
    // A member type is a type name; `typeof import('fs')` a type query of a name (in an expression, `typeof` of a dynamic import, it is a unary operand and left alone).
    out.push({ start, end, accept: (node) => node.type === 'type_identifier' || (node.type === 'identifier' && node.parent?.type === 'type_query'), changes: 'all' });
    if (out.length >= 64) break;
  }
  return out;
}

/**
 * Each `type` of `export type * from '…'` or `export type * as ns from '…'` (TypeScript 5.0) inside an
 * error of the tree: its stand-in is blanks, and the reparsed tree must read an export statement there.
 */
function typeStarExports(text: string, tree: Tree, language: LanguageId): Replacement[] {
  if (language === 'javascript' || !text.includes('export')) return [];
  const out: Replacement[] = [];
  for (const match of text.matchAll(/(?<![\w$.])export[ \t]+(type)[ \t]*\*/g)) {
    const start = match.index + match[0].indexOf('type', 6);
    const end = start + 4;
    let n: SyntaxNode | null = tree.rootNode.descendantForIndex(start, end);
    let broken = false;
    for (let depth = 0; n && depth < 6 && !broken; depth++, n = n.parent) broken = n.type === 'ERROR' || n.hasError;
    if (!broken) continue;
    out.push({ start, end, accept: (node) => node.type === 'export_statement', changes: 'blank', inside: true });
    if (out.length >= 64) break;
  }
  return out;
}

/**
 * A generator member (`*[Symbol.iterator]()`, `*items()`) on the line after a class member written
 * without a semicolon (`abstract get length(): number`): valid TypeScript (a line break ends a
 * member), but the grammar's scanner inserts no semicolon before a line starting with `*`, reads a
 * multiplication and fails. The blank before the `*` becomes `;` in the copy, and the reparsed tree
 * must read it as a class body's separator followed by a method starting at the `*`.
 */
function generatorMembersAfterSignatures(text: string, tree: Tree, language: LanguageId): Replacement[] {
  if (language === 'javascript' || !text.includes('*')) return [];
  const out: Replacement[] = [];
  for (const match of text.matchAll(/(?<=[\r\n][ \t]*)[ \t]\*[ \t]*(?:\[|[A-Za-z_$#])/g)) {
    const start = match.index;
    const star = tree.rootNode.descendantForIndex(start + 1, start + 2);
    let broken = false;
    // An error around the `*`, or a missing separator the grammar put right before the member it starts.
    for (let n: SyntaxNode | null = star, depth = 0; n && depth < 4 && !broken; depth++, n = n.parent) {
      const before = n.previousSibling;
      broken = n.type === 'ERROR' || n.isMissing || (n.startIndex === start + 1 && before !== null && (before.isMissing || before.type === 'ERROR'));
    }
    if (!broken) continue;
    const accept = (node: SyntaxNode): boolean => node.type === ';' && node.parent?.type === 'class_body' && node.nextSibling?.type === 'method_definition' && node.nextSibling.startIndex === start + 1;
    out.push({ start, end: start + 1, accept, standIn: ';' });
    if (out.length >= 64) break;
  }
  return out;
}

/** The statement an identifier starts (`in_cache` of `in_cache.n = 2`), with no error around it. */
function statementStartedBy(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type !== 'identifier') return undefined;
  let n: SyntaxNode | null = node;
  for (let depth = 0; n && depth < 8; depth++, n = n.parent) {
    if (n.type === 'ERROR' || n.startIndex !== node.startIndex) return undefined;
    if (n.type === 'expression_statement' || n.type.endsWith('_statement') || n.type.endsWith('_declaration')) return n;
  }
  return undefined;
}

/** Each JSX attribute named with a reserved word, where the tsx grammar reads one. */
function reservedJsxAttributes(text: string, parseWith: ParseWith): Replacement[] {
  const out: Replacement[] = [];
  const tsx = parseWith(text, 'tsx');
  try {
    const cursor = tsx.walk();
    try {
      // Document order, without recursion: files may nest deeply.
      for (;;) {
        const node = cursor.currentNode;
        let descend = true;
        if (node.type === 'jsx_attribute') {
          descend = false;
          const name = node.firstChild;
          if (name && name.type === 'property_identifier' && RESERVED.has(text.slice(name.startIndex, name.endIndex))) {
            out.push({ start: name.startIndex, end: name.endIndex, accept: (n) => n.type === 'property_identifier' && n.parent?.type === 'jsx_attribute' });
          }
        }
        if (descend && cursor.gotoFirstChild()) continue;
        let moved = false;
        while (!(moved = cursor.gotoNextSibling())) if (!cursor.gotoParent()) break;
        if (!moved) break;
      }
    } finally {
      cursor.delete();
    }
  } finally {
    tsx.delete();
  }
  return out;
}

// ---------------------------------------------------------------- Python: continuation lines left of their statement

/**
 * A tree of `text` in which lines that continue a bracketed expression, indented left of the
 * statement they continue, are read as CPython reads them, or undefined when the text has none or
 * the new parse still has errors. Inside brackets CPython ignores indentation
 * (`if not (a.stride == b.stride and\n\t\t   a.depth == b.depth):` under a deeper `if`), but
 * tree-sitter-python's scanner emits a DEDENT at such a line when no closing bracket may come next
 * (after `and`, `+`, `,` in a subscript...), and the statement falls apart into errors. Each such
 * line's leading whitespace is replaced by as many tabs (eight columns each for the scanner, the same
 * offsets for everything else) and the copy parsed again; kept when it parses without an error, or with its first error after them.
 */
export function recoverBracketIndents(text: string, tree: Tree, parseWith: ParseWith): Tree | undefined {
  if (!tree.rootNode.hasError) return undefined;
  const runs = dedentedContinuations(text);
  if (runs.length === 0) return undefined;
  let copy = '';
  let at = 0;
  for (const r of runs) {
    copy += text.slice(at, r.start) + '\t'.repeat(r.end - r.start);
    at = r.end;
  }
  copy += text.slice(at);
  const candidate = parseWith(copy, 'python');
  // Kept when it reads without an error, or when its first error comes after the last line made tabs
  // (a real one, further on). Decided on the copy's parse alone: an incremental parse of the same
  // text, whose errors may be wrapped otherwise, gets the same answer.
  if (!candidate.rootNode.hasError || firstErrorAt(candidate) > runs[runs.length - 1].end) return candidate;
  candidate.delete();
  return undefined;
}

/** Where a tree's first ERROR or MISSING node starts, going only into nodes with errors. */
function firstErrorAt(tree: Tree): number {
  let node: SyntaxNode | null = tree.rootNode;
  for (let depth = 0; node && depth < 10000; depth++) {
    if (node.type === 'ERROR' || node.isMissing) return node.startIndex;
    let next: SyntaxNode | null = null;
    for (let i = 0; i < node.childCount; i++) {
      const c: SyntaxNode | null = node.child(i);
      if (c && (c.hasError || c.isMissing || c.type === 'ERROR')) {
        next = c;
        break;
      }
    }
    if (!next) return node.startIndex;
    node = next;
  }
  return 0;
}

/**
 * The leading whitespace of each line inside brackets that is narrower (spaces one column, tabs
 * eight, as tree-sitter-python counts them) than the first line of its logical line. A small lexer
 * skips comments and strings (triple-quoted ones over lines); a backslash at the end of a line
 * continues the logical line.
 */
export function dedentedContinuations(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let depth = 0;
  let statementWidth = 0;
  let continued = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // The start of a physical line.
    let j = i;
    let width = 0;
    while (j < n && (text[j] === ' ' || text[j] === '\t' || text[j] === '\f')) {
      width = text[j] === '\t' ? width + 8 : text[j] === ' ' ? width + 1 : 0;
      j++;
    }
    const blank = j >= n || text[j] === '\n' || text[j] === '\r' || text[j] === '#';
    if (depth === 0 && !continued) {
      if (!blank) statementWidth = width;
    } else if (depth > 0 && !blank && j > i && width < statementWidth && !text.slice(i, j).includes('\f')) out.push({ start: i, end: j });
    continued = false;
    // The rest of the line (a string may carry it over several lines).
    i = j;
    while (i < n && text[i] !== '\n') {
      const c = text[i];
      if (c === '#') {
        while (i < n && text[i] !== '\n') i++;
        break;
      }
      if (c === '"' || c === "'") {
        i = stringEnd(text, i);
        continue;
      }
      if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
        continued = true;
        i += text[i + 1] === '\r' ? 2 : 1;
        break;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
      i++;
    }
    i++; // the line break
  }
  return out;
}

/** The offset after the string literal whose quote is at `start` (a one-line string ends at its line's end at the latest). */
function stringEnd(text: string, start: number): number {
  const q = text[start];
  const triple = text.startsWith(q + q + q, start);
  const close = triple ? q + q + q : q;
  let i = start + close.length;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (!triple && c === '\n') return i;
    if (text.startsWith(close, i)) return i + close.length;
    i++;
  }
  return i;
}
