"""Extraction and change-detection accuracy on both corpora, tuned vs held-out publishers.

    python -m bench.accuracy [--corpus DIR ...] [--folds 5] [--holdout 0,1,...] [--limit N]
                             [--subset] [--workers 2] [--crawl] [--check] [--seed 0]
                             [--phantom-max 0.01] [--recall-min 0.99] [--wrong-max 0]
                             [--compare SETTING=VALUE] [--pages]

Pages are split by publisher (``CorpusPage.publisher``) into ``--folds`` folds
(``tests.support.corpus.fold``, a hash of the publisher's name: deterministic, no list). Every
rule in ``newscrawl`` was written against ``../shared/corpus``, so its pages are *tuned*; the
pages of ``../shared/corpus-intl`` are *held-out* when their fold is in ``--holdout`` (default:
all folds) and tuned otherwise: a rule writer looks at some folds and is scored on the others.
Held-out figures are reported first: they are the ones that count.

Per page: token F1 of our extraction and of trafilatura alone, title exact match, the speed
ratio of ``extract_article`` to ``trafilatura.extract`` (best of 2 each, same process),
then the offline mutation test on every noise kind (``tests.support.noise``: blocks inserted and
furniture reworded in place) and every edit kind (``tests.support.edits``, CMS-style ones included):
a noise variant whose content hash differs from the original's is a *phantom*; an edit
variant with an unchanged hash is *missed*; one whose extraction does not show the edit is a
*wrong capture*. The naive baseline, trafilatura's text + SHA-256, is scored on the same
variants in the same run. So are other change-detection rules (``RULES``: the furniture
rule of ``newscrawl.furniture``, anywhere and at the body's edges only), so that a rule is
kept only if it helps the held-out folds.

``--crawl`` adds the crawl timeline (``bench.timeline``) over the same pages, one source per
publisher; ``--compare SETTING=VALUE`` crawls them again with that setting changed (e.g.
``NEWSCRAWL_HOLD_CHANGES=false``: every new text stored at once; ``NEWSCRAWL_FURNITURE=false``:
no furniture rule), in the same run. ``--subset`` takes 15 pages spread evenly over each
corpus (a fixed rule, no names). ``--check`` exits 1 when, in any group (held-out, tuned), the
phantom rate (the crawl's when there is one, see ``Figures.pooled``) exceeds
``--phantom-max``, fewer than ``--recall-min`` of edits make exactly one version (offline and
crawled pooled), or wrong captures exceed ``--wrong-max``; and, on whole corpora only, when
macro F1 is under its target. CI runs ``python -m bench.accuracy --subset --crawl --check``.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import trafilatura

from bench import timeline
from newscrawl.extract import Article, extract_article
from newscrawl.furniture import furniture_only
from newscrawl.normalize import content_hash, normalize_for_hash
from tests.support.corpus import CorpusPage, corpus_dir, fold, intl_corpus_dir, load_pages, token_f1
from tests.support.edits import EDITS, edit_variants
from tests.support.mutations import edit_captured
from tests.support.noise import NOISE_KINDS, noise_variants

PHANTOM_MAX = 0.01
RECALL_MIN = 0.99
WRONG_MAX = 0
F1_MIN = {"corpus": 0.975, "corpus-intl": 0.97}
FOLDS = 5


@dataclass
class PageResult:
    name: str
    corpus: str
    publisher: str
    f1: float
    precision: float
    recall: float
    baseline_f1: float
    baseline_precision: float
    baseline_recall: float
    title_ok: bool
    speed_ratio: float  # extract_article time / trafilatura.extract time
    noise: list[str] = field(default_factory=list)
    phantoms: list[str] = field(default_factory=list)
    naive_phantoms: list[str] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    naive_missed: list[str] = field(default_factory=list)
    # Other change-detection rules on the same variants: rule -> phantom / missed / wrong kinds.
    rules: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # The extractions the rules read (``--cache``: rescored without extracting again): the
    # original, then (kind, variant, captured) per noise variant (captured None) and edit.
    original: Article | None = None
    variants: list[tuple[str, Article | None, bool | None]] = field(default_factory=list)


def _naive(html: str, url: str) -> str:
    text = trafilatura.extract(html, url=url, include_comments=False) or ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _best_of(runs: int, call: partial) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _rotated(kinds: tuple, index: int, count: int | None) -> tuple:
    """``count`` of ``kinds`` starting at the page's turn (all of them with None)."""
    if count is None or count >= len(kinds):
        return kinds
    return tuple(kinds[(index * count + i) % len(kinds)] for i in range(count))


def evaluate_page(
    item: tuple[int, str, CorpusPage],
    seed: int = 0,
    noise_per_page: int | None = None,
    edits_per_page: int | None = None,
) -> PageResult:
    index, corpus, page = item
    record, url = page.record, page.url
    article = extract_article(page.raw, url)
    ours = _best_of(2, partial(extract_article, page.raw, url))
    theirs = _best_of(2, partial(trafilatura.extract, page.html, url=url, include_comments=False))
    paragraphs = article.paragraphs if article else []
    precision, recall, f1 = token_f1(paragraphs, record["paragraphs"])
    baseline = trafilatura.extract(page.html, url=url, include_comments=False) or ""
    b_precision, b_recall, b_f1 = token_f1([baseline], record["paragraphs"])
    expected_title = normalize_for_hash(record["title"])
    title_ok = bool(article) and normalize_for_hash(article.title) == expected_title
    result = PageResult(
        page.name, corpus, page.publisher, f1, precision, recall, b_f1, b_precision, b_recall,
        title_ok, ours / max(theirs, 1e-9),
    )  # fmt: skip

    # Variants are text, so the page they are compared with is extracted from its text too.
    article = extract_article(page.html, url)
    original = _digest(article)
    naive_original = _naive(page.html, url)
    rng = random.Random(f"{seed}:{page.name}")
    result.original = article
    for name, html in noise_variants(
        page.html, record, rng, _rotated(NOISE_KINDS, index, noise_per_page)
    ):
        result.noise.append(name)
        variant = extract_article(html, url)
        result.variants.append((name, variant, None))
        if _digest(variant) != original:
            result.phantoms.append(name)
        if _naive(html, url) != naive_original:
            result.naive_phantoms.append(name)
    makes = _rotated(EDITS, index, edits_per_page)
    for name, html, title, expected in edit_variants(page.html, record, rng, makes):
        result.edits.append(name)
        variant = extract_article(html, url)
        got = variant.paragraphs if variant else []
        captured = edit_captured(variant.headlines() if variant else [], got, record, title,
                                 expected)  # fmt: skip
        result.variants.append((name, variant, captured))
        if _digest(variant) == original:
            result.missed.append(name)
        elif not captured:
            result.wrong.append(name)
        if _naive(html, url) == naive_original:
            result.naive_missed.append(name)
    return score_rules(result)


def score_rules(result: PageResult) -> PageResult:
    """Each of ``RULES`` on the page's extracted variants (``result.rules``)."""
    result.rules = {rule: {"phantom": [], "missed": [], "wrong": []} for rule in RULES}
    for name, variant, captured in result.variants:
        for rule, decide in RULES.items():
            version = decide(result.original, variant)
            if captured is None and version:
                result.rules[rule]["phantom"].append(name)
            elif captured is not None and not version:
                result.rules[rule]["missed"].append(name)
            elif captured is False:
                result.rules[rule]["wrong"].append(name)
    return result


def _digest(article: Article | None) -> str | None:
    return content_hash(*article.text()) if article else None


Rule = Callable[[Article | None, Article | None], bool]


def _furniture_rule(edges: int | None = None) -> Rule:
    """Version iff the hash changed and the change is not furniture only (``newscrawl.furniture``);
    ``edges``: only furniture within that many blocks of the body's start or end counts."""

    def decide(old: Article | None, new: Article | None) -> bool:
        if _digest(old) == _digest(new):
            return False
        if old is None or new is None:
            return True
        return not furniture_only(*old.text(), *new.text(), edges=edges)

    return decide


# Change-detection rules compared offline on the same variants (the crawl runs the tracker's).
RULES: dict[str, Rule] = {
    "furniture": _furniture_rule(),
    "furniture at edges": _furniture_rule(edges=2),
}
# The rule the tracker applies by default (NEWSCRAWL_FURNITURE): what --check scores offline.
TRACKER_RULE = "furniture"


# --- groups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """Where a page counts: its corpus, fold and whether that fold is held out."""

    corpus: str
    fold: int
    held_out: bool

    @property
    def group(self) -> str:
        return f"{'held-out' if self.held_out else 'tuned'}: {self.corpus}"


def assign(corpus: str, page: CorpusPage, folds: int, holdout: set[int]) -> Assignment:
    number = fold(page.publisher, folds)
    return Assignment(corpus, number, corpus != "corpus" and number in holdout)


@dataclass
class Figures:
    """One group's figures: offline and, with ``--crawl``, crawled."""

    label: str
    results: list[PageResult]
    crawl: timeline.TimelineResult | None = None
    plain: timeline.TimelineResult | None = None  # --compare: the crawl with a setting changed
    compared: str = ""  # that setting

    def pooled(self) -> tuple[int, int, int, int, int]:
        """(noise, phantoms, edits, missed, wrong), offline and crawled pooled; offline as the
        tracker decides by default (``TRACKER_RULE``), as the crawl does. With a crawl, the
        phantoms are the crawl's alone: an offline variant is one fetch, and whether its
        leaked furniture makes a version depends on the next check (``NEWSCRAWL_HOLD_CHANGES``),
        which only the crawl has."""
        r = self.results
        counts = [
            sum(len(x.noise) for x in r),
            sum(len(x.rules[TRACKER_RULE]["phantom"]) for x in r),
            sum(len(x.edits) for x in r),
            sum(len(x.rules[TRACKER_RULE]["missed"]) for x in r),
            sum(len(x.rules[TRACKER_RULE]["wrong"]) for x in r),
        ]
        if self.crawl is not None:
            c = self.crawl
            extra = [c.noise, len(c.phantoms), c.edits, len(c.missed), len(c.wrong)]
            counts = [a + b for a, b in zip(counts, extra, strict=True)]
            counts[:2] = extra[:2]
            if c.not_fetched:
                counts[1] = counts[0]  # a page the crawl did not fetch: the run proves nothing
        return counts[0], counts[1], counts[2], counts[3], counts[4]


def _mean(values: list[float]) -> float:
    return sum(values) / max(len(values), 1)


def _rate(part: int, whole: int) -> str:
    return f"{part / max(whole, 1):.2%} ({part}/{whole})"


def print_figures(groups: list[Figures]) -> None:
    """One block per group: extraction, offline and crawled change detection, vs naive."""
    for g in groups:
        r = g.results
        if not r:
            continue
        noise, edits = sum(len(x.noise) for x in r), sum(len(x.edits) for x in r)
        print(f"== {g.label}: {len(r)} pages, {len({x.publisher for x in r})} publishers")
        print(
            f"  token F1 {_mean([x.f1 for x in r]):.4f} (P {_mean([x.precision for x in r]):.3f}"
            f" R {_mean([x.recall for x in r]):.3f}); trafilatura "
            f"{_mean([x.baseline_f1 for x in r]):.4f} (P "
            f"{_mean([x.baseline_precision for x in r]):.3f} R "
            f"{_mean([x.baseline_recall for x in r]):.3f}); title exact "
            f"{_mean([x.title_ok for x in r]):.1%}; speed ratio to trafilatura (median) "
            f"{statistics.median(x.speed_ratio for x in r):.2f}"
        )
        print(
            f"  offline: phantoms {_rate(sum(len(x.phantoms) for x in r), noise)}, naive "
            f"{_rate(sum(len(x.naive_phantoms) for x in r), noise)}; edits making a version "
            f"{_rate(edits - sum(len(x.missed) for x in r), edits)}, naive "
            f"{_rate(edits - sum(len(x.naive_missed) for x in r), edits)}; wrong captures "
            f"{sum(len(x.wrong) for x in r)}"
        )
        for name, c in (("crawled", g.crawl), (f"crawled, {g.compared}", g.plain)):
            if c is None:
                continue
            print(
                f"  {name}: phantoms {_rate(len(c.phantoms), c.noise)}, naive "
                f"{_rate(len(c.naive_phantoms), c.noise)}; edits making exactly one version "
                f"{_rate(c.edits - len(c.missed), c.edits)}, naive "
                f"{_rate(c.edits - len(c.naive_missed), c.edits)}; wrong captures "
                f"{len(c.wrong)}; not fetched {len(c.not_fetched)}"
            )
            print(f"    of which {c.rotating_summary()}")


def print_rules(groups: list[Figures]) -> None:
    """Each offline rule's figures beside the plain hash's, per group (same variants)."""
    for g in groups:
        r = g.results
        if not r:
            continue
        noise, edits = sum(len(x.noise) for x in r), sum(len(x.edits) for x in r)
        cells = [
            f"hash: phantoms {_rate(sum(len(x.phantoms) for x in r), noise)}, versions "
            f"{_rate(edits - sum(len(x.missed) for x in r), edits)}, wrong "
            f"{sum(len(x.wrong) for x in r)}"
        ]
        for rule in RULES:
            phantoms = sum(len(x.rules[rule]["phantom"]) for x in r)
            missed = sum(len(x.rules[rule]["missed"]) for x in r)
            wrong = sum(len(x.rules[rule]["wrong"]) for x in r)
            cells.append(f"{rule}: phantoms {_rate(phantoms, noise)}, versions "
                         f"{_rate(edits - missed, edits)}, wrong {wrong}")  # fmt: skip
        print(f"  {g.label} offline rules: " + "; ".join(cells))


def print_kinds(groups: list[Figures]) -> None:
    """Phantoms and misses by mutation kind (offline + crawled), per group."""
    for g in groups:
        if not g.results:
            continue
        noise = Counter(k for x in g.results for k in x.noise)
        edits = Counter(k for x in g.results for k in x.edits)
        bad = Counter(f"phantom:{k}" for x in g.results for k in x.phantoms)
        bad += Counter(f"missed:{k}" for x in g.results for k in x.missed)
        bad += Counter(f"wrong:{k}" for x in g.results for k in x.wrong)
        if g.crawl is not None:
            bad += Counter(f"phantom:{k.split(':', 2)[2]}" for k in g.crawl.phantoms)
            bad += Counter(f"missed:{k.split(':', 2)[2]}" for k in g.crawl.missed)
            bad += Counter(f"wrong:{k.split(':', 2)[2]}" for k in g.crawl.wrong)
            noise += Counter(e.kind.split(":", 1)[1] for e in g.crawl.events
                             if e.kind.startswith("noise:"))  # fmt: skip
            edits += Counter(e.kind.split(":", 1)[1] for e in g.crawl.events
                             if e.kind.startswith("edit:"))  # fmt: skip
        cells = []
        for key, count in sorted(bad.items(), key=lambda kv: -kv[1]):
            what, kind = key.split(":", 1)
            total = noise[kind] if what == "phantom" else edits[kind]
            cells.append(f"{key} {count}/{total}")
        print(f"  {g.label} by kind: {', '.join(cells) or 'none'}")


def print_pages(results: list[PageResult], assignments: dict[str, Assignment]) -> None:
    """Every design (not held-out) page's issues; held-out pages stay unread, only scored."""
    for r in results:
        if assignments[r.name].held_out:
            continue
        issues = [f"phantom:{n}" for n in r.phantoms] + [f"missed:{n}" for n in r.missed]
        issues += [f"wrong:{n}" for n in r.wrong]
        print(f"{r.name:44} F1 {r.f1:.3f} traf {r.baseline_f1:.3f}  {' '.join(issues)}")


def subset(pages: list[CorpusPage], size: int = timeline.SUBSET_SIZE) -> list[CorpusPage]:
    return timeline.subset(pages, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append",
                        help="corpus dir (repeatable; default: both shared ones)")  # fmt: skip
    parser.add_argument("--folds", type=int, default=FOLDS, help="publisher folds")
    parser.add_argument("--holdout", default=None,
                        help="held-out folds of corpus-intl, e.g. 0,2 (default: all)")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages each")
    parser.add_argument("--subset", action="store_true", help="15 pages spread over each corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--crawl", action="store_true", help="also run the crawl timeline")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed", type=int, default=0, help="mutation seed")
    parser.add_argument(
        "--pages",
        action="store_true",
        help="print every design page's issues (held-out ones stay unread)",
    )
    parser.add_argument("--compare", metavar="SETTING=VALUE", default=None,
                        help="crawl again with a setting changed")  # fmt: skip
    parser.add_argument("--noise-per-page", type=int, default=None,
                        help="offline: N noise kinds a page, rotated (default: all)")  # fmt: skip
    parser.add_argument("--edits-per-page", type=int, default=None,
                        help="offline: N edit kinds a page, rotated (default: all)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=None,
                        help="offline extractions kept in this file: with it present, only "
                        "the rules are scored again (same variants, no extraction)")  # fmt: skip
    parser.add_argument("--phantom-max", type=float, default=PHANTOM_MAX)
    parser.add_argument("--recall-min", type=float, default=RECALL_MIN)
    parser.add_argument("--wrong-max", type=int, default=WRONG_MAX)
    args = parser.parse_args(argv)

    holdout = (
        set(range(args.folds))
        if args.holdout is None
        else {int(x) for x in args.holdout.split(",") if x.strip()}
    )
    directories = args.corpus or [corpus_dir(), intl_corpus_dir()]
    items: list[tuple[str, CorpusPage]] = []
    for directory in directories:
        name = "corpus" if directory.resolve() == corpus_dir().resolve() else directory.name
        pages = load_pages(directory)[: args.limit]
        items += [(name, page) for page in (subset(pages) if args.subset else pages)]
    assignments = {page.name: assign(c, page, args.folds, holdout) for c, page in items}
    numbered = [(i, c, page) for i, (c, page) in enumerate(items)]

    start = time.monotonic()
    if args.cache is not None and args.cache.exists():
        results = [score_rules(r) for r in pickle.loads(args.cache.read_bytes())]
        results = [r for r in results if r.name in assignments]
    else:
        with Pool(args.workers) as pool:
            evaluate = partial(evaluate_page, seed=args.seed,
                               noise_per_page=args.noise_per_page,
                               edits_per_page=args.edits_per_page)  # fmt: skip
            results = pool.map(evaluate, numbered, chunksize=1)
        if args.cache is not None:
            args.cache.write_bytes(pickle.dumps(results))
    print(f"offline: {len(results)} pages in {time.monotonic() - start:.0f} s")
    crawled = None
    if args.crawl:
        crawled = timeline.run_timeline([p for _, p in items], seed=args.seed,
                                        workers=args.workers)  # fmt: skip
        print(f"crawl: {crawled.rounds} crawls in {crawled.crawl_seconds:.0f} s")
    plain = None
    if args.crawl and args.compare:
        setting, _, value = args.compare.partition("=")
        plain = timeline.run_timeline([p for _, p in items], seed=args.seed, workers=args.workers,
                                      settings={setting: value})  # fmt: skip

    def figures(label: str, chosen: list[PageResult]) -> Figures:
        names = {r.name for r in chosen}
        return Figures(label, chosen, crawled.select(names) if crawled else None,
                       plain.select(names) if plain else None, args.compare or "")  # fmt: skip

    labels = sorted({a.group for a in assignments.values()}, key=lambda g: (g[0] != "h", g))
    groups = [figures(g, [r for r in results if assignments[r.name].group == g]) for g in labels]
    folds = [
        figures(f"fold {n} ({'held-out' if c != 'corpus' and n in holdout else 'tuned'}): {c}",
                [r for r in results if (assignments[r.name].fold, r.corpus) == (n, c)])
        for c in sorted({r.corpus for r in results}, key=lambda c: c == "corpus")
        for n in range(args.folds)
    ]  # fmt: skip
    if args.pages:
        print_pages(results, assignments)
    print()
    print_figures(groups)
    print_rules(groups)
    print_kinds(groups)
    print()
    print_figures(folds)

    failed = []
    for g in groups:
        noise, phantoms, edits, missed, wrong = g.pooled()
        recall = (edits - missed) / max(edits, 1)
        print(f"checked {g.label}: phantoms {_rate(phantoms, noise)} (max {args.phantom_max:.0%}), "
              f"exactly one version {_rate(edits - missed, edits)} (min {args.recall_min:.0%}), "
              f"wrong captures {wrong} (max {args.wrong_max})")  # fmt: skip
        if phantoms / max(noise, 1) > args.phantom_max:
            failed.append(f"{g.label}: phantoms")
        if recall < args.recall_min:
            failed.append(f"{g.label}: recall")
        if wrong > args.wrong_max:
            failed.append(f"{g.label}: wrong captures")
    if not args.subset and args.limit is None:  # F1 is a whole-corpus figure
        for corpus, floor in F1_MIN.items():
            scores = [r.f1 for r in results if r.corpus == corpus]
            if scores and _mean(scores) < floor:
                failed.append(f"{corpus}: F1 {_mean(scores):.4f} < {floor}")
    if failed:
        print(f"targets missed: {'; '.join(failed)}")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
