// The hover of a hand-written optimizer step: the family recognized, one line per state and one
// for the parameter in the code's own symbols (the locals the code reads values into), the textbook
// form, and the corrected lines of NB401–NB405 findings and NB102's climbing momentum. The samples
// are written for these tests; test/snapshots/hover/NB40x pins the corrected line of every fixture.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, type LanguageId } from '../../server/engine';
import { explainAt as explainOrUndefined, type Explanation } from '../../server/engine/explain';
import { explanationToMarkdown } from '../../server/lsp/hoverMarkdown';
import { explanationToPanel } from '../../client/explain';
import { assertKatex, texOf } from './helpers';

function at(text: string, needle: string, language: LanguageId = 'python'): Explanation | undefined {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} not in the text`);
  const ex = explainOrUndefined(text, { language }, offset, (error) => {
    throw error;
  });
  if (ex) for (const tex of texOf(ex)) assertKatex(tex);
  return ex;
}

const COURSE_ADAM = `import numpy as np


def adam_step(x, dx, state):
    state["t"] = state.get("t", 0) + 1
    state["m"] = state["b1"] * state["m"] + (1 - state["b1"]) * dx
    state["v"] = state["b2"] * state["v"] + (1 - state["b2"]) * (dx * dx)
    m_corr = state["m"] / (1 - state["b1"] ** state["t"])
    v_corr = state["v"] / (1 - state["b2"] ** state["t"])
    x_next = x - state["lr"] * m_corr / (np.sqrt(v_corr) + state["eps"])
    return x_next, state
`;

// Both AdaDelta orders: torch's (E[Δθ²] updated after the step reads it) and a NumPy class (before the parameter's update).
const ADADELTA = fs.readFileSync(path.resolve(__dirname, '../../../test/fixtures/NB403/correct_adadelta_squared_step.py'), 'utf8');

const TORCH_ADAM = `import torch
from torch.optim import Optimizer


class TinyAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["n"] = 0
                    st["avg"] = torch.zeros_like(p)
                    st["avg_sq"] = torch.zeros_like(p)
                st["n"] += 1
                st["avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                st["avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                corr1 = 1 - b1 ** st["n"]
                corr2 = 1 - b2 ** st["n"]
                denom = (st["avg_sq"] / corr2).sqrt().add_(group["eps"])
                p.addcdiv_(st["avg"], denom, value=-group["lr"] / corr1)
`;

const TS_RMSPROP = `export class RmsPropTrainer {
  private meanSquare: number[] = [];

  constructor(private learningRate = 0.01, private rho = 0.9, private epsilon = 1e-7) {}

  apply(weights: number[], gradient: number[]): void {
    if (this.meanSquare.length !== weights.length) this.meanSquare = new Array(weights.length).fill(0);
    for (let k = 0; k < weights.length; k++) {
      this.meanSquare[k] = this.rho * this.meanSquare[k] + (1 - this.rho) * gradient[k] * gradient[k];
      weights[k] -= (this.learningRate * gradient[k]) / (Math.sqrt(this.meanSquare[k]) + this.epsilon);
    }
  }
}
`;

const MOMENTUM = `import numpy as np


class Momentum:
    def __init__(self, lr=0.05, mu=0.9):
        self.lr = lr
        self.mu = mu
        self.buf = {}

    def update(self, params, grads):
        for name in params:
            if name not in self.buf:
                self.buf[name] = np.zeros_like(params[name])
            self.buf[name] = self.mu * self.buf[name] - self.lr * grads[name]
            params[name] += self.buf[name]
`;

const NO_STEP_COUNT = `import numpy as np


class AdamFromScratch:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = 0.0
        self.v = 0.0
        self.t = 0

    def step(self, w, g):
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
        m_hat = self.m / (1 - self.beta1)
        v_hat = self.v / (1 - self.beta2 ** self.t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return w
`;

const BETA_TWICE = `import numpy as np


class AdamLayerOptimizer:
    def __init__(self, lr=0.001, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m, self.v, self.t = 0.0, 0.0, 0

    def apply(self, w, g):
        self.t += 1
        self.m = self.b1 * self.m + self.b1 * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1 ** self.t)
        v_hat = self.v / (1 - self.b2 ** self.t)
        return w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
`;

const OPTAX_ADAM = `from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class MomentState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


def scale_by_my_adam(b1=0.9, b2=0.999, eps=1e-8):
    def init_fn(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return MomentState(count=jnp.zeros([], jnp.int32), mu=zeros, nu=zeros)

    def update_fn(updates, state, params=None):
        mu = jax.tree_util.tree_map(lambda g, m: b1 * m + (1 - b1) * g, updates, state.mu)
        nu = jax.tree_util.tree_map(lambda g, v: b2 * v + (1 - b2) * g * g, updates, state.nu)
        count = optax.safe_increment(state.count)
        mu_hat = optax.tree_utils.tree_bias_correction(mu, b1, count)
        nu_hat = optax.tree_utils.tree_bias_correction(nu, b2, count)
        updates = jax.tree_util.tree_map(lambda m, v: m / (jnp.sqrt(v) + eps), mu_hat, nu_hat)
        return updates, MomentState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init_fn, update_fn)
`;

const PLAIN_SGD = `import torch


def train_epoch(model, loader, loss_fn, lr=0.1):
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
`;

const TORCH_LATE_COUNT = `import torch
from torch.optim import Optimizer


class LateCountAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = group["lr"]
            for p in group["params"]:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                denom = (exp_avg_sq / bias_correction2).sqrt().add_(group["eps"])
                p.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)
                state["step"] += 1
`;

const TS_MOMENT_DECAY = `export class MomentDecayAdamW {
  private m: number[] = [];
  private v: number[] = [];
  private t = 0;

  constructor(private lr = 1e-3, private beta1 = 0.9, private beta2 = 0.999, private eps = 1e-8, private weightDecay = 0.01) {}

  step(params: number[], grads: number[]): void {
    this.t += 1;
    for (let i = 0; i < params.length; i++) {
      this.m[i] = this.beta1 * this.m[i] + (1 - this.beta1) * grads[i];
      this.m[i] *= 1 - this.lr * this.weightDecay;
      this.v[i] = this.beta2 * this.v[i] + (1 - this.beta2) * grads[i] * grads[i];
      const mHat = this.m[i] / (1 - Math.pow(this.beta1, this.t));
      const vHat = this.v[i] / (1 - Math.pow(this.beta2, this.t));
      params[i] -= (this.lr * mHat) / (Math.sqrt(vHat) + this.eps);
    }
  }
}
`;

const LR_TWICE = `class MomentumTwice:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for k in params:
            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]
            params[k] += self.lr * self.v[k]
`;

const CENTRALIZED_RADAM = `import math

import torch
from torch.optim import Optimizer


class RectifiedAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                p.grad.add_(-p.grad.mean())
                state["step"] += 1
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                exp_avg.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                beta2_t = beta2 ** state["step"]
                n_sma_max = 2 / (1 - beta2) - 1
                n_sma = n_sma_max - 2 * state["step"] * beta2_t / (1 - beta2_t)
                step_size = group["lr"] / (1 - beta1 ** state["step"])
                p.add_(exp_avg, alpha=-step_size * group["lr"])
`;

describe('hover: hand-written optimizer steps', function () {
  before(async function () {
    await initEngine();
  });

  it('names a NumPy course-style Adam, one line per state and one for the parameter, beside the textbook Adam', function () {
    const ex = at(COURSE_ADAM, 'state["m"] = ');
    const step = ex?.optimizerStep;
    assert.ok(step, 'an optimizer section');
    assert.equal(step.family, 'Adam');
    assert.equal(step.title, 'Adam (hand-written)');
    assert.deepEqual(step.lines.map((l) => l.role), ['state', 'state', 'parameter']);
    assert.match(step.lines[0].unicode, /^m ← .*·m \+ \(1 − .*\)·dx$/);
    assert.match(step.lines[1].unicode, /^v ← .*·v \+ \(1 − .*\)·dx²$/);
    assert.match(step.lines[2].unicode, /^x ← x − /);
    assert.equal(step.textbook?.unicode.length, 3);
    assert.ok(step.textbook?.source.includes('Kingma'));
    assert.ok(step.legend.some((e) => e.code === 'state["lr"]' && e.unicode === 'η'), JSON.stringify(step.legend));
    assert.deepEqual(step.corrections, []);
    // A state line no other hover explains is headed by the family.
    assert.equal(ex.title, 'Adam (hand-written)');
    const markdown = explanationToMarkdown(ex);
    assert.match(markdown, /\*\*Adam \(hand-written\)\*\*/);
    assert.match(markdown, /\*\*Textbook Adam\*\*/);
  });

  it('recognizes a torch Optimizer subclass with self.state[p] from its parameter update line', function () {
    const ex = at(TORCH_ADAM, 'p.addcdiv_');
    const step = ex?.optimizerStep;
    assert.ok(step);
    assert.equal(step.family, 'Adam');
    assert.deepEqual(step.lines.map((l) => l.role), ['state', 'state', 'parameter']);
    assert.match(step.lines[1].unicode, /p\.grad²$/);
    assert.match(step.lines[2].unicode, /^p ← p − .*√/);
    // The same section from a state line written as an in-place chain.
    assert.equal(at(TORCH_ADAM, 'st["avg"].mul_')?.optimizerStep?.family, 'Adam');
  });

  it('names a TS array RMSprop and typesets it in its own symbols', function () {
    const ex = at(TS_RMSPROP, 'this.meanSquare[k] = ', 'typescript');
    const step = ex?.optimizerStep;
    assert.ok(step);
    assert.equal(step.family, 'RMSprop');
    assert.deepEqual(step.lines.map((l) => l.role), ['state', 'parameter']);
    assert.equal(step.lines[0].unicode, 'this.meanSquare ← ρ·this.meanSquare + (1 − ρ)·gradient²');
    assert.match(step.lines[1].tex, /\\sqrt\{\\mathtt\{this\.meanSquare\}\} \+ \\epsilon\}$/);
    assert.equal(step.textbook?.unicode[0], 'v ← ρv + (1 − ρ)g²');
  });

  it('names AdaDelta, not RMSprop, whether E[Δθ²] is updated before the step or after it, and not a θ² average', function () {
    for (const needle of ['w.add_(delta', 'p += delta']) {
      const step = at(ADADELTA, needle)?.optimizerStep;
      assert.ok(step, needle);
      assert.equal(step.family, 'AdaDelta', needle);
      assert.equal(step.title, 'AdaDelta (hand-written)');
      assert.equal(step.textbook?.unicode[1], 'Δθ ← −√(E[Δθ²] + ε)/√(E[g²] + ε)·g');
    }
    // The accumulator averages the weights' square (NB403): the shape is not AdaDelta's, so no family is named.
    const wrong = at(ADADELTA.replace('(1 - self.rho) * delta ** 2', '(1 - self.rho) * p ** 2'), 'p += delta')?.optimizerStep;
    assert.equal(wrong?.family, undefined);
    assert.notEqual(wrong?.title, 'RMSprop (hand-written)');
  });

  it('names a momentum SGD in the v = μv − ηg, θ += v convention', function () {
    const ex = at(MOMENTUM, 'params[name] +=');
    const step = ex?.optimizerStep;
    assert.ok(step);
    assert.equal(step.family, 'SGD with momentum');
    assert.deepEqual(step.lines.map((l) => l.role), ['state', 'parameter']);
    assert.equal(step.lines[0].unicode, 'self.buf ← μ·self.buf − grads·η');
    assert.equal(step.lines[1].unicode, 'θ ← θ + self.buf');
  });

  it('shows the corrected line where NB401 fires, also on the line of the faulty correction', function () {
    for (const needle of ['w -= ', 'm_hat = ']) {
      const ex = at(NO_STEP_COUNT, needle);
      const step = ex?.optimizerStep;
      assert.ok(step, needle);
      assert.equal(step.corrections.length, 1, needle);
      const [c] = step.corrections;
      assert.equal(c.code, 'NB401');
      assert.equal(c.unicode, 'm̂ = m/(1 − self.beta1^t)');
      assert.equal(c.tex, '\\widehat{m} = \\frac{m}{1 - {\\mathtt{self.beta1}}^{t}}');
      assert.match(explanationToMarkdown(ex), /Corrected \(\[NB401\]/);
    }
    // The finding's own line, which no other hover explains, leads with the finding.
    const onCorrection = at(NO_STEP_COUNT, 'm_hat = ');
    assert.equal(onCorrection?.title, 'Adam (hand-written)');
    assert.deepEqual(onCorrection?.findings.map((f) => f.code), ['NB401']);
    // A suppressed finding shows no corrected line.
    const suppressed = NO_STEP_COUNT.replace('(1 - self.beta1)\n', '(1 - self.beta1)  # nabla: ignore[NB401]\n');
    assert.deepEqual(at(suppressed, 'w -= ')?.optimizerStep?.corrections, []);
  });

  it('shows a step whose mistake hides its family without a name, with the grouped corrected line (NB403)', function () {
    const ex = at(BETA_TWICE, 'self.m = ');
    const step = ex?.optimizerStep;
    assert.ok(step);
    assert.equal(step.family, undefined);
    assert.equal(step.textbook, undefined);
    assert.equal(step.title, 'Optimizer step (hand-written)');
    assert.deepEqual(step.corrections.map((c) => [c.code, c.unicode]), [['NB403', 'm ← self.b1·m + (1 − self.b1)·g']]);
    assert.doesNotMatch(explanationToMarkdown(ex), /Textbook/);
  });

  it('names the locals the code reads values into, in the lines, the corrected line and the message', function () {
    const ex = at(TORCH_LATE_COUNT, 'bias_correction1 = ');
    const step = ex?.optimizerStep;
    assert.ok(step);
    assert.equal(step.lines[0].unicode, 'exp_avg ← beta1·exp_avg + (1 − beta1)·p.grad');
    assert.ok(step.legend.some((e) => e.code === 'lr' && e.unicode === 'η'), JSON.stringify(step.legend));
    assert.ok(!step.legend.some((e) => e.code.includes('betas')), JSON.stringify(step.legend));
    // The step count is still 0 at the correction: the corrected line reads the count of the step being taken.
    assert.deepEqual(step.corrections.map((c) => [c.code, c.unicode]), [
      ['NB401', 'exp_avg (bias-corrected) = exp_avg/(1 − beta1^(state["step"] + 1))'],
      ['NB401', 'exp_avg_sq (bias-corrected) = exp_avg_sq/(1 − beta2^(state["step"] + 1))'],
    ]);
    assert.match(step.corrections[0].message, /incremented only after 1 - beta1 \*\* state\["step"\]/);
  });

  it('moves the decay of a moment to the weights, one corrected line per line of code (TS)', function () {
    const ex = at(TS_MOMENT_DECAY, 'this.m[i] *= ', 'typescript');
    const step = ex?.optimizerStep;
    assert.ok(step);
    assert.deepEqual(step.corrections.map((c) => [c.code, c.unicode]), [
      ['NB405', 'm ← this.beta1·m + (1 − this.beta1)·grads'],
      ['NB405', 'θ ← (1 − η·λ)·θ − (η·m)/((1 − this.beta1^t)·(√v/√(1 − this.beta2^t) + ε))'],
    ]);
    const markdown = explanationToMarkdown(ex);
    assert.equal(markdown.match(/Corrected \(\[NB405\]/g)?.length, 2);
  });

  it('applies the learning rate once in the corrected step (NB404)', function () {
    const step = at(LR_TWICE, 'params[k] +=')?.optimizerStep;
    assert.deepEqual(step?.corrections.map((c) => [c.code, c.unicode]), [['NB404', 'θ ← θ + v']]);
  });

  it('shows the corrected line on a step no family names when a rule reported it (a centralized RAdam, NB404)', function () {
    const step = at(CENTRALIZED_RADAM, 'p.add_(')?.optimizerStep;
    assert.ok(step, 'an optimizer section');
    assert.equal(step.title, 'Optimizer step (hand-written)');
    assert.deepEqual(step.corrections.map((c) => [c.code, c.unicode]), [['NB404', 'p ← p − (η·exp_avg)/(1 − beta1^state["step"])']]);
  });

  it('names an optax-style Adam transformation: tree_map lambdas, NamedTuple state, the returned updates as the step', function () {
    const ex = at(OPTAX_ADAM, 'mu = jax.tree_util.tree_map(lambda g, m');
    const step = ex?.optimizerStep;
    assert.ok(step, 'an optimizer section');
    assert.equal(step.family, 'Adam');
    assert.deepEqual(step.lines.map((l) => l.role), ['state', 'state', 'parameter']);
    assert.deepEqual(step.lines.map((l) => l.target), ['mu', 'nu', 'params']);
    assert.match(step.lines[1].unicode, /updates²$/);
    assert.deepEqual(step.corrections, []);
    // The same section from the line that computes the update.
    assert.equal(at(OPTAX_ADAM, 'updates = jax.tree_util.tree_map(lambda m, v')?.optimizerStep?.family, 'Adam');
  });

  it('prints a divisor the code wrote factored as a product, not as the sum the normal form expands it to', function () {
    const folded = `import numpy as np


def adam_step(w, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    t += 1
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    scale = (1 - b1 ** t) / np.sqrt(1 - b2 ** t)
    w = w - lr / scale * m / (np.sqrt(v) + eps)
    return w, m, v, t
`;
    const step = at(folded, 'w = w - lr')?.optimizerStep;
    assert.ok(step);
    const line = step.lines.find((l) => l.role === 'parameter')!;
    assert.match(line.unicode, /\(\(1 − b1\^t\)\/√\(1 − b2\^t\)\)/);
    assert.doesNotMatch(line.unicode, /1\/√\(1 − b2\^t\) − /);
    assert.match(line.tex, /\\frac\{1 - \{\\mathtt\{b1\}\}\^\{t\}\}\{\\sqrt\{1 - /);
  });

  it('names a running maximum by the whole update: AMSGrad divides by the root of max(v̂, v), Adamax by max(β₂u, |g|) itself', function () {
    // The maximum computed into a local and read by the step from there (the step divides by √ of
    // the max(…) the local holds, not by the state's symbol): AMSGrad all the same.
    const amsgrad = `import torch


class PeakAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        super().__init__(params, dict(lr=lr, b1=b1, b2=b2, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    st["k"] = 0
                    st["m"] = torch.zeros_like(p)
                    st["v"] = torch.zeros_like(p)
                st["k"] += 1
                m = group["b1"] * st["m"] + (1 - group["b1"]) * p.grad
                v = group["b2"] * st["v"] + (1 - group["b2"]) * p.grad ** 2
                v = torch.maximum(st["v"], v)
                st["m"] = m
                st["v"] = v
                m_hat = m / (1 - group["b1"] ** st["k"])
                p.sub_(group["lr"] * m_hat / torch.sqrt(v / (1 - group["b2"] ** st["k"]) + group["eps"]))
`;
    const ams = at(amsgrad, 'st["v"] = v')?.optimizerStep;
    assert.equal(ams?.title, 'AMSGrad (hand-written)');
    const adamax = `import numpy as np


def adamax_step(w, g, m, u, t, lr=2e-3, b1=0.9, b2=0.999, eps=1e-8):
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g))
    w = w - lr / (1 - b1 ** t) * m / (u + eps)
    return w, m, u
`;
    assert.equal(at(adamax, 'u = np.maximum')?.optimizerStep?.title, 'Adamax (hand-written)');
    // max(β₂u, |g|) under a root is neither: no name rather than a wrong one.
    const rooted = adamax.replace('(u + eps)', '(np.sqrt(u) + eps)');
    const step = at(rooted, 'u = np.maximum')?.optimizerStep;
    assert.ok(!step || !/AMSGrad|Adamax/.test(step.title), step?.title);
  });

  it("names the moment's own β in NB401's stored-bias-corrected message: β₂'s 0.999 for a g² average, β₁'s 0.9 for a g average", function () {
    const text = `import numpy as np


def adam_update(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    v = v / (1 - beta2 ** t)
    w = w - lr * m / (1 - beta1 ** t) / (np.sqrt(v) + eps)
    return w, m, v
`;
    const second = at(text, 'v = v / (1')?.findings.find((f) => f.code === 'NB401')?.message ?? '';
    assert.match(second, /with beta2 = 0\.999 and a constant gradient the stored value is 500 times the squared gradient at t = 2 and 42 million times at t = 4/);
    assert.match(second, /v_hat = v \/ \(1 - beta2 \*\* t\)/);
    const first = at(text.replace('v = v / (1 - beta2 ** t)', 'm = m / (1 - beta1 ** t)').replace('m / (1 - beta1 ** t) / (np.sqrt(v)', 'm / (np.sqrt(v / (1 - beta2 ** t))'), 'm = m / (1')?.findings.find((f) => f.code === 'NB401')?.message ?? '';
    assert.match(first, /with beta1 = 0\.9 and a constant gradient the stored value is 5 times the gradient at t = 2 and 47 times at t = 4/);
    // The file's own number, or the usual one said to be taken when the file gives none.
    const own = at(text.replace('beta2=0.999', 'beta2=0.99'), 'v = v / (1')?.findings.find((f) => f.code === 'NB401')?.message ?? '';
    assert.match(own, /with beta2 = 0\.99 and a constant gradient/);
    const none = at(text.replace('beta1=0.9, beta2=0.999', 'beta1, beta2'), 'v = v / (1')?.findings.find((f) => f.code === 'NB401')?.message ?? '';
    assert.match(none, /with beta2 taken as the usual 0\.999 and a constant gradient the stored value is 500 times/);
  });

  it('gives a learning rate taken and never read its corrected line: the update with its step times the rate (NB404)', function () {
    const text = `import numpy as np


def fit_ridge(X, y, w, lr=0.05, epochs=50):
    for _ in range(epochs):
        err = X @ w - y
        grad = X.T @ err / len(y)
        w = w - grad
    return w


class Perceptron:
    def train(self, X, Y, learning_rate=0.1):
        for _ in range(20):
            dW = X.T @ (X @ self.W - Y) / X.shape[0]
            self.W -= dW
`;
    const fn = at(text, 'w = w - grad');
    const f = fn?.findings.find((x) => x.code === 'NB404');
    assert.equal(f?.correctUnicode, 'w ← w − η·∂L/∂w');
    assert.ok(fn?.computed?.legend.some((e) => e.unicode === 'η' && e.code === 'lr'), JSON.stringify(fn?.computed?.legend));
    assert.match(explanationToMarkdown(fn!), /Correct update: w ← w − η·∂L\/∂w/);
    const method = at(text, 'self.W -= dW');
    assert.equal(method?.findings.find((x) => x.code === 'NB404')?.correctUnicode, 'W ← W − η·∂L/∂W');
    assert.ok(method?.computed?.legend.some((e) => e.unicode === 'η' && e.code === 'learning_rate'));
  });

  it('names the rate a training function sets from its settings and never reads (NB404) by its assignment\'s target', function () {
    const text = `import numpy as np


def fit(X, y, w, settings):
    steps, lr = settings["steps"], settings["lr"]
    for _ in range(steps):
        grad = X.T @ (X @ w - y) / len(y)
        w = w - grad
    return w
`;
    const fn = at(text, 'w = w - grad');
    assert.equal(fn?.findings.find((x) => x.code === 'NB404')?.correctUnicode, 'w ← w − η·∂L/∂w');
    assert.ok(fn?.computed?.legend.some((e) => e.unicode === 'η' && e.code === 'lr'), JSON.stringify(fn?.computed?.legend));
  });

  it('prints a small constant of the step as itself, not rounded to 0 (ε = 1e-8)', function () {
    const text = `import numpy as np


def adam(w, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    w = w - lr * m / (1 - b1 ** t) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
    return w, m, v
`;
    const line = at(text, 'w = w - lr')?.optimizerStep?.lines.find((l) => l.role === 'parameter');
    assert.ok(line);
    assert.match(line.unicode, /1e-8/);
    assert.doesNotMatch(line.unicode, /\b0 \+/);
    assert.match(line.tex, /10\^\{-8\}/);
  });

  it('gives no optimizer section for a plain SGD step on a model', function () {
    const ex = at(PLAIN_SGD, 'p -= lr');
    assert.equal(ex?.optimizerStep, undefined);
    assert.doesNotMatch(ex ? explanationToMarkdown(ex) : '', /hand-written/);
  });

  it('reaches the Show Update Rule panel: the step and its textbook form', function () {
    const ex = at(NO_STEP_COUNT, 'w -= ');
    assert.ok(ex);
    const content = explanationToPanel(JSON.parse(JSON.stringify(ex)));
    assert.ok(content);
    const headings = content.sections.map((s) => s.heading);
    assert.ok(headings.includes('Adam (hand-written)'), headings.join(' | '));
    assert.ok(headings.includes('Textbook Adam'), headings.join(' | '));
    const mine = content.sections.find((s) => s.heading === 'Adam (hand-written)')!;
    assert.deepEqual(mine.math.map((m) => m.label), [undefined, undefined, undefined, 'Corrected (NB401)']);
    assert.ok(mine.legend?.some((e) => e.code === 'self.lr'));
  });
});
