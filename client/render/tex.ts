// TeX → self-contained SVG. KaTeX parses and validates the TeX and emits MathML; MathJax
// (mathjax-full: lite DOM adaptor, MathML input, SVG output) typesets that MathML into one SVG
// whose glyphs are paths in its own <defs>: no fonts, no CSS, no external references.
// MathJax costs a few hundred milliseconds to load and KaTeX ~45 ms, so both are required lazily, once.
import type { LiteAdaptor } from 'mathjax-full/js/adaptors/liteAdaptor.js';

type Katex = Pick<typeof import('katex'), 'renderToString'>;
let katexModule: Katex | undefined;

/** KaTeX, required on first use: loading it takes ~45 ms that activation need not pay. */
export function katex(): Katex {
  // A require (not an import) so esbuild keeps the module body in a closure run on first call.
  return (katexModule ??= require('katex') as Katex);
}

export interface TexToSvgOptions {
  /** Text colour baked into the SVG: `#rgb`, `#rrggbb` (or with alpha), or a CSS colour keyword. */
  color: string;
  /** Display (block) style, as in `$$…$$`; default false (inline, as in `$…$`). */
  displayMode?: boolean;
  /** Pixels per em for the image's width and height; default 16. */
  emPx?: number;
}

/** The TeX could not be turned into an image: KaTeX rejected it, MathJax failed, or limits were hit. */
export class TexRenderError extends Error {
  override name = 'TexRenderError';
}

/** Longest TeX accepted, in characters: hover math is a line or two, never a document. */
export const MAX_TEX_LENGTH = 4000;

/**
 * `katex.renderToString` for untrusted TeX: strict LaTeX, bounded sizes and macro expansion, and
 * no \href, \url, \includegraphics or \html… (KaTeX would print those as red text; here they
 * are errors). Throws TexRenderError.
 */
export function renderKatex(tex: string, options: { displayMode: boolean; output: 'mathml' | 'htmlAndMathml' }): string {
  if (tex.length > MAX_TEX_LENGTH) throw new TexRenderError(`TeX longer than ${MAX_TEX_LENGTH} characters`);
  let untrusted: string | undefined;
  let html: string;
  try {
    html = katex().renderToString(tex, {
      ...options,
      throwOnError: true,
      strict: 'error',
      trust: (context) => {
        untrusted ??= context.command;
        return false;
      },
      maxSize: 20,
      maxExpand: 200,
      globalGroup: false,
    });
  } catch (error) {
    throw new TexRenderError(error instanceof Error ? error.message : String(error));
  }
  if (untrusted) throw new TexRenderError(`${untrusted} is not allowed in hover math`);
  return html;
}

/**
 * The MathML KaTeX produces for `tex`, unwrapped for MathJax: the `<math>` element alone, without
 * KaTeX's `<span class="katex">`, `<semantics>` wrapper and `<annotation>` (the TeX source).
 * Throws TexRenderError when KaTeX rejects the TeX.
 */
export function texToMathML(tex: string, displayMode = false): string {
  const html = renderKatex(tex, { displayMode, output: 'mathml' });
  const start = html.indexOf('<math');
  const end = html.lastIndexOf('</math>');
  if (start < 0 || end < start) throw new TexRenderError('KaTeX produced no MathML');
  return html
    .slice(start, end + '</math>'.length)
    .replace(/<annotation(?:-xml)?\b[^>]*>[\s\S]*?<\/annotation(?:-xml)?>/g, '')
    .replace(/<\/?semantics>/g, '')
    // KaTeX writes \lvert, \rVert, \vert, | … as bare <mo stretchy="false">∣</mo>, dropping TeX's
    // open/close class; MathJax's operator dictionary then spaces ∣ and ∥ as relations. TeX gives
    // these delimiters no space of their own, so neither does this.
    .replace(/<mo stretchy="false">([|∣∥‖])<\/mo>/g, '<mo stretchy="false" lspace="0em" rspace="0em">$1</mo>')
    // `{}=` (as in aligned's `&=`) makes = a relation in TeX: the empty group is an ordinary atom.
    // MathJax would give the empty <mrow> no class and so no space before the =.
    .replace(/<mrow><\/mrow>/g, '<mrow data-mjx-texclass="ORD"></mrow>');
}

interface MathJaxEngine {
  adaptor: LiteAdaptor;
  convert(mathml: string, display: boolean): ReturnType<LiteAdaptor['firstChild']>;
}

let engine: MathJaxEngine | undefined;

/** Loads MathJax on first use. Later calls return the same engine. */
function mathjax(): MathJaxEngine {
  if (engine) return engine;
  // Lazy requires: esbuild keeps each module's body in a closure that runs on first require.
  const { mathjax: mj } = require('mathjax-full/js/mathjax.js') as typeof import('mathjax-full/js/mathjax.js');
  const { MathML } = require('mathjax-full/js/input/mathml.js') as typeof import('mathjax-full/js/input/mathml.js');
  const { SVG } = require('mathjax-full/js/output/svg.js') as typeof import('mathjax-full/js/output/svg.js');
  const { liteAdaptor } = require('mathjax-full/js/adaptors/liteAdaptor.js') as typeof import('mathjax-full/js/adaptors/liteAdaptor.js');
  const { RegisterHTMLHandler } = require('mathjax-full/js/handlers/html.js') as typeof import('mathjax-full/js/handlers/html.js');
  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  // fontCache 'local': each SVG carries the glyph paths it uses in its own <defs>.
  const document = mj.document('', { InputJax: new MathML(), OutputJax: new SVG({ fontCache: 'local' }) });
  engine = {
    adaptor,
    convert: (mathml, display) => document.convert(mathml, { display, em: 16, ex: 8, containerWidth: 80 * 16 }),
  };
  return engine;
}

/** Loads MathJax now (for a warm-up when idle); rendering loads it anyway when first needed. */
export function warmUp(): void {
  mathjax();
}

/** True once MathJax has been loaded. */
export function isWarm(): boolean {
  return engine !== undefined;
}

const COLOR = /^(#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]{3,20})$/;

function round(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}

/** Escapes what MathJax's serializer leaves raw in attribute values (it escapes only `"`). */
function xmlAttribute(value: string): string {
  return value.replace(/&(?!(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);)/g, '&amp;').replace(/</g, '&lt;');
}

/**
 * Typesets `tex` as a standalone SVG document string. The text colour is set as `color` and
 * `fill` on the root and replaces every `currentColor`; width and height are in pixels (from the
 * viewBox and `emPx`). Throws TexRenderError when the TeX is invalid or cannot be typeset.
 */
export function texToSvg(tex: string, options: TexToSvgOptions): string {
  const { color, displayMode = false, emPx = 16 } = options;
  if (!COLOR.test(color)) throw new TexRenderError(`not a colour: ${color}`);
  if (!(emPx > 0 && emPx <= 200)) throw new TexRenderError(`em size out of range: ${emPx}`);
  const mathml = texToMathML(tex, displayMode);
  const { adaptor, convert } = mathjax();
  let container;
  try {
    container = convert(mathml, displayMode);
  } catch (error) {
    throw new TexRenderError(`MathJax: ${error instanceof Error ? error.message : String(error)}`);
  }
  const svgNode = adaptor.firstChild(container as never);
  if (!svgNode || adaptor.kind(svgNode as never) !== 'svg') throw new TexRenderError('MathJax produced no SVG');
  let svg = adaptor.serializeXML(svgNode as never);
  if (/data-mml-node="merror"|data-mjx-error=/.test(svg)) throw new TexRenderError('MathJax could not typeset the MathML');

  const viewBox = /^<svg\b[^>]*?\sviewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!viewBox) throw new TexRenderError('MathJax SVG has no viewBox');
  // 1000 viewBox units = 1em in MathJax's SVG output.
  const width = (Number(viewBox[3]) / 1000) * emPx;
  const height = (Number(viewBox[4]) / 1000) * emPx;

  svg = svg
    // Attributes only MathJax's own scripts read, and the root's vertical-align style, which
    // means nothing inside an image: smaller, and no CSS.
    .replace(/\sdata-[\w-]+="[^"]*"/g, '')
    // Glyph ids carry a per-conversion counter; the ids are local to this one image, so drop it
    // and the same TeX gives the same bytes every time.
    .replace(/\b(id|href)="#?MJX-\d+-/g, (m) => m.replace(/MJX-\d+-/, 'MJX-'))
    .replace(/^<svg\b[^>]*>/, (tag) => tag.replace(/\s(?:style|role|focusable)="[^"]*"/g, ''))
    .replace(/\s([\w:-]+)="([^"]*)"/g, (_m, name: string, value: string) => ` ${name}="${xmlAttribute(value)}"`)
    .replace(/currentColor/g, color)
    .replace(/^<svg\b/, `<svg role="img" color="${color}" fill="${color}"`)
    .replace(/^(<svg\b[^>]*?)\swidth="[^"]*"/, `$1 width="${round(width)}"`)
    .replace(/^(<svg\b[^>]*?)\sheight="[^"]*"/, `$1 height="${round(height)}"`);
  return svg;
}
