// A deterministic corpus of realistic training code for `npm run bench`: Python (NumPy, PyTorch,
// JAX/optax, Keras/TF) and TypeScript/JavaScript (TensorFlow.js, plain arrays), in the shapes of
// examples/ and test/fixtures/, with regularization mistakes sprinkled in (about one template in
// six takes its mistaken variant). The same seed always gives the same bytes: the generator uses
// its own PRNG (mulberry32) and nothing from the environment.
//
//   node out/bench/corpus.js --out DIR [--seed N] [--python-lines N] [--ts-lines N]
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CorpusOptions {
  seed?: number;
  /** Lines of Python to generate, at least (files are whole). */
  pythonLines?: number;
  /** Lines of TypeScript and JavaScript to generate, at least. */
  tsLines?: number;
  /** Probability that a template takes its mistaken variant. */
  mistakeRate?: number;
}

export interface CorpusFile {
  /** Relative to the corpus folder, with `/`. */
  path: string;
  language: 'python' | 'typescript' | 'javascript';
  lines: number;
  bytes: number;
  /** How many templates took their mistaken variant (not what Nabla must find: a guide). */
  mistakes: number;
}

export interface CorpusManifest {
  seed: number;
  files: CorpusFile[];
  pythonLines: number;
  tsLines: number;
  pythonFiles: number;
  tsFiles: number;
  mistakes: number;
}

export const DEFAULT_SEED = 20250601;

/** mulberry32: small, fast and the same on every platform. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ------------------------------------------------------------------ vocabulary

const regNames = ['reg', 'lam', 'l2', 'weight_decay', 'wd', 'reg_strength', 'alpha', 'lambda_'];
const lrNames = ['lr', 'learning_rate', 'step_size', 'eta'];
const floats = ['1e-4', '5e-4', '1e-3', '1e-2', '0.01', '0.001', '3e-4', '2e-5'];
const lrs = ['0.1', '0.01', '1e-3', '3e-4', '0.05', '0.5'];
const modelNames = ['Classifier', 'Regressor', 'TwoLayerNet', 'MLP', 'ConvNet', 'Encoder', 'Policy', 'Critic', 'TextModel', 'TabularNet'];
const datasetNames = ['spiral', 'moons', 'mnist', 'cifar', 'iris', 'housing', 'reviews', 'sensors', 'clicks', 'weather'];
const verbs = ['compute', 'update', 'evaluate', 'prepare', 'load', 'build', 'run', 'fit', 'score', 'collect'];
const nouns = ['batch', 'metrics', 'features', 'labels', 'history', 'stats', 'config', 'schedule', 'summary', 'logits'];
const jsRegNames = ['lam', 'l2', 'reg', 'weightDecay', 'wd', 'alpha'];
const jsLrNames = ['lr', 'learningRate', 'stepSize', 'eta'];

interface Ctx {
  r: Rng;
  /** Unique suffix for names in this file. */
  n: number;
  mistakes: number;
  mistakeRate: number;
  /** A JavaScript file: no type annotations. */
  js?: boolean;
}

/** Whether this template instance takes its mistaken variant. */
function wrong(ctx: Ctx): boolean {
  const w = ctx.r.chance(ctx.mistakeRate);
  if (w) ctx.mistakes++;
  return w;
}

function uniq(ctx: Ctx, base: string): string {
  return `${base}_${ctx.n++}`;
}

function camel(ctx: Ctx, base: string): string {
  return `${base}${ctx.n++}`;
}

// ------------------------------------------------------------------ Python templates

type Template = (ctx: Ctx) => string[];

const pyNumpySvm: Template = (ctx) => {
  const { r } = ctx;
  const reg = r.pick(regNames);
  const name = uniq(ctx, r.pick(['svm_loss', 'hinge_loss', 'multiclass_svm']));
  const grad = wrong(ctx)
    ? r.pick([`    dW += ${reg} * np.sum(W * W)`, `    dW += 2 * ${reg} * np.sum(W ** 2)`, `    dW += ${reg} * np.linalg.norm(W) ** 2`])
    : r.pick([`    dW += 2 * ${reg} * W`, `    dW += ${reg} * 2 * W`]);
  return [
    `def ${name}(W, X, y, ${reg}):`,
    `    """Multiclass SVM loss with loops; W is (D, C), X is (N, D)."""`,
    `    dW = np.zeros(W.shape)`,
    `    num_classes = W.shape[1]`,
    `    num_train = X.shape[0]`,
    `    loss = 0.0`,
    `    for i in range(num_train):`,
    `        scores = X[i].dot(W)`,
    `        correct_class_score = scores[y[i]]`,
    `        for j in range(num_classes):`,
    `            if j == y[i]:`,
    `                continue`,
    `            margin = scores[j] - correct_class_score + ${r.pick(['1', '1.0', 'delta'])}`,
    `            if margin > 0:`,
    `                loss += margin`,
    `                dW[:, j] += X[i]`,
    `                dW[:, y[i]] -= X[i]`,
    `    loss /= num_train`,
    `    dW /= num_train`,
    `    loss += ${reg} * np.sum(W * W)`,
    grad,
    `    return loss, dW`,
  ];
};

const pyNumpySoftmax: Template = (ctx) => {
  const { r } = ctx;
  const reg = r.pick(regNames);
  const name = uniq(ctx, r.pick(['softmax_loss', 'cross_entropy_loss', 'softmax_loss_vectorized']));
  const half = r.chance(0.5);
  const penalty = half ? `0.5 * ${reg} * np.sum(np.square(W))` : `${reg} * np.sum(W * W)`;
  const good = half ? `${reg} * W` : `2 * ${reg} * W`;
  const bad = half ? `0.5 * ${reg} * np.sum(np.square(W))` : `${reg} * np.sum(W * W)`;
  const term = wrong(ctx) ? bad : good;
  return [
    `def ${name}(W, X, y, ${reg}):`,
    `    num_train = X.shape[0]`,
    `    scores = X.dot(W)`,
    `    scores -= scores.max(axis=1, keepdims=True)`,
    `    exp_scores = np.exp(scores)`,
    `    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)`,
    `    loss = -np.log(probs[np.arange(num_train), y]).mean()`,
    `    loss += ${penalty}`,
    `    dscores = probs.copy()`,
    `    dscores[np.arange(num_train), y] -= 1`,
    `    dscores /= num_train`,
    `    dW = X.T.dot(dscores) + ${term}`,
    `    return loss, dW`,
  ];
};

const pyTwoLayerClass: Template = (ctx) => {
  const { r } = ctx;
  const cls = uniq(ctx, r.pick(modelNames));
  const reg = r.pick(['reg', 'lam', 'l2_reg']);
  const bad = wrong(ctx);
  const g1 = bad ? `grads['W1'] += ${reg} * np.sum(W1 * W1)` : `grads['W1'] += ${reg} * W1`;
  const lr = r.pick(lrNames);
  return [
    `class ${cls}:`,
    `    def __init__(self, input_size, hidden_size, output_size, std=${r.pick(['1e-4', '0.01', '1e-2'])}):`,
    `        self.params = {}`,
    `        self.params['W1'] = std * np.random.randn(input_size, hidden_size)`,
    `        self.params['b1'] = np.zeros(hidden_size)`,
    `        self.params['W2'] = std * np.random.randn(hidden_size, output_size)`,
    `        self.params['b2'] = np.zeros(output_size)`,
    ``,
    `    def loss(self, X, y=None, ${reg}=0.0):`,
    `        W1, b1 = self.params['W1'], self.params['b1']`,
    `        W2, b2 = self.params['W2'], self.params['b2']`,
    `        N, D = X.shape`,
    `        h1 = np.maximum(0, X.dot(W1) + b1)`,
    `        scores = h1.dot(W2) + b2`,
    `        if y is None:`,
    `            return scores`,
    `        shifted = scores - np.max(scores, axis=1, keepdims=True)`,
    `        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)`,
    `        loss = -np.sum(np.log(probs[np.arange(N), y])) / N`,
    `        loss += 0.5 * ${reg} * (np.sum(W1 * W1) + np.sum(W2 * W2))`,
    `        grads = {}`,
    `        dscores = probs.copy()`,
    `        dscores[np.arange(N), y] -= 1`,
    `        dscores /= N`,
    `        grads['W2'] = h1.T.dot(dscores) + ${reg} * W2`,
    `        grads['b2'] = np.sum(dscores, axis=0)`,
    `        dh1 = dscores.dot(W2.T)`,
    `        dh1[h1 <= 0] = 0`,
    `        grads['W1'] = X.T.dot(dh1)`,
    `        ${g1}`,
    `        grads['b1'] = np.sum(dh1, axis=0)`,
    `        return loss, grads`,
    ``,
    `    def train(self, X, y, ${lr}=${r.pick(lrs)}, ${reg}=${r.pick(floats)}, num_iters=${r.int(100, 5000)}, batch_size=${r.pick(['64', '128', '200'])}):`,
    `        num_train = X.shape[0]`,
    `        loss_history = []`,
    `        for it in range(num_iters):`,
    `            idx = np.random.choice(num_train, batch_size)`,
    `            loss, grads = self.loss(X[idx], y=y[idx], ${reg}=${reg})`,
    `            loss_history.append(loss)`,
    `            for name in self.params:`,
    `                self.params[name] -= ${lr} * grads[name]`,
    `            if it % 100 == 0:`,
    `                print('iteration %d / %d: loss %f' % (it, num_iters, loss))`,
    `        return loss_history`,
    ``,
    `    def predict(self, X):`,
    `        h1 = np.maximum(0, X.dot(self.params['W1']) + self.params['b1'])`,
    `        return np.argmax(h1.dot(self.params['W2']) + self.params['b2'], axis=1)`,
  ];
};

const pyNumpyStep: Template = (ctx) => {
  const { r } = ctx;
  const lr = r.pick(lrNames);
  const reg = r.pick(regNames);
  const name = uniq(ctx, r.pick(['sgd_step', 'apply_update', 'gradient_step', 'train_linear']));
  const kind = r.int(0, 3);
  const bad = wrong(ctx);
  let step: string;
  if (kind === 0) step = bad ? `        W += ${lr} * dW` : `        W -= ${lr} * dW`;
  else if (kind === 1) step = bad ? `        W -= ${lr} * (dW + ${reg} * np.abs(W))` : `        W -= ${lr} * (dW + ${reg} * np.sign(W))`;
  else if (kind === 2) step = bad ? `        W = W - ${lr} * (dW + ${reg} * np.sum(W ** 2))` : `        W = W - ${lr} * (dW + 2 * ${reg} * W)`;
  else step = `        W -= ${lr} * (dW + ${reg} * W)`;
  return [
    `def ${name}(W, b, X, y, ${lr}=${r.pick(lrs)}, ${reg}=${r.pick(floats)}, epochs=${r.int(10, 500)}):`,
    `    n = X.shape[0]`,
    `    history = []`,
    `    for epoch in range(epochs):`,
    `        pred = X.dot(W) + b`,
    `        residual = pred - y`,
    kind === 2 ? `        loss = np.mean(residual ** 2) + ${reg} * np.sum(W ** 2)` : kind === 1 ? `        loss = np.mean(residual ** 2) + ${reg} * np.sum(np.abs(W))` : `        loss = np.mean(residual ** 2) + 0.5 * ${reg} * np.sum(W * W)`,
    `        dW = 2 * X.T.dot(residual) / n`,
    `        db = 2 * residual.mean(axis=0)`,
    step,
    `        b -= ${lr} * db`,
    `        history.append(float(loss))`,
    `    return W, b, history`,
  ];
};

const pyTorchManual: Template = (ctx) => {
  const { r } = ctx;
  const lam = r.pick(['lam', 'wd', 'weight_decay', 'l2']);
  const name = uniq(ctx, r.pick(['train', 'fit', 'train_manual', 'run_epochs']));
  const bad = wrong(ctx);
  const kind = r.int(0, 2);
  let inner: string[];
  if (kind === 0) inner = [bad ? `                        p.grad += ${lam} * p.pow(2).sum()` : `                        p.grad += ${lam} * p`, `                    p -= lr * p.grad`];
  else if (kind === 1) inner = [bad ? `                    p.sub_(lr * (p.grad + ${lam} * p.norm() ** 2))` : `                    p.sub_(lr * (p.grad + ${lam} * p))`];
  else inner = [bad ? `                    p.data.add_(lr * p.grad)` : `                    p.data.add_(-lr * p.grad)`];
  return [
    `def ${name}(model, X, y, epochs=${r.int(5, 300)}, batch_size=${r.pick(['32', '64', '128'])}, lr=${r.pick(lrs)}, ${lam}=${r.pick(floats)}):`,
    `    n = X.shape[0]`,
    `    for epoch in range(epochs + 1):`,
    `        perm = torch.randperm(n)`,
    `        total = 0.0`,
    `        for start in range(0, n, batch_size):`,
    `            idx = perm[start:start + batch_size]`,
    `            model.zero_grad()`,
    `            loss = F.cross_entropy(model(X[idx]), y[idx])`,
    `            loss.backward()`,
    `            with torch.no_grad():`,
    `                for p in model.parameters():`,
    ...(kind === 0 ? [`                    if p.ndim > 1:`, ...inner] : inner),
    `            total += loss.item() * len(idx)`,
    `        if epoch % ${r.pick(['10', '50', '100'])} == 0:`,
    `            print(f'epoch {epoch:3d}  loss {total / n:.4f}')`,
    `    return model`,
  ];
};

const pyTorchModule: Template = (ctx) => {
  const { r } = ctx;
  const cls = uniq(ctx, r.pick(modelNames));
  const hidden = r.pick(['64', '128', '256', '512']);
  return [
    `class ${cls}(nn.Module):`,
    `    def __init__(self, in_features=${r.pick(['2', '10', '784', '3072'])}, hidden=${hidden}, out_features=${r.pick(['2', '10', '100'])}, dropout=${r.pick(['0.1', '0.2', '0.5'])}):`,
    `        super().__init__()`,
    `        self.fc1 = nn.Linear(in_features, hidden)`,
    `        self.norm = nn.LayerNorm(hidden)`,
    `        self.fc2 = nn.Linear(hidden, hidden)`,
    `        self.head = nn.Linear(hidden, out_features)`,
    `        self.drop = nn.Dropout(dropout)`,
    ``,
    `    def forward(self, x):`,
    `        x = F.relu(self.norm(self.fc1(x)))`,
    `        x = self.drop(F.relu(self.fc2(x)))`,
    `        return self.head(x)`,
  ];
};

const pyTorchOptim: Template = (ctx) => {
  const { r } = ctx;
  const name = uniq(ctx, r.pick(['make_optimizer', 'configure_optimizers', 'build_optimizer']));
  const bad = wrong(ctx);
  const kind = r.int(0, 2);
  let opt: string;
  if (kind === 0) opt = bad ? `torch.optim.Adam(model.parameters(), lr=lr, weight_decay=${r.pick(floats)})` : `torch.optim.AdamW(params, lr=lr, weight_decay=${r.pick(floats)})`;
  else if (kind === 1) opt = bad ? `optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=${r.pick(floats)})` : `optim.SGD(params, lr=lr, momentum=0.9, weight_decay=${r.pick(floats)})`;
  else opt = `torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), weight_decay=${r.pick(floats)})`;
  return [
    `def ${name}(model, lr=${r.pick(lrs)}):`,
    `    decay, no_decay = [], []`,
    `    for pname, p in model.named_parameters():`,
    `        if not p.requires_grad:`,
    `            continue`,
    `        (no_decay if p.ndim <= 1 or pname.endswith('.bias') else decay).append(p)`,
    `    params = [{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}]`,
    `    optimizer = ${opt}`,
    `    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=${r.int(10, 200)})`,
    `    return optimizer, scheduler`,
  ];
};

const pyTorchLoop: Template = (ctx) => {
  const { r } = ctx;
  const name = uniq(ctx, r.pick(['train_epoch', 'run_epoch', 'fit_one_epoch']));
  const lam = r.pick(['lam', 'l2_lambda', 'reg']);
  const bad = wrong(ctx);
  const kind = r.int(0, 1);
  const body =
    kind === 0
      ? bad
        ? [`        loss.backward()`, `        loss = loss + ${lam} * sum(p.pow(2).sum() for p in model.parameters())`]
        : [`        loss = loss + ${lam} * sum(p.pow(2).sum() for p in model.parameters())`, `        loss.backward()`]
      : bad
        ? [`        l2_reg = ${lam} * sum(p.pow(2).sum() for p in model.parameters())`, `        loss.backward()`]
        : [`        loss.backward()`];
  return [
    `def ${name}(model, loader, optimizer, ${lam}=${r.pick(floats)}, device='cpu'):`,
    `    model.train()`,
    `    running = 0.0`,
    `    correct = 0`,
    `    for x, y in loader:`,
    `        x, y = x.to(device), y.to(device)`,
    `        optimizer.zero_grad()`,
    `        logits = model(x)`,
    `        loss = F.cross_entropy(logits, y)`,
    ...body,
    `        optimizer.step()`,
    `        running += loss.item()`,
    `        correct += (logits.argmax(dim=1) == y).sum().item()`,
    `    return running / len(loader), correct / len(loader.dataset)`,
  ];
};

const pyJaxStep: Template = (ctx) => {
  const { r } = ctx;
  const name = uniq(ctx, r.pick(['train_step', 'update', 'sgd_update']));
  const bad = wrong(ctx);
  const wd = r.pick(['wd', 'l2', 'weight_decay']);
  const lam = r.pick(floats);
  const lossName = uniq(ctx, 'loss_fn');
  return [
    `def ${lossName}(params, x, y):`,
    `    logits = forward(params, x)`,
    `    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()`,
    ``,
    ``,
    `@jax.jit`,
    `def ${name}(params, x, y, lr=${r.pick(lrs)}, ${wd}=${lam}):`,
    `    loss, grads = jax.value_and_grad(${lossName})(params, x, y)`,
    bad
      ? `    params = jax.tree_util.tree_map(lambda p, g: p - lr * (g + ${wd} * jnp.sum(p ** 2)), params, grads)`
      : `    params = jax.tree_util.tree_map(lambda p, g: p - lr * (g + ${wd} * p), params, grads)`,
    `    return params, loss`,
  ];
};

const pyKeras: Template = (ctx) => {
  const { r } = ctx;
  const name = uniq(ctx, r.pick(['build_model', 'make_keras_model', 'compile_model']));
  const bad = wrong(ctx);
  const units = r.pick(['32', '64', '128']);
  const opt = bad
    ? r.pick([`keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, decay=${r.pick(floats)})`, `keras.optimizers.Adam(learning_rate=1e-3, decay=${r.pick(floats)})`])
    : r.pick([`keras.optimizers.Adam(learning_rate=1e-3)`, `keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)`]);
  return [
    `def ${name}(input_dim, num_classes=${r.pick(['2', '10'])}):`,
    `    model = keras.Sequential([`,
    `        keras.layers.Input(shape=(input_dim,)),`,
    `        keras.layers.Dense(${units}, activation='relu', kernel_regularizer=keras.regularizers.l2(${r.pick(floats)})),`,
    `        keras.layers.Dropout(${r.pick(['0.1', '0.3'])}),`,
    `        keras.layers.Dense(num_classes, activation='softmax'),`,
    `    ])`,
    `    model.compile(optimizer=${opt}, loss='sparse_categorical_crossentropy', metrics=['accuracy'])`,
    `    return model`,
  ];
};

const pyTfTape: Template = (ctx) => {
  const { r } = ctx;
  const name = uniq(ctx, r.pick(['train_step', 'custom_step', 'apply_step']));
  const bad = wrong(ctx);
  return [
    `def ${name}(model, optimizer, x, y, lam=${r.pick(floats)}):`,
    `    with tf.GradientTape() as tape:`,
    `        logits = model(x, training=True)`,
    `        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))`,
    bad ? `    loss = loss + lam * tf.add_n([tf.nn.l2_loss(v) for v in model.trainable_variables])` : `        loss = loss + lam * tf.add_n([tf.nn.l2_loss(v) for v in model.trainable_variables])`,
    `    grads = tape.gradient(loss, model.trainable_variables)`,
    `    optimizer.apply_gradients(zip(grads, model.trainable_variables))`,
    `    return loss`,
  ];
};

/** Plain code with no regularization at all: most of a real training script. */
const pyUtility: Template = (ctx) => {
  const { r } = ctx;
  const kind = r.int(0, 5);
  const fn = uniq(ctx, `${r.pick(verbs)}_${r.pick(nouns)}`);
  switch (kind) {
    case 0:
      return [
        `def ${fn}(path, split='train', limit=None):`,
        `    """Reads a CSV file of features and labels."""`,
        `    rows = []`,
        `    with open(path) as handle:`,
        `        header = handle.readline().strip().split(',')`,
        `        for i, line in enumerate(handle):`,
        `            if limit is not None and i >= limit:`,
        `                break`,
        `            values = line.strip().split(',')`,
        `            rows.append([float(v) for v in values[:-1]] + [int(values[-1])])`,
        `    data = np.array(rows)`,
        `    X, y = data[:, :-1], data[:, -1].astype(int)`,
        `    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-8`,
        `    return (X - mean) / std, y, header`,
      ];
    case 1:
      return [
        `def ${fn}(y_true, y_pred, num_classes=${r.int(2, 10)}):`,
        `    confusion = np.zeros((num_classes, num_classes), dtype=int)`,
        `    for t, p in zip(y_true, y_pred):`,
        `        confusion[t, p] += 1`,
        `    precision = np.diag(confusion) / np.maximum(confusion.sum(axis=0), 1)`,
        `    recall = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)`,
        `    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)`,
        `    return {'accuracy': np.trace(confusion) / confusion.sum(), 'f1': f1.mean(), 'confusion': confusion}`,
      ];
    case 2:
      return [
        `def ${fn}(argv=None):`,
        `    parser = argparse.ArgumentParser(description='Train a model on ${r.pick(datasetNames)}.')`,
        `    parser.add_argument('--epochs', type=int, default=${r.int(5, 200)})`,
        `    parser.add_argument('--batch-size', type=int, default=${r.pick(['32', '64', '128', '256'])})`,
        `    parser.add_argument('--lr', type=float, default=${r.pick(lrs)})`,
        `    parser.add_argument('--weight-decay', type=float, default=${r.pick(floats)})`,
        `    parser.add_argument('--seed', type=int, default=${r.int(0, 9999)})`,
        `    parser.add_argument('--out', default='runs/${r.pick(datasetNames)}')`,
        `    return parser.parse_args(argv)`,
      ];
    case 3:
      return [
        `def ${fn}(step, warmup=${r.int(100, 2000)}, base_lr=${r.pick(lrs)}, total=${r.int(10000, 100000)}):`,
        `    if step < warmup:`,
        `        return base_lr * (step + 1) / warmup`,
        `    progress = (step - warmup) / max(1, total - warmup)`,
        `    return 0.5 * base_lr * (1 + math.cos(math.pi * progress))`,
      ];
    case 4:
      return [
        `def ${fn}(history, window=${r.int(3, 50)}):`,
        `    smoothed = []`,
        `    acc = 0.0`,
        `    for i, value in enumerate(history):`,
        `        acc += value`,
        `        if i >= window:`,
        `            acc -= history[i - window]`,
        `        smoothed.append(acc / min(i + 1, window))`,
        `    best = min(range(len(smoothed)), key=smoothed.__getitem__) if smoothed else None`,
        `    logging.info('best smoothed loss %s at %s', smoothed[best] if best is not None else None, best)`,
        `    return smoothed, best`,
      ];
    default:
      return [
        `class ${camel(ctx, 'Dataset')}:`,
        `    def __init__(self, X, y, batch_size=${r.pick(['32', '64'])}, shuffle=True, seed=${r.int(0, 99)}):`,
        `        self.X, self.y = X, y`,
        `        self.batch_size = batch_size`,
        `        self.shuffle = shuffle`,
        `        self.rng = np.random.default_rng(seed)`,
        ``,
        `    def __len__(self):`,
        `        return (len(self.X) + self.batch_size - 1) // self.batch_size`,
        ``,
        `    def __iter__(self):`,
        `        order = self.rng.permutation(len(self.X)) if self.shuffle else np.arange(len(self.X))`,
        `        for start in range(0, len(order), self.batch_size):`,
        `            idx = order[start:start + self.batch_size]`,
        `            yield self.X[idx], self.y[idx]`,
      ];
  }
};

const pyHeader = (r: Rng): string[] => {
  const what = r.pick(['Training script', 'Model and training loop', 'Experiments', 'Utilities and training code', 'Baselines']);
  return [
    `"""${what} for the ${r.pick(datasetNames)} data set (generated by bench/corpus.ts)."""`,
    `import argparse`,
    `import logging`,
    `import math`,
    ``,
    `import jax`,
    `import jax.numpy as jnp`,
    `import numpy as np`,
    `import optax`,
    `import tensorflow as tf`,
    `import torch`,
    `import torch.nn as nn`,
    `import torch.nn.functional as F`,
    `import torch.optim as optim`,
    `from tensorflow import keras`,
    ``,
    `logger = logging.getLogger(__name__)`,
    `DEFAULT_SEED = ${r.int(0, 9999)}`,
    ``,
    ``,
    `def forward(params, x):`,
    `    for layer in params[:-1]:`,
    `        x = jax.nn.relu(x @ layer['w'] + layer['b'])`,
    `    return x @ params[-1]['w'] + params[-1]['b']`,
  ];
};

const pyTemplates: [Template, number][] = [
  [pyNumpySvm, 2],
  [pyNumpySoftmax, 3],
  [pyTwoLayerClass, 2],
  [pyNumpyStep, 4],
  [pyTorchManual, 3],
  [pyTorchModule, 3],
  [pyTorchOptim, 3],
  [pyTorchLoop, 3],
  [pyJaxStep, 2],
  [pyKeras, 2],
  [pyTfTape, 2],
  [pyUtility, 12],
];

// ------------------------------------------------------------------ TypeScript / JavaScript templates

/** A TypeScript-only piece (a type annotation, `as T`), or nothing in a JavaScript file. */
function ty(ctx: Ctx, text: string): string {
  return ctx.js ? '' : text;
}

const tsTfjsStep: Template = (ctx) => {
  const { r } = ctx;
  const lam = r.pick(jsRegNames);
  const lr = r.pick(jsLrNames);
  const name = camel(ctx, r.pick(['trainStep', 'stepChained', 'applyStep', 'sgdStep']));
  const bad = wrong(ctx);
  const kind = r.int(0, 2);
  let update: string;
  if (kind === 0) update = bad ? `    W.assign(W.sub(grads['W'].add(W.square().sum().mul(${lam})).mul(${lr})));` : `    W.assign(W.sub(grads['W'].add(W.mul(2 * ${lam})).mul(${lr})));`;
  else if (kind === 1) update = bad ? `    W.assign(tf.sub(W, tf.mul(${lr}, tf.add(grads['W'], tf.mul(${lam}, tf.sum(tf.square(W)))))));` : `    W.assign(tf.sub(W, tf.mul(${lr}, tf.add(grads['W'], tf.mul(2 * ${lam}, W)))));`;
  else update = bad ? `    W.assign(W.add(grads['W'].mul(${lr})));` : `    W.assign(W.sub(grads['W'].mul(${lr})));`;
  return [
    `export function ${name}(x${ty(ctx, ': tf.Tensor2D')}, y${ty(ctx, ': tf.Tensor2D')}, ${lr}${ty(ctx, ': number')}, ${lam}${ty(ctx, ': number')})${ty(ctx, ': number')} {`,
    `  return tf.tidy(() => {`,
    `    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, x.matMul(W).add(b))${ty(ctx, ' as tf.Scalar')}, [W, b]);`,
    update,
    `    b.assign(b.sub(grads['b'].mul(${lr})));`,
    `    return value.dataSync()[0];`,
    `  });`,
    `}`,
  ];
};

const tsPlainLogistic: Template = (ctx) => {
  const { r } = ctx;
  const lam = r.pick(jsRegNames);
  const name = camel(ctx, r.pick(['trainLogistic', 'fitLinear', 'trainRidge']));
  const bad = wrong(ctx);
  return [
    `export function ${name}(xs${ty(ctx, ': number[][]')}, ys${ty(ctx, ': number[]')}, ${lam} = ${r.pick(['1e-3', '0.01', '1e-4'])}, lr = ${r.pick(['0.1', '0.05', '0.01'])}, epochs = ${r.int(10, 500)})${ty(ctx, ': { w: number[]; b: number }')} {`,
    `  const d = xs[0].length;`,
    `  const n = xs.length;`,
    `  const w${ty(ctx, ': number[]')} = new Array(d).fill(0);`,
    `  let b = 0;`,
    `  for (let epoch = 0; epoch < epochs; epoch++) {`,
    `    const grad${ty(ctx, ': number[]')} = new Array(d).fill(0);`,
    `    let gb = 0;`,
    `    for (let i = 0; i < n; i++) {`,
    `      const p = sigmoid(dot(w, xs[i]) + b);`,
    `      for (let j = 0; j < d; j++) grad[j] += ((p - ys[i]) * xs[i][j]) / n;`,
    `      gb += (p - ys[i]) / n;`,
    `    }`,
    `    let pen = 0;`,
    `    for (let j = 0; j < d; j++) pen += w[j] * w[j];`,
    `    for (let j = 0; j < d; j++) {`,
    bad ? `      w[j] -= lr * (grad[j] + ${lam} * pen);` : `      w[j] -= lr * (grad[j] + 2 * ${lam} * w[j]);`,
    `    }`,
    `    b -= lr * gb;`,
    `  }`,
    `  return { w, b };`,
    `}`,
  ];
};

const tsUtility: Template = (ctx) => {
  const { r } = ctx;
  const kind = r.int(0, 3);
  const fn = camel(ctx, `${r.pick(verbs)}${r.pick(['Batch', 'Metrics', 'Features', 'Labels', 'History', 'Stats'])}`);
  switch (kind) {
    case 0:
      return [
        `export function ${fn}(values${ty(ctx, ': number[]')}, window = ${r.int(3, 40)})${ty(ctx, ': number[]')} {`,
        `  const out${ty(ctx, ': number[]')} = [];`,
        `  let acc = 0;`,
        `  for (let i = 0; i < values.length; i++) {`,
        `    acc += values[i];`,
        `    if (i >= window) acc -= values[i - window];`,
        `    out.push(acc / Math.min(i + 1, window));`,
        `  }`,
        `  return out;`,
        `}`,
      ];
    case 1:
      return [
        ...(ctx.js
          ? []
          : [`export interface ${camel(ctx, 'Config')} {`, `  epochs: number;`, `  batchSize: number;`, `  learningRate: number;`, `  seed?: number;`, `}`, ``]),
        `export function ${fn}(args${ty(ctx, ': string[]')})${ty(ctx, ': { epochs: number; batchSize: number }')} {`,
        `  const get = (name${ty(ctx, ': string')}, fallback${ty(ctx, ': number')})${ty(ctx, ': number')} => {`,
        `    const i = args.indexOf(\`--\${name}\`);`,
        `    return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : fallback;`,
        `  };`,
        `  return { epochs: get('epochs', ${r.int(5, 100)}), batchSize: get('batch-size', ${r.pick(['32', '64'])}) };`,
        `}`,
      ];
    case 2:
      return [
        `export function ${fn}(yTrue${ty(ctx, ': number[]')}, yPred${ty(ctx, ': number[]')})${ty(ctx, ': { accuracy: number; mse: number }')} {`,
        `  let hits = 0;`,
        `  let se = 0;`,
        `  for (let i = 0; i < yTrue.length; i++) {`,
        `    if (Math.round(yPred[i]) === yTrue[i]) hits++;`,
        `    se += (yPred[i] - yTrue[i]) ** 2;`,
        `  }`,
        `  return { accuracy: hits / Math.max(1, yTrue.length), mse: se / Math.max(1, yTrue.length) };`,
        `}`,
      ];
    default:
      return [
        `export class ${camel(ctx, 'BatchIterator')} {`,
        `  ${ty(ctx, 'private ')}order${ty(ctx, ': number[]')} = [];`,
        `  constructor(size${ty(ctx, ': number')}, batchSize = ${r.pick(['32', '64'])}) {`,
        `    this.size = size;`,
        `    this.batchSize = batchSize;`,
        `    this.order = Array.from({ length: size }, (_, i) => i);`,
        `  }`,
        ``,
        `  *batches()${ty(ctx, ': Generator<number[]>')} {`,
        `    for (let start = 0; start < this.size; start += this.batchSize) {`,
        `      yield this.order.slice(start, start + this.batchSize);`,
        `    }`,
        `  }`,
        `}`,
      ];
  }
};

const tsHeader = (ctx: Ctx): string[] => {
  const { r } = ctx;
  return [
    `// ${r.pick(['Training code', 'Model fitting', 'Experiments'])} for the ${r.pick(datasetNames)} data set (generated by bench/corpus.ts).`,
    ctx.js ? `const tf = require('@tensorflow/tfjs');` : `import * as tf from '@tensorflow/tfjs';`,
    ``,
    `const W = tf.variable(tf.randomNormal([${r.int(2, 64)}, 1], 0, 0.1), true, 'W');`,
    `const b = tf.variable(tf.zeros([1]), true, 'b');`,
    ``,
    `function dot(a${ty(ctx, ': number[]')}, c${ty(ctx, ': number[]')})${ty(ctx, ': number')} {`,
    `  let s = 0;`,
    `  for (let j = 0; j < a.length; j++) s += a[j] * c[j];`,
    `  return s;`,
    `}`,
    ``,
    `function sigmoid(z${ty(ctx, ': number')})${ty(ctx, ': number')} {`,
    `  return 1 / (1 + Math.exp(-z));`,
    `}`,
  ];
};

const tsTemplates: [Template, number][] = [
  [tsTfjsStep, 3],
  [tsPlainLogistic, 3],
  [tsUtility, 6],
];

function pickWeighted(r: Rng, templates: [Template, number][]): Template {
  const total = templates.reduce((s, [, w]) => s + w, 0);
  let x = r.next() * total;
  for (const [t, w] of templates) {
    x -= w;
    if (x < 0) return t;
  }
  return templates[templates.length - 1][0];
}

/** One file: a header, then templates until it has about `target` lines. */
function makeFile(ctx: Ctx, language: 'python' | 'ts', target: number): string {
  const { r } = ctx;
  const lines = language === 'python' ? pyHeader(r) : tsHeader(ctx);
  const templates = language === 'python' ? pyTemplates : tsTemplates;
  const gap = language === 'python' ? ['', ''] : [''];
  while (lines.length < target) {
    lines.push(...gap);
    lines.push(...pickWeighted(r, templates)(ctx));
  }
  if (language === 'python') {
    lines.push('', '', `if __name__ == '__main__':`, `    logging.basicConfig(level=logging.INFO)`, `    np.random.seed(DEFAULT_SEED)`);
  }
  return lines.join('\n') + '\n';
}

/** Generates the files in memory: [relative path, text]. */
export function* generateFiles(options: CorpusOptions = {}): Generator<[string, string, CorpusFile['language'], number]> {
  const seed = options.seed ?? DEFAULT_SEED;
  const r = new Rng(seed);
  const mistakeRate = options.mistakeRate ?? 0.15;
  for (const [language, total] of [
    ['python', options.pythonLines ?? 100_000],
    ['ts', options.tsLines ?? 30_000],
  ] as const) {
    let lines = 0;
    let index = 0;
    while (lines < total) {
      // Sizes like real files: mostly 100-600 lines, some over 1,000.
      const target = r.chance(0.1) ? r.int(800, 1600) : r.int(80, 600);
      const ext = language === 'python' ? 'py' : r.chance(0.25) ? 'js' : 'ts';
      const ctx: Ctx = { r, n: 0, mistakes: 0, mistakeRate, js: ext === 'js' };
      const text = makeFile(ctx, language, target);
      const count = text.split('\n').length - 1;
      const pkg = `pkg_${String(Math.floor(index / 20)).padStart(2, '0')}`;
      const name = `${language === 'python' ? 'py' : 'ts'}/${pkg}/${r.pick(verbs)}_${r.pick(datasetNames)}_${String(index).padStart(4, '0')}.${ext}`;
      yield [name, text, language === 'python' ? 'python' : ext === 'js' ? 'javascript' : 'typescript', ctx.mistakes];
      lines += count;
      index++;
    }
  }
}

/** Writes the corpus under `dir` (emptied first) and returns its manifest. */
export function writeCorpus(dir: string, options: CorpusOptions = {}): CorpusManifest {
  fs.rmSync(dir, { recursive: true, force: true });
  const manifest: CorpusManifest = { seed: options.seed ?? DEFAULT_SEED, files: [], pythonLines: 0, tsLines: 0, pythonFiles: 0, tsFiles: 0, mistakes: 0 };
  for (const [rel, text, language, mistakes] of generateFiles(options)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    const lines = text.split('\n').length - 1;
    manifest.files.push({ path: rel, language, lines, bytes: Buffer.byteLength(text), mistakes });
    if (language === 'python') {
      manifest.pythonLines += lines;
      manifest.pythonFiles++;
    } else {
      manifest.tsLines += lines;
      manifest.tsFiles++;
    }
    manifest.mistakes += mistakes;
  }
  return manifest;
}

/** One Python file of about `lines` lines (for the language-server measurements). */
export function pythonFileOfLines(lines: number, seed = DEFAULT_SEED): string {
  const ctx: Ctx = { r: new Rng(seed), n: 0, mistakes: 0, mistakeRate: 0.15 };
  return makeFile(ctx, 'python', lines);
}

if (require.main === module) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out') ?? path.join(process.cwd(), 'bench-corpus');
  const manifest = writeCorpus(out, {
    seed: arg('--seed') !== undefined ? Number(arg('--seed')) : undefined,
    pythonLines: arg('--python-lines') !== undefined ? Number(arg('--python-lines')) : undefined,
    tsLines: arg('--ts-lines') !== undefined ? Number(arg('--ts-lines')) : undefined,
  });
  process.stdout.write(
    `wrote ${manifest.pythonFiles} Python files (${manifest.pythonLines} lines) and ${manifest.tsFiles} TS/JS files (${manifest.tsLines} lines) to ${out}; ${manifest.mistakes} planted mistakes\n`,
  );
}
