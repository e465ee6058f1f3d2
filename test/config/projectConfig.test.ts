// The project file parser and the layering of options, without spawning anything.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigResolver, formatProblem, isExcluded, parseConfigText, resolveFileOptions } from '../../server/config/projectConfig';

describe('project configuration file', function () {
  const root = path.resolve(os.tmpdir(), 'proj');
  const file = path.join(root, 'nabla.toml');

  it('parses every key of nabla.toml', function () {
    const loaded = parseConfigText(
      ['select = ["nb1", "ALL"]', 'ignore = ["NB101"]', 'exclude = ["vendor/"]', '[per-file-ignores]', '"tests/**" = ["NB1"]', '[severity]', 'NB101 = "Warning"', ''].join('\n'),
      file,
    );
    assert.ok(loaded);
    assert.deepEqual(loaded.problems, []);
    const { config } = loaded;
    assert.deepEqual(config.select, ['NB1', 'ALL']);
    assert.deepEqual(config.ignore, ['NB101']);
    assert.deepEqual(config.exclude, ['vendor/']);
    assert.deepEqual(config.perFileIgnores, [{ pattern: 'tests/**', codes: ['NB1'] }]);
    assert.deepEqual(config.severity, { NB101: 'warning' });
    assert.equal(config.root, root);
  });

  it('reads cache-dir relative to the file, and rejects a value that is not a path', function () {
    assert.equal(parseConfigText('cache-dir = ".cache/nabla"\n', file)!.config.cacheDir, path.join(root, '.cache', 'nabla'));
    const pyproject = parseConfigText('[tool.nabla]\ncache-dir = "/var/tmp/nb"\n', path.join(root, 'pyproject.toml'))!;
    assert.equal(pyproject.config.cacheDir, path.resolve('/var/tmp/nb'));
    const bad = parseConfigText('cache-dir = 3\n', file)!;
    assert.equal(bad.config.cacheDir, undefined);
    assert.deepEqual(bad.problems.map((p) => formatProblem('nabla.toml', p)), ['nabla.toml: cache-dir: expected a folder path, e.g. ".cache/nabla"']);
  });

  it('names the file and key of every invalid value, and keeps the valid ones', function () {
    const loaded = parseConfigText('select = ["NB1", "NBX", 3]\nignore = "NB101"\nfoo = 1\n[severity]\nNB999 = "error"\nNB101 = "loud"\n', file);
    assert.ok(loaded);
    assert.deepEqual(loaded.config.select, ['NB1']);
    assert.deepEqual(
      loaded.problems.map((p) => formatProblem('nabla.toml', p)),
      [
        'nabla.toml: select[1]: "NBX" is not a rule code',
        'nabla.toml: select[2]: 3 is not a rule code',
        'nabla.toml: ignore: expected a list of rule codes, e.g. ["NB101"]',
        'nabla.toml: foo: unknown key (expected one of select, ignore, exclude, per-file-ignores, severity, cache-dir)',
        'nabla.toml: severity.NB999: "NB999" is not a rule code',
        'nabla.toml: severity.NB101: "loud" is not one of error, warning, information, hint',
      ],
    );
  });

  it('reads [tool.nabla] from pyproject.toml, and passes over one without it', function () {
    const pyproject = path.join(root, 'pyproject.toml');
    const loaded = parseConfigText('[tool.nabla]\nselect = ["NBX"]\n', pyproject);
    assert.deepEqual(loaded?.problems.map((p) => formatProblem('pyproject.toml', p)), ['pyproject.toml: tool.nabla.select[0]: "NBX" is not a rule code']);
    assert.equal(parseConfigText('[tool.ruff]\nselect = ["E"]\n', pyproject), undefined);
    assert.equal(parseConfigText('[tool.ruff\n', pyproject), undefined, 'a broken pyproject.toml without our table is not ours');
    assert.match(parseConfigText('[tool.nabla]\nselect = [\n', pyproject)?.problems[0].message ?? '', /^invalid TOML at line \d+, column \d+/);
  });

  it('layers editor settings (union select) and CLI options (replacing select) over the file', function () {
    const config = parseConfigText('select = ["NB0"]\nignore = ["NB2"]\n[per-file-ignores]\n"tests/*.py" = ["NB101"]\n[severity]\nNB101 = "hint"\n', file)!.config;
    const testFile = path.join(root, 'tests', 'a.py');
    const editor = resolveFileOptions(config, testFile, { select: ['NB1'], ignore: ['NB3'], severity: { NB101: 'error' } }, 'editor');
    assert.deepEqual(editor, { select: ['NB0', 'NB1'], ignore: ['NB2', 'NB3', 'NB101'], severity: { NB101: 'error' }, excluded: false });
    const cli = resolveFileOptions(config, path.join(root, 'src', 'a.py'), { select: ['NB1'] }, 'cli');
    assert.deepEqual(cli, { select: ['NB1'], ignore: ['NB2'], severity: { NB101: 'hint' }, excluded: false });
    assert.deepEqual(resolveFileOptions(undefined, testFile, { select: [] }, 'editor'), { select: undefined, ignore: undefined, severity: undefined, excluded: false });
  });

  it('excludes with gitignore-style patterns relative to the file folder', function () {
    const config = parseConfigText('exclude = ["vendor/", "*_pb2.py"]\n', file)!.config;
    assert.ok(isExcluded(config, path.join(root, 'vendor', 'x.py')));
    assert.ok(isExcluded(config, path.join(root, 'vendor'), true));
    assert.ok(isExcluded(config, path.join(root, 'a', 'b_pb2.py')));
    assert.ok(!isExcluded(config, path.join(root, 'src', 'x.py')));
    assert.ok(!isExcluded(config, path.join(os.tmpdir(), 'elsewhere', 'vendor', 'x.py')), 'outside the folder');
  });

  it('finds the nearest config walking up, nabla.toml first', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-config-'));
    try {
      fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[tool.nabla]\nignore = ["NB101"]\n');
      fs.writeFileSync(path.join(dir, 'a', 'pyproject.toml'), '[project]\nname = "a"\n');
      fs.writeFileSync(path.join(dir, 'a', 'b', 'pyproject.toml'), '[tool.nabla]\nignore = ["NB201"]\n');
      fs.writeFileSync(path.join(dir, 'a', 'b', 'nabla.toml'), 'ignore = ["NB001"]\n');
      const loaded: string[] = [];
      const resolver = new ConfigResolver({ onLoad: (l) => loaded.push(path.relative(dir, l.config.file)) });
      assert.equal(resolver.forPath(path.join(dir, 'a', 'x.py'))?.config.file, path.join(dir, 'pyproject.toml'));
      assert.equal(resolver.forPath(path.join(dir, 'a', 'b', 'y.py'))?.config.file, path.join(dir, 'a', 'b', 'nabla.toml'));
      assert.equal(resolver.forPath(path.join(dir, 'z.py'))?.config.file, path.join(dir, 'pyproject.toml'));
      assert.deepEqual(loaded, ['pyproject.toml', path.join('a', 'b', 'nabla.toml')], 'each file is loaded once');
      assert.equal(new ConfigResolver({ disabled: true }).forPath(path.join(dir, 'z.py')), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
