"""Body extraction accuracy by publisher fold, with trafilatura alone measured in the same run.

    python -m bench.extract_folds [--corpus DIR] [--intl DIR] [--repeat N] [--pages]

Three sets, held-out first: ``corpus-intl`` pages of the held-out publishers, ``corpus-intl``
pages of the other (tuned) publishers, and ``corpus`` (all of it was looked at while the
extractor's rules were written, so it counts as tuned). The split is by publisher, never by
page: publishers are sorted by the SHA-256 of their name and every third one, starting with
the first, is held out with all its pages. Extraction rules are written looking only at the
tuned pages; the held-out figure is the one that says whether a rule generalizes.

Per set: macro token precision, recall and F1 of ``extract_article`` and of
``trafilatura.extract`` alone, and the speed ratio: the median over pages of our time over
trafilatura's (each the best of ``--repeat`` runs, interleaved, in one process on one core).
``--pages`` lists per-page figures of the tuned sets only: held-out pages stay unseen.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from newscrawl.extract import extract_article
from tests.support.corpus import CorpusPage, corpus_dir, load_pages, token_f1

HOLD_OUT_EVERY = 3


def held_out_publishers(pages: list[CorpusPage]) -> set[str]:
    """Every third publisher in SHA-256 order of the name (the first one included)."""
    publishers = sorted(
        {page.record["publisher"] for page in pages},
        key=lambda name: hashlib.sha256(name.encode()).hexdigest(),
    )
    return set(publishers[::HOLD_OUT_EVERY])


def folds(intl: list[CorpusPage]) -> tuple[list[CorpusPage], list[CorpusPage]]:
    """(held-out pages, tuned pages) of a corpus split by publisher."""
    held = held_out_publishers(intl)
    return (
        [p for p in intl if p.record["publisher"] in held],
        [p for p in intl if p.record["publisher"] not in held],
    )


@dataclass
class Score:
    name: str
    ours: tuple[float, float, float]  # precision, recall, F1
    baseline: tuple[float, float, float]
    ratio: float  # our seconds over trafilatura's


def _trafilatura(page: CorpusPage) -> str:
    return trafilatura.extract(page.html, url=page.url, include_comments=False) or ""


def score_page(page: CorpusPage, repeat: int = 1) -> Score:
    expected = page.record["paragraphs"]
    ours_best = baseline_best = float("inf")
    for _ in range(repeat):  # interleaved, so that both see the same machine load
        start = time.perf_counter()
        article = extract_article(page.raw, page.url)
        middle = time.perf_counter()
        baseline = _trafilatura(page)
        end = time.perf_counter()
        ours_best, baseline_best = min(ours_best, middle - start), min(baseline_best, end - middle)
    return Score(
        page.name,
        token_f1(article.paragraphs if article else [], expected),
        token_f1([baseline], expected),
        ours_best / baseline_best,
    )


def _macro(scores: list[Score], which: str) -> tuple[float, float, float]:
    values = [getattr(s, which) for s in scores]
    return tuple(sum(v[i] for v in values) / len(values) for i in range(3))  # type: ignore[return-value]


def report_line(label: str, scores: list[Score]) -> str:
    p, r, f = _macro(scores, "ours")
    bp, br, bf = _macro(scores, "baseline")
    ratio = statistics.median(s.ratio for s in scores)
    return (
        f"{label:24} {len(scores):>5}  {f:.4f} {p:.4f} {r:.4f}   {bf:.4f} {bp:.4f} {br:.4f}"
        f"   {ratio:5.2f}x"
    )


HEADER = (
    f"{'set':24} {'pages':>5}  {'F1':6} {'P':6} {'R':6}   {'traf F1':6} {'P':6} {'R':6}"
    "   speed (median ours/traf)"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="the tuned corpus directory")
    parser.add_argument("--intl", type=Path, default=None, help="corpus-intl directory")
    parser.add_argument("--repeat", type=int, default=1, help="timing runs per page (best of)")
    parser.add_argument("--pages", action="store_true", help="per-page figures (tuned sets)")
    args = parser.parse_args(argv)

    corpus_path = args.corpus or corpus_dir()
    intl = load_pages(args.intl or corpus_path.parent / "corpus-intl")
    held_out, tuned = folds(intl)
    sets = [
        ("corpus-intl held-out", held_out, False),
        ("corpus-intl tuned", tuned, True),
        ("corpus (tuned)", load_pages(corpus_path), True),
    ]
    lines = [HEADER]
    for label, pages, show in sets:
        scores = [score_page(page, args.repeat) for page in pages]
        if args.pages and show:
            for s in sorted(scores, key=lambda s: s.ours[2]):
                print(
                    f"  {s.name:44} F1 {s.ours[2]:.3f} P {s.ours[0]:.3f} R {s.ours[1]:.3f}"
                    f"  traf {s.baseline[2]:.3f} P {s.baseline[0]:.3f} R {s.baseline[1]:.3f}"
                    f"  {s.ratio:4.2f}x"
                )
        lines.append(report_line(label, scores))
        print(lines[-1], flush=True)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
