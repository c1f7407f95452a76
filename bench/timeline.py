"""Crawl-based mutation timeline: the real spider, the real pipelines, the real store.

    python -m bench.timeline [--corpus DIR] [--subset] [--limit N] [--check] [--seed 0]
                             [--edit-rounds N]

Every corpus page is served by a loopback site (``tests.support.mockserver.Site``) under its
own path and listed in one RSS feed; ``scrapy crawl feeds`` (a subprocess, AutoThrottle off)
crawls all of them in every round, so one round costs one crawl whatever the number of pages.
Each page goes through the same timeline:

* round 0: the original page (version 1);
* noise rounds: each serves the *current* text with a different noise kind from
  ``tests.support.noise.NOISE_KINDS`` (blocks inserted, furniture reworded in place; rotated per
  page, so every kind is served across pages);
* edit rounds: one real edit (``tests.support.edits.EDITS``, rotated per page) applied on top of
  the edits before it (the article evolves; nothing is reverted), each followed by a noise
  round.

Most noise lasts one round, as furniture rewritten between checks does (a rendered time, a
rotated teaser); one noise round of every page (``LINGERING``) is served for two rounds in a
row, as slower furniture is (a teaser list that changes every hour while checks come every
30 minutes), so a tracker that waits for a second check to store a change
(``NEWSCRAWL_HOLD_CHANGES``) is measured on furniture that outlasts a check as well.

Every third page also rotates furniture *per request*, as pages with shuffled "most read"
lists, random teasers or ad slots do: in every round each request gets the round's page with
a fresh in-place rewording (one of ``tests.support.noise.REWORDED``, per page) on top, in turn from
``ROTATION`` variants, so two fetches in a row never get the same bytes.

Read back from the store after the last round, each version counted in the round its
``fetched_at`` falls in (a held change is stored a round later, at the time it was first
seen): a version of a noise round is a *phantom*; an edit round that has no version is
*missed*; a version that does not show the edit
(``tests.support.mutations.edit_captured`` on the stored title and paragraphs) is a *wrong capture*.
The stored version 1 hash is also compared with the offline ``extract_article`` +
``content_hash`` of the same bytes (``bench.accuracy`` measures offline: the crawl must not
add anything to the text). The naive baseline (``naive_hash``: trafilatura's text and
SHA-256) is scored on the same served bytes, as a tracker storing a version on every new
hash would.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import trafilatura

from newscrawl.extract import extract_article
from newscrawl.normalize import content_hash
from newscrawl.store import Store, as_utc
from newscrawl.urls import canonical_url
from tests.support.corpus import CorpusPage, corpus_dir, load_pages
from tests.support.edits import EDITS
from tests.support.mockserver import Page, Site, rss
from tests.support.mutations import edit_captured
from tests.support.noise import NOISE_KINDS, REWORDED, noise_variant

REPO = Path(__file__).resolve().parents[1]
PHANTOM_MAX = 0.01
RECALL_MIN = 0.99
SUBSET_SIZE = 15
# With the noise round after each of the 5 edits: 12 noise fetches and 5 edits a page, the
# kinds rotated over pages so that every kind is served.
NOISE_ROUNDS = 7
EDIT_ROUNDS = 5
ROTATING_EVERY = 3  # every third page rotates furniture per request
ROTATION = 3  # variants served in turn
LINGERING = 2  # this noise round of every page is served again in the next round
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
    record: dict[str, Any] | None = None  # the article as served
    served: list[str] = field(default_factory=list)  # per request in turn (rotating pages)

    @property
    def first(self) -> str:
        """The bytes the round's first request gets."""
        return self.served[0] if self.served else self.html


@dataclass
class PageTimeline:
    page: CorpusPage
    path: str
    steps: list[Step | None] = field(default_factory=list)  # None: serve the same bytes again


def build_timeline(
    page: CorpusPage, index: int, noise_rounds: int, seed: int, edit_rounds: int = EDIT_ROUNDS
) -> PageTimeline:
    """Original, ``noise_rounds`` noise rounds, then ``edit_rounds`` edits (this page's turn
    in the rotation of kinds), each followed by a noise round."""
    rng = random.Random(f"{seed}:timeline:{page.name}")
    timeline = PageTimeline(page, f"/news/{index:03d}/article.html")
    html, record = page.html, page.record
    timeline.steps.append(Step("original", html, record=record))

    def noise(round_number: int) -> Step | None:
        """The next applicable noise kind in this page's rotation (one variant, not all)."""
        for offset in range(len(NOISE_KINDS)):
            kind = NOISE_KINDS[(index * 7 + round_number + offset) % len(NOISE_KINDS)]
            variant = noise_variant(html, record, kind, rng)
            if variant is not None:
                return Step(f"noise:{kind}", variant, record=record)
        return None

    for number in range(noise_rounds):
        step = noise(number)
        timeline.steps.append(step)
        if number == LINGERING and step is not None:
            timeline.steps.append(Step(step.kind, step.html, record=step.record))
    start = index * edit_rounds % len(EDITS)
    makes = [EDITS[(start + i) % len(EDITS)] for i in range(min(edit_rounds, len(EDITS)))]
    for number, make in enumerate(makes):
        variant = make(html, record, rng)
        if variant is None:
            timeline.steps += [None, None]
            continue
        kind, edited, title, paragraphs = variant
        expected = {**record, "title": title, "paragraphs": paragraphs}
        timeline.steps.append(Step(f"edit:{kind}", edited, record, expected, expected))
        html, record = edited, expected
        timeline.steps.append(noise(noise_rounds + number))
    if index % ROTATING_EVERY == ROTATING_EVERY - 1:
        _rotate(timeline, index, rng)
    return timeline


def _rotate(timeline: PageTimeline, index: int, rng: random.Random) -> None:
    """Every step served as ``ROTATION`` variants, each with a fresh rewording of the first
    ``REWORDED`` kind (in this page's turn) that applies to the page."""
    page = timeline.page
    kinds = list(REWORDED)
    for offset in range(len(kinds)):
        kind = kinds[(index + offset) % len(kinds)]
        if noise_variant(page.html, page.record, kind, random.Random(0)) is not None:
            break
    else:
        return
    for step in timeline.steps:
        if step is not None:
            step.served = [
                noise_variant(step.html, step.record, kind, rng) or step.html
                for _ in range(ROTATION)
            ]


@dataclass(frozen=True)
class Event:
    """One scored fetch of one page: did our tracker, and the naive one, store a version?"""

    page: str
    label: str
    kind: str  # "noise:<name>" or "edit:<name>"
    version: bool
    wrong: bool = False  # an edit's version without the edited text
    naive_version: bool = False
    rotating: bool = False  # the page rotates furniture per request


@dataclass
class TimelineResult:
    pages: int = 0
    rounds: int = 0
    crawl_seconds: float = 0.0
    events: list[Event] = field(default_factory=list)
    not_fetched: list[str] = field(default_factory=list)
    offline_agree: int = 0
    names: frozenset[str] = frozenset()

    def select(self, names: set[str]) -> TimelineResult:
        """The same run restricted to the pages named."""
        return TimelineResult(
            pages=len(self.names & names),
            rounds=self.rounds,
            crawl_seconds=self.crawl_seconds,
            events=[e for e in self.events if e.page in names],
            not_fetched=[label for label in self.not_fetched if label.split("#")[0] in names],
            offline_agree=self.offline_agree,
            names=self.names & frozenset(names),
        )

    def _noise(self) -> list[Event]:
        return [e for e in self.events if e.kind.startswith("noise:")]

    def _edits(self) -> list[Event]:
        return [e for e in self.events if e.kind.startswith("edit:")]

    @property
    def noise(self) -> int:
        return len(self._noise())

    @property
    def edits(self) -> int:
        return len(self._edits())

    @property
    def phantoms(self) -> list[str]:
        return [e.label for e in self._noise() if e.version]

    @property
    def missed(self) -> list[str]:
        return [e.label for e in self._edits() if not e.version]

    @property
    def wrong(self) -> list[str]:
        return [e.label for e in self._edits() if e.wrong]

    @property
    def naive_phantoms(self) -> list[str]:
        return [e.label for e in self._noise() if e.naive_version]

    @property
    def naive_missed(self) -> list[str]:
        return [e.label for e in self._edits() if not e.naive_version]

    @property
    def phantom_rate(self) -> float:
        return len(self.phantoms) / max(self.noise, 1)

    @property
    def recall(self) -> float:
        return (self.edits - len(self.missed)) / max(self.edits, 1)

    def summary(self) -> str:
        naive_phantoms = len(self.naive_phantoms) / max(self.noise, 1)
        naive_recall = (self.edits - len(self.naive_missed)) / max(self.edits, 1)
        return (
            f"crawl timeline: {self.pages} pages, {self.rounds} crawls in "
            f"{self.crawl_seconds:.0f} s; noise fetches {self.noise}: phantom rate "
            f"{self.phantom_rate:.2%} ({len(self.phantoms)}; naive {naive_phantoms:.2%}); "
            f"edits {self.edits}: exactly one version {self.recall:.2%} ({len(self.missed)} "
            f"missed; naive {naive_recall:.2%}), wrong captures {len(self.wrong)}; "
            f"stored v1 hash = offline hash on {self.offline_agree}/{len(self.names)} pages; "
            f"{self.rotating_summary()}"
        )

    def rotating_summary(self) -> str:
        """The same figures on the pages rotating furniture per request alone."""
        noise = [e for e in self._noise() if e.rotating]
        edits = [e for e in self._edits() if e.rotating]
        phantoms = sum(e.version for e in noise)
        naive = sum(e.naive_version for e in noise)
        kept = sum(e.version for e in edits)
        return (
            f"pages rotating per request: phantoms {phantoms}/{len(noise)} (naive {naive}), "
            f"edits making a version {kept}/{len(edits)}"
        )


def naive_hash(html: str, url: str) -> str:
    """The naive tracker's hash: SHA-256 of trafilatura's text alone."""
    text = trafilatura.extract(html, url=url, include_comments=False) or ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _naive_hashes(timelines: list[PageTimeline], workers: int) -> dict[tuple[str, int], str]:
    jobs = [
        ((t.path, n), step.first, t.page.url)
        for t in timelines
        for n, step in enumerate(t.steps)
        if step is not None
    ]
    with Pool(workers) as pool:
        hashes = pool.starmap(naive_hash, [(html, url) for _, html, url in jobs], chunksize=4)
    return {key: digest for (key, _, _), digest in zip(jobs, hashes, strict=True)}


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


def _sources_toml(site: Site, timelines: list[PageTimeline]) -> str:
    """One source per publisher with its own feed, as a deployment would configure them, so
    that whatever the crawl learns per source is learned per publisher."""
    blocks = []
    for publisher in sorted({t.page.publisher for t in timelines}):
        feed = site.url(f"/feeds/{_slug(publisher)}.xml")
        blocks.append(
            f'[[source]]\nname = "{_slug(publisher)}"\nfeeds = ["{feed}"]\n'
            'domains = ["127.0.0.1"]\n'
        )
    return "\n".join(blocks)


def _slug(publisher: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in publisher)


def run_timeline(
    pages: list[CorpusPage],
    noise_rounds: int = NOISE_ROUNDS,
    seed: int = 0,
    verbose: bool = False,
    edit_rounds: int = EDIT_ROUNDS,
    workers: int = 2,
    settings: dict[str, str] | None = None,
) -> TimelineResult:
    """``settings``: extra environment for the crawls (``NEWSCRAWL_*`` overrides)."""
    timelines = [
        build_timeline(page, i, noise_rounds, seed, edit_rounds) for i, page in enumerate(pages)
    ]
    naive = _naive_hashes(timelines, workers)
    rounds = max(len(t.steps) for t in timelines)
    result = TimelineResult(pages=len(pages), rounds=rounds, names=frozenset(p.name for p in pages))
    site = Site().start()
    try:
        with tempfile.TemporaryDirectory(prefix="newscrawl-timeline-") as directory:
            sources = Path(directory) / "sources.toml"
            sources.write_text(_sources_toml(site, timelines))
            env = {
                "NEWSCRAWL_DATA_DIR": str(Path(directory) / "data"),
                "MONGO_DATABASE": f"newscrawl_timeline_{uuid.uuid4().hex[:12]}",
                "MONGO_URI": "",
                "NEWSCRAWL_SOURCES": str(sources),
                "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
                **(settings or {}),
            }
            urls = {t.path: canonical_url(site.url(t.path)) for t in timelines}
            for publisher in {t.page.publisher for t in timelines}:
                listed = [site.url(t.path) for t in timelines if t.page.publisher == publisher]
                site.put(f"/feeds/{_slug(publisher)}.xml", rss(publisher, listed))
            naive_last: dict[str, str] = {}
            windows: list[tuple[datetime, datetime]] = []
            scored: list[tuple[int, PageTimeline, Step, str, bool]] = []
            for number in range(rounds):
                served = {}
                for t in timelines:
                    step = t.steps[number] if number < len(t.steps) else None
                    if step is not None and step.served:
                        bodies = [Page(b.encode("utf-8"), conditional=False) for b in step.served]
                        site.put_rotating(t.path, bodies)
                    elif step is not None:
                        site.put(t.path, step.html)
                    if step is not None:
                        served[t.path] = step
                before = len(site.log)
                started = datetime.now(UTC)
                result.crawl_seconds += _crawl(env, first=number == 0)
                windows.append((started, datetime.now(UTC)))
                fetched = {r.path for r in site.log[before:] if r.status in (200, 304)}
                for t in timelines:
                    step = served.get(t.path)
                    if step is None:
                        continue
                    label = f"{t.page.name}#{number}:{step.kind}"
                    digest = naive[(t.path, number)]
                    naive_version = naive_last.get(t.path) != digest
                    naive_last[t.path] = digest
                    if t.path not in fetched:
                        result.not_fetched.append(label)
                        continue
                    scored.append((number, t, step, label, naive_version))
                if verbose:
                    print(f"round {number + 1}/{rounds} crawled", flush=True)
            store = Store.from_settings(env)
            try:
                histories = {t.path: store.history(urls[t.path]) for t in timelines}
            finally:
                store.close()
            for number, t, step, label, naive_version in scored:
                history = histories[t.path]
                made = [v for v in history if _round_of(v["fetched_at"], windows) == number]
                _score(result, t, step, label, made, history, naive_version)
    finally:
        site.stop()
    return result


def _round_of(fetched_at: datetime | str, windows: list[tuple[datetime, datetime]]) -> int:
    """The round whose crawl a version's first sight falls in."""
    at = as_utc(fetched_at)
    return next((n for n, (start, end) in enumerate(windows) if start <= at <= end), -1)


def _score(
    result: TimelineResult,
    timeline: PageTimeline,
    step: Step,
    label: str,
    made: list[dict[str, Any]],
    history: list[dict[str, Any]],
    naive_version: bool,
) -> None:
    """``made``: the versions first seen in this round."""
    name, rotating = timeline.page.name, bool(step.served)
    created = len(made)
    if step.kind == "original":
        article = extract_article(step.first.encode("utf-8"), timeline.page.url)
        offline = content_hash(*article.text()) if article else None
        result.offline_agree += bool(history) and history[0]["content_hash"] == offline
    elif step.kind.startswith("noise:"):
        result.events.append(
            Event(name, label, step.kind, bool(created), False, naive_version, rotating)
        )
    else:
        assert step.before is not None and step.expected is not None
        wrong = bool(created) and not edit_captured(
            [made[-1]["title"], *made[-1].get("other_headlines", [])],
            made[-1]["paragraphs"],
            step.before,
            step.expected["title"],
            step.expected["paragraphs"],
        )
        result.events.append(
            Event(name, label, step.kind, bool(created), wrong, naive_version, rotating)
        )


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
        result.phantom_rate > PHANTOM_MAX
        or result.recall < RECALL_MIN
        or result.wrong
        or result.not_fetched
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="corpus directory")
    parser.add_argument("--subset", action="store_true", help=f"{SUBSET_SIZE} spread pages")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--noise-rounds", type=int, default=NOISE_ROUNDS)
    parser.add_argument("--edit-rounds", type=int, default=EDIT_ROUNDS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed", type=int, default=0, help="mutation seed")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    pages = load_pages(args.corpus or corpus_dir())[: args.limit]
    if args.subset:
        pages = subset(pages)
    result = run_timeline(
        pages, args.noise_rounds, args.seed, verbose=args.verbose, edit_rounds=args.edit_rounds
    )
    report(result)
    return 1 if args.check and failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
