#!/usr/bin/env python3
"""Writes gpt_fixture.safetensors: a tiny GPT in PyTorch, and what PyTorch computes for it.

Week 8's test (Tests/Week08Tests/GPTFixtureTests.swift) loads the weights into the Swift GPT and
checks its logits, loss and every parameter gradient against PyTorch's (1e-4 relative), then ten
AdamW steps on the same batch against PyTorch's losses (llm.c's test_gpt2 does the same).
Needs only torch: the safetensors file is written by hand below. Rerun from this folder:
    python make_gpt_fixture.py
Any other size, to check the Swift model at the size you train (nanoGPT's CPU model here):
    FIXTURE_SIZE=65,64,128,4,4,12 FIXTURE_OUT=/tmp/gpt_big.safetensors python make_gpt_fixture.py
    GPT_FIXTURE=/tmp/gpt_big.safetensors swift test --filter Week08PyTorchFixtureTests
(FIXTURE_SIZE is V,T,C,L,H,B.)

The model is nanoGPT's GPT (model.py) written out in full, with its parameter names (wte, wpe,
h.N.ln_1, h.N.attn.c_attn, h.N.attn.c_proj, h.N.ln_2, h.N.mlp.c_fc, h.N.mlp.c_proj, ln_f; the
head is tied to wte): Pre-LN blocks, causal self-attention with one fused q/k/v projection,
MLP C -> 4C -> C with exact (erf) GELU, biases on, dropout 0. Weights: GPT-2's init (N(0, 0.02),
the two residual projections per block N(0, 0.02/sqrt(2 layers))), then biases and LayerNorm
parameters are drawn at random too, so a bug that ignores them cannot pass.
Tensors: every parameter under its name; "grad.<name>" its gradient of the mean cross-entropy
loss; "inputs", "targets" (B, T) as floats; "logits" (B, T, V); "loss" (1); "adamw_losses" (10):
the loss before each of 10 AdamW steps on the same batch (lr 1e-2, betas 0.9/0.99, eps 1e-8,
weight decay 0.1 on tensors of 2+ dimensions, gradient norm clipped to 1.0). The configuration
is in the header's __metadata__.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_f32 import write_safetensors_f32

V, T, C, L, H, B = [int(n) for n in os.environ.get("FIXTURE_SIZE", "17,8,16,2,2,3").split(",")]
LR, BETAS, EPS, WD, CLIP, STEPS = 1e-2, (0.9, 0.99), 1e-8, 0.1, float(os.environ.get("FIXTURE_CLIP", "1.0")), 10
torch.manual_seed(1234)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(C, 3 * C)
        self.attn.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(C, 4 * C)
        self.mlp.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = [z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v)]   # (B, H, T, D)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(torch.tril(torch.ones(t, t)) == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))       # exact erf GELU


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
                nn.init.normal_(p, 1.0, 0.1)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t()          # tied head: logits (B, T, V)


model = GPT()
inputs = torch.randint(V, (B, T))
targets = torch.randint(V, (B, T))
tensors = {name: p.detach().clone() for name, p in model.named_parameters()}

logits = model(inputs)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
loss.backward()
for name, p in model.named_parameters():
    tensors["grad." + name] = p.grad.detach().clone()
tensors["inputs"] = inputs.float()
tensors["targets"] = targets.float()
tensors["logits"] = logits.detach().clone()
tensors["loss"] = loss.detach().reshape(1)

params = list(model.parameters())
opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": WD},
                         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                        lr=LR, betas=BETAS, eps=EPS)
losses = []
for _ in range(STEPS):
    opt.zero_grad(set_to_none=True)
    step_loss = F.cross_entropy(model(inputs).view(-1, V), targets.view(-1))
    losses.append(step_loss.item())
    step_loss.backward()
    nn.utils.clip_grad_norm_(params, CLIP)
    opt.step()
tensors["adamw_losses"] = torch.tensor(losses)

metadata = {"vocab_size": str(V), "context": str(T), "width": str(C), "layers": str(L), "heads": str(H),
            "batch": str(B), "bias": "true", "tied_head": "true", "gelu": "erf", "lr": str(LR),
            "beta1": str(BETAS[0]), "beta2": str(BETAS[1]), "eps": str(EPS), "weight_decay": str(WD),
            "clip": str(CLIP), "steps": str(STEPS), "torch": torch.__version__}
path = os.environ.get("FIXTURE_OUT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt_fixture.safetensors")
size = write_safetensors_f32(path, tensors, metadata)
print("wrote %s: %d tensors, %d bytes; loss %.6f, AdamW losses %s" % (
    path, len(tensors), size, loss.item(), " ".join("%.4f" % x for x in losses)))
