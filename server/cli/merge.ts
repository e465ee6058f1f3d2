// Merging what each file's run found in other files into those files' results, for the CLI and
// the project fixture tests alike.
import * as path from 'node:path';
import { enabledRules, type Severity } from '../engine';
import type { FileFinding, FileResult } from './lintFile';

function toSlashes(p: string): string {
  return path.sep === '\\' ? p.replace(/\\/g, '/') : p;
}

/**
 * Moves the findings each run located in other files into those files' results: into a checked
 * file's (once, dropping its NB001 for a suppression that another run used), or into a result of
 * its own for a file that was only reached through imports, listed after the checked files (its
 * path shown relative to the working folder `cwd`). Each file's own configuration decides which of
 * them it reports (`per-file-ignores`, `exclude`).
 */
export function mergeForeignFindings(
  linted: { display: string; absPath: string; result: FileResult }[],
  optionsFor: (absPath: string) => { select?: string[]; ignore?: string[]; severity?: Record<string, Severity> } | undefined,
  cwd: string = process.cwd(),
): { display: string; absPath: string; result: FileResult }[] {
  const byPath = new Map(linted.map((entry) => [entry.absPath, entry]));
  const reached = new Map<string, { display: string; absPath: string; result: FileResult }>();
  for (const { result } of linted) {
    for (const foreign of result.foreign ?? []) {
      const options = optionsFor(foreign.path);
      if (!options) continue;
      let target = byPath.get(foreign.path) ?? reached.get(foreign.path);
      if (!target) {
        target = { display: toSlashes(path.relative(cwd, foreign.path)) || foreign.path, absPath: foreign.path, result: { findings: [], notices: [], checked: false } };
        reached.set(foreign.path, target);
      }
      const findings = target.result.findings;
      // One finding per code and place: the file's own run first, then what other runs add.
      const key = (f: FileFinding): string => `${f.code}|${f.range.start.line}:${f.range.start.character}-${f.range.end.line}:${f.range.end.character}`;
      const known = new Set(findings.map(key));
      for (const f of foreign.findings) {
        if (!isSelected(f.code, options) || known.has(key(f))) continue;
        known.add(key(f));
        findings.push({ ...f, severity: options.severity?.[f.code] ?? f.severity });
      }
      if (foreign.used.length > 0) {
        target.result.findings = findings.filter((f) => f.code !== 'NB001' || !foreign.used.some((u) => u.range.start.line === f.range.start.line));
      }
      target.result.findings.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code));
    }
  }
  return [...reached.values()].sort((a, b) => a.display.localeCompare(b.display));
}

function isSelected(code: string, options: { select?: string[]; ignore?: string[] }): boolean {
  return enabledRules(options).some((rule) => rule.meta.code === code);
}

