"""Time ``diff_article`` on realistic articles against a difflib word-diff baseline.

Run with ``python -m bench.diff_speed``.
"""

from __future__ import annotations

import difflib
import glob
import json
import statistics
import time
from collections.abc import Callable

from newscrawl.diff import diff_article

CORPUS = "/work/shared/corpus/*/*.json"
RUNS = 30


def corpus_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(glob.glob(CORPUS)):
        with open(path, encoding="utf-8") as f:
            paragraphs.extend(p for p in json.load(f)["paragraphs"] if p.strip())
    return paragraphs


def article(paragraphs: list[str], words: int) -> list[str]:
    """Corpus paragraphs, cycled, until the article has ``words`` words."""
    out: list[str] = []
    count = 0
    while count < words:
        paragraph = paragraphs[len(out) % len(paragraphs)]
        out.append(paragraph)
        count += len(paragraph.split())
    return out


def edit(paragraphs: list[str]) -> list[str]:
    """A word change, a number change, a paragraph added and one removed."""
    new = list(paragraphs)
    n = len(new)
    words = new[n // 5].split()
    words[len(words) // 2] = "reportedly"
    new[n // 5] = " ".join(words)
    new[n // 2] = new[n // 2] + " The toll rose to 1,234 on Tuesday."
    new.insert(2 * n // 3, "Officials said on Tuesday that the investigation was continuing.")
    del new[4 * n // 5]
    return new


def difflib_words(old: list[str], new: list[str]) -> None:
    old_words = " ".join(old).split()
    new_words = " ".join(new).split()
    difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes()


def timings(func: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(RUNS):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    paragraphs = corpus_paragraphs()
    print(
        f"{'words':>7} {'diff median':>12} {'diff worst':>11} {'difflib median':>15} {'ratio':>6}"
    )
    for words in (2_000, 20_000):
        old = article(paragraphs, words)
        new = edit(old)
        ours = timings(lambda old=old, new=new: diff_article("Title", old, "Title", new))
        base = timings(lambda old=old, new=new: difflib_words(old, new))
        ours_median, base_median = statistics.median(ours), statistics.median(base)
        print(
            f"{words:>7} {ours_median:>9.2f} ms {max(ours):>8.2f} ms {base_median:>12.2f} ms"
            f" {ours_median / base_median:>6.2f}"
        )


if __name__ == "__main__":
    main()
