"""Run records (``RunRecorder``) and ``scrapy status``: what a monitor sees after crawls."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from newscrawl.runs import run_record, save_run
from newscrawl.store import utcnow
from tests.support.corpus import load_pages
from tests.support.crawling import REPO
from tests.support.mockserver import rss
from tests.support.mutations import edit_variants

PAGES = load_pages()[::9][:2]


def status(store_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **store_env}
    cmd = [sys.executable, "-m", "scrapy", "status", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_each_crawl_stores_a_run_record_with_its_counts(site, crawl, open_store):
    for i, page in enumerate(PAGES):
        site.put(f"/news/{i}.html", page.html)
    site.put("/feed.xml", rss("Local", [site.url(f"/news/{i}.html") for i in range(len(PAGES))]))
    crawl(feeds=("/feed.xml", "/missing.xml"))
    (_, edited, *_), *_ = edit_variants(PAGES[0].html, PAGES[0].record, random.Random(5))
    site.put("/news/0.html", edited)
    crawl("-a", "recheck=all", feeds=("/feed.xml", "/missing.xml"))

    store = open_store()
    second, first = store.db["runs"].find().sort("finished", -1)
    assert first["spider"] == "feeds" and first["job"] is None
    assert first["node"] == socket.gethostname()
    assert first["finish_reason"] == "finished"
    assert first["started"] < first["finished"] <= second["started"]
    assert first["duration"] == pytest.approx(
        (first["finished"] - first["started"]).total_seconds(), abs=0.01
    )
    assert (first["feeds_polled"], first["feeds_not_modified"]) == (2, 0)
    assert (first["articles_checked"], first["new_articles"], first["new_versions"]) == (2, 2, 0)
    assert first["errors"] == 1  # the missing feed
    assert first["stats"]["feeds/errors/http-404"] == 1
    # the re-check: feed unchanged (304), both articles compared, one changed: held
    assert (second["feeds_polled"], second["feeds_not_modified"]) == (2, 1)
    assert (second["articles_checked"], second["new_articles"], second["new_versions"]) == (2, 0, 0)
    assert (first["held"], second["held"]) == (0, 1)
    # the next check shows the edit too: stored
    crawl("-a", "recheck=all", feeds=("/feed.xml", "/missing.xml"))
    third = store.db["runs"].find_one(sort=[("finished", -1)])
    assert (third["articles_checked"], third["new_versions"], third["held"]) == (2, 1, 0)


def test_status_shows_runs_and_sources_and_passes_when_fresh(site, crawl, store_env):
    site.put("/news/0.html", PAGES[0].html)
    site.put("/feed.xml", rss("Local", [site.url("/news/0.html")]))
    crawl()

    result = status(store_env, "--json", "--max-age", "60")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    (run,) = report["runs"]
    assert (run["finish_reason"], run["new_articles"]) == ("finished", 1)
    assert report["last_success"]["finished"] == run["finished"]
    (source,) = report["sources"]
    assert source["source"] == "Local"
    assert (source["feeds"], source["feed_errors"], source["articles"]) == (1, 0, 1)
    assert source["by_status"] == {"active": 1}
    assert source["last_polled"] is not None

    text = status(store_env)
    assert text.returncode == 0
    assert "Local: 1 feeds" in text.stdout and "1 articles (1 active)" in text.stdout


def test_status_fails_when_no_crawl_ever_finished(store_env):
    result = status(store_env, "--max-age", "60")
    assert result.returncode == 1
    assert "Newest successful crawl: none recorded STALE" in result.stdout
    # without --max-age it only reports
    assert status(store_env).returncode == 0


def test_status_fails_when_the_newest_successful_crawl_is_too_old(store_env, open_store):
    store, now = open_store(), utcnow()
    # a newer crawl that did not finish normally does not count as fresh
    for reason, finished in (("finished", now - timedelta(hours=2)), ("shutdown", now)):
        stats = {"start_time": finished - timedelta(minutes=5)}
        run = run_record(stats, spider="feeds", job="j1", reason=reason, finished=finished)
        save_run(store.db, run)

    result = status(store_env, "--json", "--max-age", "60")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["last_success_age_minutes"] == pytest.approx(120, abs=1)
    assert [r["finish_reason"] for r in report["runs"]] == ["shutdown", "finished"]
    text = status(store_env, "--max-age", "180")
    assert text.returncode == 0
    assert "shutdown   feeds on" in text.stdout and "job j1" in text.stdout
