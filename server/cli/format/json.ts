// Machine-readable output: one JSON document on stdout, written when the run ends.
// Positions are 1-based; `endColumn` is exclusive, as in ESLint.
import type { Finding } from '../../engine';
import { oneBased, type OneBasedRange, type Reporter, type Write } from './reporter';

/** Bump when a field changes meaning or disappears; adding fields keeps the version. */
export const JSON_FORMAT_VERSION = 1;

export interface JsonDiagnostic extends OneBasedRange {
  file: string;
  code: string;
  severity: Finding['severity'];
  message: string;
  related: (OneBasedRange & { file: string; message: string })[];
  fix?: { title: string; safety: string; edits: (OneBasedRange & { newText: string })[] };
  math?: { computed?: string; expected?: string };
}

export interface JsonNotice {
  file: string;
  kind: string;
  message: string;
}

export interface JsonOutput {
  version: number;
  files: number;
  diagnostics: JsonDiagnostic[];
  /** Files skipped or partly parsed; the same notices also go to stderr. */
  notices: JsonNotice[];
}

export function toJsonDiagnostic(file: string, finding: Finding): JsonDiagnostic {
  const diagnostic: JsonDiagnostic = {
    file,
    ...oneBased(finding.range),
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    related: finding.related.map((r) => ({ file, ...oneBased(r.range), message: r.message })),
  };
  if (finding.fix) {
    diagnostic.fix = {
      title: finding.fix.title,
      safety: finding.fix.safety,
      edits: finding.fix.edits.map((e) => ({ ...oneBased(e.range), newText: e.newText })),
    };
  }
  if (finding.math) diagnostic.math = { ...finding.math };
  return diagnostic;
}

export function jsonReporter(write: Write): Reporter {
  const diagnostics: JsonDiagnostic[] = [];
  const notices: JsonNotice[] = [];
  return {
    file(display, result) {
      for (const finding of result.findings) diagnostics.push(toJsonDiagnostic(display, finding));
      for (const notice of result.notices) notices.push({ file: display, kind: notice.kind, message: notice.message });
    },
    finish({ filesChecked }) {
      const output: JsonOutput = { version: JSON_FORMAT_VERSION, files: filesChecked, diagnostics, notices };
      write(`${JSON.stringify(output, null, 2)}\n`);
    },
  };
}
