// `nabla rules` and `nabla rule CODE`.
import * as assert from 'node:assert/strict';
import { runCli } from './helpers';

describe('nabla rules / nabla rule', function () {
  this.timeout(60000);

  it('lists every rule as CODE  name  severity  summary', async function () {
    const { status, stdout } = await runCli(['rules']);
    assert.equal(status, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 1);
    for (const line of lines) assert.match(line, /^NB\d{3}\s{2,}[a-z0-9-]+\s{2,}(error|warning|information|hint)\s{2,}\S/);
    const nb101 = lines.find((line) => line.startsWith('NB101 '));
    assert.ok(nb101, stdout);
    assert.match(nb101, /^NB101\s+\S+\s+error\s+/);
    const codes = lines.map((line) => line.split(/\s+/)[0]);
    assert.deepEqual(codes, [...codes].sort(), 'rules are listed by code');
  });

  it('shows the docs page of a rule, case-insensitively', async function () {
    for (const code of ['NB101', 'nb101']) {
      const { status, stdout } = await runCli(['rule', code]);
      assert.equal(status, 0, code);
      assert.match(stdout, /NB101/);
    }
  });

  it('exits 2 for an unknown rule', async function () {
    const { status, stdout, stderr } = await runCli(['rule', 'NB999']);
    assert.equal(status, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^nabla: error: unknown rule: NB999/);
  });

  it('exits 2 without a rule code', async function () {
    const { status, stderr } = await runCli(['rule']);
    assert.equal(status, 2);
    assert.match(stderr, /exactly one rule code/);
  });
});
