// complementaryIfs (facts/complementaryIfs.ts): two single `if` statements whose tests negate each
// other are exclusive branches only when nothing from the first one to the second can change what
// they test. absenceTested: which place a test says has no value yet, and when.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { absenceTested, complementaryIfs } from '../../server/engine/facts/complementaryIfs';
import type { Stmt } from '../../server/engine/ir';

/** For a function `f`'s body: the lines (1-based in the text) of each later `if` and the `if` it complements. */
function pairs(lines: string[]): [number, number][] {
  const text = lines.join('\n') + '\n';
  const a = analyzeDocument(text, 'python');
  const fn = a.module.body.find((s): s is Stmt & { kind: 'function' } => s.kind === 'function')!;
  const line = (s: Stmt): number => a.lines.position(s.span.start).line + 1;
  return [...complementaryIfs(fn.body)].map(([later, first]) => [line(later), line(first)]);
}

describe('complementaryIfs', () => {
  before(() => initEngine());

  it('pairs membership, None and flag tests with their negations', () => {
    assert.deepEqual(pairs(['def f(st, g, c):', "    if 'b' in st:", '        x = 1', "    if 'b' not in st:", '        x = 2']), [[4, 2]]);
    assert.deepEqual(pairs(['def f(self, g):', '    if self.v is None:', '        y = g', '    z = 2', '    if self.v is not None:', '        y = 3']), [[5, 2]]);
    assert.deepEqual(pairs(['def f(c):', '    if not c:', '        y = 1', '    if c:', '        y = 2']), [[4, 2]]);
    assert.deepEqual(pairs(['def f(s):', '    if len(s) == 0:', '        y = 1', '    if len(s) != 0:', '        y = 2']), [[4, 2]]);
  });

  it('reads a `del` of another place as changing nothing tested (Python and JavaScript)', () => {
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' in st:", '        y = g', '        del y', "    del g", "    if 'm' not in st:", '        y = 2']), [[6, 2]]);
    const js = ['function f(st, g) {', "  if ('m' in st) { delete st.other; }", "  if (!('m' in st)) { st.m = g; }", '}', "function h(st, g) {", "  if ('m' in st) { delete st.m; }", "  if (!('m' in st)) { st.m = g; }", '}'].join('\n');
    const a = analyzeDocument(js + '\n', 'javascript');
    const fns = a.module.body.filter((s): s is Stmt & { kind: 'function' } => s.kind === 'function');
    assert.deepEqual(fns.map((fn) => complementaryIfs(fn.body).size), [1, 0]);
  });

  it('keeps the entry written in the branch where it is there', () => {
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' in st:", "        st['m'] = 0.9 * st['m'] + g", "        st['v'] = g", "    if 'm' not in st:", "        st['m'] = g"]), [[5, 2]]);
  });

  it('does not pair tests whose place may change between them', () => {
    // The start written in the first body makes the second test true on the same step.
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' not in st:", "        st['m'] = g", "    if 'm' in st:", '        y = 2']), []);
    // Deleted, handed to a call, rebound, or changed through a method of what holds it.
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' in st:", '        y = 1', "    del st['m']", "    if 'm' not in st:", '        y = 2']), []);
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' in st:", "        del st", "    if 'm' not in st:", '        y = 2']), []);
    assert.deepEqual(pairs(['def f(self, g):', '    if self.v is not None:', '        y = 1', '    del self.v, g', '    if self.v is None:', '        y = 2']), []);
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' in st:", '        y = 1', '    reset(st)', "    if 'm' not in st:", '        y = 2']), []);
    assert.deepEqual(pairs(['def f(st, g):', "    if 'm' in st:", '        y = 1', '    st = {}', "    if 'm' not in st:", '        y = 2']), []);
    assert.deepEqual(pairs(['def f(self, g):', '    if self.v is None:', '        y = 1', '    self.reset()', '    if self.v is not None:', '        y = 2']), []);
    assert.deepEqual(pairs(['def f(self, g):', '    if not self.cache:', '        y = 1', '    self.cache.append(g)', '    if self.cache:', '        y = 2']), []);
    // `elif`/`else` chains are not single tests.
    assert.deepEqual(pairs(['def f(c):', '    if c:', '        y = 1', '    else:', '        y = 3', '    if not c:', '        y = 2']), []);
  });

  it('reads which place a test says is absent', () => {
    const text = ["if 'm' not in st: pass", "if 'm' in st: pass", 'if self.v is None: pass', 'if not self.cache: pass', 'if len(s) == 0: pass', 'if x > 1: pass', ''].join('\n');
    const a = analyzeDocument(text, 'python');
    const tests = a.module.body.map((s) => (s.kind === 'block' ? absenceTested(s.heads[0]) : undefined));
    const show = (i: number): string | undefined => {
      const t = tests[i];
      return t && `${a.facts.source(t.place.span)}:${t.absentWhen}`;
    };
    assert.equal(tests[0]?.absentWhen, true);
    assert.equal(tests[1]?.absentWhen, false);
    assert.equal(show(2), 'self.v:true');
    assert.equal(show(3), 'self.cache:true');
    assert.equal(show(4), 's:true');
    assert.equal(tests[5], undefined);
  });
});
