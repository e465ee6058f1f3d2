import assert from 'node:assert/strict';
import { explanationToPanel } from '../../client/explain';
import { InlineStyles, panelBody, panelHtml, texToKatexHtml, TexRenderError } from '../../client/render';
import { UPDATE_TEX } from './samples';

const NONCE = 'abcdefghijklmnopqrstuvwx';
const CSP_SOURCE = 'https://*.vscode-cdn.net';

function page(body: string, styles: InlineStyles): string {
  return panelHtml({ cspSource: CSP_SOURCE, katexCssUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/katex/katex.min.css', nonce: NONCE, body, styles });
}

describe('render/panel', () => {
  it('renders KaTeX HTML with hidden MathML, and rejects invalid TeX', () => {
    const html = texToKatexHtml(UPDATE_TEX);
    assert.match(html, /class="katex-display"/);
    assert.match(html, /class="katex-mathml"/);
    assert.throws(() => texToKatexHtml(String.raw`\href{https://x}{y}`), TexRenderError);
  });

  it('moves every inline style into a nonce’d stylesheet, with !important', () => {
    const styles = new InlineStyles();
    const body = panelBody(
      {
        title: 'Update of `W`',
        sections: [{ heading: 'NB101 · Penalty <in> update', math: [{ label: 'Correct update', latex: UPDATE_TEX, unicode: 'W ← W − η(∂L/∂W + 2λW)' }], legend: [{ tex: '\\eta', code: 'lr' }] }],
      },
      styles,
      'nothing',
    );
    assert.doesNotMatch(body, /\sstyle=/);
    assert.match(body, /<span class="strut nb-s\d+">/);
    const css = styles.css();
    assert.match(css, /^\.nb-s0\{[a-z-]+:[^;{}]+ !important(;[a-z-]+:[^;{}]+ !important)*\}$/m);
    assert.doesNotMatch(css, /[<>@\\]/);
    assert.match(body, /<h1>Update of <code>W<\/code><\/h1>/);
    assert.match(body, /<h2>NB101 · Penalty &#60;in&#62; update<\/h2>/);
    assert.match(body, /<h3>Correct update<\/h3>\n<div class="math"><span class="katex-display">/);
    assert.match(body, /<p class="unicode">W ← W − η\(∂L\/∂W \+ 2λW\)<\/p>/);
    assert.match(body, /<li><span class="katex">.*<\/span> = <code>lr<\/code><\/li>/);

    const html = page(body, styles);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1];
    assert.equal(csp, `default-src 'none'; style-src ${CSP_SOURCE} 'nonce-${NONCE}'; font-src ${CSP_SOURCE}; img-src ${CSP_SOURCE} data:`);
    assert.doesNotMatch(html, /<script|\son\w+=|javascript:/i);
    assert.equal([...html.matchAll(/<style\b[^>]*>/g)].length, 1);
    assert.match(html, new RegExp(`<style nonce="${NONCE}">`));
    assert.doesNotMatch(html, /\sstyle="/);
    assert.doesNotMatch(html, /https?:\/\/(?!\*\.vscode-cdn\.net|file\+\.vscode-resource|www\.w3\.org)/, 'no remote resources');
  });

  it('keeps KaTeX’s own classes when adding its style class', () => {
    const styles = new InlineStyles();
    assert.equal(styles.extract('<span class="a b" style="height:1em;">x</span><span style="top:-3em;">y</span><b style="x{}:1">z</b>'), '<span class="a b nb-s0">x</span><span class="nb-s1">y</span><b>z</b>');
    assert.equal(styles.css(), '.nb-s0{height:1em !important}\n.nb-s1{top:-3em !important}');
    assert.equal(styles.extract('<i style="height:1em">'), '<i class="nb-s0">', 'same declarations, same class');
  });

  it('shows invalid TeX as code, an empty state, and only https links', () => {
    const styles = new InlineStyles();
    const body = panelBody({ sections: [{ heading: 'h', math: [{ latex: String.raw`\frac{` }], link: { href: 'javascript:alert(1)', label: 'x' } }] }, styles, 'nothing');
    assert.match(body, /<code class="tex" title="[^"]+">\\frac\{<\/code>/);
    assert.doesNotMatch(body, /javascript/);
    assert.equal(panelBody(undefined, styles, 'Move the <cursor>'), '<p class="empty">Move the &#60;cursor&#62;</p>');
    assert.equal(panelBody({ sections: [] }, styles, 'none'), '<p class="empty">none</p>');
    const linked = panelBody({ sections: [{ heading: 'NB101', math: [{ latex: 'x' }], link: { href: 'https://example.com/NB101', label: 'NB101 documentation' } }] }, styles, '');
    assert.match(linked, /<a href="https:\/\/example\.com\/NB101">NB101 documentation<\/a>/);
  });

  it('refuses a weak nonce', () => {
    assert.throws(() => panelHtml({ cspSource: CSP_SOURCE, katexCssUri: 'x', nonce: 'x"', body: '', styles: new InlineStyles() }));
  });

  describe('explanationToPanel (the engine’s Explanation)', () => {
    const legend = [{ tex: '\\eta', unicode: 'η', code: 'lr' }];

    it('turns findings, computed, penalty, equivalent forms, optimizer and comment into sections', () => {
      const content = explanationToPanel({
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } },
        kind: 'update',
        title: 'Update of `W`',
        findings: [{ code: 'NB101', severity: 'error', message: 'penalty in the update', summary: 'R(W) where ∇R(W) belongs', docsUrl: 'https://x/NB101', range: {}, correctTex: 'W - 2\\lambda W', correctUnicode: 'W − 2λW' }],
        computed: { tex: 'W - \\lambda W^2', unicode: 'W − λW²', legend, elided: false },
        penalty: { kind: 'sumsq', tex: '\\lambda\\sum W^2', unicode: 'λΣW²', gradientTex: '2\\lambda W', gradientUnicode: '2λW', subgradient: false, legend },
        equivalentForms: { lossTex: 'L + \\lambda', lossUnicode: 'L + λ', updateTex: 'W', updateUnicode: 'W', knobs: ['PyTorch `SGD(weight_decay=2λ)`'], note: 'Same for plain SGD.' },
        optimizer: { framework: 'torch', name: 'torch.optim.AdamW', tex: ['a', 'b'], unicode: ['a'], coupling: 'decoupled', lrScaled: true, legend: [], notes: ['Decoupled.'] },
        comment: { formulas: [{ tex: 'x', display: false, range: {} }, { tex: 'y', display: true, range: {} }] },
        future: { ignored: true },
      });
      assert.ok(content);
      assert.equal(content.title, 'Update of `W`');
      assert.deepEqual(
        content.sections.map((s) => s.heading),
        ['NB101 · penalty in the update', 'What the line computes', 'Penalty', 'Equivalent forms', 'torch.optim.AdamW', 'Math in the comment'],
      );
      const [finding, computed, penalty, forms, optimizer, comment] = content.sections;
      assert.deepEqual(finding.math, [{ latex: 'W - 2\\lambda W', unicode: 'W − 2λW', label: 'Correct update', display: true }]);
      assert.deepEqual(finding.link, { href: 'https://x/NB101', label: 'NB101 documentation' });
      assert.deepEqual(finding.text, ['R(W) where ∇R(W) belongs']);
      assert.deepEqual(computed.legend, [{ tex: '\\eta', unicode: 'η', code: 'lr' }]);
      assert.deepEqual(penalty.math.map((m) => m.label), ['R(W)', 'Gradient']);
      assert.deepEqual(forms.notes, ['PyTorch `SGD(weight_decay=2λ)`', 'Same for plain SGD.']);
      assert.deepEqual(optimizer.notes, ['Decoupled.']);
      assert.deepEqual(optimizer.math, [{ latex: 'a', unicode: 'a', label: undefined, display: true }, { latex: 'b', unicode: undefined, label: undefined, display: true }]);
      assert.deepEqual(comment.math.map((m) => m.display), [false, true]);
      // And the whole thing renders.
      assert.doesNotMatch(panelBody(content, new InlineStyles(), ''), /class="tex"/);
    });

    it('drops wrong types and gives nothing for nothing', () => {
      assert.deepEqual(explanationToPanel({ title: 3, findings: [null, 'x', { code: 'NB1', correctTex: 5 }], computed: { tex: ['x'] }, optimizer: { tex: 'not a list' } }), undefined);
      for (const result of [null, undefined, 'x', 3, [], {}, { findings: [] }]) assert.equal(explanationToPanel(result), undefined);
    });
  });
});
