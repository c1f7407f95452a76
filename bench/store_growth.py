"""Cost of the crawler's and the viewer's store operations as the store grows.

    python -m bench.store_growth [--sizes 1000,10000,100000] [--versions 10] [--runs 5]
                                 [--wire]

A template is made the way a crawl makes it: every corpus page goes through
``extract_article``, the tracker and the snapshots as version 1, then as ``--versions - 1``
real edits (``tests.support.mutations``), one hour apart. The store is then filled to each size by
copying the template's documents (articles, versions, diffs, raw pages, events) under new
addresses (``https://host/c<k>/...``) with ``insert_many``: documents shaped exactly like the
crawl's, without extracting them again. The first ``DUE_COPIES`` copies are due (due
minutes ago), the others scheduled in the hours ahead, as in a store a cron'd crawl keeps:
a run finds the same few hundred due articles at every size. At each size, medians of
``--runs`` timings of:

* ``open``: ``Store.from_settings`` + ``Snapshots.from_settings`` in a new client, as every
  crawl starts (index checks, search-word backfill; on the embedded store the first query of
  a collection also loads its in-process indexes, so ``claim`` follows ``open`` cold);
* ``claim``: leasing 200 due articles and releasing them (``claim_articles``);
* ``re-check run``: a run's store side for 300 due, unchanged (304) articles, in a new
  client: open, lease 300, the tracker's write for each, release, close (their schedule
  is put back between runs, untimed);
* ``re-check``: the tracker's write for one unchanged (304) article;
* the viewer, through Flask's test client: ``/``, ``/article``, ``/diff``, ``/search``
  (two headline words), ``/changes.atom``, ``/article.atom``;
* ``export``: ``scrapy export``'s records, the first 300 articles;
* disk: bytes on disk per stored version (all collections).

``--wire`` runs the same against nx-27017 (the MongoDB wire protocol on loopback). With
``--explain``, each query's plan from ``explain()`` is printed where the store supports it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from newscrawl import recent
from newscrawl.due import schedule_fields
from newscrawl.extract import EXTRACTOR_VERSION, extract_article
from newscrawl.normalize import clean_text, content_hash, loose_hash
from newscrawl.queries import search_filter
from newscrawl.schedule import RevisitPolicy
from newscrawl.search import FIELD, search_words
from newscrawl.snapshots import RawPage, Snapshots
from newscrawl.store import Store, utcnow
from newscrawl.tracker import FLIP_FLOP, REBASELINE, Fetched, Tracker
from tests.support.corpus import load_pages
from tests.support.mockserver import free_port
from tests.support.mutations import edit_variants

DATABASE = "growth"
COLLECTIONS = ("articles", "versions", "diffs", "pages", "page_chunks", "events")
BATCH = 2000
DUE_COPIES = 8  # copies of the template due at every size (8 x 53 corpus articles)


def settings_for(data_dir: Path, uri: str = "") -> Settings:
    settings = Settings()
    settings.setmodule("newscrawl.settings")
    settings.set("NEWSCRAWL_DATA_DIR", str(data_dir))
    settings.set("MONGO_URI", uri)
    settings.set("MONGO_DATABASE", DATABASE)
    settings.set("NEWSCRAWL_VIEWER_TIME_LIMIT", 600)  # measure, do not stop at 5 s
    return settings


# --- the template: what a crawl stores for the corpus pages ------------------------------------


def fetched(url: str, html: str, at: datetime) -> Fetched | None:
    """The page as the pipelines hand it to the tracker."""
    article = extract_article(html, url)
    if article is None:
        return None
    title = clean_text(article.title)
    paragraphs = [p for p in map(clean_text, article.paragraphs) if p]
    others = [h for h in map(clean_text, article.other_headlines) if h]
    return Fetched(
        url=url, source=url.split("/")[2], fetched_at=at, title=title, paragraphs=paragraphs,
        content_hash=content_hash(title, paragraphs, others),
        loose_hash=loose_hash(title, paragraphs, others), byline=article.byline,
        published=article.published, modified=article.modified, other_headlines=others,
        extractor=EXTRACTOR_VERSION, response_url=url,
    )  # fmt: skip


def make_template(settings: Settings, versions: int) -> dict[str, list[dict[str, Any]]]:
    """Every collection's documents after the corpus pages were tracked through ``versions``
    fetches each (the first, then one real edit per fetch)."""
    store = Store.from_settings(settings)
    tracker = Tracker(store, RevisitPolicy.from_settings(settings))
    snapshots = Snapshots.from_settings(store, settings)
    assert snapshots is not None
    start = utcnow() - timedelta(days=30)
    rng = random.Random(0)
    for page in load_pages():
        variants = [html for _, html, _, _ in edit_variants(page.html, page.record, rng)]
        for number in range(versions):
            html = (
                page.html if number == 0 or not variants else variants[(number - 1) % len(variants)]
            )
            at = start + timedelta(hours=number)
            item = fetched(page.url, html, at)
            if item is None:
                break
            outcome = tracker.record(item)
            stored = outcome.version and outcome.kind not in (FLIP_FLOP, REBASELINE)
            if stored and snapshots.get(item.url, outcome.version) is None:
                raw = RawPage(body=html.encode(), response_url=item.url, fetched_at=at)
                snapshots.keep(item.url, item.source, outcome.version, raw)
    template = {name: list(store.db[name].find({})) for name in COLLECTIONS}
    store.close()
    return template


# --- copies --------------------------------------------------------------------------------


def rewrite(value: Any, urls: dict[str, str]) -> Any:
    """``value`` with every string that is (or starts with "URL ") a template address moved."""
    if isinstance(value, str):
        head, space, tail = value.partition(" ")
        return urls[head] + space + tail if head in urls else value
    if isinstance(value, dict):
        return {key: rewrite(item, urls) for key, item in value.items() if key != "_id"} | (
            {"_id": rewrite(value["_id"], urls)}
            if "_id" in value and isinstance(value["_id"], str)
            else {}
        )
    if isinstance(value, list):
        return [rewrite(item, urls) for item in value]
    return value


def copy_of(
    template: dict[str, list[dict[str, Any]]], k: int, numbering: recent.Numbering
) -> dict[str, list[dict]]:
    """The template under addresses ``https://host/c<k>/path``, a minute later per copy, its
    diffs numbered on from ``numbering`` (``newscrawl.recent``)."""
    urls = {}
    for article in template["articles"]:
        scheme, _, rest = article["_id"].partition("://")
        host, _, path = rest.partition("/")
        urls[article["_id"]] = f"{scheme}://{host}/c{k}/{path}"
    shift = timedelta(minutes=k)
    out: dict[str, list[dict]] = {}
    for name, docs in template.items():
        copies = []
        for doc in docs:
            new = rewrite(doc, urls)
            for key in ("fetched_at", "first_seen", "last_changed", "last_checked", "next_check"):
                if isinstance(new.get(key), datetime):
                    new[key] = new[key] + shift
            if name == "articles":
                new[FIELD] = search_words(new["_id"], new.get("title") or "")
                ahead = -10 if k < DUE_COPIES else 60 + k  # minutes
                new.update(schedule_fields(utcnow() + timedelta(minutes=ahead - k % 10)))
            if name in ("diffs", "events"):
                for field in recent.FIELDS:
                    new.pop(field, None)
                new.update(numbering.fields(new, event=name == "events"))
            copies.append(new)
        out[name] = copies
    return out


def fill(store: Store, template: dict[str, list[dict]], first_copy: int, copies: int) -> None:
    pending: dict[str, list[dict]] = {name: [] for name in COLLECTIONS}
    numbering = recent.Numbering(recent.counts(store.db))
    for k in range(first_copy, first_copy + copies):
        for name, docs in copy_of(template, k, numbering).items():
            pending[name] += docs
            if len(pending[name]) >= BATCH:
                store.db[name].insert_many(pending[name], ordered=False)
                pending[name] = []
    for name, docs in pending.items():
        if docs:
            store.db[name].insert_many(docs, ordered=False)
    numbering.save(store.db)


# --- measuring ---------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(first, median of the rest) in milliseconds."""
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times[1:])


def measure(
    settings: Settings, runs: int, explain: bool, skip: set[str] = frozenset()
) -> dict[str, tuple[float, float]]:
    from newscrawl.commands.export import article_records
    from newscrawl.web import create_app

    out: dict[str, tuple[float, float]] = {}

    def open_store() -> None:
        store = Store.from_settings(settings)
        Snapshots.from_settings(store, settings)
        store.claim_articles(utcnow(), 1, 1)  # first query: loads the embedded indexes
        store.close()

    if "open + first claim" not in skip:
        out["open + first claim"] = timed(open_store, max(1, runs // 2))
    store = Store.from_settings(settings)
    sample = store.articles.find_one({}, sort=[("last_changed", -1)])
    url = sample["_id"]
    words = " ".join(sample["title"].split()[:2])

    def claim() -> None:
        token, _ = store.claim_articles(utcnow(), 200, 900)
        store.release_leases(token)

    if "claim 200 due" not in skip:
        out["claim 200 due"] = timed(claim, runs)
    if "re-check run of 300 due" not in skip:
        out["re-check run of 300 due"] = recheck_runs(settings, runs)
    tracker = Tracker(store, RevisitPolicy.from_settings(settings))
    unchanged = Fetched(url=url, source=sample["source"], fetched_at=utcnow(), title="",
                        paragraphs=[], content_hash="", loose_hash="")  # fmt: skip
    if "re-check write (304)" not in skip:
        out["re-check write (304)"] = timed(lambda: tracker.record(unchanged), runs)

    app = create_app(settings)
    client = app.test_client()
    routes = {
        "GET /": "/",
        "GET /article": f"/article?url={url}",
        "GET /diff": f"/diff?url={url}",
        "GET /search": f"/search?q={words}",
        "GET /changes.atom": "/changes.atom",
        "GET /article.atom": f"/article.atom?url={url}",
    }
    for name, path in routes.items():
        if name in skip:
            continue

        def get(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        out[name] = timed(get, runs)

    def export() -> None:
        records = article_records(store)
        for _ in range(300):
            next(records, None)

    if "export 300 articles" not in skip:
        out["export 300 articles"] = timed(export, max(1, runs // 2))
    if explain:
        print_plans(store, url)
    store.close()
    return out


def recheck_runs(settings: Settings, runs: int) -> tuple[float, float]:
    """(first, median of the rest) ms of a run's store side for 300 due unchanged articles."""
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        store = Store.from_settings(settings)
        tracker = Tracker(store, RevisitPolicy.from_settings(settings))
        token, due = store.claim_articles(utcnow(), 300, 900)
        for article in due:
            tracker.record(Fetched(url=article["_id"], source=article["source"],
                                   fetched_at=utcnow(), title="", paragraphs=[],
                                   content_hash="", loose_hash=""))  # fmt: skip
        store.release_leases(token)
        store.close()
        times.append((time.perf_counter() - start) * 1000)
        store = Store.from_settings(settings)  # due again for the next run (untimed)
        urls = [article["_id"] for article in due]
        store.articles.update_many(
            {"_id": {"$in": urls}}, {"$set": schedule_fields(utcnow() - timedelta(hours=1))}
        )
        store.close()
    return times[0], statistics.median(times[1:])


def print_plans(store: Store, url: str) -> None:
    now = utcnow()
    queries = {
        "due": (store.articles, {"next_check": {"$lte": now}}, [("next_check", 1)]),
        "lease": (store.articles, {"lease_owner": "x"}, None),
        "versions of url": (store.versions, {"url": url}, [("version", -1)]),
        "recent changes (numbered)": (
            store.diffs,
            recent.page_filter(recent.RANK_MAJOR, 10**6, 0, 30),
            [("fetched_at", -1)],
        ),
        "recent changes of a source": (
            store.diffs,
            recent.page_filter(recent.RANK_MAJOR_SOURCE, 10**6, 0, 30, source="x"),
            None,
        ),
        "export, oldest first": (store.articles, {}, [("first_seen", 1)]),
        "search (the viewer's filter)": (store.articles, search_filter("council vote"), None),
        "headlines of a page": (store.articles, {"_id": {"$in": [url]}}, None),
        "pages of url": (store.db["pages"], {"url": url}, [("fetched_at", -1)]),
    }
    for name, (collection, query, sort) in queries.items():
        cursor = collection.find(query)
        if sort:
            cursor = cursor.sort(sort)
        try:
            plan = cursor.limit(1).explain()
        except Exception as exc:  # litemongo has no explain()
            print(f"  explain {name}: not supported ({type(exc).__name__}: {exc})")
            continue
        winning = plan.get("queryPlanner", {}).get("winningPlan", plan)
        print(f"  explain {name}: {winning}")


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def wire_server(data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        ["nx-27017", "--data-dir", str(data), "-p", str(port), "--pid-file", str(data / "pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(2.0)
    return process, f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=20000"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--versions", type=int, default=10, help="fetches per template article")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wire", action="store_true", help="over nx-27017 instead")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--skip", default="", help="operations not timed, comma-separated "
                        "names as printed (e.g. 'export 300 articles')")  # fmt: skip
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="store-growth-"))
    server = None
    try:
        started = time.perf_counter()
        template = make_template(settings_for(tmp / "template"), args.versions)
        per_copy = len(template["articles"])
        print(
            f"template: {per_copy} articles, {len(template['versions'])} versions, "
            f"{len(template['diffs'])} diffs, {len(template['pages'])} pages, "
            f"{len(template['events'])} events "
            f"({time.perf_counter() - started:.0f} s)"
        )
        uri = ""
        if args.wire:
            server, uri = wire_server(tmp / "wire")
        settings = settings_for(tmp / "store", uri)
        store = Store.from_settings(settings)
        Snapshots.from_settings(store, settings)
        copies = 0
        results: dict[int, dict[str, tuple[float, float]]] = {}
        for size in sizes:
            wanted = -(-size // per_copy)
            started = time.perf_counter()
            fill(store, template, copies, wanted - copies)
            copies = wanted
            versions = store.versions.estimated_document_count()
            articles = store.articles.estimated_document_count()
            print(
                f"\n{articles} articles, {versions} versions "
                f"(filled in {time.perf_counter() - started:.0f} s)"
            )
            skip = {name.strip() for name in args.skip.split(",") if name.strip()}
            results[size] = measure(settings, args.runs, args.explain, skip)
            if not args.wire:
                per_version = disk_bytes(tmp / "store") / versions
                results[size]["disk KB per version"] = (per_version / 1024, per_version / 1024)
            for name, (first, median) in results[size].items():
                print(f"  {name:24} first {first:9.1f}  median {median:9.1f}")
        store.close()
        print_curve(results, sizes)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


def print_curve(results: dict[int, dict[str, tuple[float, float]]], sizes: list[int]) -> None:
    print("\nmedian ms (disk: KB per version), and x the smallest size")
    print(f"{'operation':24} " + " ".join(f"{size:>12}" for size in sizes) + "   x")
    for name in [name for name in results[sizes[0]] if name in results[sizes[-1]]]:
        values = [results[size][name][1] for size in sizes]
        ratio = values[-1] / values[0] if values[0] else float("nan")
        print(f"{name:24} " + " ".join(f"{v:12.1f}" for v in values) + f" {ratio:5.1f}")


if __name__ == "__main__":
    sys.exit(main())
