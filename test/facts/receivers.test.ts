// Two reads that depend on their receiver (stop 41, review leftovers): `K.variable(x)` is the number x
// only on Keras's backend by the file's imports, and `x.gradient(a, b)` is a whole gradient only on a
// name the file binds to a gradient tape.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { scalarCastOperand } from '../../server/engine/facts/catalogue';
import { tapeNames, wholeGradientCall } from '../../server/engine/facts/autodiff';
import type { Expr } from '../../server/engine/ir';

type Call = Expr & { kind: 'call' };

function assignedCalls(lines: string[]): { calls: Call[]; doc: ReturnType<typeof analyzeDocument> } {
  const doc = analyzeDocument([...lines, ''].join('\n'), 'python');
  const calls: Call[] = [];
  const visit = (stmts: typeof doc.module.body): void => {
    for (const s of stmts) {
      if (s.kind === 'assign' && s.value.kind === 'call') calls.push(s.value);
      if (s.kind === 'block' || s.kind === 'for' || s.kind === 'function') visit(s.body);
    }
  };
  visit(doc.module.body);
  return { calls, doc };
}

describe('facts: reads that depend on their receiver', () => {
  before(() => initEngine());

  it('reads `variable(x)` as x on Keras backend only', () => {
    const { calls, doc } = assignedCalls([
      'from keras import backend as K',
      'import tensorflow as tf',
      'from store import params',
      'a = K.variable(0.01, name="lr")',
      'b = tf.keras.backend.variable(0.5)',
      'c = params.variable(0.0)',
    ]);
    const modulePath = (e: Expr) => doc.facts.analyzer.modulePath(e);
    const [a, b, c] = calls.map((call) => scalarCastOperand(call, modulePath));
    assert.equal(a?.kind, 'num');
    assert.equal(b?.kind, 'num');
    assert.equal(c, undefined);
    // Without the file's imports nothing says the receiver is Keras's backend.
    assert.equal(scalarCastOperand(calls[0]), undefined);
  });

  it('reads `x.gradient(a, b)` as a gradient only on a tape', () => {
    const { calls, doc } = assignedCalls([
      'import tensorflow as tf',
      'def step(model, x, y, field, pts):',
      '    with tf.GradientTape() as tape:',
      '        loss = model(x)',
      '    g = tape.gradient(loss, model.trainable_variables)',
      '    other = tf.GradientTape(persistent=True)',
      '    h = other.gradient(loss, model.trainable_variables)',
      '    s = field.gradient(pts, 1)',
      '    return g, h, s',
    ]);
    const tapes = tapeNames(doc.module.body);
    assert.deepEqual([...tapes].sort(), ['other', 'tape']);
    const isModule = (e: Expr) => doc.facts.analyzer.isModule(e);
    const byTarget = calls.filter((c) => c.callee.kind === 'attr' && c.callee.name === 'gradient');
    assert.deepEqual(byTarget.map((c) => wholeGradientCall(c, isModule, tapes)), [true, true, false]);
  });
});
