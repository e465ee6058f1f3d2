"""Fine-tuning a small MLP classifier with Adam, PyTorch.

Meant to contain mistakes: the L2 penalty is added to the loss by hand AND the optimizer is
given weight_decay, so the weights are regularized twice; and Adam's weight_decay is coupled
L2 (scaled by the adaptive denominator), not the decoupled decay of AdamW.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

X = torch.randn(512, 20)
y = (X[:, :5].sum(dim=1) > 0).long()

model = nn.Sequential(
    nn.Linear(20, 64),
    nn.ReLU(),
    nn.Linear(64, 2),
)

lam = 1e-4
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)

for epoch in range(20):
    for i in range(0, len(X), 64):
        xb, yb = X[i:i + 64], y[i:i + 64]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        l2 = sum(p.pow(2).sum() for p in model.parameters())
        loss = loss + lam * l2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")
