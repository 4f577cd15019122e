#!/usr/bin/env python3
"""Trains nanoGPT's CPU model in PyTorch and records everything needed to replay the run in
Swift: the initial weights, every batch, and the loss and gradient norm of every step.

Week 8's fixture checks 10 steps; this checks a whole run, by hand (torch only):

    python replay_gpt_training.py --corpus ../../../Datasets/shakespeare.txt --steps 1500 \\
        --lr 3e-3 --warmup 0 --out /tmp/gpt_replay.safetensors
    GPT_REPLAY=/tmp/gpt_replay.safetensors swift test --filter replayedTrainingTracksPyTorch

The model is gpt_char_torch.py's (nanoGPT's GPT: Pre-LN, no biases, tied head, exact GELU,
GPT-2's init) under our parameter names; AdamW (betas 0.9/0.99, eps 1e-8, weight decay 0.1
on tensors of 2+ dimensions), clipping at 1.0, nanoGPT's schedule: linear warm-up
lr·(it+1)/(warmup+1), then cosine to --min-lr at the last step. Batches are B random windows
of T characters of the first 90% of the corpus. Past the first few dozen steps the two runs
part ways bit by bit (float rounding is chaotic under training), so what can be compared is
the loss curve, not the weights.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_f32 import write_safetensors_f32

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", required=True)
ap.add_argument("--steps", type=int, default=1500)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--min-lr", type=float, default=1e-4)
ap.add_argument("--warmup", type=int, default=100)
ap.add_argument("--seed", type=int, default=1337)
ap.add_argument("--out", required=True)
args = ap.parse_args()
T, C, L, H, B = 64, 128, 4, 4, 12
torch.set_num_threads(1)
torch.manual_seed(args.seed)
text = open(args.corpus, encoding="utf-8").read()
chars = sorted(set(text))
V = len(chars)
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text])
train = data[:int(len(data) * 0.9)]


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, bias=False)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(C, 3 * C, bias=False)
        self.attn.c_proj = nn.Linear(C, C, bias=False)
        self.ln_2 = nn.LayerNorm(C, bias=False)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(C, 4 * C, bias=False)
        self.mlp.c_proj = nn.Linear(4 * C, C, bias=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = [z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v)]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, bias=False)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") else 0.02)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t()


def lr_at(it):
    if it < args.warmup:
        return args.lr * (it + 1) / (args.warmup + 1)
    ratio = (it - args.warmup) / max(1, args.steps - args.warmup)
    return args.min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (args.lr - args.min_lr)


model = GPT()
tensors = {name: p.detach().clone() for name, p in model.named_parameters()}
params = list(model.parameters())
opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                        lr=args.lr, betas=(0.9, 0.99), eps=1e-8)
inputs, targets, losses, norms = [], [], [], []
for it in range(args.steps):
    for group in opt.param_groups:
        group["lr"] = lr_at(it)
    starts = torch.randint(len(train) - T, (B,))
    x = torch.stack([train[s:s + T] for s in starts])
    y = torch.stack([train[s + 1:s + 1 + T] for s in starts])
    inputs.append(x)
    targets.append(y)
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
    loss.backward()
    norms.append(nn.utils.clip_grad_norm_(params, 1.0).item())
    losses.append(loss.item())
    opt.step()
tensors["train_inputs"] = torch.stack(inputs).float()
tensors["train_targets"] = torch.stack(targets).float()
tensors["train_losses"] = torch.tensor(losses)
tensors["train_norms"] = torch.tensor(norms)

write_safetensors_f32(args.out, tensors, {
    "vocab_size": str(V), "context": str(T), "width": str(C), "layers": str(L), "heads": str(H), "batch": str(B),
    "lr": str(args.lr), "min_lr": str(args.min_lr), "warmup": str(args.warmup), "steps": str(args.steps),
    "torch": torch.__version__})
tail = max(1, args.steps // 10)
print("wrote %s: %d steps; mean loss of the last %d steps %.4f" % (args.out, args.steps, tail, sum(losses[-tail:]) / tail))
