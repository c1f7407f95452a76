"""Crash safety: ``kill -9`` at random points, then a normal rerun, ends with the same store
as an uninterrupted crawl of the same snapshots (same articles, versions and diffs)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

from newscrawl.store import Store
from tests.support.corpus import load_pages
from tests.support.crawling import REPO, crawl_command, write_sources
from tests.support.mockserver import rss
from tests.support.mutations import edit_variants

ARTICLES = 8
SLOW = {"CONCURRENT_REQUESTS": "2", "NEWSCRAWL_LEASE_SECONDS": "1"}


def snapshot(settings: dict[str, str]) -> dict[str, list]:
    """What must survive a crash: tracked articles, every version's text, every diff."""
    store = Store.from_settings(settings)
    try:
        return {
            "articles": sorted((a["_id"], a["versions"]) for a in store.articles.find()),
            "versions": sorted(
                (
                    v["url"],
                    v["version"],
                    v["content_hash"],
                    v["title"],
                    v["paragraphs"],
                    v["revert_of"],
                    v["minor"],
                )  # fmt: skip
                for v in store.versions.find()
            ),
            "diffs": sorted(
                (
                    d["url"],
                    d["version"],
                    d["from_version"],
                    repr(d["title"]),
                    repr(d["paragraphs"]),
                    d["added"],
                    d["removed"],
                )  # fmt: skip
                for d in store.diffs.find()
            ),
        }
    finally:
        store.close()


def run(env: dict[str, str], args: list[str], kill_after: float | None = None) -> int:
    """A crawl; with ``kill_after``, SIGKILL it (and its extraction workers) at that point."""
    with subprocess.Popen(
        crawl_command(*args, settings=SLOW), cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    ) as proc:  # fmt: skip
        if kill_after is None:
            return proc.wait(timeout=240)
        try:
            return proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            time.sleep(1.1)  # its leases expire
            return -9


def test_kill_9_at_random_points_then_rerun_equals_an_uninterrupted_crawl(site, tmp_path):
    rng = random.Random(int(os.environ.get("NEWSCRAWL_CRASH_SEED", "20261126")))
    snapshots = []
    for page in load_pages():
        edits = edit_variants(page.html, page.record, rng)
        if edits:
            snapshots.append((page.html, edits[0][1]))
        if len(snapshots) == ARTICLES:
            break
    paths = [f"/n/{i}.html" for i in range(ARTICLES)]
    site.put("/feed.xml", rss("f", [site.url(p) for p in paths]))
    sources = write_sources(tmp_path / "s.toml", site, ["/feed.xml"])

    def env_for(name: str) -> dict[str, str]:
        return {
            **os.environ,
            "NEWSCRAWL_DATA_DIR": str(tmp_path / name),
            "MONGO_URI": "",
            "NEWSCRAWL_SOURCES": str(sources),
            "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
        }

    def serve(version: int) -> None:
        for path, pair in zip(paths, snapshots, strict=True):
            site.put(path, pair[version], delay=0.3)

    reference, crashed = env_for("reference"), env_for("crashed")
    kills = []
    # the edit is checked twice: held by the first check, stored by the second
    recheck = ["-a", "recheck=all"]
    for version, args in [(0, []), (1, recheck), (1, recheck)]:
        serve(version)
        assert run(reference, args) == 0
        for _ in range(2):
            kill_after = round(rng.uniform(0.5, 2.5), 2)
            kills.append((version, kill_after, run(crashed, args, kill_after)))
        assert run(crashed, args) == 0, kills

    expected, got = (
        snapshot({"NEWSCRAWL_DATA_DIR": reference["NEWSCRAWL_DATA_DIR"]}),
        snapshot({"NEWSCRAWL_DATA_DIR": crashed["NEWSCRAWL_DATA_DIR"]}),
    )
    assert len(expected["articles"]) == ARTICLES
    assert len(expected["diffs"]) == ARTICLES
    assert any(code == -9 for *_, code in kills), f"no crawl was killed mid-run: {kills}"
    for part in expected:
        assert got[part] == expected[part], f"{part} differ after kills at {kills}"
