// Every conversion between engine data (server/engine/types.ts) and LSP types lives here, as
// rust-analyzer keeps its in to_proto.rs. Engine ranges are already 0-based lines and UTF-16
// columns, so positions copy across unchanged; what differs is shape and enums.
import {
  DiagnosticSeverity,
  DiagnosticTag,
  MarkupKind,
  MessageType,
  type Diagnostic,
  type DiagnosticRelatedInformation,
  type Hover,
  type Position,
  type Range,
  type TextEdit,
} from 'vscode-languageserver';
import { docsUrl, locateRange, UNUSED_SUPPRESSION } from '../engine';
import type * as engine from '../engine';
import type { Explanation } from '../engine/explain';
import { locateEdit } from '../engine/notebook';
import { explanationToMarkdown } from './hoverMarkdown';
import type { NablaSettings } from './settings';

/** The `source` of every diagnostic the server publishes. */
export const DIAGNOSTIC_SOURCE = 'nabla';

/** A fix carried in `Diagnostic.data`, already in LSP shape, for code actions. */
export interface FixData {
  title: string;
  safety: engine.FixSafety;
  edits: TextEdit[];
}

/** The edits of "Ignore NBxxx on this line" and "Ignore NBxxx in this file", made when the diagnostic is. */
export interface IgnoreData {
  line?: TextEdit;
  file?: TextEdit;
}

/** What the server stores in `Diagnostic.data`; code actions and hovers read it back. */
export interface DiagnosticData {
  fix?: FixData;
  math?: engine.FindingMath;
  /** Absent for NB001 (remove the comment instead: its fix) and where no comment can go. */
  ignore?: IgnoreData;
}

export function toSeverity(severity: engine.Severity): DiagnosticSeverity {
  switch (severity) {
    case 'error':
      return DiagnosticSeverity.Error;
    case 'warning':
      return DiagnosticSeverity.Warning;
    case 'information':
      return DiagnosticSeverity.Information;
    case 'hint':
      return DiagnosticSeverity.Hint;
  }
}

export function toPosition(position: engine.Position): Position {
  return { line: position.line, character: position.character };
}

export function toRange(range: engine.Range): Range {
  return { start: toPosition(range.start), end: toPosition(range.end) };
}

export function toTextEdit(edit: engine.TextEdit): TextEdit {
  return { range: toRange(edit.range), newText: edit.newText };
}

/** A related place: in the finding's document `uri`, or in the project file `related.path` names. */
export function toRelatedInformation(related: engine.RelatedInfo, uri: string): DiagnosticRelatedInformation {
  return { location: { uri: related.path !== undefined ? pathToUri(related.path) : uri, range: toRange(related.range) }, message: related.message };
}

/** A project path (absolute, `/` separators) as a `file:` URI. */
export function pathToUri(path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return /^[A-Za-z]:/.test(path) ? `file:///${encoded.replace('%3A', ':')}` : `file://${encoded}`;
}

export function toDiagnosticData(finding: engine.Finding, ignore?: IgnoreData): DiagnosticData | undefined {
  if (!finding.fix && !finding.math && !ignore) return undefined;
  const data: DiagnosticData = {};
  if (finding.fix) {
    data.fix = { title: finding.fix.title, safety: finding.fix.safety, edits: finding.fix.edits.map(toTextEdit) };
  }
  if (finding.math) data.math = { ...finding.math };
  if (ignore) data.ignore = ignore;
  return data;
}

/**
 * The suppression edits for a finding, from the document's suppression editor: none for NB001
 * (suppressing it would only hide a comment behind another comment).
 */
export function toIgnoreData(code: string, line: number, editor: engine.SuppressionEditor, fileEdits: Map<string, engine.TextEdit | undefined>): IgnoreData | undefined {
  if (code === UNUSED_SUPPRESSION) return undefined;
  const onLine = editor(line, code, 'line');
  // The file-wide edit is the same for every finding of a code.
  if (!fileEdits.has(code)) fileEdits.set(code, editor(0, code, 'file'));
  const inFile = fileEdits.get(code);
  if (!onLine && !inFile) return undefined;
  const ignore: IgnoreData = {};
  if (onLine) ignore.line = toTextEdit(onLine);
  if (inFile) ignore.file = toTextEdit(inFile);
  return ignore;
}

/**
 * One finding in the document `uri` as an LSP diagnostic; with `ignore`, the suppression edits
 * computed for it.
 */
export function toDiagnostic(finding: engine.Finding, uri: string, ignore?: IgnoreData): Diagnostic {
  const diagnostic: Diagnostic = {
    range: toRange(finding.range),
    severity: toSeverity(finding.severity),
    code: finding.code,
    codeDescription: { href: docsUrl(finding.code) },
    source: DIAGNOSTIC_SOURCE,
    message: finding.message,
  };
  if (finding.related.length > 0) {
    diagnostic.relatedInformation = finding.related.map((related) => toRelatedInformation(related, uri));
  }
  // An unused suppression is dead text: editors fade it, as they do unused imports.
  if (finding.code === UNUSED_SUPPRESSION) diagnostic.tags = [DiagnosticTag.Unnecessary];
  const data = toDiagnosticData(finding, ignore);
  if (data) diagnostic.data = data;
  return diagnostic;
}

/** A document's findings as diagnostics; with a suppression editor of its text, each carries its "Ignore …" edits. */
export function toDiagnostics(findings: readonly engine.Finding[], uri: string, ignore?: engine.SuppressionEditor): Diagnostic[] {
  const fileEdits = new Map<string, engine.TextEdit | undefined>();
  return findings.map((finding) => toDiagnostic(finding, uri, ignore && toIgnoreData(finding.code, finding.range.start.line, ignore, fileEdits)));
}

/** Reads `Diagnostic.data` back, tolerating diagnostics from older servers or other sources. */
export function fromDiagnosticData(data: unknown): DiagnosticData {
  if (typeof data !== 'object' || data === null) return {};
  const { fix, math, ignore } = data as DiagnosticData;
  const result: DiagnosticData = {};
  if (fix && typeof fix.title === 'string' && Array.isArray(fix.edits)) result.fix = fix;
  if (math && typeof math === 'object') result.math = math;
  // Diagnostics published before the edits were carried here (a client's from an older server) have none: no "Ignore …" actions until they are published again.
  if (ignore && typeof ignore === 'object') {
    const edits: IgnoreData = {};
    if (isTextEdit(ignore.line)) edits.line = ignore.line;
    if (isTextEdit(ignore.file)) edits.file = ignore.file;
    if (edits.line || edits.file) result.ignore = edits;
  }
  return result;
}

function isTextEdit(edit: unknown): edit is TextEdit {
  return typeof edit === 'object' && edit !== null && typeof (edit as TextEdit).newText === 'string' && typeof (edit as TextEdit).range === 'object' && (edit as TextEdit).range !== null;
}

/** An explanation (server/engine/explain.ts) as an LSP hover: its markdown (hoverMarkdown.ts) over its range. */
export function toHover(ex: Explanation): Hover {
  return { contents: { kind: MarkupKind.Markdown, value: explanationToMarkdown(ex) }, range: toRange(ex.range) };
}

// ------------------------------------------------------------------ notebooks

/** A notebook's layout (engine/notebook.ts) with its cells' URIs, by the `index` given to `concatenateCells`. */
export interface CellLayout extends engine.ConcatenatedNotebook {
  cellUris: string[];
  /** Each layout cell's 1-based position among all the notebook's cells, markdown included: how messages name it. */
  cellNumbers?: number[];
}

/** How messages name a cell of the layout: its position in the notebook. */
export function cellLabel(layout: CellLayout): engine.CellLabel {
  return (cell) => layout.cellNumbers?.[cell.index] ?? cell.index + 1;
}

/**
 * A diagnostic of a notebook (ranges in the concatenation of its cells) as a diagnostic of the
 * cell it starts in: related places mapped to their cells, a fix kept only when all its edits stay
 * in that cell (and off magic lines), math ranges mapped or dropped. The "Ignore …" edits are made
 * per cell afterwards (`withIgnoreEdits`), since a cell is what the user edits.
 */
export function toCellDiagnostic(layout: CellLayout, diagnostic: Diagnostic): { uri: string; diagnostic: Diagnostic } | undefined {
  const located = locateRange(layout, diagnostic.range) ?? locateRange(layout, { start: diagnostic.range.start, end: diagnostic.range.start });
  if (!located) return undefined;
  const uri = layout.cellUris[located.cell.index];
  const out: Diagnostic = { ...diagnostic, range: located.range };
  if (diagnostic.relatedInformation) {
    const related: DiagnosticRelatedInformation[] = [];
    for (const info of diagnostic.relatedInformation) {
      const r = locateRange(layout, info.location.range);
      if (r) related.push({ message: info.message, location: { uri: layout.cellUris[r.cell.index], range: r.range } });
    }
    if (related.length > 0) out.relatedInformation = related;
    else delete out.relatedInformation;
  }
  if (diagnostic.data !== undefined) {
    const data: Record<string, unknown> = { ...(diagnostic.data as Record<string, unknown>) };
    delete data.ignore;
    const parsed = fromDiagnosticData(diagnostic.data);
    if (parsed.fix) {
      const edits = parsed.fix.edits.map((edit) => locateEdit(layout, edit));
      // A quick fix edits the cell it is shown in; one reaching into another cell (or a magic line) is dropped.
      if (edits.every((e) => e !== undefined && e.cell.index === located.cell.index)) data.fix = { ...parsed.fix, edits: edits.map((e) => e!.edit) };
      else delete data.fix;
    }
    if (parsed.math) data.math = cellMath(layout, parsed.math);
    out.data = data;
  }
  return { uri, diagnostic: out };
}

/**
 * An explanation of a notebook (ranges in the concatenation of its cells) as one of the cell
 * `index`: its ranges in that cell's coordinates. Undefined when the place it explains is not in
 * that cell; a finding or formula elsewhere is left out.
 */
export function toCellExplanation(layout: CellLayout, index: number, ex: Explanation): Explanation | undefined {
  const inCell = (range: engine.Range): engine.Range | undefined => {
    const located = locateRange(layout, range);
    return located && located.cell.index === index ? located.range : undefined;
  };
  const range = inCell(ex.range);
  if (!range) return undefined;
  const findings = ex.findings.flatMap((f) => {
    const r = inCell(f.range);
    return r ? [{ ...f, range: r }] : [];
  });
  const out: Explanation = { ...ex, range, findings };
  if (ex.comment) {
    out.comment = {
      formulas: ex.comment.formulas.flatMap((f) => {
        const r = inCell(f.range);
        return r ? [{ ...f, range: r }] : [];
      }),
    };
  }
  return out;
}

/** The ranges inside a finding's math, in cell coordinates (dropped when they cannot be mapped). */
function cellMath(layout: CellLayout, math: engine.FindingMath): engine.FindingMath {
  const out: engine.FindingMath = { ...math };
  for (const key of ['site', 'update'] as const) {
    const range = math[key];
    if (!range) continue;
    const located = locateRange(layout, range);
    if (located) out[key] = located.range;
    else delete out[key];
  }
  return out;
}

/** Diagnostics of one text (a notebook cell) with the "Ignore …" edits of that text's suppression editor added to their data. */
export function withIgnoreEdits(diagnostics: readonly Diagnostic[], editor: engine.SuppressionEditor): Diagnostic[] {
  const fileEdits = new Map<string, engine.TextEdit | undefined>();
  return diagnostics.map((diagnostic) => {
    if (diagnostic.source !== DIAGNOSTIC_SOURCE || typeof diagnostic.code !== 'string') return diagnostic;
    const ignore = toIgnoreData(diagnostic.code, diagnostic.range.start.line, editor, fileEdits);
    if (!ignore) return diagnostic;
    return { ...diagnostic, data: { ...(diagnostic.data as Record<string, unknown> | undefined), ignore } };
  });
}

/**
 * Findings of a notebook on disk (Lint Workspace), which has no cell URIs yet: on the .ipynb file,
 * at a zero-width range at the top, with the cell and line in the message.
 */
export function toClosedNotebookDiagnostics(findings: readonly (Omit<engine.Finding, 'related' | 'fix'> & { cell?: number })[], uri: string): Diagnostic[] {
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const plain: engine.Finding[] = findings.map((f) => ({
    code: f.code,
    severity: f.severity,
    message: `cell ${(f.cell ?? 0) + 1}, line ${f.range.start.line + 1}: ${f.message}`,
    range: top,
    related: [],
  }));
  return toDiagnostics(plain, uri);
}

/** The server's settings as engine lint options for a document in `language`. */
export function toLintOptions(settings: NablaSettings, language: engine.LanguageId): engine.LintOptions {
  return { language, select: settings.select, ignore: settings.ignore, severity: settings.severity };
}

/** How an engine notice about a document is logged: the message type and the line written. */
export function toLogMessage(notice: engine.Notice, uri: string): { type: MessageType; message: string } {
  const type = notice.kind === 'internal-error' ? MessageType.Error : notice.kind === 'parse-error' ? MessageType.Log : MessageType.Warning;
  return { type, message: `${uri}: ${notice.message}` };
}
