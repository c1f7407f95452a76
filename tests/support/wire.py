"""A MongoDB wire-protocol server on loopback (nx-27017) that a test can kill and restart, and
``scrapy crawl`` processes storing into it, through an outage too."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pymongo
import pytest

from tests.support.corpus import load_pages
from tests.support.crawling import REPO, crawl_command, write_sources
from tests.support.mockserver import free_port, rss
from tests.support.mutations import edit_variants


class WireServer:
    """An nx-27017 process on a fixed port and data directory, so it can die and come back."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> WireServer:
        server = shutil.which("nx-27017")
        if server is None:
            pytest.fail("nx-27017 is not installed (pip install -r requirements-dev.txt)")
        self.data.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [server, "--data-dir", str(self.data), "-p", str(self.port),
             "--log-file", str(self.data / "log"), "--pid-file", str(self.data / "pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                with pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500) as client:
                    client.admin.command("ping")
                return self
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise
                time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Crawl:
    """A ``scrapy crawl feeds`` process; its log goes to a file, so a busy crawl never blocks
    on a full pipe while the test watches the store."""

    def __init__(self, env: dict[str, str], *args: str, **settings: str) -> None:
        cmd = crawl_command(*args, settings={"NEWSCRAWL_EXTRACT_WORKERS": "1", **settings})
        self.log_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=self.log_file, text=True
        )

    def wait(self) -> tuple[int, str]:
        returncode = self.proc.wait(timeout=240)
        self.log_file.seek(0)
        log = self.log_file.read()
        self.log_file.close()
        return returncode, log

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def start_crawl(env: dict[str, str], *args: str, **settings: str) -> Crawl:
    return Crawl(env, *args, **settings)


def finish(crawl: Crawl) -> str:
    returncode, log = crawl.wait()
    assert returncode == 0, log[-4000:]
    assert "Traceback" not in log, log[-4000:]
    return log


def stat(log: str, name: str) -> int:
    marker = f"'newscrawl/articles/{name}': "
    return int(log.split(marker, 1)[1].split(",", 1)[0].split("}", 1)[0]) if marker in log else 0


def serve_edited_pages(site, count: int) -> tuple[list[str], list[tuple[str, str]]]:
    """The first ``count`` corpus pages that have an edit variant, served under /story/ and
    listed by the feed /a.xml: their paths and (page, edited page) pairs."""
    rng = random.Random(2)
    pages = [(p.html, edits[0][1]) for p in load_pages()[:count]
             if (edits := edit_variants(p.html, p.record, rng))]  # fmt: skip
    paths = [f"/story/{i}.html" for i in range(len(pages))]
    for path, (html, _) in zip(paths, pages, strict=True):
        site.put(path, html)
    site.put("/a.xml", rss("a", [site.url(p) for p in paths]))
    return paths, pages


def outage_env(site, tmp_path: Path, wire: WireServer) -> dict[str, str]:
    """The environment of crawls of /a.xml into ``wire``'s store, with a local spool; short
    timeouts, so that an outage is noticed quickly."""
    return {
        **os.environ,
        "MONGO_URI": wire.uri + "/?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000",
        "MONGO_DATABASE": "newscrawl_outage",
        "NEWSCRAWL_DATA_DIR": str(tmp_path / "local"),
        "NEWSCRAWL_SOURCES": str(write_sources(tmp_path / "s.toml", site, ["/a.xml"])),
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
    }


def recheck_until_the_store_dies(
    site, env: dict[str, str], wire: WireServer, paths: list[str], edited: list[str],
    retries: int, hold: bool = True,
) -> tuple[int, str]:  # fmt: skip
    """Serve the edited pages slowly, re-check them all and kill the store once the first new
    version is written; the crawl's exit status and log. The last page is answered only
    once the store is dead, so the crawl always has a page to store then (the others may all
    be written in one burst once the extraction workers are up). With ``hold`` (the default,
    ``newscrawl.holding``) the edits are first held by a re-check at full speed, so the
    crawl that meets the outage is the one that stores them."""
    for path, page in zip(paths, edited, strict=True):
        site.put(path, page)
    if hold:
        finish(start_crawl(env, "-a", "recheck=all"))
    dead = threading.Event()
    for path, page in zip(paths, edited, strict=True):
        site.put(path, page, delay=0.5, gate=dead if path == paths[-1] else None)
    crawl = start_crawl(
        env, "-a", "recheck=all", CONCURRENT_REQUESTS="2", NEWSCRAWL_STORE_RETRIES=str(retries),
        NEWSCRAWL_LEASE_SECONDS="1", NEWSCRAWL_HOLD_CHANGES=str(hold),
    )  # fmt: skip
    client = pymongo.MongoClient(wire.uri)
    deadline = time.monotonic() + 90
    while client.newscrawl_outage.versions.count_documents({"version": 2}) == 0:
        if time.monotonic() > deadline or crawl.proc.poll() is not None:
            crawl.kill()
            raise AssertionError("no version 2 written:\n" + crawl.wait()[1][-5000:])
        time.sleep(0.05)
    client.close()
    wire.kill()
    dead.set()
    return crawl.wait()


def store_back(site, wire: WireServer, paths: list[str]) -> None:
    """Restart the store and serve the same pages without delay, once the dead run's leases
    have expired."""
    wire.start()
    for path in paths:
        site.put(path, site.pages[path].body)
    time.sleep(1.1)
