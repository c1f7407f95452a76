"""What keeping raw pages costs: bytes stored per version and per 1,000 articles after a
ten-check history, and the re-check slowdown, against the same checks without snapshots.

    python -m bench.snapshots [--limit 20] [--seed 0]

Each corpus page gets ten checks: the original, then noise around the article (share counts,
promos, timestamps: no version) on most checks and a real edit (a new version) at checks 3,
6 and 9, each edit on top of the last. Every check runs what the crawl runs after download
(extraction, normalization, hashing, change detection) on two embedded stores, one keeping
snapshots and one not, interleaved; times are medians per check. The source of an article
is its host, so a first page can be compressed against another page of the same publisher
(the corpus has two pages per publisher, fetched years apart: less alike than a day's).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from newscrawl.article import Article, Fetched
from newscrawl.extract import EXTRACTOR_VERSION, extract_article
from newscrawl.schedule import RevisitPolicy
from newscrawl.snapshots import RawPage, Snapshots, compress_page
from newscrawl.store import Store
from newscrawl.tracker import Tracker
from tests.support.corpus import load_pages
from tests.support.mutations import edit_variants, noise_variants

CHECKS = 10
EDITS_AT = (3, 6, 9)


def history(page, rng: random.Random) -> list[bytes] | None:
    """The ten pages served at the ten checks, or None if the page lacks the mutations."""
    html, record, served = page.html, page.record, [page.html]
    for check in range(1, CHECKS):
        if check in EDITS_AT:
            edits = edit_variants(html, record, rng)
            if not edits:
                return None
            _, html, title, paragraphs = rng.choice(edits)
            record = {**record, "title": title, "paragraphs": paragraphs}
            served.append(html)
        else:
            noise = noise_variants(html, record, rng)
            if not noise:
                return None
            served.append(rng.choice(noise)[1])
    return [h.encode("utf-8") for h in served]


def check(tracker: Tracker, snapshots: Snapshots | None, url: str, body: bytes, at: datetime):
    source = urlsplit(url).hostname or ""
    """One re-check after download, as the pipelines run it; returns its duration."""
    start = time.perf_counter()
    article = extract_article(body.decode("utf-8"), url)
    text = Article(article.title, article.paragraphs, extractor=EXTRACTOR_VERSION).normalized()
    page = Fetched(url=url, source=source, fetched_at=at, **asdict(text), **text.hashes())
    outcome = tracker.record(page)
    if snapshots is not None and outcome.version and snapshots.get(url, outcome.version) is None:
        raw = RawPage(body, url, at, content_type="text/html; charset=utf-8")
        snapshots.keep(url, source, outcome.version, raw)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="articles (corpus pages)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pages = load_pages()
    step = max(1, len(pages) // (args.limit * 2))
    histories = []
    for page in pages[::step]:
        if len(histories) == args.limit:
            break
        if extract_article(page.raw, page.url) is not None and (h := history(page, rng)):
            histories.append((page.url, h))
    with tempfile.TemporaryDirectory() as tmp:
        policy = RevisitPolicy()
        stores = {
            name: Store.from_settings({"NEWSCRAWL_DATA_DIR": str(Path(tmp) / name)})
            for name in ("with", "without")
        }
        trackers = {name: Tracker(store, policy) for name, store in stores.items()}
        snapshots = Snapshots(stores["with"])
        snapshots.ensure_indexes()
        times: dict[str, list[float]] = {"with": [], "without": []}
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        for n in range(CHECKS):
            for url, served in histories:
                at = t0 + timedelta(hours=n)
                for name in ("with", "without") if n % 2 else ("without", "with"):
                    keeper = snapshots if name == "with" else None
                    times[name].append(check(trackers[name], keeper, url, served[n], at))
        docs = list(snapshots.find())
        versions = stores["with"].versions.count_documents({})
        stored = sum(d["stored"] for d in docs)
        raw = sum(d["size"] for d in docs)
        alone = sum(len(compress_page(snapshots.body(d), None)) for d in docs)
        for store in stores.values():
            store.close()
    with_s, without_s = statistics.median(times["with"]), statistics.median(times["without"])
    print(f"{len(histories)} articles x {CHECKS} checks, {versions} versions, "
          f"{len(docs)} snapshots")  # fmt: skip
    print(
        f"bytes per version: raw {raw / len(docs):,.0f}, each page compressed alone "
        f"{alone / len(docs):,.0f}, stored (prefix-compressed) {stored / len(docs):,.0f}"
    )
    print(f"ratio raw/stored {raw / stored:.1f}, alone/stored {alone / stored:.1f}")
    per_1000 = 1000 / len(histories) / 1e6
    print(
        f"per 1,000 articles after {CHECKS} checks: {stored * per_1000:.1f} MB stored "
        f"(raw {raw * per_1000:.0f} MB)"
    )
    print(
        f"re-check median {without_s * 1000:.1f} ms without, {with_s * 1000:.1f} ms with "
        f"snapshots: slowdown x{with_s / without_s:.3f}"
    )


if __name__ == "__main__":
    main()
