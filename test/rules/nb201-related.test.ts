// NB201 in a long file: one optimizer linked to many penalties names the nearest one and lists a
// bounded number of places, not hundreds.
import * as assert from 'node:assert/strict';
import { initEngine, lintText } from '../../server/engine';

function trainingScript(steps: number): string {
  const lines = ['import torch', '', 'model = torch.nn.Linear(4, 1)', 'opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)', ''];
  for (let i = 0; i < steps; i++) {
    lines.push(
      `def step_${i}(x, y, lam=${i + 1}e-3):`,
      '    loss = ((model(x) - y) ** 2).mean()',
      '    loss = loss + lam * sum((p ** 2).sum() for p in model.parameters())',
      '    opt.zero_grad()',
      '    loss.backward()',
      '    opt.step()',
      '',
    );
  }
  return lines.join('\n');
}

describe('NB201 with many linked penalties', () => {
  before(() => initEngine());

  it('lists at most 8 places, saying how many more there are, nearest first', () => {
    const { findings } = lintText(trainingScript(20), { language: 'python', select: ['NB201'] });
    const optimizer = findings.find((f) => f.range.start.line === 3);
    assert.ok(optimizer, JSON.stringify(findings.map((f) => [f.code, f.range.start.line])));
    assert.equal(optimizer.related.length, 8);
    assert.match(optimizer.related[7].message, /\(and 12 more places\)$/);
    assert.equal(optimizer.related[0].range.start.line, 7, 'the penalty nearest the optimizer comes first');
    assert.match(optimizer.message, /lam ·|lam·/);
  });
});
