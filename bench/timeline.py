"""Crawl-based mutation timeline: the real spider, the real pipelines, the real store.

    python -m bench.timeline [--corpus DIR] [--subset] [--limit N] [--check] [--seed 0]

Every corpus page is served by a loopback site (``tests.mockserver.Site``) under its own path
and listed in one RSS feed; ``scrapy crawl feeds`` (a subprocess, AutoThrottle off) crawls all
of them in every round, so one round costs one crawl whatever the number of pages. Each page
goes through the same timeline:

* round 0: the original page (version 1);
* noise rounds: each serves the *current* text with a different noise variant from
  ``tests.mutations.noise_variants`` (rotated per page, so every kind is served);
* edit rounds: one real edit (``tests.mutations.edit_variants``) applied on top of the edits
  before it (the article evolves; nothing is reverted), each followed by a noise round.

Read back from the store: a version created in a noise round is a *phantom*; an edit round
that creates no version is *missed*; a version that does not show the edit
(``tests.mutations.edit_captured`` on the stored title and paragraphs) is a *wrong capture*.
The stored version 1 hash is also compared with the offline ``extract_article`` +
``content_hash`` of the same bytes (``bench.accuracy`` measures offline: the crawl must not
add anything to the text).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newscrawl.extract import extract_article
from newscrawl.normalize import content_hash
from newscrawl.store import Store
from newscrawl.urls import canonical_url
from tests.corpus import CorpusPage, corpus_dir, load_pages
from tests.mockserver import Site, rss
from tests.mutations import (
    _EDITS,
    _NOISE,
    _article_paragraphs,
    _container,
    _parse,
    _serialize,
    edit_captured,
)

REPO = Path(__file__).resolve().parents[1]
PHANTOM_MAX = 0.01
RECALL_MIN = 0.99
SUBSET_SIZE = 15
# With the noise round after each of the 5 edits: 12 noise fetches a page, every kind once.
NOISE_ROUNDS = 7
EDIT_KINDS = tuple(make.__name__.lstrip("_") for make in _EDITS)  # word_changed, ...
NOISE_KINDS = tuple(_NOISE)
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "INFO",
}


def subset(pages: list[CorpusPage], size: int = SUBSET_SIZE) -> list[CorpusPage]:
    """``size`` pages evenly spread over the corpus sorted by name (a fixed rule, no names)."""
    if len(pages) <= size:
        return list(pages)
    return [pages[round(i * (len(pages) - 1) / (size - 1))] for i in range(size)]


@dataclass
class Step:
    """What one page serves in one round; ``expected`` is set for edits."""

    kind: str  # "original", "noise:<name>", "edit:<name>"
    html: str
    before: dict[str, Any] | None = None  # the record the edit was applied to
    expected: dict[str, Any] | None = None  # title and paragraphs after the edit


@dataclass
class PageTimeline:
    page: CorpusPage
    path: str
    steps: list[Step | None] = field(default_factory=list)  # None: serve the same bytes again


def build_timeline(page: CorpusPage, index: int, noise_rounds: int, seed: int) -> PageTimeline:
    """Original, ``noise_rounds`` noise rounds, then each edit kind followed by a noise round."""
    rng = random.Random(f"{seed}:timeline:{page.name}")
    timeline = PageTimeline(page, f"/news/{index:03d}/article.html")
    html, record = page.html, page.record
    timeline.steps.append(Step("original", html))

    def noise(round_number: int) -> Step | None:
        """The next applicable noise kind in this page's rotation (one variant, not all)."""
        for offset in range(len(NOISE_KINDS)):
            kind = NOISE_KINDS[(index + round_number + offset) % len(NOISE_KINDS)]
            tree = _parse(html)
            paragraphs = _article_paragraphs(tree, record)
            container = _container(paragraphs)
            if container is not None and _NOISE[kind](tree, container, paragraphs, rng):
                return Step(f"noise:{kind}", _serialize(tree))
        return None

    for number in range(noise_rounds):
        timeline.steps.append(noise(number))
    start = index % len(_EDITS)
    for number, make in enumerate(_EDITS[start:] + _EDITS[:start]):
        variant = make(html, record, rng)
        if variant is None:
            timeline.steps += [None, None]
            continue
        kind, edited, title, paragraphs = variant
        expected = {**record, "title": title, "paragraphs": paragraphs}
        timeline.steps.append(Step(f"edit:{kind}", edited, record, expected))
        html, record = edited, expected
        timeline.steps.append(noise(noise_rounds + number))
    return timeline


@dataclass
class TimelineResult:
    pages: int = 0
    rounds: int = 0
    crawl_seconds: float = 0.0
    noise: int = 0
    phantoms: list[str] = field(default_factory=list)
    edits: int = 0
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    not_fetched: list[str] = field(default_factory=list)
    offline_agree: int = 0

    @property
    def phantom_rate(self) -> float:
        return len(self.phantoms) / max(self.noise, 1)

    @property
    def recall(self) -> float:
        return (self.edits - len(self.missed)) / max(self.edits, 1)

    def summary(self) -> str:
        return (
            f"crawl timeline: {self.pages} pages, {self.rounds} crawls in "
            f"{self.crawl_seconds:.0f} s; noise fetches {self.noise}: phantom rate "
            f"{self.phantom_rate:.2%} ({len(self.phantoms)}); edits {self.edits}: recall "
            f"{self.recall:.2%} ({len(self.missed)} missed), wrong captures {len(self.wrong)}; "
            f"stored v1 hash = offline hash on {self.offline_agree}/{self.pages} pages"
        )


def _crawl(env: dict[str, str], first: bool) -> float:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "feeds"]
    if not first:
        cmd += ["-a", "recheck=all"]
    for name, value in FAST.items():
        cmd += ["-s", f"{name}={value}"]
    start = time.monotonic()
    result = subprocess.run(
        cmd, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise RuntimeError(f"crawl failed ({result.returncode}):\n{result.stderr[-6000:]}")
    return time.monotonic() - start


def run_timeline(
    pages: list[CorpusPage], noise_rounds: int = NOISE_ROUNDS, seed: int = 0, verbose: bool = False
) -> TimelineResult:
    timelines = [build_timeline(page, i, noise_rounds, seed) for i, page in enumerate(pages)]
    rounds = max(len(t.steps) for t in timelines)
    result = TimelineResult(pages=len(pages), rounds=rounds)
    site = Site().start()
    try:
        with tempfile.TemporaryDirectory(prefix="newscrawl-timeline-") as directory:
            sources = Path(directory) / "sources.toml"
            sources.write_text(
                f'[[source]]\nname = "Timeline"\nfeeds = ["{site.url("/feed.xml")}"]\n'
                'domains = ["127.0.0.1"]\n'
            )
            env = {
                "NEWSCRAWL_DATA_DIR": str(Path(directory) / "data"),
                "MONGO_DATABASE": f"newscrawl_timeline_{uuid.uuid4().hex[:12]}",
                "MONGO_URI": "",
                "NEWSCRAWL_SOURCES": str(sources),
                "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
            }
            urls = {t.path: canonical_url(site.url(t.path)) for t in timelines}
            site.put("/feed.xml", rss("Timeline", [site.url(t.path) for t in timelines]))
            counts = {t.path: 0 for t in timelines}
            for number in range(rounds):
                served = {}
                for t in timelines:
                    step = t.steps[number] if number < len(t.steps) else None
                    if step is not None:
                        site.put(t.path, step.html)
                        served[t.path] = step
                before = len(site.log)
                result.crawl_seconds += _crawl(env, first=number == 0)
                fetched = {r.path for r in site.log[before:] if r.status == 200}
                store = Store.from_settings(env)
                try:
                    for t in timelines:
                        step = served.get(t.path)
                        if step is None:
                            continue
                        label = f"{t.page.name}#{number}:{step.kind}"
                        if t.path not in fetched:
                            result.not_fetched.append(label)
                            continue
                        history = store.history(urls[t.path])
                        created = len(history) - counts[t.path]
                        counts[t.path] = len(history)
                        _score(result, t, step, label, created, history)
                finally:
                    store.close()
                if verbose:
                    print(f"round {number + 1}/{rounds}: {result.summary()}", flush=True)
    finally:
        site.stop()
    return result


def _score(
    result: TimelineResult,
    timeline: PageTimeline,
    step: Step,
    label: str,
    created: int,
    history: list[dict[str, Any]],
) -> None:
    if step.kind == "original":
        article = extract_article(step.html.encode("utf-8"), timeline.page.url)
        offline = content_hash(*article.text()) if article else None
        result.offline_agree += bool(history) and history[0]["content_hash"] == offline
    elif step.kind.startswith("noise:"):
        result.noise += 1
        if created:
            result.phantoms.append(label)
    else:
        assert step.before is not None and step.expected is not None
        result.edits += 1
        if not created:
            result.missed.append(label)
        elif not edit_captured(
            [history[-1]["title"], *history[-1].get("other_headlines", [])],
            history[-1]["paragraphs"],
            step.before,
            step.expected["title"],
            step.expected["paragraphs"],
        ):
            result.wrong.append(label)


def report(result: TimelineResult) -> None:
    for kind, labels in (
        ("phantom", result.phantoms),
        ("missed", result.missed),
        ("wrong", result.wrong),
        ("not fetched", result.not_fetched),
    ):
        for label in labels:
            print(f"  {kind}: {label}")
    print(result.summary())


def failed(result: TimelineResult) -> bool:
    return bool(
        result.phantom_rate > PHANTOM_MAX or result.recall < RECALL_MIN or result.not_fetched
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="corpus directory")
    parser.add_argument("--subset", action="store_true", help=f"{SUBSET_SIZE} spread pages")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--noise-rounds", type=int, default=NOISE_ROUNDS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed", type=int, default=0, help="mutation seed")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    pages = load_pages(args.corpus or corpus_dir())[: args.limit]
    if args.subset:
        pages = subset(pages)
    result = run_timeline(pages, args.noise_rounds, args.seed, verbose=args.verbose)
    report(result)
    return 1 if args.check and failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
