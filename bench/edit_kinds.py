"""Precision and recall of each kind of edit (``newscrawl.kinds``) on real corpus pages.

    python -m bench.edit_kinds [--corpus DIR ...] [--workers 2] [--every 1] [--misses]
                               [--timing]

Each page of both corpora (every ``--every``-th) is edited by every edit of
``tests.support.kind_edits`` that it allows; the real extractor reads the page before and after, the
diff is computed as the tracker computes it, and its kinds are compared with the kinds the
edit is known to make (labels written by hand in ``tests.support.kind_edits``, not derived from the
rules). An edit whose extraction does not change the text makes no version and is counted
apart ("no version"). Prints a Markdown table per corpus; ``--misses`` lists the wrong ones;
``--timing`` the median time per diff of the kinds and score (what the tracker adds to each
write) beside the median time of the diff itself, same diffs, same process.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from dataclasses import asdict
from functools import partial
from multiprocessing import Pool
from pathlib import Path

from newscrawl.diff import diff_versions
from newscrawl.extract import extract_article
from newscrawl.kinds import KINDS
from newscrawl.normalize import content_hash
from newscrawl.significance import score_fields
from tests.support.corpus import CorpusPage, corpus_dir, intl_corpus_dir, load_pages
from tests.support.kind_edits import labelled_variants


def _version(article) -> dict:
    return {**asdict(article)}


def evaluate_page(page: CorpusPage) -> tuple[list, list[tuple[float, float]]]:
    """(page, edit, expected, dont_care, found) per edit, found {"-"} when the edit made no
    version; and the (diff, kinds and score) seconds of each diff."""
    original = extract_article(page.html, page.url)
    if original is None:
        return [], []
    old = _version(original)
    old_hash = content_hash(original.title, original.paragraphs, original.other_headlines)
    out = []
    times = []  # (diff, kinds and score) seconds per edit
    rng = random.Random(page.name)
    for labelled in labelled_variants(page.name, page.html, page.record, rng):
        edited = extract_article(labelled.html, page.url)
        if edited is None:
            continue
        if content_hash(edited.title, edited.paragraphs, edited.other_headlines) == old_hash:
            found = {"-"}
        else:
            new = _version(edited)
            started = time.perf_counter()
            diff = diff_versions(old, new)
            diffed = time.perf_counter()
            found = set(score_fields(diff, old, new)["kinds"])
            times.append((diffed - started, time.perf_counter() - diffed))
        out.append((page.name, labelled.edit, set(labelled.expected),
                    set(labelled.dont_care), found))  # fmt: skip
    return out, times


def table(results: list) -> str:
    counts = {kind: Counter() for kind in KINDS}
    unversioned = 0
    for _, _, expected, dont_care, found in results:
        if found == {"-"}:
            unversioned += 1
            continue
        for kind in KINDS:
            if kind in dont_care:
                continue
            key = ("tp" if kind in found else "fn") if kind in expected else (
                "fp" if kind in found else "tn")  # fmt: skip
            counts[kind][key] += 1
    lines = ["| kind | labelled | precision | recall |", "|---|---:|---:|---:|"]
    for kind, c in counts.items():
        positives = c["tp"] + c["fn"]
        found = c["tp"] + c["fp"]
        precision = f"{c['tp'] / found:.3f}" if found else "–"
        recall = f"{c['tp'] / positives:.3f}" if positives else "–"
        lines.append(f"| {kind} | {positives} | {precision} | {recall} |")
    versioned = len(results) - unversioned
    lines.append(f"\n{versioned} edited pages scored; {unversioned} edits made no version.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--timing", action="store_true")
    args = parser.parse_args(argv)
    for directory in args.corpus or [corpus_dir(), intl_corpus_dir()]:
        pages = load_pages(directory)[:: args.every]
        with Pool(args.workers) as pool:
            answers = pool.map(partial(evaluate_page), pages)
        results = [r for rows, _ in answers for r in rows]
        times = [t for _, ts in answers for t in ts]
        print(f"## {directory.name} ({len(pages)} pages)\n")
        print(table(results))
        if args.timing and times:
            diff_ms = statistics.median(d for d, _ in times) * 1000
            kinds_ms = statistics.median(k for _, k in times) * 1000
            print(f"\nmedian per diff: diff {diff_ms:.2f} ms, kinds and score {kinds_ms:.2f} ms")
        if args.misses:
            for name, edit, expected, dont_care, found in results:
                if found != {"-"} and (found ^ expected) - dont_care:
                    print(f"  {name} {edit}: expected {sorted(expected)} found {sorted(found)}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
