// TeX the server sends in hovers (the forms server/math/print/latex.ts prints) plus a few longer
// update rules. Shared by the render tests and bench/render.ts.
export const SAMPLE_TEX: readonly string[] = [
  String.raw`W \leftarrow W - \eta\left(\frac{\partial L}{\partial W} + 2\lambda W\right)`,
  String.raw`W \leftarrow W - \eta\left(\frac{\partial L}{\partial W} + \lambda\sum W^{2}\right)`,
  String.raw`\lambda\sum W^{2}`,
  String.raw`0.5\lambda\sum W^{2}`,
  String.raw`\frac{\lambda}{2n}\sum w^{2}`,
  String.raw`\lambda\lVert W\rVert_2`,
  String.raw`\lambda\sum \lvert W\rvert`,
  String.raw`2\lambda\,W`,
  String.raw`\lambda\,\frac{W}{\lVert W\rVert_2}`,
  String.raw`\lambda\operatorname{sign}(W)`,
  String.raw`10^{-3}\,W`,
  String.raw`2\lambda\,\mathtt{self.W}`,
  String.raw`\lambda\sum \mathtt{params["W1"]}^{2}`,
  String.raw`0.5c\,\mathtt{p[j]}^{2}`,
  String.raw`\lambda\sum \left(\mathtt{a\ +\ b}\right)^{2}`,
  String.raw`\mathtt{r\text{é}}`,
  String.raw`\mathtt{a\char"27 b\char"7E c}`,
  String.raw`\left(1-\beta\right)\,\lambda`,
  String.raw`{x^{2}}^{2}`,
  String.raw`W_1 \leftarrow (1-\eta\lambda)\,W_1 - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon}`,
  String.raw`\nabla_W\left(L + \lambda\lVert W\rVert_2^2\right) = \frac{\partial L}{\partial W} + 2\lambda W`,
  String.raw`\begin{aligned} R(W) &= \lambda\lVert W\rVert_2^2 \\ \nabla R(W) &= 2\lambda W \end{aligned}`,
  String.raw`\theta_{t+1} = \theta_t - \eta\,\nabla_\theta \mathcal{L}(\theta_t)`,
];

/** The example of the design: NB101's corrected update. */
export const UPDATE_TEX = SAMPLE_TEX[0];

/** Hover markdown as the server sends it: prose, the Unicode line, the TeX block, a legend, a link. */
export function hoverMarkdown(tex: string = UPDATE_TEX): string {
  return [
    '**NB101** The update adds the penalty R(W) where its gradient ∇R(W) belongs.',
    '',
    'Correct update: W ← W − η(∂L/∂W + 2λW)',
    '',
    '```latex',
    tex,
    '```',
    '',
    'η = `lr`, λ = `reg`',
    '',
    '[NB101 penalty-as-gradient](https://github.com/nabla-dev/nabla/blob/main/docs/rules/NB101.md)',
  ].join('\n');
}
