// Every squiggle has a hover: on each finding of every rule's firing fixtures, the hover at the
// finding's start names that rule, its math renders in KaTeX, and, for the findings whose rule gives
// its own forms (a penalty that is no norm, a momentum that stores the raw step, state never stored),
// the hover shows the correct form.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, languageForPath } from '../../server/engine';
import { explainIn } from '../../server/engine/explain';
import { LineIndex } from '../../server/engine/lineIndex';
import { assertKatex, texOf } from './helpers';
import { lintFixtureDocument } from '../lintMemo';

const fixturesDir = path.resolve(__dirname, '../../../test/fixtures');

describe('a hover on every finding', function () {
  this.timeout(120000);
  before(() => initEngine());

  const codes = fs.readdirSync(fixturesDir).filter((d) => /^NB\d{3}$/.test(d)).sort();
  for (const code of codes) {
    it(`${code}: every finding on its firing fixtures has a hover that names it`, () => {
      const dir = path.join(fixturesDir, code);
      let checked = 0;
      for (const name of fs.readdirSync(dir).sort()) {
        const language = languageForPath(name);
        if (!language || /^correct_/.test(name)) continue;
        const text = fs.readFileSync(path.join(dir, name), 'utf8');
        // The hover a user reads: the language server's, from the analysis of the lint it published.
        const { outcome: { findings }, analysis } = lintFixtureDocument(text, language);
        assert.ok(analysis, `${name}: not analysed`);
        const lines = new LineIndex(text);
        for (const f of findings.filter((x) => x.code === code)) {
          const at = `${name}:${f.range.start.line + 1}:${f.range.start.character + 1}`;
          const ex = explainIn(analysis, lines.offset(f.range.start), () => findings, (e) => { throw e; });
          assert.ok(ex, `${at}: no hover`);
          const named = ex.findings.some((s) => s.code === code) || ex.optimizerStep?.corrections.some((c) => c.code === code);
          assert.ok(named, `${at}: the hover does not name ${code}`);
          for (const tex of texOf(ex)) assertKatex(tex);
          if (f.math?.forms) {
            const section = ex.findings.find((s) => s.code === code);
            assert.ok(section?.correctUnicode?.startsWith(f.math.forms.correct.unicode), `${at}: the hover lacks the rule's correct form`);
          }
          checked++;
        }
      }
      if (code !== 'NB001') assert.ok(checked > 0, `${code} has no finding on its firing fixtures`);
    });
  }
});
