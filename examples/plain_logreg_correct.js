/**
 * L2-regularized logistic regression on plain JavaScript arrays (no libraries), trained
 * with full-batch gradient descent on two synthetic Gaussian clusters.
 *
 * CORRECT: no mistake intended. The objective is
 *   mean log-loss + (lam / 2) * sum_j w[j]^2        (the bias is not regularized)
 * so the gradient gets lam * w[j], the gradient of the penalty, never the penalty value.
 * A finite-difference check at start-up compares the analytic gradient with the loss.
 *
 * Run: node examples/plain_logreg_correct.js
 */
'use strict';

function makeData(nPerClass = 150, seed = 1) {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const gauss = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  const xs = [];
  const ys = [];
  for (let i = 0; i < nPerClass; i++) {
    xs.push([1.5 + gauss(), 1.0 + gauss()]);
    ys.push(1);
    xs.push([-1.5 + gauss(), -0.5 + gauss()]);
    ys.push(0);
  }
  return { xs, ys };
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function lossAndGrad(w, b, xs, ys, lam) {
  const n = xs.length;
  const grad = new Array(w.length).fill(0);
  let gb = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = xs[i].reduce((s, xij, j) => s + xij * w[j], b);
    const p = sigmoid(z);
    loss -= (ys[i] * Math.log(p) + (1 - ys[i]) * Math.log(1 - p)) / n;
    for (let j = 0; j < w.length; j++) grad[j] += ((p - ys[i]) * xs[i][j]) / n;
    gb += (p - ys[i]) / n;
  }
  loss += (lam / 2) * w.reduce((s, wj) => s + wj * wj, 0);
  for (let j = 0; j < w.length; j++) grad[j] += lam * w[j];
  return { loss, grad, gb };
}

function gradientCheck(w, b, xs, ys, lam, h = 1e-6) {
  const { grad } = lossAndGrad(w, b, xs, ys, lam);
  let worst = 0;
  for (let j = 0; j < w.length; j++) {
    const plus = w.slice();
    const minus = w.slice();
    plus[j] += h;
    minus[j] -= h;
    const numeric = (lossAndGrad(plus, b, xs, ys, lam).loss - lossAndGrad(minus, b, xs, ys, lam).loss) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - grad[j]));
  }
  return worst;
}

function train(xs, ys, { lr = 0.5, lam = 0.01, epochs = 300 } = {}) {
  const w = [0.3, -0.2];
  let b = 0;
  console.log(`gradient check, max abs error: ${gradientCheck(w, b, xs, ys, lam).toExponential(1)}`);
  for (let epoch = 0; epoch <= epochs; epoch++) {
    const { loss, grad, gb } = lossAndGrad(w, b, xs, ys, lam);
    for (let j = 0; j < w.length; j++) w[j] -= lr * grad[j];
    b -= lr * gb;
    if (epoch % 100 === 0) console.log(`epoch ${epoch}: objective ${loss.toFixed(4)}`);
  }
  return { w, b };
}

const { xs, ys } = makeData();
const { w, b } = train(xs, ys);
const correct = xs.filter((x, i) => (sigmoid(x[0] * w[0] + x[1] * w[1] + b) > 0.5 ? 1 : 0) === ys[i]).length;
console.log(`w = [${w.map((v) => v.toFixed(3)).join(', ')}], b = ${b.toFixed(3)}, accuracy ${(correct / xs.length).toFixed(3)}`);
