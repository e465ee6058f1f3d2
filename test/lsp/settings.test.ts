import * as assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, initializationSettings, parseSettings, SettingsStore } from '../../server/lsp/settings';

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

  it('initializationOptions: the keys themselves, or a nabla section; anything else is none', function () {
    assert.deepEqual(initializationSettings({ ignore: ['NB204'] }), { ignore: ['NB204'] });
    assert.deepEqual(initializationSettings({ nabla: { ignore: ['NB204'] }, other: 1 }), { ignore: ['NB204'] });
    assert.equal(initializationSettings(undefined), undefined);
    assert.equal(initializationSettings(null), undefined);
    assert.equal(initializationSettings(['NB204']), undefined);
    assert.equal(initializationSettings('NB204'), undefined);
  });

  it('initializationOptions under a pulled configuration: a key the configuration sets wins, a key it leaves out keeps its value', async function () {
    let value: unknown = null;
    const logged: string[] = [];
    const store = new SettingsStore(async () => value, (message) => logged.push(message), { ignore: ['NB204'], severity: { NB101: 'error' } });
    assert.deepEqual(await store.get('file:///a.py'), { ...DEFAULT_SETTINGS, ignore: ['NB204'], severity: { NB101: 'error' } }, 'no nabla section: the initialization options');
    value = { ignore: ['NB301'], select: null };
    store.changed(null);
    assert.deepEqual(await store.get('file:///a.py'), { ...DEFAULT_SETTINGS, ignore: ['NB301'], severity: { NB101: 'error' } });
    value = { enable: true, select: [], ignore: [], severity: {} };
    store.changed(null);
    assert.deepEqual(await store.get('file:///a.py'), DEFAULT_SETTINGS, 'a client that answers every key (VS Code) decides alone');
    assert.deepEqual(logged, []);
  });

  it('initializationOptions with pushed settings, and wrong values reported like the configuration', async function () {
    const logged: string[] = [];
    const store = new SettingsStore(undefined, (message) => logged.push(message), { nabla: { enable: false, select: 'NB1' } });
    assert.deepEqual(await store.get('file:///a.py'), { ...DEFAULT_SETTINGS, enable: false });
    assert.deepEqual(logged, ['settings: nabla.select must be an array of rule codes']);
    store.changed({});
    assert.equal((await store.get('file:///a.py')).enable, false, 'a push without a nabla section keeps them');
    store.changed({ nabla: { enable: true } });
    assert.equal((await store.get('file:///a.py')).enable, true);
    const failing = new SettingsStore(
      async () => {
        throw new Error('no config');
      },
      (message) => logged.push(message),
      { ignore: ['NB204'] },
    );
    assert.deepEqual((await failing.get('file:///a.py')).ignore, ['NB204'], 'a failed request falls back to the initialization options');
  });
});
