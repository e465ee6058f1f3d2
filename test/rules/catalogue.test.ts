// The rule catalogue stays consistent: every rule file is registered, every rule has its docs
// page with the required headings, codes are unique, and correct code stays silent for ALL rules.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allRules, initEngine, languageForPath } from '../../server/engine';
import { lintFixtureText } from '../lintMemo';

const root = path.resolve(__dirname, '../../..');

describe('rule catalogue', () => {
  before(() => initEngine());

  it('registers every rule file in server/rules/index.ts, once', () => {
    const files = fs.readdirSync(path.join(root, 'server', 'rules')).filter((f) => /^nb\d{3}-.*\.ts$/.test(f));
    const codes = files.map((f) => f.slice(0, 5).toUpperCase()).sort();
    assert.deepEqual(allRules.map((r) => r.meta.code).sort(), codes);
    assert.equal(new Set(codes).size, codes.length);
  });

  it('names each rule file after its code and name', () => {
    for (const rule of allRules) {
      const file = path.join(root, 'server', 'rules', `${rule.meta.code.toLowerCase()}-${rule.meta.name}.ts`);
      assert.ok(fs.existsSync(file), `expected ${path.relative(root, file)}`);
    }
  });

  for (const rule of allRules) {
    it(`documents ${rule.meta.code} in docs/rules/${rule.meta.code}.md`, () => {
      const page = path.join(root, 'docs', 'rules', `${rule.meta.code}.md`);
      assert.ok(fs.existsSync(page), `missing ${path.relative(root, page)}`);
      const text = fs.readFileSync(page, 'utf8');
      assert.match(text, new RegExp(`^# ${rule.meta.code} ${rule.meta.name}\\b`, 'm'));
      for (const heading of ['## What it does', '## Why is this bad?', '## Example', '## Use instead']) assert.ok(text.includes(heading), `${rule.meta.code}: missing "${heading}"`);
      if (rule.meta.fix !== 'none') assert.ok(text.includes('## Fix safety'), `${rule.meta.code}: missing "## Fix safety"`);
    });
  }

  it('keeps every correct_* fixture and every correct example silent under all rules', () => {
    const files: string[] = [];
    const fixtures = path.join(root, 'test', 'fixtures');
    for (const dir of fs.readdirSync(fixtures)) {
      const full = path.join(fixtures, dir);
      if (!fs.statSync(full).isDirectory()) continue;
      for (const f of fs.readdirSync(full)) if (f.startsWith('correct_') && languageForPath(f)) files.push(path.join(full, f));
    }
    for (const f of fs.readdirSync(path.join(root, 'examples'))) if (/correct/.test(f) && languageForPath(f)) files.push(path.join(root, 'examples', f));
    assert.ok(files.length > 5);
    const noisy: string[] = [];
    for (const file of files) {
      const { findings } = lintFixtureText(fs.readFileSync(file, 'utf8'), languageForPath(file)!);
      for (const f of findings) noisy.push(`${path.relative(root, file)}:${f.range.start.line + 1}:${f.range.start.character + 1} ${f.code} ${f.message}`);
    }
    assert.deepEqual(noisy, []);
  });
});
