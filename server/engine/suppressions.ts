// Suppression comments, applied by `lintText` after the rules ran, so the CLI and the language
// server agree on what is suppressed:
//
//   Python                                 TypeScript / JavaScript
//   x  # nabla: ignore[NB101, NB102]       x  // nabla-ignore NB101, NB102
//   x  # nabla: ignore                     x  // nabla-ignore              (every code)
//   # nabla: ignore-next-line[NB101]       // nabla-ignore-next-line NB101
//   # nabla: ignore-file[NB101]            // nabla-ignore-file NB101      (anywhere; no codes: all)
//
// A line directive covers findings that start on its line (`ignore-next-line`: on the line after
// the comment). Both spellings are accepted in both languages, codes either in brackets or as a
// bare list, and text after the codes (a reason) is allowed. Comments are found with tree-sitter,
// so `"# nabla: ignore"` inside a string is not a directive. A directive that suppresses nothing
// is reported as NB001 (unused-suppression, like Ruff's RUF100) with a safe fix that removes it.
import type { Node, Tree } from 'web-tree-sitter';
import { LineIndex } from './lineIndex';
import { parse, query } from './parse';
import type { Finding, LanguageId, Severity, TextEdit } from './types';

/** The code of the finding for a suppression that suppresses nothing. */
export const UNUSED_SUPPRESSION = 'NB001';

export interface Comment {
  start: number;
  end: number;
  text: string;
}

export type DirectiveKind = 'line' | 'next-line' | 'file';

export interface DirectiveCode {
  /** Upper-cased. */
  code: string;
  start: number;
  end: number;
}

export interface Directive {
  kind: DirectiveKind;
  /** Undefined: every code (a blanket directive). */
  codes?: DirectiveCode[];
  /** Where the code list is, and whether it is in brackets (`[NB101]`) or bare (`NB101`). */
  list?: { start: number; end: number; bracketed: boolean };
  /** The directive's text in the file, from its comment marker to the end of its codes. */
  start: number;
  end: number;
  comment: Comment;
  /** For `line` and `next-line`: the 0-based line whose findings it covers. */
  line: number;
}

/** Nodes whose text is not code: a line break inside one of them cannot take a comment. */
const TEXT_LIKE = new Set([
  'comment',
  'string',
  'string_content',
  'string_fragment',
  'template_string',
  'regex',
  'jsx_text',
  'jsx_element',
  'jsx_opening_element',
  'jsx_closing_element',
  'jsx_self_closing_element',
]);
/** Code nested in text-like nodes: template `${...}` and JSX `{...}`. */
const CODE_IN_TEXT = new Set(['template_substitution', 'jsx_expression']);

/** Comments that mention nabla, in document order: the comment nodes of the tree, so text in a string is never taken for one. */
export function nablaComments(tree: Tree, text: string): Comment[] {
  const comments: Comment[] = [];
  if (!/nabla/i.test(text)) return comments; // most files: no query at all
  for (const { node } of query(tree.language, '(comment) @comment').captures(tree.rootNode)) {
    const start = node.startIndex;
    let end = node.endIndex;
    if (!/nabla/i.test(text.slice(start, end))) continue;
    while (end > start && (text[end - 1] === '\r' || text[end - 1] === '\n')) end--; // a line comment may end with a \r
    comments.push({ start, end, text: text.slice(start, end) });
  }
  return comments;
}

const DIRECTIVE = /(#|\/\/|\/\*)[ \t]*nabla(?:[ \t]*:[ \t]*|-)(ignore-next-line|ignore-file|ignore)(?![\w-])/gi;
const BARE_CODES = /^[ \t]+([A-Za-z]+[0-9]+(?:[ \t]*,[ \t]*[A-Za-z]+[0-9]+)*)/;

function codesIn(list: string, base: number): DirectiveCode[] {
  const codes: DirectiveCode[] = [];
  const token = /[^\s,]+/g;
  for (let m = token.exec(list); m; m = token.exec(list)) {
    codes.push({ code: m[0].toUpperCase(), start: base + m.index, end: base + m.index + m[0].length });
  }
  return codes;
}

/** The directives in the comments (a comment may hold more than one, e.g. after `# type: ignore`). */
export function parseDirectives(comments: readonly Comment[], lines: LineIndex): Directive[] {
  const directives: Directive[] = [];
  for (const comment of comments) {
    const body = comment.text;
    DIRECTIVE.lastIndex = 0;
    for (let m = DIRECTIVE.exec(body); m; m = DIRECTIVE.exec(body)) {
      const keyword = m[2].toLowerCase();
      const kind: DirectiveKind = keyword === 'ignore' ? 'line' : keyword === 'ignore-file' ? 'file' : 'next-line';
      let end = m.index + m[0].length;
      const rest = body.slice(end);
      let codes: DirectiveCode[] | undefined;
      let list: Directive['list'];
      const bracket = /^[ \t]*\[/.exec(rest);
      if (bracket) {
        const close = rest.indexOf(']', bracket[0].length);
        const newline = rest.search(/[\r\n]/);
        if (close < 0 || (newline >= 0 && newline < close)) continue; // `[NB101` without `]`: not a directive
        const listStart = end + bracket[0].length;
        const listEnd = end + close;
        codes = codesIn(body.slice(listStart, listEnd), comment.start + listStart);
        list = { start: comment.start + listStart, end: comment.start + listEnd, bracketed: true };
        end = listEnd + 1;
      } else {
        const bare = BARE_CODES.exec(rest);
        if (bare) {
          const listStart = end + bare[0].length - bare[1].length;
          codes = codesIn(bare[1], comment.start + listStart);
          list = { start: comment.start + listStart, end: comment.start + listStart + bare[1].length, bracketed: false };
          end = listStart + bare[1].length;
        }
      }
      const start = comment.start + m.index;
      const startLine = lines.position(start).line;
      const endLine = lines.position(comment.end).line;
      directives.push({
        kind,
        codes,
        list,
        start,
        end: comment.start + end,
        comment,
        line: kind === 'next-line' ? endLine + 1 : kind === 'line' ? startLine : -1,
      });
      DIRECTIVE.lastIndex = end;
    }
  }
  return directives;
}

/** What the suppression pass needs to know about the run. */
export interface SuppressionContext {
  text: string;
  lines: LineIndex;
  directives: readonly Directive[];
  /** Whether a code is a registered rule. */
  isRule(code: string): boolean;
  /** Whether a rule ran to completion in this run (enabled and did not crash): only then can its suppressions be judged. */
  wasChecked(code: string): boolean;
  /** Every rule other than NB001 was checked: only then can a blanket directive be judged. */
  allChecked: boolean;
  /** NB001's severity when it is enabled and unused directives can be judged (no syntax errors); otherwise undefined. */
  unusedSeverity?: Severity;
  /** Told of each directive that suppressed something, with the codes it suppressed. */
  onUsed?: (directive: Directive, codes: Set<string>) => void;
}

function covers(directive: Directive, code: string): boolean {
  return directive.codes === undefined || directive.codes.some((c) => c.code === code);
}

function list(codes: readonly string[]): string {
  if (codes.length <= 1) return codes.join('');
  return `${codes.slice(0, -1).join(', ')} or ${codes[codes.length - 1]}`;
}

const where: Record<DirectiveKind, string> = { line: 'on this line', 'next-line': 'on the next line', file: 'in this file' };

/** Removes findings that a directive covers, then reports directives that covered nothing. */
export function applySuppressions(findings: readonly Finding[], context: SuppressionContext): Finding[] {
  const { directives } = context;
  if (directives.length === 0) return [...findings];
  const byLine = new Map<number, Directive[]>();
  const fileWide: Directive[] = [];
  for (const directive of directives) {
    if (directive.kind === 'file') fileWide.push(directive);
    else byLine.set(directive.line, [...(byLine.get(directive.line) ?? []), directive]);
  }
  const used = new Map<Directive, Set<string>>();
  const suppressor = (finding: Finding, explicitOnly: boolean): Directive | undefined => {
    const candidates = [...(byLine.get(finding.range.start.line) ?? []), ...fileWide];
    return candidates.find((d) => (explicitOnly ? d.codes !== undefined : true) && covers(d, finding.code));
  };

  const kept: Finding[] = [];
  for (const finding of findings) {
    const directive = suppressor(finding, false);
    if (!directive) {
      kept.push(finding);
      continue;
    }
    const codes = used.get(directive) ?? new Set<string>();
    codes.add(finding.code);
    used.set(directive, codes);
  }

  if (context.onUsed) for (const [directive, codes] of used) context.onUsed(directive, codes);
  if (context.unusedSeverity === undefined) return kept;
  for (const directive of directives) {
    const unused = unusedFinding(directive, used.get(directive), context, context.unusedSeverity);
    // NB001 is suppressed only by a directive that names it (this one included): a blanket one would suppress itself.
    const namesItself = directive.codes?.some((c) => c.code === UNUSED_SUPPRESSION);
    if (unused && !namesItself && !suppressor(unused, true)) kept.push(unused);
  }
  return kept;
}

function unusedFinding(directive: Directive, used: Set<string> | undefined, context: SuppressionContext, severity: Severity): Finding | undefined {
  const range = context.lines.range({ start: directive.start, end: directive.end });
  const base = { code: UNUSED_SUPPRESSION, severity, range, related: [] };
  if (directive.codes === undefined) {
    if (used || !context.allChecked) return undefined;
    return {
      ...base,
      message: `unused suppression: there is no finding ${where[directive.kind]} to suppress`,
      fix: { title: 'Remove the unused suppression', safety: 'safe', edits: [removeDirective(context.text, directive, context.lines)] },
    };
  }
  const unknown: string[] = [];
  const unusedCodes: string[] = [];
  const keep: string[] = [];
  for (const { code } of directive.codes) {
    if (!context.isRule(code)) unknown.push(code);
    else if (code !== UNUSED_SUPPRESSION && context.wasChecked(code) && !used?.has(code)) unusedCodes.push(code);
    else keep.push(code);
  }
  if (unknown.length === 0 && unusedCodes.length === 0) return undefined;
  const parts: string[] = [];
  if (unusedCodes.length > 0) parts.push(`there is no ${list(unusedCodes)} finding ${where[directive.kind]}`);
  if (unknown.length > 0) parts.push(`${list(unknown)} ${unknown.length === 1 ? 'is not a rule code' : 'are not rule codes'}`);
  const message = `unused suppression: ${parts.join('; ')}`;
  if (keep.length === 0 || !directive.list) {
    return { ...base, message, fix: { title: 'Remove the unused suppression', safety: 'safe', edits: [removeDirective(context.text, directive, context.lines)] } };
  }
  const dropped = [...unusedCodes, ...unknown];
  return {
    ...base,
    message,
    fix: {
      title: `Remove ${list(dropped).replace(' or ', ' and ')} from the suppression`,
      safety: 'safe',
      edits: [{ range: context.lines.range(directive.list), newText: keep.join(', ') }],
    },
  };
}

function lineStartOf(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && text[i - 1] !== '\n' && text[i - 1] !== '\r') i--;
  return i;
}

function lineEndOf(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  return i;
}

/** After the line break at `lineEnd` (\r\n, \n or \r). */
function afterBreak(text: string, lineEnd: number): number {
  if (text[lineEnd] === '\r' && text[lineEnd + 1] === '\n') return lineEnd + 2;
  return lineEnd < text.length ? lineEnd + 1 : lineEnd;
}

/** The edit that removes a directive: the whole line when the comment is alone on it, else the comment and the spaces before it. */
export function removeDirective(text: string, directive: Directive, lines: LineIndex): TextEdit {
  const { comment } = directive;
  const block = comment.text.startsWith('/*');
  const startsComment = directive.start === comment.start;
  const remove = (start: number, end: number, newText = ''): TextEdit => ({ range: lines.range({ start, end }), newText });
  let start = directive.start;
  let end = startsComment || !block ? comment.end : directive.end;
  if (!startsComment && block) {
    // `/* note  nabla-ignore NB101 */`: only the directive goes.
    while (start > comment.start && /[ \t]/.test(text[start - 1])) start--;
    return remove(start, end);
  }
  const lineStart = lineStartOf(text, start);
  const lineEnd = lineEndOf(text, end);
  const before = text.slice(lineStart, start);
  const after = text.slice(end, lineEnd);
  if (startsComment && before.trim() === '' && after.trim() === '') {
    // Alone on its line: remove the line with its line break (or the break before it, on the last line).
    const next = afterBreak(text, lineEnd);
    if (next > lineEnd) return remove(lineStart, next);
    if (lineStart > 0) {
      const previousEnd = text[lineStart - 2] === '\r' && text[lineStart - 1] === '\n' ? lineStart - 2 : lineStart - 1;
      return remove(previousEnd, lineEnd);
    }
    return remove(lineStart, lineEnd);
  }
  while (start > lineStart && /[ \t]/.test(text[start - 1])) start--;
  if (after.trim() !== '') {
    // Code follows a block comment: keep a space only where the tokens on either side would merge.
    while (end < lineEnd && /[ \t]/.test(text[end])) end++;
    const merge = start > lineStart && /[\w$]/.test(text[start - 1]) && /[\w$]/.test(text[end]);
    return remove(start, end, merge ? ' ' : '');
  }
  return remove(start, end);
}

// ---------------------------------------------------------------------------------------------
// Adding a suppression (the "Ignore NB101 on this line" code action).

/** Whether a comment can go right before the line break at `offset`: it is not inside a string, template, JSX text or comment. */
function breakTakesComment(tree: Tree, offset: number): boolean {
  let node: Node | null = tree.rootNode.descendantForIndex(offset, offset + 1);
  while (node) {
    if (CODE_IN_TEXT.has(node.type)) return true;
    if (TEXT_LIKE.has(node.type) && node.startIndex < offset && node.endIndex > offset) return false;
    node = node.parent;
  }
  return true;
}

function lineBounds(text: string, lines: LineIndex, line: number): { start: number; end: number } | undefined {
  const start = lines.lineStart(line);
  return start === undefined ? undefined : { start, end: lineEndOf(text, start) };
}

function isPython(language: LanguageId): boolean {
  return language === 'python';
}

function directiveText(language: LanguageId, kind: DirectiveKind, code: string): string {
  const keyword = kind === 'line' ? 'ignore' : kind === 'file' ? 'ignore-file' : 'ignore-next-line';
  return isPython(language) ? `# nabla: ${keyword}[${code}]` : `// nabla-${keyword} ${code}`;
}

/** Adds `code` to an existing directive's list. */
function extendDirective(directive: Directive, code: string, lines: LineIndex): TextEdit | undefined {
  if (!directive.codes || !directive.list) return undefined;
  if (directive.codes.some((c) => c.code === code)) return undefined;
  const at = directive.list.end;
  const newText = directive.codes.length === 0 ? code : `, ${code}`;
  return { range: lines.range({ start: at, end: at }), newText };
}

/**
 * The edit that suppresses `code` on `line` (0-based): extends a directive already there, or
 * appends a comment to the line, or (when the line ends inside a string or after a line
 * continuation) puts an `ignore-next-line` comment above it. Undefined when no comment can go
 * there safely or the code is already suppressed. `initEngine()` must have resolved.
 */
export function suppressionEdit(text: string, language: LanguageId, line: number, code: string, scope: 'line' | 'file' = 'line'): TextEdit | undefined {
  const tree = parse(text, language);
  try {
    return suppressionEditor(tree, text, language)(line, code, scope);
  } finally {
    tree.delete();
  }
}

/** Makes `suppressionEdit`s for one text from its tree (which must be of exactly this text), the comments read once. */
export type SuppressionEditor = (line: number, code: string, scope: 'line' | 'file') => TextEdit | undefined;

export function suppressionEditor(tree: Tree, text: string, language: LanguageId): SuppressionEditor {
  const lines = new LineIndex(text);
  const directives = parseDirectives(nablaComments(tree, text), lines);
  return (line, code, scope) => {
    code = code.toUpperCase();
    if (scope === 'file') return fileSuppressionEdit(text, language, code, directives, lines);
    const here = directives.filter((d) => d.kind !== 'file' && d.line === line);
    if (here.some((d) => d.codes === undefined || d.codes.some((c) => c.code === code))) return undefined;
    const withList = here.find((d) => d.kind === 'line' && d.codes && d.list) ?? here.find((d) => d.codes && d.list);
    if (withList) return extendDirective(withList, code, lines);

    const bounds = lineBounds(text, lines, line);
    if (!bounds) return undefined;
    const lineText = text.slice(bounds.start, bounds.end);
    const continued = isPython(language) && /\\\s*$/.test(lineText);
    if (!continued && (bounds.end >= text.length || breakTakesComment(tree, bounds.end))) {
      const trimmedEnd = bounds.start + lineText.replace(/\s+$/, '').length;
      return { range: lines.range({ start: trimmedEnd, end: bounds.end }), newText: `  ${directiveText(language, 'line', code)}` };
    }
    // Above the line: the break before it must take a comment, and in Python the line above must not continue into it.
    if (line > 0) {
      const above = lineBounds(text, lines, line - 1);
      if (!above || !breakTakesComment(tree, above.end)) return undefined;
      if (isPython(language) && /\\\s*$/.test(text.slice(above.start, above.end))) return undefined;
    }
    const indent = /^[ \t]*/.exec(lineText)?.[0] ?? '';
    const eol = /\r\n/.test(text) ? '\r\n' : '\n';
    return { range: lines.range({ start: bounds.start, end: bounds.start }), newText: `${indent}${directiveText(language, 'next-line', code)}${eol}` };
  };
}

function fileSuppressionEdit(text: string, language: LanguageId, code: string, directives: Directive[], lines: LineIndex): TextEdit | undefined {
  const fileWide = directives.filter((d) => d.kind === 'file');
  if (fileWide.some((d) => d.codes === undefined || d.codes.some((c) => c.code === code))) return undefined;
  const withList = fileWide.find((d) => d.codes && d.list);
  if (withList) return extendDirective(withList, code, lines);
  // After a shebang and (Python) an encoding declaration, which must stay on the first lines.
  let line = 0;
  for (;;) {
    const bounds = lineBounds(text, lines, line);
    if (!bounds || bounds.end >= text.length) break;
    const lineText = text.slice(bounds.start, bounds.end);
    const header = (line === 0 && lineText.startsWith('#!')) || (isPython(language) && line < 2 && /^[ \t\f]*#.*?coding[:=]/.test(lineText));
    if (!header) break;
    line++;
  }
  const at = lines.lineStart(line) ?? text.length;
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  const prefix = at === text.length && at > 0 && !/[\r\n]$/.test(text) ? eol : '';
  return { range: lines.range({ start: at, end: at }), newText: `${prefix}${directiveText(language, 'file', code)}${eol}` };
}
