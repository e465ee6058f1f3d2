// Human-readable output: `path:line:col: CODE message` (in a notebook `path:cell N:line:col: ...`),
// streamed file by file, then a summary.
import type { Range, Severity } from '../../engine';
import type { FileFinding } from '../lintFile';
import { oneBased, relatedDisplay, type Reporter, type RunSummary, type Write } from './reporter';

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

const severityWords: Record<Severity, [string, string]> = {
  error: ['error', 'errors'],
  warning: ['warning', 'warnings'],
  information: ['info', 'info'],
  hint: ['hint', 'hints'],
};

/** `file:line:col`, or `file:cell N:line:col` for a 0-based cell index N-1. */
export function location(display: string, range: Range, cell?: number): string {
  const at = oneBased(range);
  return cell === undefined ? `${display}:${at.line}:${at.column}` : `${display}:cell ${cell + 1}:${at.line}:${at.column}`;
}

export interface TextReporterOptions {
  /** The run applied fixes (--fix): report how many, and do not suggest --fix. */
  fixing?: boolean;
  /** The working folder, which related places in other files are printed relative to. */
  cwd?: string;
}

export function textReporter(write: Write, options: TextReporterOptions = {}): Reporter {
  const counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  let problems = 0;
  let filesWithProblems = 0;
  let filesFixed = 0;
  let safeFixable = 0;
  let unsafeFixable = 0;

  return {
    file(display, result) {
      if ((result.fixed ?? 0) > 0) filesFixed++;
      if (result.findings.length === 0) return;
      filesWithProblems++;
      let out = '';
      for (const finding of result.findings as FileFinding[]) {
        problems++;
        counts[finding.severity]++;
        if (finding.fix?.safety === 'safe') safeFixable++;
        else if (finding.fix) unsafeFixable++;
        out += `${location(display, finding.range, finding.cell)}: ${finding.code} ${finding.message}\n`;
        for (const related of finding.related) {
          out += `    ${location(relatedDisplay(display, related, options.cwd), related.range, related.cell)}: note: ${related.message}\n`;
        }
      }
      write(out);
    },
    finish({ filesChecked, fixed }: RunSummary) {
      const checked = `(${plural(filesChecked, 'file')} checked)`;
      if (fixed !== undefined && fixed > 0) write(`Fixed ${plural(fixed, 'problem')} in ${plural(filesFixed, 'file')}.\n`);
      if (problems === 0) {
        write(`All checks passed ${checked}.\n`);
        return;
      }
      const breakdown = (Object.keys(counts) as Severity[])
        .filter((severity) => counts[severity] > 0)
        .map((severity) => plural(counts[severity], ...severityWords[severity]))
        .join(', ');
      write(`Found ${plural(problems, 'problem')} (${breakdown}) in ${plural(filesWithProblems, 'file')} ${checked}.\n`);
      if (!options.fixing && safeFixable > 0) {
        const more = unsafeFixable > 0 ? ` (${unsafeFixable} more with --fix --unsafe-fixes)` : '';
        write(`[*] ${safeFixable} fixable with --fix${more}.\n`);
      }
    },
  };
}
