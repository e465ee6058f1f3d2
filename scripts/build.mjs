// Bundles the extension client, the language server and the CLI into dist/, copies the
// tree-sitter WASM files beside them, transpiles the tests and the engine into out/ for mocha, and
// type-checks everything (tsc). Bundles and out/ files whose inputs did not change are kept.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { transpileFiles } from './transpileWorker.mjs';
import { typecheck as runTypecheck, stamp } from './typecheck.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const production = process.argv.includes('--production');

// Tests and the unbundled engine go to out/ for mocha: each TypeScript file of client/, server/,
// test/ and bench/ transpiled on its own by TypeScript's transpiler (about 10 s of CPU for all of
// them from scratch on two threads, where tsc took 22 s on one to type-check and emit), only those changed since the last build
// (out/.transpile-inputs.json); the output of a source deleted since is removed. The type-check is
// tsc's (`tsc -p . --noEmit`, skipped when nothing it reads changed since it passed: scripts/typecheck.mjs): run here beside the
// transpile and the bundles, unless `--no-typecheck` is given; `npm test` (scripts/test.mjs) passes it and runs the
// type-check beside mocha instead.
const outDir = path.join(root, 'out');
const typecheck = !process.argv.includes('--no-tests') && !process.argv.includes('--no-typecheck');
const typechecked = typecheck ? runTypecheck(root, 'inherit').then((result) => result.ok) : Promise.resolve(true);

/** Every TypeScript source tsconfig.json includes (its `include` folders, without its `exclude`s), relative to the root. */
function typescriptSources() {
  const out = [];
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (child !== 'test/fixtures' && entry.name !== 'node_modules') walk(child);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(child);
    }
  };
  for (const folder of ['client', 'server', 'test', 'bench']) if (existsSync(path.join(root, folder))) walk(folder);
  return out.sort();
}

async function transpile() {
  const record = path.join(outDir, '.transpile-inputs.json');
  const sources = typescriptSources();
  const kind = JSON.stringify({ typescript: require(require.resolve('typescript/package.json', { paths: [root] })).version, script: stamp(new URL(import.meta.url).pathname), worker: stamp(new URL('./transpileWorker.mjs', import.meta.url).pathname), tsconfig: stamp(path.join(root, 'tsconfig.json')) });
  let last = { kind: '', inputs: {} };
  try {
    last = JSON.parse(readFileSync(record, 'utf8'));
  } catch {
    // no record: transpile everything
  }
  const outputOf = (source) => path.join(outDir, source.replace(/\.ts$/, '.js'));
  const inputs = Object.fromEntries(sources.map((s) => [s, stamp(path.join(root, s))]));
  const changed = sources.filter((s) => last.kind !== kind || last.inputs[s] !== inputs[s] || !existsSync(outputOf(s)));
  for (const gone of Object.keys(last.inputs).filter((s) => !(s in inputs))) {
    for (const file of [outputOf(gone), `${outputOf(gone)}.map`]) rmSync(file, { force: true });
  }
  if (changed.length > 0) {
    // Per file, with TypeScript's own transpiler (ts.transpileModule: tsc's emit without the
    // type-checker, so imports used only as types are dropped by syntax): the same CommonJS as tsc
    // makes, whose exports are plain properties. esbuild would be ten times faster, but its exports
    // are getters, which cost the engine CPU in every test (each call into another module goes
    // through one) and which tests cannot replace with spies. Many files: on a thread per core (two
    // at most: TypeScript's loading costs each thread about 0.3 s), in scripts/transpileWorker.mjs.
    const jobs = changed.map((source) => [source, outputOf(source)]);
    const threads = jobs.length < 40 ? 1 : Math.min(2, availableParallelism());
    if (threads === 1) transpileFiles(root, jobs);
    else {
      const worker = new URL('./transpileWorker.mjs', import.meta.url);
      await Promise.all(
        Array.from({ length: threads }, (_, t) =>
          new Promise((resolve, reject) => {
            const thread = new Worker(worker, { workerData: { root, jobs: jobs.filter((_, i) => i % threads === t) } });
            thread.on('message', resolve);
            thread.on('error', reject);
            thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a transpile thread exited with ${code}`))));
          }),
        ),
      );
    }
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(record, JSON.stringify({ kind, inputs }));
}

mkdirSync(path.join(dist, 'wasm'), { recursive: true });
const wasm = [
  ['web-tree-sitter', 'tree-sitter.wasm'],
  ['tree-sitter-python', 'tree-sitter-python.wasm'],
  ['tree-sitter-typescript', 'tree-sitter-typescript.wasm'],
  ['tree-sitter-typescript', 'tree-sitter-tsx.wasm'],
  ['tree-sitter-javascript', 'tree-sitter-javascript.wasm'],
];
for (const [pkg, file] of wasm) {
  copyFileSync(path.join(root, 'node_modules', pkg, file), path.join(dist, 'wasm', file));
}

// KaTeX's stylesheet and fonts for the update-rule webview, fonts/ beside the CSS as its url()s expect.
// Only woff2: every webview engine reads it, so the CSS never falls back to the .woff/.ttf copies.
const katexDist = path.join(root, 'node_modules', 'katex', 'dist');
mkdirSync(path.join(dist, 'katex', 'fonts'), { recursive: true });
copyFileSync(path.join(katexDist, 'katex.min.css'), path.join(dist, 'katex', 'katex.min.css'));
for (const font of readdirSync(path.join(katexDist, 'fonts')).filter((f) => f.endsWith('.woff2'))) {
  copyFileSync(path.join(katexDist, 'fonts', font), path.join(dist, 'katex', 'fonts', font));
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // web-tree-sitter's ESM build needs import.meta.url, which a CJS bundle lacks: use its CJS build.
  alias: { 'web-tree-sitter': path.join(root, 'node_modules/web-tree-sitter/tree-sitter.cjs') },
};
// The web extension (vscode.dev, github.dev): the client in the browser's extension host and the
// same language server in a web worker (server/lsp/browserMain.ts), in dist/browser/. Built for the
// browser with no Node module to import: a Node built-in reached from their code fails the build.
// Two exceptions, never run there: web-tree-sitter's Node branch (it checks `process` first), and
// the engine's reader of WASM files from disk (`wasmNode.ts`, used only when no loader is given).
const noNode = {
  name: 'no-node',
  setup(build) {
    build.onResolve({ filter: /^\.\/wasmNode$/ }, () => ({ path: 'wasmNode', namespace: 'no-node' }));
    build.onLoad({ filter: /.*/, namespace: 'no-node' }, () => ({
      contents: "export async function readWasm() { throw new Error('no WASM files on disk in a browser: give initEngine a loader'); }",
      loader: 'js',
    }));
    build.onResolve({ filter: /^(node:)?(fs|fs\/promises|path)$/ }, (args) =>
      /[\\/]web-tree-sitter[\\/]/.test(args.importer) ? { path: args.path, external: true } : undefined,
    );
  },
};
const web = { ...common, platform: 'browser', target: 'es2022', plugins: [noNode], define: { 'process.env.NODE_ENV': production ? '"production"' : '"development"' } };
mkdirSync(path.join(dist, 'browser'), { recursive: true });
const bundles = [
  { ...web, entryPoints: [path.join(root, 'client/browserExtension.ts')], outfile: path.join(dist, 'browser', 'extension.js'), external: ['vscode'] },
  { ...web, format: 'iife', entryPoints: [path.join(root, 'server/lsp/browserMain.ts')], outfile: path.join(dist, 'browser', 'server.js') },
  { ...common, entryPoints: [path.join(root, 'client/extension.ts')], outfile: path.join(dist, 'extension.js'), external: ['vscode'] },
  { ...common, entryPoints: [path.join(root, 'server/lsp/main.ts')], outfile: path.join(dist, 'server.js') },
  { ...common, entryPoints: [path.join(root, 'server/cli/bin.ts')], outfile: path.join(dist, 'cli.js'), banner: { js: '#!/usr/bin/env node' } },
];

// The bundles are made again only when one of the files esbuild read for them (sources and
// node_modules, as its metafile lists them), this script, or the kind of build (--production)
// changed since the last build, or a bundle is missing: as `tsc -b` skips a tree that is up to date.
// The record is dist/.bundle-inputs.json (not in the package: `files` lists what is).
const record = path.join(dist, '.bundle-inputs.json');
const kind = JSON.stringify({ production, script: stamp(new URL(import.meta.url).pathname) });
function bundlesUpToDate() {
  if (!existsSync(record) || bundles.some((b) => !existsSync(b.outfile))) return false;
  try {
    const last = JSON.parse(readFileSync(record, 'utf8'));
    return last.kind === kind && Object.entries(last.inputs).every(([file, was]) => stamp(path.resolve(root, file)) === was);
  } catch {
    return false;
  }
}
// esbuild makes the bundles in its own process while this one transpiles out/.
const bundled = bundlesUpToDate()
  ? Promise.resolve()
  : Promise.all(bundles.map((options) => esbuild.build({ ...options, absWorkingDir: root, metafile: true }))).then((results) => {
      const inputs = {};
      for (const { metafile } of results) {
        for (const file of Object.keys(metafile.inputs)) inputs[file] = stamp(path.resolve(root, file));
      }
      writeFileSync(record, JSON.stringify({ kind, inputs }));
    });
const transpiled = process.argv.includes('--no-tests')
  ? Promise.resolve(true)
  : transpile().then(
      () => true,
      (error) => {
        console.error(`transpiling into out/ failed: ${error.message}`);
        return false;
      },
    );
await bundled;
if (!(await transpiled)) process.exitCode = 1;
if (!(await typechecked)) process.exitCode = 1;
