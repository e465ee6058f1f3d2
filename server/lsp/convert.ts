// Every conversion between engine data (server/engine/types.ts) and LSP types lives here, as
// rust-analyzer keeps its in to_proto.rs. Engine ranges are already 0-based lines and UTF-16
// columns, so positions copy across unchanged; what differs is shape and enums.
import {
  DiagnosticSeverity,
  DiagnosticTag,
  MessageType,
  type Diagnostic,
  type DiagnosticRelatedInformation,
  type Position,
  type Range,
  type TextEdit,
} from 'vscode-languageserver';
import { docsUrl, UNUSED_SUPPRESSION } from '../engine';
import type * as engine from '../engine';
import type { NablaSettings } from './settings';

/** The `source` of every diagnostic the server publishes. */
export const DIAGNOSTIC_SOURCE = 'nabla';

/** A fix carried in `Diagnostic.data`, already in LSP shape, for code actions. */
export interface FixData {
  title: string;
  safety: engine.FixSafety;
  edits: TextEdit[];
}

/** What the server stores in `Diagnostic.data`; code actions and hovers read it back. */
export interface DiagnosticData {
  fix?: FixData;
  math?: engine.FindingMath;
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

export function toDiagnosticData(finding: engine.Finding): DiagnosticData | undefined {
  if (!finding.fix && !finding.math) return undefined;
  const data: DiagnosticData = {};
  if (finding.fix) {
    data.fix = { title: finding.fix.title, safety: finding.fix.safety, edits: finding.fix.edits.map(toTextEdit) };
  }
  if (finding.math) data.math = { ...finding.math };
  return data;
}

/** One finding in the document `uri` as an LSP diagnostic. */
export function toDiagnostic(finding: engine.Finding, uri: string): Diagnostic {
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
  const data = toDiagnosticData(finding);
  if (data) diagnostic.data = data;
  return diagnostic;
}

export function toDiagnostics(findings: readonly engine.Finding[], uri: string): Diagnostic[] {
  return findings.map((finding) => toDiagnostic(finding, uri));
}

/** Reads `Diagnostic.data` back, tolerating diagnostics from older servers or other sources. */
export function fromDiagnosticData(data: unknown): DiagnosticData {
  if (typeof data !== 'object' || data === null) return {};
  const { fix, math } = data as DiagnosticData;
  const result: DiagnosticData = {};
  if (fix && typeof fix.title === 'string' && Array.isArray(fix.edits)) result.fix = fix;
  if (math && typeof math === 'object') result.math = math;
  return result;
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
