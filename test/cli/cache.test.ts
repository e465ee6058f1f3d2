// The cache of `nabla check` (server/cli/cache.ts), run in this process (and in processes of their
// own where a test needs them). Whether a file was analysed again is read from the counters
// NABLA_DEBUG=cache prints, never from timing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliPath, makeTree, PY_BUG, PY_OK, removeTrees, repoRoot, runCli, spawnCli, spawnCliAsync, TS_BUG } from './helpers';

const DEBUG = { NABLA_DEBUG: 'cache' };

interface Counts {
  hits: number;
  misses: number;
  rejected: number;
  written: number;
}

function counts(stderr: string): Counts {
  const m = /nabla: debug: cache: (\d+) hits, (\d+) misses \((\d+) entries rejected\), (\d+) written/.exec(stderr);
  assert.ok(m, `no cache counters in:\n${stderr}`);
  return { hits: Number(m[1]), misses: Number(m[2]), rejected: Number(m[3]), written: Number(m[4]) };
}

/** Stderr without the debug lines. */
function userErr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.startsWith('nabla: debug: '))
    .join('\n');
}

function entries(dir: string): string[] {
  const folder = path.join(dir, '.nabla_cache', 'v1');
  return fs.existsSync(folder) ? fs.readdirSync(folder).map((name) => path.join(folder, name)) : [];
}

const HELPER_PENALTY = ['import numpy as np', '', 'def l2_term(W, reg):', '    return reg * np.sum(W * W)', ''].join('\n');
const HELPER_GRADIENT = ['import numpy as np', '', 'def l2_term(W, reg):', '    return 2 * reg * W', ''].join('\n');
const TRAIN = ['from helpers import l2_term', '', 'def sgd_step(W, dW, lr, reg):', '    W -= lr * (dW + l2_term(W, reg))', '    return W', ''].join('\n');

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: source.split(/(?<=\n)/) })),
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** A project of several kinds of file: findings across imports, a notebook, TypeScript, a syntax error, an unused suppression. */
function projectTree(): string {
  const files: Record<string, string> = {
    'requirements.txt': 'numpy\n',
    'pkg/helpers.py': HELPER_PENALTY,
    'pkg/train.py': TRAIN,
    'pkg/bad.py': PY_BUG,
    'pkg/good.py': PY_OK,
    'pkg/quiet.py': PY_OK.replace('    return W', '    return W  # nabla: ignore[NB101]'),
    'pkg/broken.py': 'def f(:\n    W -= lr * (dW + reg * np.sum(W * W))\n',
    'web/step.ts': TS_BUG,
    'nb/train.ipynb': notebook(['import numpy as np\n', 'W -= lr * (dW + reg * np.sum(W * W))\n']),
  };
  for (let i = 0; i < 10; i++) files[`many/m${i}.py`] = i % 2 === 0 ? PY_BUG : PY_OK;
  return makeTree(files);
}

describe('nabla check: the cache', function () {
  this.timeout(120000);
  after(removeTrees);

  it('answers an unchanged tree from the cache without analysing any file again', async function () {
    const dir = projectTree();
    const first = await runCli(['check', '.', '--jobs', '2'], dir, DEBUG);
    const c1 = counts(first.stderr);
    assert.equal(c1.hits, 0);
    assert.equal(c1.misses, 18);
    assert.equal(c1.written, 18);
    const second = await runCli(['check', '.', '--jobs', '2'], dir, DEBUG);
    assert.deepEqual(counts(second.stderr), { hits: 18, misses: 0, rejected: 0, written: 0 });
    assert.equal(second.stdout, first.stdout);
    assert.equal(userErr(second.stderr), userErr(first.stderr));
    assert.equal(second.status, first.status);
    // In one thread too.
    assert.deepEqual(counts((await runCli(['check', '.', '--jobs', '1'], dir, DEBUG)).stderr), { hits: 18, misses: 0, rejected: 0, written: 0 });
  });

  it('puts a .gitignore and a cache tag in the folder, and never lints it', async function () {
    const dir = projectTree();
    await runCli(['check', '.'], dir);
    assert.equal(fs.readFileSync(path.join(dir, '.nabla_cache', '.gitignore'), 'utf8').split('\n').filter((l) => !l.startsWith('#') && l !== '').join(), '*');
    assert.ok(fs.existsSync(path.join(dir, '.nabla_cache', 'CACHEDIR.TAG')));
    // A source file inside the cache folder (or a custom one, tagged) is not discovered.
    fs.writeFileSync(path.join(dir, '.nabla_cache', 'planted.py'), PY_BUG);
    const custom = path.join(dir, 'build', 'lint-cache');
    await runCli(['check', '.', '--cache-dir', custom], dir);
    assert.ok(fs.existsSync(path.join(custom, 'CACHEDIR.TAG')));
    fs.writeFileSync(path.join(custom, 'planted.py'), PY_BUG);
    const { stdout } = await runCli(['check', '.', '--cache-dir', custom, '--format', 'json'], dir);
    const files = (JSON.parse(stdout) as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file);
    assert.ok(!files.some((f) => f.includes('planted')), files.join());
  });

  it('analyses a changed file again, and only that file', async function () {
    const dir = projectTree();
    await runCli(['check', '.'], dir);
    fs.writeFileSync(path.join(dir, 'pkg', 'bad.py'), PY_OK);
    const { stdout, stderr } = await runCli(['check', '.', '--format', 'json'], dir, DEBUG);
    assert.deepEqual(counts(stderr), { hits: 17, misses: 1, rejected: 0, written: 1 });
    const files = (JSON.parse(stdout) as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file);
    assert.ok(!files.includes('pkg/bad.py'));
    assert.equal(stdout, (await runCli(['check', '.', '--format', 'json', '--no-cache'], dir)).stdout);
  });

  it('analyses the importers of a changed module again', async function () {
    const dir = projectTree();
    const before = await runCli(['check', 'pkg/train.py', '--format', 'json'], dir);
    assert.match(before.stdout, /"file": "pkg\/train\.py"/);
    // The helper now returns the gradient: train.py's finding goes, though train.py did not change.
    fs.writeFileSync(path.join(dir, 'pkg', 'helpers.py'), HELPER_GRADIENT);
    const after = await runCli(['check', 'pkg/train.py', '--format', 'json'], dir, DEBUG);
    assert.deepEqual(counts(after.stderr), { hits: 0, misses: 1, rejected: 0, written: 1 });
    assert.doesNotMatch(after.stdout, /"file": "pkg\/train\.py"/);
    assert.equal(after.stdout, (await runCli(['check', 'pkg/train.py', '--format', 'json', '--no-cache'], dir)).stdout);
  });

  it('analyses a file again when a module two imports away changes, whichever entry first analysed the one between', async function () {
    // a.py and train.py import mid.py, which imports helpers.py. In one run the entries share a
    // program, so train.py's run finds mid.py's facts already built by a.py's.
    const reexport = ['from helpers import l2_term', ''].join('\n');
    const train = TRAIN.replace('from helpers import', 'from mid import');
    const dir = makeTree({ 'requirements.txt': 'numpy\n', 'pkg/a.py': train, 'pkg/mid.py': reexport, 'pkg/helpers.py': HELPER_PENALTY, 'pkg/train.py': train });
    const before = await runCli(['check', '.', '--format', 'json', '--jobs', '1'], dir);
    assert.match(before.stdout, /"file": "pkg\/train\.py"/);
    fs.writeFileSync(path.join(dir, 'pkg', 'helpers.py'), HELPER_GRADIENT);
    const after = await runCli(['check', '.', '--format', 'json', '--jobs', '1'], dir, DEBUG);
    // Every file but mid.py's own entry depends on helpers.py; mid.py does too, through its import.
    assert.deepEqual(counts(after.stderr), { hits: 0, misses: 4, rejected: 0, written: 4 });
    assert.doesNotMatch(after.stdout, /"file": "pkg\/train\.py"/);
    assert.equal(after.stdout, (await runCli(['check', '.', '--format', 'json', '--no-cache'], dir)).stdout);
  });

  it("analyses a notebook again when a project module its cells import changes", async function () {
    // Jupyter runs a notebook in its folder: `from helpers import l2_term` reads pkg/helpers.py.
    const cells = ['import numpy as np\nfrom helpers import l2_term\n', 'W -= lr * (dW + l2_term(W, reg))\n'];
    const dir = makeTree({ 'requirements.txt': 'numpy\n', 'pkg/helpers.py': HELPER_PENALTY, 'pkg/train.ipynb': notebook(cells) });
    const before = await runCli(['check', 'pkg/train.ipynb', '--format', 'json'], dir);
    assert.match(before.stdout, /"code": "NB101"/);
    fs.writeFileSync(path.join(dir, 'pkg', 'helpers.py'), HELPER_GRADIENT);
    const after = await runCli(['check', 'pkg/train.ipynb', '--format', 'json'], dir, DEBUG);
    assert.deepEqual(counts(after.stderr), { hits: 0, misses: 1, rejected: 0, written: 1 });
    assert.doesNotMatch(after.stdout, /"code": "NB101"/);
    assert.equal(after.stdout, (await runCli(['check', 'pkg/train.ipynb', '--format', 'json', '--no-cache'], dir)).stdout);
  });

  it('analyses a file again when a module it imports appears', async function () {
    const dir = makeTree({ 'requirements.txt': 'numpy\n', 'pkg/train.py': TRAIN });
    const before = await runCli(['check', '.', '--format', 'json'], dir);
    assert.doesNotMatch(before.stdout, /NB101/);
    fs.writeFileSync(path.join(dir, 'pkg', 'helpers.py'), HELPER_PENALTY);
    const after = await runCli(['check', 'pkg/train.py', '--format', 'json'], dir, DEBUG);
    assert.equal(counts(after.stderr).misses, 1);
    assert.match(after.stdout, /"file": "pkg\/train\.py"[^]*NB101/);
  });

  it('analyses an optimizer base again when a subclass appears in another folder', async function () {
    // NB206 on an abstract base is answered by its subclasses, which no import of the base reaches:
    // the entry is keyed by the folders the search listed.
    const base = [
      'import torch',
      '',
      'class Template(torch.optim.Optimizer):',
      '    def __init__(self, params, lr, weight_decay=0.0):',
      '        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))',
      '',
      '    def update(self, group):',
      '        raise NotImplementedError',
      '',
      '    @torch.no_grad()',
      '    def step(self, closure=None):',
      '        for group in self.param_groups:',
      '            self.update(group)',
      '',
    ].join('\n');
    const subclass = [
      'import torch',
      'from opt.base import Template',
      '',
      'class SignDescent(Template):',
      '    def update(self, group):',
      '        for p in group["params"]:',
      '            p.mul_(1 - group["lr"] * group["weight_decay"])',
      '            p.add_(p.grad.sign(), alpha=-group["lr"])',
      '',
    ].join('\n');
    const dir = makeTree({ 'requirements.txt': 'torch\n', 'opt/__init__.py': '', 'opt/base.py': base });
    assert.match((await runCli(['check', '.', '--format', 'json'], dir)).stdout, /"file": "opt\/base\.py"[^]*NB206/);
    fs.writeFileSync(path.join(dir, 'README.md'), 'notes\n');
    assert.deepEqual(counts((await runCli(['check', 'opt/base.py'], dir, DEBUG)).stderr), { hits: 1, misses: 0, rejected: 0, written: 0 });
    fs.mkdirSync(path.join(dir, 'variants'));
    fs.writeFileSync(path.join(dir, 'variants', 'sign.py'), subclass);
    const after = await runCli(['check', 'opt/base.py', '--format', 'json'], dir, DEBUG);
    assert.equal(counts(after.stderr).misses, 1);
    assert.doesNotMatch(after.stdout, /NB206/);
    assert.equal(after.stdout, (await runCli(['check', 'opt/base.py', '--format', 'json', '--no-cache'], dir)).stdout);
  });

  it('analyses a browser script again when the page that links it to another script changes', async function () {
    // NB301 in app.js needs nets.js, which only index.html's <script src> tags link to it.
    const nets = ['function makeNet() {', '  const m = tf.sequential();', "  m.add(tf.layers.dense({units: 2, inputShape: [4], kernelRegularizer: 'l2'}));", '  return m;', '}', ''].join('\n');
    const app = ['const net = makeNet();', 'const opt = tf.train.adam(0.01);', '', 'function step(xs, ys) {', '  opt.minimize(() => tf.losses.meanSquaredError(ys, net.predict(xs)));', '}', ''].join('\n');
    const page = (scripts: string[]): string => scripts.map((s) => `<script src="${s}"></script>`).join('\n') + '\n';
    const dir = makeTree({ 'web/index.html': page(['nets.js', 'app.js']), 'web/other.html': page([]), 'web/nets.js': nets, 'web/app.js': app });
    assert.match((await runCli(['check', '.', '--format', 'json'], dir)).stdout, /"file": "web\/app\.js"[^]*NB301/);
    assert.deepEqual(counts((await runCli(['check', 'web/app.js'], dir, DEBUG)).stderr), { hits: 1, misses: 0, rejected: 0, written: 0 });
    // The page now loads app.js with a remote script only: nets.js is another page's.
    fs.writeFileSync(path.join(dir, 'web', 'index.html'), page(['https://example.org/nets.js', 'app.js']));
    fs.writeFileSync(path.join(dir, 'web', 'other.html'), page(['nets.js']));
    const after = await runCli(['check', 'web/app.js', '--format', 'json'], dir, DEBUG);
    assert.equal(counts(after.stderr).misses, 1);
    assert.doesNotMatch(after.stdout, /NB301/);
  });

  it('keeps entries apart by settings', async function () {
    const dir = projectTree();
    await runCli(['check', '.'], dir);
    fs.writeFileSync(path.join(dir, 'nabla.toml'), 'ignore = ["NB101"]\n');
    const ignoring = await runCli(['check', '.', '--format', 'json'], dir, DEBUG);
    assert.deepEqual(counts(ignoring.stderr), { hits: 0, misses: 18, rejected: 0, written: 18 });
    assert.doesNotMatch(ignoring.stdout, /NB101/);
    assert.deepEqual(counts((await runCli(['check', '.', '--select', 'NB1'], dir, DEBUG)).stderr).hits, 0);
    // Back to the first settings: their entries are still there.
    fs.rmSync(path.join(dir, 'nabla.toml'));
    assert.deepEqual(counts((await runCli(['check', '.'], dir, DEBUG)).stderr), { hits: 18, misses: 0, rejected: 0, written: 0 });
  });

  // Processes of their own: the version is the installed bundle's (read beside dist/), not this
  // process's. In one thread: workers would only add their start-up.
  it('does not use entries written by another version of nabla', function () {
    const dir = projectTree();
    spawnCli(['check', '.', '--jobs', '1'], dir);
    // The same bundle, installed as another version (the version is read from the package.json beside dist/).
    const install = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-install-'));
    try {
      fs.mkdirSync(path.join(install, 'dist'));
      fs.copyFileSync(cliPath, path.join(install, 'dist', 'cli.js'));
      fs.cpSync(path.join(repoRoot, 'dist', 'wasm'), path.join(install, 'dist', 'wasm'), { recursive: true });
      fs.writeFileSync(path.join(install, 'package.json'), JSON.stringify({ name: 'nabla', version: '99.0.0' }));
      const other = path.join(install, 'dist', 'cli.js');
      const run = spawnCli(['check', '.', '--jobs', '1'], dir, { env: DEBUG, cli: other });
      assert.deepEqual(counts(run.stderr), { hits: 0, misses: 18, rejected: 0, written: 18 });
      assert.deepEqual(counts(spawnCli(['check', '.', '--jobs', '1'], dir, { env: DEBUG, cli: other }).stderr).hits, 18);
    } finally {
      fs.rmSync(install, { recursive: true, force: true });
    }
  });

  it('ignores and rewrites corrupt, truncated and foreign entries', async function () {
    const dir = projectTree();
    const reference = await runCli(['check', '.', '--format', 'json', '--no-cache'], dir);
    await runCli(['check', '.'], dir);
    const files = entries(dir);
    assert.equal(files.length, 18);
    const damage = [
      (text: string) => text.slice(0, Math.floor(text.length / 2)), // truncated
      () => '', // empty
      () => '\u0000\u0001garbage', // not JSON
      () => JSON.stringify({ hello: 'world' }), // JSON, but not an entry
      (text: string) => text.replace('"version":"', '"version":"0.0.0-other+'), // another version's entry under this name
      (text: string) => text.replace('"findings":[', '"findings":7,"x":['), // a result of the wrong shape
      (text: string) => text.replace('"result":{"findings":[', '"result":{"findings":[{"code":1},'), // a finding of the wrong shape
      (text: string) => text.replace('"notices":[', '"notices":[null,'), // a notice of the wrong shape
    ];
    files.forEach((file, i) => {
      if (i < damage.length) fs.writeFileSync(file, damage[i](fs.readFileSync(file, 'utf8')));
    });
    const run = await runCli(['check', '.', '--format', 'json'], dir, DEBUG);
    assert.equal(run.stdout, reference.stdout);
    assert.equal(userErr(run.stderr), reference.stderr);
    assert.deepEqual(counts(run.stderr), { hits: 10, misses: 8, rejected: 8, written: 8 });
    assert.equal(run.stderr.split('\n').filter((l) => l.includes('cache entry not used')).length, 8);
    // Without NABLA_DEBUG nothing is said, and the rewritten entries are used.
    fs.writeFileSync(files[0], '{');
    const quiet = await runCli(['check', '.', '--format', 'json'], dir);
    assert.equal(quiet.stderr, reference.stderr);
    assert.deepEqual(counts((await runCli(['check', '.'], dir, DEBUG)).stderr), { hits: 18, misses: 0, rejected: 0, written: 0 });
  });

  it('gives byte-for-byte the same output from the cache as a fresh run, in every format', async function () {
    const dir = projectTree();
    const formats = [[], ['--format', 'json'], ['--format', 'sarif'], ['--format', 'github'], ['--statistics'], ['--statistics', '--format', 'json']];
    await runCli(['check', '.'], dir); // fills the cache
    for (const format of formats) {
      const fresh = await runCli(['check', '.', '--no-cache', ...format], dir);
      const cached = await runCli(['check', '.', ...format], dir, DEBUG);
      assert.equal(counts(cached.stderr).misses, 0, format.join(' '));
      assert.equal(cached.stdout, fresh.stdout, format.join(' '));
      assert.equal(userErr(cached.stderr), fresh.stderr, format.join(' '));
      assert.equal(cached.status, fresh.status, format.join(' '));
    }
  });

  // Two processes of the real binary (the cache's version includes the bundle's digest, so the check after them spawns too).
  it('stays correct when two runs share the cache at once', async function () {
    const dir = projectTree();
    const reference = await runCli(['check', '.', '--format', 'json', '--no-cache'], dir);
    const runs = await Promise.all([spawnCliAsync(['check', '.', '--format', 'json', '--jobs', '2'], dir), spawnCliAsync(['check', '.', '--format', 'json', '--jobs', '2'], dir)]);
    for (const run of runs) {
      assert.equal(run.stdout, reference.stdout);
      assert.equal(run.stderr, reference.stderr);
    }
    const files = entries(dir);
    assert.equal(files.length, 18, files.join('\n')); // no temporary files left behind
    for (const file of files) JSON.parse(fs.readFileSync(file, 'utf8'));
    const after = spawnCli(['check', '.', '--format', 'json'], dir, { env: DEBUG });
    assert.deepEqual(counts(after.stderr), { hits: 18, misses: 0, rejected: 0, written: 0 });
    assert.equal(after.stdout, reference.stdout);
  });

  it('--no-cache neither reads nor writes it; --fix does not use it', async function () {
    const dir = projectTree();
    await runCli(['check', '.', '--no-cache'], dir);
    assert.ok(!fs.existsSync(path.join(dir, '.nabla_cache')));
    const fixable = makeTree({ 'requirements.txt': '', 'bad.py': PY_BUG });
    await runCli(['check', '.'], fixable);
    const fixed = await runCli(['check', '.', '--fix'], fixable);
    const after = await runCli(['check', '.'], fixable, DEBUG);
    // Whatever --fix changed, the next run checks the file as it is now, not as it was cached.
    assert.equal(userErr(after.stderr), (await runCli(['check', '.', '--no-cache'], fixable)).stderr);
    assert.equal(after.stdout, (await runCli(['check', '.', '--no-cache'], fixable)).stdout);
    assert.ok(fixed.status !== null);
  });

  it('answers a file over the size limit without a worker, as linting would', async function () {
    const dir = projectTree();
    fs.writeFileSync(path.join(dir, 'pkg', 'big.py'), `${PY_BUG}# ${'x'.repeat(4000)}\n`);
    const fresh = await runCli(['check', '.', '--max-file-size', '2000', '--no-cache'], dir);
    assert.match(fresh.stderr, /big\.py: warning: skipped: the file has \d+ bytes, over the limit of 2000/);
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['check', '.', '--max-file-size', '2000'], dir, DEBUG);
      assert.match(run.stderr, /, 1 over the size limit/);
      assert.equal(run.stdout, fresh.stdout);
      assert.equal(userErr(run.stderr), fresh.stderr);
    }
  });

  it('reads cache-dir from the project file, relative to it', async function () {
    const dir = projectTree();
    fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[tool.nabla]\ncache-dir = "tmp/nabla"\n');
    await runCli(['check', '.'], dir);
    assert.ok(fs.existsSync(path.join(dir, 'tmp', 'nabla', '.gitignore')));
    assert.ok(!fs.existsSync(path.join(dir, '.nabla_cache')));
  });
});
