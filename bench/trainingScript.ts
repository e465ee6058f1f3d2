// One long training script in the style people write by hand (written for Nabla's bench, not taken
// from any repository): argument parsing, a NumPy data pipeline, a from-scratch MLP with manual
// backprop, a PyTorch model class, hand-written optimizers (SGD with momentum, Adam with decoupled
// decay, RMSProp), schedulers, metrics, checkpointing, and the training loops that use them. The
// sections repeat with new names (one experiment per block, as long research scripts grow) until
// the script has the asked number of lines. The bench measures keystroke latency on it: real code
// has far more structure per line than the generated corpus files.

const header = `#!/usr/bin/env python
"""Train and compare a family of small classifiers on tabular data.

Every experiment below keeps its own model, optimizer and schedule, so runs stay reproducible
when one of them changes. Hyperparameters come from the command line.
"""
import argparse
import json
import math
import os
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_args():
    parser = argparse.ArgumentParser(description="tabular classifier experiments")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="L2 penalty strength")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=str, default="runs")
    return parser.parse_args()


def set_seed(seed):
    np.random.seed(seed)
    torch.manual_seed(seed)


def log_line(path, record):
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\\n")

`;

function dataSection(i: number): string {
  return `
# ---------------------------------------------------------------- data, experiment ${i}

def load_split_${i}(n_samples, n_features, n_classes, seed=${i}):
    rng = np.random.RandomState(seed)
    centers = rng.randn(n_classes, n_features) * 2.0
    labels = rng.randint(0, n_classes, size=n_samples)
    features = centers[labels] + rng.randn(n_samples, n_features)
    order = rng.permutation(n_samples)
    cut = int(0.8 * n_samples)
    train_idx, val_idx = order[:cut], order[cut:]
    return (features[train_idx], labels[train_idx]), (features[val_idx], labels[val_idx])


def standardize_${i}(train_x, val_x):
    mean = train_x.mean(axis=0, keepdims=True)
    std = train_x.std(axis=0, keepdims=True) + 1e-8
    return (train_x - mean) / std, (val_x - mean) / std


def batches_${i}(x, y, batch_size, shuffle=True, rng=None):
    n = x.shape[0]
    index = np.arange(n)
    if shuffle:
        (rng or np.random).shuffle(index)
    for start in range(0, n, batch_size):
        chunk = index[start:start + batch_size]
        yield x[chunk], y[chunk]


def one_hot_${i}(labels, n_classes):
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
`;
}

function numpyModelSection(i: number): string {
  return `
# ---------------------------------------------------------------- from-scratch MLP, experiment ${i}

def init_mlp_${i}(n_in, n_hidden, n_out, seed=${i}):
    rng = np.random.RandomState(seed)
    params = {
        "W1": rng.randn(n_in, n_hidden) * np.sqrt(2.0 / n_in),
        "b1": np.zeros(n_hidden),
        "W2": rng.randn(n_hidden, n_out) * np.sqrt(2.0 / n_hidden),
        "b2": np.zeros(n_out),
    }
    return params


def softmax_${i}(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward_${i}(params, x):
    h_pre = x @ params["W1"] + params["b1"]
    h = np.maximum(h_pre, 0.0)
    scores = h @ params["W2"] + params["b2"]
    return scores, (x, h_pre, h)


def loss_and_grads_${i}(params, x, y, reg):
    scores, (inputs, h_pre, h) = forward_${i}(params, x)
    probs = softmax_${i}(scores)
    n = x.shape[0]
    data_loss = -np.log(probs[np.arange(n), y] + 1e-12).mean()
    reg_loss = 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    loss = data_loss + reg_loss

    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1.0
    dscores /= n
    grads = {}
    grads["W2"] = h.T @ dscores + reg * params["W2"]
    grads["b2"] = dscores.sum(axis=0)
    dh = dscores @ params["W2"].T
    dh[h_pre <= 0] = 0.0
    grads["W1"] = inputs.T @ dh + reg * params["W1"]
    grads["b1"] = dh.sum(axis=0)
    return loss, grads


def sgd_momentum_step_${i}(params, grads, velocity, lr, momentum):
    for key in params:
        velocity[key] = momentum * velocity[key] - lr * grads[key]
        params[key] += velocity[key]


def train_numpy_${i}(args, data):
    (train_x, train_y), (val_x, val_y) = data
    params = init_mlp_${i}(train_x.shape[1], args.hidden, int(train_y.max()) + 1)
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    history = []
    for epoch in range(args.epochs):
        lr = args.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / args.epochs))
        losses = []
        for xb, yb in batches_${i}(train_x, train_y, args.batch_size):
            loss, grads = loss_and_grads_${i}(params, xb, yb, args.weight_decay)
            sgd_momentum_step_${i}(params, grads, velocity, lr, args.momentum)
            losses.append(loss)
        scores, _ = forward_${i}(params, val_x)
        accuracy = float((scores.argmax(axis=1) == val_y).mean())
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_acc": accuracy})
    return params, history
`;
}

function torchModelSection(i: number): string {
  return `
# ---------------------------------------------------------------- PyTorch model, experiment ${i}

class ResidualBlock${i}(nn.Module):
    def __init__(self, width, dropout):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width * 2)
        self.fc2 = nn.Linear(width * 2, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        h = self.norm(x)
        h = F.gelu(self.fc1(h))
        h = self.dropout(self.fc2(h))
        return x + h


class Classifier${i}(nn.Module):
    def __init__(self, n_in, width, n_out, depth=2, dropout=0.1):
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList([ResidualBlock${i}(width, dropout) for _ in range(depth)])
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def param_groups_${i}(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or name.endswith(".bias") or "norm" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
`;
}

function optimizerSection(i: number): string {
  return `
# ---------------------------------------------------------------- hand-written optimizers, experiment ${i}

class AdamW${i}(torch.optim.Optimizer):
    """Adam with decoupled weight decay: the decay shrinks the weights, not the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                p.mul_(1 - group["lr"] * group["weight_decay"])
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias1 = 1 - beta1 ** state["step"]
                bias2 = 1 - beta2 ** state["step"]
                denom = (exp_avg_sq / bias2).sqrt().add_(group["eps"])
                p.addcdiv_(exp_avg, denom, value=-group["lr"] / bias1)
        return loss


class RMSProp${i}(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "square_avg" not in state:
                    state["square_avg"] = torch.zeros_like(p)
                square_avg = state["square_avg"]
                square_avg.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.addcdiv_(p.grad, square_avg.sqrt().add_(group["eps"]), value=-group["lr"])


def warmup_cosine_${i}(step, warmup, total, base_lr):
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
`;
}

function trainingSection(i: number): string {
  return `
# ---------------------------------------------------------------- training loop, experiment ${i}

def accuracy_${i}(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean().item()


def evaluate_${i}(model, x, y, batch_size):
    model.eval()
    total, correct, loss_sum = 0, 0.0, 0.0
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            xb = x[start:start + batch_size]
            yb = y[start:start + batch_size]
            logits = model(xb)
            loss_sum += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(dim=1) == yb).sum().item()
            total += yb.shape[0]
    model.train()
    return loss_sum / total, correct / total


def save_checkpoint_${i}(model, optimizer, epoch, path):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, path)


def train_torch_${i}(args, data, device="cpu"):
    (train_x, train_y), (val_x, val_y) = data
    train_x = torch.tensor(train_x, dtype=torch.float32, device=device)
    train_y = torch.tensor(train_y, dtype=torch.long, device=device)
    val_x = torch.tensor(val_x, dtype=torch.float32, device=device)
    val_y = torch.tensor(val_y, dtype=torch.long, device=device)
    model = Classifier${i}(train_x.shape[1], args.hidden, int(train_y.max()) + 1, dropout=args.dropout).to(device)
    optimizer = AdamW${i}(param_groups_${i}(model, args.weight_decay), lr=args.lr)
    steps_per_epoch = math.ceil(train_x.shape[0] / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    step = 0
    metrics = defaultdict(list)
    for epoch in range(args.epochs):
        order = torch.randperm(train_x.shape[0], device=device)
        for start in range(0, train_x.shape[0], args.batch_size):
            idx = order[start:start + args.batch_size]
            lr = warmup_cosine_${i}(step, warmup=steps_per_epoch, total=total_steps, base_lr=args.lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            logits = model(train_x[idx])
            loss = F.cross_entropy(logits, train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            metrics["train_loss"].append(loss.item())
            step += 1
        val_loss, val_acc = evaluate_${i}(model, val_x, val_y, args.batch_size)
        metrics["val_loss"].append(val_loss)
        metrics["val_acc"].append(val_acc)
        if epoch % 5 == 4:
            save_checkpoint_${i}(model, optimizer, epoch, os.path.join(args.out, "exp${i}_epoch%d.pt" % epoch))
    return model, metrics
`;
}

function manualTorchSection(i: number): string {
  return `
# ---------------------------------------------------------------- manual updates on raw tensors, experiment ${i}

def linear_probe_${i}(features, labels, n_classes, lr=0.1, l2=1e-3, epochs=50):
    W = torch.zeros(features.shape[1], n_classes, requires_grad=True)
    b = torch.zeros(n_classes, requires_grad=True)
    for _ in range(epochs):
        logits = features @ W + b
        loss = F.cross_entropy(logits, labels) + l2 * (W ** 2).sum()
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
            W.grad.zero_()
            b.grad.zero_()
    return W.detach(), b.detach()


def ema_update_${i}(ema_model, model, decay=0.999):
    with torch.no_grad():
        for ema_p, p in zip(ema_model.parameters(), model.parameters()):
            ema_p.mul_(decay).add_(p, alpha=1 - decay)


def report_${i}(history, path):
    best = max(history["val_acc"]) if history["val_acc"] else float("nan")
    summary = {"experiment": ${i}, "best_val_acc": best, "epochs": len(history["val_acc"])}
    log_line(path, summary)
    return summary
`;
}

function mainSection(count: number): string {
  const calls: string[] = [];
  for (let i = 0; i < count; i++) {
    calls.push(`    data_${i} = load_split_${i}(4000, 32, 5)
    data_${i} = (standardize_${i}(data_${i}[0][0], data_${i}[1][0])[0], data_${i}[0][1]), (standardize_${i}(data_${i}[0][0], data_${i}[1][0])[1], data_${i}[1][1])
    _, history_np_${i} = train_numpy_${i}(args, data_${i})
    _, history_${i} = train_torch_${i}(args, data_${i})
    results.append(report_${i}(history_${i}, os.path.join(args.out, "summary.jsonl")))`);
  }
  return `
# ---------------------------------------------------------------- entry point

def main():
    args = parse_args()
    set_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    results = []
${calls.join('\n')}
    print("done in %.1fs" % (time.time() - started))
    for row in results:
        print(row)


if __name__ == "__main__":
    main()
`;
}

const sections = [dataSection, numpyModelSection, torchModelSection, optimizerSection, trainingSection, manualTorchSection];

/** The script, grown experiment by experiment until it has at least `lines` lines. */
export function trainingScriptOfLines(lines: number): string {
  const parts = [header];
  let count = 0;
  let length = header.split('\n').length;
  while (length + 12 + 5 * count < lines) {
    for (const section of sections) {
      const part = section(count);
      parts.push(part);
      length += part.split('\n').length - 1;
    }
    count++;
  }
  parts.push(mainSection(count));
  return parts.join('');
}
