// HTML for the "Show Update Rule" webview: real KaTeX HTML (katex.renderToString, rendered here in
// the extension host), KaTeX's CSS and fonts from dist/katex, and no scripts at all. The CSP allows
// no inline style attributes, so KaTeX's `style="…"` attributes become classes in one nonce'd
// <style> element (with !important, which keeps them above KaTeX's own rules as inline styles are).
import { renderKatex } from './tex';

/** One formula. */
export interface PanelMath {
  /** What the formula is, e.g. "Correct update". */
  label?: string;
  latex: string;
  /** Plain Unicode of the same formula, shown under it (and read by screen readers). */
  unicode?: string;
  /** Display style (default) or inline. */
  display?: boolean;
}

/** A symbol and the code it stands for: η = `lr`. */
export interface PanelLegendEntry {
  tex: string;
  unicode?: string;
  code: string;
}

export interface PanelSection {
  heading: string;
  /** Plain-text paragraphs before the math; `code` in backticks is shown as code. */
  text?: string[];
  math: PanelMath[];
  legend?: PanelLegendEntry[];
  /** Plain-text paragraphs after the math and legend, like `text`. */
  notes?: string[];
  /** https only; anything else is left out. */
  link?: { href: string; label: string };
}

/** What the panel shows for the cursor's position. */
export interface PanelContent {
  title?: string;
  sections: PanelSection[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** KaTeX HTML (with hidden MathML for screen readers) for `tex`; throws TexRenderError on invalid TeX. */
export function texToKatexHtml(tex: string, displayMode = true): string {
  return renderKatex(tex, { displayMode, output: 'htmlAndMathml' });
}

/** Collects inline styles as classes: the same declarations share one class. */
export class InlineStyles {
  private readonly classes = new Map<string, string>();

  /** `html` with every `style="…"` attribute moved into a class of this sheet. */
  extract(html: string): string {
    return html.replace(/<[a-zA-Z][^>]*\sstyle="[^"]*"[^>]*>/g, (tag) => {
      const style = /\sstyle="([^"]*)"/.exec(tag)![1];
      const name = this.classFor(style);
      let out = tag.replace(/\sstyle="[^"]*"/, '');
      if (!name) return out;
      if (/\sclass="/.test(out)) out = out.replace(/\sclass="([^"]*)"/, (_m, c: string) => ` class="${c} ${name}"`);
      else out = out.replace(/^<[a-zA-Z][\w-]*/, (open) => `${open} class="${name}"`);
      return out;
    });
  }

  private classFor(style: string): string | undefined {
    const css = style
      .replace(/&quot;/g, '"')
      .replace(/&#x27;|&#39;/g, "'")
      .replace(/&amp;/g, '&')
      .split(';')
      .map((d) => d.trim())
      // Declarations only: nothing that could close the rule or the <style> element.
      .filter((d) => /^[a-zA-Z-]+\s*:[^{}<>@\\;]+$/.test(d))
      .map((d) => `${d.replace(/\s*!important\s*$/i, '')} !important`)
      .join(';');
    if (!css) return undefined;
    let name = this.classes.get(css);
    if (!name) this.classes.set(css, (name = `nb-s${this.classes.size}`));
    return name;
  }

  /** The CSS rules for every class handed out. */
  css(): string {
    return [...this.classes].map(([css, name]) => `.${name}{${css}}`).join('\n');
  }
}

/** Escaped text with `code` spans. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** KaTeX HTML for `tex`, or the TeX as code (with KaTeX's complaint as its tooltip) when it does not parse. */
function formula(tex: string, display: boolean, styles: InlineStyles): string {
  try {
    return styles.extract(texToKatexHtml(tex, display));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `<code class="tex" title="${escapeHtml(message)}">${escapeHtml(tex)}</code>`;
  }
}

function sectionHtml(section: PanelSection, styles: InlineStyles): string {
  const parts = [`<section>`, `<h2>${prose(section.heading)}</h2>`];
  for (const text of section.text ?? []) parts.push(`<p>${prose(text)}</p>`);
  for (const math of section.math) {
    if (math.label) parts.push(`<h3>${prose(math.label)}</h3>`);
    parts.push(`<div class="math">${formula(math.latex, math.display !== false, styles)}</div>`);
    if (math.unicode) parts.push(`<p class="unicode">${escapeHtml(math.unicode)}</p>`);
  }
  if (section.legend && section.legend.length > 0) {
    parts.push('<ul class="legend">');
    for (const entry of section.legend) parts.push(`<li>${formula(entry.tex, false, styles)} = <code>${escapeHtml(entry.code)}</code></li>`);
    parts.push('</ul>');
  }
  for (const note of section.notes ?? []) parts.push(`<p>${prose(note)}</p>`);
  if (section.link && /^https:\/\/[^\s"'<>]+$/.test(section.link.href)) {
    parts.push(`<p class="link"><a href="${escapeHtml(section.link.href)}">${escapeHtml(section.link.label)}</a></p>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** The panel's body for `content` (or `emptyMessage` when there is nothing to show). */
export function panelBody(content: PanelContent | undefined, styles: InlineStyles, emptyMessage: string): string {
  if (!content || content.sections.length === 0) return `<p class="empty">${escapeHtml(emptyMessage)}</p>`;
  const parts: string[] = [];
  if (content.title) parts.push(`<h1>${prose(content.title)}</h1>`);
  for (const section of content.sections) parts.push(sectionHtml(section, styles));
  return parts.join('\n');
}

export interface PanelPage {
  /** `webview.cspSource`. */
  cspSource: string;
  /** `webview.asWebviewUri(dist/katex/katex.min.css)`, as a string. */
  katexCssUri: string;
  /** A fresh random nonce for the one <style> element. */
  nonce: string;
  /** From panelBody. */
  body: string;
  /** From the InlineStyles that panelBody filled. */
  styles: InlineStyles;
}

const PANEL_CSS = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1.25em; }
h1 { font-size: 1.15em; font-weight: 600; margin: 1em 0 0.5em; }
h2 { font-size: 1em; font-weight: 600; margin: 1.4em 0 0.3em; }
h3 { font-size: 0.95em; font-weight: normal; margin: 0.8em 0 0; color: var(--vscode-descriptionForeground); }
code { font-family: var(--vscode-editor-font-family); }
.legend { list-style: none; padding: 0; margin: 0.4em 0; }
.legend li { margin: 0.15em 0; }
.math { overflow-x: auto; overflow-y: hidden; }
.math .katex-display { margin: 0.6em 0; text-align: left; }
.math .katex-display > .katex { text-align: left; }
.unicode { margin: 0; color: var(--vscode-descriptionForeground); }
.tex { white-space: pre-wrap; }
.empty { color: var(--vscode-descriptionForeground); margin-top: 1.5em; }
a { color: var(--vscode-textLink-foreground); }
`;

/** A complete webview document: strict CSP, KaTeX's stylesheet, no scripts. */
export function panelHtml(page: PanelPage): string {
  const { cspSource, katexCssUri, nonce, body, styles } = page;
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(nonce)) throw new Error('nonce must be 16+ base64/alphanumeric characters');
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp.replace(/"/g, '&quot;')}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(katexCssUri)}">
<style nonce="${nonce}">${PANEL_CSS}
${styles.css()}
</style>
<title>Nabla: Update Rule</title>
</head>
<body>
${body}
</body>
</html>
`;
}
