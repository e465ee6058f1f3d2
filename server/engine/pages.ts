// Browser pages as the link between classic scripts: the scripts one HTML page loads with
// `<script src>` share one global scope, so a function or class one of them defines at its top
// level is what another reads by that name (facts/implicitGlobals.ts). Pure text reading, no I/O:
// project.ts lists the folders and reads the pages.

/** A script a page loads: its `src` as written (no query or fragment), and whether it is loaded as a module (its top-level names stay its own). */
export interface PageScript {
  src: string;
  module: boolean;
}

/** Pages a folder may hold: `.html`/`.htm` files. */
export function isPagePath(name: string): boolean {
  return /\.html?$/i.test(name);
}

/** Most `<script>` tags read from one page. */
const MAX_SCRIPTS_PER_PAGE = 64;

/**
 * The local scripts a page loads, in order (the caller resolves `src` against the page's folder);
 * URLs with a scheme, protocol-relative ones and template placeholders are left out, and so are
 * tags inside HTML comments.
 */
export function pageScripts(html: string): PageScript[] {
  const text = html.replace(/<!--[\s\S]*?-->/g, '');
  const out: PageScript[] = [];
  const tag = /<script\b([^>]*)>/gi;
  for (let m = tag.exec(text); m && out.length < MAX_SCRIPTS_PER_PAGE; m = tag.exec(text)) {
    const attrs = m[1];
    // An attribute's name starts after a space: `data-src=` (a lazy loader's) and `data-type="module"` are not these.
    const src = /(?:^|\s)src\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(attrs);
    if (!src) continue;
    let ref = (src[1] ?? src[2] ?? src[3] ?? '').trim();
    if (ref === '' || /^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//') || /[{}<>$%]/.test(ref)) continue;
    ref = ref.replace(/[?#].*$/s, '');
    if (ref === '') continue;
    out.push({ src: ref, module: /(?:^|\s)type\s*=\s*["']?\s*module\b/i.test(attrs) });
  }
  return out;
}
