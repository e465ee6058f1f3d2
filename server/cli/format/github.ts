// GitHub Actions workflow commands: one annotation per finding, shown on the pull request's diff.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
//   ::error file=src/train.py,line=3,col=21,endLine=3,endColumn=40,title=NB101::message
import type { Severity } from '../../engine';
import type { FileFinding } from '../lintFile';
import { oneBased, type Reporter, type Write } from './reporter';

const commands: Record<Severity, 'error' | 'warning' | 'notice'> = { error: 'error', warning: 'warning', information: 'notice', hint: 'notice' };

/** Escapes the message part of a workflow command. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value (`file=...`), where `:` and `,` separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubAnnotation(display: string, finding: FileFinding): string {
  const at = oneBased(finding.range);
  const properties = [
    `file=${escapeProperty(display)}`,
    `line=${at.line}`,
    `col=${at.column}`,
    `endLine=${at.endLine}`,
    `endColumn=${at.endColumn}`,
    `title=${escapeProperty(finding.code)}`,
  ].join(',');
  // A notebook's lines are the cell's, which the annotation cannot express: name the cell in the message.
  const where = finding.cell === undefined ? '' : `cell ${finding.cell + 1}, line ${at.line}: `;
  return `::${commands[finding.severity]} ${properties}::${escapeData(`${where}${finding.message}`)}\n`;
}

export function githubReporter(write: Write): Reporter {
  return {
    file(display, result) {
      let out = '';
      for (const finding of result.findings) out += githubAnnotation(display, finding);
      if (out) write(out);
    },
    finish() {
      // Annotations only: the job log shows the exit status.
    },
  };
}
