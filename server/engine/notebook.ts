// Jupyter notebooks: the Python cells are linted as one program, so a penalty defined in one
// cell and misused in another is found. Cells are concatenated in order, each starting on a new
// line at column 0, so a position maps back to its cell by line alone. IPython syntax that is not
// Python (`%magic`, `!shell`, `?help`, `%%bash` cells) is blanked with spaces, which keeps every
// offset and column. Pure: the CLI reads .ipynb files, the language server gets the cells over LSP.
import { lintProjectFile, lintText, type ForeignOutcome, type LintOptions } from './index';
import type { Project } from './project';
import { comparePositions } from './fixes';
import { pieceAtLine } from './cellLines';
import type { CellLines, Finding, Fix, LintOutcome, Position, Range, RelatedInfo, TextEdit } from './types';

export interface CellSource {
  /** The caller's id for the cell, e.g. its index among all cells of the notebook. */
  index: number;
  text: string;
}

export interface CellLayout {
  index: number;
  /** The cell's text as given. */
  text: string;
  /** Its first line in the concatenated text. */
  startLine: number;
  /** Lines it occupies there (its own lines; the separator line break belongs to the last one). */
  lineCount: number;
  /** Cell-relative lines that were blanked (magics and shell escapes). */
  blanked: Set<number>;
  /** Where the cell's text ends, in cell coordinates. */
  end: Position;
}

export interface ConcatenatedNotebook {
  text: string;
  cells: CellLayout[];
}

/** Cell magics whose body is still Python; any other `%%magic` (bash, html, writefile, ...) blanks its cell. */
const PYTHON_CELL_MAGICS = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'memit', 'mprun', 'pypy', 'python', 'python3']);

function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * IPython's line magics and shell aliases that its automagic runs without the `%` (`cd data/`,
 * `pip install torch`, `ls -la`): such a line is a command, unless the name is used as Python
 * (assigned, called, indexed, read as an attribute, compared, or written alone).
 */
const AUTOMAGIC = new Set([
  'cd', 'ls', 'pwd', 'pip', 'conda', 'mkdir', 'rmdir', 'rm', 'cp', 'mv', 'cat', 'less', 'more', 'man', 'env', 'run', 'load_ext',
  'reload_ext', 'matplotlib', 'timeit', 'who', 'whos', 'reset', 'pushd', 'popd', 'dirs', 'bookmark', 'alias', 'unalias', 'clear',
]);
const AUTOMAGIC_LINE = /^([A-Za-z_]\w*)[ \t]+(?![=(\[.,:;#]|[-+*\/%@&|^<>!]=|==|$)\S/;

function isMagicLine(line: string): boolean {
  const trimmed = line.trimStart();
  if (/^[%!?]/.test(trimmed)) return true;
  const automagic = AUTOMAGIC_LINE.exec(trimmed);
  if (automagic && AUTOMAGIC.has(automagic[1])) return true;
  // `obj?`, `obj??`, `np.sum?`, `x[0]?`, `model.layers[1].weight??`: IPython help.
  return /^[A-Za-z_][\w.]*(?:\[[^\]\n]*\][\w.]*)*\?{1,2}\s*$/.test(trimmed);
}

/** Where a scan of Python source stands at the end of a line: open brackets, an open string, a backslash continuation. */
interface LineState {
  depth: number;
  /** The quotes of a string still open: a triple-quoted one, or a one-quote string a backslash carries on. */
  quote: string | undefined;
  continued: boolean;
}

/** Scans one line of Python: brackets, strings and comments, enough to know whether the next line starts a logical line. */
function scanLine(line: string, state: LineState): LineState {
  let { depth, quote } = state;
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\') i += 2;
      else if (line.startsWith(quote, i)) {
        i += quote.length;
        quote = undefined;
      } else i++;
      continue;
    }
    if (ch === '#') break;
    if (ch === '"' || ch === "'") {
      quote = line.startsWith(ch.repeat(3), i) ? ch.repeat(3) : ch;
      i += quote.length;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
    i++;
  }
  const backslash = /\\$/.test(line);
  // A one-quote string ends with its line unless a backslash carries it on.
  if (quote && quote.length === 1 && !backslash) quote = undefined;
  return { depth, quote, continued: backslash && quote === undefined };
}

/**
 * The cell's text with magics blanked, and the blanked lines. Only a line that starts a logical
 * line can be IPython syntax: inside brackets or a string, or after a backslash, a leading `%` is
 * Python's modulo or format operator (`    % (a, b)`).
 */
function blankMagics(text: string): { text: string; blanked: Set<number> } {
  const lines = splitLines(text);
  const blanked = new Set<number>();
  const firstCode = lines.findIndex((line) => line.trim() !== '');
  const cellMagic = firstCode >= 0 ? /^\s*%%(\w+)/.exec(lines[firstCode]) : null;
  if (cellMagic && !PYTHON_CELL_MAGICS.has(cellMagic[1].toLowerCase())) {
    lines.forEach((_, i) => blanked.add(i));
  } else {
    let magicContinues = false;
    let state: LineState = { depth: 0, quote: undefined, continued: false };
    lines.forEach((line, i) => {
      if (magicContinues) {
        blanked.add(i);
        magicContinues = /\\\s*$/.test(line);
        return;
      }
      const logicalStart = state.depth === 0 && state.quote === undefined && !state.continued;
      if (logicalStart && isMagicLine(line)) {
        blanked.add(i);
        magicContinues = /\\\s*$/.test(line); // `!pip install \` continues on the next line
        return;
      }
      state = scanLine(line, state);
    });
  }
  if (blanked.size === 0) return { text, blanked };
  // Rebuild with the original line breaks, replacing each blanked line's characters by spaces.
  const parts = text.split(/(\r\n|\r|\n)/);
  for (let i = 0, line = 0; i < parts.length; i += 2, line++) {
    if (blanked.has(line)) parts[i] = ' '.repeat(parts[i].length);
  }
  return { text: parts.join(''), blanked };
}

function endOf(text: string): Position {
  const lines = splitLines(text);
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

export function concatenateCells(cells: readonly CellSource[]): ConcatenatedNotebook {
  let text = '';
  let line = 0;
  const layout: CellLayout[] = [];
  for (const cell of cells) {
    const { text: code, blanked } = blankMagics(cell.text);
    const piece = /(\r\n|\r|\n)$/.test(code) ? code : `${code}\n`;
    const lineCount = splitLines(piece).length - 1;
    layout.push({ index: cell.index, text: cell.text, startLine: line, lineCount, blanked, end: endOf(cell.text) });
    text += piece;
    line += lineCount;
  }
  return { text, cells: layout };
}

/** The cell that holds a line of the concatenated text. */
export function cellAtLine(notebook: ConcatenatedNotebook, line: number): CellLayout | undefined {
  return pieceAtLine(notebook.cells, line);
}

function clampToCell(cell: CellLayout, position: Position): Position {
  return comparePositions(position, cell.end) > 0 ? cell.end : position;
}

/**
 * A range of the concatenated text in cell coordinates, or undefined when it spans cells. An end
 * at the start of the next cell (a whole last line with its break) is clamped to the cell's end.
 */
export function locateRange(notebook: ConcatenatedNotebook, range: Range): { cell: CellLayout; range: Range } | undefined {
  const cell = cellAtLine(notebook, range.start.line);
  if (!cell) return undefined;
  const start = { line: range.start.line - cell.startLine, character: range.start.character };
  let endLine = range.end.line - cell.startLine;
  let endCharacter = range.end.character;
  if (endLine === cell.lineCount && endCharacter === 0) {
    endLine = cell.end.line;
    endCharacter = cell.end.character;
  } else if (endLine >= cell.lineCount) {
    return undefined;
  }
  return { cell, range: { start: clampToCell(cell, start), end: clampToCell(cell, { line: endLine, character: endCharacter }) } };
}

/** An edit in cell coordinates; undefined when it spans cells or touches a blanked magic line, which the cell still has. */
export function locateEdit(notebook: ConcatenatedNotebook, edit: TextEdit): { cell: CellLayout; edit: TextEdit } | undefined {
  const located = locateRange(notebook, edit.range);
  if (!located) return undefined;
  for (let line = located.range.start.line; line <= located.range.end.line; line++) {
    if (located.cell.blanked.has(line)) return undefined;
  }
  return { cell: located.cell, edit: { range: located.range, newText: edit.newText } };
}

/** How a cell is named in a message: by default its `index` + 1 (the CLI's `cell 3` is the third cell, markdown counted). */
export type CellLabel = (cell: CellLayout) => string | number;

const defaultLabel: CellLabel = (cell) => cell.index + 1;

/**
 * The cells of a notebook for `LintOptions.cells`: linted with them, its messages name a line as
 * the cell and its own line (`on line 3 of cell 5`) and a syntax error by its cell, as the rules
 * write them (`Facts.lineLabel`), so nothing is rewritten afterwards.
 */
export function cellLines(notebook: ConcatenatedNotebook, label: CellLabel = defaultLabel): CellLines[] {
  return notebook.cells.map((cell) => ({ startLine: cell.startLine, lineCount: cell.lineCount, label: label(cell) }));
}

export interface NotebookFinding extends Omit<Finding, 'related' | 'fix'> {
  /** The `index` of the cell the finding starts in. */
  cell: number;
  /** Places in the notebook have a `cell`; places in a module it imports have a `path` instead. */
  related: (RelatedInfo & { cell?: number })[];
  fix?: Omit<Fix, 'edits'> & { edits: (TextEdit & { cell: number })[] };
}

/** A finding of the concatenated text in cell coordinates; its fix is dropped when an edit cannot be mapped. */
export function toNotebookFinding(notebook: ConcatenatedNotebook, finding: Finding): NotebookFinding | undefined {
  const located = locateRange(notebook, finding.range) ?? locateRange(notebook, { start: finding.range.start, end: finding.range.start });
  if (!located) return undefined;
  const related: NotebookFinding['related'] = [];
  for (const info of finding.related) {
    if (info.path !== undefined) {
      related.push(info);
      continue;
    }
    const r = locateRange(notebook, info.range);
    if (r) related.push({ message: info.message, range: r.range, cell: r.cell.index });
  }
  const { fix: rawFix, related: _related, ...rest } = finding;
  void _related;
  let fix: NotebookFinding['fix'];
  if (rawFix) {
    const edits = rawFix.edits.map((edit) => locateEdit(notebook, edit));
    if (edits.every((e) => e !== undefined)) {
      fix = { title: rawFix.title, safety: rawFix.safety, edits: edits.map((e) => ({ ...e!.edit, cell: e!.cell.index })) };
    }
  }
  const out: NotebookFinding = { ...rest, range: located.range, cell: located.cell.index, related };
  if (rest.math) {
    const math = { ...rest.math };
    for (const key of ['site', 'update'] as const) {
      const range = math[key];
      if (!range) continue;
      const r = locateRange(notebook, range);
      if (r) math[key] = r.range;
      else delete math[key];
    }
    out.math = math;
  }
  if (fix) out.fix = fix;
  return out;
}

export interface NotebookOutcome {
  findings: NotebookFinding[];
  notices: LintOutcome['notices'];
  notebook: ConcatenatedNotebook;
  /** Findings in the project modules the notebook imports, when linted in its project. */
  foreign?: ForeignOutcome[];
}

/**
 * Lints the given Python cells as one program and maps the findings back to cells; messages name
 * cells by `label`. In a project (`inProject`: the notebook's path in it), the cells' imports of
 * the project's own modules are read, as for a .py file there, so a mistake spread over a notebook
 * and the package it imports is found.
 */
export function lintCells(
  cells: readonly CellSource[],
  options: Omit<LintOptions, 'language' | 'cells'> & { maxFileSize?: number },
  label: CellLabel = defaultLabel,
  inProject?: { project: Project; path: string },
): NotebookOutcome {
  const notebook = concatenateCells(cells);
  const cellOptions = { ...options, language: 'python' as const, cells: cellLines(notebook, label) };
  const linted = inProject ? lintProjectFile(inProject.project, inProject.path, notebook.text, cellOptions) : { outcome: lintText(notebook.text, cellOptions), foreign: undefined };
  const findings: NotebookFinding[] = [];
  for (const finding of linted.outcome.findings) {
    const mapped = toNotebookFinding(notebook, finding);
    if (mapped) findings.push(mapped);
  }
  return { findings, notices: linted.outcome.notices, notebook, ...(linted.foreign ? { foreign: linted.foreign } : {}) };
}

// ---------------------------------------------------------------------------------------------
// The .ipynb format. nbformat 4: JSON with a `cells` list; a cell's `source` is a string or a list
// of lines. nbformat 3 (old course notebooks): the cells are in `worksheets[i].cells`, a code cell's
// text is its `input` and its language its own `language` field; cells are numbered across the
// worksheets in order, as Jupyter shows them when it converts the file.

export interface IpynbCell {
  /** Position among all cells, markdown included (0-based). */
  index: number;
  kind: string;
  source: string;
}

export type ParsedIpynb = { ok: true; cells: IpynbCell[]; language: string } | { ok: false; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sourceText(source: unknown): string {
  if (Array.isArray(source)) return source.map((s) => (typeof s === 'string' ? s : '')).join('');
  return typeof source === 'string' ? source : '';
}

export function parseIpynb(json: string): ParsedIpynb {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    return { ok: false, message: `not a valid notebook: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (isRecord(data) && !Array.isArray(data.cells) && Array.isArray(data.worksheets)) return parseIpynb3(data.worksheets);
  if (!isRecord(data) || !Array.isArray(data.cells)) return { ok: false, message: 'not a Jupyter notebook (no "cells" list)' };
  const metadata = isRecord(data.metadata) ? data.metadata : {};
  // An empty name declares nothing (some front ends write `"name": ""`): the next source decides, then Python.
  const declared = (x: unknown): string | undefined => (typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined);
  const kernel = isRecord(metadata.kernelspec) ? declared(metadata.kernelspec.language) : undefined;
  const info = isRecord(metadata.language_info) ? declared(metadata.language_info.name) : undefined;
  const language = kernel ?? info ?? 'python';
  const cells = data.cells.map((cell, index) => ({
    index,
    kind: isRecord(cell) && typeof cell.cell_type === 'string' ? cell.cell_type : 'unknown',
    source: isRecord(cell) ? sourceText(cell.source) : '',
  }));
  return { ok: true, cells, language: language.toLowerCase() };
}

/** The cell records of an nbformat 3 notebook, across its worksheets in order. */
function cells3(worksheets: unknown[]): unknown[] {
  return worksheets.flatMap((sheet) => (isRecord(sheet) && Array.isArray(sheet.cells) ? sheet.cells : []));
}

/** Where an nbformat 3 cell keeps its text: `input` for code, `source` for the rest. */
function textKey3(cell: Record<string, unknown>): 'input' | 'source' {
  return cell.cell_type === 'code' ? 'input' : 'source';
}

function parseIpynb3(worksheets: unknown[]): ParsedIpynb {
  const records = cells3(worksheets);
  const cells = records.map((cell, index) => ({
    index,
    kind: isRecord(cell) && typeof cell.cell_type === 'string' ? cell.cell_type : 'unknown',
    source: isRecord(cell) ? sourceText(cell[textKey3(cell)]) : '',
  }));
  // The first code cell that names its language decides, else Python (the only language nbformat 3 notebooks were written in by default).
  const named = records.find((cell) => isRecord(cell) && cell.cell_type === 'code' && typeof cell.language === 'string' && cell.language.trim() !== '');
  const language = isRecord(named) && typeof named.language === 'string' ? named.language.trim() : 'python';
  return { ok: true, cells, language: language.toLowerCase() };
}

/** The code cells of a parsed notebook, ready for `lintCells`. */
export function codeCells(cells: readonly IpynbCell[]): CellSource[] {
  return cells.filter((cell) => cell.kind === 'code').map((cell) => ({ index: cell.index, text: cell.source }));
}

/** Splits a cell's text the way Jupyter stores it: lines that keep their line break. */
function sourceLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * The notebook JSON with new sources for some cells (by index), keeping everything else and the
 * file's indentation and final line break.
 */
export function replaceIpynbSources(json: string, sources: ReadonlyMap<number, string>): string {
  const data = JSON.parse(json) as { cells?: Record<string, unknown>[]; worksheets?: unknown[] };
  const v3 = !Array.isArray(data.cells) && Array.isArray(data.worksheets);
  const cells = (v3 ? cells3(data.worksheets!) : data.cells ?? []) as Record<string, unknown>[];
  for (const [index, text] of sources) {
    const cell = cells[index];
    if (!isRecord(cell)) continue;
    const key = v3 ? textKey3(cell) : 'source';
    cell[key] = Array.isArray(cell[key]) || cell[key] === undefined ? sourceLines(text) : text;
  }
  const indent = /^\{\r?\n([ \t]+)"/.exec(json)?.[1];
  const eol = /\r\n/.test(json) ? '\r\n' : '\n';
  let out = JSON.stringify(data, null, indent ?? undefined);
  if (eol === '\r\n') out = out.replace(/\n/g, '\r\n');
  return /\r?\n$/.test(json) ? out + eol : out;
}
