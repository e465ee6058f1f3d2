"""Two-layer ReLU network on the cs231n spiral data set, trained with full-batch SGD.

CORRECT: no mistake intended. It uses the 1/2 convention of the cs231n notes: the loss has
0.5 * reg * sum(W^2) for each weight matrix and the gradients get reg * W (not 2 * reg * W,
which would belong to a penalty without the 1/2). Biases are not regularized. A numerical
gradient check at start-up (on random weights) confirms the analytic gradients,
penalty included.

Run: python examples/numpy_two_layer_correct.py
"""
import numpy as np


def make_spiral(n_per_class=100, num_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * num_classes, 2))
    y = np.zeros(n_per_class * num_classes, dtype=int)
    for k in range(num_classes):
        ix = range(n_per_class * k, n_per_class * (k + 1))
        r = np.linspace(0.0, 1, n_per_class)
        t = np.linspace(k * 4, (k + 1) * 4, n_per_class) + rng.normal(size=n_per_class) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = k
    return X, y


def loss_and_grads(params, X, y, reg):
    W1, b1, W2, b2 = params['W1'], params['b1'], params['W2'], params['b2']
    num_examples = X.shape[0]
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    scores -= scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    data_loss = -np.log(probs[np.arange(num_examples), y]).mean()
    reg_loss = 0.5 * reg * np.sum(W1 * W1) + 0.5 * reg * np.sum(W2 * W2)

    dscores = probs
    dscores[np.arange(num_examples), y] -= 1
    dscores /= num_examples
    grads = {'W2': hidden.T.dot(dscores), 'b2': dscores.sum(axis=0)}
    dhidden = dscores.dot(W2.T)
    dhidden[hidden <= 0] = 0
    grads['W1'] = X.T.dot(dhidden)
    grads['b1'] = dhidden.sum(axis=0)
    grads['W2'] += reg * W2
    grads['W1'] += reg * W1
    return data_loss + reg_loss, grads


def gradient_check(params, X, y, reg, h=1e-5):
    _, grads = loss_and_grads(params, X, y, reg)
    worst = 0.0
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for ix in np.ndindex(value.shape):
            old = value[ix]
            value[ix] = old + h
            plus, _ = loss_and_grads(params, X, y, reg)
            value[ix] = old - h
            minus, _ = loss_and_grads(params, X, y, reg)
            value[ix] = old
            numeric[ix] = (plus - minus) / (2 * h)
        error = np.linalg.norm(numeric - grads[name]) / max(1e-12, np.linalg.norm(numeric) + np.linalg.norm(grads[name]))
        worst = max(worst, float(error))
    return worst


def train(X, y, hidden_size=100, reg=1e-3, lr=1.0, iters=5000, seed=0):
    rng = np.random.default_rng(seed)
    params = {
        'W1': 0.01 * rng.normal(size=(X.shape[1], hidden_size)),
        'b1': np.zeros(hidden_size),
        'W2': 0.01 * rng.normal(size=(hidden_size, 3)),
        'b2': np.zeros(3),
    }
    subset = rng.choice(X.shape[0], size=12, replace=False)
    probe = {name: rng.normal(size=value.shape) for name, value in params.items()}
    print(f'gradient check, relative error: {gradient_check(probe, X[subset], y[subset], reg=0.1):.1e}')
    for i in range(iters + 1):
        loss, grads = loss_and_grads(params, X, y, reg)
        for name in params:
            params[name] -= lr * grads[name]
        if i % 1000 == 0:
            print(f'iteration {i:4d}: loss {loss:.4f}')
    return params


if __name__ == '__main__':
    X, y = make_spiral()
    params = train(X, y)
    hidden = np.maximum(0, X.dot(params['W1']) + params['b1'])
    predicted = np.argmax(hidden.dot(params['W2']) + params['b2'], axis=1)
    print(f'training accuracy: {np.mean(predicted == y):.2f}')
