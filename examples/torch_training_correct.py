"""An MLP classifier on a synthetic Gaussian-mixture data set, trained with PyTorch's
DataLoader and torch.optim.SGD (momentum 0.9) with a cosine learning-rate schedule.

CORRECT: no mistake intended. Regularization goes where it belongs: the L2 penalty
lam * (sum of squared weights), on the weight matrices only and not on biases, is added
to the LOSS, and autograd puts its gradient 2 * lam * W into p.grad. The optimizer gets
no weight_decay argument, so the penalty is counted exactly once. The decoupled
alternative is torch.optim.AdamW(param_groups, weight_decay=...) with no penalty in the
loss; using both would regularize twice.

Run: python examples/torch_training_correct.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_data(n_per_class=400, num_classes=4, dim=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = 2.0 * torch.randn(num_classes, dim, generator=g)
    X = torch.cat([c + torch.randn(n_per_class, dim, generator=g) for c in centers])
    y = torch.arange(num_classes).repeat_interleave(n_per_class)
    return X, y


class MLP(nn.Module):
    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.out = nn.Linear(d_hidden, d_out)

    def forward(self, x):
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


def l2_penalty(model):
    return sum(p.pow(2).sum() for name, p in model.named_parameters() if name.endswith('weight'))


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / total


def main(epochs=30, lr=0.05, lam=1e-4):
    torch.manual_seed(0)
    X, y = make_data()
    perm = torch.randperm(len(y))
    train_idx, val_idx = perm[:1200], perm[1200:]
    train_loader = DataLoader(TensorDataset(X[train_idx], y[train_idx]), batch_size=64, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[val_idx], y[val_idx]), batch_size=256)

    model = MLP(X.shape[1], 128, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    for epoch in range(epochs):
        model.train()
        running = 0.0
        for x, target in train_loader:
            optimizer.zero_grad()
            data_loss = F.cross_entropy(model(x), target)
            loss = data_loss + lam * l2_penalty(model)
            loss.backward()
            optimizer.step()
            running += data_loss.item() * len(target)
        scheduler.step()
        if epoch % 5 == 0 or epoch == epochs - 1:
            print(f'epoch {epoch:2d}  train loss {running / len(train_idx):.4f}  '
                  f'val acc {evaluate(model, val_loader):.3f}  sum(W^2) {l2_penalty(model).item():.2f}')


if __name__ == '__main__':
    main()
