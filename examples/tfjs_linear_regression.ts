/**
 * Ridge regression with TensorFlow.js: fits y = x·w + b on synthetic data
 * (true w = [2, -3, 0.5], b = 1) with a hand-written minibatch SGD step.
 *
 * MEANT TO CONTAIN A MISTAKE (Nabla NB101, penalty-as-gradient). The loss is plain MSE and
 * the step adds the ridge term by hand, but it adds the penalty l2 * sum(w^2), a scalar,
 * to the gradient of w: `grad.add(w.square().sum().mul(l2))`. That pushes all three
 * weights the same way instead of shrinking them toward zero: as written, w ends near
 * [1.92, -3.07, 0.43] (every weight moved down, -3 away from zero); with the gradient of
 * the penalty, `grad.add(w.mul(2 * l2))`, it ends near [1.98, -2.97, 0.49].
 *
 * Run with a TypeScript runner and @tensorflow/tfjs installed, e.g.
 * npx tsx examples/tfjs_linear_regression.ts
 */
import * as tf from '@tensorflow/tfjs';

const N = 512;
const trueW = tf.tensor2d([[2.0], [-3.0], [0.5]]);
const xs = tf.randomNormal([N, 3], 0, 1, 'float32', 42) as tf.Tensor2D;
const noise = tf.randomNormal([N, 1], 0, 0.1, 'float32', 7);
const ys = xs.matMul(trueW).add(1.0).add(noise) as tf.Tensor2D;

const w = tf.variable(tf.zeros([3, 1]), true, 'w');
const b = tf.variable(tf.zeros([1]), true, 'b');

function predict(x: tf.Tensor2D): tf.Tensor2D {
  return x.matMul(w).add(b);
}

function trainStep(x: tf.Tensor2D, y: tf.Tensor2D, lr: number, l2: number): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, predict(x)) as tf.Scalar, [w, b]);
    const grad = grads['w'];
    w.assign(w.sub(grad.add(w.square().sum().mul(l2)).mul(lr)));
    b.assign(b.sub(grads['b'].mul(lr)));
    return value.dataSync()[0];
  });
}

function train(epochs = 50, batchSize = 32, lr = 0.05, l2 = 0.01): void {
  for (let epoch = 0; epoch < epochs; epoch++) {
    let total = 0;
    for (let start = 0; start < N; start += batchSize) {
      const size = Math.min(batchSize, N - start);
      const xb = xs.slice([start, 0], [size, 3]);
      const yb = ys.slice([start, 0], [size, 1]);
      total += trainStep(xb, yb, lr, l2) * size;
      tf.dispose([xb, yb]);
    }
    if (epoch % 10 === 0 || epoch === epochs - 1) {
      console.log(`epoch ${epoch}: mse ${(total / N).toFixed(4)}`);
    }
  }
  console.log('w =', Array.from(w.dataSync()).map((v) => v.toFixed(3)), 'b =', b.dataSync()[0].toFixed(3));
}

train();
