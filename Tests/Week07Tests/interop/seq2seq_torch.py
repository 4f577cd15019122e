#!/usr/bin/env python3
"""A PyTorch replica of week 7's LSTM encoder-decoder, without and with attention
(Weeks/Week07Attention/Seq2Seq.swift and ToyTask.swift), to check that the Swift figures
are those of the model and not of its hand-written kernels. torch only.

    python seq2seq_torch.py --task copy --model lstm --seed 1
    python seq2seq_torch.py --task reverse --model lstm_attention --seed 2 --input-bound pytorch

Each run prints one line:
    RESULT task=... model=... init=... seed=... token_acc=... exact=... [attn_mass=... shift=...] seconds=...

What is copied from the Swift side:
  * digits 0-9 (vocabulary 10), sources drawn uniformly, L = --length (20); copy: target =
    source, reverse: target = source reversed. A fresh batch of 64 every step.
  * encoder LSTM over one-hot digits (input 10); decoder LSTM over one-hot of the start
    symbol (id 10) and then the previous answer digit (input 11), teacher forcing in
    training, its own greedy guesses when scored; the decoder starts from the encoder's
    final (h, c). Hidden size H = --hidden (64).
  * LSTM (Shared/NN/LSTM.swift): z = x·Wxh + h·Whh + b, ONE bias vector, gate order
    i, f, g, o; Whh and b uniform ±1/√H, forget-gate bias 1, Wxh uniform ±--input-bound
    (1 by default, as Seq2Seq.swift; "pytorch" means ±1/√H). With nn.LSTM (--cell fused)
    bias_hh is zero and frozen, so bias_ih is the one bias; --cell manual writes the cell out.
  * attention (Luong "general"): q_t = s_t·W_q (W_q (H, H) ~ N(0, 1/H)),
    a_t = softmax_j(q_t·e_j/√H) over the L encoder states, c_t = Σ_j a_tj e_j,
    logits = [s_t ; c_t]·W_out + b. Without attention: logits = s_t·W_out + b.
    Head "xavier" as Shared/NN/Layers.swift: W_out ~ N(0, 1/fan_in), b = 0.
  * training: --steps (2000) Adam steps, lr 2e-3, default betas, eps 1e-8, no weight decay,
    global gradient-norm clip 1 (clip_grad_norm_), mean cross-entropy over the B·L answer
    tokens.
  * score: greedy decoding on 2000 held-out sequences: token accuracy, exact match, and (with
    attention) the mean attention weight on source position j + s, j the aligned position
    (reverse: L-1-t, copy: t), for shifts s = 0, 1, 2; the best of the three is reported, as
    ToyRun.bestLateShift does.

Not copied: the random numbers. Swift draws from SplitMix64; here the initialisation, the
training batches and the held-out set come from three torch.Generators seeded from --seed
(seed, seed+17, seed+0x5eed0001, the same offsets as the Swift code), so a given seed is a
different draw on the two sides; compare distributions over seeds, not seed by seed.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 10
START = VOCAB  # the decoder's start symbol, id 10


def make_batch(task, batch, length, gen):
    """(B, L) sources uniform in 0..9 and their (B, L) targets."""
    src = torch.randint(0, VOCAB, (batch, length), generator=gen)
    tgt = src.flip(1) if task == "reverse" else src.clone()
    return src, tgt


class Cell(nn.Module):
    """One LSTM as Shared/NN/LSTM.swift has it. Stored in nn.LSTM layout (weight_ih (4H, V),
    weight_hh (4H, H), one bias (4H)), gate rows i | f | g | o."""

    def __init__(self, inputs, hidden, input_bound, gen, fused):
        super().__init__()
        H = hidden
        bound = 1 / math.sqrt(H)
        # Swift stores Wxh (V, 4H) and Whh (H, 4H) and draws them in that order, row-major;
        # drawn the same way and transposed, so the layout of the draws matches too.
        wxh = (torch.rand(inputs, 4 * H, generator=gen) * 2 - 1) * input_bound
        whh = (torch.rand(H, 4 * H, generator=gen) * 2 - 1) * bound
        b = (torch.rand(4 * H, generator=gen) * 2 - 1) * bound
        b[H:2 * H] = 1.0  # forget-gate bias
        self.fused = fused
        self.hidden = H
        if fused:
            self.lstm = nn.LSTM(inputs, H, batch_first=True)
            with torch.no_grad():
                self.lstm.weight_ih_l0.copy_(wxh.t())
                self.lstm.weight_hh_l0.copy_(whh.t())
                self.lstm.bias_ih_l0.copy_(b)
                self.lstm.bias_hh_l0.zero_()
            self.lstm.bias_hh_l0.requires_grad_(False)  # a single bias vector, as in Swift
        else:
            self.weight_ih = nn.Parameter(wxh.t().contiguous())
            self.weight_hh = nn.Parameter(whh.t().contiguous())
            self.bias = nn.Parameter(b)

    def forward(self, x, state):
        """x: (B, T, V) one-hot; state: (h, c) each (B, H). Returns outputs (B, T, H), (h, c)."""
        if self.fused:
            out, (h, c) = self.lstm(x, (state[0].unsqueeze(0).contiguous(), state[1].unsqueeze(0).contiguous()))
            return out, (h.squeeze(0), c.squeeze(0))
        h, c = state
        H = self.hidden
        zx = x @ self.weight_ih.t() + self.bias  # (B, T, 4H)
        outs = []
        for t in range(x.shape[1]):
            z = zx[:, t] + h @ self.weight_hh.t()
            i = torch.sigmoid(z[:, :H])
            f = torch.sigmoid(z[:, H:2 * H])
            g = torch.tanh(z[:, 2 * H:3 * H])
            o = torch.sigmoid(z[:, 3 * H:])
            c = f * c + i * g
            h = o * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, 1), (h, c)


class EncoderDecoder(nn.Module):
    def __init__(self, hidden, attention, input_bound, gen, fused):
        super().__init__()
        H = hidden
        self.hidden = H
        self.attention = attention
        # the Swift order of the draws: encoder, decoder, W_q, head
        self.encoder = Cell(VOCAB, H, input_bound, gen, fused)
        self.decoder = Cell(VOCAB + 1, H, input_bound, gen, fused)
        if attention:
            self.query_weight = nn.Parameter(torch.randn(H, H, generator=gen) / math.sqrt(H))
        fan_in = 2 * H if attention else H
        # Linear .xavier: weight (in, out) ~ N(0, 1/in), bias 0
        self.head_weight = nn.Parameter(torch.randn(fan_in, VOCAB, generator=gen) / math.sqrt(fan_in))
        self.head_bias = nn.Parameter(torch.zeros(VOCAB))

    def encode(self, src):
        B = src.shape[0]
        zeros = src.new_zeros(B, self.hidden, dtype=torch.float32)
        states, final = self.encoder(F.one_hot(src, VOCAB).float(), (zeros, zeros))
        return states, final

    def read_out(self, s, enc):
        """s: (B, T, H) decoder states, enc: (B, L, H). Returns logits (B, T, V), weights (B, T, L)."""
        if not self.attention:
            return s @ self.head_weight + self.head_bias, None
        q = s @ self.query_weight
        weights = torch.softmax(q @ enc.transpose(1, 2) / math.sqrt(self.hidden), dim=-1)
        context = weights @ enc
        return torch.cat([s, context], -1) @ self.head_weight + self.head_bias, weights

    def training_logits(self, src, tgt):
        enc, final = self.encode(src)
        B = src.shape[0]
        inputs = torch.cat([torch.full((B, 1), START, dtype=torch.long), tgt[:, :-1]], 1)
        s, _ = self.decoder(F.one_hot(inputs, VOCAB + 1).float(), final)
        return self.read_out(s, enc)[0]

    @torch.no_grad()
    def predict(self, src):
        """Greedy answers (B, L), each step fed its own previous guess, and the maps (B, L, L)."""
        enc, state = self.encode(src)
        B, L = src.shape
        token = torch.full((B,), START, dtype=torch.long)
        answers, maps = [], []
        for _ in range(L):
            s, state = self.decoder(F.one_hot(token, VOCAB + 1).float().unsqueeze(1), state)
            logits, w = self.read_out(s, enc)
            token = logits[:, 0].argmax(-1)  # first maximum on ties, as Swift's argmax
            answers.append(token)
            if w is not None:
                maps.append(w[:, 0])
        return torch.stack(answers, 1), (torch.stack(maps, 1) if maps else None)


def score(model, task, src, tgt, chunk=500):
    L = src.shape[1]
    correct_tokens = correct_seqs = 0
    mass = torch.zeros(5, dtype=torch.float64)  # shifts -2..2
    rows = torch.arange(L)
    aligned = (L - 1 - rows) if task == "reverse" else rows
    for start in range(0, src.shape[0], chunk):
        s, t = src[start:start + chunk], tgt[start:start + chunk]
        answers, maps = model.predict(s)
        right = answers == t
        correct_tokens += right.sum().item()
        correct_seqs += right.all(1).sum().item()
        if maps is not None:
            for k, shift in enumerate(range(-2, 3)):
                j = aligned + shift
                ok = (j >= 0) & (j < L)
                mass[k] += maps[:, rows[ok], j[ok]].double().sum().item()
    n = src.shape[0]
    return correct_tokens / (n * L), correct_seqs / n, (mass / (n * L)) if model.attention else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", choices=["copy", "reverse"], default="reverse")
    ap.add_argument("--model", choices=["lstm", "lstm_attention"], default="lstm_attention")
    ap.add_argument("--length", type=int, default=20)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--input-bound", default="1",
                    help="Wxh init bound: a number (Swift week 7: 1) or 'pytorch' (1/sqrt(H))")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clip", type=float, default=1.0, help="global grad-norm clip; 0 = off")
    ap.add_argument("--held-out", type=int, default=2000)
    ap.add_argument("--log-every", type=int, default=500, help="print the mean training loss this often; 0 = never")
    ap.add_argument("--cell", choices=["fused", "manual"], default="fused",
                    help="nn.LSTM with a frozen zero bias_hh, or the cell written out (same maths)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    H, L = args.hidden, args.length
    input_bound = 1 / math.sqrt(H) if args.input_bound == "pytorch" else float(args.input_bound)

    init_gen = torch.Generator().manual_seed(args.seed)
    data_gen = torch.Generator().manual_seed(args.seed + 17)
    held_gen = torch.Generator().manual_seed(args.seed + 0x5eed0001)

    model = EncoderDecoder(H, args.model == "lstm_attention", input_bound, init_gen, args.cell == "fused")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=args.lr)
    held_src, held_tgt = make_batch(args.task, args.held_out, L, held_gen)

    clock = time.perf_counter()
    loss_sum, loss_count = 0.0, 0
    for step in range(1, args.steps + 1):
        src, tgt = make_batch(args.task, args.batch, L, data_gen)
        logits = model.training_logits(src, tgt)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1))
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(params, args.clip)
        optimizer.step()
        loss_sum += loss.item()
        loss_count += 1
        if args.log_every and (step % args.log_every == 0 or step == args.steps):
            print(f"step {step:5d}  train loss {loss_sum / loss_count:.4f}  ({time.perf_counter() - clock:.1f}s)", flush=True)
            loss_sum, loss_count = 0.0, 0
    train_seconds = time.perf_counter() - clock

    token_acc, exact, mass = score(model, args.task, held_src, held_tgt)
    seconds = time.perf_counter() - clock
    init = "pytorch" if args.input_bound == "pytorch" else f"bound{args.input_bound}"
    line = (f"RESULT task={args.task} model={args.model} init={init} seed={args.seed} L={L} H={H} "
            f"steps={args.steps} token_acc={token_acc:.4f} exact={exact:.4f}")
    if mass is not None:
        late = mass[2:5]  # shifts 0, 1, 2
        best = int(late.argmax())
        line += (f" attn_mass={late[best]:.4f} shift={best}"
                 f" mass_s0={late[0]:.4f} mass_s1={late[1]:.4f} mass_s2={late[2]:.4f}")
    line += f" train_seconds={train_seconds:.1f} seconds={seconds:.1f}"
    print(line, flush=True)


if __name__ == "__main__":
    main()
