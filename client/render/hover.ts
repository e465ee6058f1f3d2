// Rewrites hover markdown from the server: each ```latex block becomes a theme-coloured SVG image
// (`![tex](data:image/svg+xml;base64,…)`), which VS Code hovers render without supportHtml or
// isTrusted. Whatever goes wrong, the hover keeps the original text block: never empty, never broken.
import { findMathBlocks } from './fences';
import { texToSvg } from './tex';
import { mathColor } from './theme';

/** `image`: typeset math; `text`: leave the TeX blocks as they are; `off`: drop the TeX blocks. */
export type HoverMathMode = 'image' | 'text' | 'off';
export const HOVER_MATH_MODES: readonly HoverMathMode[] = ['image', 'text', 'off'];

/** VS Code cuts hover markdown longer than this, which would break a data URI. */
export const HOVER_MARKDOWN_LIMIT = 100_000;

export interface RenderHoverOptions {
  /** Default `image`. */
  mode?: HoverMathMode;
  /** Longest markdown to return while any image is left; default HOVER_MARKDOWN_LIMIT. */
  maxLength?: number;
  /** Pixels per em of the math images; default 16. */
  emPx?: number;
}

export interface HoverMathRendererOptions {
  /** Most images kept in the cache; default 256 (a few MB at most). */
  cacheSize?: number;
  /** Told about each TeX that could not be typeset (once per TeX, theme and size, as failures are cached too). */
  onError?: (tex: string, error: unknown) => void;
  /** The typesetter; tests replace it. Default texToSvg. */
  texToSvg?: typeof texToSvg;
}

export interface RenderStats {
  /** Images served from the cache. */
  hits: number;
  /** Images typeset (or failed) and then cached. */
  misses: number;
  /** TeX that could not be typeset. */
  errors: number;
  /** Images turned back into text to keep the markdown under the length limit. */
  sizeFallbacks: number;
}

type CacheEntry = { uri: string } | { error: unknown };

/** UTF-8 → base64, in Node (Buffer) and in a web worker extension host (btoa). */
function base64(text: string): string {
  if (typeof Buffer !== 'undefined') return Buffer.from(text, 'utf8').toString('base64');
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** `data:image/svg+xml;base64,…` for an SVG document. */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${base64(svg)}`;
}

const ALT_MAX = 200;

/** Markdown image alt text for TeX: one line, at most ALT_MAX characters, every ASCII punctuation escaped. */
export function altText(tex: string): string {
  let alt = tex.replace(/\s+/g, ' ').trim();
  if (alt.length > ALT_MAX) alt = `${alt.slice(0, ALT_MAX - 1)}…`;
  return alt.replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

type Piece = { text: string } | { text: string; image: string };

export class HoverMathRenderer {
  readonly stats: RenderStats = { hits: 0, misses: 0, errors: 0, sizeFallbacks: 0 };
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheSize: number;
  private readonly onError?: (tex: string, error: unknown) => void;
  private readonly typeset: typeof texToSvg;

  constructor(options: HoverMathRendererOptions = {}) {
    this.cacheSize = Math.max(1, options.cacheSize ?? 256);
    this.onError = options.onError;
    this.typeset = options.texToSvg ?? texToSvg;
  }

  /** Images currently cached. */
  get size(): number {
    return this.cache.size;
  }

  /** Forgets every cached image (e.g. when the colour theme changes). */
  clear(): void {
    this.cache.clear();
  }

  /**
   * The data URI of `tex` typeset for `themeKind` (a `vscode.ColorThemeKind` value), or undefined
   * when it cannot be typeset. Cached by TeX, theme kind, display mode and size.
   */
  imageUri(tex: string, themeKind: number, displayMode = true, emPx = 16): string | undefined {
    const key = `${themeKind}\u0000${displayMode ? 'D' : 'T'}\u0000${emPx}\u0000${tex}`;
    let entry = this.cache.get(key);
    if (entry) {
      this.stats.hits++;
      this.cache.delete(key); // least recently used goes first: re-insert at the end
    } else {
      this.stats.misses++;
      try {
        entry = { uri: svgDataUri(this.typeset(tex, { color: mathColor(themeKind), displayMode, emPx })) };
      } catch (error) {
        entry = { error };
        this.stats.errors++;
        this.onError?.(tex, error);
      }
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, entry);
    return 'uri' in entry ? entry.uri : undefined;
  }

  /** Rewrites the ```latex blocks of hover markdown as `options.mode` says (default: images). */
  render(markdown: string, themeKind: number, options: RenderHoverOptions = {}): string {
    const { mode = 'image', maxLength = HOVER_MARKDOWN_LIMIT, emPx = 16 } = options;
    if (mode === 'text') return markdown;
    const blocks = findMathBlocks(markdown);
    if (blocks.length === 0) return markdown;

    const pieces: Piece[] = [];
    let at = 0;
    for (const block of blocks) {
      pieces.push({ text: markdown.slice(at, block.start) });
      const original = markdown.slice(block.start, block.end);
      at = block.end;
      if (mode === 'off') {
        // Drop the block and the line break after it; the Unicode lines around it stay.
        if (markdown.startsWith('\r\n', at)) at += 2;
        else if (at < markdown.length) at += 1;
        continue;
      }
      const uri = block.tex ? this.imageUri(block.tex, themeKind, true, emPx) : undefined;
      if (!uri) {
        pieces.push({ text: original });
        continue;
      }
      // An image cannot interrupt a paragraph as a fence can: keep it a paragraph of its own.
      const before = markdown.slice(0, block.start);
      const after = markdown.slice(block.end);
      const blankBefore = before === '' || /(?:^|\n)[ \t]*\r?\n$/.test(before) ? '' : '\n';
      const blankAfter = after === '' || /^\r?\n[ \t]*(?:\r?\n|$)/.test(after) ? '' : '\n';
      pieces.push({ text: original, image: `${blankBefore}${block.indent}![${altText(block.tex)}](${uri})${blankAfter}` });
    }
    pieces.push({ text: markdown.slice(at) });

    const length = (p: Piece): number => ('image' in p ? p.image.length : p.text.length);
    let total = pieces.reduce((sum, p) => sum + length(p), 0);
    if (total > maxLength) {
      // Largest images back to text first, until the markdown fits (or no image is left).
      const images = pieces.filter((p): p is Piece & { image: string } => 'image' in p).sort((a, b) => b.image.length - a.image.length);
      for (const piece of images) {
        if (total <= maxLength) break;
        total += piece.text.length - piece.image.length;
        delete (piece as { image?: string }).image;
        this.stats.sizeFallbacks++;
      }
    }
    return pieces.map((p) => ('image' in p ? p.image : p.text)).join('');
  }
}

/** The renderer the extension shares between hovers. */
export const defaultHoverRenderer = new HoverMathRenderer();

/** Rewrites hover markdown with the shared renderer and its cache. See HoverMathRenderer.render. */
export function renderHoverMarkdown(markdown: string, themeKind: number, options?: RenderHoverOptions): string {
  return defaultHoverRenderer.render(markdown, themeKind, options);
}
