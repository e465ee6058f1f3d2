// pre-commit with this repository's hooks (.pre-commit-hooks.yaml): Debian's `pre-commit`
// (installed by .ci/run) guards commits in a throwaway git repository, configured with the
// README's `.pre-commit-config.yaml` block pointing at a local copy of this repository. A commit
// that stages a mistake is refused with the finding in pre-commit's output; once it is fixed, the
// commit goes through; a commit with no file Nabla lints, or a mistake left unstaged, passes.
//
// A distribution test: `npm run test:dist` runs it (with the npm package's), not `npm test`.
// `nabla-system` takes a few seconds: the project's `nabla` is a stand-in for `npm install
// --save-dev nabla` that starts this clone's dist/cli.js. `nabla` (language: node) builds the
// package in pre-commit's own environment, which takes 2 to 4 minutes (npm installs the ~330 MB
// of dev dependencies), so it runs only with NABLA_TEST_PRE_COMMIT_NODE=1 (.ci/run sets it),
// installing once for all its cases.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliPath, repoRoot } from './helpers';

const TRAIN_BUG = `import numpy as np


def train(X, y, W, lr=0.1, lam=0.01, epochs=10):
    for _ in range(epochs):
        dW = X.T @ (X @ W - y) / len(y)
        W -= lr * (dW + lam * np.sum(W ** 2))
    return W
`;
const TRAIN_OK = TRAIN_BUG.replace('lam * np.sum(W ** 2)', '2 * lam * W');

const STEP_BUG = `import * as tf from '@tensorflow/tfjs';

export function step(w: tf.Tensor, grad: tf.Tensor, lr: number, l2: number): tf.Tensor {
  return w.sub(grad.add(w.square().sum().mul(l2)).mul(lr));
}
`;
const STEP_OK = STEP_BUG.replace('w.square().sum().mul(l2)', 'w.mul(2 * l2)');

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: source.split(/(?<=\n)/) })),
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5,
  }, null, 1);
}
const NB_SETUP = 'import numpy as np\nW = np.zeros((3, 1))\nlr, reg = 0.1, 1e-3';
const NB_BUG = notebook([NB_SETUP, 'for _ in range(100):\n    dW = np.ones_like(W)\n    W -= lr * (dW + reg * np.sum(np.abs(W)))']);
const NB_OK = notebook([NB_SETUP, 'for _ in range(100):\n    dW = np.ones_like(W)\n    W -= lr * (dW + reg * np.sign(W))']);

function hasPreCommit(): boolean {
  const result = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' });
  return result.status === 0;
}

/** The README's `.pre-commit-config.yaml` block. */
function readmeConfig(): string {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### pre-commit'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the README has a .pre-commit-config.yaml block');
  return block[1];
}

interface Run {
  status: number | null;
  output: string;
}

const HOOKS: { id: string; enabled: boolean; installMs: number }[] = [
  { id: 'nabla-system', enabled: true, installMs: 60_000 },
  { id: 'nabla', enabled: process.env.NABLA_TEST_PRE_COMMIT_NODE === '1', installMs: 600_000 },
];

for (const hook of HOOKS) {
  describe(`pre-commit with the ${hook.id} hook`, function () {
    // A commit takes 1-2 s (pre-commit, npx, nabla); much more only on a machine under heavy load.
    this.timeout(60_000);
    let work = '';
    let project = '';
    let env: NodeJS.ProcessEnv = {};

    function run(command: string, args: string[], cwd = project, timeout = 50_000): Run {
      const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout });
      if (result.error) throw result.error;
      return { status: result.status, output: result.stdout + result.stderr };
    }
    function git(...args: string[]): string {
      return gitIn(project, ...args);
    }
    function gitIn(cwd: string, ...args: string[]): string {
      const result = run('git', args, cwd);
      assert.equal(result.status, 0, `git ${args.join(' ')}: ${result.output}`);
      return result.output;
    }
    function write(files: Record<string, string>): void {
      for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
        fs.writeFileSync(path.join(project, rel), text);
      }
    }
    /** `git commit` of what is staged, through the pre-commit hook `pre-commit install` wrote. */
    function commit(message: string): Run {
      return run('git', ['commit', '-q', '-m', message]);
    }
    const commits = () => git('rev-list', '--count', 'HEAD').trim();

    before(function () {
      if (!hook.enabled) this.skip();
      // .ci/run installs pre-commit; a machine without it says so here instead of failing.
      if (!hasPreCommit()) {
        console.log('    (pre-commit is not on the PATH: apt-get install pre-commit, as .ci/run does)');
        this.skip();
      }
      this.timeout(hook.installMs);
      if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-pre-commit-'));
      // Nothing from the user's git or pre-commit settings; pre-commit's store in the temp folder.
      env = {
        ...process.env,
        PRE_COMMIT_HOME: path.join(work, 'pre-commit-home'),
        PRE_COMMIT_COLOR: 'never',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'Test',
        GIT_AUTHOR_EMAIL: 'test@example.com',
        GIT_COMMITTER_NAME: 'Test',
        GIT_COMMITTER_EMAIL: 'test@example.com',
      };

      // The hook repository, with the working copy's hook files. The nabla hook builds the
      // repository: a clone of its last commit. nabla-system needs only the hooks file (pre-commit
      // clones the hook repository too, so a small one saves seconds).
      const hooks = path.join(work, 'nabla');
      if (hook.id === 'nabla') {
        gitIn(work, 'clone', '-q', repoRoot, hooks);
      } else {
        fs.mkdirSync(hooks);
        gitIn(hooks, 'init', '-q');
      }
      for (const file of ['.pre-commit-hooks.yaml', '.npmrc']) fs.copyFileSync(path.join(repoRoot, file), path.join(hooks, file));
      gitIn(hooks, 'add', '.pre-commit-hooks.yaml', '.npmrc');
      if (run('git', ['diff', '--cached', '--quiet'], hooks).status !== 0) gitIn(hooks, 'commit', '-q', '-m', 'the working copy\'s hook files');
      const rev = gitIn(hooks, 'rev-parse', 'HEAD').trim();

      project = path.join(work, 'project');
      fs.mkdirSync(project);
      git('init', '-q');
      const config = readmeConfig()
        .replace(/^(\s*- repo: ).*$/m, `$1${hooks}`)
        .replace(/^(\s*rev: ).*$/m, `$1${rev}`)
        .replace(/^(\s*- id: ).*$/m, `$1${hook.id}`);
      write({
        '.pre-commit-config.yaml': config,
        '.gitignore': 'node_modules/\n',
        'README.md': '# A training project\n',
        'nabla.toml': 'exclude = ["legacy/"]\n',
      });
      if (hook.id === 'nabla-system') {
        // What `npm install --save-dev nabla` gives `npx --no nabla`: a `nabla` in node_modules/.bin.
        write({
          'package.json': JSON.stringify({ name: 'project', private: true, devDependencies: { nabla: '^0.1.0' } }, null, 2) + '\n',
          'node_modules/.bin/nabla': `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`,
        });
        fs.chmodSync(path.join(project, 'node_modules/.bin/nabla'), 0o755);
      }
      const install = run('pre-commit', ['install'], project);
      assert.equal(install.status, 0, install.output);
      const started = Date.now();
      const envs = run('pre-commit', ['install-hooks'], project, hook.installMs);
      assert.equal(envs.status, 0, envs.output);
      if (hook.id === 'nabla') console.log(`    (pre-commit installed the nabla hook in ${Math.round((Date.now() - started) / 1000)} s)`);
    });

    after(() => {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('skips a commit that stages no file it checks', function () {
      git('add', '.pre-commit-config.yaml', '.gitignore', 'README.md', 'nabla.toml', ...(hook.id === 'nabla-system' ? ['package.json'] : []));
      const result = commit('project setup');
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, /^nabla\.+\(no files to check\)Skipped$/m);
      assert.equal(commits(), '1');
    });

    it('refuses a commit that stages mistakes in Python, TypeScript and a notebook, and names them', function () {
      write({ 'src/train.py': TRAIN_BUG, 'src/step.ts': STEP_BUG, 'notebooks/explore.ipynb': NB_BUG });
      git('add', 'src', 'notebooks');
      const result = commit('add training');
      assert.equal(result.status, 1, result.output);
      assert.match(result.output, /^nabla\.+Failed$/m);
      assert.match(result.output, new RegExp(`^- hook id: ${hook.id}$`, 'm'));
      assert.match(result.output, /^- exit code: 1$/m);
      // The findings nabla check gives for these files, each in pre-commit's output.
      const expected = run(process.execPath, [cliPath, 'check', '--no-cache', 'src/train.py', 'src/step.ts', 'notebooks/explore.ipynb']);
      assert.equal(expected.status, 1, expected.output);
      const findings = expected.output.split('\n').filter((line) => / NB\d+ /.test(line));
      assert.deepEqual(findings.map((line) => line.replace(/:\d+:\d+: (NB\d+) .*/, ' $1')).sort(), [
        'notebooks/explore.ipynb:cell 2 NB101',
        'src/step.ts NB101',
        'src/train.py NB101',
      ]);
      for (const line of findings) assert.ok(result.output.includes(line), `${line}\nin\n${result.output}`);
      assert.equal(commits(), '1', 'nothing was committed');
    });

    it('lets the commit through once the mistakes are fixed, and leaves out what nabla.toml excludes', function () {
      // legacy/ is excluded in nabla.toml: the hook passes --force-exclude, so naming it does not check it.
      write({ 'src/train.py': TRAIN_OK, 'src/step.ts': STEP_OK, 'notebooks/explore.ipynb': NB_OK, 'legacy/old_train.py': TRAIN_BUG });
      git('add', 'src', 'notebooks', 'legacy');
      const result = commit('add training');
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, /^nabla\.+Passed$/m);
      assert.equal(commits(), '2');
    });

    it('checks what is staged: a mistake left in the working copy does not stop the commit', function () {
      write({ 'src/train.py': TRAIN_OK.replace('epochs=10', 'epochs=20') });
      git('add', 'src/train.py');
      // Unstaged: the mistake again in the staged file, and an untracked file with one.
      write({ 'src/train.py': TRAIN_BUG, 'src/scratch.py': TRAIN_BUG });
      const result = commit('more epochs');
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, /^nabla\.+Passed$/m);
      assert.equal(commits(), '3');
      assert.equal(fs.readFileSync(path.join(project, 'src/train.py'), 'utf8'), TRAIN_BUG, 'pre-commit put the unstaged change back');
    });
  });
}

describe('npm pack for pre-commit', function () {
  this.timeout(30_000);

  // pre-commit's `language: node` install takes `npm pack`'s stdout as the tarball's name; npm
  // echoes `prepack` (the build) there unless foreground-scripts is off, which .npmrc sets.
  it('runs prepack in the background, so its stdout is only the tarball name', function () {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['config', 'get', 'foreground-scripts'], { cwd: repoRoot, encoding: 'utf8', shell: process.platform === 'win32' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'false');
  });
});
