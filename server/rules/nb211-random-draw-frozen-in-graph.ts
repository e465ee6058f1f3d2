// NB211 random-draw-frozen-in-graph: randomness drawn with NumPy (`np.random.*`) or Python's
// `random` inside a Keras layer's `call` or a `@tf.function`, which TensorFlow traces once: the draw
// becomes a constant of the graph, and the same mask (the same noise) is used on every step.
//
// ## What it does
// Reports what engine/facts/frozenDraws.ts finds: the draw, and the traced function it runs in.
import { defineRule } from './rule';
import { frozenDraws } from '../engine/facts/frozenDraws';

export const nb211RandomDrawFrozenInGraph = defineRule({
  meta: {
    code: 'NB211',
    name: 'random-draw-frozen-in-graph',
    severity: 'warning',
    summary: "A NumPy or Python `random` draw inside a Keras layer's `call` or a `tf.function`: traced once, the draw is a constant of the graph, the same on every step",
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const f of frozenDraws(facts)) {
      const written = facts.source(f.draw.callee.span);
      const owner = f.traced.cls ? `\`${f.traced.cls.name}.${f.traced.name}\`` : `\`${f.traced.name}\``;
      const traced =
        f.why === 'keras'
          ? `${owner} is a Keras ${f.traced.name === 'call' ? 'layer\'s `call`' : `\`${f.traced.name}\``}, which Keras traces into a graph (a Functional model, \`fit\`, \`predict\`, \`tf.function\`)`
          : `${owner} is a \`tf.function\`, traced into a graph`;
      const via = f.fn !== f.traced ? ` (through \`${f.fn.name}\`, which it calls)` : '';
      context.report({
        span: f.draw.span,
        message:
          `\`${written}(…)\` draws on the host, in Python${via}, and ${traced}: tracing runs the Python once, so the draw's value becomes a constant of the graph. ` +
          `Every step uses the same values (a dropout or DropBlock mask drops the same units each time, a noise is the same noise), and a retrace draws them once more. ` +
          `Draw with a TensorFlow op instead (\`tf.random.uniform\`, \`tf.random.normal\`, \`tf.random.stateless_*\`), which draws anew on every run of the graph.`,
        related: [{ span: f.traced.nameSpan ?? f.traced.span, message: f.why === 'keras' ? 'the method Keras traces' : 'the traced function' }],
      });
    }
  },
});
