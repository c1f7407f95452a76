"""Time each publisher's record (``/source``, ``/sources``) on a large embedded store: the
pages read the daily counters (``newscrawl.record``); the baseline is the same figures
computed from the articles, diffs and events (``record.tally``, which a store written before
the counters also runs once, at its opening). Also the counters' cost per stored diff.

Fills a store directly through the store API: ARTICLES articles of 40 sources first seen
over 90 days, about a third edited 1-5 times (first-sight-to-edit times log-normal, median
about three hours), 1% removed. Run with ``python -m bench.record_scale [ARTICLES]``
(default 100,000); ``--keep DIR`` fills DIR instead of a temporary directory and keeps it,
to look at the pages (``MONGO_DATABASE=bench NEWSCRAWL_DATA_DIR=DIR scrapy serve``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.search_scale import median_ms
from newscrawl import kinds as k
from newscrawl import record
from newscrawl.store import Store, open_database
from newscrawl.web.app import create_app

RUNS = 5
SOURCES = 40
PERIOD_DAYS = 90
_DIFF_ROWS = [{"op": "replace", "segments": [["=", "The council said on Tuesday "],
              ["-", "twelve"], ["+", "fourteen"], ["=", " people had been hurt."]]}]  # fmt: skip


def history(count: int, rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    now = datetime.now(UTC).replace(microsecond=0)
    articles, diffs, removed = [], [], []
    for n in range(count):
        source = f"Source {n % SOURCES:02d}"
        url = f"https://news{n % SOURCES}.example/2026/story-{n}"
        seen = now - timedelta(seconds=rng.uniform(0, PERIOD_DAYS * 86400))
        edits = 0
        if rng.random() < 0.33:
            edits = min(5, int(rng.expovariate(0.8)) + 1)
        at = seen
        for version in range(2, edits + 2):
            at = min(now, at + timedelta(seconds=rng.lognormvariate(9.3, 1.5)))
            found = {kind for kind in k.KINDS[1:-1] if rng.random() < 0.15}
            if not found & {k.NOTICE}:
                found.add(k.SILENT)
            diffs.append({
                "url": url, "source": source, "version": version, "from_version": version - 1,
                "fetched_at": at, "headline_changed": rng.random() < 0.2,
                "kinds": [kind for kind in k.KINDS if kind in found], "minor": False,
                "words_added": 3, "words_removed": 2, "paragraphs": _DIFF_ROWS,
            })  # fmt: skip
        articles.append({
            "_id": url, "url": url, "source": source, "title": f"Story {n} of the day",
            "status": "active", "versions": edits + 1, "first_seen": seen,
            "last_changed": at, "last_checked": at,
        })  # fmt: skip
        if rng.random() < 0.01:
            gone = min(now, at + timedelta(days=1))
            removed.append({"url": url, "kind": "removed", "source": source, "at": gone,
                            "reason": "http-404"})  # fmt: skip
    return articles, diffs, removed


def main(count: int, keep: str | None = None) -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as temporary:
        directory = keep or temporary
        settings = {"NEWSCRAWL_DATA_DIR": directory, "MONGO_DATABASE": "bench"}
        store = Store.from_settings(settings)
        articles, diffs, removed = history(count, rng)
        for collection, docs in ((store.articles, articles), (store.diffs, diffs),
                                 (store.events, removed)):  # fmt: skip
            for i in range(0, len(docs), 5000):
                collection.insert_many(docs[i : i + 5000])
        print(f"{len(articles)} articles, {len(diffs)} diffs, {len(removed)} removals stored")
        store.db[record.COLLECTION].delete_many({})  # as a store from before the counters
        start = time.perf_counter()
        record.rebuild(store.db)
        print(f"counters rebuilt from the history (once per store): "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        counters = store.db[record.COLLECTION].count_documents({})
        print(f"counter documents: {counters}")
        start = time.perf_counter()
        record.tally(store.db)
        print(f"baseline, figures from articles, diffs and events: "
              f"{(time.perf_counter() - start) * 1000:.0f} ms")  # fmt: skip

        # Write time: a diff's insert (baseline) and its counters, on the filled store.
        sample = rng.sample(articles, 200)
        inserts, counts = [], []
        for n, article in enumerate(sample):
            at = datetime.now(UTC)
            diff = {**diffs[n], "_id": None, "url": article["_id"], "source": article["source"],
                    "version": article["versions"] + 1, "fetched_at": at}  # fmt: skip
            del diff["_id"]
            start = time.perf_counter()
            store.diffs.insert_one(diff)
            middle = time.perf_counter()
            record.count_edit(store.db, diff)
            inserts.append(middle - start)
            counts.append(time.perf_counter() - middle)
        print(
            f"per stored diff: insert {statistics.median(inserts) * 1000:.2f} ms, "
            f"counters {statistics.median(counts) * 1000:.2f} ms (medians of 200)"
        )
        store.close()

        store = Store(*open_database(settings))  # as the viewer opens it
        client = create_app(settings, open_store=lambda: store).test_client()
        print(f"{'page':38} {'first ms':>9} {'median ms':>10}")
        for path in ("/sources.json?days=30", "/sources?days=30", "/sources.json?days=366",
                     "/source.json?name=Source+07&days=30", "/source?name=Source+07&days=90",
                     "/source.json?name=Source+07&days=366"):  # fmt: skip
            start = time.perf_counter()
            response = client.get(path)
            first = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            print(f"{path:38} {first:9.0f} {median_ms(lambda p=path: client.get(p), RUNS):10.1f}")
        data = client.get("/sources.json?days=30").get_json()
        print(f"last 30 days: {data['articles']} articles, {data['share_edited']:.0%} edited, "
              f"{data['edits_per_article']:.2f} edits per article, median to first edit "
              f"{data['time_to_first_edit']['median_words']}")  # fmt: skip
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="?", type=int, default=100_000)
    parser.add_argument("--keep", metavar="DIR", help="fill DIR and keep it")
    options = parser.parse_args()
    main(options.articles, options.keep)
