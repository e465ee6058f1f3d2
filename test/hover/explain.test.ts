// explainAt: what an update, a penalty, an optimizer or a comment computes, as data.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, languageForPath, lintDocumentSteps, lintText, type LanguageId } from '../../server/engine';
import { runSteps } from '../../server/engine/stepwise';
import { explainAt as explainOrUndefined, explainIn, type Explanation } from '../../server/engine/explain';
import type { LintOptions } from '../../server/engine';

/** explainAt that fails the test on an internal error instead of hiding it. */
function explainAt(text: string, options: LintOptions, offset: number): Explanation | undefined {
  return explainOrUndefined(text, options, offset, (error) => {
    throw error;
  });
}
import { assertKatex, texOf } from './helpers';

const repoRoot = path.resolve(__dirname, '../../..');

/** The explanation at the first occurrence of `needle` (plus `delta` characters). */
function at(text: string, needle: string, language: LanguageId = 'python', delta = 0): Explanation | undefined {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} not in the text`);
  const ex = explainAt(text, { language }, offset + delta);
  if (ex) for (const tex of texOf(ex)) assertKatex(tex);
  return ex;
}

const FAULTY = [
  'import numpy as np',
  '',
  'def step(W, dW, lr, reg):',
  '    W = W - lr * (dW + reg * np.sum(W * W))',
  '    return W',
  '',
].join('\n');

const CORRECT = [
  'import numpy as np',
  '',
  'def svm_loss(W, X, y, reg):',
  '    loss = np.mean(X.dot(W))',
  '    loss += reg * np.sum(W * W)',
  '    dW = X.T.dot(y) / X.shape[0] + reg * W',
  '    dW += 2 * reg * W',
  '    return loss, dW',
  '',
  'def step(W, dW, lr, reg):',
  '    W -= lr * (dW + 2 * reg * W)',
  '    return W',
  '',
  'def l2(w):',
  '    return (w ** 2).sum() / 2',
  '',
].join('\n');

describe('hover: explainAt', function () {
  before(async function () {
    await initEngine();
  });

  it('a strength over a sum of penalties: the correct line keeps it outside and drops the penalty on another weight', function () {
    const text = fs.readFileSync(path.join(repoRoot, 'test/fixtures/NB101/strength_over_penalty_sum.py'), 'utf8');
    const ex = at(text, 'dW1 += lam');
    assert.ok(ex);
    assert.equal(ex.computed?.unicode, '∂L/∂W₁ ← ∂L/∂W₁ + λ(ΣW₁² + ΣW₂²)');
    assert.deepEqual(
      ex.findings.map((f) => [f.expected, f.correctUnicode]),
      [
        ['2·lam·W1', '∂L/∂W₁ ← ∂L/∂W₁ + 2λW₁'],
        ['0', '∂L/∂W₁ ← ∂L/∂W₁ + 2λW₁'],
      ],
    );
  });

  it("a norm's value added beside a loss's squared norm: the expected gradient and the correct line are the loss's penalty's", function () {
    const text = fs.readFileSync(path.join(repoRoot, 'test/fixtures/NB101/norm_value_beside_squared_norm_loss.py'), 'utf8');
    const ex = at(text, 'grad += 2 * reg');
    assert.ok(ex);
    assert.deepEqual(
      ex.findings.map((f) => [f.expected, f.correctUnicode]),
      [['2·reg·w', '∂L/∂w ← ∂L/∂w + 2λw']],
    );
    const lone = at(text, 'grad += reg * np');
    assert.ok(lone);
    assert.deepEqual(
      lone.findings.map((f) => f.expected),
      ['reg·w/‖w‖₂'],
    );
  });

  it('explains a faulty NB101 line: computed, correct update, rule link, equivalent forms', function () {
    const ex = at(FAULTY, 'W = W - lr');
    assert.ok(ex);
    assert.equal(ex.kind, 'update');
    assert.equal(ex.title, 'Update of `W`');
    assert.deepEqual(ex.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 43 } });
    assert.equal(ex.computed?.unicode, 'W ← W − η(∂L/∂W + λΣW²)');
    assert.equal(ex.computed?.tex, 'W \\leftarrow W - \\eta\\left(\\frac{\\partial L}{\\partial W} + \\lambda\\sum W^{2}\\right)');
    assert.deepEqual(
      ex.computed?.legend.map((e) => [e.unicode, e.code]),
      [['η', 'lr'], ['∂L/∂W', 'dW'], ['λ', 'reg']],
    );
    assert.equal(ex.findings.length, 1);
    const [f] = ex.findings;
    assert.equal(f.code, 'NB101');
    assert.match(f.docsUrl, /docs\/rules\/NB101\.md$/);
    assert.equal(f.summary, 'An update or gradient adds the penalty R(W) where its gradient ∇R(W) belongs');
    assert.equal(f.correctUnicode, 'W ← W − η(∂L/∂W + 2λW)');
    assert.equal(f.correctTex, 'W \\leftarrow W - \\eta\\left(\\frac{\\partial L}{\\partial W} + 2\\lambda W\\right)');
    const forms = ex.equivalentForms;
    assert.ok(forms);
    assert.equal(forms.lossUnicode, 'L̃(W) = L(W) + λ‖W‖₂²');
    assert.equal(forms.updateUnicode, 'W ← (1 − 2ηλ)W − η∇L(W)');
    assert.ok(forms.knobs.some((k) => k.includes('weight_decay=2λ')), forms.knobs.join('\n'));
    assert.ok(forms.knobs.some((k) => k.includes('l2(λ)')), forms.knobs.join('\n'));
  });

  it('explains the line from anywhere on it, and says nothing on a plain line', function () {
    const line = FAULTY.indexOf('    W = W - lr');
    assert.equal(explainAt(FAULTY, { language: 'python' }, line)?.kind, 'update', 'the indentation');
    assert.equal(at(FAULTY, 'np.sum(W * W))', 'python', 3)?.kind, 'update');
    assert.equal(at(FAULTY, 'return W'), undefined);
    assert.equal(at(FAULTY, 'import numpy'), undefined);
  });

  it('fills the NB101 finding math (site, update, penalty, gradient) and keeps its message', function () {
    const [finding] = lintText(FAULTY, { language: 'python' }).findings;
    assert.equal(finding.message, 'update of W adds the penalty reg·ΣW² (a scalar) where its gradient 2·reg·W belongs');
    assert.equal(finding.math?.computed, 'reg·ΣW²');
    assert.equal(finding.math?.expected, '2·reg·W');
    assert.deepEqual(finding.math?.site, finding.range);
    assert.deepEqual(finding.math?.update, { start: { line: 3, character: 4 }, end: { line: 3, character: 43 } });
    assert.deepEqual(finding.math?.penalty, { kind: 'sumsq', coef: { num: 1, syms: [{ name: 'reg', pow: 1 }] }, param: 'W', via: undefined });
    assert.deepEqual(finding.math?.gradient, { kind: 'linear', coef: { num: 2, syms: [{ name: 'reg', pow: 1 }] }, param: 'W' });
  });

  it('explains correct update and gradient lines, with the equivalent forms of their L2 term', function () {
    const update = at(CORRECT, 'W -= lr');
    assert.equal(update?.computed?.unicode, 'W ← W − η(∂L/∂W + 2λW)');
    assert.deepEqual(update?.findings, []);
    assert.equal(update?.equivalentForms?.lossUnicode, 'L̃(W) = L(W) + λ‖W‖₂²');
    assert.equal(update?.equivalentForms?.updateUnicode, 'W ← (1 − 2ηλ)W − η∇L(W)');

    const gradient = at(CORRECT, 'dW += 2');
    assert.equal(gradient?.title, 'Gradient `dW`');
    assert.equal(gradient?.computed?.unicode, '∂L/∂W ← ∂L/∂W + 2λW');
    assert.equal(gradient?.equivalentForms?.lossUnicode, 'L̃(W) = L(W) + λ‖W‖₂²');

    const definition = at(CORRECT, 'dW = X.T');
    assert.equal(definition?.computed?.unicode, '∂L/∂W = Xᵀy/X.shape[0] + λW');
  });

  it('gives distinct variables distinct symbols: a step direction built from the data gradient is Δw', function () {
    const text = [
      'import numpy as np',
      '',
      'class MLP:',
      '    def fit(self, X, y):',
      '        for _ in range(self.epochs):',
      '            err = X @ self.w_h - y',
      '            grad_w_h = X.T @ err',
      '            delta_w_h = grad_w_h + self.l2 * self.w_h',
      '            self.w_h -= self.eta * delta_w_h',
      '',
    ].join('\n');
    const ex = at(text, 'delta_w_h = grad');
    assert.equal(ex?.computed?.unicode, 'Δw_h = ∂L/∂w_h + λ·w_h');
    const legend = ex!.computed!.legend;
    assert.deepEqual(legend.map((e) => `${e.unicode} ${e.code}`), ['Δw_h delta_w_h', '∂L/∂w_h grad_w_h', 'λ self.l2']);
    // A gradient defined without another gradient keeps ∂L/∂W.
    assert.match(at('def g(X, err, W, reg):\n    dW = X.T @ err + reg * W\n    return dW\n', 'dW =')?.computed?.unicode ?? '', /^∂L\/∂W = /);
  });

  it('explains a shrink-factor update as weight decay', function () {
    const text = 'import numpy as np\ndef step(W, dW, lr, reg):\n    W = (1 - lr * reg) * W - lr * dW\n    return W\n';
    const ex = at(text, 'W = (1');
    assert.equal(ex?.computed?.unicode, 'W ← (1 − ηλ)W − η·∂L/∂W');
    assert.equal(ex?.equivalentForms?.lossUnicode, 'L̃(W) = L(W) + 0.5λ‖W‖₂²');
    assert.equal(ex?.equivalentForms?.updateUnicode, 'W ← (1 − ηλ)W − η∇L(W)');
  });

  it('explains penalty definitions: R(W) and ∇R(W)', function () {
    const assigned = at('import numpy as np\ndef f(W, reg):\n    reg_term = reg * np.sum(W * W)\n    return reg_term\n', 'reg_term =');
    assert.equal(assigned?.kind, 'penalty');
    assert.equal(assigned?.title, 'Penalty `reg_term`');
    assert.equal(assigned?.penalty?.unicode, 'R(W) = λΣW²');
    assert.equal(assigned?.penalty?.gradientUnicode, '∇R(W) = 2λW');
    assert.equal(assigned?.penalty?.tex, 'R\\left(W\\right) = \\lambda\\sum W^{2}');
    assert.equal(assigned?.penalty?.gradientTex, '\\nabla R\\left(W\\right) = 2\\lambda W');
    assert.equal(assigned?.penalty?.subgradient, false);

    const helper = at(CORRECT, 'def l2');
    assert.equal(helper?.title, 'Penalty `l2`');
    assert.equal(helper?.penalty?.unicode, 'R(w) = 0.5Σw²');
    assert.equal(helper?.penalty?.gradientUnicode, '∇R(w) = w');

    const inLoss = at(CORRECT, 'loss += reg');
    assert.equal(inLoss?.title, 'Penalty added to `loss`');
    assert.equal(inLoss?.penalty?.unicode, 'R(W) = λΣW²');

    const l1 = at('import torch\ndef f(model, lam):\n    for p in model.parameters():\n        pen = lam * p.abs().sum()\n', 'pen =');
    assert.equal(l1?.penalty?.unicode, 'R(p) = λΣ|p|');
    assert.equal(l1?.penalty?.gradientUnicode, '∇R(p) = λ·sign(p)');
    assert.equal(l1?.penalty?.subgradient, true);

    const named = at('def penalty(x, lam):\n    return lam * (x ** 2).sum()\n', 'def penalty');
    assert.equal(named?.penalty?.unicode, 'R(W) = λΣW²', 'the first argument read as the weight');
    assert.deepEqual(named?.penalty?.legend.map((e) => [e.unicode, e.code]), [['W', 'x'], ['λ', 'lam']]);
  });

  it('explains Keras regularizers', function () {
    const text = 'from tensorflow import keras\nlayer = keras.layers.Dense(10, kernel_regularizer=keras.regularizers.l2(1e-4))\n';
    const ex = at(text, 'regularizers.l2', 'python', 2);
    assert.equal(ex?.kind, 'penalty');
    assert.equal(ex?.penalty?.unicode, 'R(W) = 1e-4·ΣW²');
    assert.equal(ex?.penalty?.gradientUnicode, '∇R(W) = 2e-4·W');
  });

  it('explains optimizers with weight decay: coupled, decoupled, lr-scaled or not', function () {
    const text = [
      'import torch',
      'import optax',
      'import tensorflow_addons as tfa',
      'from tensorflow import keras',
      'model = torch.nn.Linear(3, 2)',
      'a = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)',
      'b = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=5e-4)',
      'c = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)',
      'd = keras.optimizers.Adam(learning_rate=1e-3, weight_decay=0.004)',
      'e = tfa.optimizers.AdamW(weight_decay=1e-4, learning_rate=1e-3)',
      'f = optax.adamw(1e-3, weight_decay=1e-4)',
      'g = optax.chain(optax.scale_by_adam(), optax.add_decayed_weights(1e-4), optax.scale_by_learning_rate(1e-3))',
      'h = torch.optim.SGD(model.parameters(), lr=0.1)',
      '',
    ].join('\n');
    const adamw = at(text, 'torch.optim.AdamW');
    assert.equal(adamw?.kind, 'optimizer');
    assert.equal(adamw?.optimizer?.name, 'torch.optim.AdamW');
    assert.equal(adamw?.optimizer?.coupling, 'decoupled');
    assert.equal(adamw?.optimizer?.lrScaled, true);
    assert.ok(adamw?.optimizer?.unicode.includes('θ ← (1 − ηλ)θ − η·m̂ₜ/(√v̂ₜ + ε)'), adamw?.optimizer?.unicode.join('\n'));
    assert.deepEqual(adamw?.optimizer?.legend.map((e) => [e.unicode, e.code]), [['η', '1e-3'], ['λ', '0.01']]);

    const sgd = at(text, 'b = torch')?.optimizer;
    assert.equal(sgd?.coupling, 'coupled');
    assert.deepEqual(sgd?.unicode, ['gₜ = ∇L(θ) + λθ', 'θ ← θ − η·gₜ', 'θ ← (1 − ηλ)θ − η∇L(θ)']);

    const adam = at(text, 'c = torch')?.optimizer;
    assert.equal(adam?.coupling, 'coupled');
    assert.ok(adam?.notes.some((n) => n.includes('Prop. 2')));

    const keras = at(text, 'keras.optimizers.Adam')?.optimizer;
    assert.equal(keras?.coupling, 'decoupled');
    assert.equal(keras?.lrScaled, true);
    assert.ok(keras?.notes.some((n) => n.includes('torch `Adam(weight_decay=λ)` is coupled')));

    const tfaAdamW = at(text, 'tfa.optimizers')?.optimizer;
    assert.equal(tfaAdamW?.coupling, 'decoupled');
    assert.equal(tfaAdamW?.lrScaled, false);
    assert.ok(tfaAdamW?.unicode.some((u) => u.startsWith('θ ← (1 − λ)θ')));

    const optaxAdamw = at(text, 'optax.adamw')?.optimizer;
    assert.equal(optaxAdamw?.coupling, 'decoupled');
    assert.ok(optaxAdamw?.unicode.includes('θ ← θ − η(m̂ₜ/(√(v̂ₜ + ε̄) + ε) + λθ)'));

    const chained = at(text, 'optax.add_decayed_weights')?.optimizer;
    assert.equal(chained?.name, 'optax.add_decayed_weights');
    assert.equal(chained?.coupling, 'decoupled');

    assert.equal(at(text, 'h = torch'), undefined, 'no weight decay, nothing to explain');
  });

  it('explains LaTeX in comments and docstrings (Python and TS/JS)', function () {
    const py = [
      'def loss(W, lam):',
      '    # The objective is $L(W) + \\lambda\\|W\\|^2$, and it costs $5 and $10.',
      '    """Or, displayed: $$\\tilde L = L + \\frac{\\lambda}{2}\\sum W^2$$"""',
      '    return 0',
      '',
    ].join('\n');
    const inline = at(py, '\\lambda\\|W');
    assert.equal(inline?.kind, 'comment');
    assert.deepEqual(inline?.comment?.formulas.map((f) => [f.tex, f.display, f.error]), [['L(W) + \\lambda\\|W\\|^2', false, undefined]]);
    assert.deepEqual(inline?.range, { start: { line: 1, character: 23 }, end: { line: 1, character: 46 } });
    const money = at(py, 'costs');
    assert.deepEqual(money?.comment?.formulas.map((f) => f.tex), ['L(W) + \\lambda\\|W\\|^2'], 'dollar amounts are not math');
    const doc = at(py, 'displayed');
    assert.deepEqual(doc?.comment?.formulas.map((f) => [f.tex, f.display]), [['\\tilde L = L + \\frac{\\lambda}{2}\\sum W^2', true]]);

    const ts = [
      '// Ridge: $\\lambda\\|W\\|^2$ in the loss',
      '/**',
      ' * $$w \\leftarrow (1 - 2\\eta\\lambda) w',
      ' *   - \\eta \\nabla L$$',
      ' */',
      "const s = '$not math$';",
      'const bad = 1; // $\\frac{1}{$',
      '',
    ].join('\n');
    assert.equal(at(ts, 'Ridge', 'typescript')?.comment?.formulas[0].tex, '\\lambda\\|W\\|^2');
    assert.equal(at(ts, 'leftarrow', 'typescript')?.comment?.formulas[0].tex, 'w \\leftarrow (1 - 2\\eta\\lambda) w\n  - \\eta \\nabla L');
    assert.equal(at(ts, 'not math', 'typescript'), undefined, 'strings are not comments in TS');
    const invalid = at(ts, 'frac{1}', 'typescript')?.comment?.formulas[0];
    assert.ok(invalid?.error, 'invalid TeX is reported, not typeset');
  });

  it('produces KaTeX-valid TeX on every line of the NB101 fixtures and examples', function () {
    this.timeout(60000); // about 5 s alone; a loaded machine needs more
    const dirs = [path.join(repoRoot, 'test/fixtures/NB101'), path.join(repoRoot, 'examples')];
    let explained = 0;
    for (const dir of dirs) {
      for (const name of fs.readdirSync(dir)) {
        const language = languageForPath(name);
        if (!language) continue;
        const text = fs.readFileSync(path.join(dir, name), 'utf8');
        // One lint per file and the analysis its rules saw, read at every line, as the server's
        // session does (explainAt would lint the file again for each line; the cold session's
        // path, explainAt's own analysis, is the other tests' here).
        const lint = runSteps(lintDocumentSteps(text, { language, select: ['NB101'] }));
        const analysis = lint.analysis!;
        const findings = lint.outcome.findings;
        let offset = 0;
        for (const line of text.split('\n')) {
          const ex = explainIn(analysis, offset + line.length - line.trimStart().length, () => findings, (error) => {
            throw error;
          });
          if (ex) {
            explained++;
            for (const tex of texOf(ex)) assertKatex(tex);
            if (ex.computed) assert.ok(ex.computed.tex.length < 2000, `${name}: ${ex.computed.tex.length} characters`);
          }
          offset += line.length + 1;
        }
      }
    }
    assert.ok(explained > 100, `${explained} lines explained`);
  });

  it('reads what real code wrote, not a name or a rounding: dL_dw2 is ∂L/∂w₂, self.data stays, ε = 1e-8 is not 0, a blend weight is no λ', function () {
    // `dL_dw2`: the loss's derivative with respect to w2 (its penalty's home forms are in w₂ too).
    const mlp = `import numpy as np


def train(x, y, w1, w2, lr=0.1, reg_coeff=1e-3):
    h = x.dot(w1)
    dL_dh2 = h.dot(w2) - y
    dL_dw2 = h.T.dot(dL_dh2) + reg_coeff * np.square(w2).sum()
    w2 -= lr * dL_dw2
    return w1, w2
`;
    const grad = at(mlp, 'dL_dw2 = ');
    assert.match(grad?.computed?.unicode ?? '', /^∂L\/∂w₂ = .*∂L\/∂h₂/);
    assert.match(grad?.equivalentForms?.lossUnicode ?? '', /L̃\(w₂\) = L\(w₂\)/);
    // `self.data` is the object's data set, not a tensor's `.data`.
    const fit = `class Regression:
    def train(self, alpha, reg_param, n):
        for _ in range(n):
            delta = self.data @ self.theta - self.labels
            self.theta = self.theta * reg_param - alpha * (1 / len(self.labels)) * (delta.T @ self.data).T
`;
    assert.match(at(fit, 'self.theta = self.theta *')?.computed?.unicode ?? '', /self\.data\)ᵀ/);
    // A coefficient kept as its code, a sum (`1-self.ratio`), is parenthesized in the product.
    const elastic = `import numpy as np


class ElasticPenalty:
    def __init__(self, alpha, ratio=0.5):
        self.alpha = alpha
        self.ratio = ratio

    def __call__(self, w):
        l2_part = (1 - self.ratio) * 0.5 * w.T.dot(w)
        return self.alpha * l2_part
`;
    assert.match(at(elastic, 'l2_part = ')?.penalty?.unicode ?? '', /0\.5\(1-self\.ratio\)Σw²/);
    // A blend that lost its old value (NB403's mistake): its weight is a β, shown by its own name.
    const norm = fs.readFileSync(path.join(repoRoot, 'test/fixtures/NB403/blend_of_itself.py'), 'utf8').replace(/self\.beta\b/g, 'self.decay');
    const blend = at(norm, 'self.decay * grad');
    assert.ok(blend?.findings.some((f) => f.code === 'NB403'));
    assert.doesNotMatch(blend?.computed?.unicode ?? '', /λ/);
  });

  it('shows a decay of the weight thrown away as the shrink the step leaves out, naming the weight θ (NB206)', function () {
    const text = `import torch


class ShrinkSGD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data.mul(1 - group["lr"] * group["weight_decay"])
                p.data.add_(p.grad, alpha=-group["lr"])
`;
    const ex = at(text, 'p.data.mul(1');
    const f = ex?.findings.find((x) => x.code === 'NB206');
    assert.ok(f, JSON.stringify(ex?.findings.map((x) => x.code)));
    assert.equal(f.correctUnicode, 'θ ← (1 − ηλ)θ − η·uₜ');
    assert.deepEqual(ex?.computed?.legend.map((l) => `${l.unicode} = ${l.code}`), ['θ = p']);
  });

  it("shows a decay meant for the gradient and thrown away as the step's direction without it, not as a decoupled shrink (NB206)", function () {
    const text = `import torch


class PlainAdagrad(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, weight_decay=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"] != 0:
                    g.add(p.data, alpha=group["weight_decay"])
                state = self.state[p]
                if "sum" not in state:
                    state["sum"] = torch.zeros_like(p)
                state["sum"].addcmul_(g, g, value=1.0)
                p.data.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-group["lr"])
`;
    const ex = at(text, 'g.add(p.data');
    const f = ex?.findings.find((x) => x.code === 'NB206');
    assert.ok(f, JSON.stringify(ex?.findings.map((x) => x.code)));
    assert.equal(f.correctUnicode, 'θ ← θ − η·u(g + λθ)');
    assert.equal(ex?.computed?.unicode, 'θ ← θ − η·u(g)');
    assert.deepEqual(ex?.computed?.legend.map((l) => `${l.unicode} = ${l.code}`), ['g = g', 'θ = p', 'λθ = p.data, alpha=group["weight_decay"]']);
  });

  it('titles a chain of in-place calls by its receiver and prints square_() as a square', function () {
    const text = `import torch


@torch.no_grad()
def rms_step(params, states, lr=1e-2, gamma=0.99, eps=1e-8):
    for p, vi in zip(params, states):
        grad = p.grad
        vi.mul_(gamma).add_(grad.square(), alpha=1 - gamma)
        p.addcdiv_(grad, vi.sqrt().add_(eps), value=-lr)
`;
    const ex = at(text.replace('grad.square()', 'grad.square_()'), 'vi.mul_(gamma)');
    assert.equal(ex?.title, 'Update of `vi`');
    assert.match(ex?.computed?.unicode ?? '', /²$/);
    assert.doesNotMatch(ex?.computed?.unicode ?? '', /square_/);
  });

  it('never throws on broken or odd input', function () {
    for (const text of ['', 'W -= ', 'def (', '\u0000\u0001', 'x = $$ $ $$', '\ufeffW -= lr * dW\n', 'W -= lr * ' + '('.repeat(500) + 'dW' + ')'.repeat(500)]) {
      for (let i = 0; i <= Math.min(text.length, 40); i++) assert.doesNotThrow(() => explainAt(text, { language: 'python' }, i));
    }
  });
});
