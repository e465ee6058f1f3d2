// parseArgs on its own: the option grammar, without spawning the CLI.
import * as assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../server/cli/args';
import { DEFAULT_MAX_FILE_SIZE } from '../../server/engine';

describe('nabla argument parsing', function () {
  it('defaults check to the current folder and text output', function () {
    assert.deepEqual(parseArgs(['check']), {
      command: 'check',
      paths: ['.'],
      format: 'text',
      select: undefined,
      ignore: undefined,
      maxFileSize: DEFAULT_MAX_FILE_SIZE,
    });
  });

  it('takes option values separately or after =, and options anywhere', function () {
    const parsed = parseArgs(['--format=sarif', 'check', 'a.py', '--max-file-size', '0', 'b/', '--select', 'nb1']);
    assert.deepEqual(parsed, { command: 'check', paths: ['a.py', 'b/'], format: 'sarif', select: ['NB1'], ignore: undefined, maxFileSize: 0 });
  });

  it('accumulates repeated --select and --ignore, skipping empty items', function () {
    const parsed = parseArgs(['check', '--select', 'NB101,', '--select=NB1', '--ignore', ' NB101 ']);
    assert.ok(parsed.command === 'check');
    assert.deepEqual(parsed.select, ['NB101', 'NB1']);
    assert.deepEqual(parsed.ignore, ['NB101']);
  });

  it('treats everything after -- as paths', function () {
    const parsed = parseArgs(['check', '--', '--weird-name.py', '-h']);
    assert.ok(parsed.command === 'check');
    assert.deepEqual(parsed.paths, ['--weird-name.py', '-h']);
  });

  it('lets --help and --version win', function () {
    assert.deepEqual(parseArgs(['check', 'x', '-h']), { command: 'help' });
    assert.deepEqual(parseArgs(['--version']), { command: 'version' });
    assert.deepEqual(parseArgs(['rule', 'NB101']), { command: 'rule', code: 'NB101' });
  });

  it('parses server, with --stdio accepted for it alone, and its own --help', function () {
    assert.deepEqual(parseArgs(['server']), { command: 'server' });
    assert.deepEqual(parseArgs(['server', '--stdio']), { command: 'server' });
    assert.deepEqual(parseArgs(['server', '--help']), { command: 'help', topic: 'server' });
    assert.deepEqual(parseArgs(['--help', 'server']), { command: 'help', topic: 'server' });
    assert.throws(() => parseArgs(['server', 'extra']), UsageError);
    assert.throws(() => parseArgs(['server', '--no-cache']), UsageError);
    assert.throws(() => parseArgs(['check', '--stdio']), UsageError);
  });

  it('takes --no-cache and --cache-dir, but not together', function () {
    const noCache = parseArgs(['check', '--no-cache']);
    assert.ok(noCache.command === 'check' && noCache.noCache === true && noCache.cacheDir === undefined);
    const dir = parseArgs(['check', '--cache-dir', '/tmp/c', 'src']);
    assert.ok(dir.command === 'check' && dir.cacheDir === '/tmp/c' && dir.noCache === undefined);
    assert.deepEqual(dir.paths, ['src']);
    assert.throws(() => parseArgs(['check', '--no-cache', '--cache-dir', 'x']), UsageError);
    assert.throws(() => parseArgs(['check', '--cache-dir']), UsageError);
    assert.throws(() => parseArgs(['rules', '--no-cache']), UsageError);
  });

  it('rejects malformed input with a UsageError', function () {
    const bad = [
      ['check', '--format', 'yaml'],
      ['check', '--format='],
      ['check', '--no-color=1'],
      ['check', '--max-file-size', '-1'],
      ['check', '--max-file-size', '1.5'],
      ['check', '--select', ','],
      ['check', '--ignore', 'XYZ'],
      ['rules', 'extra'],
      ['rule'],
      ['rule', 'NB101', 'NB102'],
      ['frobnicate'],
    ];
    for (const args of bad) assert.throws(() => parseArgs(args), UsageError, args.join(' '));
  });
});
