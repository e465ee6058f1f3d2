import assert from 'node:assert/strict';
import { altText, HOVER_MARKDOWN_LIMIT, HoverMathRenderer, mathColor, renderHoverMarkdown, texToSvg, ThemeKind } from '../../client/render';
import { assertSelfContainedSvg, decodeSvgDataUri, imageUris } from './helpers';
import { hoverMarkdown, SAMPLE_TEX, UPDATE_TEX } from './samples';

const { Light, Dark, HighContrast, HighContrastLight } = ThemeKind;

describe('render/hover', () => {
  it('replaces the ```latex block with an SVG data-URI image and keeps every other line', () => {
    const markdown = hoverMarkdown();
    const out = renderHoverMarkdown(markdown, Dark);
    assert.doesNotMatch(out, /```latex/);
    const uris = imageUris(out);
    assert.equal(uris.length, 1);
    for (const line of markdown.split('\n').filter((l) => l && !l.startsWith('```') && l !== UPDATE_TEX)) {
      assert.ok(out.includes(line), `kept: ${line}`);
    }
    const svg = decodeSvgDataUri(uris[0]);
    assertSelfContainedSvg(svg);
    assert.ok(svg === texToSvg(UPDATE_TEX, { color: mathColor(Dark), displayMode: true }), 'decodes back to the same SVG');
  });

  it('writes the TeX as alt text, escaped so the markdown image stays intact', () => {
    const out = renderHoverMarkdown(hoverMarkdown(), Light);
    const alt = /!\[((?:\\.|[^\]\\])*)\]\(data:/.exec(out)![1];
    assert.equal(alt.replace(/\\(.)/g, '$1'), UPDATE_TEX);
    assert.equal(altText('a]b[c\\d\ne'), 'a\\]b\\[c\\\\d e');
    assert.ok(altText('x'.repeat(1000)).length <= 200);
  });

  it('keeps the image a paragraph of its own', () => {
    const out = renderHoverMarkdown('Correct update:\n```latex\nx^2\n```\nLegend', Dark);
    assert.match(out, /^Correct update:\n\n!\[x\\\^2\]\(data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+\)\n\nLegend$/);
  });

  it('colours the image by theme kind', () => {
    const fills = [Light, Dark, HighContrast, HighContrastLight].map((kind) => {
      const svg = decodeSvgDataUri(imageUris(renderHoverMarkdown(hoverMarkdown(), kind))[0]);
      return /^<svg\b[^>]*\sfill="([^"]+)"/.exec(svg)![1];
    });
    assert.deepEqual(fills, [Light, Dark, HighContrast, HighContrastLight].map(mathColor));
    assert.equal(new Set(fills).size, 4);
  });

  it('mode text leaves the markdown as it is; mode off drops the TeX blocks and keeps the Unicode lines', () => {
    const markdown = hoverMarkdown();
    assert.equal(renderHoverMarkdown(markdown, Dark, { mode: 'text' }), markdown);
    const off = renderHoverMarkdown(markdown, Dark, { mode: 'off' });
    assert.doesNotMatch(off, /```|\\leftarrow|data:/);
    assert.match(off, /Correct update: W ← W − η\(∂L\/∂W \+ 2λW\)/);
    assert.match(off, /\[NB101 penalty-as-gradient\]/);
  });

  it('falls back to the original text block when the TeX cannot be typeset', () => {
    const errors: string[] = [];
    const renderer = new HoverMathRenderer({ onError: (tex) => errors.push(tex) });
    const bad = String.raw`\frac{\partial L}{`;
    const markdown = `${hoverMarkdown(bad)}\n\n${'```latex'}\n${UPDATE_TEX}\n${'```'}`;
    const out = renderer.render(markdown, Dark);
    assert.ok(out.includes(`\`\`\`latex\n${bad}\n\`\`\``), 'invalid block kept verbatim');
    assert.equal(imageUris(out).length, 1, 'the valid block still becomes an image');
    assert.deepEqual(errors, [bad]);
    assert.equal(renderer.stats.errors, 1);
    renderer.render(markdown, Dark);
    assert.equal(renderer.stats.errors, 1, 'failures are cached too');
    assert.deepEqual(errors, [bad]);
  });

  it('never returns an empty hover when the typesetter throws something unexpected', () => {
    const renderer = new HoverMathRenderer({
      texToSvg: () => {
        throw new RangeError('boom');
      },
    });
    const markdown = hoverMarkdown();
    assert.equal(renderer.render(markdown, Dark), markdown);
  });

  it('leaves other fences, empty and unclosed latex blocks alone', () => {
    const markdown = ['```python', '```latex', 'not math', '```', '', '```latex', '```', '', '```latex', 'x^2'].join('\n');
    assert.equal(renderHoverMarkdown(markdown, Dark), markdown);
  });

  it('handles CRLF, tilde fences, longer fences and indented fences', () => {
    for (const markdown of [
      'a\r\n\r\n```latex\r\nx^2\r\n```\r\n\r\nb',
      'a\n\n~~~latex\nx^2\n~~~\n\nb',
      'a\n\n````latex\nx^2\n```\n````\n\nb',
      'a\n\n   ```latex\n   x^2\n   ```\n\nb',
      'a\n\n```LaTeX title\nx^2\n```\n\nb',
    ]) {
      const out = renderHoverMarkdown(markdown, Dark);
      assert.equal(imageUris(out).length, 1, JSON.stringify(markdown));
      assert.match(out, /^a\r?\n\r?\n {0,3}!\[/);
      assert.match(out, /\)\r?\n\r?\nb$/);
    }
  });

  it('serves repeated TeX from the cache, keyed by theme kind, and stays within its size', () => {
    const renderer = new HoverMathRenderer({ cacheSize: 3 });
    const first = renderer.render(hoverMarkdown(), Dark);
    assert.deepEqual({ hits: renderer.stats.hits, misses: renderer.stats.misses }, { hits: 0, misses: 1 });
    const second = renderer.render(hoverMarkdown(), Dark);
    assert.equal(second, first);
    assert.deepEqual({ hits: renderer.stats.hits, misses: renderer.stats.misses }, { hits: 1, misses: 1 });

    assert.notEqual(renderer.render(hoverMarkdown(), Light), first, 'another theme is another image');
    assert.equal(renderer.stats.misses, 2);
    for (const tex of SAMPLE_TEX.slice(1, 5)) renderer.render(hoverMarkdown(tex), Dark);
    assert.equal(renderer.size, 3);
    renderer.clear();
    assert.equal(renderer.size, 0);
  });

  it('turns the largest images back into TeX blocks until the markdown fits in 100,000 characters', () => {
    // Long, different formulas: each image is tens of kB, so all of them cannot fit.
    const blocks = Array.from({ length: 16 }, (_, i) => `${SAMPLE_TEX[(i % 6) * 3]} + ${'x_{%}'.replace('%', String(i))}`);
    const markdown = blocks.map((tex) => `Step ${blocks.indexOf(tex)}\n\n\`\`\`latex\n${tex}\n\`\`\``).join('\n\n');
    const renderer = new HoverMathRenderer();
    const everything = renderer.render(markdown, Dark, { maxLength: Number.MAX_SAFE_INTEGER });
    assert.ok(everything.length > HOVER_MARKDOWN_LIMIT, `test needs more than the limit, got ${everything.length}`);
    const uris = imageUris(everything);
    assert.equal(uris.length, blocks.length);

    const out = renderer.render(markdown, Dark);
    assert.ok(out.length <= HOVER_MARKDOWN_LIMIT, `${out.length} chars`);
    const kept = imageUris(out);
    assert.ok(kept.length > 0 && kept.length < blocks.length, `${kept.length} images kept`);
    assert.equal(renderer.stats.sizeFallbacks, blocks.length - kept.length);
    // The ones turned back are the largest: every kept image is no larger than any dropped one.
    const dropped = uris.filter((u) => !kept.includes(u));
    assert.ok(Math.max(...kept.map((u) => u.length)) <= Math.min(...dropped.map((u) => u.length)));
    for (const [i, tex] of blocks.entries()) {
      assert.ok(out.includes(`Step ${i}`));
      if (dropped.includes(uris[i])) assert.ok(out.includes(`\`\`\`latex\n${tex}\n\`\`\``), `block ${i} kept as TeX`);
    }
  });

  it('keeps the text as it is when even without images it is over the limit', () => {
    const markdown = `${'x'.repeat(50)}\n\n${'```latex'}\nx^2\n${'```'}`;
    assert.equal(renderHoverMarkdown(markdown, Dark, { maxLength: 40 }), markdown);
  });
});
