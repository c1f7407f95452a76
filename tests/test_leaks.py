"""Secrets stay secret (issue #6, part 5): ``MONGO_URI`` credentials never appear in the
output of ``scrapy crawl`` or ``scrapy export``, including when the store is unreachable.

The viewer's side (publisher markup escaped with XSS payloads, no route writes, error pages
without credentials) is tested in ``tests/test_web.py``:
``test_payloads_in_titles_and_paragraphs_come_out_escaped``,
``test_pages_forbid_scripts_and_only_link_web_addresses``,
``test_no_route_accepts_writes_and_reading_changes_nothing``,
``test_a_store_failure_shows_an_error_without_credentials``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawl.store import redact_uri
from tests.support.crawling import REPO, write_sources
from tests.support.mockserver import Site, free_port, rss

PASSWORD = "s3cret-Pa55"


def test_credentials_never_appear_in_crawl_or_export_output(site: Site, tmp_path: Path) -> None:
    site.put("/feed.xml", rss("x", [site.url("/a.html")]))
    # a closed port: every command fails to reach the store and says so (fast: 1.5 s timeout)
    uri = (
        f"mongodb://newscrawl:{PASSWORD}@127.0.0.1:{free_port()}/"
        "?authSource=admin&serverSelectionTimeoutMS=1500"
    )
    sources = write_sources(tmp_path / "s.toml", site, ["/feed.xml"])
    env = {**os.environ, "MONGO_URI": uri, "MONGO_DATABASE": "leaktest",
           "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True", "NEWSCRAWL_SOURCES": str(sources)}  # fmt: skip
    commands = {
        "crawl": ["crawl", "feeds", "-s", "LOG_LEVEL=DEBUG", "-s", "NEWSCRAWL_STORE_RETRIES=0"],
        "export": ["export", "-o", str(tmp_path / "out.jsonl"), "-s", "LOG_LEVEL=DEBUG"],
    }
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "scrapy", *args],
            cwd=REPO,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for name, args in commands.items()
    }
    for name, process in runs.items():
        stdout, stderr = process.communicate(timeout=120)
        output = stdout + stderr
        assert output.strip(), f"{name} said nothing (the test would prove nothing)"
        assert PASSWORD not in output, f"{name} leaked the password:\n{output[-3000:]}"
    export = tmp_path / "out.jsonl"
    assert not export.exists() or PASSWORD not in export.read_text()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mongodb://user:pw@db1:27017/", "mongodb://user:***@db1:27017/"),
        ("mongodb://user:p%40ss@db1,db2,db3/?replicaSet=rs0",
         "mongodb://user:***@db1,db2,db3/?replicaSet=rs0"),
        ("mongodb+srv://user:pw@cluster.example.net/db",
         "mongodb+srv://user:***@cluster.example.net/db"),
        ("mongodb://user:p@ss:w@rd@db1/", "mongodb://user:***@db1/"),
        ("mongodb://db1:27017/", "mongodb://db1:27017/"),
        ("", ""),
    ],
)  # fmt: skip
def test_redact_uri_hides_the_password(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


def test_redact_uri_hides_passwords_in_uri_options() -> None:
    uri = "mongodb://u@db1/?tls=true&tlsCertificateKeyFilePassword=" + PASSWORD
    assert PASSWORD not in redact_uri(uri)
