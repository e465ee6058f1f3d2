// The npm package: `npm pack` in the clone, `npm install <tarball>` into an empty project (offline,
// with a cache of its own), then `npx nabla …` there gives what the clone's bundle gives. It uses
// the dist/ the build left, as `npm pack` would.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, makeTree, PY_BUG, removeTrees, repoRoot, spawnCli, TS_BUG } from './helpers';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** A from-scratch layer whose L2 gradient is the penalty itself: NB101 inside a class method. */
const PY_LAYER = [
  'import numpy as np',
  '',
  'class Dense:',
  '    def __init__(self, n_in, n_out, l2=1e-4):',
  '        self.W = np.random.randn(n_in, n_out) * 0.01',
  '        self.l2 = l2',
  '',
  '    def backward(self, x, grad_out):',
  '        self.dW = x.T @ grad_out + self.l2 * np.sum(self.W ** 2)',
  '        return grad_out @ self.W.T',
  '',
].join('\n');

describe('the npm package', function () {
  this.timeout(120000);
  after(removeTrees);

  let project = '';
  let env: NodeJS.ProcessEnv = {};

  function run(command: string, args: string[], cwd: string) {
    const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 90000, shell: process.platform === 'win32' });
    if (result.error) throw result.error;
    return result;
  }

  before(function () {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
    const work = makeTree({});
    // npm's cache and settings inside the temp folder: nothing from the user's, nothing fetched.
    env = {
      ...process.env,
      npm_config_cache: path.join(work, 'npm-cache'),
      npm_config_userconfig: path.join(work, 'npmrc'),
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      npm_config_loglevel: 'error',
    };
    // --ignore-scripts: pack the dist/ this test run uses, without prepack's production build
    // rewriting it under the other test files running in parallel.
    const pack = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], repoRoot);
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const packed = info.files.map((f) => f.path);
    assert.ok(packed.includes('dist/cli.js') && packed.includes('dist/server.js') && packed.includes('docs/rules/NB101.md'), packed.join(' '));
    assert.ok(packed.some((f) => f.startsWith('dist/wasm/')), 'the WASM grammars are packed');
    assert.deepEqual(
      packed.filter((f) => /\.(ts|map)$|^(test|server|client|scripts|bench|examples|node_modules)\//.test(f)),
      [],
      'no sources, maps, tests or dependencies in the package',
    );

    project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "empty-project", "version": "1.0.0", "private": true }\n');
    const install = run(npm, ['install', path.join(work, info.filename)], project);
    assert.equal(install.status, 0, install.stderr);
    fs.mkdirSync(path.join(project, 'src', 'model'), { recursive: true });
    fs.writeFileSync(path.join(project, 'src', 'train.py'), PY_BUG);
    fs.writeFileSync(path.join(project, 'src', 'model', 'dense.py'), PY_LAYER);
    fs.writeFileSync(path.join(project, 'src', 'step.ts'), TS_BUG);
  });

  it('installs with no other package: nothing but nabla is needed at run time', function () {
    const installed = fs.readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.'));
    assert.deepEqual(installed, ['nabla']);
    const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'nabla', 'package.json'), 'utf8')) as { dependencies?: object };
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), []);
  });

  // Worker threads give the same output as one thread (fuzz/parallel.test.ts); here the package is what is tested.
  it('npx nabla check gives the findings the clone gives', function () {
    const args = ['check', 'src', '--format', 'json', '--no-cache', '--no-config', '--jobs', '1'];
    const installed = run(npx, ['nabla', ...args], project);
    const clone = spawnCli(args, project);
    assert.equal(installed.status, 1, installed.stderr);
    assert.equal(installed.stderr, '');
    assert.equal(installed.stdout, clone.stdout);
    const codes = (JSON.parse(installed.stdout) as { diagnostics: { file: string; code: string }[] }).diagnostics.map((d) => `${d.file} ${d.code}`);
    assert.deepEqual(codes.sort(), ['src/model/dense.py NB101', 'src/step.ts NB101', 'src/train.py NB101']);
  });

  it('finds its WASM grammars from any working folder', function () {
    const elsewhere = makeTree({ 'a.py': PY_BUG });
    const result = run(process.execPath, [path.join(project, 'node_modules', '.bin', 'nabla'), 'check', 'a.py', '--no-cache'], elsewhere);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^a\.py:3:21: NB101 /m);
  });

  it('npx nabla rule NB101 prints the page, and --version the package version', function () {
    const page = run(npx, ['nabla', 'rule', 'NB101'], project);
    assert.equal(page.status, 0, page.stderr);
    assert.equal(page.stdout, spawnCli(['rule', 'NB101'], project).stdout);
    assert.match(page.stdout, /^# NB101 /);
    const version = run(process.execPath, [path.join(project, 'node_modules', '.bin', 'nabla'), '--version'], project);
    const { version: expected } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), `nabla ${expected}`);
  });

  it('npx nabla server --help works, and the server answers initialize on stdio', async function () {
    const help = run(npx, ['nabla', 'server', '--help'], project);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: nabla server/);

    const server = spawn(process.execPath, [path.join(project, 'node_modules', 'nabla', 'dist', 'cli.js'), 'server'], { cwd: project, env });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no reply to initialize: ${out}`)), 20000);
        server.on('error', reject);
        server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (/"capabilities"/.test(out)) {
            clearTimeout(timer);
            resolve(out);
          }
        });
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
        server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
      assert.match(reply, /"id":1/);
    } finally {
      server.kill();
    }
  });
});
