import assert from 'node:assert/strict';
import { mathColor, MAX_TEX_LENGTH, TexRenderError, texToMathML, texToSvg, ThemeKind } from '../../client/render';
import { assertSelfContainedSvg, assertWellFormedXml } from './helpers';
import { SAMPLE_TEX, UPDATE_TEX } from './samples';

const DARK = mathColor(ThemeKind.Dark);

describe('render/tex', () => {
  describe('texToMathML', () => {
    it('gives the bare <math> element, without KaTeX wrapper, semantics or annotation', () => {
      const mathml = texToMathML(UPDATE_TEX, true);
      assert.match(mathml, /^<math xmlns="http:\/\/www\.w3\.org\/1998\/Math\/MathML" display="block">/);
      assert.match(mathml, /<\/math>$/);
      assert.doesNotMatch(mathml, /semantics|annotation|katex/);
      assert.match(mathml, /<mfrac>/);
      assertWellFormedXml(mathml);
    });

    it('is inline unless display mode is asked for', () => {
      assert.doesNotMatch(texToMathML('x^2'), /display="block"/);
    });

    it('rejects invalid TeX, commands that need trust, non-strict input and overlong TeX', () => {
      for (const tex of [
        String.raw`\frac{1}{`,
        String.raw`\notacommand x`,
        String.raw`\href{https://example.com}{x}`,
        String.raw`\url{https://example.com}`,
        String.raw`\includegraphics{x.png}`,
        String.raw`\htmlClass{x}{y}`,
        'é', // strict mode: Unicode text in math mode
        'x'.repeat(MAX_TEX_LENGTH + 1),
      ]) {
        assert.throws(() => texToMathML(tex, true), TexRenderError, tex.slice(0, 40));
      }
    });

    it('bounds macro expansion', () => {
      const bomb = String.raw`\def\a{xx}\def\b{\a\a\a\a}\def\c{\b\b\b\b}\def\d{\c\c\c\c}\d\d\d\d`;
      assert.throws(() => texToMathML(bomb, true), TexRenderError);
    });
  });

  describe('texToSvg', () => {
    for (const tex of SAMPLE_TEX) {
      it(`typesets ${tex}`, () => {
        const svg = texToSvg(tex, { color: DARK, displayMode: true });
        assertSelfContainedSvg(svg);
        assert.match(svg, new RegExp(`^<svg\\b[^>]*\\sfill="${DARK}"`));
        assert.ok(svg.length < 20_000, `${svg.length} chars`);
      });
    }

    it('bakes each theme kind’s colour into the SVG', () => {
      const colors = new Map<number, string>();
      for (const kind of Object.values(ThemeKind)) {
        const color = mathColor(kind);
        const svg = texToSvg(UPDATE_TEX, { color, displayMode: true });
        assert.match(svg, new RegExp(`^<svg\\b[^>]*\\scolor="${color}"[^>]*\\sfill="${color}"`));
        assert.match(svg, new RegExp(`<g stroke="${color}" fill="${color}"`));
        colors.set(kind, color);
      }
      assert.equal(new Set(colors.values()).size, 4, 'four different colours');
      assert.equal(colors.get(ThemeKind.HighContrast), '#ffffff');
      assert.equal(colors.get(ThemeKind.HighContrastLight), '#000000');
      const luminance = (hex: string): number => parseInt(hex.slice(1, 3), 16);
      assert.ok(luminance(colors.get(ThemeKind.Light)!) < 0x80, 'dark text on light themes');
      assert.ok(luminance(colors.get(ThemeKind.Dark)!) >= 0x80, 'light text on dark themes');
    });

    it('sizes the image in pixels from the viewBox and the em size', () => {
      const at16 = texToSvg('x+y', { color: DARK });
      const at32 = texToSvg('x+y', { color: DARK, emPx: 32 });
      const width = (svg: string): number => Number(/\swidth="([\d.]+)"/.exec(svg)![1]);
      const viewBoxWidth = Number(/\sviewBox="[-\d.]+ [-\d.]+ ([\d.]+)/.exec(at16)![1]);
      assert.ok(Math.abs(width(at16) - (viewBoxWidth / 1000) * 16) < 0.01);
      assert.ok(Math.abs(width(at32) - 2 * width(at16)) < 0.01);
    });

    it('escapes text that reaches attributes and keeps the SVG well-formed', () => {
      assertSelfContainedSvg(texToSvg(String.raw`\mathtt{a<b\ \&\ c>"d"}`, { color: DARK }));
    });

    it('throws TexRenderError for invalid TeX and for a colour that is not one', () => {
      assert.throws(() => texToSvg(String.raw`\frac{`, { color: DARK }), TexRenderError);
      assert.throws(() => texToSvg('x', { color: '#fff" onload="x' }), TexRenderError);
      assert.throws(() => texToSvg('x', { color: 'red;fill:url(http://x)' }), TexRenderError);
    });
  });
});
