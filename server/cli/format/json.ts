// Machine-readable output: one JSON document on stdout, written when the run ends.
// Positions are 1-based; `endColumn` is exclusive, as in ESLint.
import type { Finding } from '../../engine';
import type { FileFinding } from '../lintFile';
import { oneBased, relatedDisplay, type OneBasedRange, type Reporter, type Write } from './reporter';

/** Bump when a field changes meaning or disappears; adding fields keeps the version. */
export const JSON_FORMAT_VERSION = 1;

export interface JsonDiagnostic extends OneBasedRange {
  file: string;
  /** In a notebook: the 1-based cell (counting all cells); positions are within that cell. */
  cell?: number;
  code: string;
  severity: Finding['severity'];
  message: string;
  related: (OneBasedRange & { file: string; cell?: number; message: string })[];
  fix?: { title: string; safety: string; edits: (OneBasedRange & { cell?: number; newText: string })[] };
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
  /** With --fix: how many fixes were applied. */
  fixed?: number;
}

/** `{ cell: 3 }` for a 0-based cell index 2; nothing outside notebooks. */
function cellOf(cell: number | undefined): { cell?: number } {
  return cell === undefined ? {} : { cell: cell + 1 };
}

export function toJsonDiagnostic(file: string, finding: FileFinding, cwd: string = process.cwd()): JsonDiagnostic {
  const diagnostic: JsonDiagnostic = {
    file,
    ...cellOf(finding.cell),
    ...oneBased(finding.range),
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    related: finding.related.map((r) => ({ file: relatedDisplay(file, r, cwd), ...cellOf(r.cell), ...oneBased(r.range), message: r.message })),
  };
  if (finding.fix) {
    diagnostic.fix = {
      title: finding.fix.title,
      safety: finding.fix.safety,
      edits: finding.fix.edits.map((e) => ({ ...cellOf(e.cell), ...oneBased(e.range), newText: e.newText })),
    };
  }
  // Only the documented text fields: the engine's structured math (0-based ranges, coefficients) is for hovers.
  if (finding.math) diagnostic.math = { computed: finding.math.computed, expected: finding.math.expected };
  return diagnostic;
}

/** `cwd`: the working folder, which related places in other files are printed relative to. */
export function jsonReporter(write: Write, cwd: string = process.cwd()): Reporter {
  const diagnostics: JsonDiagnostic[] = [];
  const notices: JsonNotice[] = [];
  return {
    file(display, result) {
      for (const finding of result.findings) diagnostics.push(toJsonDiagnostic(display, finding, cwd));
      for (const notice of result.notices) notices.push({ file: display, kind: notice.kind, message: notice.message });
    },
    finish({ filesChecked, fixed }) {
      const output: JsonOutput = { version: JSON_FORMAT_VERSION, files: filesChecked, diagnostics, notices };
      if (fixed !== undefined) output.fixed = fixed;
      write(`${JSON.stringify(output, null, 2)}\n`);
    },
  };
}
