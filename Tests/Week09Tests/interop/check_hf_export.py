#!/usr/bin/env python3
"""Checks that Hugging Face transformers loads week 9's GPT-2 export and computes what we do.
Not needed by the Swift tests; run it by hand (any trained or --quick checkpoint works):

    swift run Week09Sampling --checkpoint runs/Week09/best.safetensors --export-hf /tmp/hf \
        --prompt "ROMEO:" --temperature 0 --max-tokens 40 --json /tmp/hf/ours.json
    python Tests/Week09Tests/interop/check_hf_export.py --dir /tmp/hf --json /tmp/hf/ours.json

It loads DIR with GPT2LMHeadModel.from_pretrained (and fails on any missing or unexpected
weight), runs it on our prompt_ids and compares the logits at the prompt's last position with
our last_logits (largest absolute difference, must be <= 1e-4); then its greedy continuation
(generate, do_sample=False) must be token-identical to our generated_ids (which must have been
made with --temperature 0, and fit in the context: transformers cannot go past n_positions).
Also decodes our ids with the exported tokenizer and compares with our text.
Prints one line per check and exits 1 if any fails.
"""
import argparse
import json
import sys

import torch
import transformers
from transformers import AutoTokenizer, GPT2LMHeadModel

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True, help="folder written by `Week09Sampling --export-hf DIR`")
ap.add_argument("--json", required=True, help="file written by `Week09Sampling --json FILE --temperature 0`")
args = ap.parse_args()
ours = json.load(open(args.json, encoding="utf-8"))
failures = 0


def report(ok, line):
    global failures
    print(("ok    " if ok else "FAIL  ") + line)
    if not ok:
        failures += 1


print("transformers %s, torch %s" % (transformers.__version__, torch.__version__))
model, info = GPT2LMHeadModel.from_pretrained(args.dir, output_loading_info=True)
model.eval()
problems = {k: v for k, v in info.items() if v}
report(not problems, "from_pretrained: no missing, unexpected or mismatched weights %s" % (problems or ""))
config = model.config
print("      config: vocab %d, n_positions %d, n_embd %d, n_layer %d, n_head %d, activation %s, eps %g, tied %s"
      % (config.vocab_size, config.n_positions, config.n_embd, config.n_layer, config.n_head,
         config.activation_function, config.layer_norm_epsilon, config.tie_word_embeddings))

prompt = ours["prompt_ids"][-config.n_positions:]
with torch.no_grad():
    logits = model(torch.tensor([prompt])).logits[0, -1]
difference = (logits - torch.tensor(ours["last_logits"])).abs().max().item()
report(difference <= 1e-4, "logits at the prompt's last position: largest difference %.3g (bar 1e-4)" % difference)

generated = ours["generated_ids"]
if len(prompt) + len(generated) > config.n_positions:
    generated = generated[: config.n_positions - len(prompt)]
    print("      (comparing the first %d generated tokens: transformers stops at n_positions)" % len(generated))
with torch.no_grad():
    output = model.generate(torch.tensor([prompt]), max_new_tokens=len(generated), min_new_tokens=len(generated),
                            do_sample=False, pad_token_id=0)
theirs = output[0, len(prompt):].tolist()
same = theirs == generated
first = next((i for i, (a, b) in enumerate(zip(theirs, generated)) if a != b), None)
report(same, "greedy continuation of %d tokens token-identical%s" % (len(generated), "" if same else " (first difference at %s)" % first))

tokenizer = AutoTokenizer.from_pretrained(args.dir)
text = tokenizer.decode(ours["generated_ids"])
report(text == ours["text"], "the exported tokenizer decodes our ids to our text: %r" % text[:60])
report(tokenizer.encode(text) == ours["generated_ids"], "and encodes our text back to our ids")
sys.exit(1 if failures else 0)
