// NB208 points at the loop that rebuilds the optimizer by the loop's header as the IR spans it
// (`headSpan`), whatever its lines: a header over several lines is whole, a one-line loop's body is not in it.
import * as assert from 'node:assert/strict';
import { initEngine, lintText } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import type { LanguageId } from '../../server/engine/types';

function loopOf(text: string, language: LanguageId): string | undefined {
  const { findings } = lintText(text, { language, select: ['NB208'] });
  const related = findings.find((f) => f.code === 'NB208')?.related.find((r) => /the loop that builds it/.test(r.message));
  if (!related) return undefined;
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(offset(related.range.start), offset(related.range.end));
}

describe('NB208: the loop header', () => {
  before(() => initEngine());

  const body = (head: string): string =>
    [
      'import torch',
      'import torch.nn.functional as F',
      '',
      '',
      'def train(model, loader, epochs):',
      ...head.split('\n').map((l) => `    ${l}`),
      '        opt = torch.optim.Adam(model.parameters(), lr=1e-3)',
      '        for x, y in loader:',
      '            opt.zero_grad()',
      '            F.mse_loss(model(x), y).backward()',
      '            opt.step()',
      '',
    ].join('\n');

  it('spans a header written over several lines, up to its colon', () => {
    assert.equal(loopOf(body('for epoch in range(\n        epochs):'), 'python'), 'for epoch in range(\n            epochs):');
    assert.equal(loopOf(body('for epoch in range(epochs):  # one pass'), 'python'), 'for epoch in range(epochs):');
  });

  it('spans a while loop by its header', () => {
    assert.equal(loopOf(body('while epochs > 0:'), 'python'), 'while epochs > 0:');
  });

  it('lowers JavaScript loops with their headers (`for (…)`, `while (…)`; none for a do-while, whose condition follows its body)', () => {
    const text = ['for (let e = 0;\n     e < n; e++) { f(e); }', 'for (const x of xs) /* each */ { f(x); }', 'while (n > 0) n--;', 'do { n++; } while (n < 3);', ''].join('\n');
    const heads = analyzeDocument(text, 'javascript').module.body.map((s) => (s.kind === 'for' || s.kind === 'block') && s.headSpan ? text.slice(s.headSpan.start, s.headSpan.end) : undefined);
    assert.deepEqual(heads, ['for (let e = 0;\n     e < n; e++)', 'for (const x of xs)', 'while (n > 0)', undefined]);
  });
});
