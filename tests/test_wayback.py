"""Internet Archive submission (``newscrawl.wayback``, ``scrapy wayback``) against a stand-in
for Save Page Now on 127.0.0.1: nothing here leaves the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scrapy.settings import Settings

from newscrawl.tracker import CHANGED, NEW, UNCHANGED, Outcome
from newscrawl.wayback import (
    ARCHIVED,
    BACKOFF_INITIAL,
    FAILED,
    MAX_TRIES,
    QUEUED,
    Wayback,
    WaybackError,
    WaybackQueue,
    submit,
)
from newscrawl.web.app import create_app
from tests.support.crawling import REPO
from tests.support.mockserver import rss
from tests.support.tracked import tracked_pages, tracked_variant

STAMP = "20261201120000"


class SavePageNow:
    """Answers ``GET /save/<url>`` like Save Page Now: by default 200 with Content-Location
    ``/web/<timestamp>/<url>``; ``script`` holds the next answers (status, headers)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        self.requests: list[tuple[float, str, str]] = []  # (arrival, path, User-Agent)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append(
                    (time.monotonic(), self.path, self.headers.get("User-Agent", ""))
                )  # fmt: skip
                target = self.path.removeprefix("/save/")
                status, headers = (
                    owner.script.pop(0) if owner.script
                    else (200, {"Content-Location": f"/web/{STAMP}/{target}"})
                )  # fmt: skip
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value.replace("{url}", target))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/save/"

    def capture(self, url: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/web/{STAMP}/{url}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    """A fake wall clock: ``sleep`` moves it on and is recorded."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.at += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def archive():
    server = SavePageNow()
    yield server
    server.stop()


def _settings(archive: SavePageNow, **extra: object) -> Settings:
    return Settings(
        {
            "NEWSCRAWL_WAYBACK": True,
            "NEWSCRAWL_WAYBACK_ENDPOINT": archive.endpoint,
            "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": True,
            "USER_AGENT": "newscrawl-test",
            **extra,
        }
    )


def _queued(store, clock: Clock, *urls: str) -> WaybackQueue:
    queue = WaybackQueue.from_settings(store, Settings({"NEWSCRAWL_WAYBACK": True}))
    assert queue is not None
    for url in urls:
        store.versions.insert_one({"url": url, "version": 1})
        assert queue.add(url, Outcome(kind=NEW, version=1), clock.now())
    return queue


def _scrapy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_crawl_queues_each_new_version_and_wayback_stores_and_shows_its_capture(
    site, crawl, open_store, store_env, archive
):
    page = next(p for p in tracked_pages() if tracked_variant(p.html, p.record, "word_changed"))
    v2, _ = tracked_variant(page.html, page.record, "word_changed")
    site.put("/feed.xml", rss("Local", [site.url("/news/a.html")]))
    site.put("/news/a.html", page.html)
    crawl()  # off by default: version 1 is not queued
    store = open_store()
    url = store.articles.find_one({})["_id"]
    assert store.db["archive_queue"].count_documents({}) == 0

    on = {"NEWSCRAWL_WAYBACK": "True"}
    site.put("/news/a.html", v2)
    crawl("-a", "recheck=all", settings=on)
    crawl("-a", "recheck=all", settings=on)  # unchanged: nothing more to queue
    entries = list(store.db["archive_queue"].find({}))
    assert [(e["url"], e["version"], e["status"]) for e in entries] == [(url, 2, QUEUED)]
    assert not archive.requests  # the crawl only queues

    env = {
        **store_env, **on, "NEWSCRAWL_WAYBACK_ENDPOINT": archive.endpoint,
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True", "NEWSCRAWL_WAYBACK_PER_MINUTE": "0",
    }  # fmt: skip
    result = _scrapy(env, "wayback")
    assert result.returncode == 0, result.stderr
    assert "1 archived, 0 to retry later, 0 failed" in result.stdout
    assert [path for _, path, _ in archive.requests] == [f"/save/{url}"]
    assert archive.requests[0][2].startswith("newscrawl/")  # the crawl's User-Agent
    capture = archive.capture(url)
    assert store.versions.find_one({"url": url, "version": 2})["archive_url"] == capture
    assert "archive_url" not in store.versions.find_one({"url": url, "version": 1})
    assert store.db["archive_queue"].find_one({})["status"] == ARCHIVED

    client = create_app(store_env).test_client()
    html = client.get("/diff", query_string={"url": url, "from": 1, "to": 2}).get_data(True)
    assert html.count("Internet Archive copy") == 1 and f'href="{capture}"' in html
    data = client.get("/diff.json", query_string={"url": url, "from": 1, "to": 2}).get_json()
    assert data["to"]["archive_url"] == capture and data["from"]["archive_url"] is None
    versions = client.get("/article.json", query_string={"url": url}).get_json()["versions"]
    assert [v["archive_url"] for v in versions] == [None, capture]

    assert _scrapy(env, "wayback").stdout.startswith("0 archived")  # drained: none sent again
    assert len(archive.requests) == 1


def test_off_by_default_the_command_submits_nothing(store_env, open_store, archive):
    store = open_store()
    assert WaybackQueue.from_settings(store, Settings()) is None
    _queued(store, Clock(), "https://news.example/a")
    env = {**store_env, "NEWSCRAWL_WAYBACK_ENDPOINT": archive.endpoint,
           "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True"}  # fmt: skip
    result = _scrapy(env, "wayback")
    assert result.returncode == 0 and "NEWSCRAWL_WAYBACK is off" in result.stderr
    assert not archive.requests


def test_only_a_fetch_that_stored_a_new_version_is_queued(open_store):
    store = open_store()
    queue = WaybackQueue.from_settings(store, Settings({"NEWSCRAWL_WAYBACK": True}))
    now = Clock().now()
    assert queue.add("https://news.example/a", Outcome(kind=CHANGED, version=3), now)
    assert not queue.add("https://news.example/a", Outcome(kind=CHANGED, version=3), now)
    assert not queue.add("https://news.example/a", Outcome(kind=UNCHANGED, version=3), now)
    assert [e["_id"] for e in queue.entries.find({})] == ["https://news.example/a 3"]


def test_rate_limit_holds_within_a_run_and_across_runs(open_store, archive):
    store, clock = open_store(), Clock()
    urls = [f"https://news.example/{n}" for n in range(3)]
    _queued(store, clock, *urls)
    wayback = Wayback.from_settings(store, _settings(archive), now=clock.now, sleep=clock.sleep)
    assert wayback.drain()["archived"] == 3
    assert clock.sleeps == [15.0, 15.0]  # 4 a minute
    times = [a["at"] for e in store.db["archive_queue"].find({}) for a in e["attempts"]]
    assert sorted(times) == [times[0] + timedelta(seconds=15 * n) for n in range(3)]

    clock.advance(5)  # the next run, 5 s later, waits out the rest of the gap
    _queued(store, clock, "https://news.example/late")
    again = Wayback.from_settings(store, _settings(archive), now=clock.now, sleep=clock.sleep)
    assert again.drain()["archived"] == 1
    assert clock.sleeps[-1] == 10.0


def test_rate_limit_is_a_real_gap_between_requests(open_store, archive):
    store = open_store()
    _queued(store, Clock(), *(f"https://news.example/{n}" for n in range(3)))
    settings = _settings(archive, NEWSCRAWL_WAYBACK_PER_MINUTE=120)  # one per 0.5 s
    assert Wayback.from_settings(store, settings).drain()["archived"] == 3
    arrivals = [at for at, _, _ in archive.requests]
    assert all(b - a >= 0.45 for a, b in zip(arrivals, arrivals[1:], strict=False))


def test_overlapping_runs_submit_each_version_once_and_keep_the_gap(open_store, archive):
    store, clock = open_store(), Clock()
    urls = [f"https://news.example/{n}" for n in range(3)]
    _queued(store, clock, *urls)
    other = Wayback.from_settings(store, _settings(archive), now=clock.now, sleep=clock.sleep)

    def send_then_overlap(endpoint: str, url: str, agent: str):
        answer = submit(endpoint, url, agent)
        if len(archive.requests) == 1:
            assert other.drain() == {"archived": 2}  # a second run, while this one waits
        return answer

    first = Wayback.from_settings(
        store, _settings(archive), now=clock.now, sleep=clock.sleep, send=send_then_overlap
    )
    assert first.drain() == {"archived": 1}
    assert sorted(p for _, p, _ in archive.requests) == sorted(f"/save/{u}" for u in urls)
    times = sorted(a["at"] for e in store.db["archive_queue"].find({}) for a in e["attempts"])
    assert all((b - a).total_seconds() >= 15 for a, b in zip(times, times[1:], strict=False))


def test_429_and_5xx_are_recorded_and_retried_later_with_backoff(open_store, archive):
    store, clock = open_store(), Clock()
    a, b = "https://news.example/a", "https://news.example/b"
    _queued(store, clock, a, b)
    entries = store.db["archive_queue"]
    archive.script = [(429, {"Retry-After": "900"})]
    wayback = Wayback.from_settings(store, _settings(archive), now=clock.now, sleep=clock.sleep)
    assert wayback.drain() == {"retry": 1}  # a 429 ends the run: b waits
    first = entries.find_one({"url": a})
    assert first["status"] == QUEUED and first["tries"] == 1
    assert [(t["status"], t["at"]) for t in first["attempts"]] == [(429, clock.now())]
    assert first["next_try"] == clock.now() + timedelta(seconds=900)  # Retry-After > backoff

    clock.advance(60)
    archive.script = [(503, {})]
    assert wayback.drain() == {"retry": 1}  # only b is due; it gets a 503
    second = entries.find_one({"url": b})
    assert second["attempts"][0]["status"] == 503
    assert second["next_try"] == clock.now() + timedelta(seconds=BACKOFF_INITIAL)

    clock.advance(BACKOFF_INITIAL)
    archive.script = [(502, {})]
    assert wayback.drain() == {"retry": 1}  # b again, a not yet due
    second = entries.find_one({"url": b})
    assert second["next_try"] == clock.now() + timedelta(seconds=2 * BACKOFF_INITIAL)

    clock.advance(900)
    assert wayback.drain() == {"archived": 2}
    assert [p for _, p, _ in archive.requests] == [f"/save/{u}" for u in (a, b, b, a, b)]
    assert [t["status"] for t in entries.find_one({"url": b})["attempts"]] == [503, 502, 200]
    assert store.versions.find_one({"url": a})["archive_url"] == archive.capture(a)


def test_a_redirect_names_the_capture_and_is_not_followed(open_store, archive):
    store, clock = open_store(), Clock()
    _queued(store, clock, "https://news.example/a")
    archive.script = [(302, {"Location": f"/web/{STAMP}/{{url}}"})]
    wayback = Wayback.from_settings(store, _settings(archive), now=clock.now, sleep=clock.sleep)
    assert wayback.drain() == {"archived": 1}
    assert len(archive.requests) == 1
    assert store.versions.find_one({})["archive_url"] == archive.capture("https://news.example/a")


def test_an_answer_without_a_capture_is_retried_a_refusal_and_the_last_try_fail(
    open_store, archive
):
    store, clock = open_store(), Clock()
    _queued(store, clock, "https://news.example/ok-but-no-capture", "https://news.example/403")
    archive.script = [(200, {}), (403, {})]
    wayback = Wayback.from_settings(store, _settings(archive), now=clock.now, sleep=clock.sleep)
    assert wayback.drain() == {"retry": 1, "failed": 1}
    entries = store.db["archive_queue"]
    no_capture = entries.find_one({"url": "https://news.example/ok-but-no-capture"})
    assert no_capture["status"] == QUEUED
    assert "no capture address" in no_capture["attempts"][0]["error"]
    assert entries.find_one({"url": "https://news.example/403"})["status"] == FAILED

    for _ in range(MAX_TRIES - 1):
        archive.script = [(500, {})]
        clock.advance(2 * 24 * 60 * 60)
        wayback.drain()
    assert entries.find_one({"_id": no_capture["_id"]})["status"] == FAILED
    assert len(entries.find_one({"_id": no_capture["_id"]})["attempts"]) == MAX_TRIES
    assert "archive_url" not in store.versions.find_one({"url": no_capture["url"]})


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "[::1]", "10.1.2.3", "169.254.169.254"])
def test_a_private_endpoint_is_refused_unless_allowed(open_store, archive, host):
    endpoint = f"http://{host.format(port=archive.server.server_port)}/save/"
    settings = _settings(archive, NEWSCRAWL_WAYBACK_ENDPOINT=endpoint)
    settings.set("NEWSCRAWL_ALLOW_PRIVATE_HOSTS", False)
    with pytest.raises(WaybackError, match="non-public"):
        Wayback.from_settings(open_store(), settings)
    assert not archive.requests


def test_the_command_refuses_a_private_endpoint_with_a_clear_error(store_env, archive):
    env = {**store_env, "NEWSCRAWL_WAYBACK": "True", "NEWSCRAWL_WAYBACK_ENDPOINT": archive.endpoint}
    result = _scrapy(env, "wayback")
    assert result.returncode == 1
    assert "NEWSCRAWL_ALLOW_PRIVATE_HOSTS" in result.stderr and "Traceback" not in result.stderr
    assert not archive.requests
