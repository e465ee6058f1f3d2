// Human-readable output: `path:line:col: CODE message`, streamed file by file, then a summary.
import type { Severity } from '../../engine';
import { oneBased, type Reporter, type RunSummary, type Write } from './reporter';

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

const severityWords: Record<Severity, [string, string]> = {
  error: ['error', 'errors'],
  warning: ['warning', 'warnings'],
  information: ['info', 'info'],
  hint: ['hint', 'hints'],
};

export function textReporter(write: Write): Reporter {
  const counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  let problems = 0;
  let filesWithProblems = 0;

  return {
    file(display, result) {
      if (result.findings.length === 0) return;
      filesWithProblems++;
      let out = '';
      for (const finding of result.findings) {
        problems++;
        counts[finding.severity]++;
        const at = oneBased(finding.range);
        out += `${display}:${at.line}:${at.column}: ${finding.code} ${finding.message}\n`;
        for (const related of finding.related) {
          const r = oneBased(related.range);
          out += `    ${display}:${r.line}:${r.column}: note: ${related.message}\n`;
        }
      }
      write(out);
    },
    finish({ filesChecked }: RunSummary) {
      const checked = `(${plural(filesChecked, 'file')} checked)`;
      if (problems === 0) {
        write(`All checks passed ${checked}.\n`);
        return;
      }
      const breakdown = (Object.keys(counts) as Severity[])
        .filter((severity) => counts[severity] > 0)
        .map((severity) => plural(counts[severity], ...severityWords[severity]))
        .join(', ');
      write(`Found ${plural(problems, 'problem')} (${breakdown}) in ${plural(filesWithProblems, 'file')} ${checked}.\n`);
    },
  };
}
