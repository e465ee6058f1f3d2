// The `nabla/explain` request: the math at a position, for the update-rule panel. The result is
// the engine's Explanation (server/engine/explain.ts). It comes from another process, so it is read
// field by field here rather than trusted by type: a field the panel does not know is ignored, a
// field of the wrong type is dropped. Free of vscode imports, so it is testable.
import type { PanelContent, PanelLegendEntry, PanelMath, PanelSection } from './render/panelHtml';

export { EXPLAIN_METHOD, type ExplainParams } from '../server/lsp/protocol';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strs = (v: unknown): string[] => arr(v).map(str).filter((s): s is string => s !== undefined);

function math(latex: unknown, unicode?: unknown, label?: string, display = true): PanelMath[] {
  const tex = str(latex);
  return tex ? [{ latex: tex, unicode: str(unicode), label, display }] : [];
}

function legend(v: unknown): PanelLegendEntry[] {
  return arr(v)
    .map(obj)
    .flatMap((e) => (e && str(e.tex) && str(e.code) ? [{ tex: str(e.tex)!, unicode: str(e.unicode), code: str(e.code)! }] : []));
}

function section(s: PanelSection): PanelSection[] {
  return s.math.length > 0 || (s.text?.length ?? 0) > 0 || (s.notes?.length ?? 0) > 0 ? [s] : [];
}

/** The panel's content for a `nabla/explain` result; undefined when there is nothing to show. */
export function explanationToPanel(result: unknown): PanelContent | undefined {
  const r = obj(result);
  if (!r) return undefined;
  const sections: PanelSection[] = [];

  for (const f of arr(r.findings).map(obj)) {
    if (!f) continue;
    const code = str(f.code);
    const docs = str(f.docsUrl);
    sections.push(
      ...section({
        heading: [code, str(f.message)].filter(Boolean).join(' · ') || 'Finding',
        text: strs([f.summary, typeof f.alternative === 'string' ? `Or: ${f.alternative}` : undefined]),
        math: math(f.correctTex, f.correctUnicode, str(f.correctLabel) ?? 'Correct update'),
        link: docs ? { href: docs, label: code ? `${code} documentation` : 'Rule documentation' } : undefined,
      }),
    );
  }

  const computed = obj(r.computed);
  if (computed) {
    sections.push(
      ...section({
        heading: 'What the line computes',
        math: math(computed.tex, computed.unicode),
        legend: legend(computed.legend),
        notes: computed.elided === true ? ['Part of the line is shown as … to keep the formula short.'] : [],
      }),
    );
  }

  const penalty = obj(r.penalty);
  if (penalty) {
    sections.push(
      ...section({
        heading: 'Penalty',
        math: [...math(penalty.tex, penalty.unicode, 'R(W)'), ...math(penalty.gradientTex, penalty.gradientUnicode, penalty.subgradient === true ? 'Subgradient' : 'Gradient')],
        legend: legend(penalty.legend),
      }),
    );
  }

  const forms = obj(r.equivalentForms);
  if (forms) {
    sections.push(
      ...section({
        heading: 'Equivalent forms',
        math: [...math(forms.lossTex, forms.lossUnicode, 'In the loss'), ...math(forms.updateTex, forms.updateUnicode, 'In the update')],
        notes: [...strs(forms.knobs), ...strs([forms.note])],
      }),
    );
  }

  const optimizer = obj(r.optimizer);
  if (optimizer) {
    const unicode = arr(optimizer.unicode);
    sections.push(
      ...section({
        heading: str(optimizer.name) ?? 'Optimizer',
        math: arr(optimizer.tex).flatMap((tex, i) => math(tex, unicode[i])),
        legend: legend(optimizer.legend),
        notes: strs(optimizer.notes),
      }),
    );
  }

  const step = obj(r.optimizerStep);
  if (step) {
    const lines = arr(step.lines).map(obj);
    const corrections = arr(step.corrections).map(obj);
    const book = obj(step.textbook);
    const bookUnicode = arr(book?.unicode);
    sections.push(
      ...section({
        heading: str(step.title) ?? 'Hand-written optimizer',
        math: [
          ...lines.flatMap((l) => (l ? math(l.tex, l.unicode) : [])),
          ...corrections.flatMap((c) => (c ? math(c.tex, c.unicode, `Corrected (${str(c.code) ?? 'finding'})`) : [])),
        ],
        legend: legend(step.legend),
      }),
      ...section({
        heading: `Textbook ${str(step.family) ?? 'form'}`,
        math: arr(book?.tex).flatMap((tex, i) => math(tex, bookUnicode[i])),
        notes: strs([book?.source]),
      }),
    );
  }

  const comment = obj(r.comment);
  if (comment) {
    const formulas = arr(comment.formulas).map(obj);
    sections.push(...section({ heading: 'Math in the comment', math: formulas.flatMap((f) => (f ? math(f.tex, undefined, undefined, f.display !== false) : [])) }));
  }

  if (sections.length === 0) return undefined;
  return { title: str(r.title), sections };
}
