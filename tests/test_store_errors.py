"""Store errors other than an unreachable MongoDB, in real crawls on the embedded store: another
process holding a write lock, a store that refuses a page, a damaged spool. Each leaves the page
written, spooled or set aside, visibly (log, stats, run record, exit status, ``scrapy status``),
and never lets a feed's 304 hide an article that was not written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pymongo
import pytest

from newscrawl.schedule import RevisitPolicy
from newscrawl.spool import Spool
from newscrawl.store import transient_error
from newscrawl.tracker import Fetched
from tests.support.corpus import load_pages
from tests.support.crawling import REPO
from tests.support.fetched import spooled_page
from tests.support.mockserver import rss

embedded_only = pytest.mark.skipif(
    bool(os.environ.get("MONGO_URI")), reason="acts on the embedded store's SQLite files"
)

PAGES = load_pages()[::9][:2]


def collection_file(store_env: dict[str, str], name: str) -> Path:
    """The SQLite file of one collection of the embedded store."""
    return Path(store_env["NEWSCRAWL_DATA_DIR"]) / store_env["MONGO_DATABASE"] / name


def hold_lock_when_requested(site, path: str, database: Path, seconds: float) -> threading.Thread:
    """From this process (not the crawl's): as soon as ``path`` is requested, ``BEGIN
    EXCLUSIVE`` on ``database`` and hold that write lock for ``seconds``. The page is served
    after a delay, so the crawl's write of it comes while the lock is held."""

    def hold() -> None:
        deadline = time.monotonic() + 120
        while not site.requests_for(path):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        connection = sqlite3.connect(database, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


def stat(result: subprocess.CompletedProcess, name: str) -> int | None:
    """A newscrawl counter from the crawl's stats dump, or None when it was never set."""
    marker = f"'newscrawl/{name}': "
    if marker not in result.stderr:
        return None
    return int(result.stderr.split(marker, 1)[1].split(",", 1)[0].split("}", 1)[0])


def status(store_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **store_env}
    cmd = [sys.executable, "-m", "scrapy", "status", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def serve_one(site) -> str:
    site.put("/news/0.html", PAGES[0].html, delay=1.0)
    site.put("/feed.xml", rss("Local", [site.url("/news/0.html")]))
    return site.url("/news/0.html")


@embedded_only
def test_a_write_lock_held_15s_mid_crawl_is_waited_for_and_the_article_stored(
    site, crawl, store_env, open_store
):
    url = serve_one(site)
    open_store()  # creates the store's files
    locker = hold_lock_when_requested(
        site, "/news/0.html", collection_file(store_env, "versions"), 15
    )
    started = time.monotonic()
    result = crawl(settings={"NEWSCRAWL_EXTRACT_WORKERS": "0"})  # fails on a traceback
    locker.join()
    assert time.monotonic() - started > 14, "the lock was not held during the write"
    assert "database is locked" not in result.stderr
    assert stat(result, "articles/new") == 1
    store = open_store()
    assert [v["version"] for v in store.history(url)] == [1]
    assert store.feed_state(site.url("/feed.xml")).get("etag")


@embedded_only
def test_a_lock_held_past_the_busy_timeout_spools_the_page_exits_2_and_keeps_the_feed_unsaved(
    site, crawl, store_env, open_store
):
    url = serve_one(site)
    open_store()
    locker = hold_lock_when_requested(
        site, "/news/0.html", collection_file(store_env, "versions"), 15
    )
    settings = {
        "NEWSCRAWL_EXTRACT_WORKERS": "0",
        "NEWSCRAWL_STORE_BUSY_TIMEOUT": "1",
        "NEWSCRAWL_STORE_RETRIES": "1",
    }
    result = crawl(settings=settings, check=False)
    locker.join()
    assert result.returncode == 2, result.stderr[-4000:]
    assert (
        "store unavailable after 1 retries (OperationalError: database is locked)" in result.stderr
    )
    assert (stat(result, "store/retries"), stat(result, "spool/written")) == (1, 1)
    store = open_store()
    assert store.history(url) == []
    assert not store.feed_state(site.url("/feed.xml")).get("etag")
    (run,) = store.db["runs"].find({"finish_reason": "store_unavailable"})
    assert (run["spooled"], run["store_retries"]) == (1, 1)
    assert Spool(Path(store_env["NEWSCRAWL_DATA_DIR"]) / "spool").summary()["pending_pages"] == 1

    # the lock is gone: the next run writes the spooled page, then polls the feed in full
    feed_requests = len(site.requests_for("/feed.xml"))
    result = crawl(settings={"NEWSCRAWL_EXTRACT_WORKERS": "0"})
    assert stat(result, "spool/replayed") == 1
    assert [v["version"] for v in store.history(url)] == [1]
    (poll,) = site.requests_for("/feed.xml")[feed_requests:]
    assert "If-None-Match" not in poll.headers and poll.status == 200
    assert store.feed_state(site.url("/feed.xml")).get("etag")
    assert Spool(Path(store_env["NEWSCRAWL_DATA_DIR"]) / "spool").summary()["pending_pages"] == 0


@embedded_only
def test_a_page_the_store_refuses_is_set_aside_recorded_once_and_the_run_exits_2(
    site, crawl, store_env, open_store
):
    for i, page in enumerate(PAGES):
        site.put(f"/news/{i}.html", page.html)
    site.put("/feed.xml", rss("Local", [site.url(f"/news/{i}.html") for i in range(len(PAGES))]))
    refused = site.url("/news/1.html")
    open_store()
    # The store refuses one page for good, as a schema validator would: a trigger on the
    # versions file aborts the insert of that article's version.
    with sqlite3.connect(collection_file(store_env, "versions")) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON documents "
            f"WHEN instr(NEW.doc, CAST('{refused}' AS BLOB)) > 0 "
            "BEGIN SELECT RAISE(ABORT, 'document refused by validation'); END"
        )
    result = crawl(check=False)
    assert result.returncode == 2, result.stderr[-4000:]
    assert "Traceback" not in result.stderr
    assert f"store refused {refused}: IntegrityError: document refused" in result.stderr
    assert (stat(result, "store/rejected"), stat(result, "store/retries")) == (1, None)
    assert stat(result, "articles/new") == 1  # the other article is stored
    store = open_store()
    assert store.history(refused) == []
    (error,) = store.errors.find({"url": refused})
    assert error["reason"] == "store-rejected" and "document refused" in error["message"]
    (run,) = store.db["runs"].find()
    assert (run["finish_reason"], run["rejected"], run["errors"]) == ("finished", 1, 1)
    assert not store.feed_state(site.url("/feed.xml")).get("etag")
    quarantine = Path(store_env["NEWSCRAWL_DATA_DIR"]) / "spool" / "quarantine.jsonl"
    (entry,) = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert entry["entry"]["url"] == refused and entry["entry"]["paragraphs"]
    assert entry["reason"].startswith("IntegrityError: document refused")

    report = status(store_env)
    assert report.returncode == 0, report.stderr
    assert "1 refused by the store" in report.stdout
    assert "0 pages waiting for the store in 0 files; 1 entries set aside in" in report.stdout


@embedded_only
def test_a_tracked_article_the_store_refuses_is_rechecked_like_a_failed_check(
    site, crawl, store_env, open_store
):
    page = PAGES[0]
    site.put("/news/0.html", page.html)
    site.put("/feed.xml", rss("Local", [site.url("/news/0.html")]))
    url = site.url("/news/0.html")
    crawl()
    paragraph = open_store().history(url)[0]["paragraphs"][1]
    tail = next(paragraph[-n:] for n in (60, 30, 12) if paragraph[-n:] in page.html)
    site.put("/news/0.html", page.html.replace(tail, tail + " A correction was appended."))
    crawl("-a", "recheck=all")  # the edit is held; the next check stores it
    with sqlite3.connect(collection_file(store_env, "versions")) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON documents "
            "BEGIN SELECT RAISE(ABORT, 'document refused by validation'); END"
        )
    result = crawl("-a", "recheck=all", check=False)
    assert result.returncode == 2 and stat(result, "store/rejected") == 1, result.stderr[-4000:]
    assert "could not record the error" not in result.stderr
    article = open_store().articles.find_one({"_id": url})
    assert (article["errors"], article["last_error"]) == (1, "store-rejected")
    # retried as a first failed check is: after the initial interval (RevisitPolicy.after_error)
    first_retry = RevisitPolicy().after_error(article["last_checked"], 1, article["last_checked"])
    assert article["next_check"] == first_retry[1]


def test_a_truncated_spool_line_is_set_aside_and_the_rest_replayed(
    site, crawl, store_env, open_store
):
    site.put("/feed.xml", rss("Local", []))
    spool_dir = Path(store_env["NEWSCRAWL_DATA_DIR"]) / "spool"
    first, second = Spool(spool_dir), Spool(spool_dir)
    second.path = spool_dir / "pending-2-20260101000000.jsonl"
    first.path = spool_dir / "pending-1-20260101000000.jsonl"
    first.add(spooled_page("http://127.0.0.1/a", "First spooled page."))
    # a crash in the middle of the next add: a cut-off line (inside a multi-byte character)
    line = json.dumps({"url": "http://127.0.0.1/cut", "title": "東京 cut"}, ensure_ascii=False)
    with first.path.open("ab") as out:
        out.write(line.encode()[: line.encode().index("京".encode()) + 1])
    second.add(spooled_page("http://127.0.0.1/b", "Second spooled page."))

    result = crawl()  # fails on a non-zero exit or a traceback
    assert stat(result, "spool/replayed") == 2
    assert stat(result, "spool/quarantined") == 1
    assert "spool: set aside a damaged entry of pending-1-20260101000000.jsonl" in result.stderr
    store = open_store()
    assert [v["version"] for v in store.history("http://127.0.0.1/a")] == [1]
    assert [v["version"] for v in store.history("http://127.0.0.1/b")] == [1]
    assert not list(spool_dir.glob("pending-*"))
    (run,) = store.db["runs"].find()
    assert (run["spool_replayed"], run["spool_quarantined"]) == (2, 1)
    (entry,) = [json.loads(x) for x in (spool_dir / "quarantine.jsonl").read_text().splitlines()]
    assert entry["file"] == first.path.name and entry["entry"].startswith(
        '{"url": "http://127.0.0.1/cut"'
    )

    report = status(store_env, "--json")
    assert report.returncode == 0, report.stderr
    spool = json.loads(report.stdout)["spool"]
    assert (spool["pending_pages"], spool["quarantined"]) == (0, 1)
    text = status(store_env).stdout
    assert "2 replayed from the spool, 1 damaged spool entries set aside" in text
    assert "1 entries set aside in" in text

    # later crawls are not held up by it
    crawl()


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from newscrawl.spool import Spool
from tests.support.fetched import spooled_page
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
spool = Spool(Path(sys.argv[1]))
spool.path = Path(sys.argv[2])
size = spool.path.stat().st_size
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY))
try:
    spool.add(spooled_page("http://127.0.0.1/big", "word " * 10000))
except OSError as exc:
    print(exc.errno)
"""


def test_a_spool_write_that_fails_half_way_leaves_no_partial_line(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.add(spooled_page("http://127.0.0.1/a", "Spooled before the disk filled up."))
    size = spool.path.stat().st_size
    cmd = [sys.executable, "-c", _FULL_DISK, str(spool.directory), str(spool.path)]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "27", result.stderr  # EFBIG: the write failed half-way
    assert spool.path.stat().st_size == size
    written: list[Fetched] = []
    assert spool.replay(written.append) == (1, 0)
    assert [page.url for page in written] == ["http://127.0.0.1/a"]


@embedded_only
def test_a_spooled_page_the_store_refuses_is_set_aside_and_the_rest_replayed(
    site, crawl, store_env, open_store
):
    site.put("/feed.xml", rss("Local", []))
    open_store()
    with sqlite3.connect(collection_file(store_env, "versions")) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON documents "
            "WHEN instr(NEW.doc, CAST('http://127.0.0.1/refused' AS BLOB)) > 0 "
            "BEGIN SELECT RAISE(ABORT, 'document refused by validation'); END"
        )
    spool = Spool(Path(store_env["NEWSCRAWL_DATA_DIR"]) / "spool")
    for url in ("http://127.0.0.1/refused", "http://127.0.0.1/kept"):
        spool.add(spooled_page(url, f"The page at {url}."))

    result = crawl(check=False)
    assert result.returncode == 2, result.stderr[-4000:]
    assert (stat(result, "spool/replayed"), stat(result, "store/rejected")) == (2, 1)
    store = open_store()
    assert [v["version"] for v in store.history("http://127.0.0.1/kept")] == [1]
    (error,) = store.errors.find({"url": "http://127.0.0.1/refused"})
    assert error["reason"] == "store-rejected"
    summary = spool.summary()
    assert (summary["pending_pages"], summary["quarantined"]) == (0, 1)
    # the refused page is not replayed again: the next crawl passes
    crawl()


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (pymongo.errors.AutoReconnect("connection reset"), True),
        (pymongo.errors.ServerSelectionTimeoutError("no servers"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (pymongo.errors.OperationFailure("not primary", code=10107), True),
        (pymongo.errors.ExecutionTimeout("time limit", code=50), True),
        (pymongo.errors.WTimeoutError("waiting for replication", code=64), True),
        (
            pymongo.errors.OperationFailure(
                "stepped down", code=1, details={"errorLabels": ["RetryableWriteError"]}
            ),
            True,
        ),
        (pymongo.errors.DocumentTooLarge("BSON document too large"), False),
        (pymongo.errors.WriteError("Document failed validation", code=121), False),
        (pymongo.errors.OperationFailure("bad value", code=2), False),
        (sqlite3.IntegrityError("CHECK constraint failed"), False),
        (TypeError("a bug"), False),
    ],
)
def test_only_errors_a_later_try_may_get_past_count_as_transient(error, transient):
    assert transient_error(error) is transient
