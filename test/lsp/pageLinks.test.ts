// Classic scripts one HTML page loads share their globals (engine/pages.ts, `Project.pageMates`): the
// editor lints such a script with the scripts beside it on the page, as `nabla check` does, and an edit
// of one (in the editor, or on disk) lints the other again, and so does a change of the page (a watched
// file). Spawns `node dist/server.js --stdio`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspTestClient, serverPath } from './lspClient';

const PAGE = [
  '<!DOCTYPE html>',
  '<html>',
  '  <body>',
  '    <script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4/dist/tf.min.js"></script>',
  '    <script src="layers.js"></script>',
  '    <script src="learner.js"></script>',
  '  </body>',
  '</html>',
  '',
].join('\n');

// A builder with an L2 kernel penalty, a global of the page.
const LAYERS = [
  'function buildNet(inputs, classes) {',
  '  const net = tf.sequential();',
  "  net.add(tf.layers.dense({units: 32, inputShape: [inputs], activation: 'relu', kernelRegularizer: tf.regularizers.l2({l2: 1e-4})}));",
  '  net.add(tf.layers.dense({units: classes}));',
  '  return net;',
  '}',
  '',
].join('\n');

// A custom loop that minimizes the data loss only: the builder's penalty never reaches the gradient (NB301).
const LEARNER = [
  'class Learner {',
  '  constructor(inputs, classes) {',
  '    this.net = buildNet(inputs, classes);',
  '    this.opt = tf.train.adam(0.001);',
  '  }',
  '',
  '  fit(xs, ys) {',
  '    this.opt.minimize(() => {',
  '      const logits = this.net.predict(xs);',
  '      return tf.losses.softmaxCrossEntropy(ys, logits);',
  '    });',
  '  }',
  '}',
  '',
].join('\n');

describe('language server: scripts that share a page', function () {
  this.timeout(30000);
  let client: LspTestClient;
  let dir: string;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-page-')));
    fs.mkdirSync(path.join(dir, 'demo'));
    fs.writeFileSync(path.join(dir, 'demo', 'index.html'), PAGE);
    fs.writeFileSync(path.join(dir, 'demo', 'layers.js'), LAYERS);
    fs.writeFileSync(path.join(dir, 'demo', 'learner.js'), LEARNER);
    client = (await LspTestClient.start({ workspaceFolders: [pathToFileURL(dir).href], capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } })).client;
  });

  after(async function () {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const learner = () => pathToFileURL(path.join(dir, 'demo', 'learner.js')).href;
  const layers = () => pathToFileURL(path.join(dir, 'demo', 'layers.js')).href;
  const codes = (p: { diagnostics: { code?: unknown }[] }) => p.diagnostics.map((d) => String(d.code));

  it("lints a script with its page-mates' globals, as nabla check does", async function () {
    await client.open(learner(), 'javascript', LEARNER);
    assert.deepEqual(codes({ diagnostics: await client.diagnosticsFor(learner(), 1) }), ['NB301']);
  });

  it("an edit of the page-mate in the editor lints the script again: the penalty's removal clears its finding, restoring it brings it back", async function () {
    await client.open(layers(), 'javascript', LAYERS);
    await client.diagnosticsFor(layers(), 1);
    let since = client.publishes.length;
    await client.change(layers(), [{ text: LAYERS.replace(', kernelRegularizer: tf.regularizers.l2({l2: 1e-4})', '') }]);
    assert.deepEqual(codes(await client.waitForPublish(learner(), () => true, since)), []);
    since = client.publishes.length;
    await client.change(layers(), [{ text: LAYERS }]);
    assert.deepEqual(codes(await client.waitForPublish(learner(), () => true, since)), ['NB301']);
    // Closed again with the text on disk: nothing changes for the script.
    await client.close(layers());
  });

  it('a change of the page-mate on disk lints the script again', async function () {
    const since = client.publishes.length;
    fs.writeFileSync(path.join(dir, 'demo', 'layers.js'), LAYERS.replace(', kernelRegularizer: tf.regularizers.l2({l2: 1e-4})', ''));
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: layers(), type: 2 }] });
    assert.deepEqual(codes(await client.waitForPublish(learner(), () => true, since)), []);
    fs.writeFileSync(path.join(dir, 'demo', 'layers.js'), LAYERS);
    await client.close(learner());
  });

  it("a change of the page lints the scripts it loads again: a page that stops loading the builder takes the script's finding away", async function () {
    const page = pathToFileURL(path.join(dir, 'demo', 'index.html')).href;
    // The test before put layers.js back on disk without saying so.
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: layers(), type: 2 }] });
    let since = client.publishes.length;
    await client.open(learner(), 'javascript', LEARNER);
    assert.deepEqual(codes(await client.waitForPublish(learner(), (p) => p.diagnostics.length > 0, since)), ['NB301']);
    since = client.publishes.length;
    fs.writeFileSync(path.join(dir, 'demo', 'index.html'), PAGE.replace('    <script src="layers.js"></script>\n', ''));
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: page, type: 2 }] });
    assert.deepEqual(codes(await client.waitForPublish(learner(), (p) => p.diagnostics.length === 0, since)), []);
    since = client.publishes.length;
    fs.writeFileSync(path.join(dir, 'demo', 'index.html'), PAGE);
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: page, type: 2 }] });
    assert.deepEqual(codes(await client.waitForPublish(learner(), (p) => p.diagnostics.length > 0, since)), ['NB301']);
    await client.close(learner());
  });
});
