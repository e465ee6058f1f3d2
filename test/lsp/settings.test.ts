import * as assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, parseSettings, SettingsStore } from '../../server/lsp/settings';

describe('lsp/settings', function () {
  it('defaults: enabled, all rules, no overrides', function () {
    assert.deepEqual(parseSettings(undefined).settings, { enable: true, select: [], ignore: [], severity: {} });
    assert.deepEqual(parseSettings(null).settings, DEFAULT_SETTINGS);
    assert.deepEqual(parseSettings({}).settings, DEFAULT_SETTINGS);
  });

  it('reads well-formed values, normalizing code case', function () {
    const { settings, problems } = parseSettings({
      enable: false,
      select: ['nb1'],
      ignore: ['NB102'],
      severity: { nb101: 'Warning' },
      trace: { server: 'verbose' },
    });
    assert.deepEqual(settings, { enable: false, select: ['NB1'], ignore: ['NB102'], severity: { NB101: 'warning' } });
    assert.deepEqual(problems, []);
  });

  it('falls back to defaults for wrong values and says why', function () {
    const { settings, problems } = parseSettings({ enable: 'no', select: 'NB101', ignore: [3, '', 'NB101'], severity: { NB101: 'fatal', NB102: 'hint' } });
    assert.deepEqual(settings, { enable: true, select: [], ignore: ['NB101'], severity: { NB102: 'hint' } });
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.deepEqual(parseSettings(42).settings, DEFAULT_SETTINGS);
    assert.deepEqual(parseSettings([]).settings, DEFAULT_SETTINGS);
  });

  it('pull: caches per document until the configuration changes', async function () {
    let calls = 0;
    let value: unknown = { ignore: ['NB101'] };
    const store = new SettingsStore(async () => (calls++, value), () => undefined);
    assert.deepEqual((await store.get('file:///a.py')).ignore, ['NB101']);
    await store.get('file:///a.py');
    assert.equal(calls, 1);
    value = { enable: false };
    store.changed(null);
    assert.equal((await store.get('file:///a.py')).enable, false);
    assert.equal(calls, 2);
  });

  it('pull: a failing request means defaults, and is retried next time', async function () {
    let fail = true;
    const logged: string[] = [];
    const store = new SettingsStore(
      async () => {
        if (fail) throw new Error('no config');
        return { enable: false };
      },
      (message) => logged.push(message),
    );
    assert.deepEqual(await store.get('file:///a.py'), DEFAULT_SETTINGS);
    assert.equal(logged.length, 1);
    fail = false;
    assert.equal((await store.get('file:///a.py')).enable, false);
  });

  it('push: uses the nabla section of didChangeConfiguration', async function () {
    const logged: string[] = [];
    const store = new SettingsStore(undefined, (message) => logged.push(message));
    assert.deepEqual(await store.get('file:///a.py'), DEFAULT_SETTINGS);
    store.changed({ nabla: { ignore: ['NB101'], enable: 'maybe' } });
    assert.deepEqual((await store.get('file:///a.py')).ignore, ['NB101']);
    store.changed({ nabla: { enable: 'maybe' } });
    assert.equal(logged.length, 1, 'the same problem is reported once');
    store.changed(null);
    assert.deepEqual(await store.get('file:///a.py'), DEFAULT_SETTINGS);
  });
});
