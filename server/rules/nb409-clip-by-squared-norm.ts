// NB409 clip-by-squared-norm: gradient clipping that compares and scales by Σg², not ‖g‖.
//
// ## What it does
// Finds a hand-written global-norm clip whose "norm" is the sum of the gradients' squares, never
// rooted, used as the divisor of the scale θ/S (engine/facts/squaredNormClips.ts).
//
// ## Why is this bad?
// Clipping scales the gradient by θ/‖g‖ when ‖g‖ > θ, so the clipped norm is θ. With S = ‖g‖² the
// scale is θ/‖g‖²: the clipped norm is θ/‖g‖, which shrinks as the gradient grows.
import { defineRule } from './rule';
import { squaredNormClips } from '../engine/facts/squaredNormClips';

export const nb409ClipBySquaredNorm = defineRule({
  meta: {
    code: 'NB409',
    name: 'clip-by-squared-norm',
    severity: 'warning',
    summary: 'Gradient clipping scales by θ/S with S the sum of the squared gradients (‖g‖², never rooted), not their norm ‖g‖: the clipped norm is θ/‖g‖, which falls as the gradient grows',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const c of squaredNormClips(facts)) {
      context.report({
        span: c.span,
        message:
          `${c.norm} is the sum of the squares of ${c.tensor} (‖g‖², never rooted), so this scales ${c.tensor} by ${c.threshold}/‖g‖², not ${c.threshold}/‖g‖: the clipped gradient's norm is ${c.threshold}/‖g‖, not ${c.threshold}, and the larger the gradient the smaller the step` +
          `${c.test ? ` (and the test clips from ‖g‖ > √${c.threshold}, not ‖g‖ > ${c.threshold})` : ''}. Take the root first (\`${c.norm} = ${c.norm} ** 0.5\`, \`torch.sqrt(${c.norm})\`), or compare ${c.norm} with ${c.threshold}² and scale by ${c.threshold}/√${c.norm}`,
        related: [
          { span: c.sum, message: `${c.norm} adds the squares here` },
          ...(c.test ? [{ span: c.test, message: `${c.norm} is compared with ${c.threshold} here` }] : []),
        ],
      });
    }
  },
});
