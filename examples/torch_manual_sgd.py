"""A small MLP on synthetic two-moons data, trained with a hand-written SGD loop in PyTorch.

MEANT TO CONTAIN A MISTAKE (Nabla NB101, penalty-as-gradient). The loss is plain
cross-entropy, and the loop adds "weight decay" to the gradients by hand with
p.grad += lam * p.pow(2).sum(). That is the penalty lam * ||p||^2 itself: a 0-d tensor
that broadcasts, so every entry of p.grad gets the same number and every weight moves by
the same amount. What belongs there is its gradient, 2 * lam * p (or lam * p for the
penalty lam / 2 * ||p||^2, which is what SGD(weight_decay=lam) uses).

Run: python examples/torch_manual_sgd.py
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_moons(n=512, noise=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    half = n // 2
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.stack([torch.cos(t[:half]), torch.sin(t[:half])], dim=1)
    lower = torch.stack([1 - torch.cos(t[half:]), 0.5 - torch.sin(t[half:])], dim=1)
    X = torch.cat([upper, lower]) + noise * torch.randn(n, 2, generator=g)
    y = torch.cat([torch.zeros(half, dtype=torch.long), torch.ones(n - half, dtype=torch.long)])
    return X, y


def make_model():
    return nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 2),
    )


def accuracy(model, X, y):
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def train(model, X, y, epochs=200, batch_size=64, lr=0.1, lam=1e-4):
    n = X.shape[0]
    for epoch in range(epochs + 1):
        perm = torch.randperm(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            model.zero_grad()
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    if p.ndim > 1:
                        p.grad += lam * p.pow(2).sum()
                    p -= lr * p.grad
            total += loss.item() * len(idx)
        if epoch % 50 == 0:
            print(f'epoch {epoch:3d}  loss {total / n:.4f}  accuracy {accuracy(model, X, y):.3f}')


if __name__ == '__main__':
    torch.manual_seed(0)
    X, y = make_moons()
    model = make_model()
    train(model, X, y)
