// NB103 on a gradient returned with the loss and no term for its penalty: the finding's place and
// message, and the hover's math (the loss as returned, the gradient it should come with).
import assert from 'node:assert/strict';
import { initEngine, lintText } from '../../server/engine';
import { explainAt } from '../../server/engine/explain';
import { LineIndex } from '../../server/engine/lineIndex';
import { assertKatex, texOf } from './helpers';

const CODE = [
  'import numpy as np',
  '',
  '',
  'def svm_loss(W, X, y, reg):',
  '    n = X.shape[0]',
  '    scores = X.dot(W)',
  '    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + 1)',
  '    loss = margins.sum() / n',
  '    loss += reg * np.sum(W * W)',
  '    mask = (margins > 0).astype(float)',
  '    dW = X.T.dot(mask) / n',
  '    return loss, dW',
  '',
].join('\n');

describe('NB103: a returned gradient without its penalty term', () => {
  before(() => initEngine());

  it('reports the returned gradient, names the missing term and shows the gradient of the returned loss', () => {
    const findings = lintText(CODE, { language: 'python' }).findings.filter((f) => f.code === 'NB103');
    assert.equal(findings.length, 1);
    const [f] = findings;
    assert.deepEqual([f.range.start.line, f.range.start.character, f.range.end.character], [11, 17, 19]);
    assert.match(f.message, /^dW, the gradient svm_loss\(\) returns with the loss, has no term for the loss's penalty reg·ΣW² \(line 9\).*Add 2 \* reg \* W to dW$/);
    const lines = new LineIndex(CODE);
    const ex = explainAt(CODE, { language: 'python' }, lines.offset(f.range.start), (e) => { throw e; }, () => findings);
    assert.ok(ex);
    assert.equal(ex.computed?.unicode, 'L = ℓ + reg·ΣW²; g = ∇W ℓ');
    const section = ex.findings.find((s) => s.code === 'NB103');
    assert.equal(section?.correctUnicode, 'g = ∇W L = ∇W ℓ + 2·reg·W');
    for (const tex of texOf(ex)) assertKatex(tex);
  });

  it('stays silent when the gradient adds the term', () => {
    const fixed = CODE.replace('    return loss, dW', '    dW += 2 * reg * W\n    return loss, dW');
    assert.deepEqual(lintText(fixed, { language: 'python' }).findings.filter((f) => f.code === 'NB103'), []);
  });
});
