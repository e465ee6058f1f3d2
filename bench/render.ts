// Hover math latency and size. `npm run bench:render` (after a build: node out/bench/render.js).
//   cold:  a fresh Node process renders its first hover (loads KaTeX and MathJax, then typesets).
//   warm:  typesetting a formula once MathJax is loaded, no cache (what a new formula costs); the
//          first pass over the formulas also warms V8 and MathJax's glyph data, so it is shown apart.
//   hit:   a hover whose formula is already cached.
// Sizes are of the SVG and of its data URI (what counts toward VS Code's 100,000-character cap).
import { execFileSync } from 'node:child_process';
import { HoverMathRenderer, mathColor, svgDataUri, texToSvg, ThemeKind } from '../client/render';
import { hoverMarkdown, SAMPLE_TEX, UPDATE_TEX } from '../test/render/samples';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(name: string, ms: number[]): string {
  return `${name.padEnd(34)} n=${String(ms.length).padStart(4)}  p50 ${percentile(ms, 50).toFixed(2).padStart(7)} ms  p95 ${percentile(ms, 95).toFixed(2).padStart(7)} ms  max ${Math.max(...ms).toFixed(2).padStart(7)} ms`;
}

if (process.argv.includes('--cold-child')) {
  // One cold hover in this fresh process: module load (KaTeX, MathJax) plus the first typesetting.
  const t0 = performance.now();
  new HoverMathRenderer().render(hoverMarkdown(), ThemeKind.Dark);
  process.stdout.write(String(performance.now() - t0));
} else {
  const runs = Number(process.env.BENCH_COLD_RUNS ?? 10);
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) cold.push(Number(execFileSync(process.execPath, [__filename, '--cold-child'], { encoding: 'utf8' })));

  const color = mathColor(ThemeKind.Dark);
  const t0 = performance.now();
  texToSvg('x', { color, displayMode: true }); // loads KaTeX and MathJax
  const load = performance.now() - t0;
  const warm: number[] = [];
  const firstPass: number[] = [];
  const perFormula = new Map<string, number[]>();
  for (let round = 0; round < 11; round++) {
    for (const tex of SAMPLE_TEX) {
      const t0 = performance.now();
      texToSvg(tex, { color, displayMode: true });
      const ms = performance.now() - t0;
      (round === 0 ? firstPass : warm).push(ms);
      perFormula.set(tex, [...(perFormula.get(tex) ?? []), ms]);
    }
  }

  const renderer = new HoverMathRenderer();
  const markdown = hoverMarkdown();
  renderer.render(markdown, ThemeKind.Dark);
  const hit: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    renderer.render(markdown, ThemeKind.Dark);
    hit.push(performance.now() - t0);
  }

  console.log(`Node ${process.version}, ${SAMPLE_TEX.length} formulas`);
  console.log(summary('cold first hover (fresh process)', cold));
  console.log(`${'load KaTeX + MathJax, typeset x'.padEnd(34)} ${load.toFixed(2)} ms (this process)`);
  console.log(summary('warm typeset, first time each', firstPass));
  console.log(summary('warm typeset, uncached', warm));
  console.log(summary('warm hover, cached', hit));
  console.log(summary(`example formula, uncached`, perFormula.get(UPDATE_TEX)!));

  const sizes = SAMPLE_TEX.map((tex) => {
    const svg = texToSvg(tex, { color, displayMode: true });
    return { tex, svg: svg.length, uri: svgDataUri(svg).length };
  });
  const example = sizes.find((s) => s.tex === UPDATE_TEX)!;
  console.log(`example formula: SVG ${example.svg} chars, data URI ${example.uri} chars`);
  for (const key of ['svg', 'uri'] as const) {
    const v = sizes.map((s) => s[key]);
    console.log(`${key === 'svg' ? 'SVG' : 'data URI'} chars over all formulas: min ${Math.min(...v)}  p50 ${percentile(v, 50)}  max ${Math.max(...v)}`);
  }
  console.log(`example hover markdown: ${markdown.length} chars as text, ${renderer.render(markdown, ThemeKind.Dark).length} with the image`);
}
