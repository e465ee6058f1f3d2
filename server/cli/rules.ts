// `nabla rules` and `nabla rule CODE`: rule metadata from the engine, pages from docs/rules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allRules, docsUrl, ruleByCode } from '../engine';

/** One line per rule, columns aligned: `CODE  name  severity  summary`. */
export function formatRuleList(): string {
  const rows = allRules.map((rule) => [rule.meta.code, rule.meta.name, rule.meta.severity, rule.meta.summary]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ') + '\n').join('');
}

/**
 * Folders that may hold the rule pages: beside the bundle (dist/../docs/rules in the package),
 * then any docs/rules above it (running from out/ or a source checkout).
 */
function docsFolders(): string[] {
  const folders = [path.join(__dirname, '..', 'docs', 'rules')];
  let dir = __dirname;
  for (;;) {
    folders.push(path.join(dir, 'docs', 'rules'));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return folders;
}

export type RuleDocResult = { ok: true; text: string; missingPage: boolean } | { ok: false; message: string };

export function ruleDoc(code: string): RuleDocResult {
  const rule = ruleByCode(code);
  if (!rule) return { ok: false, message: `unknown rule: ${code} (run 'nabla rules' to list them)` };
  const file = `${rule.meta.code}.md`;
  for (const folder of docsFolders()) {
    try {
      const text = fs.readFileSync(path.join(folder, file), 'utf8');
      return { ok: true, text: text.endsWith('\n') ? text : `${text}\n`, missingPage: false };
    } catch {
      // try the next folder
    }
  }
  const { meta } = rule;
  return {
    ok: true,
    missingPage: true,
    text: `${meta.code} ${meta.name} (${meta.severity})\n\n${meta.summary}\n\nThe page docs/rules/${file} is missing from this installation; see ${docsUrl(meta.code)}\n`,
  };
}
