// `nabla check`: output formats, rule selection and exit codes, run in this process (binary.test.ts
// checks that the binary gives the same).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeTree, PENALTY, PY_BUG, PY_BUG_AT, PY_OK, removeTrees, repoRoot, runCli, spawnCli, summarize, TS_BUG } from './helpers';

interface JsonOut {
  version: number;
  files: number;
  diagnostics: {
    file: string;
    line: number;
    column: number;
    endLine: number;
    endColumn: number;
    code: string;
    severity: string;
    message: string;
    related: { file: string; line: number; column: number; endLine: number; endColumn: number; message: string }[];
    fix?: { title: string; safety: string; edits: { line: number; column: number; endLine: number; endColumn: number; newText: string }[] };
  }[];
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('nabla check', function () {
  this.timeout(60000);
  after(removeTrees);

  describe('text format', function () {
    it('reports the penalty-as-gradient bug at the penalty term and exits 1', async function () {
      const dir = makeTree({ 'src/bad.py': PY_BUG, 'src/good.py': PY_OK });
      const { status, stdout } = await runCli(['check', 'src'], dir);
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2, stdout);
      assert.match(lines[0], new RegExp(`^src/bad\\.py:${PY_BUG_AT.line}:${PY_BUG_AT.column}: NB101 \\S`));
      assert.equal(lines[1], 'Found 1 problem (1 error) in 1 file (2 files checked).');
      assert.equal(status, 1);
    });

    it('passes a correct file and exits 0', async function () {
      const dir = makeTree({ 'good.py': PY_OK });
      const { status, stdout, stderr } = await runCli(['check', 'good.py'], dir);
      assert.equal(stdout, 'All checks passed (1 file checked).\n');
      assert.equal(stderr, '');
      assert.equal(status, 0);
    });

    it('defaults to the current folder', async function () {
      const dir = makeTree({ 'bad.py': PY_BUG });
      const { status, stdout } = await runCli(['check'], dir);
      assert.match(stdout, /^bad\.py:3:21: NB101 /);
      assert.equal(status, 1);
    });

    it('finds the same bug in TypeScript', async function () {
      const dir = makeTree({ 'step.ts': TS_BUG });
      const { status, stdout } = await runCli(['check', 'step.ts'], dir);
      assert.match(stdout, /^step\.ts:2:\d+: NB101 /m);
      assert.equal(status, 1);
    });

    it('prints files in a deterministic, sorted order', async function () {
      const dir = makeTree({ 'b.py': PY_BUG, 'a.py': PY_BUG, 'pkg/z.py': PY_BUG, 'pkg/c.py': PY_BUG });
      const first = (await runCli(['check', '.'], dir)).stdout;
      const files = first
        .split('\n')
        .filter((line) => line.includes(': NB101 '))
        .map((line) => line.split(':')[0]);
      assert.deepEqual(files, ['a.py', 'b.py', 'pkg/c.py', 'pkg/z.py']);
      assert.equal((await runCli(['check', '.'], dir)).stdout, first);
    });
  });

  describe('json format', function () {
    it('prints one JSON document with 1-based positions and an exclusive end column', async function () {
      const dir = makeTree({ 'examples/bad.py': PY_BUG, 'examples/good.py': PY_OK });
      const { status, stdout } = await runCli(['check', '--format', 'json', 'examples'], dir);
      const out = JSON.parse(stdout) as JsonOut;
      assert.equal(out.version, 1);
      assert.equal(out.files, 2);
      assert.equal(out.diagnostics.length, 1, stdout);
      const [d] = out.diagnostics;
      assert.equal(d.file, 'examples/bad.py');
      assert.deepEqual(
        { line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn },
        PY_BUG_AT,
        `range should cover '${PENALTY}'`,
      );
      assert.equal(d.code, 'NB101');
      assert.equal(d.severity, 'error');
      assert.ok(d.message.length > 0);
      assert.ok(Array.isArray(d.related));
      for (const r of d.related) assert.equal(r.file, 'examples/bad.py');
      if (d.fix) {
        assert.ok(['safe', 'unsafe'].includes(d.fix.safety));
        for (const edit of d.fix.edits) assert.ok(edit.line >= 1 && edit.column >= 1);
      }
      assert.equal(status, 1);
    });

    it('accepts --format=json and prints an empty list for clean code', async function () {
      const dir = makeTree({ 'good.py': PY_OK });
      const { status, stdout } = await runCli(['check', '--format=json', 'good.py'], dir);
      const out = JSON.parse(stdout) as JsonOut;
      assert.deepEqual(out.diagnostics, []);
      assert.equal(out.files, 1);
      assert.equal(status, 0);
    });
  });

  describe('sarif format', function () {
    it('prints a SARIF 2.1.0 log with rule metadata and results', async function () {
      const dir = makeTree({ 'src/bad.py': PY_BUG });
      const { status, stdout } = await runCli(['check', '--format', 'sarif', 'src'], dir);
      assert.equal(status, 1);
      const log = JSON.parse(stdout);
      assert.equal(log.$schema, 'https://json.schemastore.org/sarif-2.1.0.json');
      assert.equal(log.version, '2.1.0');
      assert.equal(log.runs.length, 1);
      const run = log.runs[0];
      const driver = run.tool.driver;
      assert.equal(driver.name, 'nabla');
      assert.equal(driver.version, packageVersion());
      assert.match(driver.informationUri, /^https:\/\//);

      const ruleList = (await runCli(['rules'])).stdout.trimEnd().split('\n');
      assert.equal(driver.rules.length, ruleList.length);
      const levels: Record<string, string> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };
      for (const [i, rule] of driver.rules.entries()) {
        const [code, name, severity] = ruleList[i].split(/\s+/);
        assert.equal(rule.id, code);
        assert.equal(rule.name, name);
        assert.equal(typeof rule.shortDescription.text, 'string');
        assert.ok(rule.shortDescription.text.length > 0);
        assert.match(rule.helpUri, new RegExp(`^https://.*/docs/rules/${code}\\.md$`));
        assert.equal(rule.defaultConfiguration.level, levels[severity]);
      }

      assert.equal(run.results.length, 1);
      const [result] = run.results;
      assert.equal(result.ruleId, 'NB101');
      assert.equal(driver.rules[result.ruleIndex].id, 'NB101');
      assert.equal(result.level, 'error');
      assert.ok(result.message.text.length > 0);
      const location = result.locations[0].physicalLocation;
      assert.equal(location.artifactLocation.uri, 'src/bad.py');
      assert.deepEqual(location.region, {
        startLine: PY_BUG_AT.line,
        startColumn: PY_BUG_AT.column,
        endLine: PY_BUG_AT.endLine,
        endColumn: PY_BUG_AT.endColumn,
      });
      for (const related of result.relatedLocations ?? []) {
        assert.equal(related.physicalLocation.artifactLocation.uri, 'src/bad.py');
        assert.ok(related.physicalLocation.region.startLine >= 1);
      }
    });

    it('has rule metadata and no results for clean code', async function () {
      const dir = makeTree({ 'good.py': PY_OK });
      const { status, stdout } = await runCli(['check', '--format', 'sarif', 'good.py'], dir);
      const log = JSON.parse(stdout);
      assert.deepEqual(log.runs[0].results, []);
      assert.ok(log.runs[0].tool.driver.rules.some((rule: { id: string }) => rule.id === 'NB101'));
      assert.equal(status, 0);
    });
  });

  describe('--select and --ignore', function () {
    let dir: string;
    before(function () {
      dir = makeTree({ 'bad.py': PY_BUG });
    });

    it('--select with a code or a prefix keeps the rule', async function () {
      for (const select of ['NB101', 'NB1', 'nb101', 'NB101,NB1']) {
        const { status, stdout } = await runCli(['check', '--select', select, '--format', 'json', 'bad.py'], dir);
        assert.deepEqual(summarize((JSON.parse(stdout) as JsonOut).diagnostics), ['bad.py:3:21 NB101'], select);
        assert.equal(status, 1, select);
      }
    });

    it('--ignore with a code or a prefix drops the rule', async function () {
      for (const ignore of ['NB101', 'NB1']) {
        const { status, stdout } = await runCli(['check', '--ignore', ignore, 'bad.py'], dir);
        assert.equal(stdout, 'All checks passed (1 file checked).\n', ignore);
        assert.equal(status, 0, ignore);
      }
    });

    it('rejects a code that matches no rule', async function () {
      for (const option of ['--select', '--ignore']) {
        const { status, stdout, stderr } = await runCli(['check', option, 'NB999', 'bad.py'], dir);
        assert.equal(status, 2, option);
        assert.equal(stdout, '');
        assert.match(stderr, /^nabla: error: .*NB999/);
      }
    });
  });

  describe('usage errors exit 2', function () {
    const cases: [string, string[], RegExp][] = [
      ['an unknown option', ['check', '--bogus', '.'], /unknown option: --bogus/],
      ['an unknown format', ['check', '--format', 'xml', '.'], /unknown format 'xml'/],
      ['a missing option value', ['check', '--format'], /option --format needs a value/],
      ['a missing value before another option', ['check', '--select', '--format', 'json'], /option --select needs a value/],
      ['a bad --max-file-size', ['check', '--max-file-size', 'big'], /--max-file-size/],
      ['an unknown command', ['lint', '.'], /unknown command 'lint'/],
      ['no command', [], /no command/],
      ['a check-only option on another command', ['rules', '--format', 'json'], /only applies to 'nabla check'/],
    ];
    for (const [what, args, message] of cases) {
      it(`for ${what}`, async function () {
        const { status, stdout, stderr } = await runCli(args);
        assert.equal(status, 2);
        assert.equal(stdout, '');
        assert.match(stderr, /^nabla: error: /);
        assert.match(stderr, message);
      });
    }

    it('suggests `check` when a path is given as the command', async function () {
      const { status, stderr } = await runCli(['examples/']);
      assert.equal(status, 2);
      assert.match(stderr, /did you mean 'nabla check examples\/'/);
    });
  });

  describe('paths', function () {
    it('reports a nonexistent path, still lints the others, and exits 2', async function () {
      const dir = makeTree({ 'bad.py': PY_BUG });
      const { status, stdout, stderr } = await runCli(['check', 'missing.py', 'bad.py'], dir);
      assert.match(stderr, /^nabla: error: path not found: missing\.py$/m);
      assert.match(stdout, /^bad\.py:3:21: NB101 /m);
      assert.match(stdout, /\(1 file checked\)/);
      assert.equal(status, 2);
    });

    it('exits 2 for a nonexistent path even when nothing else has problems', async function () {
      const dir = makeTree({ 'good.py': PY_OK });
      const { status, stderr } = await runCli(['check', 'good.py', 'nope/'], dir);
      assert.match(stderr, /path not found: nope\//);
      assert.equal(status, 2);
    });

    // A process of its own: as root, it runs as another user.
    it('reports an unreadable file, lints the others, and exits 2', function () {
      if (process.platform === 'win32') this.skip();
      const dir = makeTree({ 'locked.py': PY_OK, 'bad.py': PY_BUG });
      // Root reads any file, so as root the CLI runs as `nobody`, which needs the folder opened up.
      const asRoot = process.getuid?.() === 0;
      if (asRoot) fs.chmodSync(dir, 0o755);
      const locked = path.join(dir, 'locked.py');
      fs.chmodSync(locked, 0o000);
      let result;
      try {
        result = spawnCli(['check', '.'], dir, { uid: asRoot ? 65534 : undefined });
      } finally {
        fs.chmodSync(locked, 0o644);
      }
      const { status, stdout, stderr } = result;
      if (asRoot && /Cannot find module|EACCES.*cli\.js/.test(stderr)) this.skip(); // `nobody` cannot run the bundle here
      assert.match(stderr, /^nabla: error: cannot read locked\.py: permission denied$/m);
      assert.match(stdout, /^bad\.py:3:21: NB101 /m);
      assert.equal(status, 2);
    });

    it('uses absolute paths as given', async function () {
      const dir = makeTree({ 'bad.py': PY_BUG });
      const { stdout } = await runCli(['check', '--format', 'json', dir]);
      const out = JSON.parse(stdout) as JsonOut;
      assert.deepEqual(summarize(out.diagnostics), [`${dir.replace(/\\/g, '/')}/bad.py:3:21 NB101`]);
    });

    it('lints a file given twice only once', async function () {
      const dir = makeTree({ 'bad.py': PY_BUG });
      const { stdout } = await runCli(['check', '--format', 'json', 'bad.py', '.', 'bad.py'], dir);
      const out = JSON.parse(stdout) as JsonOut;
      assert.equal(out.files, 1);
      assert.equal(out.diagnostics.length, 1);
    });
  });

  describe('in this process', function () {
    it('reads and prints paths from the folder it is given, not the process working folder, and leaves process.exitCode alone', async function () {
      const helper = ['import numpy as np', '', 'def l2_term(W, reg):', '    return reg * np.sum(W * W)', ''].join('\n');
      const train = ['from helpers import l2_term', '', 'def sgd_step(W, dW, lr, reg):', '    W -= lr * (dW + l2_term(W, reg))', '    return W', ''].join('\n');
      const dir = makeTree({ 'requirements.txt': 'numpy\n', 'pkg/helpers.py': helper, 'pkg/train.py': train });
      assert.notEqual(process.cwd(), dir);
      const exitCode = process.exitCode;
      const text = await runCli(['check', 'pkg/train.py', '--no-cache'], dir);
      assert.match(text.stdout, /^pkg\/train\.py:4:21: NB101 .*\n {4}pkg\/helpers\.py:3:1: note: /);
      assert.equal(text.status, 1);
      const pkg = path.join(dir, 'pkg');
      const log = JSON.parse((await runCli(['check', '--format', 'sarif', '--no-cache', 'train.py'], pkg)).stdout);
      assert.equal(log.runs[0].originalUriBaseIds['%SRCROOT%'].uri, pathToFileURL(pkg + path.sep).href);
      const [result] = log.runs[0].results;
      assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'train.py');
      assert.equal(result.relatedLocations[0].physicalLocation.artifactLocation.uri, 'helpers.py');
      assert.equal(process.exitCode, exitCode);
    });
  });

  describe('help and version', function () {
    it('--help prints usage and exits 0', async function () {
      for (const args of [['--help'], ['-h'], ['check', '--help'], ['help']]) {
        const { status, stdout } = await runCli(args);
        assert.match(stdout, /^Usage: nabla <command>/, args.join(' '));
        assert.match(stdout, /--format FORMAT/);
        assert.equal(status, 0);
      }
    });

    it('--version prints the package version', async function () {
      const { status, stdout } = await runCli(['--version']);
      assert.equal(stdout, `nabla ${packageVersion()}\n`);
      assert.equal(status, 0);
    });
  });
});
