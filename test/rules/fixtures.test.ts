// Runs every rule fixture in test/fixtures/<CODE>/ and compares findings with the inline
// expectations: `# expect: NB101 "covered text"` (or `// expect: ...`) on the line where a
// diagnostic starts. Lines without an expectation must stay silent.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, languageForPath, lintText, type Finding } from '../../server/engine';

const root = path.resolve(__dirname, '../../..');
const fixturesDir = path.join(root, 'test', 'fixtures');

interface Expectation {
  line: number;
  code: string;
  covered?: string;
}

function parseExpectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /(?:#|\/\/)\s*expect:\s*(.*)$/.exec(line);
    if (!m) return;
    // Each code may be followed by the covered text in double quotes; the text runs to the last
    // quote before the next code, so it may itself contain quotes.
    const parts = m[1].split(/(?=\bNB\d{3}\b)/);
    for (const part of parts) {
      const code = /^NB\d{3}/.exec(part.trim())?.[0];
      if (!code) continue;
      const q = /^NB\d{3}\s+"(.*)"\s*,?\s*$/.exec(part.trim());
      out.push({ line: i, code, covered: q?.[1] });
    }
  });
  return out;
}

function coveredText(text: string, f: Finding): string {
  const lines = text.split(/\r?\n/);
  if (f.range.start.line !== f.range.end.line) return lines[f.range.start.line].slice(f.range.start.character) + '…';
  return lines[f.range.start.line].slice(f.range.start.character, f.range.end.character);
}

/** Checks one fixture file: every expectation met, nothing else reported. */
export function checkFixture(file: string, codes: string[]): void {
  const text = fs.readFileSync(file, 'utf8');
  const language = languageForPath(file);
  assert.ok(language, `no language for ${file}`);
  const { findings, notices } = lintText(text, { language, select: codes });
  assert.deepEqual(notices.filter((n) => n.kind === 'internal-error'), [], 'a rule crashed');
  const expected = parseExpectations(text);
  const rel = path.relative(root, file);
  const describe = (f: Finding): string => `${rel}:${f.range.start.line + 1}:${f.range.start.character + 1} ${f.code} ${JSON.stringify(coveredText(text, f))} — ${f.message}`;
  const unexpected = findings.filter((f) => !expected.some((e) => e.line === f.range.start.line && e.code === f.code));
  const missing = expected.filter((e) => !findings.some((f) => f.range.start.line === e.line && f.code === e.code));
  const wrongRange = expected.flatMap((e) => {
    const f = findings.find((x) => x.range.start.line === e.line && x.code === e.code);
    return f && e.covered !== undefined && coveredText(text, f) !== e.covered ? [`${describe(f)} (expected to cover ${JSON.stringify(e.covered)})`] : [];
  });
  const problems = [
    ...unexpected.map((f) => `false positive: ${describe(f)}`),
    ...missing.map((e) => `missed: ${rel}:${e.line + 1} ${e.code}${e.covered ? ` ${JSON.stringify(e.covered)}` : ''}`),
    ...wrongRange.map((m) => `wrong range: ${m}`),
  ];
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
}

describe('rule fixtures', () => {
  before(() => initEngine());
  const codes = fs.existsSync(fixturesDir) ? fs.readdirSync(fixturesDir).filter((d) => /^NB\d{3}$/.test(d)) : [];
  for (const code of codes) {
    describe(code, () => {
      const dir = path.join(fixturesDir, code);
      for (const name of fs.readdirSync(dir).filter((f) => languageForPath(f)).sort()) {
        it(name, () => checkFixture(path.join(dir, name), [code]));
      }
    });
  }
});
