// `--statistics`: how many findings each rule produced, instead of the findings (as Ruff's).
//   text:  `  2  NB101  [-] penalty-as-gradient` — [*] safe fixes available, [-] only unsafe ones
//   json:  [{ "code": "NB101", "name": "penalty-as-gradient", "count": 2, "fixable": 0, "unsafeFixable": 2 }]
import { ruleByCode } from '../../engine';
import type { Reporter, Write } from './reporter';
import { plural } from './text';

export interface CodeStatistics {
  code: string;
  name: string;
  count: number;
  /** Findings with a safe fix (`--fix` applies them). */
  fixable: number;
  /** Findings with an unsafe fix (`--fix --unsafe-fixes`). */
  unsafeFixable: number;
}

export function statisticsReporter(write: Write, format: 'text' | 'json'): Reporter {
  const byCode = new Map<string, CodeStatistics>();
  let files = 0;
  return {
    file(_display, result) {
      if (result.findings.length > 0) files++;
      for (const finding of result.findings) {
        const stats = byCode.get(finding.code) ?? { code: finding.code, name: ruleByCode(finding.code)?.meta.name ?? '', count: 0, fixable: 0, unsafeFixable: 0 };
        stats.count++;
        if (finding.fix?.safety === 'safe') stats.fixable++;
        else if (finding.fix) stats.unsafeFixable++;
        byCode.set(finding.code, stats);
      }
    },
    finish({ filesChecked }) {
      const rows = [...byCode.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
      if (format === 'json') {
        write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(0, ...rows.map((row) => String(row.count).length));
      let out = '';
      for (const row of rows) {
        const marker = row.fixable > 0 ? '[*]' : row.unsafeFixable > 0 ? '[-]' : '   ';
        out += `${String(row.count).padStart(width)}  ${row.code}  ${marker} ${row.name}\n`;
      }
      const total = rows.reduce((sum, row) => sum + row.count, 0);
      const checked = `(${plural(filesChecked, 'file')} checked)`;
      out += total === 0 ? `All checks passed ${checked}.\n` : `Found ${plural(total, 'problem')} in ${plural(files, 'file')} ${checked}.\n`;
      write(out);
    },
  };
}
