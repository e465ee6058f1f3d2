// The strict fixture tester. Every file in test/fixtures/NBXXX/ and every project in
// test/fixtures/projects/<name>/ is linted with ALL rules, as users run Nabla, and must give
// exactly what its inline expectations say:
//
//   x = ...  # expect: NB101 "covered text", NB204     (or `// expect: ...`)
//
// on the line where each finding starts. A fixture fails on a finding no expectation names (of
// any code), on an expectation no finding meets, on a finding reported twice, on a syntax error it
// does not declare (`# expect: syntax-error` anywhere in the file), on a crashed rule, and on a
// message, related place or fix that differs from its snapshot in test/snapshots/ (written with
// UPDATE_SNAPSHOTS=1; review the diff). A project is linted as the CLI lints it: every file as the
// entry of its program, and the findings a run locates in another file belong to that file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyEdits, initEngine, languageForPath, lintProjectFile, Project, type Finding, type Notice } from '../../server/engine';
import type { FileResult } from '../../server/cli/lintFile';
import { mergeForeignFindings } from '../../server/cli/merge';
import { lintFixtureText } from '../lintMemo';

const root = path.resolve(__dirname, '../../..');
const fixturesDir = path.join(root, 'test', 'fixtures');
const snapshotsDir = path.join(root, 'test', 'snapshots');
const update = process.env.UPDATE_SNAPSHOTS === '1';

interface Expectation {
  line: number;
  code: string;
  covered?: string;
}

export function parseExpectations(text: string): { expectations: Expectation[]; syntaxError: boolean } {
  const expectations: Expectation[] = [];
  let syntaxError = false;
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /(?:#|\/\/)\s*expect:\s*(.*)$/.exec(line);
    if (!m) return;
    if (/\bsyntax-error\b/.test(m[1])) syntaxError = true;
    // Each code may be followed by the covered text in double quotes; the text runs to the last
    // quote before the next code, so it may itself contain quotes.
    const parts = m[1].split(/(?=\bNB\d{3}\b)/);
    for (const part of parts) {
      const code = /^NB\d{3}/.exec(part.trim())?.[0];
      if (!code) continue;
      const q = /^NB\d{3}\s+"(.*)"\s*,?\s*$/.exec(part.trim());
      expectations.push({ line: i, code, covered: q?.[1] });
    }
  });
  return { expectations, syntaxError };
}

function coveredText(text: string, f: Finding): string {
  const lines = text.split(/\r?\n/);
  if (f.range.start.line !== f.range.end.line) return lines[f.range.start.line].slice(f.range.start.character) + '…';
  return lines[f.range.start.line].slice(f.range.start.character, f.range.end.character);
}

/** What a snapshot keeps of a finding: where, what it says, where it points, and the fix with the lines it produces. */
function snapshotOf(text: string, f: Finding, relativeTo: string): unknown {
  const at = (r: Finding['range']): string => `${r.start.line + 1}:${r.start.character + 1}-${r.end.line + 1}:${r.end.character + 1}`;
  const out: Record<string, unknown> = { code: f.code, severity: f.severity, range: at(f.range), message: f.message };
  if (f.related.length > 0) out.related = f.related.map((r) => `${r.path ? `${path.relative(relativeTo, r.path)} ` : ''}${at(r.range)} ${r.message}`);
  if (f.fix) {
    const fixed = applyEdits(text, f.fix.edits).split(/\r?\n/);
    const first = Math.min(...f.fix.edits.map((e) => e.range.start.line));
    const last = Math.max(...f.fix.edits.map((e) => e.range.end.line)) + (fixed.length - text.split(/\r?\n/).length);
    out.fix = { title: f.fix.title, safety: f.fix.safety, result: fixed.slice(first, Math.max(first, last) + 1) };
  }
  return out;
}

/** Compares with the stored snapshot, or writes it under UPDATE_SNAPSHOTS=1. */
function checkSnapshot(name: string, actual: unknown): string[] {
  const file = path.join(snapshotsDir, `${name}.json`);
  const json = JSON.stringify(actual, null, 2) + '\n';
  if (update) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, json);
    return [];
  }
  if (!fs.existsSync(file)) return [`no snapshot ${path.relative(root, file)} (run the tests with UPDATE_SNAPSHOTS=1 and review it)`];
  const stored = fs.readFileSync(file, 'utf8');
  if (stored === json) return [];
  return [`snapshot ${path.relative(root, file)} differs (run with UPDATE_SNAPSHOTS=1 and review the diff):\n${firstDifference(stored, json)}`];
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return `  stored: ${x[i] ?? '(end)'}\n  now:    ${y[i] ?? '(end)'}`;
  return '';
}

/** Every problem with one file's findings against its expectations. */
function problemsOf(file: string, text: string, findings: Finding[], notices: Notice[]): string[] {
  const { expectations, syntaxError } = parseExpectations(text);
  const rel = path.relative(root, file);
  const describe = (f: Finding): string => `${rel}:${f.range.start.line + 1}:${f.range.start.character + 1} ${f.code} ${JSON.stringify(coveredText(text, f))} — ${f.message}`;
  const problems: string[] = [];
  for (const n of notices) {
    if (n.kind === 'internal-error') problems.push(`crash: ${n.message}`);
    if (n.kind === 'parse-error' && !syntaxError) problems.push(`undeclared syntax error: ${n.message}`);
  }
  const seen = new Set<string>();
  for (const f of findings) {
    const key = `${f.code} ${JSON.stringify(f.range)}`;
    if (seen.has(key)) problems.push(`duplicated: ${describe(f)}`);
    seen.add(key);
    if (!expectations.some((e) => e.line === f.range.start.line && e.code === f.code)) problems.push(`unexpected: ${describe(f)}`);
  }
  for (const e of expectations) {
    const f = findings.find((x) => x.range.start.line === e.line && x.code === e.code);
    if (!f) problems.push(`missed: ${rel}:${e.line + 1} ${e.code}${e.covered ? ` ${JSON.stringify(e.covered)}` : ''}`);
    else if (e.covered !== undefined && coveredText(text, f) !== e.covered) problems.push(`wrong range: ${describe(f)} (expected to cover ${JSON.stringify(e.covered)})`);
  }
  return problems;
}

/** Checks one fixture file: every expectation met, nothing else reported, as the snapshot says. */
export function checkFixture(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const language = languageForPath(file);
  assert.ok(language, `no language for ${file}`);
  const { findings, notices } = lintFixtureText(text, language);
  const problems = problemsOf(file, text, findings, notices);
  problems.push(...checkSnapshot(path.relative(fixturesDir, file), findings.map((f) => snapshotOf(text, f, path.dirname(file)))));
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
}

function lintableFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...lintableFiles(full));
    else if (languageForPath(entry.name)) out.push(full);
  }
  return out.sort();
}

/** A folder's files and folders, as the CLI's host lists them. */
export function listFolderOnDisk(dir: string): { files: string[]; folders: string[] } | undefined {
  try {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    return { files: entries.filter((e) => e.isFile()).map((e) => e.name), folders: entries.filter((e) => e.isDirectory()).map((e) => e.name) };
  } catch {
    return undefined;
  }
}

/** Checks a project fixture: each file linted as the CLI does, in one project rooted at the folder. */
export function checkProject(dir: string): void {
  const toSlashes = (p: string): string => p.split(path.sep).join('/');
  const project = new Project({
    root: toSlashes(dir),
    host: {
      readFile: (p) => {
        try {
          return fs.readFileSync(p, 'utf8');
        } catch {
          return undefined;
        }
      },
      listFolder: listFolderOnDisk,
    },
    shareProgram: true,
  });
  const files = lintableFiles(dir);
  const linted = files.map((file) => {
    const text = fs.readFileSync(file, 'utf8');
    const { outcome, foreign } = lintProjectFile(project, toSlashes(file), text, { language: languageForPath(file)! });
    const result: FileResult = { findings: outcome.findings, notices: outcome.notices, checked: true, ...(foreign.length > 0 ? { foreign } : {}) };
    return { display: path.relative(dir, file), absPath: toSlashes(file), result, text };
  });
  mergeForeignFindings(linted, () => ({}));
  const problems: string[] = [];
  const snapshot: Record<string, unknown> = {};
  for (const { absPath, result, text, display } of linted) {
    problems.push(...problemsOf(absPath, text, result.findings, result.notices as Notice[]));
    if (result.findings.length > 0) snapshot[toSlashes(display)] = result.findings.map((f) => snapshotOf(text, f, dir));
  }
  problems.push(...checkSnapshot(path.relative(fixturesDir, dir), snapshot));
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
}

describe('rule fixtures (all rules, strict)', () => {
  before(() => initEngine());
  const codes = fs.existsSync(fixturesDir) ? fs.readdirSync(fixturesDir).filter((d) => /^NB\d{3}$/.test(d)) : [];
  for (const code of codes) {
    describe(code, () => {
      const dir = path.join(fixturesDir, code);
      for (const name of fs.readdirSync(dir).filter((f) => languageForPath(f)).sort()) {
        it(name, () => checkFixture(path.join(dir, name)));
      }
    });
  }
  const projects = path.join(fixturesDir, 'projects');
  describe('projects', function () {
    // optimizers-correct (51 files) takes about 3 s idle: over mocha's 20 s at a load of 40 (stop 40).
    this.timeout(120_000);
    for (const name of fs.existsSync(projects) ? fs.readdirSync(projects).sort() : []) {
      it(name, () => checkProject(path.join(projects, name)));
    }
    it('star imports are edges of the import graph (an edit of a star-imported module re-lints its importers)', () => {
      const dir = path.join(projects, 'star-imports').split(path.sep).join('/');
      const project = new Project({ root: dir, host: { readFile: (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined) } });
      assert.deepEqual(project.importsOf(`${dir}/train.py`), [`${dir}/nnlib/__init__.py`]);
      assert.deepEqual(project.importsOf(`${dir}/nnlib/__init__.py`).sort(), [`${dir}/nnlib/layers.py`, `${dir}/nnlib/regularizers.py`]);
    });
  });
});
