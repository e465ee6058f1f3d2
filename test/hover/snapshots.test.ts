// The hover a user reads over each finding, pinned per rule on the rule's firing fixtures (files
// written in the styles of real code): the title, what the line computes with its legend, the
// correct form, the equivalent loss/update forms and the penalty. Stored in
// test/snapshots/hover/<CODE>/<file>.json; UPDATE_SNAPSHOTS=1 rewrites them (review the diff).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, languageForPath, type Finding } from '../../server/engine';
import { explainIn, type Explanation } from '../../server/engine/explain';
import { LineIndex } from '../../server/engine/lineIndex';
import { assertKatex, texOf } from './helpers';
import { lintFixtureDocument } from '../lintMemo';

const root = path.resolve(__dirname, '../../..');
const fixturesDir = path.join(root, 'test', 'fixtures');
const snapshotsDir = path.join(root, 'test', 'snapshots', 'hover');
const update = process.env.UPDATE_SNAPSHOTS === '1';
/** Firing fixtures per rule whose hovers are pinned (every one for the optimizer-step rules, whose corrected lines differ per mistake). */
const FILES_PER_RULE = 3;
const ALL_FILES = /^NB40\d$/;

/** What a user reads in the hover, in its Unicode form (the TeX is checked to render). */
function readable(ex: Explanation | undefined): unknown {
  if (!ex) return null;
  const out: Record<string, unknown> = { title: ex.title };
  if (ex.computed) out.computed = [ex.computed.unicode, ...ex.computed.legend.map((l) => `${l.unicode} = ${l.code}`)];
  const correct = ex.findings.map((f) => f.correctUnicode ?? f.expected).filter((x) => x !== undefined);
  if (correct.length > 0) out.correct = correct;
  const alternatives = ex.findings.map((f) => f.alternative).filter((x) => x !== undefined);
  if (alternatives.length > 0) out.or = alternatives;
  if (ex.equivalentForms) out.equivalentForms = [ex.equivalentForms.lossUnicode, ex.equivalentForms.updateUnicode];
  if (ex.penalty) out.penalty = [ex.penalty.unicode, ex.penalty.gradientUnicode];
  if (ex.optimizer) out.optimizer = ex.optimizer.unicode;
  // A hand-written optimizer step: its lines, the corrected lines of its findings, and their symbols.
  const step = ex.optimizerStep;
  if (step) {
    out.step = step.lines.map((l) => l.unicode);
    if (step.corrections.length > 0) out.corrected = step.corrections.map((c) => `${c.code}: ${c.unicode}`);
    out.stepLegend = step.legend.map((l) => `${l.unicode} = ${l.code}`);
  }
  return out;
}

function firingFixtures(code: string): string[] {
  const dir = path.join(fixturesDir, code);
  return fs
    .readdirSync(dir)
    .filter((f) => !/^correct_|silent/.test(f) && languageForPath(f) !== undefined && fs.readFileSync(path.join(dir, f), 'utf8').includes(`expect: ${code}`))
    .sort()
    .slice(0, ALL_FILES.test(code) ? undefined : FILES_PER_RULE);
}

describe('hover snapshots (every rule, on its fixtures)', function () {
  this.timeout(60000);
  before(() => initEngine());

  const codes = fs.readdirSync(fixturesDir).filter((d) => /^NB\d{3}$/.test(d)).sort();
  for (const code of codes) {
    for (const name of firingFixtures(code)) {
      it(`${code}/${name}`, () => {
        const file = path.join(fixturesDir, code, name);
        const text = fs.readFileSync(file, 'utf8');
        const language = languageForPath(file)!;
        // The hover a user reads: the language server's, from the analysis of the lint it published.
        const { outcome, analysis } = lintFixtureDocument(text, language);
        const findings: Finding[] = outcome.findings;
        assert.ok(analysis, `${code}/${name}: not analysed`);
        const lines = new LineIndex(text);
        const hovers = findings
          .filter((f) => f.code === code)
          .map((f) => {
            const ex = explainIn(analysis, lines.offset(f.range.start), () => findings, (e) => { throw e; });
            if (ex) for (const tex of texOf(ex)) assertKatex(tex);
            return { at: `${f.range.start.line + 1}:${f.range.start.character + 1}`, hover: readable(ex) };
          });
        assert.ok(hovers.length > 0, `${code}/${name} has no ${code} finding`);
        const snapshot = path.join(snapshotsDir, code, `${name}.json`);
        const json = JSON.stringify(hovers, null, 2) + '\n';
        if (update) {
          fs.mkdirSync(path.dirname(snapshot), { recursive: true });
          fs.writeFileSync(snapshot, json);
          return;
        }
        assert.ok(fs.existsSync(snapshot), `no snapshot ${path.relative(root, snapshot)} (run the tests with UPDATE_SNAPSHOTS=1 and review it)`);
        assert.equal(json, fs.readFileSync(snapshot, 'utf8'), `hover snapshot ${path.relative(root, snapshot)} differs (UPDATE_SNAPSHOTS=1 rewrites it; review the diff)`);
      });
    }
  }
});
