"""Deploy to a crawl server, as the README says: a real scrapyd, ``scrapyd-deploy``, and
``python -m newscrawl.enqueue`` scheduling ``feeds`` against a local site."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest

from newscrawl import enqueue
from tests.support.corpus import load_pages
from tests.support.crawling import REPO, write_sources
from tests.support.mockserver import free_port, rss

PAGES = load_pages()[::9][:2]
SECRET = "s3cret-Pa55word"
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on port {port}")


@dataclass
class Scrapyd:
    url: str
    home: Path

    def jobs(self) -> dict:
        with urlopen(f"{self.url}/listjobs.json?project=newscrawl", timeout=10) as response:
            return json.load(response)

    def wait_finished(self, job: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(j["id"] == job for j in self.jobs()["finished"]):
                return
            time.sleep(0.3)
        raise TimeoutError(f"job {job} did not finish: {self.jobs()}")

    def log(self, job: str) -> str:
        return (self.home / "logs" / "newscrawl" / "feeds" / f"{job}.log").read_text()


@pytest.fixture
def scrapyd(tmp_path: Path, site, store_env: dict[str, str]) -> Iterator[Scrapyd]:
    """A scrapyd on a free loopback port, its eggs/logs/dbs in tmp, configured through the
    environment of the scrapyd process as on a crawl server."""
    home, port = tmp_path / "scrapyd", free_port()
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home}/eggs\nlogs_dir = {home}/logs\n"
        f"dbs_dir = {home}/dbs\npoll_interval = 0.2\n"
    )
    env = {
        **os.environ,
        **store_env,
        "NEWSCRAWL_SOURCES": str(write_sources(tmp_path / "sources.toml", site, ["/feed.xml"])),
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
    }
    with open(home / "scrapyd.out", "wb") as out:
        process = subprocess.Popen(
            [shutil.which("scrapyd") or "scrapyd"], cwd=home, env=env, stdout=out, stderr=out
        )
    try:
        wait_for_port(port, process)
        server = Scrapyd(f"http://127.0.0.1:{port}", home)
        yield server
        for job in server.jobs()["running"]:  # a failed test may leave a crawl behind
            server.wait_finished(job["id"])
    finally:
        process.terminate()
        process.wait(timeout=30)


def deploy(scrapyd: Scrapyd, tmp_path: Path, env: dict[str, str] | None = None) -> Path:
    """``scrapyd-deploy local`` from a copy of the project whose scrapy.cfg has a
    ``[deploy:local]`` target (README), with a stray embedded store in it; the deployed egg."""
    project = tmp_path / "project"
    shutil.copytree(
        REPO,
        project,
        ignore=shutil.ignore_patterns(
            ".git",
            ".newscrawl",
            "build",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
        ),
    )
    (project / ".newscrawl").mkdir()
    (project / ".newscrawl" / "local.db").write_text("embedded store data")
    with open(project / "scrapy.cfg", "a") as cfg:
        cfg.write(f"\n[deploy:local]\nurl = {scrapyd.url}/\n")
    result = subprocess.run(
        ["scrapyd-deploy", "local"],
        cwd=project,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert json.loads(result.stdout)["status"] == "ok"
    (egg,) = (scrapyd.home / "eggs" / "newscrawl").glob("*.egg")
    return egg


def schedule(scrapyd: Scrapyd, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "newscrawl.enqueue",
        "--scrapyd",
        scrapyd.url,
        "--project",
        "newscrawl",
        "--spider",
        "feeds",
        *args,
    ]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_deployed_egg_holds_the_package_and_no_secrets_or_data(scrapyd, tmp_path):
    uri = f"mongodb://newscrawl:{SECRET}@db.example:27017/"
    egg = deploy(scrapyd, tmp_path, env={"MONGO_URI": uri})
    with zipfile.ZipFile(egg) as archive:
        names = archive.namelist()
        contents = b"".join(archive.read(name) for name in names)
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert "newscrawl/sources.toml" in names and "newscrawl/settings.py" in names
    assert "[scrapy]\nsettings = newscrawl.settings" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "bench/", ".newscrawl"))]
    assert SECRET.encode() not in contents and b"embedded store data" not in contents


def test_scheduled_crawl_runs_on_scrapyd_and_overlapping_schedules_are_refused(
    scrapyd, site, tmp_path, open_store
):
    deploy(scrapyd, tmp_path)
    for i, page in enumerate(PAGES):
        site.put(f"/news/{i}.html", page.html, delay=3 if i == 0 else 0)  # a slow first run
    urls = [site.url(f"/news/{i}.html") for i in range(len(PAGES))]
    site.put("/feed.xml", rss("Local", urls))

    first = schedule(scrapyd, "-a", "recheck=due", *FAST)
    assert first.returncode == 0, first.stderr
    job = first.stdout.split()[-1]
    overlap = schedule(scrapyd, "-a", "recheck=due", *FAST)
    assert overlap.returncode == enqueue.SKIPPED
    assert f"feeds still running or pending (job {job}), not scheduled" in overlap.stdout

    scrapyd.wait_finished(job)
    assert "Traceback" not in scrapyd.log(job)
    store = open_store()
    for url in urls:
        assert [v["version"] for v in store.history(url)] == [1]
    (run,) = store.db["runs"].find()
    assert (run["job"], run["finish_reason"], run["new_articles"]) == (job, "finished", 2)

    after = schedule(scrapyd, *FAST)  # nothing running any more: scheduled again
    assert after.returncode == 0, after.stderr
    scrapyd.wait_finished(after.stdout.split()[-1])
    assert store.db["runs"].count_documents({"finish_reason": "finished"}) == 2


def test_schedule_reports_an_unreachable_scrapyd(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert enqueue.main(["--scrapyd", url]) == 1
    assert f"error: scrapyd at {url}" in capsys.readouterr().err


def test_schedule_rejects_spider_arguments_named_like_scrapyd_parameters():
    with pytest.raises(SystemExit) as exit_info:
        enqueue.main(["-a", "project=other"])
    assert exit_info.value.code == 2


def test_crawl_log_shows_the_mongodb_uri_without_its_password(tmp_path, store_env):
    """Against a wire-protocol server (nx-27017) that rejects the login: the crawl stops, and
    neither the log line naming the store nor the error shows the password."""
    port = free_port()
    server = subprocess.Popen(
        [
            "nx-27017",
            "--db",
            "memory",
            "--port",
            str(port),
            "--log-file",
            str(tmp_path / "nx.log"),
            "--pid-file",
            str(tmp_path / "nx.pid"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server)
        env = {
            **os.environ,
            **store_env,
            "MONGO_URI": f"mongodb://newscrawl:{SECRET}@127.0.0.1:{port}/",
        }
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "feeds"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert f"Store: MongoDB at mongodb://newscrawl:***@127.0.0.1:{port}/" in result.stderr
    assert SECRET not in result.stderr + result.stdout
