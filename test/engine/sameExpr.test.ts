// `sameExpr` (facts/doubleDecay.ts) decides when two conditions of one `if` chain are the same test:
// NB107 reads exclusive branches with it, NB202/NB406 an `elif` after `decay and switch`. Comparisons
// keep their operators: `wd != 0` is not `wd == 0` (it compared only their operands).
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { sameExpr } from '../../server/engine/facts/doubleDecay';
import type { Expr } from '../../server/engine/ir';

describe('sameExpr', () => {
  before(() => initEngine());

  it('tells comparisons and boolean chains apart by their operators, and equal ones alike', () => {
    const text = ['a = wd != 0', 'b = wd == 0', 'c = wd  !=  0', 'd = wd and flag', 'e = wd or flag', 'f = wd and flag', ''].join('\n');
    const values = new Map<string, Expr>();
    for (const s of analyzeDocument(text, 'python').module.body) if (s.kind === 'assign' && s.targets[0]?.kind === 'name') values.set(s.targets[0].name, s.value);
    const v = (n: string): Expr => values.get(n)!;
    assert.equal(sameExpr(v('a'), v('c')), true);
    assert.equal(sameExpr(v('a'), v('b')), false);
    assert.equal(sameExpr(v('d'), v('f')), true);
    assert.equal(sameExpr(v('d'), v('e')), false);
  });
});
