// Hover middleware: the server's hover markdown carries TeX in ```latex blocks; this swaps each for
// a theme-coloured SVG image (see client/render/hover.ts), or leaves or drops them as the
// `nabla.hover.math` setting says. All rendering logic lives in client/render; this file only adapts.
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient';
import { HOVER_MATH_MODES, type HoverMathMode, type HoverMathRenderer } from './render/hover';
import { isWarm, warmUp } from './render/tex';

export const HOVER_MATH_SETTING = 'hover.math';

function hoverMathMode(document: vscode.TextDocument): HoverMathMode {
  const value = vscode.workspace.getConfiguration('nabla', document.uri).get<string>(HOVER_MATH_SETTING, 'image');
  return (HOVER_MATH_MODES as readonly string[]).includes(value) ? (value as HoverMathMode) : 'image';
}

function rewrite(content: vscode.MarkdownString | vscode.MarkedString, render: (markdown: string) => string): vscode.MarkdownString | vscode.MarkedString {
  const markdown = typeof content === 'string' ? content : content instanceof vscode.MarkdownString ? content.value : undefined;
  if (markdown === undefined) return content; // { language, value }: a code block of another language
  const rendered = render(markdown);
  if (rendered === markdown) return content;
  const out = new vscode.MarkdownString(rendered, false);
  out.supportHtml = false;
  out.isTrusted = false;
  if (content instanceof vscode.MarkdownString && content.baseUri) out.baseUri = content.baseUri;
  return out;
}

/** Milliseconds after the first finding before MathJax is loaded, off the path of that finding. */
const WARM_UP_DELAY_MS = 1000;

/**
 * Middleware for the language client: `provideHover` typesets the math, and `handleDiagnostics`
 * loads MathJax (~0.3–0.6 s, once) shortly after the first finding arrives, so that the first hover
 * over a flagged line is not the one to pay for it. The disposable clears the renderer's cache
 * whenever the colour theme changes (images bake in the theme's text colour).
 */
export function createHoverMiddleware(renderer: HoverMathRenderer): { middleware: Pick<Middleware, 'provideHover' | 'handleDiagnostics'>; disposable: vscode.Disposable } {
  let warmUpTimer: ReturnType<typeof setTimeout> | undefined;
  const themeListener = vscode.window.onDidChangeActiveColorTheme(() => renderer.clear());
  const disposable = new vscode.Disposable(() => {
    themeListener.dispose();
    if (warmUpTimer) clearTimeout(warmUpTimer);
  });
  const middleware: Pick<Middleware, 'provideHover' | 'handleDiagnostics'> = {
    handleDiagnostics: (uri, diagnostics, next) => {
      next(uri, diagnostics);
      if (diagnostics.length === 0 || warmUpTimer || isWarm()) return;
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (document && hoverMathMode(document) !== 'image') return;
      warmUpTimer = setTimeout(() => {
        try {
          warmUp();
        } catch {
          // The first hover will load it again and fall back to text if it still fails.
        }
      }, WARM_UP_DELAY_MS);
    },
    provideHover: async (document, position, token, next) => {
      const hover = await next(document, position, token);
      if (!hover || token.isCancellationRequested) return hover;
      const mode = hoverMathMode(document);
      if (mode === 'text') return hover;
      const kind = vscode.window.activeColorTheme.kind;
      const contents = hover.contents.map((content) => rewrite(content, (markdown) => renderer.render(markdown, kind, { mode })));
      return contents.every((c, i) => c === hover.contents[i]) ? hover : new vscode.Hover(contents, hover.range);
    },
  };
  return { middleware, disposable };
}
