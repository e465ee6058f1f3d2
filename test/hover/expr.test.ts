// The expression printer: names → symbols, method chains, penalties, calls, bounds, and KaTeX.
import assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { num, scale, sym } from '../../server/math/coef';
import { gradientOf } from '../../server/math/derive';
import { ExprPrinter, SymbolTable, renderMath, gradientNode, atom, penaltyNode } from '../../server/engine/printExpr';
import { assertKatex, facts, printValue } from './helpers';

const NP = 'import numpy as np\n';

/** Prints, checks the TeX in KaTeX, and returns both notations. */
function both(code: string, language: 'python' | 'typescript' = 'python'): { tex: string; unicode: string; legend: { tex: string; unicode: string; code: string }[] } {
  const p = printValue(code, { language });
  assertKatex(p.tex);
  return p;
}

describe('hover: expression printer', function () {
  before(async function () {
    await initEngine();
  });

  it('maps learning rates to η, regularization strengths to λ, gradients to ∂L/∂W (with a legend)', function () {
    const p = both(`${NP}def f(W, dW, lr, reg):\n    W = W - lr * (dW + reg * np.sum(W * W))\n`);
    assert.equal(p.unicode, 'W − η(∂L/∂W + λΣW²)');
    assert.equal(p.tex, 'W - \\eta\\left(\\frac{\\partial L}{\\partial W} + \\lambda\\sum W^{2}\\right)');
    assert.deepEqual(
      p.legend.map((e) => `${e.unicode}=${e.code}`),
      ['η=lr', '∂L/∂W=dW', 'λ=reg'],
    );
  });

  it('prints torch\'s in-place calls as the math the catalogue says they compute, with or without an analyzer', function () {
    const code = (value: string): string => `import torch\ndef f(buf, a, b, mu, c):\n    x = ${value}\n`;
    const cases: [string, string][] = [
      ['buf.mul_(mu).add_(a)', 'μ·buf + a'],
      ['a.multiply_(c)', 'ac'],
      ['a.subtract_(b, alpha=c)', 'a − cb'],
      ['a.rsqrt_()', 'rsqrt(a)'],
      ['a.sign_()', 'sign(a)'],
      ['a.square_()', 'a²'],
    ];
    for (const [value, want] of cases) {
      assert.equal(both(code(value)).unicode, want, value);
      assert.equal(printValue(code(value), { analyzer: undefined }).unicode, want, `${value} without an analyzer`);
    }
    assert.equal(both(code('a.neg_()')).unicode, '−a');
  });

  it('recognizes the gradient containers of each framework', function () {
    const cases: [string, string][] = [
      [`${NP}def f(params, grads, learning_rate):\n    x = params['W1'] - learning_rate * grads['W1']\n`, 'W₁ − η·∂L/∂W₁'],
      ['import torch\ndef f(model, lr):\n    for p in model.parameters():\n        x = p - lr * p.grad\n', 'p − η·∂L/∂p'],
      [`${NP}def f(weights, nabla_w, eta):\n    x = [w - eta * nw for w, nw in zip(weights, nabla_w)]\n    y = nabla_w\n`, '∂L/∂w'],
      [`${NP}class Net:\n    def step(self, dW1, lr):\n        x = self.W1 - lr * dW1\n`, 'W₁ − η·∂L/∂W₁'],
    ];
    for (const [code, want] of cases) assert.equal(both(code).unicode, want, code);
  });

  it('gives a bare gradient name the parameter of its update', function () {
    const code = 'import jax\ndef f(p, g, lr):\n    x = p - lr * g\n';
    const p = printValue(code, { contextParam: { kind: 'name', name: 'p', span: { start: 0, end: 0 } } });
    assert.equal(p.unicode, 'p − η·∂L/∂p');
    assert.equal(printValue(code).unicode, 'p − η∇L', 'without one it is ∇L');
  });

  it('maps parameters: W1 → W₁, self.W → W, params → θ, weights → W, theta → θ', function () {
    const t = new SymbolTable();
    assert.deepEqual(t.param('W1'), { tex: 'W_1', unicode: 'W₁' });
    assert.deepEqual(t.param('self.W'), { tex: 'W', unicode: 'W' });
    assert.deepEqual(t.param('params'), { tex: '\\theta', unicode: 'θ' });
    assert.deepEqual(new SymbolTable().param('weights'), { tex: 'W', unicode: 'W' });
    assert.deepEqual(new SymbolTable().param('theta'), { tex: '\\theta', unicode: 'θ' });
    // The same parameter reached two ways is one symbol.
    assert.deepEqual(t.param('params["W1"]'), { tex: 'W_1', unicode: 'W₁' });
  });

  it('maps scalars: η for learning rates, λ for regularization, Greek names, and code names otherwise', function () {
    const t = new SymbolTable();
    assert.deepEqual(t.scalar('lr'), { tex: '\\eta', unicode: 'η' });
    assert.deepEqual(t.scalar('self.reg'), { tex: '\\lambda', unicode: 'λ' });
    assert.deepEqual(t.scalar('mu'), { tex: '\\mu', unicode: 'μ' });
    assert.deepEqual(t.scalar('num_train'), { tex: '\\mathtt{num\\_train}', unicode: 'num_train' });
    // A second name that would take λ gets a subscript from its digits.
    assert.deepEqual(t.scalar('l1'), { tex: '\\lambda_{1}', unicode: 'λ₁' });
    assert.deepEqual(new SymbolTable().scalar('learningRate'), { tex: '\\eta', unicode: 'η' });
    assert.deepEqual(new SymbolTable().scalar('l2_lambda'), { tex: '\\lambda', unicode: 'λ' });
  });

  it('normalizes method chains (tfjs) to the arithmetic they do', function () {
    const ts = "import * as tf from '@tensorflow/tfjs';\nfunction f(w: tf.Variable, g: tf.Tensor, lr: number, reg: number) {\n";
    // `g` is the gradient of the parameter the update is about (explain.ts passes it as contextParam).
    const w = { kind: 'name' as const, name: 'w', span: { start: 0, end: 0 } };
    const chain = (line: string): string => {
      const p = printValue(`${ts}  ${line}\n}\n`, { language: 'typescript', contextParam: w });
      assertKatex(p.tex);
      return p.unicode;
    };
    assert.equal(chain('const x = w.sub(g.mul(lr));'), 'w − η·∂L/∂w');
    assert.equal(chain('const x = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));'), 'w − η(∂L/∂w + λΣw²)');
    assert.equal(chain('const x = tf.sub(w, tf.mul(lr, g));'), 'w − η·∂L/∂w');
    // Without a parameter to belong to, a bare gradient is ∇L.
    assert.equal(both(`${ts}  const x = w.sub(g.mul(lr));\n}\n`, 'typescript').unicode, 'w − η∇L');
  });

  it('prints recognized penalties in canonical form', function () {
    const pre = `${NP}import torch\ndef f(W, dW, lam):\n`;
    const cases: [string, string, string][] = [
      ['x = dW + lam * np.linalg.norm(W)', '∂L/∂W + λ‖W‖₂', '\\frac{\\partial L}{\\partial W} + \\lambda\\lVert W\\rVert_{2}'],
      ['x = dW + lam * np.sum(np.abs(W))', '∂L/∂W + λΣ|W|', '\\frac{\\partial L}{\\partial W} + \\lambda\\sum \\lvert W\\rvert'],
      ['x = dW + lam * W.pow(2).sum()', '∂L/∂W + λΣW²', '\\frac{\\partial L}{\\partial W} + \\lambda\\sum W^{2}'],
      ['x = dW + lam * np.vdot(W, W)', '∂L/∂W + λΣW²', '\\frac{\\partial L}{\\partial W} + \\lambda\\sum W^{2}'],
    ];
    for (const [line, unicode, tex] of cases) {
      const p = both(`${pre}    ${line}\n`);
      assert.equal(p.unicode, unicode, line);
      assert.equal(p.tex, tex, line);
    }
  });

  it('prints unknown calls as \\operatorname, transposes and products of data', function () {
    const p = both(`${NP}def f(W, X, dscores, reg, n):\n    dW = relu_prime(X.T.dot(dscores)) / n + reg * W\n`);
    assert.equal(p.unicode, 'relu_prime(Xᵀ·dscores)/n + λW');
    assert.match(p.tex, /^\\frac\{\\operatorname\{relu\\_prime\}\\left\(X\^\{\\top\}\\,\\mathtt\{dscores\}\\right\)\}\{n\} \+ \\lambda W$/);
  });

  it('bounds the size of long expressions with \\dots', function () {
    const terms = Array.from({ length: 60 }, (_, i) => `a${i} * x${i}`).join(' + ');
    const p = printValue(`def f(W):\n    y = ${terms}\n`, { maxNodes: 20 });
    assert.equal(p.elided, true);
    assert.match(p.tex, /\\dots/);
    assert.match(p.unicode, /…/);
    assert.ok(p.tex.length < 600, `${p.tex.length} characters`);
    assertKatex(p.tex);
  });

  it('substitutes one summand with a gradient: the correct update is the same line with ∇R(W)', function () {
    const code = `${NP}def f(W, dW, lr, reg):\n    W = W - lr * (dW + reg * np.sum(W * W))\n`;
    const f = facts(code);
    const site = f.updates.find((u) => u.kind === 'update')!;
    const summand = site.increment.find((s) => f.analyzer.penaltyOfSummand(s))!;
    const penalty = f.analyzer.penaltyOfSummand(summand)!;
    const gradient = gradientOf({ kind: penalty.kind, coef: penalty.coef, param: 'W' });
    const symbols = new SymbolTable();
    const stmt = f.module.body[1].kind === 'function' ? f.module.body[1].body[0] : undefined;
    assert.ok(stmt && stmt.kind === 'assign');
    const printer = new ExprPrinter({ source: f.source, symbols, analyzer: f.analyzer, scope: site.scope, at: site.at, substitutions: [{ span: summand.site, gradient, param: penalty.params[0].expr }] });
    const printed = printer.print(stmt.value);
    assert.equal(printed.unicode, 'W − η(∂L/∂W + 2λW)');
    assert.equal(printed.tex, 'W - \\eta\\left(\\frac{\\partial L}{\\partial W} + 2\\lambda W\\right)');
    assertKatex(printed.tex);
    assert.ok(printer.applied.size === 1);
  });

  it('renders every gradient and penalty form in KaTeX strict mode, with awkward names', function () {
    const names = ['W', 'W1', 'self.W_hh', 'params["W1"]', 'theta0', 'x$#%&{}_', 'ré', "a~b^c\\d'"];
    const coefs = [sym('reg'), scale(sym('lmbda'), 0.5), num(1e-4), scale(sym('wd'), -2), sym('a+b')];
    for (const name of names) {
      for (const c of coefs) {
        for (const kind of ['sumsq', 'elemsq', 'norm2', 'l1', 'elemabs'] as const) {
          const t = new SymbolTable();
          const w = atom(t.param(name));
          assertKatex(renderMath(penaltyNode(kind, c, w, t)).tex);
          assertKatex(renderMath(gradientNode(gradientOf({ kind, coef: c, param: name }), w, t)).tex);
        }
      }
    }
  });
});
