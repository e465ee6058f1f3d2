// The hover markdown for an Explanation (server/engine/explain.ts): each formula as TeX in a
// ```latex block (the client replaces it with an image; other editors show the TeX), always
// followed by the same formula as a plain Unicode line (screen readers do not read images), the
// legend, the rule's explanation and a link to its page. The number of formulas is capped: each
// becomes an image of about 10 kB in the client, and VS Code cuts hover markdown at 100,000
// characters. Pure presentation, with no LSP types: convert.ts wraps it in a Hover.
import type { Explanation, LegendEntry } from '../engine/explain';
import { HOVER_MATH_FENCE } from './protocol';

/** Most formulas (```latex blocks) in one hover. */
export const MAX_HOVER_FORMULAS = 6;
/** Longest TeX put in a block; longer formulas are shown as their Unicode line only. */
export const MAX_HOVER_TEX = 3000;
/** Longest hover text (before the client adds images). */
export const MAX_HOVER_MARKDOWN = 20_000;

/** Backslash-escapes the characters that would start markdown formatting inside a line of text. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~#]/g, '\\$&');
}

/** `text` as inline code, with a fence longer than any backtick run inside it. */
export function inlineCode(text: string): string {
  const clean = text.replace(/\s+/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** A fenced block of TeX; the fence is longer than any backtick run in the TeX. */
function texBlock(tex: string): string {
  const longest = Math.max(2, ...(tex.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${HOVER_MATH_FENCE}\n${tex.trim()}\n${fence}`;
}

/** Markdown with inline code (backticks) kept and everything else escaped. */
function withCode(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? part : escapeMarkdown(part)))
    .join('');
}

function legendLine(legend: LegendEntry[]): string | undefined {
  if (legend.length === 0) return undefined;
  return `where ${legend.map((e) => `${escapeMarkdown(e.unicode)} = ${inlineCode(e.code)}`).join(', ')}`;
}

/** Builds the hover markdown, counting formulas so the hover stays small. */
class HoverWriter {
  private readonly parts: string[] = [];
  private formulas = 0;

  text(line: string | undefined): void {
    if (line) this.parts.push(line);
  }

  rule(): void {
    if (this.parts.length > 1) this.parts.push('---');
  }

  /** A formula: the TeX block (while the cap allows) and always its Unicode line. */
  formula(tex: string | undefined, unicodeLine: string | undefined): void {
    if (tex && tex.length <= MAX_HOVER_TEX && this.formulas < MAX_HOVER_FORMULAS) {
      this.parts.push(texBlock(tex));
      this.formulas++;
    }
    if (unicodeLine) this.parts.push(unicodeLine);
  }

  done(): string {
    let markdown = this.parts.join('\n\n');
    if (markdown.length > MAX_HOVER_MARKDOWN) markdown = `${markdown.slice(0, MAX_HOVER_MARKDOWN - 1)}…`;
    return markdown;
  }
}

/** The hover markdown for an explanation. */
export function explanationToMarkdown(ex: Explanation): string {
  const w = new HoverWriter();
  w.text(`**Nabla** · ${withCode(ex.title)}`);

  if (ex.computed) {
    w.formula(ex.computed.tex, `Computes: ${escapeMarkdown(ex.computed.unicode)}`);
    w.text(legendLine(ex.computed.legend));
  }

  for (const f of ex.findings) {
    w.rule();
    w.text(`**[${escapeMarkdown(f.code)}](${f.docsUrl})** ${withCode(f.summary)}`);
    if (f.correctUnicode) w.formula(f.correctTex, `${f.correctLabel ?? 'Correct update'}: ${escapeMarkdown(f.correctUnicode)}`);
    else if (f.expected) w.text(`Expected: ${escapeMarkdown(f.expected)}`);
    if (f.alternative) w.text(`Or: ${escapeMarkdown(f.alternative)}`);
  }

  if (ex.penalty) {
    const p = ex.penalty;
    w.rule();
    w.formula(p.tex, `Penalty: ${escapeMarkdown(p.unicode)}`);
    w.formula(p.gradientTex, `${p.subgradient ? 'Subgradient' : 'Gradient'}: ${escapeMarkdown(p.gradientUnicode)}`);
    w.text(legendLine(p.legend));
  }

  if (ex.optimizer) {
    const o = ex.optimizer;
    w.rule();
    const kind = o.coupling === 'none' ? 'no weight decay' : `${o.coupling} weight decay, ${o.lrScaled ? 'scaled by the learning rate' : 'not scaled by the learning rate'}`;
    w.text(`**Update performed** (${kind})`);
    o.tex.forEach((tex, i) => w.formula(tex, escapeMarkdown(o.unicode[i] ?? '')));
    w.text(legendLine(o.legend));
    for (const note of o.notes) w.text(`_${withCode(note)}_`);
  }

  if (ex.optimizerStep) {
    const o = ex.optimizerStep;
    w.rule();
    w.text(`**${escapeMarkdown(o.title)}**: the step as written, one line per state`);
    for (const line of o.lines) w.formula(line.tex, escapeMarkdown(line.unicode));
    for (const c of o.corrections) w.formula(c.tex, `Corrected ([${escapeMarkdown(c.code)}](${c.docsUrl})): ${escapeMarkdown(c.unicode)}`);
    w.text(legendLine(o.legend));
    const book = o.textbook;
    if (o.family && book) {
      w.text(`**Textbook ${escapeMarkdown(o.family)}**`);
      book.tex.forEach((tex, i) => w.formula(tex, escapeMarkdown(book.unicode[i] ?? '')));
      w.text(`_${escapeMarkdown(book.source)}_`);
    }
  }

  if (ex.equivalentForms) {
    const e = ex.equivalentForms;
    w.rule();
    w.text('**Where the regularizer can live**: two forms of the same choice');
    w.formula(e.lossTex, `In the loss: ${escapeMarkdown(e.lossUnicode)}`);
    w.formula(e.updateTex, `In the update: ${escapeMarkdown(e.updateUnicode)}`);
    if (e.knobs.length > 0) w.text(['Framework settings that give the same:', ...e.knobs.map((k) => `- ${withCode(k)}`)].join('\n'));
    w.text(`_${withCode(e.note)}_`);
  }

  if (ex.comment) {
    for (const f of ex.comment.formulas) {
      if (f.error) w.text(`${inlineCode(f.tex)} (not valid KaTeX: ${escapeMarkdown(f.error.replace(/^KaTeX parse error: /, ''))})`);
      else w.formula(f.tex, undefined);
    }
  }
  return w.done();
}

