// Cross-file language-server latency: an edit of a model file in the editor re-publishes the
// diagnostics of the training file that imports it. Against the real bundle
// (`node dist/server.js --stdio`), driven by the tests' LSP client, in a temporary workspace:
//
//   models/net.py   builds a Keras model; one Dense layer has a kernel_regularizer, or not
//   train.py        imports build_model and trains with a GradientTape that leaves out
//                   model.losses: NB301 in train.py exactly when the model has a regularizer
//
// Both files are open. Each measured edit is a didChange of the Dense line in models/net.py that
// alternately removes and adds the regularizer (a text never seen before each time: the unit count
// changes too, so no cache can answer), and the time is taken from sending the change to the first
// publish for train.py whose NB301 (pointing into models/net.py) matches the new model. train.py
// itself never changes: its publishes keep version 1. Measured for the two small files, and again
// with both files padded to about 1,000 lines with corpus code (bench/corpus.ts).
//
//   node out/bench/lspProject.js [EDITS]     prints the results as JSON
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PublishDiagnosticsParams } from 'vscode-languageserver';
import { DEFAULT_DEBOUNCE_MS } from '../server/lsp/diagnostics';
import { LspTestClient } from '../test/lsp/lspClient';
import { pythonFileOfLines } from './corpus';
import { stats, type Stats } from './stats';

export interface LspProjectCase {
  /** Lines of models/net.py and of train.py. */
  netLines: number;
  trainLines: number;
  /** didChange of models/net.py → train.py's diagnostics re-published with the finding added or removed (raw). */
  republish: Stats;
  /** The same, the server's edit debounce subtracted (the dependent's re-lint is debounced like an edit). */
  republishMinusDebounce: Stats;
  /** didChange of models/net.py → models/net.py's own diagnostics for that version. */
  ownPublish: Stats;
  /** Publishes for train.py per edit (1 when each edit re-lints it once). */
  trainPublishesPerEdit: number;
}

export interface LspProjectResults {
  debounceMs: number;
  edits: number;
  small: LspProjectCase;
  padded1k: LspProjectCase;
}

const DENSE_LINE = 6; // 0-based line of the Dense layer whose regularizer is toggled

function netPy(padding: string): string {
  return [
    'import tensorflow as tf',
    'from tensorflow.keras import layers, regularizers',
    '',
    '',
    'def build_model(num_classes=10):',
    '    inputs = tf.keras.Input(shape=(784,))',
    denseLine(0, true),
    '    x = layers.Dense(128, activation="relu")(x)',
    '    outputs = layers.Dense(num_classes)(x)',
    '    return tf.keras.Model(inputs, outputs)',
    '',
    padding,
  ].join('\n');
}

/** The Dense line of edit `i`: a unit count never used before, with or without a regularizer. */
function denseLine(i: number, regularized: boolean): string {
  const units = 256 + i;
  return regularized
    ? `    x = layers.Dense(${units}, activation="relu", kernel_regularizer=regularizers.l2(${(i % 9) + 1}e-4))(inputs)`
    : `    x = layers.Dense(${units}, activation="relu")(inputs)`;
}

function trainPy(padding: string): string {
  return [
    'import tensorflow as tf',
    'from models.net import build_model',
    '',
    'model = build_model()',
    'optimizer = tf.keras.optimizers.Adam(1e-3)',
    'loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)',
    '',
    '',
    '@tf.function',
    'def train_step(x, y):',
    '    with tf.GradientTape() as tape:',
    '        logits = model(x, training=True)',
    '        loss = loss_fn(y, logits)',
    '    grads = tape.gradient(loss, model.trainable_variables)',
    '    optimizer.apply_gradients(zip(grads, model.trainable_variables))',
    '    return loss',
    '',
    padding,
  ].join('\n');
}

function countLines(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function measureCase(options: { padLines: number; edits: number; warmup: number; log: (s: string) => void }): Promise<LspProjectCase> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-bench-project-')));
  const net = netPy(options.padLines > 0 ? pythonFileOfLines(options.padLines, 11) : '');
  const train = trainPy(options.padLines > 0 ? pythonFileOfLines(options.padLines, 12) : '');
  const files: Record<string, string> = { 'pyproject.toml': '[project]\nname = "bench"\n', 'models/__init__.py': '', 'models/net.py': net, 'train.py': train };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const netUri = pathToFileURL(path.join(dir, 'models/net.py')).href;
  const trainUri = pathToFileURL(path.join(dir, 'train.py')).href;
  /** train.py's NB301 that points into models/net.py (the padding may have findings of its own). */
  const crossFinding = (p: PublishDiagnosticsParams): boolean =>
    p.diagnostics.some((d) => d.code === 'NB301' && (d.relatedInformation ?? []).some((r) => r.location.uri === netUri));

  const { client } = await LspTestClient.start({ workspaceFolders: [pathToFileURL(dir).href] });
  try {
    await client.open(trainUri, 'python', train);
    await client.open(netUri, 'python', net);
    // The workspace index is built in the background; once it is, train.py is linted with the model.
    await client.waitForPublish(trainUri, crossFinding, 0, 120_000);
    await client.waitForPublish(netUri, (p) => p.version === 1, 0, 120_000);

    const republish: number[] = [];
    const own: number[] = [];
    let trainPublishes = 0;
    let regularized = true;
    for (let i = 0; i < options.warmup + options.edits; i++) {
      regularized = !regularized;
      const oldLine = client.text(netUri).split('\n')[DENSE_LINE];
      const since = client.publishes.length;
      const t0 = performance.now();
      const version = await client.change(netUri, [{ range: { start: { line: DENSE_LINE, character: 0 }, end: { line: DENSE_LINE, character: oldLine.length } }, text: denseLine(i + 1, regularized) }]);
      const ownDone = client.waitForPublish(netUri, (p) => p.version === version, since, 120_000).then(() => performance.now() - t0);
      const expected = regularized;
      await client.waitForPublish(trainUri, (p) => crossFinding(p) === expected, since, 120_000);
      const latency = performance.now() - t0;
      const ownMs = await ownDone;
      // Let the server settle (a user types slower than this), then count train.py's publishes for this edit.
      await sleep(DEFAULT_DEBOUNCE_MS + 100);
      if (i >= options.warmup) {
        republish.push(latency);
        own.push(ownMs);
        trainPublishes += client.publishes.slice(since).filter((p) => p.uri === trainUri).length;
      }
    }
    options.log(`    ${countLines(net)}-line model, ${countLines(train)}-line training file: ${options.edits} edits`);
    return {
      netLines: countLines(net),
      trainLines: countLines(train),
      republish: stats(republish),
      republishMinusDebounce: stats(republish.map((ms) => ms - DEFAULT_DEBOUNCE_MS)),
      ownPublish: stats(own),
      trainPublishesPerEdit: Math.round((trainPublishes / options.edits) * 100) / 100,
    };
  } finally {
    await client.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runLspProjectBench(options: { edits?: number; log?: (s: string) => void } = {}): Promise<LspProjectResults> {
  const log = options.log ?? (() => undefined);
  const edits = options.edits ?? 30;
  log('edit of an imported model file → the training file re-published');
  const small = await measureCase({ padLines: 0, edits, warmup: 4, log });
  const padded1k = await measureCase({ padLines: 1000, edits, warmup: 4, log });
  return { debounceMs: DEFAULT_DEBOUNCE_MS, edits, small, padded1k };
}

if (require.main === module) {
  runLspProjectBench({ edits: Number(process.argv[2] ?? 30), log: (s) => process.stderr.write(`${s}\n`) }).then(
    (results) => process.stdout.write(JSON.stringify(results, null, 2) + '\n'),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
