#!/usr/bin/env python3
"""The Python side of `Bench bpe`: one timed measurement per call, so that Bench can
alternate ours / theirs round by round. Prints one line, "seconds S", the median of --reps
calls after a warm-up call (a training run is not repeated for warm-up).

    bpe_baseline.py train-hf --corpus FILE --vocab 512          # HF BpeTrainer, as in bpe_anchors.py
    bpe_baseline.py encode-hf --corpus FILE --tokenizer tokenizer.json   # Tokenizer.encode(text)
    bpe_baseline.py encode-tiktoken --corpus FILE --ranks r.tiktoken --pattern gpt4

The trainer is set up exactly as ../shared/anchors/bpe_anchors.py does (ByteLevel
pre-tokenizer, the 256-byte initial alphabet, no special tokens); the encoders load the
files our tokenizer wrote, so both sides encode with the same ranks and pattern.
"""
import argparse
import os
import statistics
import time

GPT2_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT4_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""

ap = argparse.ArgumentParser()
ap.add_argument("task", choices=["train-hf", "encode-hf", "encode-tiktoken"])
ap.add_argument("--corpus", required=True)
ap.add_argument("--vocab", type=int, default=512)
ap.add_argument("--tokenizer", default="")
ap.add_argument("--ranks", default="")
ap.add_argument("--pattern", default="gpt4", choices=["gpt4", "gpt2"])
ap.add_argument("--reps", type=int, default=3)
args = ap.parse_args()
text = open(args.corpus, encoding="utf-8").read()


def median_seconds(f, reps, warm_up=True):
    if warm_up:
        f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


if args.task == "train-hf":
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    def train():
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=args.vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      special_tokens=[], show_progress=False)
        tok.train([args.corpus], trainer)
    seconds = median_seconds(train, args.reps, warm_up=False)
elif args.task == "encode-hf":
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(args.tokenizer)
    seconds = median_seconds(lambda: tok.encode(text), args.reps)
else:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    ranks = load_tiktoken_bpe(args.ranks)
    enc = tiktoken.Encoding("ours", pat_str=GPT4_PAT if args.pattern == "gpt4" else GPT2_PAT,
                            mergeable_ranks=ranks, special_tokens={})
    seconds = median_seconds(lambda: enc.encode_ordinary(text), args.reps)
print("seconds %.6f" % seconds)
