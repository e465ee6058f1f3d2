"""Softmax classifier on three Gaussian blobs, trained with minibatch SGD (cs231n style).

MEANT TO CONTAIN A MISTAKE (Nabla NB101, penalty-as-gradient). softmax_loss() adds the L2
penalty reg * sum(W^2) to the loss, which is right, and then adds the same number to the
gradient dW, where the gradient of the penalty, 2 * reg * W, belongs. That number is a
scalar: it moves every weight by the same amount, so it cannot pull weights toward zero.
Here it pushes all of them down together; sum(W^2) grows, the step grows with it, and
training diverges within about twenty epochs. With dW += 2 * reg * W it converges.

Run: python examples/numpy_softmax_wrong.py
"""
import numpy as np


def make_blobs(n_per_class=100, num_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(num_classes, 2))
    X = np.concatenate([c + rng.normal(size=(n_per_class, 2)) for c in centers])
    y = np.repeat(np.arange(num_classes), n_per_class)
    return X, y


def softmax_loss(W, b, X, y, reg):
    """Mean cross-entropy + reg * sum(W^2); returns the loss and its gradients."""
    num_train = X.shape[0]
    scores = X.dot(W) + b
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(num_train), y]).mean()
    loss += reg * np.sum(W * W)

    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1
    dscores /= num_train
    dW = X.T.dot(dscores)
    db = dscores.sum(axis=0)
    dW += reg * np.sum(W * W)
    return loss, dW, db


def train(X, y, num_classes, reg=1e-2, lr=0.5, epochs=200, batch_size=64, seed=0):
    rng = np.random.default_rng(seed)
    W = 0.01 * rng.normal(size=(X.shape[1], num_classes))
    b = np.zeros(num_classes)
    for epoch in range(epochs + 1):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            loss, dW, db = softmax_loss(W, b, X[idx], y[idx], reg)
            W -= lr * dW
            b -= lr * db
        full_loss, _, _ = softmax_loss(W, b, X, y, reg)
        if not np.isfinite(full_loss):
            print(f'epoch {epoch:3d}  diverged (loss {full_loss})')
            break
        if epoch % 50 == 0:
            acc = np.mean(np.argmax(X.dot(W) + b, axis=1) == y)
            print(f'epoch {epoch:3d}  loss {full_loss:.4f}  train acc {acc:.3f}  sum(W^2) {np.sum(W * W):.3f}')
    return W, b


if __name__ == '__main__':
    X, y = make_blobs()
    W, b = train(X, y, num_classes=3)
    print('W =', np.round(W, 3).tolist())
