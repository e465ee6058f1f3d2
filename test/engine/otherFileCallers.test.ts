// A strength's callers in the project's other files (callerValues.ts) are read again when one of those
// files changes, even when the file that defines the function is unchanged and its parse is reused
// (the editor's session: one Project, a new program after each change).
import * as assert from 'node:assert/strict';
import { initEngine, lintProjectFile, Project } from '../../server/engine';

const TRAINER = [
  'import torch',
  'import torch.nn.functional as F',
  '',
  '',
  'def squared_weights(net):',
  '    return sum((p * p).sum() for p in net.parameters())',
  '',
  '',
  'def train(net, batches, l2_strength, epochs=5):',
  '    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)',
  '    for _ in range(epochs):',
  '        for xb, yb in batches:',
  '            opt.zero_grad()',
  '            loss = F.cross_entropy(net(xb), yb) + l2_strength * squared_weights(net)',
  '            loss.backward()',
  '            opt.step()',
  '    return net',
  '',
].join('\n');

const run = (strength: string): string =>
  ['from trainer import train', '', '', 'def main(net, batches):', `    return train(net, batches, l2_strength=${strength})`, ''].join('\n');

describe("a strength's callers in other files, in a session", function () {
  this.timeout(60_000);
  before(() => initEngine());

  for (const shareProgram of [false, true]) {
    it(`a caller file that changes is read again (shareProgram: ${shareProgram})`, () => {
      const texts: Record<string, string> = { '/proj/trainer.py': TRAINER, '/proj/run.py': run('0.0') };
      const listFolder = (dir: string) => (dir === '/proj' ? { files: Object.keys(texts).map((p) => p.slice('/proj/'.length)), folders: [] } : undefined);
      const project = new Project({ root: '/proj', host: { readFile: (p) => texts[p], listFolder }, shareProgram });
      const codes = (): string[] =>
        lintProjectFile(project, '/proj/trainer.py', texts['/proj/trainer.py'], { language: 'python' }).outcome.findings.map((f) => f.code);
      assert.deepEqual(codes(), [], 'every caller switches the penalty off');
      texts['/proj/run.py'] = run('5e-4');
      project.invalidate('/proj/run.py');
      assert.deepEqual(codes(), ['NB201'], 'the caller now trains with the penalty beside weight decay');
      texts['/proj/run.py'] = run('0');
      project.invalidate('/proj/run.py');
      assert.deepEqual(codes(), [], 'switched off again');
    });
  }
});
