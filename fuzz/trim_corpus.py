#!/usr/bin/env python3
"""Cuts a target's corpus to at most CAP files keeping what it covers.

`cargo fuzz cmin` keeps every file that adds a feature in size order: for
the frame targets that is thousands of files (an error path per field of
each frame). This runs the built target on each file alone (a libFuzzer
merge of one file: its whole feature set), then chooses greedily: files
covering the most edges not yet covered (feature >> 3: an edge's counter
buckets), then the most features, until CAP files. What it writes to
fuzz/corpus/TARGET replaces what was there; run `cargo fuzz cmin` on it
after. Build first: `cargo +nightly fuzz build -s none TARGET`.

    fuzz/trim_corpus.py TARGET MAX_LEN CAP [--edges-only] DIR...
"""

import os
import shutil
import subprocess
import sys
import tempfile

FUZZ = os.path.dirname(os.path.abspath(__file__))


def features(binary, max_len, path):
    """The libFuzzer features of one input, run alone."""
    tmp = tempfile.mkdtemp()
    try:
        given, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.mkdir(given)
        os.mkdir(out)
        os.symlink(os.path.abspath(path), os.path.join(given, "input"))
        control = os.path.join(tmp, "control")
        subprocess.run(
            [binary, "-merge=1", f"-max_len={max_len}", f"-merge_control_file={control}", out, given],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        found = set()
        with open(control) as lines:
            for line in lines:
                if line.startswith("FT "):
                    found.update(map(int, line.split()[2:]))
        return found
    finally:
        shutil.rmtree(tmp)


def main():
    args = [a for a in sys.argv[1:] if a != "--edges-only"]
    edges_only = len(args) != len(sys.argv) - 1
    if len(args) < 4:
        sys.exit(__doc__)
    target, max_len, cap, dirs = args[0], args[1], int(args[2]), args[3:]
    binary = os.path.join(FUZZ, "target", "x86_64-unknown-linux-gnu", "release", target)
    paths = {}
    for d in dirs:
        for name in os.listdir(d):
            paths.setdefault(name, os.path.join(d, name))
    feats = {name: features(binary, max_len, path) for name, path in sorted(paths.items())}
    edges = {name: {f >> 3 for f in s} for name, s in feats.items()}
    size = {name: os.path.getsize(path) for name, path in paths.items()}

    chosen, have_edges, have_feats = [], set(), set()
    phases = [(edges, have_edges)] + ([] if edges_only else [(feats, have_feats)])
    for sets, have in phases:
        while len(chosen) < cap:
            rest = [n for n in sets if n not in chosen]
            best = max(rest, key=lambda n: (len(sets[n] - have), -size[n]), default=None)
            if best is None or not sets[best] - have:
                break
            chosen.append(best)
            have_edges |= edges[best]
            have_feats |= feats[best]

    all_edges = set().union(*edges.values())
    all_feats = set().union(*feats.values())
    print(
        f"{target}: kept {len(chosen)} of {len(paths)} files, {sum(size[n] for n in chosen)} bytes: "
        f"{len(have_edges)}/{len(all_edges)} edges, {len(have_feats)}/{len(all_feats)} features"
    )
    corpus = os.path.join(FUZZ, "corpus", target)
    staged = tempfile.mkdtemp()
    for name in chosen:
        shutil.copy(paths[name], os.path.join(staged, name))
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.move(staged, corpus)
    os.chmod(corpus, 0o755)


if __name__ == "__main__":
    main()
