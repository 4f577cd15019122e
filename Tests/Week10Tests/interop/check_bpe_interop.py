#!/usr/bin/env python3
"""Checks that tiktoken and Hugging Face tokenizers load week 10's tokenizer files and encode
a corpus to exactly our ids. Not needed by the Swift tests; run it by hand:

    swift run -c release Bench bpe --rounds 0 --export /tmp/bpe-export \
        --corpus ../shared/datasets/tinyshakespeare.txt
    python Tests/Week10Tests/interop/check_bpe_interop.py --dir /tmp/bpe-export \
        --corpus ../shared/datasets/tinyshakespeare.txt

For every DIR/vocabN-PATTERN.ids (our ids, uint32 little-endian) it loads
  - DIR/vocabN-PATTERN.tiktoken with tiktoken.load.load_tiktoken_bpe into a
    tiktoken.Encoding with that pattern, and compares encode_ordinary(corpus);
  - DIR/vocabN-PATTERN.json with tokenizers.Tokenizer.from_file, and compares
    encode(corpus).ids and decode(ids) == corpus.
Prints one line per check and exits 1 if any differs.
"""
import argparse
import glob
import os
import sys

import numpy as np
import tiktoken
from tiktoken.load import load_tiktoken_bpe
from tokenizers import Tokenizer

PATTERNS = {
    "gpt2": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    "gpt4": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+""",
}

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True, help="folder written by `Bench bpe --export DIR`")
ap.add_argument("--corpus", required=True, help="the corpus the ids were made from")
args = ap.parse_args()
text = open(args.corpus, encoding="utf-8").read()
print("tiktoken %s, tokenizers %s; corpus %s (%d bytes)" % (tiktoken.__version__, __import__("tokenizers").__version__,
                                                            os.path.basename(args.corpus), len(text.encode("utf-8"))))


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else None


failures = 0
files = sorted(glob.glob(os.path.join(args.dir, "vocab*-*.ids")))
if not files:
    sys.exit("no vocabN-PATTERN.ids files in %s" % args.dir)
for ids_path in files:
    stem = ids_path[:-4]
    name = os.path.basename(stem)
    pattern = name.split("-")[1]
    ours = np.fromfile(ids_path, dtype="<u4").tolist()

    ranks = load_tiktoken_bpe(stem + ".tiktoken")
    enc = tiktoken.Encoding(name, pat_str=PATTERNS[pattern], mergeable_ranks=ranks, special_tokens={})
    theirs = enc.encode_ordinary(text)
    diff = first_difference(ours, theirs)
    print("%-16s tiktoken: %d ids, %s" % (name, len(theirs), "identical" if diff is None else "DIFFER at %d" % diff))
    failures += diff is not None

    tok = Tokenizer.from_file(stem + ".json")
    theirs = tok.encode(text).ids
    diff = first_difference(ours, theirs)
    round_trip = tok.decode(ours) == text
    print("%-16s HF tokenizers: %d ids, %s; decode(our ids) == corpus: %s"
          % (name, len(theirs), "identical" if diff is None else "DIFFER at %d" % diff, round_trip))
    failures += diff is not None or not round_trip
print("all identical" if failures == 0 else "%d checks FAILED" % failures)
sys.exit(1 if failures else 0)
