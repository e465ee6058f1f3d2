// The hover of a finding about a term that never takes effect: a penalty left out of the
// differentiated loss (NB301, NB304), one that is a constant to the gradient (NB302, NB303, NB305),
// closures that all read the last weights (NB305), or an optimizer's decay knob that no step reads
// (NB206), or added to a gradient the step never reads (NB206). There is no update line to typeset, so the hover shows what the code differentiates or
// steps against what it means, in symbols, with the code behind each symbol as the legend.
import type { Explanation, FindingSection, LegendEntry } from './explain';
import type { Finding, MissingTerm } from './types';

interface Forms {
  title: string;
  computed: { tex: string; unicode: string };
  correct: { tex: string; unicode: string };
  legend: LegendEntry[];
}

const theta = (m: MissingTerm): LegendEntry[] => (m.params ? [{ tex: '\\theta', unicode: 'θ', code: m.params }] : []);
const loss = (m: MissingTerm): LegendEntry[] => (m.loss ? [{ tex: '\\ell', unicode: 'ℓ', code: m.loss }] : []);

function formsOf(m: MissingTerm): Forms {
  switch (m.how) {
    case 'left-out':
      return {
        title: m.loss ? `Gradient of \`${m.loss}\`` : 'Gradient of the loss',
        computed: { tex: '\\nabla_\\theta\\, \\ell', unicode: '∇θ ℓ' },
        correct: { tex: '\\nabla_\\theta\\, (\\ell + R)', unicode: '∇θ (ℓ + R)' },
        legend: [...loss(m), { tex: 'R', unicode: 'R', code: m.term }, ...theta(m)],
      };
    case 'no-gradient':
      return {
        title: m.loss ? `Gradient of \`${m.loss}\`` : 'Gradient of the loss',
        computed: { tex: '\\nabla_\\theta\\, (\\ell + R) = \\nabla_\\theta\\, \\ell', unicode: '∇θ (ℓ + R) = ∇θ ℓ' },
        correct: { tex: '\\nabla_\\theta\\, (\\ell + R) = \\nabla_\\theta\\, \\ell + \\nabla_\\theta R', unicode: '∇θ (ℓ + R) = ∇θ ℓ + ∇θ R' },
        legend: [...loss(m), { tex: 'R', unicode: 'R', code: m.term }, ...theta(m)],
      };
    case 'late-binding':
      return {
        title: 'Penalties added in the loop',
        computed: { tex: '\\sum_{k=1}^{n} R(W_n) = n\\, R(W_n)', unicode: 'Σₖ R(Wₙ) = n·R(Wₙ)' },
        correct: { tex: '\\sum_{k=1}^{n} R(W_k)', unicode: 'Σₖ R(Wₖ)' },
        legend: [{ tex: 'W_n', unicode: 'Wₙ', code: `${m.term} after the last iteration` }],
      };
    case 'never-applied': {
      // The knob itself (`weight_decay`) is λ; a decay of the weight as a whole (λ·p) names the weight θ.
      const ofWeight = m.timesStrength === true;
      return {
        title: m.params ? `Step of \`${m.params}\`` : 'The optimizer step',
        computed: { tex: '\\theta \\leftarrow \\theta - \\eta\\, u_t', unicode: 'θ ← θ − η·uₜ' },
        correct: { tex: '\\theta \\leftarrow (1 - \\eta\\lambda)\\,\\theta - \\eta\\, u_t', unicode: 'θ ← (1 − ηλ)θ − η·uₜ' },
        legend: ofWeight ? [{ tex: '\\theta', unicode: 'θ', code: m.term }] : [{ tex: '\\lambda', unicode: 'λ', code: m.term }],
      };
    }
    case 'never-added': {
      // A coupled decay (L2 on the gradient): the step's direction u is computed from g + λθ, not from g.
      const written = m.timesStrength ? [] : [{ tex: '\\lambda\\theta', unicode: 'λθ', code: m.term }];
      return {
        title: m.params ? `Step of \`${m.params}\`` : 'The optimizer step',
        computed: { tex: '\\theta \\leftarrow \\theta - \\eta\\, u(g)', unicode: 'θ ← θ − η·u(g)' },
        correct: { tex: '\\theta \\leftarrow \\theta - \\eta\\, u(g + \\lambda\\theta)', unicode: 'θ ← θ − η·u(g + λθ)' },
        legend: [
          ...(m.gradient ? [{ tex: 'g', unicode: 'g', code: m.gradient }] : []),
          ...(m.params ? [{ tex: '\\theta', unicode: 'θ', code: m.params }] : []),
          ...written,
        ],
      };
    }
  }
}

/** The explanation of the finding at `offset` that carries a missing term, if there is one. */
export function explainMissingTerm(offset: number, findings: Finding[], offsetOf: (f: Finding) => { start: number; end: number }, section: (f: Finding) => FindingSection): Explanation | undefined {
  const f = findings.find((x) => {
    if (!x.math?.missingTerm) return false;
    const r = offsetOf(x);
    return r.start <= offset && offset <= r.end;
  });
  const m = f?.math?.missingTerm;
  if (!f || !m) return undefined;
  const forms = formsOf(m);
  const s = section(f);
  const label = m.how === 'never-applied' || m.how === 'never-added' ? 'Correct update' : m.how === 'late-binding' ? 'Meant' : 'Correct gradient';
  return {
    range: f.range,
    kind: 'update',
    title: forms.title,
    computed: { ...forms.computed, legend: forms.legend, elided: false },
    findings: [{ ...s, correctTex: forms.correct.tex, correctUnicode: forms.correct.unicode, correctLabel: label }],
  };
}
