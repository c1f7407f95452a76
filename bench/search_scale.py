"""Time the viewer's search on a large embedded store: indexed search words against the
per-word regular expressions it replaced (same store, same run), plus the one-off costs.

Fills a store directly through the store API with synthetic articles (headlines drawn from
the corpus vocabulary with its word frequencies, addresses made from them), then times each
query kind, median of RUNS. Run with ``python -m bench.search_scale [ARTICLES]``
(default 100,000; about four minutes).
"""

from __future__ import annotations

import glob
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING

from newscrawl import queries
from newscrawl.search import FIELD, search_words, tokens
from newscrawl.store import Store, open_database

CORPUS = "/work/shared/corpus/*/*.json"
RUNS = 5
BASELINE_RUNS = 1  # the old query takes seconds at 100,000 articles


def vocabulary() -> tuple[list[str], list[int]]:
    counts: Counter[str] = Counter()
    for path in sorted(glob.glob(CORPUS)):
        with open(path, encoding="utf-8") as f:
            page = json.load(f)
        for text in [page["title"], *page["paragraphs"]]:
            counts.update(re.findall(r"[A-Za-z][A-Za-z'-]+", text))
    words = [w for w, _ in counts.most_common()]
    return words, [counts[w] for w in words]


def articles(count: int, rng: random.Random) -> list[dict[str, Any]]:
    words, weights = vocabulary()
    hosts = [f"www.news{n}.example" for n in range(40)]
    sections = ["news", "world", "politics", "business", "sport", "culture", "science"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    docs = []
    for n in range(count):
        title = " ".join(rng.choices(words, weights, k=rng.randint(6, 14))).capitalize()
        slug = "-".join(title.lower().split()[:8])
        url = f"https://{rng.choice(hosts)}/{rng.choice(sections)}/2024/{slug}-{n}"
        when = start + timedelta(minutes=n)
        docs.append({
            "_id": url, "url": url, "source": url.split("/")[2], "title": title,
            FIELD: search_words(url, title), "status": "active", "versions": 1,
            "first_seen": when, "last_changed": when, "last_checked": when,
        })  # fmt: skip
    return docs


def old_search(store: Store, query: str, page: int = 1, per_page: int = 30) -> list[Any]:
    """The search before search words (the viewer's code until this change)."""
    words = query.split()

    def contains(text: str) -> dict[str, str]:
        return {"$regex": re.escape(text), "$options": "i"}

    alternatives = [{"_id": contains(query.strip())},
                    {"$and": [{"title": contains(w)} for w in words]}]  # fmt: skip
    found = {"$or": alternatives}
    store.articles.count_documents(found)
    cursor = (
        store.articles.find(found)
        .sort([("last_changed", DESCENDING), ("_id", ASCENDING)])
        .skip((page - 1) * per_page)
        .limit(per_page)
    )
    return list(cursor)


def median_ms(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(count: int) -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as directory:
        settings = {"NEWSCRAWL_DATA_DIR": directory, "MONGO_DATABASE": "bench"}
        store = Store.from_settings(settings)
        docs = articles(count, rng)
        start = time.perf_counter()
        for i in range(0, len(docs), 5000):
            store.articles.insert_many(docs[i : i + 5000])
        print(f"{count} articles stored in {time.perf_counter() - start:.1f} s")

        sample = docs[count // 3]
        title_words = sample["title"].split()
        common = Counter(w for d in docs[:2000] for w in d["title"].lower().split())
        kinds = {
            "two headline words": f"{title_words[-1]} {title_words[0]}",
            "four headline words": " ".join(title_words[:4]),
            "one common word": common.most_common(1)[0][0],
            "address part": "/" + "/".join(sample["_id"].split("/")[3:5]),
            "whole address": sample["_id"],
            "24 headline words": " ".join(rng.choices(title_words, k=24)),
        }
        store.close()
        store = Store(*open_database(settings))  # as the viewer opens it
        start = time.perf_counter()
        store.articles.find_one({FIELD: "x"})  # first query: litemongo builds its indexes
        print(f"first query after opening (index build): {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        queries.lacks_search_words(store)
        print(f"look for articles without search words: {time.perf_counter() - start:.2f} s")
        print(f"{'query':30} {'matches':>8} {'old ms':>9} {'new ms':>8} {'ratio':>7}")
        for kind, q in kinds.items():
            q = " ".join(tokens(q)[: queries.MAX_QUERY_WORDS]) if " " in q else q
            page = queries.search(store, q)
            old = median_ms(lambda q=q: old_search(store, q), BASELINE_RUNS)
            new = median_ms(lambda q=q: queries.search(store, q), RUNS)
            more = "+" if page.capped else ""
            print(f"{kind:30} {page.total:>7}{more:1} {old:9.0f} {new:8.1f} {old / new:6.0f}x")

        # The upgrade: articles stored before search words get them at the next store opening.
        subset = min(count, 5_000)
        store.articles.update_many({"_id": {"$in": [d["_id"] for d in docs[:subset]]}},
                                   {"$unset": {FIELD: ""}})  # fmt: skip
        start = time.perf_counter()
        filled = Store.from_settings(settings)
        print(f"backfill of {subset} articles at store opening: "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        assert filled.articles.count_documents({FIELD: {"$exists": False}}) == 0
        filled.close()
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
