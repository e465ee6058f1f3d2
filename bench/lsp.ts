// Language-server latency and memory, against the real bundle (`node dist/server.js --stdio`)
// driven over JSON-RPC by the tests' LSP client:
//   - didOpen → first diagnostics for 1,000- and 10,000-line files;
//   - a character typed into a name (a code edit) → diagnostics for that version (minus the server's
//     edit debounce, which is a deliberate wait, reported apart), on generated 1,000-, 3,000- and
//     10,000-line files and on one long real-style training script (bench/trainingScript.ts); and a
//     space typed at the end of a line (an edit that changes no IR: early cut-off) on 3,000 and 10,000 lines;
//   - hover at the server: on an unchanged document (the analysis cached), and the first hover
//     after an edit elsewhere (a space at the end of a line; a character typed into a name);
//   - hover markdown rendered at the client (client/render): cold in a fresh process, and warm;
//   - server RSS with 200 open documents.
// `node out/bench/lsp.js --editor [edits] [hoverEdits]` runs only the keystroke and hover rows.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { HoverMathRenderer } from '../client/render/hover';
import { ThemeKind } from '../client/render/theme';
import { initEngine } from '../server/engine';
import { singleEdit } from '../server/engine/document';
import { parse } from '../server/engine/parse';
import { DEFAULT_DEBOUNCE_MS } from '../server/lsp/diagnostics';
import { LspTestClient } from '../test/lsp/lspClient';
import { pythonFileOfLines } from './corpus';
import { trainingScriptOfLines } from './trainingScript';
import { stats, type Stats } from './stats';

export interface LspResults {
  debounceMs: number;
  /** didOpen → diagnostics, by file size in lines. */
  open: Record<string, Stats>;
  /** A character typed into a name → diagnostics on the 10,000-line file, the debounce subtracted. */
  change10k: Stats;
  /** A space typed at the end of a line → diagnostics (no IR changes: the last run's findings are moved), 3,000 and 10,000 lines. */
  spaceEdit3k?: Stats;
  spaceEdit10k?: Stats;
  /** The same on the 1,000-line file. */
  change1k: Stats;
  /** The same on a 3,000-line generated file. */
  change3k: Stats;
  /** The same on the long real-style training script (bench/trainingScript.ts), with its length. */
  changeScript: Stats & { lines: number };
  /** Hover request → response at the server on an unchanged 10,000-line document. */
  hover: Stats;
  /** The first hover after an edit (a space at the end of a line elsewhere), 10,000-line document. */
  hoverAfterEdit: Stats;
  /** The first hover after a code edit elsewhere (a character typed at the end of a name on another line), 10,000-line document. */
  hoverAfterCodeEdit: Stats;
  /** Re-parsing the 10,000-line file after a one-character edit: from scratch, and from the old tree (what the server does). */
  reparse10k: { freshMs: Stats; incrementalMs: Stats };
  /** Hover markdown with math, rendered to images by the client. */
  render: { coldFirstHoverMs: Stats; warmUncachedMs: Stats; warmCachedMs: Stats; formulas: number };
  /** A fresh server as the extension starts it (--max-semi-space-size=1), and with Node's defaults. */
  memory: { documents: number; lines: number; rssMb: number; peakRssMb: number; idleRssMb: number; defaultFlags: { rssMb: number; peakRssMb: number; idleRssMb: number } };
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Lines ending in an update, where a hover has math to show. */
function hoverPositions(text: string, limit: number): { line: number; character: number }[] {
  const out: { line: number; character: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    const m = /^(\s*)(\S.*?)\s(-=|\+=)\s/.exec(lines[i]);
    if (m && /W|p\b|grad|params/.test(m[2])) out.push({ line: i, character: m[1].length + 1 });
  }
  return out;
}

async function openAndWait(client: LspTestClient, uri: string, text: string): Promise<number> {
  const since = client.publishes.length;
  const t0 = performance.now();
  await client.open(uri, 'python', text);
  await client.waitForPublish(uri, (p) => p.version === 1, since, 120_000);
  return performance.now() - t0;
}

/** One-character edits: a space at the end of a line, each edit a text never seen before (so no cache can answer). */
function oneCharEdit(lines: string[], i: number): { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string } {
  const line = Math.floor((((i * 7919) % 997) / 997) * (lines.length - 2));
  const end = lines[line].length;
  lines[line] += ' ';
  return { range: { start: { line, character: end }, end: { line, character: end } }, text: ' ' };
}

/** A character typed at the end of the last name of a line (a code edit: the name changes). */
function codeEdit(lines: string[], i: number): ReturnType<typeof oneCharEdit> {
  for (let k = 0; ; k++) {
    const line = Math.floor(((((i + k) * 7919) % 997) / 997) * (lines.length - 2));
    const m = /[A-Za-z_]\w*(?=\W*$)/.exec(lines[line]);
    if (!m || /^\s*(#|\"\"\"|')/.test(lines[line])) continue;
    const at = m.index + m[0].length;
    lines[line] = lines[line].slice(0, at) + 'x' + lines[line].slice(at);
    return { range: { start: { line, character: at }, end: { line, character: at } }, text: 'x' };
  }
}

/** The first hover after each of `count` edits, at hover positions the session has answered before; the lint of each version is awaited before the next edit. */
async function measureHoversAfterEdits(client: LspTestClient, uri: string, positions: { line: number; character: number }[], count: number, makeEdit: (lines: string[], i: number) => ReturnType<typeof oneCharEdit>): Promise<number[]> {
  const out: number[] = [];
  const lines = client.text(uri).split('\n');
  for (let i = 0; i < count; i++) {
    await client.change(uri, [makeEdit(lines, i + 500)]);
    out.push((await hoverOnce(client, uri, positions[i % positions.length])).ms);
    await client.waitForPublish(uri, (p) => p.version === client.version(uri), 0, 120_000);
  }
  return out;
}

async function measureChanges(client: LspTestClient, uri: string, text: string, count: number, makeEdit: (lines: string[], i: number) => ReturnType<typeof oneCharEdit> = codeEdit): Promise<number[]> {
  const lines = text.split('\n');
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const since = client.publishes.length;
    const t0 = performance.now();
    const version = await client.change(uri, [makeEdit(lines, i)]);
    await client.waitForPublish(uri, (p) => p.version === version, since, 120_000);
    out.push(performance.now() - t0);
    // Let the server settle so each edit is measured alone (a user types slower than this).
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

async function hoverOnce(client: LspTestClient, uri: string, position: { line: number; character: number }): Promise<{ ms: number; hover: Hover | null }> {
  const t0 = performance.now();
  const hover = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
  return { ms: performance.now() - t0, hover };
}

function renderMeasurements(markdown: string): LspResults['render'] {
  // Cold: a fresh Node process loads the renderer (KaTeX, MathJax) and renders this hover.
  const file = path.join(os.tmpdir(), `nabla-bench-hover-${process.pid}.md`);
  fs.writeFileSync(file, markdown);
  const cold: number[] = [];
  try {
    for (let i = 0; i < 5; i++) cold.push(Number(execFileSync(process.execPath, [__filename, '--render-cold', file], { encoding: 'utf8' })));
  } finally {
    fs.rmSync(file, { force: true });
  }
  // Warm, uncached: the modules are loaded, each render typesets its formulas anew.
  new HoverMathRenderer().render(markdown, ThemeKind.Dark);
  const uncached: number[] = [];
  for (let i = 0; i < 30; i++) {
    const renderer = new HoverMathRenderer();
    const t0 = performance.now();
    renderer.render(markdown, ThemeKind.Dark);
    uncached.push(performance.now() - t0);
  }
  // Warm, cached: the same hover again (the images are in the renderer's cache).
  const renderer = new HoverMathRenderer();
  renderer.render(markdown, ThemeKind.Dark);
  const cached: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    renderer.render(markdown, ThemeKind.Dark);
    cached.push(performance.now() - t0);
  }
  const formulas = (markdown.match(/```+latex/g) ?? []).length;
  return { coldFirstHoverMs: stats(cold), warmUncachedMs: stats(uncached), warmCachedMs: stats(cached), formulas };
}

export async function runLspBench(options: { corpusFiles: string[]; edits?: number; hovers?: number; hoverEdits?: number; editorOnly?: boolean; log?: (s: string) => void }): Promise<LspResults> {
  const log = options.log ?? (() => undefined);
  const text1k = pythonFileOfLines(1000, 1);
  const text10k = pythonFileOfLines(10000, 2);
  const { client } = await LspTestClient.start();
  try {
    // Warm the server (JIT, WASM tier-up) with a file opened and closed, as a session would be.
    await openAndWait(client, 'file:///bench/warmup.py', text1k);
    await client.close('file:///bench/warmup.py');

    log('didOpen → diagnostics');
    const open: Record<string, number[]> = { '1000': [], '10000': [] };
    for (let i = 0; i < (options.editorOnly ? 0 : 5); i++) {
      for (const [lines, text] of [['1000', text1k], ['10000', text10k]] as const) {
        const uri = `file:///bench/open_${lines}_${i}.py`;
        open[lines].push(await openAndWait(client, uri, `${text}# copy ${i}\n`)); // a new text each time
        await client.close(uri);
      }
    }

    log('didChange → diagnostics');
    const uri1k = 'file:///bench/edit_1k.py';
    await openAndWait(client, uri1k, text1k);
    const change1k = await measureChanges(client, uri1k, text1k, options.edits ?? 40);
    await client.close(uri1k);
    const text3k = pythonFileOfLines(3000, 3);
    const uri3k = 'file:///bench/edit_3k.py';
    await openAndWait(client, uri3k, text3k);
    const change3k = await measureChanges(client, uri3k, client.text(uri3k), options.edits ?? 40);
    const spaceEdit3k = await measureChanges(client, uri3k, client.text(uri3k), options.edits ?? 40, oneCharEdit);
    await client.close(uri3k);
    const script = trainingScriptOfLines(3000);
    const uriScript = 'file:///bench/train_long.py';
    await openAndWait(client, uriScript, script);
    const changeScript = await measureChanges(client, uriScript, script, options.edits ?? 40);
    await client.close(uriScript);
    const uri = 'file:///bench/edit_10k.py';
    await openAndWait(client, uri, text10k);
    const change10k = await measureChanges(client, uri, text10k, options.edits ?? 40);
    const spaceEdit10k = await measureChanges(client, uri, client.text(uri), options.edits ?? 40, oneCharEdit);

    log('hover');
    const positions = hoverPositions(client.text(uri), 200);
    const hover: number[] = [];
    let markdown = '';
    for (let i = 0; i < (options.hovers ?? 100); i++) {
      const { ms, hover: h } = await hoverOnce(client, uri, positions[i % positions.length]);
      hover.push(ms);
      const value = (h?.contents as MarkupContent | undefined)?.value ?? '';
      if ((value.match(/```+latex/g) ?? []).length > (markdown.match(/```+latex/g) ?? []).length) markdown = value;
    }
    const hoverAfterEdit = await measureHoversAfterEdits(client, uri, positions, options.hoverEdits ?? 10, oneCharEdit);
    const hoverAfterCodeEdit = await measureHoversAfterEdits(client, uri, positions, options.hoverEdits ?? 10, codeEdit);
    await client.close(uri);

    const empty = stats([]);
    log('re-parse after an edit');
    const reparse10k = options.editorOnly ? { freshMs: empty, incrementalMs: empty } : await measureReparse(text10k, 40);

    log('render at the client');
    const render = options.editorOnly ? { coldFirstHoverMs: empty, warmUncachedMs: empty, warmCachedMs: empty, formulas: 0 } : renderMeasurements(markdown);

    return {
      debounceMs: DEFAULT_DEBOUNCE_MS,
      open: Object.fromEntries(Object.entries(open).map(([k, v]) => [k, stats(v)])),
      change10k: stats(change10k.map((ms) => ms - DEFAULT_DEBOUNCE_MS)),
      change1k: stats(change1k.map((ms) => ms - DEFAULT_DEBOUNCE_MS)),
      change3k: stats(change3k.map((ms) => ms - DEFAULT_DEBOUNCE_MS)),
      spaceEdit3k: stats(spaceEdit3k.map((ms) => ms - DEFAULT_DEBOUNCE_MS)),
      spaceEdit10k: stats(spaceEdit10k.map((ms) => ms - DEFAULT_DEBOUNCE_MS)),
      changeScript: { ...stats(changeScript.map((ms) => ms - DEFAULT_DEBOUNCE_MS)), lines: script.split('\n').length - 1 },
      hover: stats(hover),
      hoverAfterEdit: stats(hoverAfterEdit),
      hoverAfterCodeEdit: stats(hoverAfterCodeEdit),
      reparse10k,
      render,
      memory: options.editorOnly
        ? { documents: 0, lines: 0, rssMb: NaN, peakRssMb: NaN, idleRssMb: NaN, defaultFlags: { rssMb: NaN, peakRssMb: NaN, idleRssMb: NaN } }
        : await measureMemory(options.corpusFiles, log),
    };
  } finally {
    await client.stop();
  }
}

/** Tree-sitter alone, in this process: a fresh parse of each edited text, and an incremental one from the previous tree. */
export async function measureReparse(text: string, edits: number): Promise<LspResults['reparse10k']> {
  await initEngine();
  const lines = text.split('\n');
  const freshMs: number[] = [];
  const incrementalMs: number[] = [];
  let before = text;
  let tree = parse(before, 'python');
  for (let i = 0; i < edits; i++) {
    oneCharEdit(lines, 200 + i * 97); // appends a space to a line of `lines`
    const after = lines.join('\n');
    let t0 = performance.now();
    parse(after, 'python').delete();
    freshMs.push(performance.now() - t0);
    t0 = performance.now();
    tree.edit(singleEdit(before, after)!);
    const next = parse(after, 'python', tree);
    incrementalMs.push(performance.now() - t0);
    tree.delete();
    tree = next;
    before = after;
  }
  tree.delete();
  return { freshMs: stats(freshMs), incrementalMs: stats(incrementalMs) };
}

/** Server RSS after opening 200 Python files of the corpus, each linted, in a fresh server. */
async function memoryWith(nodeOptions: string | undefined, files: string[]): Promise<{ lines: number; rssMb: number; peakRssMb: number; idleRssMb: number }> {
  const saved = process.env.NODE_OPTIONS;
  if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = nodeOptions;
  let started;
  try {
    started = await LspTestClient.start();
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  const { client } = started;
  try {
    const pid = client.child.pid!;
    const idle = rssOf(pid);
    let lines = 0;
    let n = 0;
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      lines += text.split('\n').length - 1;
      const docUri = `file:///bench/mem/${n++}.py`;
      const since = client.publishes.length;
      await client.open(docUri, 'python', text);
      await client.waitForPublish(docUri, (p) => p.version === 1, since, 120_000);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = rssOf(pid);
    return { lines, rssMb: round(loaded.rss), peakRssMb: round(loaded.hwm), idleRssMb: round(idle.rss) };
  } finally {
    await client.stop();
  }
}

async function measureMemory(corpusFiles: string[], log: (s: string) => void): Promise<LspResults['memory']> {
  const files = corpusFiles.filter((f) => f.endsWith('.py')).slice(0, 200);
  log('memory with 200 open documents (as the extension starts the server)');
  const shipped = await memoryWith('--max-semi-space-size=1', files);
  log('memory with 200 open documents (Node defaults)');
  const defaults = await memoryWith(undefined, files);
  return { documents: files.length, ...shipped, defaultFlags: { rssMb: defaults.rssMb, peakRssMb: defaults.peakRssMb, idleRssMb: defaults.idleRssMb } };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (require.main === module && process.argv[2] === '--editor') {
  // Only the editor rows of issue 12 (keystroke → diagnostics, hovers after edits), without the
  // 11 minutes of `npm run bench`: node out/bench/lsp.js --editor [edits] [hoverEdits]
  const edits = Number(process.argv[3] ?? 40);
  const hoverEdits = Number(process.argv[4] ?? 10);
  const t0 = process.cpuUsage();
  runLspBench({ corpusFiles: [], edits, hovers: 100, hoverEdits, editorOnly: true, log: (s) => process.stderr.write(`${s}\n`) })
    .then((r) => {
      const cpu = process.cpuUsage(t0);
      const row = (name: string, s: Stats): string => `${name}: p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms (n=${s.n})`;
      const lines = [
        row('keystroke (a character typed into a name) → diagnostics, 1,000 lines (minus debounce)', r.change1k),
        row('keystroke (a character typed into a name) → diagnostics, 3,000 lines (minus debounce)', r.change3k),
        row(`keystroke (a character typed into a name) → diagnostics, training script ${r.changeScript.lines} lines (minus debounce)`, r.changeScript),
        row('keystroke (a character typed into a name) → diagnostics, 10,000 lines (minus debounce)', r.change10k),
        row('a space typed at a line end (early cut-off) → diagnostics, 3,000 lines (minus debounce)', r.spaceEdit3k!),
        row('a space typed at a line end (early cut-off) → diagnostics, 10,000 lines (minus debounce)', r.spaceEdit10k!),
        row('hover, unchanged 10,000-line document', r.hover),
        row('first hover after an edit (a space at a line end elsewhere), 10,000 lines', r.hoverAfterEdit),
        row('first hover after a code edit (a character typed into a name elsewhere), 10,000 lines', r.hoverAfterCodeEdit),
        `client CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    });
}

if (require.main === module && process.argv[2] === '--render-cold') {
  // Child of renderMeasurements: one cold render in this fresh process.
  const markdown = fs.readFileSync(process.argv[3], 'utf8');
  const t0 = performance.now();
  new HoverMathRenderer().render(markdown, ThemeKind.Dark);
  process.stdout.write(String(performance.now() - t0));
}
