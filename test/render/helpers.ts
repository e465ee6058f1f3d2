import assert from 'node:assert/strict';
import sax from 'sax';

/** Throws unless `xml` is one well-formed XML document. */
export function assertWellFormedXml(xml: string): void {
  const parser = sax.parser(true, { xmlns: true });
  let roots = 0;
  let depth = 0;
  parser.onopentag = () => {
    if (depth === 0) roots++;
    depth++;
  };
  parser.onclosetag = () => void depth--;
  parser.onerror = (error) => {
    throw error;
  };
  parser.write(xml).close();
  assert.equal(roots, 1, 'exactly one root element');
  assert.equal(depth, 0, 'every element closed');
}

/** The SVG inside a `data:image/svg+xml;base64,` URI. */
export function decodeSvgDataUri(uri: string): string {
  const prefix = 'data:image/svg+xml;base64,';
  assert.ok(uri.startsWith(prefix), `not an SVG data URI: ${uri.slice(0, 40)}`);
  const payload = uri.slice(prefix.length);
  assert.match(payload, /^[A-Za-z0-9+/]*={0,2}$/, 'base64 alphabet only');
  return Buffer.from(payload, 'base64').toString('utf8');
}

/** The data URIs of the markdown images in `markdown`. */
export function imageUris(markdown: string): string[] {
  return [...markdown.matchAll(/!\[(?:\\.|[^\]\\])*\]\((data:[^)]*)\)/g)].map((m) => m[1]);
}

/** Asserts what every hover SVG must be: an SVG document with a viewBox, paths, nothing external. */
export function assertSelfContainedSvg(svg: string): void {
  assertWellFormedXml(svg);
  assert.match(svg, /^<svg\b/);
  assert.match(svg, /^<svg\b[^>]*\sxmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /^<svg\b[^>]*\sviewBox="[-\d.]+ [-\d.]+ [\d.]+ [\d.]+"/);
  assert.match(svg, /^<svg\b[^>]*\swidth="[\d.]+"[^>]*\sheight="[\d.]+"/);
  assert.match(svg, /<path\b/);
  assert.doesNotMatch(svg, /<foreignObject/i);
  assert.doesNotMatch(svg, /<(?:script|style|image|text)\b/i);
  assert.doesNotMatch(svg, /\son\w+=/i, 'no event handlers');
  assert.doesNotMatch(svg, /url\(|@import|currentColor|var\(--/i);
  for (const [, ref] of svg.matchAll(/\s(?:xlink:)?href="([^"]*)"/g)) assert.match(ref, /^#/, `only local references: ${ref}`);
  assert.doesNotMatch(svg, /data-mml-node|data-c=/, 'MathJax-only attributes stripped');
}
